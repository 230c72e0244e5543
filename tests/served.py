"""Serve the app for real (gunicorn, threads) on a free port, for browser and client tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """A served copy of the seeded database; `url(path)` builds addresses."""

    def __init__(self, database: Path | str, threads: int = 50, env: dict | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        url = database if isinstance(database, str) else f"sqlite:///{database}"
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "browser-tests",
               "DRAFTING_ENV": "testing", **(env or {})}
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [gunicorn, "-w", "1", "--threads", str(threads), "--no-control-socket", "-b", f"127.0.0.1:{self.port}",
             "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        # gunicorn listens before its worker has imported the app (seconds on a loaded machine):
        # wait until the app itself answers, so a test's first request does not time out.
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stdout.read().decode())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=30) as probe:
                    probe.settimeout(30)
                    probe.sendall(b"GET /login HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                    if probe.recv(12).startswith(b"HTTP/1."):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the test server did not start")

    def url(self, path: str = "/") -> str:
        return self.base + path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()


class AsyncLiveServer:
    """The asyncio Socket.IO server (drafting/live_server.py) on a free port, fed by the app's Redis queue."""

    def __init__(self, database: Path | str, env: dict):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        url = database if isinstance(database, str) else f"sqlite:///{database}"
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "browser-tests", "DRAFTING_ENV": "testing", **env}
        self.process = subprocess.Popen([sys.executable, "-m", "drafting.live_server", "--port", str(self.port)],
                                        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.process.stdout.read().decode())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=30) as probe:
                    probe.settimeout(30)
                    probe.sendall(b"GET /live/health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                    if probe.recv(12).endswith(b" 200"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the live server did not start")

    def url(self, path: str = "/") -> str:
        return self.base + path

    def output(self) -> str:
        """What the server wrote (after stop)."""
        return self._output

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._output = self.process.stdout.read().decode(errors="replace")
        self.process.stdout.close()


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
