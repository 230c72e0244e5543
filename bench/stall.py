"""Does a heavy diff stall everyone else? Ordinary GETs measured while clients loop worst-case diffs.

Target (issue 12, point 3): while the worst case runs, concurrent GETs keep their p95 under
50 ms more than without it.

The app is served as in production (`gunicorn -w 1 --threads 100 wsgi:app`, gthread, one
process, a SQLite file). Its demo declaration gets two heavy clauses, each with two versions:

  paragraphs  version 1 `"a\\n\\n" * 16666`, version 2 `"b\\n\\n" * 16666` (49,998 characters,
              16,666 paragraphs, every one of them changed);
  rewrite     two independent texts of ~49,000 characters of varied prose in one paragraph.

Heavy load: K clients in a separate process, each with its own API token (or login session)
and connection, loop one of the heavy routes back to back, alternating between the two
clauses. Probe: this process sends ordinary GETs on a fixed schedule (one every 20 ms,
alternating GET /api/v1/documents/{id} and the diff of an ordinary clause), each on time
whether or not the previous one has answered (open loop: a stall delays every request
scheduled during it, as it would for real users). Latency is from the scheduled send to the
last byte of the answer. Two more windows repeat the baseline and K = 2 with the probe in
closed loop (one request at a time), which cannot pile up during a stall.

    .venv/bin/python -m bench stall                  # the run of record (~2 min), updates the docs
    .venv/bin/python -m bench stall --no-docs --stall-seconds 6 --stall-profile /tmp/stall-profile
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .common import (
    BIN,
    ROOT,
    Gunicorn,
    LoadMeter,
    app_for,
    build_database,
    cpu_seconds,
    machine,
    machine_markdown,
    percentile,
    system_seconds,
    wait_for_quiet,
)
from .page import _calibrate
from .saves import _ready as saves_ready

TITLE = "Heavy diffs beside ordinary reads (stall)"
NAME = "stall"

TARGET_MS = 50.0  # p95 of the probe may grow by less than this under heavy load
THREADS = 100  # gunicorn --threads, as the other served benchmarks and docs/deploy.md
PROBE_INTERVAL = 0.020  # seconds between two probe requests (scheduled, open loop)
WARMUP = 1.5  # seconds the heavy clients run before a window opens
WINDOW = 15.0  # seconds of a main window (--stall-seconds)
REQUEST_TIMEOUT = 120.0
PARAGRAPHS = 16_666  # "a\n\n" * 16666 = 49,998 characters, MAX_CLAUSE_CHARS being 50,000
PROSE_CHARS = 49_000
PASSWORD = "drafting-demo"  # the demo users' password (README)
ALONE_REPEATS = 3  # each heavy request timed alone, on an idle server, before the windows


# --- the data -------------------------------------------------------------------------------

SYLLABLES = ("ba be bi bo bu ca ce ci co cu da de di do du fa fe fi fo ga ge go gu la le li lo lu ma me mi mo "
             "mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo "
             "an en in on ar er ir or al el il ol ex tra con pro sta ment tion ous ive").split()
COMMON = ("the of and to in for with by on at a an is are be that this which as from their its or not "
          "health data access research clusters patients hospitals registries consent").split()


def _vocabulary() -> list[str]:
    """About 3,000 distinct pseudo-words (1-4 syllables) after the common words, most common first."""
    rng = random.Random("stall/vocabulary")
    words = list(COMMON)
    seen = set(words)
    while len(words) < 3000:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def prose(seed: str, chars: int = PROSE_CHARS) -> str:
    """One paragraph of sentences of 8-30 Zipf-weighted words, commas, references; about `chars` long."""
    rng = random.Random(seed)
    words = _vocabulary()
    weights, total = [], 0.0
    for rank in range(len(words)):
        total += 1 / (rank + 1)
        weights.append(total)
    sentences, size = [], 0
    while size < chars:
        chosen = rng.choices(words, cum_weights=weights, k=rng.randint(8, 30))
        for _ in range(rng.randint(0, 2)):
            at = rng.randrange(1, len(chosen))
            chosen[at] += ","
        if rng.random() < 0.2:
            chosen.insert(rng.randrange(len(chosen)), f"{rng.randint(1, 99)}({rng.randint(1, 9)})")
        sentence = " ".join(chosen).capitalize() + "."
        sentences.append(sentence)
        size += len(sentence) + 1
    text = " ".join(sentences)
    return text[:chars].rsplit(" ", 1)[0].rstrip(",") + "."


@dataclass
class Fixture:
    database: Path
    document_id: int
    heavy: dict[str, tuple[int, int, int]]  # case -> (clause id, from version, to version)
    ordinary: tuple[int, int, int]  # clause id, from, to
    snapshots: tuple[int, int]  # before and after the heavy saves
    tokens: list[str]
    email: str  # a member of the document, for the pages (session login)
    chars: dict[str, tuple[int, int]] = field(default_factory=dict)  # case -> lengths of both versions


HEAVY_CASES = {
    "paragraphs": ('"a\\n\\n" * 16666 -> "b\\n\\n" * 16666', "a\n\n" * PARAGRAPHS, "b\n\n" * PARAGRAPHS),
    "rewrite": ("two independent ~49,000-char texts, 1 paragraph",
                prose("stall/rewrite/1"), prose("stall/rewrite/2")),
}


def prepare(database: Path, tokens: int) -> Fixture:
    """The demo world plus two heavy clauses (two versions each) and a small edit of an ordinary clause,
    with a named version before and after those saves, and API tokens of the declaration's members."""
    from sqlalchemy import select

    from drafting.clauses.operations import create_clause, save_clause
    from drafting.extensions import db
    from drafting.history.operations import create_snapshot
    from drafting.models import ApiToken, Document

    build_database(database)
    app = app_for(database)
    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.kind == "declaration"))
        members = [m.user for m in document.memberships]
        editor = next(m.user for m in document.memberships if m.role == "editor")
        ordinary = list(document.clauses)[1]
        heavy = {}
        for case, (label, first, _second) in HEAVY_CASES.items():
            heavy[case] = create_clause(document, editor, first, f"Stall benchmark: {label}")
        db.session.commit()
        before = create_snapshot(document, editor, "Stall benchmark: before")
        db.session.commit()
        versions = {}
        for case, (_label, _first, second) in HEAVY_CASES.items():
            clause = heavy[case]
            start = clause.version
            save_clause(clause, editor, second, start)
            db.session.commit()
            versions[case] = (clause.id, start, clause.version)
        start = ordinary.version
        save_clause(ordinary, editor, ordinary.text + " Amended for the stall benchmark.", start)
        db.session.commit()
        after = create_snapshot(document, editor, "Stall benchmark: after")
        secrets = [ApiToken.issue(members[i % len(members)])[1] for i in range(tokens)]
        db.session.commit()
        fixture = Fixture(database, document.id, versions, (ordinary.id, start, ordinary.version),
                          (before.id, after.id), secrets, editor.email,
                          {case: (len(first), len(second)) for case, (_l, first, second) in HEAVY_CASES.items()})
        db.session.remove()
        db.engine.dispose()
    return fixture


