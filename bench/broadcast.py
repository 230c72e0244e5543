"""Broadcast latency: HTTP save -> `clause.updated` arriving at every one of N real Socket.IO clients.

For each N the app (wsgi:app) and the transport floor (bench/floor_app.py) are each served by a
fresh `gunicorn -w 1 --threads N+50 --no-control-socket` (gthread, threading async mode,
simple-websocket). N python-socketio AsyncClients on one asyncio loop connect over WebSocket,
`join` the document's room and wait for the ack; the presence storm of the joins is drained.
Then, from the same process and loop (so one perf_counter clock), SAVES saves are sent one at a
time, SPACING apart: for the app `PATCH /api/v1/clauses/{id}` with a bearer token and
{text, base_version}; for the floor `POST /emit`, which only calls socketio.emit to the room.
Each save waits until all N clients received its event (matched by `version`). A latency
sample is (arrival at one client) - (just before the HTTP request was sent), for every (save,
client) pair; the first WARMUP saves of each run are discarded.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .common import BIN, Gunicorn, app_for, build_database, copy_database, percentile

TITLE = "Broadcast latency (live collaboration)"
NAME = "broadcast"
CLIENTS = (10, 100, 250)
SAVES = 30
WARMUP = 3
SPACING = 0.05  # seconds between the end of one save and the start of the next
HEADROOM = 50  # gunicorn threads beyond one per WebSocket, for HTTP requests
CONNECT_BATCH = 25
SAVE_TIMEOUT = 15.0
TARGET_N = 100
TARGET_P95_MS = 50.0
TARGET_RATIO = 2.0


# --- measurement --------------------------------------------------------------------------

@dataclass
class Pending:
    expected: int
    times: dict[int, float] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass
class Run:
    target: str
    n: int
    latencies: list[float] = field(default_factory=list)  # seconds, every (save, client)
    responses: list[float] = field(default_factory=list)  # HTTP round trip per save
    firsts: list[float] = field(default_factory=list)  # first arrival per save
    lasts: list[float] = field(default_factory=list)  # last arrival per save
    missing: int = 0  # (save, client) pairs that never arrived within SAVE_TIMEOUT
    server_cpu: float = 0.0  # server process CPU seconds during the timed saves
    client_cpu: float = 0.0  # this process's CPU seconds during the timed saves
    wall: float = 0.0
    saves: int = 0
    setup: float = 0.0
    profile: str | None = None

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Clients:
    """N AsyncClients joined to one room, recording when each `clause.updated` arrives."""

    def __init__(self, n: int):
        self.n = n
        self.clients = []
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

    async def connect(self, base: str, tokens: list[str], document_id: int) -> None:
        import socketio

        async def one(index: int):
            client = socketio.AsyncClient(reconnection=False)
            on_updated, on_presence = self._handlers(index)
            client.on("clause.updated", on_updated)
            client.on("presence", on_presence)
            await client.connect(base, transports=["websocket"], auth={"token": tokens[index % len(tokens)]},
                                 wait_timeout=30)
            ack = await client.call("join", {"document_id": document_id}, timeout=60)
            if not (isinstance(ack, dict) and ack.get("ok")):
                raise RuntimeError(f"join refused: {ack!r}")
            return client

        for start in range(0, self.n, CONNECT_BATCH):
            batch = range(start, min(start + CONNECT_BATCH, self.n))
            self.clients += await asyncio.gather(*(one(i) for i in batch))

    async def settle(self, quiet: float = 0.5, limit: float = 60.0) -> None:
        """Wait until no presence event has arrived for `quiet` seconds (the join storm is over)."""
        deadline = time.perf_counter() + limit
        while time.perf_counter() < deadline and time.perf_counter() - self.last_presence < quiet:
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        async def one(client):
            try:
                await asyncio.wait_for(client.disconnect(), timeout=10)
            except Exception:  # noqa: BLE001 - the server may be gone already
                pass

        await asyncio.gather(*(one(c) for c in self.clients))


async def _measure(run: Run, server: Gunicorn, clients: Clients, send, saves: int,
                   first_version: int, profile_dir: Path | None) -> None:
    """Send WARMUP + saves saves one by one; record the timed ones into run."""
    import aiohttp

    spy = None
    async with aiohttp.ClientSession() as session:
        for i in range(WARMUP + saves):
            timed = i >= WARMUP
            if i == WARMUP:
                cpu_server, cpu_client, wall = _cpu_seconds(server.pid), time.process_time(), time.perf_counter()
                if profile_dir is not None:
                    spy = _start_py_spy(server.pid, profile_dir / f"{run.target}-{run.n}")
            version = first_version + i
            record = clients.pending[version] = Pending(expected=clients.n)
            t0 = time.perf_counter()
            status, answered = await send(session, i, version)
            t_response = time.perf_counter()
            if status != 200:
                raise RuntimeError(f"{run.target}: save {i} answered {status}: {answered!r}")
            try:
                await asyncio.wait_for(record.done.wait(), timeout=SAVE_TIMEOUT)
            except TimeoutError:
                pass
            del clients.pending[version]
            if timed:
                arrivals = [t - t0 for t in record.times.values()]
                run.latencies += arrivals
                run.missing += clients.n - len(arrivals)
                run.responses.append(t_response - t0)
                if arrivals:
                    run.firsts.append(min(arrivals))
                    run.lasts.append(max(arrivals))
                run.saves += 1
            await asyncio.sleep(SPACING)
    run.wall = time.perf_counter() - wall
    run.server_cpu = _cpu_seconds(server.pid) - cpu_server
    run.client_cpu = time.process_time() - cpu_client
    if spy is not None:
        run.profile = _stop_py_spy(spy)


# --- optional profile of the server (py-spy) -----------------------------------------------

def _start_py_spy(pid: int, stem: Path):
    exe = shutil.which("py-spy") or str(BIN / "py-spy")
    if not Path(exe).exists():
        raise RuntimeError("--profile needs py-spy: .venv/bin/pip install py-spy")
    out = stem.with_suffix(".txt")
    process = subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", "500", "--threads",
                                "--idle", "--format", "raw", "--output", str(out), "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return process, out


def _stop_py_spy(spy) -> str:
    import signal

    process, out = spy
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return str(out)


# --- one (target, N) ----------------------------------------------------------------------

@dataclass
class AppFixture:
    template: Path
    tokens: list[str]  # for the N clients: one per member of the document, used round robin
    editor_token: str
    document_id: int
    clause_id: int
    clause_text: str
    clause_version: int


def prepare_app(workdir: Path) -> AppFixture:
    """Build the template database and issue the tokens the clients and the sender use."""
    from sqlalchemy import select

    from drafting.extensions import db
    from drafting.models import ApiToken, Document, Membership, User

    template = workdir / "template.db"
    build_database(template)
    app = app_for(template)
    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.kind == "declaration"))
        clause = document.clauses[0]
        members = db.session.scalars(select(User).join(Membership, Membership.user_id == User.id)
                                     .where(Membership.document_id == document.id).order_by(User.id)).all()
        editor = next(m.user for m in document.memberships if m.role == "editor")
        tokens = [ApiToken.issue(user)[1] for user in members]
        editor_token = ApiToken.issue(editor)[1]
        db.session.commit()
        fixture = AppFixture(template, tokens, editor_token, document.id, clause.id, clause.text,
                             clause.version)
        db.engine.dispose()
    return fixture


async def run_one(target: str, n: int, fixture: AppFixture, workdir: Path, saves: int,
                  profile_dir: Path | None) -> Run:
    run = Run(target, n)
    began = time.perf_counter()
    log = workdir / f"{target}-{n}.log"
    if target == "app":
        database = copy_database(fixture.template, workdir / f"app-{n}.db")
        server = Gunicorn("wsgi:app", threads=n + HEADROOM, log=log, env={
            "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench-broadcast",
            "DRAFTING_ENV": "testing", "SOCKETIO_MESSAGE_QUEUE": ""})
        url = f"{server.base}/api/v1/clauses/{fixture.clause_id}"
        headers = {"Authorization": f"Bearer {fixture.editor_token}"}
        first_version = fixture.clause_version + 1

        async def send(session, i, version):
            body = {"text": f"{fixture.clause_text} (bench save {n}/{i})", "base_version": version - 1}
            async with session.patch(url, json=body, headers=headers) as response:
                answer = await response.json()
                if response.status == 200 and answer["clause"]["version"] != version:
                    raise RuntimeError(f"expected version {version}, got {answer['clause']['version']}")
                return response.status, answer
        tokens, document_id = fixture.tokens, fixture.document_id
    else:
        server = Gunicorn("bench.floor_app:app", threads=n + HEADROOM, log=log)
        url = f"{server.base}/emit"
        first_version = 1

        async def send(session, i, version):
            body = {"document_id": 1, "seq": version, "actor": 1, "clause_id": 1, "version": version,
                    "merged": False}
            async with session.post(url, json=body) as response:
                await response.read()
                return (200 if response.status == 204 else response.status), None
        tokens, document_id = ["floor"], 1

    clients = Clients(n)
    try:
        await clients.connect(server.base, tokens, document_id)
        await clients.settle()
        run.setup = time.perf_counter() - began
        await _measure(run, server, clients, send, saves, first_version, profile_dir)
    finally:
        await clients.close()
        server.stop()
    return run


# --- report -------------------------------------------------------------------------------

def _ms(value: float) -> str:
    return f"{value:.1f}"


def results_table(runs: dict[tuple[str, int], Run], ns) -> str:
    rows = ["| N | app p50 | app p95 | app p99 | floor p50 | floor p95 | floor p99 "
            "| ratio p50 | ratio p95 | ratio p99 |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in ns:
        app, floor = runs[("app", n)], runs[("floor", n)]
        cells = [str(n)] + [_ms(app.p(q)) for q in (50, 95, 99)] + [_ms(floor.p(q)) for q in (50, 95, 99)]
        cells += [f"{app.p(q) / floor.p(q):.2f}x" for q in (50, 95, 99)]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def details_table(runs: dict[tuple[str, int], Run], ns) -> str:
    rows = ["| N | served | samples | missing | HTTP answer p50 | first arrival p50 | last arrival p50 "
            "| last arrival p95 | server CPU / save | client CPU / save | setup |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in ns:
        for target in ("app", "floor"):
            run = runs[(target, n)]
            rows.append("| " + " | ".join([
                str(n), target, str(len(run.latencies)), str(run.missing),
                _ms(percentile(run.responses, 50) * 1000), _ms(percentile(run.firsts, 50) * 1000),
                _ms(percentile(run.lasts, 50) * 1000), _ms(percentile(run.lasts, 95) * 1000),
                f"{run.server_cpu / run.saves * 1000:.1f} ms", f"{run.client_cpu / run.saves * 1000:.1f} ms",
                f"{run.setup:.1f} s",
            ]) + " |")
    return "\n".join(rows)


def reading(runs: dict[tuple[str, int], Run], ns) -> str:
    """One paragraph judging the results against the targets of the issue."""
    parts = []
    if TARGET_N in ns:
        app, floor = runs[("app", TARGET_N)], runs[("floor", TARGET_N)]
        p95 = app.p(95)
        ratios = {q: app.p(q) / floor.p(q) for q in (50, 95, 99)}
        met_latency = p95 < TARGET_P95_MS
        met_ratio = all(r <= TARGET_RATIO for r in ratios.values())
        parts.append(
            f"At N = {TARGET_N} the app's p95 is {p95:.1f} ms against a target of under "
            f"{TARGET_P95_MS:.0f} ms ({'met' if met_latency else 'missed'}), and it is "
            f"{ratios[50]:.2f}x / {ratios[95]:.2f}x / {ratios[99]:.2f}x the bare transport's floor at "
            f"p50 / p95 / p99 against a target of within {TARGET_RATIO:.0f}x "
            f"({'met' if met_ratio else 'missed'}).")
    others = []
    for n in ns:
        if n == TARGET_N:
            continue
        app, floor = runs[("app", n)], runs[("floor", n)]
        others.append(f"N = {n}: p95 {app.p(95):.1f} ms vs floor {floor.p(95):.1f} ms "
                      f"({app.p(95) / floor.p(95):.2f}x)")
    if others:
        parts.append("Elsewhere: " + "; ".join(others) + ".")
    gaps = []
    for n in ns:
        app, floor = runs[("app", n)], runs[("floor", n)]
        gaps.append(f"{percentile(app.responses, 50) * 1000 - percentile(floor.responses, 50) * 1000:.1f} ms "
                    f"at N = {n}")
    parts.append(
        "The app's extra cost over the floor is the save itself (token lookup, compare-and-swap "
        "update, revision, seq, change event, audit chain, SQLite commit) that runs before the "
        "after-commit emit; the difference in median HTTP answer time is " + ", ".join(gaps) + ". "
        "Both columns share the fan-out cost: one Python process delivers the event to each "
        "WebSocket through its own writer thread, so the last client's arrival grows with N.")
    missing = sum(r.missing for r in runs.values())
    if missing:
        parts.append(f"{missing} (save, client) arrivals never came within {SAVE_TIMEOUT:.0f} s.")
    return " ".join(parts)


def method_markdown(saves: int) -> str:
    return (
        f"For each N, the app and the floor are each served by a fresh `gunicorn -w 1 --threads N+{HEADROOM} "
        "--no-control-socket` (gthread worker, Flask-SocketIO `async_mode=\"threading\"` with "
        "simple-websocket; in this mode every WebSocket holds a server thread). The app gets a fresh "
        "SQLite database migrated and seeded with the demo world (as tests/conftest.py does), "
        "`DRAFTING_ENV=testing`, no message queue. N real python-socketio `AsyncClient`s on one "
        "asyncio loop connect with `transports=[\"websocket\"]` and `auth={\"token\": ...}` (one API "
        "token per member of the declaration, shared round robin), emit `join` and wait for the "
        "`{\"ok\": true}` ack; the `presence` storm of the joins is drained before measuring. From the "
        "same process and loop (one `time.perf_counter()` clock), saves go one at a time: app, "
        "`PATCH /api/v1/clauses/{id}` with an editor's bearer token and `{text, base_version}`; floor "
        "(`bench/floor_app.py`), `POST /emit`, whose handler only calls `socketio.emit` to the room. "
        f"Each save waits until all N clients received its `clause.updated` (matched by `version`), "
        f"then {SPACING * 1000:.0f} ms pass before the next. {WARMUP} warm-up saves are discarded, "
        f"then {saves} saves are timed; a sample is arrival at one client minus the moment before the "
        f"HTTP request was sent, over all {saves} x N (save, client) pairs; percentiles are linear "
        "interpolations. Note: all clients share one asyncio loop on a 2-core machine where the server "
        "also runs, so the spread of arrivals includes the client loop reading N frames one after the "
        "other (shown as client CPU / save); the floor pays exactly the same, which is what the ratio "
        "is for.")


def markdown(runs, ns, saves, facts, command: str) -> str:
    from .common import machine_markdown

    return "\n".join([
        machine_markdown(facts),
        f"- Command: `{command}`",
        "",
        "### Method",
        "",
        method_markdown(saves),
        "",
        "### Results (milliseconds, HTTP request sent -> event arrived at a client)",
        "",
        results_table(runs, ns),
        "",
        "Details (per save; CPU is process user + system time during the timed saves):",
        "",
        details_table(runs, ns),
        "",
        "### Reading",
        "",
        reading(runs, ns),
        "",
        FINDINGS.strip(),
    ])


# Written from profiling runs (`python -m bench broadcast --profile`); kept with the code so a
# rewrite of the section keeps it. Update it when the profile changes.
FINDINGS = """
"""


# --- entry point --------------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("--clients", default=",".join(map(str, CLIENTS)),
                        help="comma-separated N values (default: %(default)s)")
    parser.add_argument("--saves", type=int, default=SAVES, help="timed saves per N (default: %(default)s)")
    parser.add_argument("--only", choices=("app", "floor"), help="measure one side only (no ratio, no docs)")
    parser.add_argument("--profile", metavar="DIR",
                        help="record the server with py-spy during the timed saves (raw stacks into DIR)")


def run(options) -> str | None:
    """Measure, print the tables and return the Markdown body of the section."""
    from .common import machine

    ns = [int(x) for x in str(options.clients).split(",") if x.strip()]
    saves = options.saves
    targets = [options.only] if options.only else ["app", "floor"]
    profile_dir = Path(options.profile).resolve() if options.profile else None
    if profile_dir:
        profile_dir.mkdir(parents=True, exist_ok=True)
    runs: dict[tuple[str, int], Run] = {}
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp:
        workdir = Path(tmp)
        began = time.perf_counter()
        fixture = prepare_app(workdir)
        print(f"[broadcast] seeded database in {time.perf_counter() - began:.1f} s", flush=True)
        for n in ns:
            for target in targets:
                began = time.perf_counter()
                result = asyncio.run(run_one(target, n, fixture, workdir, saves, profile_dir))
                runs[(target, n)] = result
                print(f"[broadcast] {target:5} N={n:<4} p50 {result.p(50):7.1f} ms  p95 {result.p(95):7.1f} ms"
                      f"  p99 {result.p(99):7.1f} ms  missing {result.missing}"
                      f"  ({time.perf_counter() - began:.1f} s)"
                      + (f"  profile {result.profile}" if result.profile else ""), flush=True)
    if options.only:
        return None
    print()
    print(results_table(runs, ns))
    print()
    print(details_table(runs, ns))
    print()
    text = reading(runs, ns)
    print(text)
    return markdown(runs, ns, saves, machine(), options.command)
