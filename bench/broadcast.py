"""Broadcast latency: HTTP save -> `clause.updated` arriving at every one of N real Socket.IO clients.

For each N, the app (wsgi:app) and the transport floor (bench/floor_app.py) are each served by
their own `gunicorn -w 1 --threads N+50 --no-control-socket` (gthread worker, Flask-SocketIO in
threading mode with simple-websocket), started fresh for that N. N python-socketio AsyncClients
per server, all on one asyncio loop, connect over WebSocket, `join` the room and wait for the
ack; the presence storm of the joins is drained. Then, from the same process and loop (one
perf_counter clock), saves are sent one at a time, alternating app and floor so that whatever
else the machine is doing hits both alike: app `PATCH /api/v1/clauses/{id}` with a bearer token
and {text, base_version}; floor `POST /emit`, which only calls socketio.emit to the room. Each
save waits until all N clients of its server received its event (matched by `version`), then
SPACING passes. A sample is (arrival at one client) - (just before the HTTP request was sent),
for every timed (save, client) pair; WARMUP saves per side are discarded first.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import common
from .common import (
    CONNECT_BATCH,  # noqa: F401 - re-exported: see FINDINGS (connect bursts)
    Clients,
    Gunicorn,
    Pending,
    app_for,
    build_database,
    copy_database,
    percentile,
)
from .common import cpu_seconds as _cpu_seconds
from .common import machine_busy as _machine_busy
from .common import start_py_spy as _start_py_spy
from .common import stop_py_spy as _stop_py_spy

TITLE = "Broadcast latency (live collaboration)"
NAME = "broadcast"
CLIENTS = (10, 100, 250)
SAVES = 60  # timed saves per N and side (the issue asks for at least 30)
WARMUP = 5
SPACING = 0.05  # seconds between the end of one save and the start of the next
HEADROOM = 50  # gunicorn threads beyond one per WebSocket, for HTTP requests
SAVE_TIMEOUT = 15.0
QUIET_CORES = 0.3  # wait (a while) for other processes to use less than this before measuring
QUIET_WAIT = 30.0
TARGET_N = 100
TARGET_P95_MS = 50.0
TARGET_RATIO = 2.0
SIDES = ("app", "floor")


# --- measurement --------------------------------------------------------------------------

@dataclass
class Run:
    """What one side (app or floor) measured at one N."""

    target: str
    n: int
    latencies: list[float] = field(default_factory=list)  # seconds, every (save, client)
    responses: list[float] = field(default_factory=list)  # HTTP round trip per save
    firsts: list[float] = field(default_factory=list)  # first arrival per save
    lasts: list[float] = field(default_factory=list)  # last arrival per save
    per_save: list[tuple[int, float, float, float, float]] = field(default_factory=list)
    # (version, sent, answered, first arrival, last arrival), absolute perf_counter seconds
    missing: int = 0  # (save, client) pairs that never arrived within SAVE_TIMEOUT
    saves: int = 0
    server_cpu: float = 0.0  # server worker CPU seconds during the timed saves (both sides')
    client_cpu: float = 0.0  # this process's CPU seconds spent in this side's saves
    setup: float = 0.0  # seconds to start the server and connect + join the N clients
    others: float = 0.0  # cores used by other processes while the pair was measured
    profile: str | None = None
    probe: str | None = None  # the probe log of the server (--probe)

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


def wait_for_quiet() -> float:
    """Wait up to QUIET_WAIT for other processes to calm down; return the cores they used last."""
    return common.wait_for_quiet("broadcast", QUIET_CORES, QUIET_WAIT)


@dataclass
class AppFixture:
    template: Path | str  # a SQLite file, or a PostgreSQL URL
    tokens: list[str]  # for the N clients: one per member of the document, used round robin
    editor_token: str
    document_id: int
    clause_id: int
    clause_text: str
    clause_version: int


def prepare_app(workdir: Path, database: Path | str | None = None) -> AppFixture:
    """Build the template database (workdir/template.db unless a path or URL is given) and issue
    the tokens the clients and the sender use."""
    from sqlalchemy import select

    from drafting.extensions import db
    from drafting.models import ApiToken, Document, Membership, User

    template = workdir / "template.db" if database is None else database
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
        fixture = AppFixture(template, tokens, editor_token, document.id, clause.id, clause.text,
                             clause.version)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return fixture


class Side:
    """One served target (app or floor) with its N clients and its way of saving."""

    def __init__(self, target: str, n: int, fixture: AppFixture, workdir: Path, probe_dir: Path | None,
                 cprofile: bool = False):
        self.run = Run(target, n)
        self.target, self.n, self.fixture = target, n, fixture
        log = workdir / f"{target}-{n}.log"
        if target == "app":
            database = copy_database(fixture.template, workdir / f"app-{n}.db")
            env = {"DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "bench-broadcast",
                   "DRAFTING_ENV": "testing", "SOCKETIO_MESSAGE_QUEUE": ""}
            wsgi = "wsgi:app"
            if probe_dir is not None:
                self.run.probe = str(probe_dir / f"app-{n}.jsonl")
                Path(self.run.probe).unlink(missing_ok=True)
                env["BENCH_PROBE_LOG"], wsgi = self.run.probe, "bench.probe_app:app"
                if cprofile:
                    env["BENCH_PROBE_CPROFILE"] = str(probe_dir / f"app-{n}.prof")
                for name in ("BENCH_PROBE_PRAGMA", "BENCH_PROBE_GC_FREEZE"):
                    env[name] = os.environ.get(name, "")
            self.server = Gunicorn(wsgi, threads=n + HEADROOM, log=log, env=env)
            self.url = f"{self.server.base}/api/v1/clauses/{fixture.clause_id}"
            self.headers = {"Authorization": f"Bearer {fixture.editor_token}"}
            self.version = fixture.clause_version  # the clause's current version
            self.tokens, self.document_id = fixture.tokens, fixture.document_id
        else:
            self.server = Gunicorn("bench.floor_app:app", threads=n + HEADROOM, log=log)
            self.url, self.headers, self.version = f"{self.server.base}/emit", {}, 0
            self.tokens, self.document_id = ["floor"], 1
        self.clients = Clients(n)
        self.spy = None

    def observed(self, record: Pending, sent: float) -> None:
        """Called with each timed save's arrivals (index -> time) and send time; for subclasses."""

    async def send(self, session, version: int) -> tuple[int, object]:
        if self.target == "app":
            body = {"text": f"{self.fixture.clause_text} (bench save {self.n}/{version})",
                    "base_version": version - 1}
            async with session.patch(self.url, json=body, headers=self.headers) as response:
                answer = await response.json()
                if response.status == 200 and answer["clause"]["version"] != version:
                    raise RuntimeError(f"expected version {version}, got {answer['clause']['version']}")
                return response.status, answer
        body = {"document_id": 1, "seq": version, "actor": 1, "clause_id": 1, "version": version,
                "merged": False}
        async with session.post(self.url, json=body) as response:
            await response.read()
            return (200 if response.status == 204 else response.status), None

    async def save(self, session, timed: bool) -> None:
        """One save: send it, wait for the answer and for all N arrivals; record it if timed."""
        run, clients = self.run, self.clients
        self.version += 1
        version = self.version
        record = clients.pending[version] = Pending(expected=clients.n)
        cpu = time.process_time()
        t0 = time.perf_counter()
        status, answer = await self.send(session, version)
        t_response = time.perf_counter()
        if status != 200:
            raise RuntimeError(f"{self.target}: save of version {version} answered {status}: {answer!r}")
        try:
            await asyncio.wait_for(record.done.wait(), timeout=SAVE_TIMEOUT)
        except TimeoutError:
            pass
        del clients.pending[version]
        if not timed:
            return
        self.observed(record, t0)
        run.client_cpu += time.process_time() - cpu
        arrivals = [t - t0 for t in record.times.values()]
        run.latencies += arrivals
        run.missing += clients.n - len(arrivals)
        run.responses.append(t_response - t0)
        if arrivals:
            run.firsts.append(min(arrivals))
            run.lasts.append(max(arrivals))
            run.per_save.append((version, t0, t_response, min(record.times.values()),
                                 max(record.times.values())))
        run.saves += 1


