"""Broadcast latency across processes: HTTP save -> `clause.updated` at N viewers, 1 vs 2 processes.

The measurement of bench/broadcast.py (its `Side.save`, common.Clients: N python-socketio
AsyncClients on one loop, joined 10 at a time), served on PostgreSQL with a Redis message queue:

  1 process            one `gunicorn -w 1` holding all N viewers; its emits go through Redis
                       (SOCKETIO_MESSAGE_QUEUE) like a scaled-out deployment's;
  2 processes          two gunicorn processes on one database and one Redis channel, N/2
                       viewers on each, saves sent alternately to one and the other, so half
                       of every save's viewers hear of it through the other process;
  1 process, no queue  (reference) one process on PostgreSQL with no message queue: the
                       embedded default's transport, to see what Redis adds.

Every configuration has a fresh PostgreSQL database created from a migrated + seeded template
(`CREATE DATABASE ... TEMPLATE ...`, dropped afterwards) and its own SOCKETIO_CHANNEL (which also
prefixes the presence keys in Redis; removed afterwards). For each N all configurations are up
at once and their saves alternate, so that background noise hits them alike.
"""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .broadcast import SAVE_TIMEOUT, SPACING, WARMUP, AppFixture, Run, Side, prepare_app
from .common import (
    REDIS,
    Clients,
    Gunicorn,
    LoadMeter,
    Pending,
    Postgres,
    forget_redis_keys,
    machine,
    machine_markdown,
    percentile,
    services_problem,
    wait_for_quiet,
)

TITLE = "Broadcast latency across processes (Redis)"
NAME = "scaleout"
CLIENTS = (100, 250)
SAVES = 40  # timed saves per N and configuration
HEADROOM = 50  # gunicorn threads beyond one per WebSocket of the process
TARGET_N = 250
TARGET_P95_MS = 50.0


@dataclass(frozen=True)
class Config:
    key: str
    label: str
    processes: int
    queue: bool


CONFIGS = {c.key: c for c in (
    Config("one", "1 process", 1, True),
    Config("two", "2 processes", 2, True),
    Config("direct", "1 process, no queue", 1, False),
)}


class ScaleSide(Side):
    """One configuration: its database, its 1 or 2 servers and its N clients split evenly."""

    def __init__(self, config: Config, n: int, fixture: AppFixture, postgres: Postgres, tag: str, workdir: Path):
        self.config = config
        self.run = Run(config.key, n)
        self.target, self.n, self.fixture = config.key, n, fixture
        self.database = f"bench_scaleout_{tag}_{config.key}_{n}"
        self.channel = f"bench-scaleout-{tag}-{config.key}-{n}"
        self.postgres = postgres
        self.servers: list[Gunicorn] = []
        url = postgres.create(self.database, template=str(fixture.template).rsplit("/", 1)[1])
        env = {"DATABASE_URL": url, "SECRET_KEY": "bench-scaleout", "DRAFTING_ENV": "testing",
               "SOCKETIO_MESSAGE_QUEUE": REDIS if config.queue else "", "SOCKETIO_CHANNEL": self.channel}
        self.shares = [n // config.processes + (1 if i < n % config.processes else 0)
                       for i in range(config.processes)]
        for i, share in enumerate(self.shares):
            self.servers.append(Gunicorn("wsgi:app", threads=share + HEADROOM, env=env,
                                         log=workdir / f"{config.key}-{n}-{i}.log"))
        self.headers = {"Authorization": f"Bearer {fixture.editor_token}"}
        self.version = fixture.clause_version
        self.tokens, self.document_id = fixture.tokens, fixture.document_id
        self.clients = Clients(n)
        self.spy = None
        self.turn = 0  # saves sent so far: the next goes to servers[turn % processes]
        self.to: str | None = None  # the server the save in flight was sent to
        self.local: list[float] = []  # arrivals at clients of the process the save was sent to
        self.remote: list[float] = []  # arrivals at clients of the other process

    async def connect(self) -> None:
        for server, share in zip(self.servers, self.shares, strict=True):
            await self.clients.connect(server.base, self.tokens, self.document_id, count=share)
        await self.clients.settle()

    async def send(self, session, version: int) -> tuple[int, object]:
        server = self.servers[self.turn % len(self.servers)]
        self.turn += 1
        self.to = server.base
        body = {"text": f"{self.fixture.clause_text} (bench scale-out {self.n}/{version})",
                "base_version": version - 1}
        async with session.patch(f"{server.base}/api/v1/clauses/{self.fixture.clause_id}", json=body,
                                 headers=self.headers) as response:
            answer = await response.json()
            if response.status == 200 and answer["clause"]["version"] != version:
                raise RuntimeError(f"expected version {version}, got {answer['clause']['version']}")
            return response.status, answer

    def observed(self, record: Pending, sent: float) -> None:
        for index, arrived in record.times.items():
            (self.local if self.clients.server_of[index] == self.to else self.remote).append(arrived - sent)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        self.postgres.drop(self.database)
        if self.config.queue:
            forget_redis_keys(self.channel)


