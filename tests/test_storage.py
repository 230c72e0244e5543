"""The storage layer under the save path: SQLite's write queue, saves from a stale copy of a
clause, and the migration that put the audit chain's head on the document."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from drafting import audit
from drafting.clauses.operations import save_clause
from drafting.extensions import db
from drafting.models import AuditEvent, Clause, ClauseRevision, Document, User
from tests.conftest import EMAILS, make_app


def _first_clause(app) -> tuple[int, int]:
    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.kind == "declaration"))
        return document.id, document.clauses[0].id


def _editor() -> User:
    return db.session.scalar(select(User).where(User.email == EMAILS["editor"]))


# ---- concurrent writers wait their turn (SQLite: the process's write queue; PostgreSQL: the row
# lock), and every way a transaction ends lets the next one in ----------------------------------

def _queue_held(app) -> bool | None:
    """Whether SQLite's write queue is held (None on PostgreSQL, which has no queue)."""
    queue = app.extensions["drafting.write_queue"]
    return None if queue is None else queue.lock.locked()


def test_a_second_writer_waits_for_the_first_to_commit_then_goes_on_at_once(app):
    with app.app_context():
        engine = db.engine
    sqlite = engine.dialect.name == "sqlite"
    held_while_waiting: list[bool | None] = []
    order: list[str] = []
    first_wrote, second_started = threading.Event(), threading.Event()

    def first():
        with engine.connect() as conn:
            conn.execute(text("UPDATE document SET title = title || ' (1)' WHERE kind = 'declaration'"))
            order.append("first wrote")
            first_wrote.set()
            second_started.wait(5)
            time.sleep(0.3)  # the second writer is now waiting; nothing of it may run before the commit
            held_while_waiting.append(_queue_held(app))
            order.append("first commits")
            conn.commit()

    def second():
        first_wrote.wait(5)
        with engine.connect() as conn:
            second_started.set()
            began = time.perf_counter()
            conn.execute(text("UPDATE document SET title = title || ' (2)' WHERE kind = 'declaration'"))
            order.append("second wrote")
            conn.commit()
            waited.append(time.perf_counter() - began)

    waited: list[float] = []
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert order == ["first wrote", "first commits", "second wrote"]
    # On SQLite the second writer waited on the process's queue (not in SQLite's busy handler),
    # and both gave it back.
    assert held_while_waiting == ([True] if sqlite else [None])
    assert _queue_held(app) is (False if sqlite else None)
    # Woken when the first committed; on SQLite not after one of its busy-handler sleeps (up to 100 ms each).
    assert 0.25 < waited[0] < 2
    with app.app_context():
        title = db.session.scalar(select(Document.title).where(Document.kind == "declaration"))
    assert title.endswith(" (1) (2)")


@pytest.mark.parametrize("ending", ["rollback", "close", "error"])
def test_a_writer_that_rolls_back_fails_or_just_closes_lets_the_next_one_write(app, ending):
    with app.app_context():
        engine = db.engine
    conn = engine.connect()
    conn.execute(text("UPDATE document SET title = 'held' WHERE kind = 'declaration'"))
    sqlite = engine.dialect.name == "sqlite"
    assert _queue_held(app) is (True if sqlite else None)
    if ending == "rollback":
        conn.rollback()
        conn.close()
    elif ending == "close":
        conn.close()  # returned to the pool mid-transaction: the pool's reset rolls it back
    else:
        with pytest.raises(Exception, match="no_such_table"):
            conn.execute(text("INSERT INTO no_such_table VALUES (1)"))
        conn.rollback()
        conn.close()
    assert _queue_held(app) is (False if sqlite else None)

    done = threading.Event()

    def other():
        with engine.connect() as other_conn:
            other_conn.execute(text("UPDATE document SET title = 'next' WHERE kind = 'declaration'"))
            other_conn.commit()
        done.set()

    thread = threading.Thread(target=other)
    thread.start()
    assert done.wait(3), "the next writer is still waiting: the lock was not given back"
    thread.join()
    with app.app_context():
        assert db.session.scalar(select(Document.title).where(Document.kind == "declaration")) == "next"