async def measure_pair(n: int, fixture: AppFixture, workdir: Path, saves: int, targets: list[str],
                       profile_dir: Path | None, probe_dir: Path | None, cprofile: bool = False) -> list[Run]:
    """Serve the targets at N, connect N clients to each, and alternate their saves."""
    import aiohttp

    sides: list[Side] = []
    try:
        for target in targets:
            began = time.perf_counter()
            side = Side(target, n, fixture, workdir, probe_dir, cprofile)
            sides.append(side)
            try:
                await side.clients.connect(side.server.base, side.tokens, side.document_id)
            except Exception as exc:
                raise RuntimeError(f"{target} at N={n}: {len(side.clients.clients)} clients had connected "
                                   f"when one failed ({exc!r}); server log:\n{side.server.log_text()}") from exc
            await side.clients.settle()
            side.run.setup = time.perf_counter() - began
        async with aiohttp.ClientSession() as session:
            for _ in range(WARMUP):
                for side in sides:
                    await side.save(session, timed=False)
                    await asyncio.sleep(SPACING)
            # The clients stand for N separate browsers: keep this process's garbage collector
            # from pausing all of them at once mid-measurement (the servers' GC stays on).
            gc.collect()
            gc.freeze()
            gc.disable()
            try:
                for side in sides:
                    if profile_dir is not None:
                        side.spy = _start_py_spy(side.server.pid, profile_dir / f"{side.target}-{n}")
                cpu = {side.target: _cpu_seconds(side.server.pid) for side in sides}
                busy, own, wall = _machine_busy(), time.process_time(), time.perf_counter()
                for _ in range(saves):
                    for side in sides:
                        await side.save(session, timed=True)
                        await asyncio.sleep(SPACING)
                wall = time.perf_counter() - wall
                own = time.process_time() - own
                servers = {side.target: _cpu_seconds(side.server.pid) - cpu[side.target] for side in sides}
                others = max(0.0, (_machine_busy() - busy) - own - sum(servers.values())) / wall
            finally:
                gc.enable()
                gc.unfreeze()
            for side in sides:
                side.run.server_cpu = servers[side.target]
                side.run.others = others
                if side.spy is not None:
                    side.run.profile = _stop_py_spy(side.spy)
    finally:
        for side in sides:
            await side.clients.close()
        for side in sides:
            side.server.stop()
    return [side.run for side in sides]


