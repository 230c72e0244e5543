"""Shared helpers: seeded databases, gunicorn servers, machine facts, percentiles, the docs file."""

from __future__ import annotations

import os
import platform
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
BIN = Path(sys.executable).parent
PACKAGES = ("flask", "flask-socketio", "python-socketio", "python-engineio", "simple-websocket",
            "gunicorn", "sqlalchemy", "aiohttp")

DOCS_HEADER = """# Benchmarks

Measured by `make bench` (all benchmarks) or `.venv/bin/python -m bench NAME` (one of them).
Each benchmark owns one `## ` section below; a run replaces only the sections it measured.
The code is in `bench/`.
"""


# --- data ---------------------------------------------------------------------------------

def database_url(database: Path | str) -> str:
    """A SQLAlchemy URL: a SQLite file path, or a URL already (as tests/conftest.py's database_url)."""
    return database if isinstance(database, str) else f"sqlite:///{database}"


def build_database(database: Path | str) -> None:
    """Migrate a fresh database (a SQLite path or a URL) and seed the demo world (as tests/conftest.py)."""
    from flask_migrate import upgrade

    from drafting.demo.seed import seed_demo
    from drafting.extensions import db

    app = app_for(database)
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def app_for(database: Path | str):
    """Return an app bound to an existing database (SQLite path or URL), for lookups and tokens."""
    from drafting.app import create_app
    from drafting.config import TestConfig

    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url(database), WTF_CSRF_ENABLED=False)


def copy_database(template: Path, target: Path) -> Path:
    """Copy a SQLite database consistently (its WAL included) with SQLite's backup API."""
    source, destination = sqlite3.connect(template), sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    return target


POSTGRES = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


class Postgres:
    """Create and drop databases on the PostgreSQL server (as tests/conftest.py's Postgres)."""

    def __init__(self, url: str = POSTGRES):
        from sqlalchemy import create_engine

        self.url = url
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")

    def url_for(self, name: str) -> str:
        return self.url.rsplit("/", 1)[0] + "/" + name

    def create(self, name: str, template: str | None = None) -> str:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        return self.url_for(name)

    def drop(self, name: str) -> None:
        from sqlalchemy import text

        with self.engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self.engine.dispose()


def services_problem(redis_url: str | None = REDIS) -> str | None:
    """None when PostgreSQL (and Redis, unless None) answer; otherwise what is unreachable."""
    problems = []
    try:
        server = Postgres()
        try:
            from sqlalchemy import text

            with server.engine.connect() as connection:
                connection.execute(text("select 1"))
        finally:
            server.close()
    except Exception as error:  # noqa: BLE001 - any failure means unreachable
        problems.append(f"PostgreSQL at {POSTGRES}: {error.__class__.__name__}: {error}")
    if redis_url:
        try:
            import redis

            redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
        except Exception as error:  # noqa: BLE001
            problems.append(f"Redis at {redis_url}: {error.__class__.__name__}: {error}")
    return "; ".join(problems) or None


def forget_redis_keys(prefix: str, redis_url: str = REDIS) -> int:
    """Delete the presence keys a run left under its channel prefix; return how many."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start:start + 500])
    client.close()
    return len(keys)


# --- servers ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """One gunicorn gthread worker serving a WSGI target on a free loopback port.

    `prefix` goes in front of the command, e.g. ["taskset", "-c", "0"] to pin the server (master
    and worker) to a core; it must exec gunicorn, so that `process` stays gunicorn's master.
    """

    def __init__(self, target: str, threads: int, env: dict[str, str] | None = None,
                 log: Path | None = None, prefix: list[str] | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.threads = threads
        self.command = [*(prefix or []), str(BIN / "gunicorn"), "-w", "1", "--threads", str(threads), "--no-control-socket",
                        "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                        "--graceful-timeout", "3", target]
        self.log = log
        self._log = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
        # No mail worker thread in a measured server (DRAFTING_ENV=testing does not set app.testing).
        self.process = subprocess.Popen(self.command, cwd=ROOT,
                                        env={**os.environ, "NOTIFICATIONS_WORKER": "0", **(env or {})},
                                        stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.process.poll() is not None:
                    detail = log.read_text() if log else ""
                    raise RuntimeError(f"gunicorn exited: {detail}") from None
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not start: {' '.join(self.command)}")

    def log_text(self, limit: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-limit:] if self.log and self.log.exists() else ""

    @property
    def pid(self) -> int:
        """The worker's pid (the one process that serves; gunicorn's master only supervises it)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return int(children[0]) if children else self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if hasattr(self._log, "close"):
            self._log.close()