def test_sixteen_concurrent_writers_on_the_served_paths_all_succeed(app, world):
    document_id, _ = _first_clause(app)
    with app.app_context():
        clauses = [(c.id, c.version, c.text) for c in db.session.get(Document, document_id).clauses]
    token = world.token("editor")
    statuses: list[int] = []
    start = threading.Barrier(len(clauses))

    def writer(clause_id: int, version: int, body: str) -> None:
        client = app.test_client()
        start.wait()
        for n in range(3):
            response = client.patch(f"/api/v1/clauses/{clause_id}", headers={"Authorization": f"Bearer {token}"},
                                    json={"text": f"{body} (edit {n})", "base_version": version + n})
            statuses.append(response.status_code)

    threads = [threading.Thread(target=writer, args=row) for row in clauses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert statuses == [200] * (3 * len(clauses))
    with app.app_context():
        for clause_id, version, body in clauses:
            clause = db.session.get(Clause, clause_id)
            assert (clause.version, clause.text) == (version + 3, f"{body} (edit 2)")


# ---- a save starting from a copy of the clause that another request has since changed ---------

def _change_elsewhere(database, clause_id: int, new_text: str) -> int:
    """Save through a second app (its own session and connection), as a concurrent request would."""
    other = make_app(database)
    with other.app_context():
        clause = db.session.get(Clause, clause_id)
        save_clause(clause, _editor(), new_text, clause.version)
        db.session.commit()
        return clause.version


@pytest.fixture
def stale(app, database):
    """A clause loaded in this session, then changed by someone else: this copy is out of date."""
    _, clause_id = _first_clause(app)
    context = app.app_context()
    context.push()
    clause = db.session.get(Clause, clause_id)
    first_version, first_text = clause.version, clause.text
    db.session.commit()  # end the read, as a request's earlier work would
    newer = _change_elsewhere(database, clause_id, first_text + "\n\nA paragraph added meanwhile.")
    yield clause, first_version, first_text, newer
    db.session.rollback()
    context.pop()


def test_a_stale_copy_still_merges_against_the_newest_version(stale):
    clause, first_version, first_text, newer = stale
    result = save_clause(clause, _editor(), first_text.replace("the", "THE", 1), first_version)
    db.session.commit()
    assert result.merged and result.changed
    assert clause.version == newer + 1
    assert clause.text.startswith(first_text.replace("the", "THE", 1).split("\n\n")[0])
    assert clause.text.endswith("A paragraph added meanwhile.")
    stored = db.session.scalar(select(ClauseRevision).where(ClauseRevision.clause_id == clause.id,
                                                            ClauseRevision.version == newer + 1))
    assert stored.text == clause.text and stored.origin == "merge"


def test_a_stale_copy_does_not_reject_a_base_version_it_has_not_seen(stale):
    clause, _, first_text, newer = stale
    result = save_clause(clause, _editor(), first_text + "\n\nA paragraph added meanwhile. Then mine.", newer)
    db.session.commit()
    assert result.changed and not result.merged and clause.version == newer + 1


def test_a_stale_copy_does_not_answer_nothing_changed_when_the_text_differs(stale):
    clause, first_version, first_text, newer = stale
    # The same text as the stale copy, saved on the newest version: a real change (it removes the
    # paragraph added meanwhile), not "nothing changed".
    result = save_clause(clause, _editor(), first_text, newer)
    db.session.commit()
    assert result.changed and clause.version == newer + 1 and clause.text == first_text


# ---- the audit chain's head on the document, and the migration that put it there ---------------

def test_every_change_moves_the_documents_audit_head(app, api, world):
    document_id, clause_id = _first_clause(app)
    token = world.token("editor")
    with app.app_context():
        version = db.session.get(Clause, clause_id).version
    for n in range(3):
        response = app.test_client().patch(f"/api/v1/clauses/{clause_id}", headers={"Authorization": f"Bearer {token}"},
                                           json={"text": f"Changed {n}.", "base_version": version + n})
        assert response.status_code == 200
        with app.app_context():
            document = db.session.get(Document, document_id)
            events = audit.events_of(document)
            assert document.audit_head == events[-1].hash
            assert events[-1].details["version"] == version + n + 1
            assert audit.verify_chain(document).intact


def _row_counts() -> dict[str, int]:
    tables = ("document", "clause", "clause_revision", "audit_event", "change_event", "membership", "thread")
    return {table: db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in tables}


def test_the_migration_fills_in_the_head_of_every_existing_chain_and_goes_back(app):
    """Down to the revision before the audit head and up again, on this pass's database (a
    migrated demo world): no row lost, every head filled in from its chain."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    with app.app_context():
        heads = {d.id: d.audit_head for d in db.session.scalars(select(Document))}
        assert heads and all(heads.values())
        counts = _row_counts()
        db.session.remove()
        downgrade(revision="db329820deea")
        # SQLite rebuilds the table to drop the column; nothing that refers to a document may go
        # with the old table (foreign keys cascade unless the migration turns them off).
        assert _row_counts() == counts
        assert "audit_head" not in {c["name"] for c in inspect(db.engine).get_columns("document")}
        db.session.remove()
        upgrade()
        assert _row_counts() == counts
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1  # enforced again after
        for document in db.session.scalars(select(Document)):
            newest = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.document_id == document.id)
                                       .order_by(AuditEvent.id.desc()).limit(1))
            assert document.audit_head == newest == heads[document.id]
            assert audit.verify_chain(document).intact
