"""Authors editing at once (fan-out): N authors saving their own clause every T ms (issue 19, item 1).

    .venv/bin/python -m bench authors                                   # the run of record
    .venv/bin/python -m bench authors --no-docs --authors 10,50 --period-ms 200 --authors-duration 10

For each period T and each N, a fresh server pinned to SERVER_CORE (`serve`, one per `--transport`:
gthread, `gunicorn -w 1 --threads N+50` serving wsgi:app; asyncio, gunicorn for HTTP beside
`python -m drafting.live_server` holding the WebSockets, joined by Redis) gets a copy of a template database: the demo world plus a document in drafting with 300 authors,
each an editor of it with an API token and a clause of their own. This process is pinned to
DRIVER_CORE and runs ONE asyncio loop: N Socket.IO clients (bench/rawsocket.py, lean enough that
this core is not the limit; `--driver socketio` for python-socketio's AsyncClient; author i uses
token i) connect over WebSocket and `join` the document, 10 at a time; the presence storm is drained. Then
every author saves its own clause every T ms (its first tick at i*T/N, so the authors are spread
evenly over the period; the next at tick + T): `PATCH /api/v1/clauses/{id}` with {text,
base_version} and its bearer token, over one aiohttp session. At most one save of an author is in
flight: when a save outlasts the period the next goes as soon as it returns and the ticks missed
meanwhile are dropped. Before sending, the author records issued[(clause, version + 1)] =
perf_counter(); each client's `clause.updated` handler looks up (clause_id, version) and records
its arrival time, except at the saver itself. A sample is (arrival at another author) - (issued),
for the saves issued inside the timed window (after a warm-up); lost = acknowledged saves x (N-1)
- arrivals, counted GRACE seconds after the last save was answered.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .common import (
    REDIS,
    ROOT,
    Clients,
    Gunicorn,
    LoadMeter,
    Postgres,
    app_for,
    build_database,
    copy_database,
    database_url,
    forget_redis_keys,
    free_port,
    machine,
    machine_markdown,
    percentile,
    wait_for_quiet,
)
from .rawsocket import RawClient

NAME = "authors"
TITLE = "Authors editing at once (fan-out)"
AUTHORS = (10, 25, 50, 100, 150, 200, 250, 300)
PERIODS_MS = (200, 5000)
HEADROOM = 50  # gunicorn threads beyond one per WebSocket, for the HTTP requests
GRACE = 5.0  # seconds to wait for late arrivals after the last save was answered
LATE_WAIT = 15.0  # when arrivals are missing after GRACE: how much longer to watch for them (not counted)
POINT_QUIET_WAIT = 45.0  # before each point: wait up to this long for other processes to calm down
REQUEST_TIMEOUT = 30.0  # one PATCH (or re-read)
SETUP_LIMIT = 180.0  # seconds for starting the server, connecting and joining N clients, settling
KNEE_MS = 2000.0  # the knee: the smallest N whose p95 exceeds this
STOP_MS = 5000.0  # past the knee: larger N are not run for this period
DRIVER_SATURATED = 0.9  # cores of this process during the window above which the driver is the limit
SERVER_SATURATED = 0.9
BUSY_OTHERS = 0.3  # cores used by other processes above which the run says the machine was busy
TRANSPORTS = {
    "gthread": "gunicorn -w 1 --threads N+50 --no-control-socket (gthread worker) serving wsgi:app",
    "asyncio": ("gunicorn -w 1 --threads 50 --no-control-socket serving wsgi:app for HTTP and "
                "python -m drafting.live_server (asyncio, aiohttp) holding the WebSockets, both on the server "
                "core, joined by the Redis message queue"),
}
DRIVERS = {
    "raw": "bench/rawsocket.py, Engine.IO v4 on one aiohttp WebSocket per author, handlers inline",
    "socketio": "python-socketio's AsyncClient with its message handlers run inline",
}
ASYNC_HTTP_THREADS = 50  # HTTP only: the WebSockets are the live server's
# Targets of issue 19 (item 2)
TARGET_P95_MS = 100.0
TARGET_FAST_PERIOD, TARGET_FAST_UP_TO, TARGET_KNEE_BEYOND = 200, 100, 250
TARGET_SLOW_PERIOD, TARGET_SLOW_AT = 5000, 300

SENTENCES = (
    "The participating organisations shall cooperate to strengthen the resilience of regional supply chains",
    "they shall exchange information on emerging risks in a timely and transparent manner",
    "Each party designates a contact point responsible for the coordination of joint activities",
    "the secretariat shall report annually on the progress made towards the objectives of this declaration",
    "Measures taken under this article respect the competences of national and regional authorities",
    "the parties encourage the participation of civil society and of small and medium-sized enterprises",
    "Funding for joint actions shall be sought from existing programmes before new instruments are proposed",
    "the review of this clause takes place no later than three years after its adoption",
)


def default_duration(period_ms: int) -> float:
    """Seconds of the timed window: enough saves per author at either period."""
    return 20.0 if period_ms < 1000 else 40.0


def warmup(period_ms: int) -> float:
    """Seconds of saves before the window opens (not counted): at least one save of every author."""
    return max(3.0, period_ms / 1000)


def clause_text(author: int, revision: int) -> str:
    """About 450-550 characters of prose for the author's clause; each revision differs."""
    picked = [SENTENCES[(author + k) % len(SENTENCES)] for k in range(4)]
    body = ". ".join(s[0].upper() + s[1:] for s in picked)
    return f"{body}. This paragraph is drafted by author {author + 1} (revision {revision})."


# --- the fixture: one document, N editors with a token and a clause each ----------------------

@dataclass
class Fixture:
    template: Path | str  # a SQLite file, or a PostgreSQL URL
    document_id: int
    tokens: list[str]  # author i's API token
    clause_ids: list[int]  # author i's clause
    versions: list[int]  # their versions in the template


