"""The real app (wsgi:app) with experiments applied from outside, for `python -m bench saves --saves-experiment`.

Nothing in drafting/ changes: each experiment patches the served app after import, to measure
what a proposed fix would gain before anyone makes it. $BENCH_SAVES_EXPERIMENT lists them,
comma-separated ("none": the app as it is, served the same way, for a baseline). Three of them
became changes in drafting/ since (23 Nov 2026) and now only add to what the app does: write-lock
(drafting/database.py queues SQLite writers), number-first / number-sql (a clause's number is its
position), gc-freeze (wsgi.py):

  sync-normal     SQLite `PRAGMA synchronous=NORMAL` on every connection (WAL stays): no fsync
                  per commit, only at checkpoints.
  write-lock      one process-wide lock around PATCH /api/v1/clauses/{id}: concurrent saves queue
                  on a Python lock (woken at once) instead of in SQLite's busy handler (which
                  sleeps 1, 2, 5, 10, ... 100 ms between tries) and stop competing for the GIL.
  number-first    compute the clause's number before the write transaction instead of between
                  the writes and the COMMIT (the same answer, shorter locks).
  number-sql      number_of by one COUNT query instead of loading the document and all its
                  clauses.
  no-audit        audit.record does nothing: the most the audit chain can cost (not a proposal).
  no-announce     live.announce does nothing: the most the seq/change-event/emit can cost (not a
                  proposal).
  no-pre-ping     the pool's `pool_pre_ping` off (one `SELECT 1` less per request).
  gc-freeze       gc.freeze() after start-up (fewer objects for each collection to traverse).
  thread-cpu      measure, not change: append "wall_s thread_cpu_s statements" of every PATCH request
                  (the WSGI call, in its thread; SQL statements it executed, each with its first
                  words after a tab) to $BENCH_SAVES_LOG, to compare with the whole process's CPU.
"""

from __future__ import annotations

import gc
import os
import threading

from wsgi import app

EXPERIMENTS = {e.strip() for e in os.environ.get("BENCH_SAVES_EXPERIMENT", "").split(",") if e.strip()}
KNOWN = {"none", "sync-normal", "write-lock", "number-first", "number-sql", "no-audit", "no-announce", "no-pre-ping",
         "gc-freeze", "thread-cpu"}
if EXPERIMENTS - KNOWN:
    raise SystemExit(f"unknown experiments {sorted(EXPERIMENTS - KNOWN)}; known: {sorted(KNOWN)}")


def _apply() -> None:
    from flask import g, jsonify
    from sqlalchemy import event, func, select

    from drafting import audit, live
    from drafting.api import routes
    from drafting.clauses import operations
    from drafting.clauses import routes as clause_routes
    from drafting.extensions import db
    from drafting.models import Clause

    with app.app_context():
        engine = db.engine
        if "sync-normal" in EXPERIMENTS and engine.dialect.name == "sqlite":
            @event.listens_for(engine, "connect")
            def _normal(dbapi_connection, _record):
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()
        if "no-pre-ping" in EXPERIMENTS:
            engine.pool._pre_ping = False

    if "number-sql" in EXPERIMENTS:
        def number_of(clause: Clause) -> int:
            return db.session.scalar(select(func.count()).select_from(Clause).where(
                Clause.document_id == clause.document_id, Clause.deleted_at.is_(None),
                (Clause.position < clause.position)
                | ((Clause.position == clause.position) & (Clause.id <= clause.id))))

        routes.number_of = number_of
        clause_routes.number_of = number_of

    if "no-audit" in EXPERIMENTS:
        audit.record = lambda *args, **kwargs: None

    if "no-announce" in EXPERIMENTS:
        live.announce = lambda *args, **kwargs: {}
        operations.live.announce = live.announce

    view = app.view_functions["api.patch_clause"]
    if "number-first" in EXPERIMENTS:
        from drafting.api.routes import ClauseConflict, body, error, get_clause_or_404, save_clause

        def patch_clause(clause_id: int):  # drafting/api/routes.py's, with the number taken first
            clause = get_clause_or_404(clause_id, "edit_clause", g.api_user)
            number = clause.number
            data = body()
            heading = data["heading"] if "heading" in data else ...
            try:
                result = save_clause(clause, g.api_user, data.get("text"), data.get("base_version"),
                                     heading=heading)
            except ClauseConflict as conflict:
                db.session.rollback()
                current = db.session.get(Clause, clause_id)
                return error(409, "Someone else changed the same words since your base version; "
                                  "nothing was saved. Resolve against the current text and save again.",
                             current=current.to_json(current.number), yours=conflict.yours)
            answer = {"clause": clause.to_json(number), "merged": result.merged}
            db.session.commit()
            return jsonify(answer)

        from drafting.api.auth import token_required
        view = token_required(patch_clause)

    if "write-lock" in EXPERIMENTS:
        lock = threading.Lock()
        inner = view

        def view(*args, **kwargs):  # noqa: F811 - wraps whichever view is in place
            with lock:
                return inner(*args, **kwargs)

    app.view_functions["api.patch_clause"] = view

    if "thread-cpu" in EXPERIMENTS:
        import time

        log = open(os.environ.get("BENCH_SAVES_LOG", "/dev/null"), "a", buffering=1)  # noqa: SIM115
        wsgi = app.wsgi_app
        local = threading.local()

        with app.app_context():
            @event.listens_for(db.engine, "before_cursor_execute")
            def _count(conn, cursor, statement, parameters, context, executemany):
                statements = getattr(local, "statements", None)
                if statements is not None:
                    statements.append(" ".join(statement.split()[:4]))

            @event.listens_for(db.engine, "commit")
            def _commit(conn):
                statements = getattr(local, "statements", None)
                if statements is not None:
                    statements.append("COMMIT")

        def timed(environ, start_response):
            if environ.get("REQUEST_METHOD") != "PATCH":
                return wsgi(environ, start_response)
            local.statements = []
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return list(wsgi(environ, start_response))
            finally:
                wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
                log.write(f"{wall:.6f} {cpu:.6f} {len(local.statements)}\t" + " | ".join(local.statements) + "\n")
                local.statements = None

        app.wsgi_app = timed

    if "gc-freeze" in EXPERIMENTS:
        gc.collect()
        gc.freeze()


_apply()
