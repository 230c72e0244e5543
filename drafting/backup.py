"""Backups of the SQLite database while it serves, and restoring one, never an unverified copy.

`backup` copies the live database with SQLite's online backup API, a few pages at a time, so
writers wait at most one step; then it checks the copy: SQLite's integrity check, and every
document's audit chain recomputed (an altered, removed or inserted event fails it). Only a copy
that passes is put in place (written beside the target, then renamed over it). `restore` runs
the same checks on a backup and refuses one that fails; it copies the backup into the database
file with the same API, so the file is never half written. Stop the served process first: its
open connections would keep pages of the old database in memory.

PostgreSQL has its own tools (pg_dump, pg_basebackup with WAL archiving): see docs/deploy.md.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .audit import verify_chain
from .models import AuditEvent, Document

PAGES_PER_STEP = 256  # ~1 MB with 4 KB pages: a writer waits at most one step


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


@dataclass
class CopyCheck:
    path: Path
    documents: int = 0
    events: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def sqlite_path(database_uri: str) -> Path:
    """The file of a SQLite database URI; refuse other databases and in-memory ones."""
    url = make_url(database_uri)
    if url.get_backend_name() != "sqlite":
        raise BackupError(f"The database is {url.get_backend_name()}, not SQLite: back it up with its own tools "
                          "(pg_dump or pg_basebackup for PostgreSQL; see docs/deploy.md).")
    if not url.database or url.database == ":memory:":
        raise BackupError("The database is in memory: there is nothing on disk to back up.")
    return Path(url.database).resolve()


def _copy(source: Path, target: Path) -> None:
    """Copy one SQLite database file into another with the online backup API."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30) as reader, \
            sqlite3.connect(target, timeout=30) as writer:
        reader.backup(writer, pages=PAGES_PER_STEP, sleep=0.005)
    reader.close()
    writer.close()


def check_copy(path: Path) -> CopyCheck:
    """Check a database file: SQLite's integrity, and every document's audit chain."""
    check = CopyCheck(path)
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as raw:
            verdict = raw.execute("PRAGMA integrity_check").fetchone()[0]
        raw.close()
    except sqlite3.DatabaseError as error:
        check.problems.append(f"it is not a readable SQLite database ({error})")
        return check
    if verdict != "ok":
        check.problems.append(f"SQLite's integrity check failed: {verdict}")
        return check
    engine = create_engine("sqlite://", creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    try:
        with Session(engine) as session:
            for document in session.scalars(select(Document).order_by(Document.id)):
                events = list(session.scalars(select(AuditEvent).where(AuditEvent.document_id == document.id)
                                              .order_by(AuditEvent.id)))
                chain = verify_chain(document, events)
                check.documents += 1
                check.events += chain.events
                for event_id, problem in chain.problems[:3]:
                    check.problems.append(f"document {document.id}, audit event {event_id}: {problem}")
    except Exception as error:  # a copy of another app, or of a schema this code cannot read
        check.problems.append(f"its tables cannot be read as a drafting database ({type(error).__name__}: {error})")
    finally:
        engine.dispose()
    return check


def backup(database_uri: str, target: Path) -> CopyCheck:
    """Copy the live database to `target`, verified; the target appears only if the copy passes."""
    source = sqlite_path(database_uri)
    target = Path(target).resolve()
    if target == source:
        raise BackupError("The backup cannot overwrite the database itself; name another file.")
    if target.is_dir():
        raise BackupError(f"{target} is a folder; name the backup file, e.g. {target / 'drafting.sqlite3'}.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        _copy(source, partial)
        check = check_copy(partial)
        if not check.ok:
            raise BackupError("The copy failed verification, so it was not kept: " + "; ".join(check.problems))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    check.path = target
    return check


def restore(database_uri: str, backup_file: Path) -> CopyCheck:
    """Put a verified backup in place of the database; refuse one that fails verification."""
    target = sqlite_path(database_uri)
    backup_file = Path(backup_file).resolve()
    if not backup_file.is_file():
        raise BackupError(f"There is no backup file at {backup_file}.")
    if backup_file == target:
        raise BackupError("That file is the database itself.")
    check = check_copy(backup_file)
    if not check.ok:
        raise BackupError("The backup failed verification and was not restored: " + "; ".join(check.problems))
    _copy(backup_file, target)
    return check
