"""Closing the consultation's items: a thread's disposition and reason, deleting a clause with open
items, the consultation report (page, Markdown, CSV) as a disposition table, and the demo's plan
closed before it moves on. Over HTTP: the JSON API and the htmx pages."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from unittest import mock

import pytest
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import Amendment, AuditEvent, Document, Notification, Thread, User
from tests.conftest import EMAILS, make_app
from tests.test_consultation import HX, assert_error, ok, open_thread, propose


def resolve(api, thread_id: int, role: str = "editor", **body):
    return api.as_(role).post(f"/threads/{thread_id}/resolve", json=body)


def events(app, action: str, object_id: int) -> list[dict]:
    with app.app_context():
        return [e.details for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.object_id == object_id).order_by(AuditEvent.id))]


# ---- dispositions through the API ------------------------------------------------------------------

@pytest.mark.parametrize("disposition", ["partly_accepted", "not_accepted", "noted"])
def test_every_disposition_but_accepted_needs_a_reason(app, api, plan, disposition):
    thread = open_thread(api, plan["clause_ids"][0])
    assert_error(resolve(api, thread["id"], disposition=disposition), 422, "reason")
    assert_error(resolve(api, thread["id"], disposition=disposition, reason="   "), 422, "reason")
    answer = ok(resolve(api, thread["id"], disposition=disposition, reason="Covered by Action 2.1."))
    assert (answer["status"], answer["disposition"], answer["reason"]) == ("resolved", disposition,
                                                                           "Covered by Action 2.1.")
    assert events(app, "thread.resolved", thread["id"]) == [{"disposition": disposition,
                                                             "reason": "Covered by Action 2.1."}]


def test_accepted_needs_no_reason_and_keeps_one_given(api, plan):
    first = open_thread(api, plan["clause_ids"][0])
    assert ok(resolve(api, first["id"], disposition="accepted"))["reason"] is None
    second = open_thread(api, plan["clause_ids"][0])
    assert ok(resolve(api, second["id"], disposition="accepted", reason="Now in the text."))["reason"] == \
        "Now in the text."


@pytest.mark.parametrize(("body", "status", "fragment"), [
    ({}, 422, "disposition"),
    ({"reason": "Why not."}, 422, "disposition"),
    ({"disposition": "rejected", "reason": "x"}, 422, "disposition"),
    ({"disposition": "clause_deleted", "reason": "x"}, 422, "disposition"),
    ({"disposition": "Accepted"}, 422, "disposition"),
    ({"disposition": ["accepted"]}, 422, "disposition"),
    ({"disposition": None}, 422, "disposition"),
    ({"disposition": "noted", "reason": 42}, 422, "reason"),
    ({"disposition": "noted", "reason": "r" * 5_001}, 413, "limit"),
])
def test_bad_dispositions(app, api, plan, body, status, fragment):
    thread = open_thread(api, plan["clause_ids"][0])
    assert_error(resolve(api, thread["id"], **body), status, fragment)
    with app.app_context():
        stored = db.session.get(Thread, thread["id"])
        assert (stored.status, stored.disposition, stored.reason) == ("open", None, None)


def test_a_reason_of_a_megabyte_is_413_and_garbage_is_400(api, plan):
    thread = open_thread(api, plan["clause_ids"][0])
    assert_error(resolve(api, thread["id"], disposition="noted", reason="x" * 1_000_000), 413)
    editor = api.as_("editor")
    assert_error(editor.post(f"/threads/{thread['id']}/resolve", data="not json",
                             content_type="application/json"), 400)
    assert_error(editor.post(f"/threads/{thread['id']}/resolve", json=["accepted"]), 400)
    # No body at all: the disposition is missing.
    assert_error(editor.post(f"/threads/{thread['id']}/resolve"), 422, "disposition")


def test_resolving_again_is_idempotent_or_refused_and_reopen_clears(app, api, plan):
    thread = open_thread(api, plan["clause_ids"][0])
    ok(resolve(api, thread["id"], disposition="noted", reason="Recorded."))
    ok(resolve(api, thread["id"], disposition="noted", reason="Recorded."))
    assert_error(resolve(api, thread["id"], disposition="accepted"), 409, "reopen")
    assert len(events(app, "thread.resolved", thread["id"])) == 1
    reopened = ok(api.as_("editor").post(f"/threads/{thread['id']}/reopen"))
    assert (reopened["status"], reopened["disposition"], reopened["reason"]) == ("open", None, None)
    assert events(app, "thread.reopened", thread["id"]) == [{"disposition": "noted"}]
    assert ok(resolve(api, thread["id"], disposition="accepted"))["disposition"] == "accepted"


def test_who_resolves_and_whose_thread(api, plan, declaration):
    thread = open_thread(api, plan["clause_ids"][0])
    for role in ("commenter", "signatory", "observer", "admin"):
        assert_error(resolve(api, thread["id"], role=role, disposition="accepted"), 403)
    assert_error(resolve(api, thread["id"], role="outsider", disposition="accepted"), 404)
    assert_error(resolve(api, 999_999, disposition="accepted"), 404)
    # A thread of the other document, for someone not on it: 404.
    other = ok(api.as_("editor").post(f"/clauses/{declaration['clause_ids'][0]}/threads",
                                      json={"body": "A note of the committee."}), 201)
    assert_error(resolve(api, other["id"], role="outsider", disposition="accepted"), 404)


# ---- dispositions through the page -----------------------------------------------------------------

def test_the_resolve_form_in_the_thread_keeps_what_was_typed(app, api, auth, client, plan):
    clause_id = plan["clause_ids"][1]
    thread = open_thread(api, clause_id, "Please name the countries.")
    auth.login("editor")
    section = client.get(f"/clauses/{clause_id}/consultation?expanded=1", headers=HX).get_data(as_text=True)
    assert f'id="resolve-{thread["id"]}-form"' in section and 'name="disposition"' in section
    for value in ("accepted", "partly_accepted", "not_accepted", "noted"):
        assert f'value="{value}"' in section

    missing = client.post(f"/threads/{thread['id']}/resolve", headers=HX,
                          data={"disposition": "not_accepted", "reason": ""})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "Give a reason" in html
    assert f'id="consult-{clause_id}"' in html and 'value="not_accepted" selected' in html

    unknown = client.post(f"/threads/{thread['id']}/resolve", headers=HX,
                          data={"disposition": "maybe", "reason": "My half-typed reason <b>"})
    html = unknown.get_data(as_text=True)
    assert unknown.status_code == 422 and "Choose a disposition" in html
    assert "My half-typed reason &lt;b&gt;" in html

    too_long = client.post(f"/threads/{thread['id']}/resolve", headers=HX,
                           data={"disposition": "noted", "reason": "y" * 6_000})
    assert too_long.status_code == 413 and "y" * 6_000 in too_long.get_data(as_text=True)

    done = client.post(f"/threads/{thread['id']}/resolve", headers=HX,
                       data={"disposition": "partly_accepted", "reason": "Only the first half."})
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "Thread resolved." in html
    assert "Partly accepted" in html and "Only the first half." in html and ">Reopen<" in html
    assert f'id="resolve-{thread["id"]}-form"' not in html

    reopened = client.post(f"/threads/{thread['id']}/reopen", headers=HX).get_data(as_text=True)
    assert "Thread reopened." in reopened and "Only the first half." not in reopened


def test_the_resolve_form_without_javascript(api, auth, client, plan):
    thread = open_thread(api, plan["clause_ids"][1])
    auth.login("editor")
    page = client.get(f"/threads/{thread['id']}/resolve")
    assert page.status_code == 200 and 'name="reason"' in page.get_data(as_text=True)
    refused = client.post(f"/threads/{thread['id']}/resolve", data={"disposition": "noted", "reason": ""})
    assert refused.status_code == 422 and "Give a reason" in refused.get_data(as_text=True)
    done = client.post(f"/threads/{thread['id']}/resolve", data={"disposition": "noted", "reason": "Seen."})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"#thread-{thread['id']}")


def test_only_editors_see_and_use_the_resolve_form(api, auth, client, plan):
    clause_id = plan["clause_ids"][1]
    thread = open_thread(api, clause_id)
    auth.login("commenter")
    section = client.get(f"/clauses/{clause_id}/consultation?expanded=1", headers=HX).get_data(as_text=True)
    assert 'name="disposition"' not in section
    assert client.post(f"/threads/{thread['id']}/resolve", headers=HX,
                       data={"disposition": "accepted"}).status_code == 403
    assert client.get(f"/threads/{thread['id']}/resolve", headers=HX).status_code == 403


# ---- deleting a clause with open items --------------------------------------------------------------

def test_deleting_a_clause_closes_its_open_items(app, api, auth, client, plan):
    clause_id = plan["clause_ids"][2]
    open_one = open_thread(api, clause_id, "Still open.")
    settled = open_thread(api, clause_id, "Already settled.", role="signatory")
    ok(resolve(api, settled["id"], disposition="noted", reason="Settled at the meeting."))
    clause = ok(api.as_("editor").get(f"/documents/{plan['id']}"))["clauses"][2]
    amendment = propose(api, clause_id, clause["text"] + " Reviewed yearly.")
    withdrawn = propose(api, clause_id, clause["text"] + " Reviewed monthly.", role="signatory")
    ok(api.as_("signatory").post(f"/amendments/{withdrawn['id']}/withdraw"))

    auth.login("editor")
    page = client.get(f"/clauses/{clause_id}/delete").get_data(as_text=True)
    assert "1 open thread and 1 open amendment" in page
    document_page = client.get(f"/documents/{plan['id']}").get_data(as_text=True)
    assert "It closes 1 open thread and 1 open amendment" in document_page
    answer = client.post(f"/clauses/{clause_id}/delete", headers=HX)
    assert answer.status_code == 200
    assert "1 open thread and 1 open amendment were closed" in answer.get_data(as_text=True)

    thread = ok(api.as_("observer").get(f"/threads/{open_one['id']}"))
    assert (thread["status"], thread["disposition"], thread["reason"]) == ("resolved", "clause_deleted",
                                                                           "The clause was deleted.")
    assert ok(api.as_("observer").get(f"/threads/{settled['id']}"))["disposition"] == "noted"  # untouched
    closed = ok(api.as_("observer").get(f"/amendments/{amendment['id']}"))
    assert (closed["status"], closed["disposition"], closed["reason"]) == ("clause_deleted", "clause_deleted",
                                                                           "The clause was deleted.")
    assert closed["decided_by"]["name"] and closed["decided_at"]
    assert ok(api.as_("observer").get(f"/amendments/{withdrawn['id']}"))["status"] == "withdrawn"
    assert events(app, "thread.resolved", open_one["id"]) == [{"disposition": "clause_deleted",
                                                               "reason": "The clause was deleted."}]
    assert events(app, "amendment.closed", amendment["id"]) == [{"status": "clause_deleted",
                                                                 "reason": "The clause was deleted."}]
    with app.app_context():
        commenter = db.session.scalar(select(User).where(User.email == EMAILS["commenter"]))
        messages = list(db.session.scalars(select(Notification.message).where(
            Notification.user_id == commenter.id, Notification.message.like("%was closed%"))))
    assert len(messages) == 2 and all("clause 3" in m for m in messages)

    # Read only now: no acting on them, and they stay in the report.
    assert_error(api.as_("commenter").post(f"/threads/{open_one['id']}/comments", json={"body": "x"}), 404)
    assert_error(api.as_("editor").post(f"/threads/{open_one['id']}/reopen"), 404)
    assert_error(api.as_("editor").post(f"/amendments/{amendment['id']}/accept"), 404)
    report = ok(api.as_("observer").get(f"/documents/{plan['id']}/consultation/report"))
    ours = {(e["type"], e["id"]): e for e in report}
    assert ours[("thread", open_one["id"])]["disposition"] == "clause_deleted"
    assert ours[("thread", open_one["id"])]["clause_deleted"] is True
    assert ours[("amendment", amendment["id"])]["disposition"] == "clause_deleted"
    assert ours[("amendment", amendment["id"])]["clause_number"] is None
    html = client.get(f"/documents/{plan['id']}/report").get_data(as_text=True)
    assert "Deleted clause" in html and "Clause deleted" in html
    assert f'id="report-thread-{open_one["id"]}"' in html and f'href="#report-thread-{open_one["id"]}"' in html


def test_deleting_through_the_api_closes_the_same(app, api, plan):
    clause_id = plan["clause_ids"][3]
    thread = open_thread(api, clause_id)
    amendment = propose(api, clause_id, "Completely different words for this clause.")
    assert api.as_("editor").delete(f"/clauses/{clause_id}").status_code == 204
    assert ok(api.as_("commenter").get(f"/threads/{thread['id']}"))["disposition"] == "clause_deleted"
    assert ok(api.as_("commenter").get(f"/amendments/{amendment['id']}"))["status"] == "clause_deleted"
    with app.app_context():
        assert db.session.get(Amendment, amendment["id"]).decided_at is not None


def test_restoring_a_deleted_clause_reopens_exactly_what_its_deletion_closed(app, api, auth, client, plan):
    clause_id = plan["clause_ids"][2]
    open_one = open_thread(api, clause_id, "Still open when the clause went.")
    settled = open_thread(api, clause_id, "Settled before.", role="signatory")
    ok(resolve(api, settled["id"], disposition="noted", reason="Settled at the meeting."))
    clause = ok(api.as_("editor").get(f"/documents/{plan['id']}"))["clauses"][2]
    amendment = propose(api, clause_id, clause["text"] + " Reviewed yearly.")
    rejected = propose(api, clause_id, clause["text"] + " Reviewed monthly.", role="signatory")
    ok(api.as_("editor").post(f"/amendments/{rejected['id']}/reject", json={"reason": "Too often."}))

    auth.login("editor")
    assert client.post(f"/clauses/{clause_id}/delete", headers=HX).status_code == 200
    assert ok(api.as_("observer").get(f"/threads/{open_one['id']}"))["disposition"] == "clause_deleted"
    # Undo: the clause comes back, and so do the items its deletion closed.
    answer = client.post(f"/clauses/{clause_id}/undelete", headers=HX)
    assert answer.status_code == 200
    assert "1 thread and 1 amendment closed at its deletion are open again." in answer.get_data(as_text=True)

    thread = ok(api.as_("observer").get(f"/threads/{open_one['id']}"))
    assert (thread["status"], thread["disposition"], thread["reason"]) == ("open", None, None)
    reopened = ok(api.as_("observer").get(f"/amendments/{amendment['id']}"))
    assert (reopened["status"], reopened["reason"], reopened["decided_by"], reopened["decided_at"]) == \
        ("open", None, None, None)
    # Settled otherwise: untouched.
    assert ok(api.as_("observer").get(f"/threads/{settled['id']}"))["disposition"] == "noted"
    assert ok(api.as_("observer").get(f"/amendments/{rejected['id']}"))["status"] == "rejected"
    # Audited, and the authors told.
    assert events(app, "thread.reopened", open_one["id"]) == [{"disposition": "clause_deleted",
                                                               "clause_restored": True}]
    assert events(app, "amendment.reopened", amendment["id"]) == [{"status": "clause_deleted",
                                                                   "clause_restored": True}]
    assert events(app, "thread.reopened", settled["id"]) == []
    with app.app_context():
        restored = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "clause.restored",
                                                               AuditEvent.clause_id == clause_id)).one()
        assert restored.details["reopened_threads"] == 1 and restored.details["reopened_amendments"] == 1
        commenter = db.session.scalar(select(User).where(User.email == EMAILS["commenter"]))
        messages = list(db.session.scalars(select(Notification.message).where(
            Notification.user_id == commenter.id, Notification.message.like("%is open again%"))))
    assert len(messages) == 2 and all("clause 3" in m for m in messages)
    trail = client.get(f"/documents/{plan['id']}/audit").get_data(as_text=True)
    assert "reopened an amendment to" in trail

    # Open for real: a reply, a decision, and the report says open.
    ok(api.as_("commenter").post(f"/threads/{open_one['id']}/comments", json={"body": "Thanks for keeping it."}), 201)
    report = ok(api.as_("observer").get(f"/documents/{plan['id']}/consultation/report"))
    ours = {(e["type"], e["id"]): e for e in report}
    assert ours[("thread", open_one["id"])]["disposition"] == "open"
    assert ours[("amendment", amendment["id"])]["disposition"] == "open"

    # A second deletion closes them again, and its undo reopens them again (not the earlier closings twice).
    assert api.as_("editor").delete(f"/clauses/{clause_id}").status_code == 204
    assert ok(api.as_("observer").get(f"/amendments/{amendment['id']}"))["status"] == "clause_deleted"
    assert ok(api.as_("editor").post(f"/clauses/{clause_id}/undelete"))["id"] == clause_id
    assert ok(api.as_("observer").get(f"/amendments/{amendment['id']}"))["status"] == "open"
    assert len(events(app, "amendment.reopened", amendment["id"])) == 2


def test_restoring_leaves_closed_what_an_earlier_deletion_closed_and_kept_closed(app, api, plan):
    """Items closed by a deletion whose restore (before this fix) left them closed are not reopened by
    the undo of a later deletion: that deletion did not close them."""
    clause_id = plan["clause_ids"][2]
    thread = open_thread(api, clause_id)
    with app.test_request_context():
        from drafting.clauses.operations import delete_clause, restore_clause

        editor = db.session.scalar(select(User).where(User.email == EMAILS["editor"]))
        delete_clause(db.session.get(Thread, thread["id"]).clause, editor)
        db.session.commit()
        with mock.patch("drafting.clauses.operations.reopen_items_of_restored_clause"):  # the old restore
            restore_clause(db.session.get(Thread, thread["id"]).clause, editor)
        db.session.commit()
    assert ok(api.as_("observer").get(f"/threads/{thread['id']}"))["disposition"] == "clause_deleted"
    assert api.as_("editor").delete(f"/clauses/{clause_id}").status_code == 204
    ok(api.as_("editor").post(f"/clauses/{clause_id}/undelete"))
    assert ok(api.as_("observer").get(f"/threads/{thread['id']}"))["disposition"] == "clause_deleted"


def test_a_clause_without_open_items_deletes_as_before(auth, client, declaration):
    auth.login("editor")
    page = client.get(f"/clauses/{declaration['clause_ids'][-1]}/delete").get_data(as_text=True)
    assert "open thread" not in page
    answer = client.post(f"/clauses/{declaration['clause_ids'][-1]}/delete", headers=HX).get_data(as_text=True)
    assert "deleted." in answer and "closed" not in answer


def test_the_migration_closes_items_left_open_on_clauses_deleted_before(app, api, plan):
    """A database from before deletions closed anything: a deleted clause with an open thread and an
    open amendment. Down one revision and up again: they are closed as a deletion closes them now,
    at the time and by the person of the deletion; restoring the clause opens them again."""
    from flask_migrate import downgrade, upgrade

    from drafting.clauses.operations import delete_clause
    from drafting.consultation.closing import CLAUSE_DELETED_REASON

    clause_id = plan["clause_ids"][4]
    thread = open_thread(api, clause_id, "Orphaned by an old deletion.")
    clause = ok(api.as_("editor").get(f"/documents/{plan['id']}"))["clauses"][4]
    amendment = propose(api, clause_id, clause["text"] + " Orphaned too.")
    live_thread = open_thread(api, plan["clause_ids"][0], "On a live clause.")
    with app.test_request_context():
        editor = db.session.scalar(select(User).where(User.email == EMAILS["editor"]))
        editor_id = editor.id
        with mock.patch("drafting.clauses.operations.close_items_of_deleted_clause"):  # the old delete
            delete_clause(db.session.get(Thread, thread["id"]).clause, editor)
        db.session.commit()
        assert db.session.get(Thread, thread["id"]).status == "open"
        db.session.remove()
        downgrade(revision="b5d1f0a7c3e2")
        upgrade()
        db.session.remove()
        orphan = db.session.get(Thread, thread["id"])
        deleted_at = orphan.clause.deleted_at
        assert (orphan.status, orphan.disposition, orphan.reason) == ("resolved", "clause_deleted",
                                                                      CLAUSE_DELETED_REASON)
        assert (orphan.resolved_at, orphan.resolved_by_id) == (deleted_at, editor_id)
        closed = db.session.get(Amendment, amendment["id"])
        assert (closed.status, closed.reason, closed.decided_at, closed.decided_by_id) == (
            "clause_deleted", CLAUSE_DELETED_REASON, deleted_at, editor_id)
        assert db.session.get(Thread, live_thread["id"]).status == "open"  # a live clause's: untouched
    report = {(e["type"], e["id"]): e for e in ok(api.as_("observer").get(
        f"/documents/{plan['id']}/consultation/report"))}
    assert report[("thread", thread["id"])]["disposition"] == "clause_deleted"
    assert report[("amendment", amendment["id"])]["disposition"] == "clause_deleted"
    ok(api.as_("editor").post(f"/clauses/{clause_id}/undelete"))
    assert ok(api.as_("observer").get(f"/threads/{thread['id']}"))["status"] == "open"
    assert ok(api.as_("observer").get(f"/amendments/{amendment['id']}"))["status"] == "open"


# ---- the report as a disposition table ----------------------------------------------------------------

def test_the_report_is_a_disposition_table(app, api, auth, client, plan):
    clause_id = plan["clause_ids"][0]
    thread = open_thread(api, clause_id, "@SUM(A1) is how we count.")
    ok(resolve(api, thread["id"], disposition="not_accepted", reason="-Out of scope for this plan."))
    gone = open_thread(api, plan["clause_ids"][5], "On a clause about to go.")
    assert api.as_("editor").delete(f"/clauses/{plan['clause_ids'][5]}").status_code == 204

    auth.login("observer")
    page = client.get(f"/documents/{plan['id']}/report").get_data(as_text=True)
    assert "By cluster" in page and "Not accepted" in page and "-Out of scope for this plan." in page
    assert "Scheldt Life Sciences Cluster" in page and "Deleted clause" in page

    markdown = client.get(f"/documents/{plan['id']}/report.md").get_data(as_text=True)
    assert "## Dispositions by clause" in markdown and "## Dispositions by cluster" in markdown
    assert "| Item | Cluster | Author | Date | Excerpt | Disposition | Reason |" in markdown
    assert f"| Comment {thread['id']} | Scheldt Life Sciences Cluster |" in markdown
    assert "Not accepted | \\-Out of scope for this plan. |" in markdown
    assert "Clause deleted | The clause was deleted. |" in markdown

    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/documents/{plan['id']}/report.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert list(rows[0])[:11] == ["clause_number", "clause_heading", "type", "id", "cluster", "author", "date",
                                  "excerpt", "disposition", "disposition_label", "reason"]
    ours = next(r for r in rows if r["type"] == "thread" and r["id"] == str(thread["id"]))
    assert ours["clause_number"] == "1" and ours["cluster"] == "Scheldt Life Sciences Cluster"
    assert ours["excerpt"] == "'@SUM(A1) is how we count." and ours["reason"] == "'-Out of scope for this plan."
    assert (ours["disposition"], ours["disposition_label"]) == ("not_accepted", "Not accepted")
    deleted = next(r for r in rows if r["type"] == "thread" and r["id"] == str(gone["id"]))
    assert deleted["clause_number"] == "deleted" and deleted["disposition"] == "clause_deleted"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value


# ---- the demo -----------------------------------------------------------------------------------

def test_the_demo_plan_past_its_consultation_has_no_open_item(tmp_path: Path):
    """With the plan shown adopted, its threads and amendments were closed first, as content.py says."""
    from flask_migrate import upgrade

    from drafting.demo import content
    from drafting.demo.seed import seed_demo

    documents = [dict(spec, phase="adopted") if spec["key"] == "action_plan" else spec
                 for spec in content.DOCUMENTS]
    with mock.patch.object(content, "DOCUMENTS", documents):
        app = make_app(tmp_path / "demo.db")
        with app.app_context():
            upgrade()
            assert seed_demo()
            plan = db.session.scalar(select(Document).where(Document.kind == "action_plan"))
            assert plan.phase == "adopted"
            threads = list(db.session.scalars(select(Thread)))
            amendments = list(db.session.scalars(select(Amendment)))
            assert len(threads) == len(content.THREADS) and len(amendments) == len(content.AMENDMENTS)
            assert all(t.status == "resolved" and t.disposition for t in threads)
            assert {t.disposition for t in threads} == {spec["disposition"] for spec in content.THREADS}
            assert all(t.reason for t in threads if t.disposition != "accepted")
            assert sorted(a.status for a in amendments) == ["accepted", "accepted", "rejected"]
            assert all(a.reason for a in amendments if a.status == "rejected")