# --- statistics ---------------------------------------------------------------------------

def percentile(values: list[float], p: float) -> float:
    """Linear-interpolated percentile (as numpy's default) of a non-empty list."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- load of the machine, CPU of processes ---------------------------------------------------

QUIET_CORES = 0.3  # wait (a while) for other processes to use less than this before measuring
QUIET_WAIT = 30.0


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def system_seconds(pid: int) -> float:
    """stime of a process (all threads): its time in the kernel (I/O, fsync, sockets), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[12]) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> float:
    """CPU seconds all processes have used since boot (from /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(label: str = "bench", cores: float = QUIET_CORES, wait: float = QUIET_WAIT) -> float:
    """Wait up to `wait` s for other processes to use under `cores`; return the cores they used last."""
    deadline = time.monotonic() + wait
    while True:
        busy, own, began = machine_busy(), time.process_time(), time.monotonic()
        time.sleep(1.0)
        used = ((machine_busy() - busy) - (time.process_time() - own)) / (time.monotonic() - began)
        if used < cores or time.monotonic() > deadline:
            return used
        print(f"[{label}] other processes use {used:.2f} cores; waiting for a quieter machine", flush=True)
        time.sleep(4.0)


def service_pids(databases: tuple[str, ...] = (), redis: bool = False) -> list[int]:
    """Pids of the PostgreSQL backends serving these databases (their process titles name the
    database) and, with redis, of redis-server: work done for the benchmark outside its servers."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if databases and title.startswith("postgres: ") and any(f" {name} " in title for name in databases):
            pids.append(int(entry.name))
        elif redis and title.startswith("redis-server"):
            pids.append(int(entry.name))
    return pids


class LoadMeter:
    """CPU used over a stretch of time by the given server pids, by this process, by the services
    working for them (PostgreSQL backends of `databases`, redis-server with `redis`), and by every
    other process (in cores)."""

    def __init__(self, pids: list[int], databases: tuple[str, ...] = (), redis: bool = False):
        self.pids, self.databases, self.redis = pids, databases, redis
        self.cpu = {pid: cpu_seconds(pid) for pid in pids}
        self.sys = {pid: system_seconds(pid) for pid in pids}
        self.services = self._services()
        self.busy, self.own, self.wall = machine_busy(), time.process_time(), time.perf_counter()

    def _services(self) -> dict[int, float]:
        found = {}
        if self.databases or self.redis:
            for pid in service_pids(self.databases, self.redis):
                try:
                    found[pid] = cpu_seconds(pid)
                except OSError:
                    pass
        return found

    def stop(self) -> dict[str, float]:
        """Return wall seconds and CPU seconds: own, servers, services; others in cores."""
        wall = time.perf_counter() - self.wall
        own = time.process_time() - self.own
        servers = sum(cpu_seconds(pid) - before for pid, before in self.cpu.items())
        kernel = sum(system_seconds(pid) - before for pid, before in self.sys.items())
        services = sum(now - self.services.get(pid, 0.0) for pid, now in self._services().items())
        others = max(0.0, (machine_busy() - self.busy) - own - servers - services) / wall
        return {"wall": wall, "own": own, "servers": servers, "servers_system": kernel, "services": services,
                "others": others}


# --- py-spy (optional profiles of a server) ------------------------------------------------

def start_py_spy(pid: int, stem: Path, idle: bool = False):
    """Record a process with py-spy (raw collapsed stacks into stem.txt) until stop_py_spy."""
    import shutil

    exe = shutil.which("py-spy") or str(BIN / "py-spy")
    if not Path(exe).exists():
        raise RuntimeError("profiling needs py-spy: .venv/bin/pip install py-spy")
    out = stem.with_suffix(".txt")
    process = subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", "1000", "--format", "raw",
                                "--output", str(out), "--nonblocking", *(["--idle"] if idle else [])],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return process, out


