"""Clause saves per second: K concurrent writers looping PATCH /api/v1/clauses/{id}, nothing lost.

Each writer is an asyncio task of this process (one aiohttp session, one loop) with its own API
token. It keeps the text and version of its clause from its last answer, changes only its own
marker `writerWsaveN` (N counts its attempts, so every request carries a unique marker) and
PATCHes `{text, base_version}`. On 200 it takes the answer's text and version; on 409 it re-reads
the clause (GET /api/v1/documents/{id}: the API has no GET of one clause) and goes on with a new
N. Two cases:

  one   all K writers on ONE clause of K+1 paragraphs, writer W owning paragraph W+1: saves
        based on an old version are merged by the server, except that writers 2i and 2i+1 have
        their markers on either side of one paragraph break, so their concurrent edits are
        refused with 409 (see paragraph_text);
  many  K writers on K DIFFERENT clauses of the same document, one each.

After the run the database is read directly and checked exactly (see `verify`): the final text
of each writer's paragraph must carry the writer's LAST acknowledged N (an acknowledged N above
it is a lost update); every revision must change exactly one writer's marker, forward, and be
the acknowledged save that answered with that version; revision versions and the document's
change `seq` are consecutive with no duplicates; the audit hash chain is unbroken.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .common import (
    REDIS,
    Gunicorn,
    LoadMeter,
    Postgres,
    app_for,
    build_database,
    copy_database,
    database_url,
    forget_redis_keys,
    machine,
    machine_markdown,
    percentile,
    services_problem,
    start_py_spy,
    stop_py_spy,
    wait_for_quiet,
)

TITLE = "Clause saves per second"
NAME = "saves"
WRITERS = (1, 4, 16)
DURATION = 4.0  # seconds of the timed window
WARMUP = 1.0  # seconds the writers run before the window opens
FLOOR_DURATION = 3.0  # seconds of each reference window (bench/floor_app.py)
THREADS = 100  # gunicorn --threads, the production recipe of docs (TOOLCHAIN.md)
TARGET_SAVES = 200.0  # acknowledged saves per second on SQLite from one process
REQUEST_TIMEOUT = 30.0
MARKER = re.compile(r"\bwriter(\d+)save(\d+)\b")  # one word, so that the merge sees it as one token
PROFILE_IDLE = [True]  # py-spy --idle: sample request threads also while they wait (locks, GIL, fsync)


@dataclass(frozen=True)
class Backend:
    key: str
    label: str
    database: str  # "sqlite" or "postgres"
    processes: int
    cases: tuple[str, ...]

    @property
    def queue(self) -> bool:
        return self.processes > 1


BACKENDS = {b.key: b for b in (
    Backend("sqlite", "SQLite (embedded default)", "sqlite", 1, ("one", "many")),
    Backend("postgres", "PostgreSQL", "postgres", 1, ("one", "many")),
    Backend("postgres2", "PostgreSQL + Redis, 2 processes", "postgres", 2, ("many",)),
)}
CASES = {"one": "one clause, own paragraph each", "many": "a different clause each"}


# --- the fixture: a template database with tokens ---------------------------------------------

@dataclass
class Fixture:
    template: Path | str  # SQLite file or PostgreSQL URL
    tokens: list[str]  # one per writer (round robin over the document's editors)
    document_id: int
    clause_ids: list[int]  # live clauses of the document, in order
    versions: dict[int, int]  # their versions in the template


def prepare(template: Path | str, writers: int) -> Fixture:
    from sqlalchemy import select

    from drafting.extensions import db
    from drafting.models import ApiToken, Document

    build_database(template)
    app = app_for(template)
    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.kind == "declaration"))
        editors = [m.user for m in document.memberships if m.role == "editor"]
        tokens = [ApiToken.issue(editors[i % len(editors)])[1] for i in range(writers)]
        clauses = list(document.clauses)
        if len(clauses) < writers:
            raise RuntimeError(f"the declaration has {len(clauses)} clauses; {writers} writers need as many")
        fixture = Fixture(template, tokens, document.id, [c.id for c in clauses], {c.id: c.version for c in clauses})
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return fixture


# --- one run: K writers, one backend, one case -----------------------------------------------

@dataclass
class Ack:
    n: int
    version: int
    answered: float  # perf_counter
    latency: float  # seconds
    merged: bool


@dataclass
class Writer:
    index: int
    token: str
    base: str  # the server this writer talks to
    clause_id: int
    text: str = ""
    version: int = 0
    n: int = 0
    acked: list[Ack] = field(default_factory=list)
    conflicts: int = 0
    rereads: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (n, what): outcome unknown

    def marked(self, n: int) -> str:
        mine = re.compile(rf"\bwriter{self.index}save\d+\b")
        text, count = mine.subn(f"writer{self.index}save{n}", self.text)
        if count != 1:
            raise RuntimeError(f"writer {self.index}: {count} markers of mine in {self.text[:300]!r}")
        return text


@dataclass
class SaveRun:
    backend: Backend
    case: str
    k: int
    window: float = 0.0
    acked: int = 0  # acknowledged saves answered inside the window
    requests: int = 0  # PATCHes answered inside the window
    merged: int = 0
    conflicts: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)  # of the acknowledged saves in the window
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    server_system: float = 0.0  # of server_cpu, the time in the kernel
    service_cpu: float = 0.0  # PostgreSQL backends of the run's database (+ redis-server)
    others: float = 0.0
    checks: dict = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    profile: str | None = None
    elapsed: float = 0.0  # seconds the whole run took (servers, set-up, window, checks)
    experiment: str = ""  # bench/saves_app.py experiments applied ("" for wsgi:app as it is)

    @property
    def rate(self) -> float:
        return self.acked / self.window if self.window else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000 if self.latencies else float("nan")


def paragraph_text(k: int) -> str:
    """K+1 paragraphs: an intro, then writer W's in paragraph W+1. Even writers end their paragraph
    with their marker and odd writers start theirs with it, so the markers of writers 2i and 2i+1
    have only the paragraph break between them: the strict merge refuses (409) concurrent edits of
    such a pair, and merges everything else (unchanged words lie between)."""
    paragraphs = [f"Benchmark clause shared by {k} writers; each changes only its own paragraph."]
    for w in range(k):
        if w % 2 == 0:
            paragraphs.append(f"Paragraph {w + 1} belongs to writer {w}, whose latest acknowledged edit is writer{w}save0")
        else:
            paragraphs.append(f"writer{w}save0 is the latest acknowledged edit of writer {w}, who owns paragraph {w + 1}.")
    return "\n\n".join(paragraphs)


def single_text(w: int) -> str:
    return f"Clause edited by one writer only: writer{w}save0 is its latest acknowledged edit."


async def _ready(session, base: str, timeout: float = 30.0) -> None:
    """Wait until the gunicorn worker has imported the app and answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            async with session.get(f"{base}/api/v1/openapi.json") as response:
                await response.read()
                if response.status == 200:
                    return
        except Exception:  # noqa: BLE001 - not up yet
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{base} did not answer within {timeout:.0f} s")
        await asyncio.sleep(0.1)