# --- heavy routes -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Load:
    key: str
    route: str  # how it is described
    kind: str  # api (the diff, bearer token), page (the diff page, login session) or compare (API, token)
    k: int
    main: bool  # a main window (--stall-seconds long) or a short one
    closed: bool = False  # the probe in closed loop (one request at a time) instead of on schedule

    @property
    def label(self) -> str:
        label = "none (baseline)" if self.k == 0 else f"{self.route}, K = {self.k}"
        return label + (", closed-loop probe" if self.closed else "")


def heavy_paths(fixture: Fixture, kind: str) -> list[tuple[str, str]]:
    """(case, path) pairs one heavy client of this kind alternates between."""
    if kind == "api":
        return [(case, f"/api/v1/clauses/{cid}/diff?from={a}&to={b}") for case, (cid, a, b) in fixture.heavy.items()]
    if kind == "page":
        return [(case, f"/clauses/{cid}/diff?from={a}&to={b}&view=side") for case, (cid, a, b) in fixture.heavy.items()]
    if kind == "compare":
        before, after = fixture.snapshots
        return [("both", f"/api/v1/documents/{fixture.document_id}/compare?from={before}&to={after}")]
    raise ValueError(kind)


def probe_paths(fixture: Fixture) -> list[tuple[str, str]]:
    cid, a, b = fixture.ordinary
    return [("document", f"/api/v1/documents/{fixture.document_id}"),
            ("clause diff", f"/api/v1/clauses/{cid}/diff?from={a}&to={b}")]


async def _session(base: str, kind: str, token: str, email: str):
    """An aiohttp session of one client: a bearer token, or a logged-in page session (CSRF form)."""
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                    timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
                                    cookie_jar=aiohttp.CookieJar(unsafe=True))
    if kind != "page":
        session.headers["Authorization"] = f"Bearer {token}"
        return session
    async with session.get(f"{base}/login") as response:
        page = await response.text()
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    form = {"email": email, "password": PASSWORD, "csrf_token": match.group(1) if match else ""}
    async with session.post(f"{base}/login", data=form, allow_redirects=False) as response:
        if response.status != 302:
            await session.close()
            raise RuntimeError(f"login answered {response.status}")
    return session