async def measure_n(n: int, configs: list[Config], fixture: AppFixture, postgres: Postgres, tag: str,
                    workdir: Path, saves: int) -> tuple[list[ScaleSide], dict[str, float]]:
    """Serve every configuration at N, connect its viewers, and alternate their saves."""
    import aiohttp

    sides: list[ScaleSide] = []
    try:
        for config in configs:
            began = time.perf_counter()
            side = ScaleSide(config, n, fixture, postgres, tag, workdir)
            sides.append(side)
            try:
                await side.connect()
            except Exception as exc:
                logs = "\n".join(s.log_text(2000) for s in side.servers)
                raise RuntimeError(f"{config.label} at N={n}: {len(side.clients.clients)} clients had connected "
                                   f"when one failed ({exc!r}); server logs:\n{logs}") from exc
            side.run.setup = time.perf_counter() - began
        async with aiohttp.ClientSession() as session:
            for _ in range(WARMUP):
                for side in sides:
                    for _server in side.servers:  # warm every process
                        await side.save(session, timed=False)
                        await asyncio.sleep(SPACING)
            gc.collect()
            gc.freeze()
            gc.disable()
            try:
                meter = LoadMeter([s.pid for side in sides for s in side.servers],
                                  databases=tuple(side.database for side in sides), redis=True)
                cpu = {side.target: _cpu(side) for side in sides}
                for _ in range(saves):
                    for side in sides:
                        await side.save(session, timed=True)
                        await asyncio.sleep(SPACING)
                load = meter.stop()
                for side in sides:
                    side.run.server_cpu = _cpu(side) - cpu[side.target]
                    side.run.others = load["others"]
            finally:
                gc.enable()
                gc.unfreeze()
    finally:
        for side in sides:
            await side.clients.close()
        for side in sides:
            side.stop()
    return sides, load


def _cpu(side: ScaleSide) -> float:
    from .common import cpu_seconds

    return sum(cpu_seconds(s.pid) for s in side.servers)


# --- report -------------------------------------------------------------------------------