def stop_py_spy(spy) -> str:
    process, out = spy
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return str(out)


# --- Socket.IO viewers ----------------------------------------------------------------------

CONNECT_BATCH = 10  # 25 concurrent connect+join could deadlock the app for 30 s (see broadcast's findings)


class Pending:
    """The arrivals of one `clause.updated` (by version) at the clients, index -> perf_counter."""

    def __init__(self, expected: int):
        import asyncio

        self.expected = expected
        self.times: dict[int, float] = {}
        self.done = asyncio.Event()


class Clients:
    """N python-socketio AsyncClients on one loop, joined to one room, recording `clause.updated` arrivals.

    `connect` may be called several times with different servers (the N clients split across
    processes); `server_of[index]` says which base URL client `index` is connected to.
    """

    client_class = None  # python-socketio's AsyncClient unless a subclass says otherwise

    def __init__(self, n: int):
        self.n = n
        self.clients = []
        self.server_of: list[str] = []
        self.pending: dict[int, Pending] = {}
        self.last_presence = time.perf_counter()
        self.presence_events = 0

    def _handlers(self, index: int):
        async def on_updated(data):
            now = time.perf_counter()
            record = self.pending.get(data.get("version")) if isinstance(data, dict) else None
            if record is not None and index not in record.times:
                record.times[index] = now
                if len(record.times) == record.expected:
                    record.done.set()

        async def on_presence(_data):
            self.presence_events += 1
            self.last_presence = time.perf_counter()

        return on_updated, on_presence

    async def connect(self, base: str, tokens: list[str], document_id: int, count: int | None = None) -> None:
        """Connect `count` more clients (all remaining ones by default) to `base`, CONNECT_BATCH at a time."""
        import asyncio

        import socketio

        async def one(index: int):
            client = (self.client_class or socketio.AsyncClient)(reconnection=False)
            on_updated, on_presence = self._handlers(index)
            client.on("clause.updated", on_updated)
            client.on("presence", on_presence)
            await client.connect(base, transports=["websocket"], auth={"token": tokens[index % len(tokens)]},
                                 wait_timeout=30)
            ack = await client.call("join", {"document_id": document_id}, timeout=60)
            if not (isinstance(ack, dict) and ack.get("ok")):
                raise RuntimeError(f"join refused: {ack!r}")
            return client

        first = len(self.clients)
        last = self.n if count is None else first + count
        for start in range(first, last, CONNECT_BATCH):
            batch = range(start, min(start + CONNECT_BATCH, last))
            self.clients += await asyncio.gather(*(one(i) for i in batch))
            self.server_of += [base] * len(batch)

    async def settle(self, quiet: float = 0.5, limit: float = 60.0) -> None:
        """Wait until no presence event has arrived for `quiet` seconds (the join storm is over)."""
        import asyncio

        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline and time.perf_counter() - self.last_presence < quiet:
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        import asyncio

        async def one(client):
            try:
                await asyncio.wait_for(client.disconnect(), timeout=10)
            except Exception:  # noqa: BLE001 - the server may be gone already
                pass

        await asyncio.gather(*(one(c) for c in self.clients))


# --- the machine --------------------------------------------------------------------------

def machine() -> dict[str, str]:
    """Facts about this machine and the package versions, for the docs."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        if match:
            ram = f"{int(match.group(1)) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    date = subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip()
    return {
        "date": date,
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "ram": ram,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "packages": ", ".join(versions),
    }


def machine_markdown(facts: dict[str, str]) -> str:
    return "\n".join([
        f"- Date: {facts['date']}",
        f"- Machine: {facts['cores']} cores (`nproc`), {facts['cpu']}, {facts['ram']} RAM, {facts['os']}",
        f"- Python: {facts['python']}",
        f"- Packages: {facts['packages']}",
    ])


# --- docs/benchmarks.md -------------------------------------------------------------------

def update_section(title: str, body: str, path: Path = DOCS) -> None:
    """Replace (or append) the `## title` section of the docs file, leaving the others alone."""
    text = path.read_text() if path.exists() else DOCS_HEADER
    lines = text.splitlines()
    heading = f"## {title}"
    section = [heading, "", *body.strip("\n").splitlines(), ""]
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += ["", *section]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines).rstrip("\n") + "\n")