async def _heavy_client(base: str, session, paths: list[tuple[str, str]], start_at: float, stop_at: float,
                        records: list) -> None:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    turn = 0
    while time.monotonic() < stop_at:
        case, path = paths[turn % len(paths)]
        turn += 1
        began = time.monotonic()
        status, size = await _get(session, base + path)
        records.append((case, began, time.monotonic(), status, size))


async def _get(session, url: str) -> tuple[int, int]:
    """GET a URL and read the answer: (status, bytes); a failed request is status -1."""
    try:
        async with session.get(url) as response:
            return response.status, len(await response.read())
    except Exception as error:  # noqa: BLE001 - recorded as a failed request
        return -1, len(repr(error))


async def _heavy_main(spec: dict) -> list:
    sessions = [await _session(spec["base"], spec["kind"], spec["tokens"][i % len(spec["tokens"])], spec["email"])
                for i in range(spec["k"])]
    records: list = []
    try:
        paths = spec["paths"]
        await asyncio.gather(*(_heavy_client(spec["base"], s, paths[i % len(paths):] + paths[:i % len(paths)],
                                             spec["start_at"], spec["stop_at"], records)
                               for i, s in enumerate(sessions)))
    finally:
        for s in sessions:
            await s.close()
    return records


def _heavy_process(spec: dict, queue) -> None:
    """Entry of the heavy clients' process: K clients on one loop; the records go back on the queue."""
    try:
        queue.put(("ok", asyncio.run(_heavy_main(spec))))
    except Exception as error:  # noqa: BLE001 - reported by the parent
        queue.put(("error", repr(error)))


# --- one window -----------------------------------------------------------------------------

@dataclass
class Window:
    load: Load
    seconds: float = 0.0
    probes: list[tuple[str, float, float, int, int]] = field(default_factory=list)  # route, latency, late, status, bytes
    heavy: list[tuple[str, float, int, int]] = field(default_factory=list)  # case, seconds, status, bytes
    server_cpu: float = 0.0  # cores
    server_system: float = 0.0  # cores
    client_cpu: float = 0.0  # cores: this process and the heavy clients' process
    others: float = 0.0  # cores
    profile: str | None = None

    def latencies(self, route: str | None = None) -> list[float]:
        return [p[1] * 1000 for p in self.probes if p[3] == 200 and (route is None or p[0] == route)]

    def p(self, q: float, route: str | None = None) -> float:
        values = self.latencies(route)
        return percentile(values, q) if values else float("nan")


async def _probe(base: str, token: str, paths: list[tuple[str, str]], start_at: float, opens: float,
                 closes: float, pids: list[int], server_pid: int, closed: bool = False) -> tuple[list, dict, float, float]:
    """Ordinary GETs on schedule from start_at until closes; keep those scheduled in [opens, closes).
    Closed loop: one at a time, the next on schedule or when the previous answered, whichever is later
    (latency then from the actual send). Also meter the CPU over [opens, closes)."""
    import aiohttp

    samples: list = []
    meter: dict = {}

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0),
                                     timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
                                     headers={"Authorization": f"Bearer {token}"}) as session:
        async def one(i: int, scheduled: float) -> None:
            route, path = paths[i % len(paths)]
            began = time.monotonic()
            status, size = await _get(session, base + path)
            if opens <= scheduled < closes:
                samples.append((route, time.monotonic() - scheduled, began - scheduled, status, size))

        async def metered() -> None:
            await asyncio.sleep(max(0.0, opens - time.monotonic()))
            server = (cpu_seconds(server_pid), system_seconds(server_pid))
            meter["load"] = LoadMeter(pids)
            await asyncio.sleep(max(0.0, closes - time.monotonic()))
            meter["result"] = meter["load"].stop()
            meter["server"] = (cpu_seconds(server_pid) - server[0], system_seconds(server_pid) - server[1])

        tasks = [asyncio.create_task(metered())]
        i = 0
        while True:
            scheduled = start_at + i * PROBE_INTERVAL
            if scheduled >= closes:
                break
            await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
            if closed:
                await one(i, time.monotonic())
                i = max(i + 1, int((time.monotonic() - start_at) / PROBE_INTERVAL + 0.999))
            else:
                tasks.append(asyncio.create_task(one(i, scheduled)))
                i += 1
        await asyncio.gather(*tasks)
    return samples, meter["result"], meter["server"][0], meter["server"][1]


