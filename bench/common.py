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

def build_database(path: Path) -> None:
    """Migrate a fresh SQLite file and seed the demo world (as tests/conftest.py's build_database)."""
    from flask_migrate import upgrade

    from drafting import create_app
    from drafting.config import TestConfig
    from drafting.demo.seed import seed_demo
    from drafting.extensions import db

    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", WTF_CSRF_ENABLED=False)
    with app.app_context():
        upgrade()
        seed_demo()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def app_for(path: Path):
    """Return an app bound to an existing SQLite file, for looking things up and issuing tokens."""
    from drafting import create_app
    from drafting.config import TestConfig

    return create_app(TestConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", WTF_CSRF_ENABLED=False)


def copy_database(template: Path, target: Path) -> Path:
    """Copy a SQLite database consistently (its WAL included) with SQLite's backup API."""
    source, destination = sqlite3.connect(template), sqlite3.connect(target)
    try:
        source.backup(destination)
    finally:
        destination.close()
        source.close()
    return target


# --- servers ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """One gunicorn gthread worker serving a WSGI target on a free loopback port."""

    def __init__(self, target: str, threads: int, env: dict[str, str] | None = None,
                 log: Path | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.threads = threads
        self.command = [str(BIN / "gunicorn"), "-w", "1", "--threads", str(threads), "--no-control-socket",
                        "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                        "--graceful-timeout", "3", target]
        self.log = log
        self._log = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(self.command, cwd=ROOT, env={**os.environ, **(env or {})},
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
