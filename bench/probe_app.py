"""The real app (wsgi:app) with timing probes, for `python -m bench broadcast --probe`.

Serve it like wsgi:app (`gunicorn ... bench.probe_app:app`). Nothing in drafting/ changes: the
probes are attached from outside. For every PATCH /api/v1/clauses/... it appends one JSON line
to $BENCH_PROBE_LOG with time.perf_counter() stamps (CLOCK_MONOTONIC, the same clock as the
benchmark's clients on this machine): request start, each SQL statement (start, duration,
first words), each pool checkout, the COMMIT, each socketio.emit (start, end, event, version)
and the end of the response. It also records every garbage collection of the worker process
(start, duration, generation) to see whether GC pauses explain latency tails. With
$BENCH_PROBE_CPROFILE it also cProfiles the PATCH requests into that file, and with
$BENCH_PROBE_PRAGMA (e.g. "synchronous=NORMAL") it tries a SQLite setting, and with
$BENCH_PROBE_GC_FREEZE=1 it calls gc.freeze() after start-up, as experiments.
"""

from __future__ import annotations

import cProfile
import gc
import json
import os
import threading
import time

from sqlalchemy import event

from drafting.extensions import db, socketio
from wsgi import app

LOG = os.environ.get("BENCH_PROBE_LOG", "/dev/null")
CPROFILE = os.environ.get("BENCH_PROBE_CPROFILE")  # a .prof file: cProfile of the PATCH requests
_profile = cProfile.Profile() if CPROFILE else None
# An experiment, not the app's setting: extra PRAGMAs for every SQLite connection, e.g.
# BENCH_PROBE_PRAGMA="synchronous=NORMAL" to see what the per-commit fsync of WAL costs.
PRAGMA = os.environ.get("BENCH_PROBE_PRAGMA")
_local = threading.local()
_write = threading.Lock()
_gc: list[list] = []
_gc_started = [0.0]


def _current():
    return getattr(_local, "record", None)


def _on_gc(phase, info):
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        _gc.append([_gc_started[0], time.perf_counter() - _gc_started[0], info.get("generation")])


gc.callbacks.append(_on_gc)

with app.app_context():
    engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        record = _current()
        if record is not None:
            record["_sql_start"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        record = _current()
        if record is not None:
            start = record.pop("_sql_start", time.perf_counter())
            record["sql"].append([start, time.perf_counter() - start, " ".join(statement.split()[:4])])

    @event.listens_for(engine, "commit")
    def _commit(conn):
        record = _current()
        if record is not None:
            record["commit"].append(time.perf_counter())

    if PRAGMA:
        @event.listens_for(engine, "connect")
        def _pragma(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            for pragma in PRAGMA.split(";"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_connection, connection_record, connection_proxy):
        record = _current()
        if record is not None:
            record["checkouts"].append(time.perf_counter())

    engine.dispose()

_emit = socketio.emit


def _timed_emit(name, *args, **kwargs):
    record = _current()
    start = time.perf_counter()
    try:
        return _emit(name, *args, **kwargs)
    finally:
        if record is not None:
            payload = args[0] if args and isinstance(args[0], dict) else {}
            record["emits"].append([start, time.perf_counter() - start, name, payload.get("version")])


socketio.emit = _timed_emit
_inner = app.wsgi_app


def _probed(environ, start_response):
    if environ.get("REQUEST_METHOD") != "PATCH":
        return _inner(environ, start_response)
    _local.record = record = {"start": time.perf_counter(), "sql": [], "commit": [], "checkouts": [],
                              "emits": [], "gc": []}
    if _profile is not None:
        _profile.enable()
    try:
        body = b"".join(_inner(environ, start_response))
    finally:
        record["end"] = time.perf_counter()
        if _profile is not None:
            _profile.disable()
            _profile.dump_stats(CPROFILE)
        _local.record = None
        record.pop("_sql_start", None)
        with _write, open(LOG, "a") as out:
            record["gc"] = _gc[:]  # the collections since the previous PATCH
            del _gc[:]
            out.write(json.dumps(record) + "\n")
    return [body]


app.wsgi_app = _probed

if os.environ.get("BENCH_PROBE_GC_FREEZE"):
    # An experiment: move everything loaded at start-up out of the collector's reach, so the
    # full (generation 2) collections that come later have far fewer objects to traverse.
    gc.collect()
    gc.freeze()