async def _patch(session, writer: Writer, text: str):
    headers = {"Authorization": f"Bearer {writer.token}"}
    body = {"text": text, "base_version": writer.version}
    async with session.patch(f"{writer.base}/api/v1/clauses/{writer.clause_id}", json=body,
                             headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def _reread(session, writer: Writer, document_id: int) -> None:
    """Take the clause's current text and version from GET /api/v1/documents/{id}."""
    headers = {"Authorization": f"Bearer {writer.token}"}
    async with session.get(f"{writer.base}/api/v1/documents/{document_id}", headers=headers) as response:
        data = await response.json(content_type=None)
    clause = next(c for c in data["clauses"] if c["id"] == writer.clause_id)
    writer.text, writer.version = clause["text"], clause["version"]
    writer.rereads += 1


async def _write(session, writer: Writer, document_id: int, stop_at: float) -> None:
    while time.perf_counter() < stop_at:
        writer.n += 1
        n = writer.n
        began = time.perf_counter()
        try:
            status, answer = await _patch(session, writer, writer.marked(n))
        except Exception as exc:  # noqa: BLE001 - recorded; the outcome of this N is unknown
            writer.errors.append((n, repr(exc)))
            await asyncio.sleep(0.05)
            await _reread(session, writer, document_id)
            continue
        answered = time.perf_counter()
        if status == 200:
            clause = answer["clause"]
            writer.text, writer.version = clause["text"], clause["version"]
            writer.acked.append(Ack(n, clause["version"], answered, answered - began, bool(answer.get("merged"))))
        elif status == 409:
            writer.conflicts += 1
            writer.acked.append(Ack(n, -1, answered, answered - began, False))  # a refusal: version -1
            await _reread(session, writer, document_id)
        else:
            writer.errors.append((n, f"HTTP {status}: {str(answer)[:300]}"))
            await _reread(session, writer, document_id)


def _server_env(backend: Backend, url: str, channel: str) -> dict[str, str]:
    return {"DATABASE_URL": url, "SECRET_KEY": "bench-saves", "DRAFTING_ENV": "testing",
            "SOCKETIO_MESSAGE_QUEUE": REDIS if backend.queue else "", "SOCKETIO_CHANNEL": channel}


async def _drive(fixture: Fixture, backend: Backend, case: str, k: int, servers: list[Gunicorn],
                 duration: float, profile_dir: Path | None,
                 database: str | None) -> tuple[SaveRun, list[Writer], dict[int, int]]:
    """Set the clauses up, run the writers, and measure the window; return the writers for checking."""
    import aiohttp

    run = SaveRun(backend, case, k)
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        for server in servers:
            await _ready(session, server.base)
        writers = []
        for w in range(k):
            clause_id = fixture.clause_ids[0] if case == "one" else fixture.clause_ids[w]
            writers.append(Writer(w, fixture.tokens[w], servers[w % len(servers)].base, clause_id,
                                  version=fixture.versions[clause_id]))
        # Set up: one save per clause gives every writer's marker N = 0; this is the start version.
        starts: dict[int, int] = {}
        setups = [writers[0]] if case == "one" else writers
        for writer in setups:
            status, answer = await _patch(session, writer, paragraph_text(k) if case == "one" else single_text(writer.index))
            if status != 200:
                raise RuntimeError(f"setup save answered {status}: {answer}")
            starts[writer.clause_id] = answer["clause"]["version"]
            for other in writers:
                if other.clause_id == writer.clause_id:
                    other.text, other.version = answer["clause"]["text"], answer["clause"]["version"]
        began = time.perf_counter()
        opens, stop_at = began + WARMUP, began + WARMUP + duration
        tasks = [asyncio.create_task(_write(session, w, fixture.document_id, stop_at)) for w in writers]
        await asyncio.sleep(max(0.0, opens - time.perf_counter()))
        spies = [start_py_spy(s.pid, profile_dir / f"{backend.key}-{case}-{k}-{i}", idle=PROFILE_IDLE[0])
                 for i, s in enumerate(servers)] if profile_dir is not None else []
        meter = LoadMeter([s.pid for s in servers], databases=(database,) if database else (), redis=backend.queue)
        opens = time.perf_counter()
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        load = meter.stop()
        closes = time.perf_counter()
        for spy in spies:
            run.profile = stop_py_spy(spy)
        await asyncio.gather(*tasks)
    run.window = closes - opens
    for writer in writers:
        inside = [a for a in writer.acked if opens <= a.answered <= closes]
        run.requests += len(inside)
        saved = [a for a in inside if a.version > 0]
        run.acked += len(saved)
        run.merged += sum(a.merged for a in saved)
        run.conflicts += len(inside) - len(saved)
        run.latencies += [a.latency for a in saved]
        run.errors += len(writer.errors)
        run.error_samples += [what for _, what in writer.errors[:3]]
        writer.acked = [a for a in writer.acked if a.version > 0]  # the checks look at saves only
    run.server_cpu, run.client_cpu, run.others = load["servers"], load["own"], load["others"]
    run.service_cpu, run.server_system = load["services"], load["servers_system"]
    return run, writers, starts


@dataclass
class FloorRun:
    k: int
    window: float = 0.0
    answered: int = 0
    latencies: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    others: float = 0.0

    @property
    def rate(self) -> float:
        return self.answered / self.window if self.window else 0.0


async def _drive_floor(server: Gunicorn, k: int, duration: float) -> FloorRun:
    """K loops of POST /emit on bench/floor_app.py: what gunicorn, Flask and this client cost alone."""
    import aiohttp

    run = FloorRun(k)
    answers: list[tuple[float, float]] = []

    async def loop(stop_at: float) -> None:
        version = 0
        while time.perf_counter() < stop_at:
            version += 1
            began = time.perf_counter()
            body = {"document_id": 1, "seq": version, "actor": 1, "clause_id": 1, "version": version, "merged": False}
            async with session.post(f"{server.base}/emit", json=body) as response:
                await response.read()
            answers.append((time.perf_counter(), time.perf_counter() - began))

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        for _ in range(300):
            try:
                async with session.post(f"{server.base}/emit", json={}) as response:
                    await response.read()
                break
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
        began = time.perf_counter()
        stop_at = began + WARMUP + duration
        tasks = [asyncio.create_task(loop(stop_at)) for _ in range(k)]
        await asyncio.sleep(WARMUP)
        meter = LoadMeter([server.pid])
        opens = time.perf_counter()
        await asyncio.sleep(max(0.0, stop_at - time.perf_counter()))
        load = meter.stop()
        closes = time.perf_counter()
        await asyncio.gather(*tasks)
    inside = [latency for answered, latency in answers if opens <= answered <= closes]
    run.window, run.answered, run.latencies = closes - opens, len(inside), inside
    run.server_cpu, run.client_cpu, run.others = load["servers"], load["own"], load["others"]
    return run


def measure_floor(k: int, duration: float, threads: int, workdir: Path) -> FloorRun:
    server = Gunicorn("bench.floor_app:app", threads=threads, log=workdir / f"floor-{k}.log")
    try:
        return asyncio.run(_drive_floor(server, k, duration))
    finally:
        server.stop()


def floor_table(floors: list[FloorRun]) -> str:
    rows = ["| K | requests/s | p50 ms | p95 ms | server CPU / request | client CPU / request | other load |",
            "|---:|---:|---:|---:|---:|---:|---:|"]
    for f in floors:
        rows.append(f"| {f.k} | {f.rate:.0f} | {percentile(f.latencies, 50) * 1000:.1f} | "
                    f"{percentile(f.latencies, 95) * 1000:.1f} | {f.server_cpu / max(f.answered, 1) * 1000:.2f} ms | "
                    f"{f.client_cpu / max(f.answered, 1) * 1000:.2f} ms | {f.others:.2f} cores |")
    return "\n".join(rows)


def verify(url: str, writers: list[Writer], starts: dict[int, int], document_id: int, seq0: int) -> dict:
    """Check the stored history against every acknowledged save, exactly (see the module doc)."""
    from sqlalchemy import create_engine, text

    checks = {"lost": 0, "phantom": 0, "violations": 0, "unacked_revisions": 0, "versions_ok": True,
              "seq_ok": True, "audit_ok": True, "revisions": 0, "acks": 0, "notes": []}
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            for clause_id, start in starts.items():
                mine = [w for w in writers if w.clause_id == clause_id]
                rows = connection.execute(text(
                    "SELECT version, text FROM clause_revision WHERE clause_id = :c AND version >= :v "
                    "ORDER BY version"), {"c": clause_id, "v": start}).all()
                final_version, final_text = connection.execute(text(
                    "SELECT version, text FROM clause WHERE id = :c"), {"c": clause_id}).one()
                versions = [r[0] for r in rows]
                if versions != list(range(start, start + len(rows))) or final_version != versions[-1]:
                    checks["versions_ok"] = False
                    checks["notes"].append(f"clause {clause_id}: versions {versions[:5]}...{versions[-5:]}, "
                                           f"clause at {final_version}")
                by_version: dict[int, tuple[int, int]] = {}
                for writer in mine:
                    for ack in writer.acked:
                        if ack.version in by_version:
                            checks["versions_ok"] = False
                            checks["notes"].append(f"clause {clause_id}: version {ack.version} acknowledged twice")
                        by_version[ack.version] = (writer.index, ack.n)
                checks["acks"] += len(by_version)
                checks["revisions"] += len(rows) - 1
                unknown = {(w.index, n) for w in mine for n, _ in w.errors}
                previous = _markers(rows[0][1])
                if any(previous.get(w.index) != 0 for w in mine):
                    checks["violations"] += 1
                    checks["notes"].append(f"clause {clause_id}: start version lacks a marker: {previous}")
                for version, body in rows[1:]:
                    current = _markers(body)
                    changed = {w for w in set(previous) | set(current) if previous.get(w) != current.get(w)}
                    ack = by_version.get(version)
                    if ack is None:
                        checks["unacked_revisions"] += 1
                        if not (len(changed) == 1 and (next(iter(changed)), current[next(iter(changed))]) in unknown):
                            checks["violations"] += 1
                            checks["notes"].append(f"clause {clause_id} v{version}: no acknowledged save wrote it "
                                                   f"(changed {sorted(changed)})")
                    elif changed != {ack[0]} or current.get(ack[0]) != ack[1] or ack[1] <= previous.get(ack[0], -1):
                        checks["violations"] += 1
                        checks["notes"].append(f"clause {clause_id} v{version}: acknowledged (writer, N) {ack} but "
                                               f"the revision changed writers {sorted(changed)}: "
                                               f"{ {w: (previous.get(w), current.get(w)) for w in changed} }")
                    previous = current
                missing = [v for v in by_version if v not in versions]
                if missing:
                    checks["violations"] += len(missing)
                    checks["notes"].append(f"clause {clause_id}: acknowledged versions with no revision: {missing[:10]}")
                final = _markers(final_text)
                for writer in mine:
                    last = final.get(writer.index, -1)
                    lost = [a.n for a in writer.acked if a.n > last]
                    checks["lost"] += len(lost)
                    if lost:
                        checks["notes"].append(f"writer {writer.index}: final N {last}, acknowledged later: {lost[:10]}")
                    if last > 0 and last not in {a.n for a in writer.acked} \
                            and (writer.index, last) not in unknown:
                        checks["phantom"] += 1
                        checks["notes"].append(f"writer {writer.index}: final N {last} was never acknowledged")
            seqs = [r[0] for r in connection.execute(text(
                "SELECT seq FROM change_event WHERE document_id = :d AND seq > :s ORDER BY seq"),
                {"d": document_id, "s": seq0})]
            expected = len(starts) + checks["acks"] + checks["unacked_revisions"]
            if seqs != list(range(seq0 + 1, seq0 + 1 + len(seqs))) or len(seqs) != expected:
                checks["seq_ok"] = False
                checks["notes"].append(f"change seqs: {len(seqs)} (expected {expected}), consecutive "
                                       f"{seqs == list(range(seq0 + 1, seq0 + 1 + len(seqs)))}")
            chain = connection.execute(text(
                "SELECT prev_hash, hash FROM audit_event WHERE document_id = :d ORDER BY id"),
                {"d": document_id}).all()
            broken = sum(1 for before, after in zip(chain, chain[1:], strict=False) if after[0] != before[1])
            if broken:
                checks["audit_ok"] = False
                checks["notes"].append(f"audit chain: {broken} events not linked to the one before")
    finally:
        engine.dispose()
    return checks


def _markers(body: str) -> dict[int, int]:
    found: dict[int, int] = {}
    for w, n in MARKER.findall(body):
        if int(w) in found:
            found[int(w)] = -99  # two markers of one writer: never a valid state
        else:
            found[int(w)] = int(n)
    return found


def _seq_of(url: str, document_id: int) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT seq FROM document WHERE id = :d"), {"d": document_id}).scalar_one()
    finally:
        engine.dispose()


def measure(fixture: Fixture, backend: Backend, case: str, k: int, duration: float, workdir: Path,
            postgres: Postgres | None, tag: str, threads: int, target: str,
            profile_dir: Path | None, extra_env: dict[str, str]) -> SaveRun:
    """One run on a fresh copy of the template database, fresh servers; checked, then cleaned up."""
    name = f"bench_saves_{tag}_{backend.key}_{case}_{k}"
    if backend.database == "sqlite":
        url = database_url(copy_database(fixture.template, workdir / f"{name}.db"))
    else:
        url = postgres.create(name, template=str(fixture.template).rsplit("/", 1)[1])
    channel = f"bench-saves-{tag}-{backend.key}-{case}-{k}"
    servers: list[Gunicorn] = []
    try:
        env = {**_server_env(backend, url, channel), **extra_env}
        for i in range(backend.processes):
            servers.append(Gunicorn(target, threads=threads, env=env, log=workdir / f"{name}-{i}.log"))
        seq0 = _seq_of(url, fixture.document_id)
        run, writers, starts = asyncio.run(_drive(fixture, backend, case, k, servers, duration, profile_dir,
                                                  name if backend.database == "postgres" else None))
        for server in servers:
            server.stop()
        run.checks = verify(url, writers, starts, fixture.document_id, seq0)
        if run.errors:
            logs = "\n".join(s.log_text(1500) for s in servers)
            run.error_samples.append(f"server log tail: {logs}")
        return run
    finally:
        for server in servers:
            server.stop()
        if backend.database == "postgres":
            postgres.drop(name)
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{workdir / name}.db{suffix}").unlink(missing_ok=True)
        if backend.queue:
            forget_redis_keys(channel)


# --- profile (--saves-profile): where a save's time goes --------------------------------------

# (label, function name as py-spy prints it, file substring); a sample counts for the DEEPEST
# frame of its stack that matches one of these, so nested rows exclude each other.
PHASES = (
    ("token lookup (`user_for_token`)", "user_for_token", "drafting/api/auth.py"),
    ("load clause + permission (`get_clause_or_404`)", "get_clause_or_404", "drafting/views.py"),
    ("`save_clause` itself (clean text, CAS UPDATE, new revision object)", "save_clause", "operations.py"),
    ("re-read of the clause (`session.refresh`)", "Session.refresh", "sqlalchemy/orm/session.py"),
    ("three-way merge (`merge_texts` + base revision)", "merge_texts", "drafting/text/merge.py"),
    ("three-way merge (`merge_texts` + base revision)", "revision_text", "operations.py"),
    ("`live.announce` (seq UPDATE ... RETURNING, change event)", "announce", "drafting/live.py"),
    ("`ensure_text_open` (phase SELECT)", "ensure_text_open", "drafting/permissions.py"),
    ("`audit.record` (last-hash SELECT, sha256)", "record", "drafting/audit.py"),
    ("autoflush of pending INSERTs before a query", "Session._autoflush", "sqlalchemy/orm/session.py"),
    ("`number_of` (document + all its clauses) + `to_json`", "number_of", "drafting/clauses/routes.py"),
    ("`session.commit`: flush of pending INSERTs", "Session.commit", "sqlalchemy/orm/session.py"),
    ("COMMIT in SQLite / PostgreSQL (fsync)", "DefaultDialect.do_commit", "sqlalchemy/engine/default.py"),
    ("after-commit emit (`socketio.emit`)", "_emit_after_commit", "drafting/live.py"),
    ("pool checkout pre-ping (`SELECT 1`)", "DefaultDialect.do_ping", "sqlalchemy/engine/default.py"),
    ("pool checkout pre-ping (`SELECT 1`)", "PGDialect_psycopg.do_ping", "sqlalchemy"),
    ("session teardown (`session.remove`)", "scoped_session.remove", "sqlalchemy/orm/scoping.py"),
)
DRIVER = ("DefaultDialect.do_execute", "DefaultDialect.do_commit", "DefaultDialect.do_ping",
          "CursorFetchStrategy.fetchall", "CursorFetchStrategy.fetchone", "DefaultDialect.do_executemany",
          "PGDialect_psycopg.do_ping")
REST = "Flask / Werkzeug / gunicorn around the view (request parsing, JSON, headers, response)"


def profile_rows(path: str, saves: int) -> list[tuple[str, int, int]]:
    """(phase, samples, of which in the driver) over the request threads of a py-spy raw profile."""
    totals: dict[str, list[int]] = {}
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any(f.startswith("ThreadWorker.handle_request ") for f in frames):
            continue
        label = REST
        for frame in frames:
            name, _, where = frame.partition(" (")
            for phase, function, file in PHASES:
                if name == function and file in where:
                    label = phase
        leaf = frames[-1].partition(" (")[0]
        in_driver = leaf in DRIVER or any("/psycopg/" in f or f.startswith("psycopg/") or "(psycopg/" in f
                                          for f in frames)
        entry = totals.setdefault(label, [0, 0])
        entry[0] += int(count)
        entry[1] += int(count) if in_driver else 0
    return sorted(((k, v[0], v[1]) for k, v in totals.items()), key=lambda r: -r[1])


def profile_table(path: str, saves: int, rate: int = 1000) -> str:
    rows = profile_rows(path, saves)
    total = sum(r[1] for r in rows) or 1
    lines = [f"py-spy, request threads only, {saves} saves (1 sample = {1000 / rate:.0f} ms of one thread):", "",
             "| phase of PATCH /api/v1/clauses/{id} | ms per save | of which in the DB driver | share |",
             "|---|---:|---:|---:|"]
    for label, samples, driver in rows:
        lines.append(f"| {label} | {samples / rate * 1000 / max(saves, 1):.2f} | "
                     f"{driver / rate * 1000 / max(saves, 1):.2f} | {samples / total * 100:.0f}% |")
    lines.append(f"| total | {total / rate * 1000 / max(saves, 1):.2f} | "
                 f"{sum(r[2] for r in rows) / rate * 1000 / max(saves, 1):.2f} | 100% |")
    return "\n".join(lines)


# --- report -----------------------------------------------------------------------------------

def _yes(flag: bool) -> str:
    return "yes" if flag else "**NO**"


def results_table(runs: list[SaveRun]) -> str:
    if any(r.experiment for r in runs):
        rows = ["| backend | case | K | experiment | saves/s | save p50 ms | save p95 ms | server CPU / save "
                "(kernel) | LOST | other load |", "|---|---|---:|---|---:|---:|---:|---:|---:|---:|"]
        for r in runs:
            rows.append(f"| {r.backend.label} | {r.case} | {r.k} | {r.experiment} | {r.rate:.0f} | {r.p(50):.1f} | "
                        f"{r.p(95):.1f} | {r.server_cpu / max(r.acked, 1) * 1000:.1f} ms "
                        f"({r.server_system / max(r.acked, 1) * 1000:.1f}) | {r.checks['lost']} | {r.others:.2f} |")
        return "\n".join(rows)
    rows = ["| backend | processes | case | K | saves/s | acknowledged | merged | 409 | errors | LOST | "
            "history ok | versions consecutive | seq consecutive | audit chain | save p50 ms | save p95 ms | "
            "server CPU / save (of which kernel) | DB + Redis CPU / save | client CPU / save | other load |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        c = r.checks
        history = c["violations"] == 0 and c["phantom"] == 0
        rows.append("| " + " | ".join([
            r.backend.label.split(",")[0], str(r.backend.processes), CASES[r.case], str(r.k), f"{r.rate:.0f}",
            str(r.acked), str(r.merged), str(r.conflicts), str(r.errors), str(c["lost"]),
            _yes(history), _yes(c["versions_ok"]), _yes(c["seq_ok"]), _yes(c["audit_ok"]),
            f"{r.p(50):.1f}", f"{r.p(95):.1f}",
            f"{r.server_cpu / max(r.acked, 1) * 1000:.1f} ms ({r.server_system / max(r.acked, 1) * 1000:.1f})",
            f"{r.service_cpu / max(r.acked, 1) * 1000:.1f} ms" if r.backend.database == "postgres" else "(in server)",
            f"{r.client_cpu / max(r.acked, 1) * 1000:.1f} ms",
            f"{r.others:.2f} cores"]) + " |")
    return "\n".join(rows)


def median_table(runs: list[SaveRun]) -> str:
    """Medians over repeated runs of the same backend, case, K and experiment."""
    groups: dict[tuple, list[SaveRun]] = {}
    for r in runs:
        groups.setdefault((r.backend.label, r.case, r.k, r.experiment), []).append(r)
    rows = ["| backend | case | K | experiment | runs | saves/s median (min-max) | save p50 ms median | "
            "save p95 ms median | server CPU / save median (kernel) | other load median |",
            "|---|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for (label, case, k, experiment), group in groups.items():
        rates = [r.rate for r in group]
        rows.append(f"| {label} | {case} | {k} | {experiment or '-'} | {len(group)} | {percentile(rates, 50):.0f} "
                    f"({min(rates):.0f}-{max(rates):.0f}) | {percentile([r.p(50) for r in group], 50):.1f} | "
                    f"{percentile([r.p(95) for r in group], 50):.1f} | "
                    f"{percentile([r.server_cpu / max(r.acked, 1) * 1000 for r in group], 50):.1f} ms "
                    f"({percentile([r.server_system / max(r.acked, 1) * 1000 for r in group], 50):.1f}) | "
                    f"{percentile([r.others for r in group], 50):.2f} |")
    return "\n".join(rows)


def reading(runs: list[SaveRun], floors: list[FloorRun] = ()) -> str:
    parts = []
    sqlite = [r for r in runs if r.backend.key == "sqlite" and not r.experiment]
    if sqlite:
        best = max(sqlite, key=lambda r: r.rate)
        met = best.rate >= TARGET_SAVES
        parts.append(
            f"SQLite, one process: at best {best.rate:.0f} acknowledged saves/s (K = {best.k}, "
            f"{CASES[best.case]}) against the target of at least {TARGET_SAVES:.0f} "
            f"(**{'met' if met else 'missed'}**" + ("" if met else f", {TARGET_SAVES / max(best.rate, 1):.1f}x short")
            + "). " + "; ".join(f"K = {r.k} {r.case}: {r.rate:.0f}/s (p95 {r.p(95):.0f} ms)" for r in sqlite) + ".")
        cpu = [r.server_cpu / max(r.acked, 1) * 1000 for r in sqlite if r.acked]
        if cpu:
            parts.append(f"The server worker spent {min(cpu):.1f}-{max(cpu):.1f} ms of CPU (user + system) per "
                         f"acknowledged save; its Python runs under one GIL, so even fully busy it could not pass "
                         f"about {1000 / min(cpu):.0f} saves/s.")
        if floors:
            f1 = min(floors, key=lambda f: f.k)
            parts.append(f"The same gunicorn and client with a bare Flask endpoint answer {f1.rate:.0f} requests/s at "
                         f"K = {f1.k} (server CPU {f1.server_cpu / max(f1.answered, 1) * 1000:.2f} ms per request)"
                         + (": server, framework and client leave room for far more than the target; the save's own "
                            "work is what limits it." if f1.rate > 2 * TARGET_SAVES else "."))
    lost = sum(r.checks["lost"] for r in runs)
    bad = [r for r in runs if r.checks["violations"] or r.checks["phantom"] or not r.checks["versions_ok"]
           or not r.checks["seq_ok"] or not r.checks["audit_ok"]]
    parts.append(f"Lost updates: **{lost}** over {sum(r.checks['acks'] for r in runs)} acknowledged saves checked "
                 f"(target 0: **{'met' if lost == 0 else 'missed'}**); "
                 + ("every run's history, version, seq and audit checks passed." if not bad else
                    "checks failed in: " + "; ".join(f"{r.backend.label} {r.case} K={r.k}: "
                                                     + " / ".join(r.checks["notes"][:3]) for r in bad) + "."))
    one = [r for r in runs if r.case == "one" and r.k > 1]
    if one:
        parts.append("On one clause, " + "; ".join(
            f"{r.backend.label.split(',')[0]} K = {r.k}: {r.merged} of {r.acked} saves merged, {r.conflicts} refused (409)"
            for r in one) + ".")
    errors = [r for r in runs if r.errors]
    if errors:
        parts.append("Requests that failed (no answer or 5xx): " + "; ".join(
            f"{r.backend.label} {r.case} K={r.k}: {r.errors} ({r.error_samples[0][:160]})" for r in errors) + ".")
    pg = {(r.backend.key, r.case, r.k): r for r in runs if r.backend.database == "postgres"}
    two = [r for r in runs if r.backend.processes == 2]
    if two:
        parts.append("Two processes on PostgreSQL (case many) against one: " + "; ".join(
            f"K = {r.k}: {r.rate:.0f} vs {pg[('postgres', 'many', r.k)].rate:.0f}/s"
            for r in two if ("postgres", "many", r.k) in pg) + ".")
    busy = max((r.others for r in runs), default=0.0)
    if busy > 0.3:
        parts.append(f"Other processes used up to {busy:.2f} of the {os.cpu_count()} cores during the windows "
                     "(see `other load`): rates on a quiet machine would be somewhat higher.")
    return " ".join(parts)


def method_markdown(duration: float, threads: int) -> str:
    return (
        "Each run gets a fresh database copied from a migrated and seeded template (SQLite: a file copy "
        "via the backup API, WAL, the embedded default; PostgreSQL: `CREATE DATABASE ... TEMPLATE ...` on "
        "127.0.0.1:5432, dropped afterwards) and fresh servers: `gunicorn -w 1 --threads "
        f"{threads} --no-control-socket wsgi:app` (gthread, Flask-SocketIO threading mode), one process, or "
        "two on one PostgreSQL database sharing a Redis message queue "
        "(`SOCKETIO_MESSAGE_QUEUE=redis://127.0.0.1:6379/0`, a channel of its own per run), writer W "
        "talking to process W mod 2. K writers (asyncio tasks on one aiohttp session in the benchmark "
        "process, no Socket.IO viewers) each hold their own API token (issued to the declaration's three "
        "editors in turn) and loop `PATCH /api/v1/clauses/{id}` with `{text, base_version}` as fast as "
        "answers come: the text is the writer's last answer with only its own marker `writerWsaveN` "
        "(one word) changed, N counting the writer's attempts so that every request carries a unique marker, and "
        "`base_version` the version of that answer. On 409 the writer re-reads the clause "
        "(`GET /api/v1/documents/{id}`; the API has no GET of one clause) and goes on. Case *one clause*: "
        "all K writers on one clause of K+1 paragraphs, writer W's marker in paragraph W+1, so that a save "
        "from an older base is merged by the server; but even writers end their paragraph with their "
        "marker and odd writers start theirs with it, so writers 2i and 2i+1 have only a paragraph break "
        "between their markers and the strict merge refuses (409) their concurrent edits: both merges "
        "and conflicts happen. Case *a "
        f"different clause each*: writer W alone on clause W of the same document. After a set-up save "
        f"that gives every marker N = 0, the writers run {WARMUP:.0f} s of warm-up, then a "
        f"{duration:.0f} s window; saves/s counts the 200 answers received inside the window. CPU is user + "
        "system time of the server worker(s) and of the benchmark process during the window; "
        "`other load` is the cores every other process used meanwhile.\n\n"
        "Checks, exact, on the database after the servers stopped: (1) **lost updates**: each writer's "
        "marker in the final clause text must be its LAST acknowledged N; every acknowledged N above it "
        "counts as lost; (2) **history ok**: every revision after the set-up changes exactly one writer's "
        "marker, forward, and is the acknowledged save that answered with that version (an "
        "acknowledged edit overwritten by another writer, or a revision nobody was told about, fails "
        "it); the final marker was acknowledged; (3) revision versions are consecutive with no "
        "duplicates and no acknowledged version repeated; (4) the document's change `seq`s are "
        "consecutive, one per save; (5) each audit event's `prev_hash` is the previous event's hash.")


# Written from profiling runs and experiments (see the commands in it); kept with the code so that
# a rewrite of the section keeps it. Update it when the save path changes.
FINDINGS = """
### Before and after: what was slow, what changed (profiles and experiments, 23 Nov 2026)

**Before** (the first runs of this benchmark, same machine and date): SQLite, one process, at
best 105 saves/s in the table (other load 1-1.3 cores) and 149/s on a quiet machine, against the
target of 200. Measured with `--saves-experiment thread-cpu` (`bench/saves_app.py` logs the
thread CPU time and the SQL statements of every PATCH) and `--saves-profile DIR` (py-spy):

1. **A save cost about 5.5 ms of Python CPU in its request thread (6.2 ms for the worker), and
   one process has one GIL**: that capped it near 160-180 saves/s whatever the disk did. The
   same gunicorn, Flask and client answer a bare endpoint (`bench/floor_app.py`) at 620 requests/s
   with 0.48 ms of server CPU each: the save's own work was the limit.
2. **That CPU was spread over 16 round trips through the ORM**, about 0.3 ms each: SELECT token;
   SELECT clause; SELECT document; SELECT all 18 memberships with their users (for the role);
   `session.refresh(clause)`; the compare-and-swap UPDATE; INSERT revision (autoflush); SELECT
   document again; UPDATE document seq RETURNING; INSERT change event; SELECT document.phase (the
   freeze check); UPDATE document SET seq = seq (the audit record locking the row again);
   SELECT the last audit hash; INSERT audit event; SELECT all clauses (the clause number);
   COMMIT. cProfile showed statement *construction* (`select(...).where(...)`, `.values(...)`,
   cache keys) and the unit of work's flush costing as much as running the statements.
3. **Concurrent writers on SQLite waited in its busy handler, which sleeps** (1, 2, 5 ... 100 ms
   polls): at K = 16, 89-92% of the request threads' time was inside the compare-and-swap
   UPDATE waiting for the write lock, fewer saves/s than one writer, p95 0.8-1.3 s. The
   experiment `write-lock` (one Python lock around the PATCH view) gave the K = 1 rate back at
   K = 16 with the p95 cut 5-8x.

**Changes** (in `drafting/`; each measured in-process on the same data, CPU per save including
the test client: 7.5 ms before, 2.7 ms after):

- The clause number is the clause's dense `position` (no SELECT of every clause).
- `live.announce`'s row-locking `UPDATE document SET seq = seq + 1 ... RETURNING seq, phase,
  audit_head` feeds the freeze check and the audit record (`live.locked_row`); the document
  keeps its audit chain's head (migration `e4a1c9b27f53`), so the audit record needs neither a
  second lock nor a SELECT of the last hash, and verification now also catches events cut from
  the end of the chain.
- The role is one `SELECT role FROM membership WHERE document_id = ? AND user_id = ?`.
- The token and its user are one SELECT, the clause and its document another.
- `save_clause` trusts the clause loaded by this request on its first attempt (no refresh): a
  stale copy loses the compare-and-swap and is re-read; 422, 409 and "nothing changed" are only
  answered after a re-read (`tests/test_storage.py`).
- The compare-and-swap, the revision, the change event, the audit event and the head are
  statements built once at import with bind parameters, executed without the unit of work.
- SQLite: a per-process write queue (`drafting/database.py`): a lock taken before a connection's
  first write, released once its transaction has committed or rolled back.
- `gc.freeze()` after start-up (`wsgi.py`).

A save is now 10 statements: SELECT user+token, SELECT clause+document, SELECT role, UPDATE
clause (CAS), INSERT revision, UPDATE document RETURNING, INSERT change event, INSERT audit
event, UPDATE audit head, COMMIT. With `--saves-experiment thread-cpu` on a busy machine (other
load 1.2 cores) the request thread used p50 3.7 ms of CPU (5.5 ms before on a quiet one); on a
quieter machine the worker used 3.2 ms per save at K = 1 (*a different clause each*) and served
250 saves/s. The results table above is the run of record.

**Not changed:** `synchronous=FULL` stays (WAL): with NORMAL an acknowledged save could be lost
on a power loss or OS crash, which the acknowledgement of `PATCH` (sent only after the commit)
promises it is not. Measured: no change at K = 1 within noise, +12% at K = 16.

**On one clause with K > 1**, most of the CPU goes to the conflicts the benchmark provokes on
purpose (writers 2i and 2i+1 edit next to each other): each 409 costs the merge attempt, the
409 answer and the writer's re-read of the whole document (`GET /api/v1/documents/{id}`), so
saves/s there count acknowledged saves only and fall with the conflict rate.

**PostgreSQL, K > 1 and two processes:** saves of one document are serial by design (the
document's row lock gives the seq its commit order), so more processes do not make one
document's saves faster; the save path above shortened the time the lock is held (it is taken
by the announce, after the clause's CAS and revision, and held through three statements and the
COMMIT).
"""


def markdown(runs: list[SaveRun], floors: list[FloorRun], facts, command: str, quiet: float, duration: float,
             threads: int) -> str:
    return "\n".join([
        machine_markdown(facts),
        f"- Command: `{command}`",
        f"- Other processes' load just before measuring: {quiet:.2f} cores",
        "",
        "### Method",
        "",
        method_markdown(duration, threads),
        "",
        "### Results",
        "",
        results_table(runs),
        "",
        *([f"Reference, the same server and client without the app (`bench/floor_app.py`: `POST /emit`, "
           f"one `socketio.emit` to an empty room, no database, no auth), K loops for "
           f"{min(duration, FLOOR_DURATION):.0f} s after {WARMUP:.0f} s of warm-up:", "", floor_table(floors), ""]
          if floors else []),
        "### Reading",
        "",
        reading(runs, floors),
        "",
        FINDINGS.strip(),
    ]).rstrip() + "\n"


# --- entry point --------------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("--writers", default=",".join(map(str, WRITERS)),
                        help="comma-separated K values (default: %(default)s)")
    parser.add_argument("--duration", type=float, default=DURATION,
                        help="seconds of each timed window (default: %(default)s)")
    parser.add_argument("--saves-backends", default=",".join(BACKENDS),
                        help="comma-separated of %(default)s")
    parser.add_argument("--saves-cases", default=",".join(CASES), help="comma-separated of %(default)s")
    parser.add_argument("--saves-threads", type=int, default=THREADS,
                        help="gunicorn --threads per process (default: %(default)s)")
    parser.add_argument("--saves-profile", metavar="DIR",
                        help="record the servers with py-spy during each window (raw stacks into DIR; no docs)")
    parser.add_argument("--no-saves-floor", dest="saves_floor", action="store_false",
                        help="skip the reference runs against bench/floor_app.py")
    parser.add_argument("--saves-repeat", type=int, default=1,
                        help="measure every run this many times (interleaved; for experiments on a noisy machine)")
    parser.add_argument("--saves-profile-cpu", action="store_true",
                        help="with --saves-profile: py-spy without --idle (threads py-spy thinks are running)")
    parser.add_argument("--saves-experiment", metavar="NAMES",
                        help="serve bench/saves_app.py with these experiments (comma-separated; see that "
                             "file) instead of wsgi:app; no docs")


def run(options) -> str | None:
    ks = [int(x) for x in str(options.writers).split(",") if x.strip()]
    backends = [BACKENDS[b] for b in str(options.saves_backends).split(",") if b.strip()]
    cases = [c for c in str(options.saves_cases).split(",") if c.strip()]
    duration, threads = options.duration, options.saves_threads
    profile_dir = Path(options.saves_profile).resolve() if options.saves_profile else None
    PROFILE_IDLE[0] = not options.saves_profile_cpu
    if profile_dir:
        profile_dir.mkdir(parents=True, exist_ok=True)
    # Several experiment sets (";"-separated) are interleaved run by run, so noise hits them alike.
    experiments = [e.strip() for e in str(options.saves_experiment or "").split(";") if e.strip()] or [""]
    postgres = None
    if any(b.database == "postgres" for b in backends):
        problem = services_problem(REDIS if any(b.queue for b in backends) else None)
        if problem:
            print(f"[saves] skipping PostgreSQL runs: {problem}", flush=True)
            backends = [b for b in backends if b.database != "postgres"]
        else:
            postgres = Postgres()
    tag = uuid.uuid4().hex[:8]
    runs: list[SaveRun] = []
    floors: list[FloorRun] = []
    fixtures: dict[str, Fixture] = {}
    template_name = f"bench_saves_{tag}_template"
    with tempfile.TemporaryDirectory(prefix="bench-saves-") as tmp:
        workdir = Path(tmp)
        try:
            began = time.perf_counter()
            for kind in sorted({b.database for b in backends}):
                template = workdir / "template.db" if kind == "sqlite" else postgres.create(template_name)
                fixtures[kind] = prepare(template, max(ks))
            print(f"[saves] seeded templates in {time.perf_counter() - began:.1f} s", flush=True)
            quiet = wait_for_quiet("saves")
            print(f"[saves] other processes use {quiet:.2f} cores; measuring", flush=True)
            if options.saves_floor:
                for k in sorted({min(ks), max(ks)}):
                    floor = measure_floor(k, min(duration, FLOOR_DURATION), threads, workdir)
                    floors.append(floor)
                    print(f"[saves] floor (bench/floor_app.py POST /emit) K={k:<3} {floor.rate:6.0f} requests/s  "
                          f"p50 {percentile(floor.latencies, 50) * 1000:.1f} ms  "
                          f"cpu/request {floor.server_cpu / max(floor.answered, 1) * 1000:.2f} ms  "
                          f"other {floor.others:.2f}", flush=True)
            for backend in backends:
                for case in [c for c in cases if c in backend.cases]:
                    for k, experiment in [(k, e) for _ in range(options.saves_repeat) for k in ks for e in experiments]:
                        target, extra_env = "wsgi:app", {}
                        if experiment:
                            target, extra_env = "bench.saves_app:app", {"BENCH_SAVES_EXPERIMENT": experiment}
                        began = time.perf_counter()
                        result = measure(fixtures[backend.database], backend, case, k, duration, workdir, postgres,
                                         tag, threads, target, profile_dir, extra_env)
                        result.elapsed = time.perf_counter() - began
                        result.experiment = experiment
                        runs.append(result)
                        c = result.checks
                        print(f"[saves] {backend.label:32} {case:4} K={k:<3} "
                              + (f"[{experiment}] " if experiment else "") + f"{result.rate:6.0f} saves/s  "
                              f"acked {result.acked:5}  merged {result.merged:4}  409 {result.conflicts:3}  "
                              f"errors {result.errors}  lost {c['lost']}  violations {c['violations']}  "
                              f"versions {c['versions_ok']}  seq {c['seq_ok']}  audit {c['audit_ok']}  "
                              f"p50 {result.p(50):.1f} ms  cpu/save {result.server_cpu / max(result.acked, 1) * 1000:.1f} ms"
                              f"  other {result.others:.2f}  ({result.elapsed:.1f} s)" + (f"  profile {result.profile}" if result.profile else ""),
                              flush=True)
                        if result.profile:
                            print(profile_table(result.profile, result.acked), flush=True)
                        for note in c["notes"][:5] + result.error_samples[:2]:
                            print(f"[saves]     {note[:400]}", flush=True)
        finally:
            if postgres is not None:
                postgres.drop(template_name)
                postgres.close()
    print()
    print(results_table(runs))
    if floors:
        print()
        print(floor_table(floors))
    if options.saves_repeat > 1:
        print()
        print(median_table(runs))
    print()
    print(reading(runs, floors))
    if profile_dir is not None or options.saves_experiment or options.saves_repeat > 1:
        return None
    return markdown(runs, floors, machine(), options.command, quiet, duration, threads)