def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def results_table(results: dict[tuple[str, int], ScaleSide], configs: list[Config], ns) -> str:
    rows = ["| N | configuration | p50 | p95 | p99 | p95 vs 1 process | samples | missing |",
            "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for n in ns:
        base = results.get(("one", n))
        for config in configs:
            side = results[(config.key, n)]
            run = side.run
            vs = f"{run.p(95) / base.run.p(95):.2f}x" if base is not None else ""
            rows.append(f"| {n} | {config.label} | {run.p(50):.1f} | {run.p(95):.1f} | {run.p(99):.1f} | {vs} | "
                        f"{len(run.latencies)} | {run.missing} |")
    return "\n".join(rows)


def details_table(results: dict[tuple[str, int], ScaleSide], configs: list[Config], ns) -> str:
    rows = ["| N | configuration | viewers per process | HTTP answer p50 | first arrival p50 | last arrival p50 | "
            "last arrival p95 | same-process viewers p50 / p95 | other-process viewers p50 / p95 | "
            "server CPU / save | setup | other load |",
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in ns:
        for config in configs:
            side = results[(config.key, n)]
            run = side.run
            remote = (f"{_ms(percentile(side.remote, 50))} / {_ms(percentile(side.remote, 95))}"
                      if side.remote else "-")
            rows.append("| " + " | ".join([
                str(n), config.label, " + ".join(map(str, side.shares)),
                _ms(percentile(run.responses, 50)), _ms(percentile(run.firsts, 50)),
                _ms(percentile(run.lasts, 50)), _ms(percentile(run.lasts, 95)),
                f"{_ms(percentile(side.local, 50))} / {_ms(percentile(side.local, 95))}", remote,
                f"{run.server_cpu / max(run.saves, 1) * 1000:.1f} ms", f"{run.setup:.1f} s",
                f"{run.others:.2f} cores"]) + " |")
    return "\n".join(rows)


def reading(results: dict[tuple[str, int], ScaleSide], configs: list[Config], ns, services: dict[int, float]) -> str:
    parts = []
    keys = {c.key for c in configs}
    if ("two", TARGET_N) in results:
        two = results[("two", TARGET_N)].run
        met = two.p(95) < TARGET_P95_MS
        margin = ", with almost no margin" if met and two.p(95) > 0.9 * TARGET_P95_MS else ""
        parts.append(f"At N = {TARGET_N} viewers across 2 processes the p95 is {two.p(95):.1f} ms against the "
                     f"target of under {TARGET_P95_MS:.0f} ms (**{'met' if met else 'missed'}**{margin}; "
                     f"p50 {two.p(50):.1f}, p99 {two.p(99):.1f} ms).")
    for config in configs:
        if (config.key, TARGET_N) in results:
            run = results[(config.key, TARGET_N)].run
            first, last = percentile(run.firsts, 50) * 1000, percentile(run.lasts, 50) * 1000
            parts.append(f"{config.label} at N = {TARGET_N}: the first viewer heard of a save after {first:.1f} ms "
                         f"(median; the HTTP answer came after {percentile(run.responses, 50) * 1000:.1f} ms), the last "
                         f"after {last:.1f} ms: {first / last * 100:.0f}% of the median latency is the save itself up "
                         "to its after-commit emit (and the trip through Redis), the rest the fan-out to the viewers.")
    if "one" in keys and "two" in keys:
        parts.append("Two processes against one (both through Redis), p50 / p95: " + "; ".join(
            f"N = {n}: {results[('two', n)].run.p(50):.1f} / {results[('two', n)].run.p(95):.1f} ms vs "
            f"{results[('one', n)].run.p(50):.1f} / {results[('one', n)].run.p(95):.1f} ms" for n in ns) + ".")
        for n in ns:
            side = results[("two", n)]
            if side.remote:
                parts.append(
                    f"At N = {n} with 2 processes, viewers on the process that handled the save got it at p50 / p95 "
                    f"{_ms(percentile(side.local, 50))} / {_ms(percentile(side.local, 95))} ms, viewers on the "
                    f"other process at {_ms(percentile(side.remote, 50))} / {_ms(percentile(side.remote, 95))} ms.")
    if "direct" in keys and "one" in keys:
        parts.append("What the Redis queue adds in one process, p50 / p95: " + "; ".join(
            f"N = {n}: {results[('one', n)].run.p(50):.1f} / {results[('one', n)].run.p(95):.1f} ms with vs "
            f"{results[('direct', n)].run.p(50):.1f} / {results[('direct', n)].run.p(95):.1f} ms without" for n in ns)
            + ".")
    busy = max(s.run.others for s in results.values())
    if busy > 0.3:
        parts.append(f"Other processes used up to {busy:.2f} of the {os.cpu_count()} cores while measuring "
                     "(PostgreSQL backends of these databases and redis-server not counted): tails are noisier "
                     "than on an idle machine; configurations alternated save by save so all saw the same noise.")
    if services:
        parts.append("PostgreSQL (the backends of these databases) and redis-server used " + " / ".join(
            f"{cores:.2f}" for cores in services.values()) + f" cores at N = {' / '.join(map(str, services))}.")
    missing = sum(s.run.missing for s in results.values())
    if missing:
        parts.append(f"{missing} (save, viewer) arrivals never came within {SAVE_TIMEOUT:.0f} s.")
    return " ".join(parts)


def method_markdown(saves: int, configs: list[Config]) -> str:
    return (
        "The measurement of *Broadcast latency (live collaboration)* above, reusing its code "
        "(`bench/broadcast.py` `Side.save`, `bench/common.py` `Clients`), on PostgreSQL and Redis. "
        "Configurations: " + "; ".join({
            "one": "**1 process**: one `gunicorn -w 1 --threads N+50` with all N viewers, "
                   "`SOCKETIO_MESSAGE_QUEUE=redis://127.0.0.1:6379/0` (its emits go out through Redis and "
                   "come back to it, as in a scaled-out deployment)",
            "two": "**2 processes**: two such gunicorn processes (`--threads N/2+50` each) on one "
                   "database and one Redis channel, N/2 viewers connected to each, saves sent "
                   "alternately to the first and the second",
            "direct": "**1 process, no queue** (reference): one process on PostgreSQL without a "
                      "message queue, the embedded default's transport",
        }[c.key] for c in configs) + ". "
        "Each configuration gets a fresh PostgreSQL database (`CREATE DATABASE ... TEMPLATE ...` of a "
        "migrated, seeded template with the API tokens, dropped afterwards; "
        "`DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/<it>`) and a unique "
        "`SOCKETIO_CHANNEL` (the presence keys it leaves in Redis are deleted afterwards). N "
        "python-socketio `AsyncClient`s per configuration, all on one asyncio loop, connect over WebSocket "
        "with an API token of a member of the demo declaration (round robin), 10 at a time, `join` the "
        "document and wait for the ack; the presence storm is drained. Saves go one at a time from the "
        "same loop, alternating configurations: `PATCH /api/v1/clauses/{id}` with an editor's token and "
        "`{text, base_version}`; each waits for its answer and until all N viewers got its "
        f"`clause.updated` (matched by version), then {SPACING * 1000:.0f} ms pass. {WARMUP} warm-up "
        f"saves per process, then {saves} timed saves per configuration; a sample is one viewer's "
        "arrival minus the moment before the request was sent, over all (save, viewer) pairs; "
        "percentiles are linear interpolations. The client process's garbage collector is paused while "
        "timing. Before measuring, the run waits up to 30 s for other processes to use under 0.3 "
        "cores; 'other load' excludes the PostgreSQL backends of these databases and redis-server.")


def markdown(results, configs, ns, saves, facts, command: str, quiet: float, services) -> str:
    return "\n".join([
        machine_markdown(facts),
        f"- Command: `{command}`",
        f"- Other processes' load just before measuring: {quiet:.2f} cores",
        "",
        "### Method",
        "",
        method_markdown(saves, configs),
        "",
        "### Results (milliseconds, HTTP request sent -> `clause.updated` arrived at a viewer)",
        "",
        results_table(results, configs, ns),
        "",
        "Details (medians per save unless named; CPU is user + system time of the gunicorn worker(s) "
        "during the timed saves):",
        "",
        details_table(results, configs, ns),
        "",
        "### Reading",
        "",
        reading(results, configs, ns, services),
    ]).rstrip() + "\n"


# --- entry point --------------------------------------------------------------------------

def add_arguments(parser) -> None:
    parser.add_argument("--scaleout-clients", default=",".join(map(str, CLIENTS)),
                        help="comma-separated N values (default: %(default)s)")
    parser.add_argument("--scaleout-saves", type=int, default=SAVES,
                        help="timed saves per N and configuration (default: %(default)s)")
    parser.add_argument("--scaleout-configs", default="one,two",
                        help="comma-separated, of one (1 process + Redis), two (2 processes + Redis), direct "
                             "(1 process, no queue; a reference) (default: %(default)s)")


def run(options) -> str | None:
    ns = [int(x) for x in str(options.scaleout_clients).split(",") if x.strip()]
    configs = [CONFIGS[c] for c in str(options.scaleout_configs).split(",") if c.strip()]
    saves = options.scaleout_saves
    problem = services_problem()
    if problem:
        print(f"[scaleout] skipped: {problem}", flush=True)
        return None
    postgres = Postgres()
    tag = uuid.uuid4().hex[:8]
    template = f"bench_scaleout_{tag}_template"
    results: dict[tuple[str, int], ScaleSide] = {}
    services: dict[int, float] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scaleout-") as tmp:
            workdir = Path(tmp)
            began = time.perf_counter()
            fixture = prepare_app(workdir, postgres.create(template))
            print(f"[scaleout] seeded the template database in {time.perf_counter() - began:.1f} s", flush=True)
            quiet = wait_for_quiet("scaleout")
            print(f"[scaleout] other processes use {quiet:.2f} cores; measuring", flush=True)
            for n in ns:
                began = time.perf_counter()
                sides, load = asyncio.run(measure_n(n, configs, fixture, postgres, tag, workdir, saves))
                services[n] = load["services"] / load["wall"]
                for side in sides:
                    results[(side.config.key, n)] = side
                    run_ = side.run
                    print(f"[scaleout] {side.config.label:20} N={n:<4} p50 {run_.p(50):7.1f} ms  "
                          f"p95 {run_.p(95):7.1f} ms  p99 {run_.p(99):7.1f} ms  missing {run_.missing}  "
                          f"setup {run_.setup:.1f} s  other load {run_.others:.2f}", flush=True)
                print(f"[scaleout] N={n} done in {time.perf_counter() - began:.1f} s", flush=True)
    finally:
        postgres.drop(template)
        postgres.close()
    print()
    print(results_table(results, configs, ns))
    print()
    print(details_table(results, configs, ns))
    print()
    print(reading(results, configs, ns, services))
    return markdown(results, configs, ns, saves, machine(), options.command, quiet, services)
