"""Races on a document's clause list (issue 16): concurrent reorders, moves, creates and deletes
leave positions 1..n, unique, in every run; a save racing a delete of its clause is never
acknowledged unless it landed before the delete. Many requests at once, each through its own
HTTP client (pages and API), on SQLite and, in the PostgreSQL pass, on PostgreSQL."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from drafting.extensions import db
from drafting.models import AuditEvent, Clause, ClauseRevision
from tests.conftest import EMAILS, PASSWORD

RUNS = 100


def logged_in(app, role: str = "editor"):
    client = app.test_client()
    assert client.post("/login", data={"email": EMAILS[role], "password": PASSWORD}).status_code == 302
    return client


def live_positions(app, document_id: int) -> list[tuple[int, int]]:
    with app.app_context():
        db.session.remove()
        return list(db.session.execute(select(Clause.position, Clause.id).where(
            Clause.document_id == document_id, Clause.deleted_at.is_(None)).order_by(Clause.position, Clause.id)))


def test_concurrent_reorders_moves_and_creates_keep_positions_one_to_n(app, api, plan):
    clients = [logged_in(app) for _ in range(6)]
    document_id = plan["id"]
    rng = random.Random(16)
    with ThreadPoolExecutor(max_workers=6) as pool:
        for run in range(RUNS):
            ids = [cid for _, cid in live_positions(app, document_id)]
            orders = [rng.sample(ids, len(ids)) for _ in range(4)]
            target = rng.choice(ids)
            calls = [pool.submit(clients[i].post, f"/documents/{document_id}/order", data={"order": [str(x) for x in order]})
                     for i, order in enumerate(orders)]
            calls.append(pool.submit(clients[4].post, f"/clauses/{target}/move", data={"direction": rng.choice(["up", "down"])}))
            calls.append(pool.submit(clients[5].post, f"/documents/{document_id}/clauses",
                                     data={"text": f"Added in run {run}.", "after": str(rng.choice(ids))}))
            statuses = [call.result().status_code for call in calls]
            # A reorder that no longer lists every clause (one was added meanwhile) is refused, not half-applied.
            assert all(status in (302, 422) for status in statuses[:4]), statuses  # reorders
            assert statuses[4:] == [302, 302], statuses  # the move and the create always go through
            positions = live_positions(app, document_id)
            assert len(positions) == len(ids) + 1, (run, len(positions))  # the created clause, once
            assert [p for p, _ in positions] == list(range(1, len(positions) + 1)), (run, positions)
            if run % 25 == 0:  # the API numbers the clauses as stored
                clauses = api.as_("editor").get(f"/documents/{document_id}").get_json()["clauses"]
                assert [(c["number"], c["id"]) for c in clauses] == positions


def test_a_save_racing_a_delete_is_never_acknowledged_into_a_deleted_clause(app, api, plan):
    editor = api.as_("editor")
    document_id = plan["id"]
    with ThreadPoolExecutor(max_workers=2) as pool:
        for run in range(RUNS // 2):
            made = editor.post(f"/documents/{document_id}/clauses", json={"text": f"Doomed clause {run}."})
            assert made.status_code == 201, made.get_data(as_text=True)
            clause_id = made.get_json()["id"]
            save = pool.submit(editor.patch, f"/clauses/{clause_id}", json={"text": f"Saved in run {run}.", "base_version": 1})
            delete = pool.submit(editor.delete, f"/clauses/{clause_id}")
            saved, deleted = save.result(), delete.result()
            assert deleted.status_code == 204, deleted.get_data(as_text=True)
            assert saved.status_code in (200, 404, 409, 410), (saved.status_code, saved.get_data(as_text=True))
            with app.app_context():
                db.session.remove()
                newest = db.session.scalar(select(db.func.max(ClauseRevision.version)).where(
                    ClauseRevision.clause_id == clause_id))
                at_delete = db.session.scalar(select(AuditEvent.details).where(
                    AuditEvent.action == "clause.deleted", AuditEvent.object_id == clause_id))["version"]
            # Whatever was acknowledged is the text the clause had when it was deleted (restorable).
            assert newest == at_delete, (run, saved.status_code, newest, at_delete)
            if saved.status_code == 200:
                assert saved.get_json()["clause"]["version"] == at_delete == 2
            if saved.status_code == 410:
                assert "was deleted while you were editing" in saved.get_json()["error"]["message"]


def test_deleting_twice_at_once_deletes_once(app, api, plan):
    editor = api.as_("editor")
    with ThreadPoolExecutor(max_workers=2) as pool:
        for run in range(20):
            clause_id = editor.post(f"/documents/{plan['id']}/clauses", json={"text": f"Twice {run}."}).get_json()["id"]
            answers = sorted(f.result().status_code for f in [pool.submit(editor.delete, f"/clauses/{clause_id}")
                                                              for _ in range(2)])
            assert answers in ([204, 404], [204, 409]), answers
            with app.app_context():
                db.session.remove()
                events = db.session.scalars(select(AuditEvent.id).where(
                    AuditEvent.action == "clause.deleted", AuditEvent.object_id == clause_id)).all()
            assert len(events) == 1
