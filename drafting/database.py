"""Database engine settings: SQLite's pragmas and its one-writer-at-a-time queue.

SQLite lets one transaction write at a time. A second writer waits in SQLite's busy handler,
which polls with sleeps (1, 2, 5, 10 ... 100 ms): the lock often sits free while waiters sleep,
and under load some lose the race again and again (measured: 16 concurrent saves gave a p95 near
one second, and fewer saves per second than one writer). So within a process, writes queue on a
Python lock instead, taken before a connection's first write and released once its transaction
has committed or rolled back: the next writer is woken at once, in turn. Other processes on the
same file still meet SQLite's busy handler, as before.
"""

from __future__ import annotations

import threading

from flask import Flask
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from .extensions import db

BUSY_TIMEOUT_MS = 10_000
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
# PostgreSQL: lock_not_available, deadlock_detected, serialization_failure.
_BUSY_SQLSTATES = frozenset({"55P03", "40P01", "40001"})


def is_busy(error: OperationalError) -> bool:
    """Tell a database that stayed locked (worth trying again soon) from other operational errors."""
    if getattr(error.orig, "sqlstate", None) in _BUSY_SQLSTATES:
        return True
    message = str(error.orig)
    return "database is locked" in message or "database table is locked" in message


class WriteQueue:
    """One lock for the write transactions of a process's SQLite connections."""

    def __init__(self, timeout: float):
        # Not re-entrant on purpose: a lock owned by a connection, not by a thread. One thread
        # writing on two connections at once would wait for itself here, as it would in SQLite.
        self.lock = threading.Lock()
        self.timeout = timeout
        self.holders: set[int] = set()  # ids of the DBAPI connections holding it

    def before_write(self, dbapi_connection) -> None:
        key = id(dbapi_connection)
        if key in self.holders:
            return
        # Past the timeout, go ahead anyway: SQLite's own busy handler then decides, as before.
        if self.lock.acquire(timeout=self.timeout):
            self.holders.add(key)

    def after_end(self, dbapi_connection) -> None:
        key = id(dbapi_connection)
        if key in self.holders:
            self.holders.discard(key)
            self.lock.release()


def _raw(connection):
    """The DBAPI connection behind a pool proxy (or the connection itself)."""
    return getattr(connection, "dbapi_connection", None) or connection


def configure(app: Flask) -> None:
    """Apply the engine settings the app's database needs; keep SQLite's write queue (or None)."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    queue = None
    if uri.startswith("sqlite"):
        with app.app_context():
            queue = _configure_sqlite(db.engine, file_backed=":memory:" not in uri and uri != "sqlite://")
    app.extensions["drafting.write_queue"] = queue


def _configure_sqlite(engine, file_backed: bool) -> WriteQueue | None:
    """WAL and a busy timeout, so readers never wait; writers queue in the process.

    An in-memory database is one connection shared by every thread: nothing to queue there.
    """

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        if file_backed:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    if not file_backed:
        return None
    queue = WriteQueue(BUSY_TIMEOUT_MS / 1000)

    @event.listens_for(engine, "before_cursor_execute")
    def _queue_writes(conn, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip()[:7].upper().startswith(_WRITES):
            queue.before_write(_raw(conn.connection))

    # Release only once the transaction has really ended, so the next writer does not run into
    # SQLite's lock (and its sleeping busy handler) in the moment before the COMMIT. Both the
    # engine's commits and rollbacks and the pool's reset of a returned connection end up here.
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def do_commit(dbapi_connection):
        try:
            commit(dbapi_connection)
        finally:
            queue.after_end(_raw(dbapi_connection))

    def do_rollback(dbapi_connection):
        try:
            rollback(dbapi_connection)
        finally:
            queue.after_end(_raw(dbapi_connection))

    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback

    @event.listens_for(engine, "close")
    def _closed(dbapi_connection, _record):  # a connection closed mid-transaction lets go too
        queue.after_end(dbapi_connection)

    return queue