# --- optional profile of the servers (py-spy) ----------------------------------------------

# --- probe (--probe): where the time of one save goes ---------------------------------------

def probe_report(run: Run) -> str:
    """Split each timed save of a probed app run into segments, on the shared monotonic clock."""
    records = {}
    for line in Path(run.probe).read_text().splitlines():
        record = json.loads(line)
        versions = [e[3] for e in record["emits"] if e[2] == "clause.updated"]
        if versions:
            records[versions[0]] = record
    segments: dict[str, list[float]] = {}
    counts: dict[str, list[int]] = {}
    gcs = []
    for line in Path(run.probe).read_text().splitlines():
        gcs += json.loads(line)["gc"]

    def add(name, value):
        segments.setdefault(name, []).append(value * 1000)

    for version, sent, answered, first, last in run.per_save:
        record = records.get(version)
        if record is None:
            continue
        emit = next(e for e in record["emits"] if e[2] == "clause.updated")
        before = [q for q in record["sql"] if q[0] < emit[0]]
        after = [q for q in record["sql"] if q[0] >= emit[0]]
        commit = max(c for c in record["commit"] if c < emit[0])
        add("1 client sends -> server starts the request", record["start"] - sent)
        add("2 request start -> COMMIT (the save's work)", commit - record["start"])
        add("   of which SQL statements (time in the driver)", sum(q[1] for q in before))
        add("3 COMMIT -> socketio.emit called", emit[0] - commit)
        add("4 socketio.emit call (queues to N sockets)", emit[1])
        add("5 emit called -> first client has it", first - emit[0])
        add("6 emit called -> last client has it", last - emit[0])
        add("7 emit returned -> response finished (after-commit work)", record["end"] - emit[0] - emit[1])
        add("   of which SQL statements after the emit", sum(q[1] for q in after))
        add("8 client sends -> client has the HTTP answer", answered - sent)
        counts.setdefault("SQL statements before the emit", []).append(len(before))
        counts.setdefault("SQL statements after the emit", []).append(len(after))
        counts.setdefault("pool checkouts (each a pre-ping SELECT 1)", []).append(len(record["checkouts"]))
    lines = [f"Probe of the app at N = {run.n} ({len(run.per_save)} saves; bench/probe_app.py):", "",
             "| segment | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|"]
    for name in sorted(segments):
        values = segments[name]
        lines.append(f"| {name} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} | "
                     f"{max(values):.1f} |")
    lines += ["", "| count per save | p50 | max |", "|---|---:|---:|"]
    for name, values in counts.items():
        lines.append(f"| {name} | {percentile(values, 50):.0f} | {max(values)} |")
    statements: dict[str, list[float]] = {}
    for record in records.values():
        for q in record["sql"]:
            statements.setdefault(q[2], []).append(q[1] * 1000)
    lines += ["", "| SQL (first words) | per save | p50 ms | max ms |", "|---|---:|---:|---:|"]
    for text, values in sorted(statements.items(), key=lambda kv: -sum(kv[1])):
        lines.append(f"| `{text}` | {len(values) / max(len(records), 1):.1f} | {percentile(values, 50):.2f} | "
                     f"{max(values):.2f} |")
    if run.per_save:
        start, end = run.per_save[0][1], run.per_save[-1][4]
        during = [g for g in gcs if start <= g[0] <= end]
        by_gen = {}
        for g in during:
            by_gen.setdefault(g[2], []).append(g[1] * 1000)
        lines += ["", "Server garbage collections during the timed saves: " + (", ".join(
            f"gen {gen}: {len(v)} (max {max(v):.1f} ms, total {sum(v):.1f} ms)"
            for gen, v in sorted(by_gen.items())) or "none") + "."]
    return "\n".join(lines)


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
            "| last arrival p95 | server CPU / save | client CPU / save | setup | other load |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in ns:
        for target in SIDES:
            run = runs.get((target, n))
            if run is None:
                continue
            rows.append("| " + " | ".join([
                str(n), target, str(len(run.latencies)), str(run.missing),
                _ms(percentile(run.responses, 50) * 1000), _ms(percentile(run.firsts, 50) * 1000),
                _ms(percentile(run.lasts, 50) * 1000), _ms(percentile(run.lasts, 95) * 1000),
                f"{run.server_cpu / run.saves * 1000:.1f} ms", f"{run.client_cpu / run.saves * 1000:.1f} ms",
                f"{run.setup:.1f} s", f"{run.others:.2f} cores",
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
            f"At N = {TARGET_N} the app's p95 is {p95:.1f} ms against the target of under "
            f"{TARGET_P95_MS:.0f} ms (**{'met' if met_latency else 'missed'}**), and it is "
            f"{ratios[50]:.2f}x / {ratios[95]:.2f}x / {ratios[99]:.2f}x the bare transport's floor at "
            f"p50 / p95 / p99 against the target of within {TARGET_RATIO:.0f}x "
            f"(**{'met' if met_ratio else 'missed'}**"
            + (", with almost no margin" if met_ratio and max(ratios.values()) > 0.9 * TARGET_RATIO else "")
            + ").")
    others = [f"N = {n}: p95 {runs[('app', n)].p(95):.1f} ms vs floor {runs[('floor', n)].p(95):.1f} ms "
              f"({runs[('app', n)].p(95) / runs[('floor', n)].p(95):.2f}x)" for n in ns if n != TARGET_N]
    if others:
        parts.append("Elsewhere: " + "; ".join(others) + ".")
    firsts = " / ".join(f"{percentile(runs[('app', n)].firsts, 50) * 1000:.1f} vs "
                        f"{percentile(runs[('floor', n)].firsts, 50) * 1000:.1f}" for n in ns)
    spreads = " / ".join(
        f"{(percentile(runs[('app', n)].lasts, 50) - percentile(runs[('app', n)].firsts, 50)) * 1000:.1f} vs "
        f"{(percentile(runs[('floor', n)].lasts, 50) - percentile(runs[('floor', n)].firsts, 50)) * 1000:.1f}"
        for n in ns)
    parts.append(
        f"Median first arrival, app vs floor (N = {' / '.join(map(str, ns))}): {firsts} ms; the "
        "difference is the save's own work before the after-commit emit (token lookup, permission "
        "check, compare-and-swap update, revision, seq, change event, audit chain, SQLite commit). "
        f"Median spread from first to last client, app vs floor: {spreads} ms: the fan-out itself (one "
        "writer thread per WebSocket in one Python process, plus the one client loop reading N "
        "frames) is shared, but the app's request thread keeps working after the emit (reloading the "
        "clause and the document's clauses for its JSON answer) while the writer threads need the GIL.")
    busy = max(r.others for r in runs.values())
    if busy > QUIET_CORES:
        parts.append(f"Other processes used up to {busy:.2f} of the {os.cpu_count()} cores during this run, so the "
                     "tails (p95/p99) are noisier than on an idle machine; app and floor were alternated "
                     "save by save so both saw the same noise.")
    missing = sum(r.missing for r in runs.values())
    if missing:
        parts.append(f"{missing} (save, client) arrivals never came within {SAVE_TIMEOUT:.0f} s.")
    return " ".join(parts)


def method_markdown(saves: int) -> str:
    return (
        f"For each N, the app and the floor are each served by a fresh `gunicorn -w 1 --threads "
        f"N+{HEADROOM} --no-control-socket` (gthread worker, Flask-SocketIO `async_mode=\"threading\"` "
        "with simple-websocket; in this mode every WebSocket holds a server thread). The app gets a "
        "fresh SQLite database (WAL) migrated and seeded with the demo world as tests/conftest.py does, "
        "`DRAFTING_ENV=testing`, no message queue. The floor is `bench/floor_app.py`: one HTTP endpoint "
        "whose handler only calls `socketio.emit` to a room, no database, no presence, no auth. "
        "N real python-socketio `AsyncClient`s per server, all on one asyncio loop, connect with "
        "`transports=[\"websocket\"]` and `auth={\"token\": ...}` (one API token per member of the "
        "demo declaration, shared round robin), emit `join` and wait for the `{\"ok\": true}` ack; the "
        "`presence` storm of the joins is drained before measuring. From the same process and loop "
        "(one `time.perf_counter()` clock), saves go one at a time, alternating app and floor so that "
        "background noise hits both alike: app, `PATCH /api/v1/clauses/{id}` with an editor's bearer "
        "token and `{text, base_version}`; floor, `POST /emit` with a payload of the same shape. Each "
        "save waits for its HTTP answer and until all N clients of its server received its "
        f"`clause.updated` (matched by `version`); then {SPACING * 1000:.0f} ms pass. {WARMUP} warm-up "
        f"saves per side are discarded, then {saves} saves per side are timed; a sample is the arrival "
        "at one client minus the moment before the HTTP request was sent, over all saves x N (save, "
        "client) pairs; percentiles are linear interpolations. The client process's garbage collector "
        "is paused during the timed saves (the N clients stand for N separate browsers); the servers' "
        "is not. Caveat: all clients share one asyncio loop on the same 2-core machine as the server, "
        "so the spread of arrivals includes that loop reading N frames one after another (client CPU / "
        "save); the floor pays exactly the same, which is what the ratio is for. Before measuring, the "
        f"run waits up to {QUIET_WAIT:.0f} s for other processes to use under {QUIET_CORES} cores; "
        "'other load' is what they used during the timed saves.")


def markdown(runs, ns, saves, facts, command: str, quiet: float) -> str:
    from .common import machine_markdown

    return "\n".join([
        machine_markdown(facts),
        f"- Command: `{command}`",
        f"- Other processes' load just before measuring: {quiet:.2f} cores",
        "",
        "### Method",
        "",
        method_markdown(saves),
        "",
        "### Results (milliseconds, HTTP request sent -> `clause.updated` arrived at a client)",
        "",
        results_table(runs, ns),
        "",
        "Details (medians per save unless named; CPU is user + system time during the timed saves):",
        "",
        details_table(runs, ns),
        "",
        "### Reading",
        "",
        reading(runs, ns),
        "",
        FINDINGS.strip(),
        "",
        RERUN.strip(),
    ]).rstrip() + "\n"


# Written from profiling runs (`python -m bench broadcast --probe DIR` / `--profile DIR`); kept
# with the code so that a rewrite of the section keeps it. Update it when the profile changes.
FINDINGS = """
### Where the time goes (probe and profile, 23 Nov 2026; what changed since is at the end)

Measured with `.venv/bin/python -m bench broadcast --no-docs --clients 10,100,250 --probe DIR`
(the app served as `bench/probe_app.py`: timestamps on the same monotonic clock as the clients)
and `--cprofile`; medians at N = 100 unless named, 60 saves, on this machine with other test
runs going on beside it.

| segment of one app save (N = 100) | p50 ms | p95 ms |
|---|---:|---:|
| client sends -> server starts the request | 1.3 | 4.7 |
| request start -> COMMIT: the save's work (14 SQL statements, 0.4 ms of it in SQLite) | 8.1 | 21.9 |
| COMMIT (WAL, `synchronous=FULL`: one fsync per save) -> `socketio.emit` called | 0.9 | 3.9 |
| `socketio.emit` call (queues the frame on 100 sockets) | 1.7 | 3.1 |
| emit -> first / last client has it | 3.3 / 13.2 | 12.8 / 21.5 |
| emit returned -> HTTP response finished (work after the emit) | 9.9 | 13.8 |

1. **The save's own work before the emit, about 8 ms of pure Python, is most of the gap to the
   floor.** Only 0.4 ms of it is SQLite; the rest is SQLAlchemy ORM and Flask overhead for 14
   statements. cProfile of `PATCH /clauses/{id}` (shares of the request): `save_clause` 31%
   (two `session.refresh(clause)` 9%, `audit.record` 7%, `live.announce` 6%), the after-commit
   `number_of` 21%, `get_clause_or_404` 17% (lazy loads of the document and the membership),
   `session.commit` 11%, `user_for_token` 11% (a SELECT and an `UPDATE api_token SET
   last_used_at` on every API call). The first client hears of an app save about 10 ms (6-12 ms
   across runs) after it would hear of a bare emit, at every N.
2. **Work after the emit competes with the fan-out for the GIL.** `patch_clause` commits (the
   emit runs in the after-commit hook), then builds its answer: `clause.to_json(number_of(clause))`
   reloads the expired clause, its document and all the document's clauses (3 SQL statements and
   a pool checkout with a pre-ping). That takes 3.3 ms at N = 10 but 9.9 ms at N = 100 and 16.5 ms
   at N = 250, because the N writer threads are runnable at the same time; the spread from first
   to last client grows accordingly (app 8.6 ms vs floor 5.8 ms at N = 100).
3. **Commit tail:** with SQLite WAL and the default `synchronous=FULL`, every save fsyncs the WAL
   before the emit; on this shared disk that step had p95 4-30 ms across runs (max 69 ms). The
   experiment `BENCH_PROBE_PRAGMA=synchronous=NORMAL` (probe only, nothing in the app changed)
   brought COMMIT -> emit to p50 0.1 ms, p95 0.2 ms (N = 10).
4. **Presence is not in the save path** (no presence event is sent on a save), but every `join`
   recomputes and broadcasts presence to the whole room with one `db.session.get(User)` per
   distinct user: connecting N clients costs O(N^2) frames, which is why the app's setup takes
   ~7-10 s at N = 250 against ~1.5 s for the floor.
5. **A deadlock on connect bursts (found while building this benchmark).** With 25 clients
   connecting and joining at once, the app intermittently stalled for 30 s and refused the
   connections: `on_connect` takes `events._lock` and then reads `user.id`, which the preceding
   `db.session.commit()` has expired, so it needs a pool connection while holding the lock;
   meanwhile up to 15 `on_join` handlers hold the pool's 15 connections (QueuePool 5 + overflow
   10) and wait for `_lock`. It ends when the pool times out after 30 s
   (`sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached` in
   `on_connect`); a py-spy dump showed 14 `on_join` threads waiting at `with _lock`, 3 waiting for
   the pool, and `on_connect` in `QueuePool._do_get` under the lock. A reconnect storm after a
   server restart would hit it. The benchmark therefore connects 10 clients at a time.
6. **Full garbage collections in the worker take 55-90 ms.** The probe saw one generation-2
   collection of 63-88 ms per run (at N = 10 it landed inside the 44th save both times: a 79 ms
   request, the app's p99 outlier at N = 10). With `gc.freeze()` after start-up (experiment
   `BENCH_PROBE_GC_FREEZE=1`) a later full collection took 10.5 ms, though the first one after
   start still took ~55 ms.
7. **Noise:** these numbers need a quiet machine. In runs where other processes (test suites)
   used 1-1.3 of the 2 cores, the app's p95 at N = 100 was 68-97 ms and the floor's 25-63 ms;
   medians moved much less (app 22-26 ms, floor 10-11 ms). `other load` in the table says how
   quiet a run was.

**Changed since** (later on 23 Nov 2026; see "Clause saves per second" for the profile): the save
before the emit is now 9 statements plus COMMIT, built once, without the unit of work (in-process
CPU per save 7.5 -> 2.7 ms); the answer's clause number is its position, so nothing is reloaded
after the emit (item 2); the token's last use is written at most once a minute (item 1); the
connect-burst deadlock (item 5) went with the presence registry (`drafting/presence.py`), which
takes no database connection under its lock; `gc.freeze()` runs after start-up (item 6).
"""


# --- entry point --------------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("--clients", default=",".join(map(str, CLIENTS)),
                        help="comma-separated N values (default: %(default)s)")
    parser.add_argument("--saves", type=int, default=SAVES,
                        help="timed saves per N and side (default: %(default)s)")
    parser.add_argument("--only", choices=SIDES, help="measure one side only (no ratio, no docs)")
    parser.add_argument("--raw", metavar="FILE", help="also write every sample (seconds) as JSON to FILE")
    parser.add_argument("--probe", metavar="DIR",
                        help="serve the app with timing probes (bench/probe_app.py), logs "
                             "into DIR; prints where each save's time goes (no docs)")
    parser.add_argument("--cprofile", action="store_true",
                        help="with --probe: also cProfile the app's PATCH requests into DIR/app-N.prof")
    parser.add_argument("--profile", metavar="DIR",
                        help="record the servers with py-spy during the timed saves (raw stacks into DIR)")


def run(options) -> str | None:
    """Measure, print the tables and return the Markdown body of the section (None: not for docs)."""
    from .common import machine

    ns = [int(x) for x in str(options.clients).split(",") if x.strip()]
    saves = options.saves
    targets = [options.only] if options.only else list(SIDES)
    profile_dir = Path(options.profile).resolve() if options.profile else None
    probe_dir = Path(options.probe).resolve() if options.probe else None
    for folder in (profile_dir, probe_dir):
        if folder:
            folder.mkdir(parents=True, exist_ok=True)
    runs: dict[tuple[str, int], Run] = {}
    with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp:
        workdir = Path(tmp)
        began = time.perf_counter()
        fixture = prepare_app(workdir)
        print(f"[broadcast] seeded database in {time.perf_counter() - began:.1f} s", flush=True)
        quiet = wait_for_quiet()
        print(f"[broadcast] other processes use {quiet:.2f} cores; measuring", flush=True)
        for n in ns:
            began = time.perf_counter()
            pair = measure_pair(n, fixture, workdir, saves, targets, profile_dir, probe_dir, options.cprofile)
            for result in asyncio.run(pair):
                runs[(result.target, n)] = result
                print(f"[broadcast] {result.target:5} N={n:<4} p50 {result.p(50):7.1f} ms  p95 {result.p(95):7.1f} ms"
                      f"  p99 {result.p(99):7.1f} ms  missing {result.missing}  other load {result.others:.2f}"
                      + (f"  profile {result.profile}" if result.profile else ""), flush=True)
                if result.probe:
                    print(probe_report(result), flush=True)
            print(f"[broadcast] N={n} done in {time.perf_counter() - began:.1f} s", flush=True)
    if options.raw:
        Path(options.raw).write_text(json.dumps({f"{t}-{n}": {
            "latencies": r.latencies, "responses": r.responses, "firsts": r.firsts, "lasts": r.lasts,
            "per_save": r.per_save} for (t, n), r in runs.items()}))
    print()
    if options.only:
        print(details_table(runs, ns))
        return None
    print(results_table(runs, ns))
    print()
    print(details_table(runs, ns))
    print()
    print(reading(runs, ns))
    if probe_dir is not None:
        return None
    return markdown(runs, ns, saves, machine(), options.command, quiet)


# Written by hand after a rerun (1 Dec 2026); kept with the code so that a rewrite of the section keeps it.
RERUN = """
### Rerun (1 Dec 2026, session 7; by hand)

Rerun for issue 19, item 2 ("the broadcast benchmark's ratio to the bare floor stays within 2x"),
after the save path of sessions 5 and 6 (role read with the clause, label counted by the database)
and with the floor fixed: `gunicorn.conf.py` called the app's `served()` hook for any Flask app
served from the project directory, and the floor app has none of its settings (KeyError at boot,
so `python -m bench broadcast` had failed since that hook came in). At N = 100 the ratio is
1.50x / 1.37x / 1.36x (p50 / p95 / p99), within 2x; the app's p95 fell from 19.8 to 16.9 ms and its
server CPU per save from 15.0 to 14.0 ms. At N = 10 the ratio stays just above 2x (2.27x / 2.08x /
1.94x): the floor does no work at all, and the save's own 3.8 ms (token, permission, write,
revision, change event, audit, commit) is the whole difference. This benchmark measures the
threaded app alone; the asyncio live server's fan-out is measured in "Authors editing at once".
"""
