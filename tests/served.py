"""Serve the app for real (gunicorn, threads) on a free port, for browser and client tests."""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The servers are forked by the nursery (tests/zygote.py), which has their libraries imported;
# DRAFTING_TEST_NURSERY=0 starts each as a new interpreter instead.
NURSERY = os.environ.get("DRAFTING_TEST_NURSERY", "1") != "0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Nursery:
    """The pytest side of tests/zygote.py: one nursery per test run, started on first use."""

    _starting = threading.Lock()
    _started: _Nursery | None = None

    def __init__(self):
        self._lock = threading.Lock()
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen([sys.executable, "-m", "tests.zygote", str(theirs.fileno())], cwd=ROOT,
                                        pass_fds=[theirs.fileno()])
        theirs.close()
        atexit.register(self.close)

    @classmethod
    def get(cls) -> _Nursery:
        with cls._starting:
            if cls._started is None or cls._started.process.poll() is not None:
                cls._started = cls()
            return cls._started

    def _ask(self, request: dict, fds: list[int] = ()) -> dict:
        with self._lock:
            socket.send_fds(self.control, [json.dumps(request).encode()], list(fds))
            answer = self.control.recv(4096)
        if not answer:
            raise RuntimeError(f"the test server nursery ended: {self.process.wait()}")
        return json.loads(answer)

    def start(self, kind: str, argv: list[str], env: dict) -> Forked:
        read, write = os.pipe()
        try:
            pid = self._ask({"start": kind, "argv": argv, "env": env}, [write])["pid"]
        finally:
            os.close(write)
        return Forked(self, pid, os.fdopen(read, "rb"))

    def reap(self, pid: int) -> int | None:
        return self._ask({"reap": pid})["status"]

    def close(self) -> None:
        self.control.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Forked:
    """A server the nursery forked, with the part of subprocess.Popen's interface the tests use.

    It is the nursery's child, so it is watched through a pidfd and reaped by the nursery; until
    then its pid cannot be reused."""

    def __init__(self, nursery: _Nursery, pid: int, stdout):
        self.nursery, self.pid, self.stdout = nursery, pid, stdout
        self.pidfd = os.pidfd_open(pid)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self.pidfd], [], [], 0)[0]:
            self.returncode = self.nursery.reap(self.pid)
            if self.returncode is not None:
                os.close(self.pidfd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and not select.select([self.pidfd], [], [], timeout)[0]:
            raise subprocess.TimeoutExpired(f"server {self.pid}", timeout)
        while self.poll() is None:  # exited: reaped at once
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _nursery_request(command: list[str]) -> tuple[str, list[str]]:
    """What the nursery runs for a command: gunicorn with its argv, or `python -m module args`
    as the module's argv."""
    if Path(command[0]).name == "gunicorn":
        return "gunicorn", command
    if command[:2] == [sys.executable, "-m"]:
        return "module", command[2:]
    raise ValueError(f"the nursery serves gunicorn or `python -m module`, not {command[:2]}")


class _Served:
    """A server process on a free port: started, waited for until it answers, stopped."""

    def _start(self, command: list[str], database: Path | str, env: dict | None, probe: bytes, ready) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        url = database if isinstance(database, str) else f"sqlite:///{database}"
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "browser-tests", "DRAFTING_ENV": "testing", **(env or {})}
        command = [part.replace("{port}", str(self.port)) for part in command]
        if NURSERY:
            self.process = _Nursery.get().start(*_nursery_request(command), env)
        else:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT)
        # A server listens before it has imported the app (seconds on a loaded machine): wait
        # until the app itself answers, so a test's first request does not time out.
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stdout.read().decode())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=30) as connection:
                    connection.settimeout(30)
                    connection.sendall(probe)
                    if ready(connection.recv(12)):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{type(self).__name__} did not start")

    def url(self, path: str = "/") -> str:
        return self.base + path

    _output = ""

    def output(self) -> str:
        """What the server wrote (after stop)."""
        return self._output

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
            ended = True
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            ended = False  # a gunicorn worker may outlive its killed master and hold the pipe open
        if not self.process.stdout.closed:  # (a test that killed the server closed it already)
            if ended:
                self._output = self.process.stdout.read().decode(errors="replace")
            self.process.stdout.close()


class LiveServer(_Served):
    """A served copy of the seeded database (gunicorn, threads); `url(path)` builds addresses."""

    def __init__(self, database: Path | str, threads: int = 50, env: dict | None = None):
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self._start([gunicorn, "-w", "1", "--threads", str(threads), "--no-control-socket", "-b", "127.0.0.1:{port}",
                     "--log-level", "warning", "wsgi:app"], database, env,
                    b"GET /login HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", lambda head: head.startswith(b"HTTP/1."))


class AsyncLiveServer(_Served):
    """The asyncio Socket.IO server (drafting/live_server.py) on a free port, fed by the app's Redis queue."""

    def __init__(self, database: Path | str, env: dict):
        self._start([sys.executable, "-m", "drafting.live_server", "--port", "{port}"], database, env,
                    b"GET /live/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", lambda head: head.endswith(b" 200"))


class SplitServer:
    """The app answering HTTP and the asyncio live server holding the sockets, as one server to a
    test: `base` is where Socket.IO clients connect, `url()` where HTTP requests go, `process` the
    live server's (whose output a test reads)."""

    def __init__(self, database: Path | str, env: dict, threads: int = 20):
        self.app = LiveServer(database, threads=threads, env=env)
        try:
            self.live = AsyncLiveServer(database, env=env)
        except BaseException:
            self.app.stop()
            raise
        self.base, self.process = self.live.base, self.live.process

    def url(self, path: str = "/") -> str:
        return self.app.url(path)

    def stop(self) -> None:
        self.live.stop()
        self.app.stop()