def _py_spy(pid: int, out: Path) -> subprocess.Popen:
    """py-spy sampling only the thread holding the GIL (what keeps the others waiting)."""
    exe = shutil.which("py-spy") or str(BIN / "py-spy")
    return subprocess.Popen([exe, "record", "--pid", str(pid), "--rate", "250", "--format", "raw", "--gil",
                             "--nonblocking", "--output", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure_window(server: Gunicorn, fixture: Fixture, load: Load, seconds: float,
                   profile: Path | None = None) -> Window:
    window = Window(load)
    now = time.monotonic()
    process = queue = None
    if load.k:
        start_at = now + 3.0  # the heavy process starts python, imports aiohttp, logs in
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        spec = {"base": server.base, "kind": "page" if load.kind == "page" else "api", "k": load.k,
                "tokens": fixture.tokens[1:], "email": fixture.email, "paths": heavy_paths(fixture, load.kind),
                "start_at": start_at, "stop_at": start_at + WARMUP + seconds}
        process = context.Process(target=_heavy_process, args=(spec, queue), daemon=True)
        process.start()
    else:
        start_at = now + 0.2
    opens = start_at + WARMUP
    closes = opens + seconds
    spy = None
    if profile is not None and load.k:
        out = profile / f"stall-{load.key}.txt"
        spy = (_py_spy(server.pid, out), out)
    pids = [server.pid] + ([process.pid] if process else [])
    samples, meter, server_cpu, server_sys = asyncio.run(
        _probe(server.base, fixture.tokens[0], probe_paths(fixture), start_at, opens, closes, pids, server.pid, load.closed))
    if spy:
        spy[0].send_signal(signal.SIGINT)
        try:
            spy[0].wait(timeout=30)
        except subprocess.TimeoutExpired:
            spy[0].kill()
        window.profile = str(spy[1])
    window.probes = samples
    window.seconds = meter["wall"]
    window.server_cpu = server_cpu / meter["wall"]
    window.server_system = server_sys / meter["wall"]
    window.client_cpu = (meter["own"] + meter["servers"] - server_cpu) / meter["wall"]
    window.others = meter["others"]
    if process is not None:
        status, records = queue.get(timeout=REQUEST_TIMEOUT + seconds + 30)
        process.join(timeout=30)
        if status != "ok":
            raise RuntimeError(f"heavy clients failed: {records}")
        window.heavy = [(case, ended - began, status, size) for case, began, ended, status, size in records
                        if opens <= ended <= closes]
    return window


def time_alone(server: Gunicorn, fixture: Fixture, kinds: list[str]) -> list[tuple[str, str, list[float], int, int]]:
    """Each heavy request, one at a time on the idle server: (kind, case, ms, status, bytes)."""
    async def run() -> list:
        found = []
        for kind in kinds:
            session = await _session(server.base, "page" if kind == "page" else "api", fixture.tokens[1],
                                     fixture.email)
            try:
                for case, path in heavy_paths(fixture, kind):
                    times, status, size = [], 0, 0
                    for _ in range(ALONE_REPEATS):
                        began = time.monotonic()
                        async with session.get(server.base + path) as response:
                            body = await response.read()
                            status, size = response.status, len(body)
                        times.append((time.monotonic() - began) * 1000)
                    found.append((kind, case, times, status, size))
            finally:
                await session.close()
        return found

    return asyncio.run(run())


async def _ready(base: str) -> None:
    """Wait until the served app answers (bench/saves.py's wait, in a session of its own)."""
    import aiohttp

    async with aiohttp.ClientSession() as session:
        await saves_ready(session, base)


# --- profile summary --------------------------------------------------------------------------

BUCKETS = (  # (label, function names): a sample counts for the first of these found from the leaf up
    ("diff: token_ops / _Diff (word diff)", ("token_ops", "compare", "_compare", "diff_bisect", "diff_main")),
    ("diff: diff_ops folding (_absorb_equalities)", ("_absorb_equalities",)),
    ("diff_html / diff_side_by_side", ("diff_html", "diff_side_by_side")),
    ("JSON encoding (jsonify)", ("jsonify", "dumps", "encode", "iterencode")),
    ("templates (render_template)", ("render_template",)),
)


def profile_summary(path: str, top: int = 8) -> tuple[list[tuple[str, int]], list[tuple[str, int]], int]:
    """From a py-spy raw profile of the GIL holder: samples per bucket, per leaf function, total."""
    buckets: Counter = Counter()
    leaves: Counter = Counter()
    total = 0
    text = Path(path).read_text() if Path(path).exists() else ""
    for line in text.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [f.partition(" (") for f in stack.split(";")]
        n = int(count)
        total += n
        leaf = frames[-1]
        leaves[f"{leaf[0]} ({leaf[2].rstrip(')').rsplit('/', 1)[-1]})"] += n
        names = [name for name, _, _ in frames]
        where = "\n".join(w for _, _, w in frames)
        label = "everything else (request handling, SQL, the probe's requests)"
        if "drafting/text/diffing.py" in where or "diff_match_patch" in where:
            label = next((b for b, functions in BUCKETS[:3] if any(n_ in names for n_ in functions)),
                         "diff: other diffing.py")
        else:
            label = next((b for b, functions in BUCKETS[3:] if any(n_ in names for n_ in functions)), label)
        buckets[label] += n
    return buckets.most_common(), leaves.most_common(top), total


# --- the report -------------------------------------------------------------------------------

def _f(value: float, digits: int = 1) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"


def _baseline(windows: list[Window], closed: bool) -> list[float]:
    """The probe latencies of the windows without heavy load, with the same kind of probe, pooled."""
    return [v for w in windows if w.load.k == 0 and w.load.closed == closed for v in w.latencies()]


def _base95(windows: list[Window], closed: bool) -> float:
    base = _baseline(windows, closed)
    return percentile(base, 95) if base else float("nan")


def probe_table(windows: list[Window]) -> str:
    rows = ["| heavy load | window s | probes | failed | p50 ms | p95 ms | p99 ms | max ms | p95 - baseline p95 | "
            "target < +50 ms | heavy requests done | server CPU (of which kernel) | clients CPU | other load |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|"]
    for w in windows:
        failed = sum(1 for p in w.probes if p[3] != 200)
        diff = w.p(95) - _base95(windows, w.load.closed)
        verdict = "" if w.load.k == 0 else ("met" if diff < TARGET_MS else f"**missed** by {diff - TARGET_MS:,.0f} ms")
        rows.append(f"| {w.load.label} | {w.seconds:.1f} | {len(w.probes)} | {failed} | {_f(w.p(50))} | {_f(w.p(95))} | "
                    f"{_f(w.p(99))} | {_f(max(w.latencies(), default=float('nan')))} | "
                    f"{'' if w.load.k == 0 else f'{diff:+,.1f} ms'} | {verdict} | "
                    f"{len(w.heavy) if w.load.k else ''} | {w.server_cpu:.2f} ({w.server_system:.2f}) cores | "
                    f"{w.client_cpu:.2f} cores | {w.others:.2f} cores |")
    for closed in sorted({w.load.closed for w in windows}):
        base = _baseline(windows, closed)
        if base:
            rows.append(f"| baseline windows pooled{', closed-loop probe' if closed else ''} | | {len(base)} | | "
                        f"{_f(percentile(base, 50))} | {_f(percentile(base, 95))} | {_f(percentile(base, 99))} | "
                        f"{_f(max(base))} | | | | | | |")
    return "\n".join(rows)


def route_table(windows: list[Window]) -> str:
    routes = list(dict.fromkeys(p[0] for w in windows for p in w.probes))
    head = "| heavy load | " + " | ".join(f"{r} p50 ms | {r} p95 ms" for r in routes) + " | late sends p99 ms |"
    rows = [head, "|---|" + "---:|---:|" * len(routes) + "---:|"]
    for w in windows:
        late = [p[2] * 1000 for p in w.probes]
        rows.append(f"| {w.load.label} | " + " | ".join(f"{_f(w.p(50, r))} | {_f(w.p(95, r))}" for r in routes)
                    + f" | {_f(percentile(late, 99) if late else float('nan'), 2)} |")
    sizes = {r: max((p[4] for w in windows for p in w.probes if p[0] == r), default=0) for r in routes}
    note = "Probe answers: " + ", ".join(f"{r} {s:,} bytes" for r, s in sizes.items()) + "."
    return "\n".join(rows) + "\n\n" + note


def heavy_table(windows: list[Window], alone: list) -> str:
    rows = ["| heavy request | while | requests | failed | p50 ms | p95 ms | max ms | response bytes |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for kind, case, times, status, size in alone:
        route = {"api": "API diff", "page": "diff page", "compare": "API compare"}[kind]
        rows.append(f"| {route}, {case} | alone (idle server, {len(times)} in a row) | {len(times)} | "
                    f"{0 if status == 200 else len(times)} | {_f(percentile(times, 50))} | {_f(percentile(times, 95))} | "
                    f"{_f(max(times))} | {size:,} |")
    for w in windows:
        if not w.load.k:
            continue
        for case in dict.fromkeys(h[0] for h in w.heavy):
            got = [h for h in w.heavy if h[0] == case]
            ok = [h[1] * 1000 for h in got if h[2] == 200]
            size = max((h[3] for h in got if h[2] == 200), default=0)
            probe = ", closed-loop probe window" if w.load.closed else ""
            rows.append(f"| {w.load.route}, {case} | K = {w.load.k} looping{probe} | {len(got)} | {len(got) - len(ok)} | "
                        f"{_f(percentile(ok, 50) if ok else float('nan'))} | {_f(percentile(ok, 95) if ok else float('nan'))} "
                        f"| {_f(max(ok, default=float('nan')))} | {size:,} |")
    return "\n".join(rows)


def _verdict(windows: list[Window]) -> str:
    if not _baseline(windows, False):
        return "No baseline measured."
    base95 = _base95(windows, False)
    parts = []
    for w in windows:
        if w.load.k:
            diff = w.p(95) - _base95(windows, w.load.closed)
            parts.append(f"{w.load.label}: p95 {w.p(95):,.1f} ms, {diff:+,.1f} ms "
                         + ("(met)" if diff < TARGET_MS else f"(**missed** by {diff - TARGET_MS:,.0f} ms)"))
    main = next((w for w in windows if w.load.kind == "api" and w.load.k and not w.load.closed), None)
    head = ""
    if main is not None:
        diff = main.p(95) - base95
        head = (f"**With {main.load.k} clients looping the worst-case API diff, ordinary GETs have p95 {main.p(95):,.1f} ms against "
                f"{base95:,.1f} ms without: {diff:+,.1f} ms, target under +{TARGET_MS:.0f} ms: "
                + ("met" if diff < TARGET_MS else f"missed by {diff - TARGET_MS:,.0f} ms") + ".** ")
    return head + "All loads (each against the baseline of its kind of probe): " + "; ".join(parts) + "."


def profile_markdown(window: Window) -> str:
    buckets, leaves, total = profile_summary(window.profile)
    if not total:
        return f"(py-spy recorded nothing for {window.load.label})"
    lines = [f"py-spy `record --gil` on the server worker during `{window.load.label}` ({total:,} samples of the "
             "thread holding the GIL, 250 Hz):", "",
             "| GIL held in | share |", "|---|---:|",
             *(f"| {label} | {n / total * 100:.0f}% |" for label, n in buckets), "",
             "| leaf function (GIL held) | share |", "|---|---:|",
             *(f"| `{name}` | {n / total * 100:.0f}% |" for name, n in leaves)]
    return "\n".join(lines)


def code_measured() -> str:
    """The commit, whether drafting/ has uncommitted changes, and the diff and merge modules' hashes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    dirty = " + uncommitted changes in drafting/" if git("status", "--porcelain", "--", "drafting") else ""
    files = ", ".join(f"`{name}` sha256 {hashlib.sha256((ROOT / name).read_bytes()).hexdigest()[:12]}"
                      for name in ("drafting/text/diffing.py", "drafting/text/merge.py"))
    return f"commit {git('rev-parse', '--short', 'HEAD')}{dirty}; {files}"


FINDINGS = """
### Where the time went, and what changed (29 Nov 2026; by hand, not part of the run)

**Before** (`diffing.py` sha256 c91bad73f0fa, every diff in the server's own interpreter): with
K = 2 clients looping the worst diff, ordinary GETs had p95 1,340 ms against 23 ms (+1,317 ms;
K = 4: +2,168 ms; diff page +1,482 ms; compare +829 ms).

1. **One process, one GIL, saturated.** Each heavy diff was pure Python (33-44 ms in process);
   K clients looping them kept the worker at about one core, shared with every other request.
2. **Who held the GIL** (`--stall-profile DIR`: py-spy `record --gil`): 50-73 % of the samples
   in the word diff, 4-9 % `diff_html` / `diff_side_by_side`, 3-7 % JSON encoding.
3. **Why an 8 ms GET took many times longer: the convoy effect.** `sqlite3` releases the GIL
   around every `sqlite3_step` (every row), and the thread then waits for a thread that does not
   block to be asked to drop it (`sys.getswitchinterval()`, 5 ms). A GET reading a few dozen rows
   waits that many times (CPython issue bpo-7946).
4. **A shorter switch interval** (`sys.setswitchinterval(0.001)`, served through `--stall-app`)
   helped (K = 2 p95 634 -> 83 ms) but did not meet the target on its own.

**After** (`drafting/text/offload.py`): a diff or merge runs first in the request's thread with
a small budget (8,000 steps, 2-4 ms); one that does not finish in it runs again in a worker
process (`TEXT_WORK_PROCESSES`, default 1, spawned with the first request) with its full
budget, while the request's thread waits without the GIL. The answer is the same (budgets are
counted, not timed). A split or set of units that does not fit the budget is not made at all,
so the quick attempt of a heavy diff costs about a millisecond. What is left in the server's
interpreter per heavy request is rendering the HTML, JSON encoding and the database reads.
A process pool rather than a compiled diff: no well-kept compiled library diffs token
sequences with a work budget, and a pool also covers merges and any later heavy text work.
"""


# --- entry points -----------------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("--stall-seconds", type=float, default=WINDOW,
                        help="seconds of each main window (baseline, API K=2, API K=4; default %(default)s); "
                             "the page, compare and second baseline windows take a third of it (at least 4 s)")
    parser.add_argument("--stall-clients", default="2,4",
                        help="K values of the API diff load (default %(default)s); the first is the target's")
    parser.add_argument("--stall-profile", metavar="DIR",
                        help="also record the server with py-spy (--gil) during each heavy window, into DIR; "
                             "prints where the GIL is held (adds py-spy's own cost to the windows); no docs")
    parser.add_argument("--stall-app", metavar="MODULE:APP", default="wsgi:app",
                        help="serve this WSGI target instead of %(default)s (an experiment, e.g. a module on "
                             "PYTHONPATH that changes a setting and imports wsgi.app); no docs")


def run(options) -> str:
    facts = machine()
    code = code_measured()
    seconds = options.stall_seconds
    short = max(4.0, seconds / 3)
    ks = [int(k) for k in str(options.stall_clients).split(",") if k.strip()]
    loads = [Load("base", "none", "api", 0, True)]
    loads += [Load(f"api{k}", "API diff (`GET /api/v1/clauses/{id}/diff`)", "api", k, True) for k in ks]
    loads += [Load("page2", "diff page (`GET /clauses/{id}/diff`, side by side)", "page", 2, False),
              Load("compare2", "API compare of two named versions (both heavy clauses)", "compare", 2, False),
              Load("base2", "none", "api", 0, False),
              Load("base-closed", "none", "api", 0, False, closed=True),
              Load(f"api{ks[0]}-closed", "API diff (`GET /api/v1/clauses/{id}/diff`)", "api", ks[0], False,
                   closed=True)]
    profile = Path(options.stall_profile).resolve() if options.stall_profile else None
    if profile:
        profile.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-stall-") as tmp:
        workdir = Path(tmp)
        fixture = prepare(workdir / "stall.db", 1 + max(ks + [2]))
        setup = time.perf_counter() - began
        print(f"[stall] database with the heavy clauses in {setup:.1f} s: "
              + ", ".join(f"{c} {a:,} -> {b:,} chars" for c, (a, b) in fixture.chars.items()), flush=True)
        env = {"DATABASE_URL": f"sqlite:///{fixture.database}", "SECRET_KEY": "bench-stall", "DRAFTING_ENV": "testing",
               "SOCKETIO_MESSAGE_QUEUE": ""}
        server = Gunicorn(options.stall_app, threads=THREADS, env=env, log=workdir / "server.log")
        try:
            asyncio.run(_ready(server.base))
            quiet = wait_for_quiet("stall", wait=15.0)
            print(f"[stall] other processes use {quiet:.2f} cores; measuring", flush=True)
            calibration = [_calibrate()]
            alone = time_alone(server, fixture, ["api", "page", "compare"])
            for kind, case, times, status, size in alone:
                print(f"[stall] alone {kind:8} {case:10} HTTP {status} {size:>9,} bytes  "
                      + " ".join(f"{t:.0f}" for t in times) + " ms", flush=True)
            windows = []
            for number, load in enumerate(loads):
                if number == len(loads) // 2:
                    calibration.append(_calibrate())
                length = seconds if load.main else short
                window = measure_window(server, fixture, load, length, profile)
                windows.append(window)
                heavy = [h[1] * 1000 for h in window.heavy if h[2] == 200]
                print(f"[stall] {load.label:70} probe p50 {_f(window.p(50))} p95 {_f(window.p(95))} "
                      f"p99 {_f(window.p(99))} ms ({len(window.probes)} probes); heavy "
                      f"{len(window.heavy)} done" + (f", p50 {percentile(heavy, 50):.0f} ms" if heavy else "")
                      + f"; server {window.server_cpu:.2f} cores, other {window.others:.2f}", flush=True)
            calibration.append(_calibrate())
            log = server.log_text(2000)
        finally:
            server.stop()
    total = time.perf_counter() - began
    tables = (f"{probe_table(windows)}\n\n{route_table(windows)}\n\n"
              f"Heavy requests (client-side time, request sent -> last byte; those finished inside the window):\n\n"
              f"{heavy_table(windows, alone)}")
    verdict = _verdict(windows)
    print("\n" + tables + "\n\n" + verdict)
    if log.strip():
        print("[stall] server log (tail):\n" + log)
    profiles = [profile_markdown(w) for w in windows if w.profile]
    for text in profiles:
        print("\n" + text)
    if profile is not None or options.stall_app != "wsgi:app":
        return None  # profiled or experimental runs are not the run of record (py-spy costs the server)
    loaded = ("" if max(quiet, *(w.others for w in windows)) < 0.3 else
              " (**a loaded machine**: other processes competed for the 2 cores; compare through the calibration, "
              "65-85 ms on a quiet machine)")
    return f"""{machine_markdown(facts)}
- Code measured: {code}
- Command: `{options.command}`; {total:.0f} s in all ({setup:.0f} s to build the database)
- CPU calibration (the page benchmark's fixed 1M-step Python loop) before / halfway / after: \
{' / '.join(f'{c:.0f} ms' for c in calibration)}
- Other processes' load: {quiet:.2f} cores just before; per window in the table{loaded}

Method: `wsgi:app` served by `gunicorn -w 1 --threads {THREADS} --no-control-socket` (gthread, one process,
Flask-SocketIO threading mode), `DRAFTING_ENV=testing`, no message queue, on a fresh SQLite file (WAL)
migrated and seeded with the demo world. The demo declaration gets two heavy clauses, each saved
twice through the real operations: **paragraphs**, version 1 `"a\\n\\n" * 16666` and version 2
`"b\\n\\n" * 16666` ({fixture.chars['paragraphs'][0]:,} characters; the limit is 50,000), and **rewrite**,
two independent texts of varied prose in one paragraph ({fixture.chars['rewrite'][0]:,} and
{fixture.chars['rewrite'][1]:,} characters, ~3,000 distinct Zipf-weighted pseudo-words, commas,
references); an ordinary clause gets a one-sentence edit; named versions are taken before and after
these saves. Heavy load: K clients in a separate process (one asyncio loop, aiohttp, a connection
and an API token or login session each) loop a heavy route back to back, alternating between the two
heavy clauses: the API diff `GET /api/v1/clauses/{{id}}/diff?from=1&to=2` (ops and inline HTML as
JSON), the diff page `GET /clauses/{{id}}/diff?from=1&to=2&view=side` (logged in; inline and side-by-side
renderings in the whole page), or the API comparison of the two named versions (both heavy diffs in
one request). Probe: this process sends one ordinary GET every {PROBE_INTERVAL * 1000:.0f} ms on a fixed schedule
(open loop: sent on time even while earlier ones wait), alternating `GET /api/v1/documents/{{id}}` (the
whole declaration, the heavy clauses' current text included) and the diff of the ordinary clause
`GET /api/v1/clauses/{{id}}/diff` (the API has no `GET /api/v1/clauses/{{id}}`); latency is from the
scheduled send to the last byte. Heavy clients start {WARMUP:g} s before a window opens; probes
scheduled inside the window count, heavy requests that finished inside it count. Windows in this
order: baseline, API diff for each K, diff page K = 2, compare K = 2, baseline again, then a baseline
and the API diff with K = {ks[0]} with the probe in **closed loop** (one request at a time, the next when
the previous answered or on schedule, whichever is later; latency from the actual send), which
does not pile requests up during a stall ({seconds:g} s for the first baseline and API windows,
{short:g} s for the others). A window's change of p95 is against the baseline windows with the same
kind of probe, pooled. Before the windows, each heavy request is timed alone on the idle server ({ALONE_REPEATS} in a row).
CPU: utime + stime from /proc of the gunicorn worker, of the two client processes, and of all
other processes (machine total minus those), over each window. Percentiles are linear interpolations.

{verdict}

{tables}

{FINDINGS.strip()}
"""