def prepare(template: Path | str, authors: int) -> Fixture:
    """Migrate and seed the template, then add a document in drafting with `authors` editors, each
    with a clause of their own and an API token."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from drafting.clauses.operations import create_clause
    from drafting.documents.operations import add_member, create_document
    from drafting.extensions import db
    from drafting.models import ApiToken, Organisation, User

    build_database(template)
    app = app_for(template)
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.is_admin).order_by(User.id))
        organisation = db.session.scalar(select(Organisation).order_by(Organisation.id))
        document = create_document(admin, f"Benchmark: {authors} authors editing at once", "declaration")
        password_hash = generate_password_hash(uuid.uuid4().hex)  # one hash for all: nobody logs in
        users = [User(email=f"author{i + 1}@bench.invalid", name=f"Author {i + 1}", organisation=organisation,
                      password_hash=password_hash) for i in range(authors)]
        db.session.add_all(users)
        db.session.flush()
        for user in users:
            add_member(admin, document, user.email, "editor")
        clauses = [create_clause(document, user, clause_text(i, 0), f"Part of author {i + 1}")
                   for i, user in enumerate(users)]
        tokens = [ApiToken.issue(user, name="bench authors")[1] for user in users]
        db.session.commit()
        fixture = Fixture(template, document.id, tokens, [c.id for c in clauses], [c.version for c in clauses])
        db.session.remove()
        db.engine.dispose()
    return fixture


# --- the server -----------------------------------------------------------------------------

class LiveProcess:
    """`python -m drafting.live_server` on a free port (the asyncio Socket.IO server)."""

    def __init__(self, env: dict[str, str], log: Path, prefix: list[str]):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen([*prefix, str(ROOT / ".venv" / "bin" / "python"), "-m", "drafting.live_server",
                                         "--port", str(self.port)],
                                        cwd=ROOT, env={**os.environ, **env}, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the live server exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the live server did not start")

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self, limit: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-limit:] if self.log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=8)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class Split:
    """The app answering HTTP (gunicorn) and the live server holding the WebSockets."""

    def __init__(self, http: Gunicorn, live: LiveProcess):
        self.http, self.live = http, live
        self.base, self.socket_base = http.base, live.base

    @property
    def pids(self) -> list[int]:
        return [self.http.pid, self.live.pid]

    def log_text(self, limit: int = 4000) -> str:
        return f"{self.http.log_text(limit)}\n--- live server ---\n{self.live.log_text(limit)}"

    def stop(self) -> None:
        self.live.stop()
        self.http.stop()


def serve(transport: str, n: int, env: dict[str, str], log: Path, core: int | None):
    """Start the server for N authors, pinned to `core`: the one place that says how the app is
    served (returns an object with .base for HTTP, .socket_base for Socket.IO when it differs,
    .pids, .stop() and .log_text())."""
    prefix = ["taskset", "-c", str(core)] if core is not None else []
    if transport == "gthread":
        return Gunicorn("wsgi:app", threads=n + HEADROOM, env=env, log=log, prefix=prefix)
    if transport == "asyncio":
        if not env.get("SOCKETIO_MESSAGE_QUEUE"):
            raise ValueError("--transport asyncio needs the Redis message queue (--redis URL)")
        http = Gunicorn("wsgi:app", threads=ASYNC_HTTP_THREADS, env=env, log=log, prefix=prefix)
        try:
            return Split(http, LiveProcess(env, log.with_suffix(".live.log"), prefix))
        except BaseException:
            http.stop()
            raise
    raise ValueError(f"unknown transport {transport!r}; known: {', '.join(TRANSPORTS)}")


def pids_of(server) -> list[int]:
    return getattr(server, "pids", None) or [server.pid]


def context_switches(pid: int) -> tuple[int, int]:
    """(voluntary + involuntary context switches summed over the process's live threads, threads)."""
    total = threads = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        threads += 1
        for line in status.splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total, threads


# --- measurement ------------------------------------------------------------------------------

@dataclass
class Save:
    author: int
    issued: float  # perf_counter just before the request was sent
    counted: bool  # issued inside the timed window
    acked: bool = False
    arrivals: dict[int, float] = field(default_factory=dict)  # client (author) index -> perf_counter


@dataclass
class Point:
    """What one (T, N) measured, or why it was not."""

    period_ms: int
    n: int
    status: str = "ok"  # ok | failed: ... | not run (past the knee)
    window: float = 0.0
    warmup: float = 0.0
    samples: list[float] = field(default_factory=list)  # seconds, issued -> arrival at another author
    answers: list[float] = field(default_factory=list)  # seconds, issued -> HTTP answer (acked, counted)
    issued: int = 0  # counted saves sent
    acked: int = 0  # of them, answered 200
    expected: int = 0  # acked x (N - 1)
    arrived: int = 0
    arrived_later: int = 0  # of the lost ones, how many came within LATE_WAIT after the grace period
    late_arrivals: int = 0  # arrivals of saves that were not acknowledged (errors)
    stray: int = 0  # clause.updated events matching no save sent
    duplicates: int = 0
    disconnects: list[tuple[float, str]] = field(default_factory=list)  # (seconds into the window, reason)
    opens: float = 0.0  # perf_counter when the timed window opened (0: not yet)
    http_errors: dict[str, int] = field(default_factory=dict)  # status or exception -> count (all saves)
    conflicts: int = 0
    version_surprises: int = 0  # answers with another version than base + 1
    late_saves: int = 0  # saves that outlasted the period (the next went at once)
    skipped_ticks: int = 0
    server_cpu: float = 0.0
    driver_cpu: float = 0.0
    others: float = 0.0
    switches: int = 0
    threads: int = 0
    setup: float = 0.0
    error_samples: list[str] = field(default_factory=list)

    @property
    def ran(self) -> bool:
        return self.status == "ok"

    @property
    def lost(self) -> int:
        return self.expected - self.arrived

    @property
    def errors(self) -> int:
        return sum(self.http_errors.values())

    def p(self, q: float) -> float:
        return percentile(self.samples, q) * 1000 if self.samples else float("nan")

    def cores(self, cpu: float) -> float:
        return cpu / self.window if self.window else 0.0

    @property
    def driver_saturated(self) -> bool:
        return self.cores(self.driver_cpu) > DRIVER_SATURATED


def lean_client_class():
    """python-socketio's AsyncClient, handling each received message in its read loop.

    Engine.IO's client starts a task for every message it receives; with N authors each
    receiving every save, that task per message made the driver, not the server, the limit
    (one core saturated at about 16,000 events a second). The handlers here only note a time,
    so they run inline, as a browser runs its handlers."""
    import engineio
    import socketio

    class InlineEngineIO(engineio.AsyncClient):
        async def _trigger_event(self, event, *args, **kwargs):
            if event == "message":
                kwargs["run_async"] = False
            return await super()._trigger_event(event, *args, **kwargs)

    class LeanClient(socketio.AsyncClient):
        def _engineio_client_class(self):
            return InlineEngineIO

    return LeanClient


class Authors(Clients):
    """The N authors' Socket.IO clients: client i is author i; it records arrivals of the others' saves."""

    def __init__(self, n: int, clause_ids: list[int], saves: dict[tuple[int, int], Save], point: Point,
                 driver: str = "raw"):
        super().__init__(n)
        self.client_class = RawClient if driver == "raw" else lean_client_class()
        self.clause_ids, self.saves, self.point = clause_ids, saves, point
        self.strays: dict[tuple[int, int], dict[int, float]] = {}
        self.watching = True  # False once the driver closes the clients itself

    def _handlers(self, index: int):
        own, saves, strays, point = self.clause_ids[index], self.saves, self.strays, self.point

        def on_updated(data):
            now = time.perf_counter()
            try:
                key = (data["clause_id"], data["version"])
            except (TypeError, KeyError):
                return
            if key[0] == own:
                return
            save = saves.get(key)
            arrivals = save.arrivals if save is not None else strays.setdefault(key, {})
            if index in arrivals:
                point.duplicates += 1
            else:
                arrivals[index] = now

        return on_updated, super()._handlers(index)[1]

    async def connect(self, base: str, tokens: list[str], document_id: int, count: int | None = None) -> None:
        """Connect and join (Clients.connect); then record every disconnection the driver did not ask
        for (a client the server drops is not reconnected: its arrivals go missing)."""
        point = self.point

        def on_disconnect(reason=None):
            if self.watching:
                since = time.perf_counter() - point.opens if point.opens else -1.0
                point.disconnects.append((since, str(reason)))

        await super().connect(base, tokens, document_id, count)
        for client in self.clients:
            client.on("disconnect", on_disconnect)

    async def close(self) -> None:
        self.watching = False
        await super().close()


class Driver:
    """The authors' save loops for one point, on this process's one loop."""

    def __init__(self, point: Point, fixture: Fixture, base: str, clients: Authors):
        self.point, self.fixture, self.base, self.clients = point, fixture, base, clients
        self.saves = clients.saves
        self.versions = list(fixture.versions[:point.n])
        self.revisions = [0] * point.n
        self.answers: list[tuple[Save, float]] = []

    def _error(self, what: str, detail: str) -> None:
        self.point.http_errors[what] = self.point.http_errors.get(what, 0) + 1
        if len(self.point.error_samples) < 5:
            self.point.error_samples.append(f"{what}: {detail[:200]}")

    async def _reread(self, session, author: int) -> None:
        """Learn the clause's current version after an error or a conflict (GET of the document)."""
        import aiohttp

        headers = {"Authorization": f"Bearer {self.fixture.tokens[author]}"}
        try:
            async with session.get(f"{self.base}/api/v1/documents/{self.fixture.document_id}",
                                   headers=headers) as response:
                document = await response.json(content_type=None)
            clause_id = self.fixture.clause_ids[author]
            self.versions[author] = next(c["version"] for c in document["clauses"] if c["id"] == clause_id)
        except (aiohttp.ClientError, TimeoutError, KeyError, TypeError, StopIteration, ValueError) as exc:
            self._error("re-read failed", repr(exc))

    async def save(self, session, author: int, counted: bool) -> None:
        import aiohttp

        clause_id = self.fixture.clause_ids[author]
        version = self.versions[author] + 1
        self.revisions[author] += 1
        body = {"text": clause_text(author, self.revisions[author]), "base_version": self.versions[author]}
        headers = {"Authorization": f"Bearer {self.fixture.tokens[author]}"}
        key = (clause_id, version)
        save = self.saves[key] = Save(author, time.perf_counter(), counted)
        try:
            async with session.patch(f"{self.base}/api/v1/clauses/{clause_id}", json=body,
                                     headers=headers) as response:
                status = response.status
                answer = await response.json(content_type=None) if status in (200, 409) else await response.text()
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            self._error(exc.__class__.__name__, repr(exc))
            await self._reread(session, author)
            return
        answered = time.perf_counter()
        if status == 200:
            got = answer["clause"]["version"]
            if got != version:  # should not happen: nobody else edits this clause
                self.point.version_surprises += 1
                del self.saves[key]
                save.arrivals.update(self.clients.strays.pop((clause_id, got), {}))
                self.saves[(clause_id, got)] = save
            self.versions[author] = got
            save.acked = True
            self.answers.append((save, answered - save.issued))
        elif status == 409:  # should not happen either: one author per clause
            self.point.conflicts += 1
            await self._reread(session, author)
        else:
            self._error(f"HTTP {status}", str(answer))
            await self._reread(session, author)

    async def author(self, session, author: int, first: float, opens: float, closes: float, period: float):
        """Save every `period` s from `first` until `closes`; at most one save in flight."""
        tick = first
        while tick < closes:
            delay = tick - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            issued = time.perf_counter()
            await self.save(session, author, opens <= issued < closes)
            tick += period
            now = time.perf_counter()
            if tick < now:  # the save outlasted the period: the next goes at once, missed ticks dropped
                behind = int((now - tick) // period)
                self.point.skipped_ticks += behind
                self.point.late_saves += 1
                tick += behind * period


async def measure(point: Point, fixture: Fixture, url: str, transport: str, redis: str | None,
                  channel: str, server_core: int | None, duration: float, logs: Path, driver: str = "raw") -> None:
    """Serve the app, connect the N authors, run their saves and fill the point in."""
    import aiohttp

    n, period = point.n, point.period_ms / 1000
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench-authors", "DRAFTING_ENV": "testing",
           "SOCKETIO_MESSAGE_QUEUE": redis or "", "SOCKETIO_CHANNEL": channel}
    began = time.perf_counter()
    server = await asyncio.to_thread(serve, transport, n, env, logs / f"server-{point.period_ms}-{n}.log",
                                     server_core)
    saves: dict[tuple[int, int], Save] = {}
    clients = Authors(n, fixture.clause_ids, saves, point, driver)
    try:
        try:
            await clients.connect(getattr(server, "socket_base", server.base), fixture.tokens[:n],
                                  fixture.document_id)
        except Exception as exc:
            raise RuntimeError(f"{len(clients.clients)} of {n} clients had connected when one failed "
                               f"({exc!r}); server log:\n{server.log_text()}") from exc
        await clients.settle(quiet=1.0)
        point.setup = time.perf_counter() - began
        driver = Driver(point, fixture, server.base, clients)
        # Keep-alive shorter than gunicorn's 2 s: an idle connection is never reused as the server closes it.
        connector = aiohttp.TCPConnector(limit=n, keepalive_timeout=1.5)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            # The N clients stand for N separate browsers: keep this process's garbage collector from
            # pausing all of them at once (the server's is on, as served).
            gc.collect()
            gc.freeze()
            gc.disable()
            try:
                start = time.perf_counter() + 0.5
                point.warmup = warmup(point.period_ms)
                opens = start + point.warmup
                closes = opens + duration
                tasks = [asyncio.create_task(driver.author(session, i, start + period * i / n, opens, closes, period))
                         for i in range(n)]
                await asyncio.sleep(max(0.0, opens - time.perf_counter()))
                meter = LoadMeter(pids_of(server), redis=bool(redis))
                switches = sum(context_switches(pid)[0] for pid in pids_of(server))
                opened = point.opens = time.perf_counter()
                await asyncio.sleep(max(0.0, closes - time.perf_counter()))
                counted = [context_switches(pid) for pid in pids_of(server)]
                point.switches = sum(c[0] for c in counted) - switches
                point.threads = sum(c[1] for c in counted)
                load = meter.stop()
                point.window = time.perf_counter() - opened
                # Redis works for the server when there is a queue: its CPU counts as the server's.
                point.server_cpu = load["servers"] + load["services"]
                point.driver_cpu, point.others = load["own"], load["others"]
                await asyncio.gather(*tasks)
                await asyncio.sleep(GRACE)
                # Counted now: an arrival after the grace period is a lost one.
                for save in saves.values():
                    if not save.counted:
                        continue
                    point.issued += 1
                    if not save.acked:
                        point.late_arrivals += len(save.arrivals)
                        continue
                    point.acked += 1
                    point.expected += n - 1
                    point.arrived += len(save.arrivals)
                    point.samples += [t - save.issued for t in save.arrivals.values()]
                point.answers = [latency for save, latency in driver.answers if save.counted]
                point.stray = sum(len(a) for a in clients.strays.values())
                if point.lost:  # lost, or only late? watch a while longer (not counted as arrived)
                    counted = [s for s in saves.values() if s.counted and s.acked]
                    until = time.perf_counter() + LATE_WAIT
                    while time.perf_counter() < until:
                        point.arrived_later = sum(len(s.arrivals) for s in counted) - point.arrived
                        if point.arrived_later == point.lost:
                            break
                        await asyncio.sleep(0.5)
            finally:
                gc.enable()
                gc.unfreeze()
    finally:
        await clients.close()
        await asyncio.to_thread(server.stop)


def run_point(point: Point, fixture: Fixture, url: str, options, channel: str, duration: float,
              workdir: Path) -> None:
    limit = SETUP_LIMIT + warmup(point.period_ms) + duration + REQUEST_TIMEOUT + GRACE + 60
    logs = Path(options.authors_logs) if options.authors_logs else workdir
    logs.mkdir(parents=True, exist_ok=True)
    work = measure(point, fixture, url, options.transport, options.redis, channel, options.server_core,
                   duration, logs, options.driver)
    try:
        asyncio.run(asyncio.wait_for(work, timeout=limit))
    except TimeoutError:
        point.status = f"failed: no result within {limit:.0f} s"
    except Exception as exc:  # noqa: BLE001 - a failed point is reported, the others still run
        point.status = f"failed: {exc.__class__.__name__}: {str(exc)[:1500]}"
    gc.collect()


# --- report -------------------------------------------------------------------------------

def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def notes(point: Point) -> str:
    parts = []
    if point.driver_saturated:
        parts.append("driver saturated")
    if point.cores(point.server_cpu) > SERVER_SATURATED:
        parts.append("server core saturated")
    if point.lost:
        parts.append(f"{point.arrived_later} of the lost arrived within {LATE_WAIT:.0f} s more")
    if point.late_saves:
        parts.append(f"{point.late_saves} saves outlasted T")
    if point.conflicts:
        parts.append(f"{point.conflicts} conflicts (409)")
    if point.version_surprises:
        parts.append(f"{point.version_surprises} unexpected versions")
    if point.stray or point.duplicates:
        parts.append(f"{point.stray} stray / {point.duplicates} duplicate events")
    if point.disconnects:
        first = min(since for since, _reason in point.disconnects)
        reasons = sorted({reason for _since, reason in point.disconnects})
        parts.append(f"{len(point.disconnects)} clients disconnected (the first {first:.1f} s into the window; "
                     f"{', '.join(reasons)})")
    if point.others > BUSY_OTHERS:
        parts.append(f"other processes {point.others:.2f} cores")
    return "; ".join(parts)


def table(points: list[Point], period_ms: int) -> str:
    rows = ["| N | saves/s | p50 ms | p95 ms | p99 ms | lost | HTTP errors | server cores | driver cores "
            "| ctx switches/s | notes |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for point in points:
        if point.period_ms != period_ms:
            continue
        if not point.ran:
            rows.append(f"| {point.n} | | | | | | | | | | {point.status.splitlines()[0][:300]} |")
            continue
        rows.append("| " + " | ".join([
            str(point.n), f"{point.acked / point.window:.1f}", _ms(point.p(50)), _ms(point.p(95)), _ms(point.p(99)),
            str(point.lost), str(point.errors), f"{point.cores(point.server_cpu):.2f}",
            f"{point.cores(point.driver_cpu):.2f}", f"{point.switches / point.window:,.0f}", notes(point),
        ]) + " |")
    return "\n".join(rows)


def details(points: list[Point]) -> str:
    rows = ["| T | N | offered saves/s (N/T) | saves counted | acknowledged | samples | HTTP answer p50 / p95 ms "
            "| server threads | setup s | other load |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for point in points:
        if not point.ran:
            continue
        answers = (f"{percentile(point.answers, 50) * 1000:.1f} / {percentile(point.answers, 95) * 1000:.1f}"
                   if point.answers else "-")
        rows.append("| " + " | ".join([
            f"{point.period_ms} ms", str(point.n), f"{point.n / (point.period_ms / 1000):.0f}", str(point.issued),
            str(point.acked), str(len(point.samples)), answers, str(point.threads), f"{point.setup:.1f}",
            f"{point.others:.2f} cores",
        ]) + " |")
    return "\n".join(rows)


def knee(points: list[Point], period_ms: int) -> str:
    ran = [p for p in points if p.period_ms == period_ms and p.ran]
    if not ran:
        return f"T = {period_ms} ms: no point measured."
    over = [p for p in ran if p.p(95) > KNEE_MS]
    if not over:
        return (f"T = {period_ms} ms: no knee up to N = {ran[-1].n} (p95 {_ms(ran[-1].p(95))} ms there, "
                f"under {KNEE_MS / 1000:.0f} s).")
    first = over[0]
    below = [p for p in ran if p.n < first.n]
    text = f"T = {period_ms} ms: knee at N = {first.n} (p95 {_ms(first.p(95))} ms)"
    if below:
        text += f"; at N = {below[-1].n} the p95 was {_ms(below[-1].p(95))} ms, so it lies in ({below[-1].n}, {first.n}]"
    if first.driver_saturated:
        text += "; the driver was saturated there, so part of that latency is the client's"
    return text + "."


def targets(points: list[Point]) -> list[str]:
    """Each target of issue 19 (item 2): met, missed, or not measured."""
    def at(period_ms):
        return [p for p in points if p.period_ms == period_ms and p.ran]

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("met" if ok else "missed")

    def saturated(ps) -> str:
        hit = [p.n for p in ps if p.driver_saturated]
        return f" (driver saturated at N = {', '.join(map(str, hit))})" if hit else ""

    lines = []
    fast = at(TARGET_FAST_PERIOD)
    upto = [p for p in fast if p.n <= TARGET_FAST_UP_TO]
    if any(p.p(95) >= TARGET_P95_MS for p in upto):
        ok = False
    else:
        ok = True if upto and upto[-1].n == TARGET_FAST_UP_TO else None
    lines.append(f"- T = {TARGET_FAST_PERIOD} ms, p95 < {TARGET_P95_MS:.0f} ms up to N = {TARGET_FAST_UP_TO}: "
                 f"**{verdict(ok)}**" + (" (" + ", ".join(f"{p.n}: {_ms(p.p(95))}" for p in upto) + " ms)" if upto else "")
                 + saturated([p for p in upto if p.p(95) >= TARGET_P95_MS]) + ".")
    over = [p for p in fast if p.p(95) > KNEE_MS]
    if any(p.n <= TARGET_KNEE_BEYOND for p in over):
        ok, why = False, f"p95 over {KNEE_MS / 1000:.0f} s at N = {over[0].n}"
    elif any(p.n >= TARGET_KNEE_BEYOND and p.p(95) <= KNEE_MS for p in fast):
        ok, why = True, f"p95 under {KNEE_MS / 1000:.0f} s up to N = {max(p.n for p in fast if p.p(95) <= KNEE_MS)}"
    elif over:
        ok = None
        below = [p.n for p in fast if p.n < over[0].n]
        why = (f"p95 over {KNEE_MS / 1000:.0f} s first at N = {over[0].n}, under it at N = "
               f"{below[-1] if below else '-'}: add N = {TARGET_KNEE_BEYOND} to --authors to decide")
    else:
        ok = None
        why = f"largest N measured: {fast[-1].n}" if fast else "no point measured"
    lines.append(f"- T = {TARGET_FAST_PERIOD} ms, knee beyond N = {TARGET_KNEE_BEYOND}: **{verdict(ok)}** ({why})"
                 + saturated(over[:1]) + ".")
    slow = [p for p in at(TARGET_SLOW_PERIOD) if p.n == TARGET_SLOW_AT]
    ok = None if not slow else slow[0].p(95) < TARGET_P95_MS
    lines.append(f"- T = {TARGET_SLOW_PERIOD} ms, p95 < {TARGET_P95_MS:.0f} ms at N = {TARGET_SLOW_AT}: "
                 f"**{verdict(ok)}**" + (f" ({_ms(slow[0].p(95))} ms)" + saturated(slow) if slow else "") + ".")
    ran = [p for p in points if p.ran]
    lost = sum(p.lost for p in ran)
    where = ", ".join(f"N = {p.n} at T = {p.period_ms} ms: {p.lost}"
                      + (f", {len(p.disconnects)} of its clients lost their connection" if p.disconnects else "")
                      for p in ran if p.lost)
    lines.append(f"- No save lost: **{verdict(None if not ran else lost == 0)}**"
                 + (f" ({lost} arrivals missing; {where})" if lost else f" (0 of {sum(p.expected for p in ran):,} "
                    "expected arrivals missing)") + ".")
    return lines


def method(options, durations: dict[int, float]) -> str:
    database = "PostgreSQL (a database made from a template per point)" if options.database else \
        "SQLite (WAL; a copy of the template per point)"
    queue = f"`SOCKETIO_MESSAGE_QUEUE={options.redis}` (a channel per point)" if options.redis else "no message queue"
    windows = ", ".join(f"T = {t} ms: {warmup(t):.0f} s warm-up then {d:.0f} s timed" for t, d in durations.items())
    client = {"raw": "`bench/rawsocket.py`: Engine.IO v4 on one aiohttp WebSocket each, a `json.loads` per "
                     "event; python-socketio's `AsyncClient` saturated this core at about 16,000-18,000 "
                     "events a second, which hid the server's limit (`--driver socketio` measures with it)",
              "socketio": "python-socketio `AsyncClient`s"}[options.driver]
    transport_error = "" if options.driver == "raw" else (
        " A 'transport error' there is python-engineio's client giving up after 30 s with nothing to send "
        "(max(ping interval 25 s, ping timeout 20 s) + 5 s; normally it sends its answer to the server's ping "
        "every 25 s): a server ping stuck over 5 s behind a backlog of events ends the connection (a "
        "browser's engine.io client waits 45 s for a ping).")
    return (
        f"For each period T and each N, a fresh server: `taskset -c {options.server_core}` "
        f"`{TRANSPORTS[options.transport]}`, `DRAFTING_ENV=testing`, {database}, {queue}. The template "
        "is the demo world (as tests/conftest.py) plus a document in drafting with one editor per "
        "author, each with an API token and a clause of its own (~500 characters of prose); N authors "
        "use the first N. The driver is this process, pinned to core "
        f"{options.driver_core}, with one asyncio loop: N Socket.IO clients ({client}; author i's "
        "token) connect over WebSocket and `join` the document, 10 at a time; the presence storm is "
        "drained. Each author then saves its own clause every T (first tick at i*T/N, so the saves are "
        "spread evenly over the period; next tick = previous + T): `PATCH /api/v1/clauses/{id}` with "
        "`{text, base_version}`, its bearer token, one aiohttp session (pool of N connections, "
        "keep-alive 1.5 s so that no connection the server is closing is reused). At most one save per "
        "author is in flight: a save that outlasts T is followed at once when it returns, the ticks "
        "missed meanwhile are dropped (so saves/s falls below N/T when the server cannot keep up). Just "
        "before sending, the author records the time under (clause, version + 1); every other author's "
        "`clause.updated` handler records its arrival time under the event's (clause_id, version). A "
        "sample is arrival minus issue, for every other author, over the saves issued in the timed "
        f"window ({windows}); percentiles are linear interpolations. Lost = acknowledged saves x (N-1) "
        f"minus arrivals, counted {GRACE:.0f} s after the last save was answered (when some are missing, "
        f"the notes say how many still came within {LATE_WAIT:.0f} s more: late rather than lost). Clients "
        "are not reconnected, so the arrivals of a client that lost its connection count as lost; the notes "
        f"count such disconnections.{transport_error} HTTP errors are "
        "non-2xx answers and failed requests. Server cores = CPU time (user + system) of the gunicorn "
        "worker (with the asyncio transport: plus the live server and redis-server, which then carry the "
        "fan-out) / wall time of the window; driver cores = this process's CPU time / wall time "
        f"(above {DRIVER_SATURATED} the driver, not the server, may be the limit: 'driver saturated'); "
        "context switches are summed over the server processes' threads (voluntary + involuntary). The "
        "clients handle each message in their read loop, as a browser runs its handlers. The driver's "
        "garbage collector is paused during the window (the clients stand for N separate browsers). "
        f"The knee is the smallest N whose p95 exceeds {KNEE_MS / 1000:.0f} s; once a p95 exceeds "
        f"{STOP_MS / 1000:.0f} s, larger N are not run for that T. Other processes run on the same two "
        f"cores (they are not kept off the pinned ones); before each point the run waits up to "
        f"{POINT_QUIET_WAIT:.0f} s for them to use under 0.3 cores; 'other load' is what they used during "
        "the window.")


def markdown(points, options, durations, facts, quiet_before: float, quiet_after: float) -> str:
    lines = [
        machine_markdown(facts),
        f"- Command: `{options.command}`",
        f"- Other processes' load just before measuring: {quiet_before:.2f} cores; just after: {quiet_after:.2f} cores",
        "",
        "### Method",
        "",
        method(options, durations),
        "",
    ]
    for period_ms in durations:
        lines += [f"### T = {period_ms} ms (milliseconds from the save being issued to its `clause.updated` "
                  "arriving at another author)", "", table(points, period_ms), ""]
    lines += ["Details:", "", details(points), ""]
    errors = [f"- T = {p.period_ms} ms, N = {p.n}: " + "; ".join(p.error_samples) for p in points if p.error_samples]
    if errors:
        lines += ["HTTP errors (first of each point):", "", *errors, ""]
    lines += ["### Targets (issue 19, item 2)", "", *targets(points), "", "### Knee", ""]
    lines += [f"- {knee(points, period_ms)}" for period_ms in durations]
    return "\n".join(lines).rstrip() + "\n"


# --- entry point --------------------------------------------------------------------------

def _ints(text: str) -> list[int]:
    return [int(x) for x in str(text).split(",") if x.strip()]


def add_arguments(parser) -> None:
    parser.add_argument("--authors", default=",".join(map(str, AUTHORS)),
                        help="comma-separated N values (default: %(default)s)")
    parser.add_argument("--period-ms", default=",".join(map(str, PERIODS_MS)),
                        help="comma-separated save periods T in ms (default: %(default)s)")
    parser.add_argument("--authors-duration", type=float, metavar="SECONDS",
                        help="seconds of each timed window (default: 20 for T < 1 s, 40 otherwise; "
                             "a warm-up of max(3 s, T) comes first)")
    parser.add_argument("--server-core", type=int, default=0, help="core the server is pinned to (default: 0)")
    parser.add_argument("--driver-core", type=int, default=1, help="core this driver is pinned to (default: 1)")
    parser.add_argument("--database", metavar="URL",
                        help="a PostgreSQL URL (its server makes a database per point); default: SQLite files")
    parser.add_argument("--redis", metavar="URL", help="the server's Socket.IO message queue (default: none)")
    parser.add_argument("--authors-logs", metavar="DIR",
                        help="keep the servers' logs (server-T-N.log) in DIR (default: thrown away)")
    parser.add_argument("--driver", default="raw", choices=DRIVERS,
                        help="the authors' Socket.IO client: " + "; ".join(f"{k}: {v}" for k, v in DRIVERS.items())
                             + " (default: %(default)s)")
    parser.add_argument("--transport", default="gthread,asyncio", metavar="NAMES",
                        help=f"how the app is served, one or more of {', '.join(TRANSPORTS)}, comma-separated "
                             "(default: %(default)s)")


def run(options) -> str:
    """Measure each transport in turn (`--transport a,b`); one block of results for each."""
    transports = [t.strip() for t in options.transport.split(",") if t.strip()]
    unknown = [t for t in transports if t not in TRANSPORTS]
    if unknown or not transports:
        raise SystemExit(f"unknown transport {', '.join(unknown) or '(none)'}; known: {', '.join(TRANSPORTS)}")
    cores = os.sched_getaffinity(0)
    if options.driver_core not in cores or options.server_core not in cores:
        raise SystemExit(f"--server-core/--driver-core must be among this process's cores {sorted(cores)}")
    os.sched_setaffinity(0, {options.driver_core})
    blocks = []
    for transport in transports:
        print(f"[authors] transport {transport}: {TRANSPORTS[transport]}", flush=True)
        one = argparse.Namespace(**vars(options))
        one.transport = transport
        if transport == "asyncio" and not one.redis:
            one.redis = REDIS  # the live server hears the app's changes there
        text = run_transport(one)
        blocks.append(text if len(transports) == 1 else
                      f"### Served by {transport}: {TRANSPORTS[transport]}\n\n" + text.replace("\n### ", "\n#### "))
    return "\n".join(blocks).rstrip() + "\n\n" + READINGS.strip() + "\n"


def run_transport(options) -> str:
    ns = sorted(set(_ints(options.authors)))
    periods = _ints(options.period_ms)
    durations = {t: options.authors_duration or default_duration(t) for t in periods}
    tag = uuid.uuid4().hex[:8]
    postgres = Postgres(options.database) if options.database else None
    template_name = f"bench_authors_{tag}_template"
    points: list[Point] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-authors-") as tmp:
            workdir = Path(tmp)
            began = time.perf_counter()
            template = postgres.create(template_name) if postgres else workdir / "template.db"
            fixture = prepare(template, max(ns))
            print(f"[authors] seeded the template ({max(ns)} authors) in {time.perf_counter() - began:.1f} s",
                  flush=True)
            quiet_before = wait_for_quiet("authors")
            print(f"[authors] other processes use {quiet_before:.2f} cores; measuring", flush=True)
            for period_ms in periods:
                skip = None  # why the larger N of this period are not run
                for n in ns:
                    point = Point(period_ms, n)
                    points.append(point)
                    if skip:
                        point.status = skip
                        continue
                    quiet = wait_for_quiet("authors", wait=POINT_QUIET_WAIT)
                    if quiet > BUSY_OTHERS:
                        print(f"[authors] measuring T={period_ms} ms N={n} while other processes use "
                              f"{quiet:.2f} cores", flush=True)
                    began = time.perf_counter()
                    name = f"bench_authors_{tag}_{period_ms}_{n}"
                    channel = f"bench-authors-{tag}-{period_ms}-{n}"
                    if postgres:
                        url = postgres.create(name, template=template_name)
                    else:
                        url = database_url(copy_database(template, workdir / f"{name}.db"))
                    try:
                        run_point(point, fixture, url, options, channel, durations[period_ms], workdir)
                    finally:
                        if postgres:
                            postgres.drop(name)
                        else:
                            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
                        if options.redis:
                            forget_redis_keys(channel, options.redis)
                    took = time.perf_counter() - began
                    if point.ran:
                        print(f"[authors] T={period_ms:>5} ms N={n:<4} saves/s {point.acked / point.window:7.1f}  "
                              f"p50 {point.p(50):8.1f}  p95 {point.p(95):8.1f}  p99 {point.p(99):8.1f} ms  "
                              f"lost {point.lost}  errors {point.errors}  server {point.cores(point.server_cpu):.2f}  "
                              f"driver {point.cores(point.driver_cpu):.2f} cores  other {point.others:.2f}  "
                              f"({took:.0f} s){'  driver saturated' if point.driver_saturated else ''}", flush=True)
                    else:
                        print(f"[authors] T={period_ms} ms N={n}: {point.status}", flush=True)
                    if not point.ran:
                        skip = f"not run (N = {n} failed)"
                    elif point.p(95) > STOP_MS:
                        skip = "not run (past the knee)"
            quiet_after = wait_for_quiet("authors", wait=0)
    finally:
        if postgres:
            postgres.drop(template_name)
            postgres.close()
    for period_ms in periods:
        print(f"\nT = {period_ms} ms\n" + table(points, period_ms))
    print("\n" + details(points) + "\n")
    print("\n".join(targets(points)))
    print("\n".join(knee(points, t) for t in periods))
    return markdown(points, options, durations, machine(), quiet_before, quiet_after)


# Written by hand from the runs and experiments of 30 Nov 2026 (sessions 5 and 6); kept with the
# code so that a rewrite of the section keeps it.
READINGS = """
### Reading (30 Nov 2026, session 6; by hand, not part of the run)

- **What changed since session 5's run, and what each part is worth.** Each was measured by
  alternating old and new commits (a git worktree of the old one) on the same machine minutes
  apart, because this VM's speed changes by up to 2x within the hour (the calibration loop took
  73-124 ms during this session, 65-85 ms when quiet):
  - *A save's label is counted by the database* (`documents.operations.clause_label`): one
    aggregate row (recitals, sections, annexes and articles up to the clause, and the clause's
    own kind) instead of reading the `(id, kind)` of every clause before it and numbering them
    in Python. `numbering.label_of` turns the counts into the label, the rule `labels` applies
    to a whole list. The label alone: 0.17-0.43 ms against 0.31-0.79 ms (positions 10-250 of
    250). A save in-process (Flask test client, 1,500 saves, both commits running side by side):
    3.2-3.4 ms of CPU against 3.7-4.0 ms. The first version of the query, built per call and with
    an expanding `NOT IN`, cost 1.2 ms, more than the rows it replaced: the statement is now
    built once and uses plain comparisons.
    On this benchmark (asyncio, N = 250, T = 200 ms, 20 s windows): 135-136 saves/s against
    109 for the previous commit.
  - *The live server writes in batches under load* (`FanOut.BATCH_SECONDS`, 20 ms): the first
    event after a quiet spell goes out to everyone at once and opens a window; the events of the
    window are joined per connection and written with one system call each when it closes.
    At N = 250, two alternating rounds: 135 saves/s against 122-124 (8-10% more); the driver's
    core also drops from 0.85-0.94 to 0.65-0.80 cores (fewer, larger reads). A save's fan-out
    took about a quarter of the server core before it (by `/proc`: the live server used 23%
    and the gunicorn worker 75% of the core at 142 saves/s).
    The first version opened the window at the first *frame*, so every viewer but the first
    waited 20 ms even at idle; the run before this one showed it (p50 28-31 ms at T = 5 s
    against 8-10 ms) and it was fixed before the run of record above.
- **Tried and dropped (measured):**
  - *A fair write queue* (the lock handed to the writer that has waited longest): at N = 250
    with the live server the slowest saves came closer to the median (p95/p50 1.10-1.21
    against 1.10-1.40), but with the threading server it cost a quarter of the throughput
    (gthread, N = 50, two alternating rounds: 104-106 saves/s against 138-145): a lock handed
    to a sleeping thread stays idle until that thread has the GIL back, and hundreds of
    WebSocket threads compete for it. SQLite's write queue stays a plain lock.
  - *A write-only Redis manager in the HTTP process* (no listener thread when a live server
    holds the sockets): no difference in-process (5.1-5.2 ms against 5.2-5.3 ms a save, side by
    side), so no new setting.
  - *rapidfuzz's banded Levenshtein (`score_hint`) and fast-diff-match-patch* (issue 12, noted
    here because it was the same afternoon): neither aligns 100 KB of tokens under 10 ms
    (see "Clause diff and merge", Reading).
- **Targets of issue 19, item 2, in the run of record above:**
  - T = 5 s, p95 < 100 ms at 300 authors: **met** (41.4 ms; 9-15 ms from 10 to 200 authors).
  - No save lost: **met** (0 of 5.0 million expected arrivals missing with the live server).
  - Knee beyond 250 authors at T = 200 ms: **met** in both runs of this session with the live
    server (p95 1,929 ms at 250 in the run of record, 1,937 ms in the run before it; 2.6 s at
    300). This VM's speed moves that point by several hundred milliseconds: on a slow hour the
    same code gave 2.15-2.28 s at 250 in 20 s windows. gthread's knee stays at (100, 150].
  - p95 < 100 ms up to 100 authors at T = 200 ms: **missed** and out of reach on one core in
    this stack. 100 authors offer 500 saves a second; one core answers 150-180 with every save
    fanned out to 99 others (some 4 ms in the gunicorn worker for the HTTP request, ten
    statements and the commit's fsync, and about 1.5 ms of fan-out). Meeting it would need a
    save at about a third of its cost, all parts included. "What one core can give a save" (below,
    2 Dec) measures the parts apart: the save's ten statements through SQLAlchemy with none of
    the app's logic, fanned out, take 90% of what the app's save does; on the sqlite3 cursor,
    49%; a request that touches no database, 28%. No save on this stack fits 2.0 ms of one core.

### Reading (30 Nov 2026, session 5, on the code and run before this one; by hand)

- **The driver is no longer the limit.** Until this run the authors were python-socketio
  `AsyncClient`s, which saturate one core at about 16,000-18,000 received events a second: the
  asyncio server's knee and its 300-author point at T = 5 s measured the client. The driver is
  now `bench/rawsocket.py` (Engine.IO v4 over one aiohttp WebSocket per author, a `json.loads`
  per event, handlers inline); it stays under 0.9 cores up to 250 authors receiving some 37,000
  events a second (`--driver socketio` measures with the old client).
- **This machine's speed changed by up to 2x during the run of record.** The calibration loop
  of the page benchmark took 137-146 ms at 17:40 against 65-85 ms when quiet, and the asyncio
  block above ran with other load of 0.1-0.3 cores on several points (server cores under 0.9
  while the latency grew: the core was taken by something else). A repeat of the asyncio
  points at T = 200 ms right after it, on a quiet machine (`--transport asyncio --authors
  150,200,250,300 --period-ms 200 --no-docs`, 18:13-18:17 UTC, other load 0.00-0.01 cores):

  | N | saves/s | p50 ms | p95 ms | p99 ms | lost | server cores | driver cores |
  |---:|---:|---:|---:|---:|---:|---:|---:|
  | 150 | 168.4 | 891.6 | 1,142.9 | 1,223.9 | 0 | 0.99 | 0.63 |
  | 200 | 157.6 | 1,264.8 | 1,535.4 | 1,650.6 | 0 | 0.98 | 0.72 |
  | 250 | 150.7 | 1,676.3 | 2,020.2 | 2,079.4 | 0 | 0.98 | 0.81 |
  | 300 | 137.5 | 2,193.8 | 2,649.5 | 2,704.8 | 0 | 0.98 | 0.90 (saturated) |

  Seven shorter runs of N = 250 earlier the same afternoon (15 s windows, during the experiments
  below) gave p95 2.05-2.33 s.
  So the knee with the live server lies at about 250 authors, (200, 250] by the 2 s rule; with
  gthread it is (100, 150] (2.0 s at 150), as before.
- **What a save costs now, and what changed.** py-spy on the gunicorn worker at 150 authors:
  the PATCH answer's clause label read the (id, kind) of every clause of the document to number
  them all (22% of the worker's Python time with 300 clauses); it now reads only the clauses up
  to this one (`documents.operations.clause_label`), and the member's role comes with the clause
  and its document in one statement. In-process, alternating old and new commits on the same
  database: 10-15% less CPU a save. Measured by `/proc` during T = 200 ms, N = 200: gunicorn
  0.74 cores, the live server 0.24 and redis-server 0.01 for 101 saves/s on a slow minute, that
  is some 7 ms a save in the worker and 12 us a frame in the live server. The worker's time is
  SQLAlchemy statements (10), the commit's fsync, gunicorn's HTTP parsing, the token lookup and
  Flask: no single part left above 15%.
- **Targets of issue 19, item 2.** T = 5 s, p95 < 100 ms at 300 authors: **met** (41.9 ms in the
  run of record; 15.8 ms in a quiet run earlier). In the run of record the point before it,
  N = 250, came out at 1,080 ms p95 (HTTP answers p95 1,071 ms) while other processes took 0.28
  cores of this machine; 250 authors at T = 5 s gave 16.0 ms p95 in the quiet run earlier the
  same day (0.46 server cores), so that point measured the machine, not the server. No save lost: **met** (0 of 3.7 million
  arrivals). Knee beyond 250 at T = 200 ms: **missed, narrowly** (2.02 s p95 at 250 on a quiet
  machine; needs some 10% less CPU a save). p95 < 100 ms up to 100 authors at T = 200 ms:
  **missed**: 100 authors offer 500 saves a second, and one core answers about 150-170.
- **Tried and dropped:** writing each connection's frames once per turn of the event loop in
  `FanOut` (no measurable change: the Redis reader yields between messages, so a connection
  rarely has two frames in one turn); 10 HTTP threads instead of 50 beside the live server (no
  change within the noise).
- Since this run every benchmark's gunicorn runs without the mail worker thread
  (`NOTIFICATIONS_WORKER=0` in `bench/common.Gunicorn`); the other sections were measured with it
  (about 0.03 cores at idle).
- **The slow idle case (item 4), explained by measurement (29-30 Nov).** At T = 5 s, 10 authors, a
  save's HTTP answer took 20-85 ms against 8-13 ms when the server is busy, with either transport.
  Measured separately on this machine:
  - *fsync per save*: `strace -T` shows one `fdatasync` of the WAL per save taking about 1 ms
    (`os.fsync` of a 4 KB write: p50 0.2-0.3 ms, p95 1-2 ms). Not the cause; durability stays as
    it is (`synchronous=FULL` in WAL mode, an acknowledged save survives a killed process,
    tests/test_crash.py).
  - *Nagle / delayed ACK*: gunicorn sets `TCP_NODELAY` on its listening socket and accepted
    sockets inherit it (checked: `getsockopt` on an accepted socket gives 1); aiohttp sets it on
    both ends of the WebSockets. Not the cause.
  - *Wake-up*: the thread hand-offs of the gthread worker take a few milliseconds at idle in the
    `strace` timeline; a part of it.
  - *The machine*: a fixed pure-Python workload pinned to the server core
    (`taskset -c 0 .venv/bin/python -m bench.coldcache`: 2.5 ms back to back) takes 2.7 ms after a
    10 ms pause, 4.6 ms after 0.1 s, 9.7 ms after 0.5 s and 16.6 ms after 2 s; a save costs 10 ms
    of server CPU back to back and 30-40 ms after a 0.5-2 s pause. This VM's vCPU comes back from
    idle slow; busier servers keep it warm. Nothing in the app to fix without burning a core to
    keep it warm.
"""
