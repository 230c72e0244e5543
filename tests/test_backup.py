"""`flask backup PATH` and `flask restore PATH` (issue 16): a verified copy of the SQLite database
taken while the app serves and saves, restored exactly; a copy that fails verification is never
kept or restored. Through the commands an operator runs, against a served app."""

from __future__ import annotations

import shutil
import sqlite3
import threading

import pytest
import requests
from sqlalchemy import select

from drafting.backup import BackupError, check_copy, sqlite_path
from drafting.extensions import db
from drafting.models import ApiToken, ClauseRevision, Document, User
from tests.conftest import EMAILS, build_database, make_app
from tests.served import LiveServer


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory):
    """A seeded SQLite database (also in the PostgreSQL pass: backups are SQLite's)."""
    path = tmp_path_factory.mktemp("backup-template") / "drafting.db"
    build_database(path)
    return path


@pytest.fixture
def served_db(sqlite_template, tmp_path):
    path = tmp_path / "drafting.db"
    shutil.copy(sqlite_template, path)
    return path


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def revisions(path) -> int:
    with sqlite3.connect(path) as raw:
        count = raw.execute("SELECT count(*) FROM clause_revision").fetchone()[0]
    raw.close()
    return count


def test_a_backup_taken_while_editors_save_is_consistent_and_restores_exactly(served_db, tmp_path):
    app = make_app(served_db)
    with app.app_context():
        editor = db.session.scalar(select(User).where(User.email == EMAILS["editor"]))
        _, secret = ApiToken.issue(editor)
        db.session.commit()
        plan = db.session.scalar(select(Document).where(Document.kind == "action_plan"))
        clause_ids = [c.id for c in plan.clauses[:4]]
    server = LiveServer(served_db, threads=8)
    acknowledged, stop = [], threading.Event()

    def writer(clause_id: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {secret}"
        version = 1
        while not stop.is_set():
            answer = session.patch(server.url(f"/api/v1/clauses/{clause_id}"), timeout=30,
                                   json={"text": f"Saved as version {version + 1}.", "base_version": version})
            if answer.status_code == 200:
                version = answer.json()["clause"]["version"]
                acknowledged.append((clause_id, version))

    threads = [threading.Thread(target=writer, args=(cid,)) for cid in clause_ids]
    try:
        for thread in threads:
            thread.start()
        while len(acknowledged) < 8:
            stop.wait(0.05)
        copy = tmp_path / "backups" / "monday.sqlite3"
        copy.parent.mkdir()
        result = run(app, "backup", str(copy))
        during = len(acknowledged)
        while len(acknowledged) < during + 8:  # the served app keeps saving after the copy
            stop.wait(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        server.stop()
    assert result.exit_code == 0, result.output
    assert "every chain intact" in result.output
    check = check_copy(copy)
    assert check.ok and check.documents == 2 and check.events > 0
    assert not (copy.parent / ".monday.sqlite3.partial").exists()
    in_copy, now = revisions(copy), revisions(served_db)
    assert in_copy < now  # a snapshot: saves after it are not in it

    restored = run(app, "restore", str(copy), "--yes")
    assert restored.exit_code == 0, restored.output
    assert revisions(served_db) == in_copy
    assert check_copy(served_db).ok
    with app.app_context():  # the app reads the restored database
        db.session.remove()
        assert db.session.scalar(select(db.func.count()).select_from(ClauseRevision)) == in_copy


def test_a_tampered_backup_is_refused_and_changes_nothing(served_db, tmp_path):
    app = make_app(served_db)
    copy = tmp_path / "copy.sqlite3"
    assert run(app, "backup", str(copy)).exit_code == 0
    with sqlite3.connect(copy) as raw:  # someone edits the trail in the copy
        raw.execute("UPDATE audit_event SET action = 'clause.updated' WHERE id = (SELECT min(id) FROM audit_event)")
    raw.close()
    before = revisions(served_db)
    result = run(app, "restore", str(copy), "--yes")
    assert result.exit_code != 0
    assert "failed verification and was not restored" in result.output and "altered" in result.output
    assert revisions(served_db) == before and check_copy(served_db).ok


def test_restore_asks_first_and_refuses_what_is_not_a_backup(served_db, tmp_path):
    app = make_app(served_db)
    copy = tmp_path / "copy.sqlite3"
    assert run(app, "backup", str(copy)).exit_code == 0
    declined = run(app, "restore", str(copy), input="n\n")
    assert declined.exit_code != 0 and "Is the server stopped" in declined.output
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database at all " * 100)
    result = run(app, "restore", str(junk), "--yes")
    assert result.exit_code != 0 and "not a readable SQLite database" in result.output
    missing = run(app, "restore", str(tmp_path / "nowhere.sqlite3"), "--yes")
    assert missing.exit_code != 0 and "There is no backup file" in missing.output


def test_backup_refuses_impossible_targets(served_db, tmp_path):
    app = make_app(served_db)
    assert "is a directory" in run(app, "backup", str(tmp_path)).output
    assert "does not exist" in run(app, "backup", str(tmp_path / "no" / "such" / "x.db")).output
    assert "cannot overwrite the database itself" in run(app, "backup", str(served_db)).output


def test_other_databases_are_backed_up_with_their_own_tools():
    with pytest.raises(BackupError, match="pg_dump"):
        sqlite_path("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with pytest.raises(BackupError, match="in memory"):
        sqlite_path("sqlite://")
