"""Contributions after submission: their author edits or withdraws them until the contributions
deadline, a withdrawn bottleneck frees its slot, and the secretariat sets that deadline. Over the
JSON API and the pages (htmx and without JavaScript)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import AuditEvent, Contribution, Document
from drafting.models.base import utcnow
from tests.conftest import Auth
from tests.test_consultation import HX, assert_error, contribution, ok, set_deadline


def submit(api, document_id: int, role: str = "commenter", **fields) -> dict:
    return ok(api.as_(role).post(f"/documents/{document_id}/contributions", json=contribution(**fields)), 201)


def set_contributions_deadline(app, document_id: int, deadline) -> None:
    with app.app_context():
        db.session.get(Document, document_id).contributions_deadline = deadline
        db.session.commit()


def actions(app, contribution_id: int) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "contribution", AuditEvent.object_id == contribution_id)
            .order_by(AuditEvent.id)))


# ---- editing ---------------------------------------------------------------------------------------

def test_the_author_edits_any_field(app, api, declaration):
    made = submit(api, declaration["id"], clause_ids=declaration["clause_ids"][:1])
    commenter = api.as_("commenter")
    edited = ok(commenter.patch(f"/contributions/{made['id']}", json={"title": "Regional data hub, second try"}))
    assert edited["title"] == "Regional data hub, second try" and edited["body"] == made["body"]
    assert edited["updated_at"] and edited["clause_ids"] == declaration["clause_ids"][:1]
    edited = ok(commenter.patch(f"/contributions/{made['id']}", json={
        "kind": "bottleneck", "topic": "fast_track", "body": "It took <em>two</em> years.",
        "proposal": "A fast track.", "clause_ids": declaration["clause_ids"][1:3]}))
    assert (edited["kind"], edited["topic"]) == ("bottleneck", "fast_track")
    assert "<em>two</em>" in edited["body"] and "A fast track." in edited["proposal"]
    assert edited["clause_ids"] == sorted(declaration["clause_ids"][1:3])
    assert actions(app, made["id"]) == ["contribution.created", "contribution.updated", "contribution.updated"]
    # Nothing changed: nothing recorded.
    ok(commenter.patch(f"/contributions/{made['id']}", json={"title": "Regional data hub, second try"}))
    assert actions(app, made["id"]).count("contribution.updated") == 2


@pytest.mark.parametrize(("payload", "status"), [
    ({"kind": "anecdote"}, 422), ({"topic": "space"}, 422), ({"title": ""}, 422), ({"title": None}, 422),
    ({"body": ""}, 422), ({"title": "t" * 301}, 413), ({"body": "b" * 20_001}, 413),
    ({"body": "b" * 1_000_000}, 413), ({"clause_ids": [999_999]}, 422), ({"clause_ids": "1,2"}, 422),
    ({"kind": "bottleneck"}, 422),  # a bottleneck needs a proposal
    ({"colour": "red"}, 422), ({"id": 5}, 422),
])
def test_bad_edits_change_nothing(app, api, declaration, payload, status):
    made = submit(api, declaration["id"])
    assert_error(api.as_("commenter").patch(f"/contributions/{made['id']}", json=payload), status)
    with app.app_context():
        stored = db.session.get(Contribution, made["id"])
        assert (stored.title, stored.kind, stored.updated_at) == (made["title"], made["kind"], None)


def test_garbage_bodies_are_400(api, declaration):
    made = submit(api, declaration["id"])
    commenter = api.as_("commenter")
    assert_error(commenter.patch(f"/contributions/{made['id']}", data="{", content_type="application/json"), 400)
    assert_error(commenter.patch(f"/contributions/{made['id']}", json=["title"]), 400)


def test_only_the_author_edits_or_withdraws(app, api, declaration, plan):
    made = submit(api, declaration["id"])
    for role in ("signatory", "editor", "admin", "observer"):
        assert_error(api.as_(role).patch(f"/contributions/{made['id']}", json={"title": "Mine now"}), 403)
        assert_error(api.as_(role).delete(f"/contributions/{made['id']}"), 403)
    assert_error(api.as_("outsider").patch(f"/contributions/{made['id']}", json={"title": "x"}), 404)
    assert_error(api.as_("outsider").delete(f"/contributions/{made['id']}"), 404)
    assert_error(api.as_("commenter").patch("/contributions/999999", json={"title": "x"}), 404)
    assert_error(api.as_("commenter").delete("/contributions/999999"), 404)
    with app.app_context():
        assert db.session.get(Contribution, made["id"]).withdrawn_at is None
    # The signatory's own contribution is theirs to change, not the commenter's.
    theirs = submit(api, declaration["id"], role="signatory", title="Their practice")
    assert_error(api.as_("commenter").patch(f"/contributions/{theirs['id']}", json={"title": "x"}), 403)
    ok(api.as_("signatory").patch(f"/contributions/{theirs['id']}", json={"title": "Their better practice"}))


def test_a_contribution_of_a_document_one_is_not_on_is_404(app, api, declaration):
    """The outsider made a member of the declaration only: the plan's contributions do not exist for them."""
    from drafting.documents.operations import add_member
    from drafting.models import User
    from tests.conftest import EMAILS

    with app.app_context():
        admin = db.session.scalar(select(User).where(User.email == EMAILS["admin"]))
        document = db.session.scalar(select(Document).where(Document.kind == "action_plan"))
        other = submit(api, document.id, title="On the plan")
        add_member(admin, db.session.get(Document, declaration["id"]), EMAILS["outsider"], "commenter")
        db.session.commit()
    assert_error(api.as_("outsider").patch(f"/contributions/{other['id']}", json={"title": "x"}), 404)
    assert_error(api.as_("outsider").delete(f"/contributions/{other['id']}"), 404)


# ---- withdrawing ----------------------------------------------------------------------------------

def test_withdrawing_frees_the_bottleneck_slot_and_hides_it(app, api, auth, client, declaration):
    document_id = declaration["id"]
    commenter = api.as_("commenter")
    used = ok(commenter.get(f"/documents/{document_id}/contributions?kind=bottleneck&"
                            f"organisation=Scheldt Life Sciences Cluster"))
    made = [submit(api, document_id, kind="bottleneck", title=f"Bottleneck {i}", proposal="A fund.")
            for i in range(5 - len(used))]
    assert_error(commenter.post(f"/documents/{document_id}/contributions",
                                json=contribution(kind="bottleneck", proposal="One more.")), 422, "already")
    assert commenter.delete(f"/contributions/{made[0]['id']}").status_code == 204
    ids = [c["id"] for c in ok(commenter.get(f"/documents/{document_id}/contributions"))]
    assert made[0]["id"] not in ids
    submit(api, document_id, kind="bottleneck", title="In the freed slot", proposal="A fund.")
    # Withdrawn is gone: no second withdrawal, no edit, no linking.
    assert_error(commenter.delete(f"/contributions/{made[0]['id']}"), 404)
    assert_error(commenter.patch(f"/contributions/{made[0]['id']}", json={"title": "Back"}), 404)
    assert_error(api.as_("editor").put(f"/contributions/{made[0]['id']}/clauses", json={"clause_ids": []}), 404)
    # A best practice turning into a bottleneck needs a free slot too.
    practice = submit(api, document_id, title="A practice")
    assert_error(commenter.patch(f"/contributions/{practice['id']}",
                                 json={"kind": "bottleneck", "proposal": "A fund."}), 422, "already")
    # Still in the audit trail.
    assert actions(app, made[0]["id"]) == ["contribution.created", "contribution.withdrawn"]
    auth.login("commenter")
    page = client.get(f"/documents/{document_id}/contributions").get_data(as_text=True)
    assert "Bottleneck 0" not in page and "0 of 5 bottlenecks left" in page
    summary = {row["organisation"]: row for row in ok(api.as_("observer").get(
        f"/documents/{document_id}/consultation/summary"))}
    assert summary["Scheldt Life Sciences Cluster"]["bottlenecks"] == 5


def test_withdrawal_is_announced(app, api, socket_client, declaration):
    from tests.conftest import Auth as _Auth

    watcher_client = app.test_client()
    _Auth(watcher_client).login("observer")
    watcher = socket_client(watcher_client)
    watcher.emit("join", {"document_id": declaration["id"]}, callback=True)
    made = submit(api, declaration["id"], clause_ids=declaration["clause_ids"][:1])
    watcher.get_received()
    ok(api.as_("commenter").patch(f"/contributions/{made['id']}", json={"title": "Renamed"}))
    assert api.as_("commenter").delete(f"/contributions/{made['id']}").status_code == 204
    received = [item for item in watcher.get_received() if item["name"] != "presence"]
    assert [item["name"] for item in received] == ["contribution.updated", "contribution.withdrawn"]
    assert received[1]["args"][0]["contribution_id"] == made["id"]
    assert received[1]["args"][0]["clause_ids"] == declaration["clause_ids"][:1]


# ---- the deadline ---------------------------------------------------------------------------------

def test_the_contributions_deadline_closes_submitting_editing_and_withdrawing(app, api, plan):
    made = submit(api, plan["id"])
    later = submit(api, plan["id"], title="Another")
    set_contributions_deadline(app, plan["id"], utcnow() + timedelta(hours=1))
    ok(api.as_("commenter").patch(f"/contributions/{made['id']}", json={"title": "Before the deadline"}))
    set_contributions_deadline(app, plan["id"], utcnow() - timedelta(minutes=1))
    commenter = api.as_("commenter")
    assert_error(commenter.patch(f"/contributions/{made['id']}", json={"title": "Too late"}), 403,
                 "contributions closed at their deadline")
    assert_error(commenter.delete(f"/contributions/{later['id']}"), 403, "deadline")
    assert_error(commenter.post(f"/documents/{plan['id']}/contributions", json=contribution()), 403, "deadline")
    # The consultation itself is still open: comments are not bound by the contributions deadline.
    ok(commenter.post(f"/clauses/{plan['clause_ids'][0]}/threads", json={"body": "Still open."}), 201)


def test_a_later_contributions_deadline_outlives_the_consultations(app, api, plan):
    made = submit(api, plan["id"])
    set_deadline(app, plan["id"], utcnow() - timedelta(minutes=1))
    commenter = api.as_("commenter")
    # Unset: contributions close with the consultation, as before.
    assert_error(commenter.patch(f"/contributions/{made['id']}", json={"title": "x"}), 403, "consultation")
    assert_error(commenter.delete(f"/contributions/{made['id']}"), 403)
    set_contributions_deadline(app, plan["id"], utcnow() + timedelta(days=2))
    ok(commenter.patch(f"/contributions/{made['id']}", json={"title": "Edited after the consultation closed"}))
    assert commenter.delete(f"/contributions/{made['id']}").status_code == 204
    assert_error(commenter.post(f"/clauses/{plan['clause_ids'][0]}/threads", json={"body": "Late."}), 403)


def test_the_admin_sets_and_clears_the_deadline_on_the_page(app, auth, client, declaration):
    document_id = declaration["id"]
    auth.login("admin")
    page = client.get(f"/documents/{document_id}/contributions").get_data(as_text=True)
    assert 'data-deadline-input' in page and 'placeholder="2027-03-31 17:00"' in page and "no deadline is set" in page
    when = (utcnow() + timedelta(days=10)).replace(second=0, microsecond=0)
    saved = client.post(f"/documents/{document_id}/contributions/deadline",
                        data={"deadline": when.strftime("%Y-%m-%dT%H:%M")})
    assert saved.status_code == 302
    with app.app_context():
        assert db.session.get(Document, document_id).contributions_deadline == when
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "Contributions now close at" in page and "Contributions close in" in page and "Clear deadline" in page

    past = client.post(f"/documents/{document_id}/contributions/deadline", data={"deadline": "2001-01-01T10:00"})
    html = past.get_data(as_text=True)
    assert past.status_code == 422 and "must be in the future" in html and 'value="2001-01-01T10:00"' in html
    bad = client.post(f"/documents/{document_id}/contributions/deadline", data={"deadline": "next tuesday"})
    assert bad.status_code == 422 and "date and time" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Document, document_id).contributions_deadline == when

    cleared = client.post(f"/documents/{document_id}/contributions/deadline", data={"clear": "1"})
    assert cleared.status_code == 302
    with app.app_context():
        assert db.session.get(Document, document_id).contributions_deadline is None
        assert [e.action for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "document.contributions_deadline_changed"))] == [
            "document.contributions_deadline_changed"] * 2


@pytest.mark.parametrize("role", ["editor", "commenter", "signatory", "observer"])
def test_only_the_admin_sets_the_deadline(auth, client, declaration, role):
    auth.login(role)
    page = client.get(f"/documents/{declaration['id']}/contributions").get_data(as_text=True)
    assert 'type="datetime-local"' not in page
    answer = client.post(f"/documents/{declaration['id']}/contributions/deadline",
                         data={"deadline": "2999-01-01T10:00"})
    assert answer.status_code == 403


def test_everyone_sees_the_deadline(app, auth, client, declaration):
    set_contributions_deadline(app, declaration["id"], utcnow() + timedelta(days=3, hours=2))
    auth.login("observer")
    page = client.get(f"/documents/{declaration['id']}/contributions").get_data(as_text=True)
    assert "Contributions close in" in page and "3 days" in page
    set_contributions_deadline(app, declaration["id"], utcnow() - timedelta(hours=1))
    page = client.get(f"/documents/{declaration['id']}/contributions").get_data(as_text=True)
    assert "Contributions closed at their deadline" in page


# ---- the pages ------------------------------------------------------------------------------------

def test_editing_through_the_page_keeps_what_was_typed(app, api, auth, client, declaration):
    made = submit(api, declaration["id"], title="Hospital at home", body="Care at home, first.")
    auth.login("commenter")
    listing = client.get(f"/documents/{declaration['id']}/contributions").get_data(as_text=True)
    assert f'/contributions/{made["id"]}/edit' in listing and f'/contributions/{made["id"]}/withdraw' in listing
    form = client.get(f"/contributions/{made['id']}/edit", headers=HX)
    html = form.get_data(as_text=True)
    assert form.status_code == 200 and f'id="contribution-{made["id"]}"' in html and "Care at home, first." in html
    refused = client.post(f"/contributions/{made['id']}", headers=HX, data={
        "kind": "bottleneck", "topic": "patient_care", "title": "Hospital at home <script>",
        "body": "Half-typed description", "proposal": ""})
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "proposal" in html.lower()
    assert "Hospital at home &lt;script&gt;" in html and "Half-typed description" in html
    saved = client.post(f"/contributions/{made['id']}", headers=HX, data={
        "kind": "best_practice", "topic": "patient_care", "title": "Hospital at home, revised",
        "body": "Care at home, revised.", "proposal": "", "clause_ids": [str(declaration["clause_ids"][0])]})
    html = saved.get_data(as_text=True)
    assert saved.status_code == 200 and "are saved" in html and "Hospital at home, revised" in html
    assert "edited" in html
    # Without JavaScript: a page of its own, then back to the list.
    assert client.get(f"/contributions/{made['id']}/edit").status_code == 200
    plain = client.post(f"/contributions/{made['id']}", data={
        "kind": "best_practice", "topic": "research", "title": "Hospital at home, third", "body": "Again."})
    assert plain.status_code == 302 and plain.headers["Location"].endswith(f"#contribution-{made['id']}")


def test_withdrawing_through_the_page_asks_first(app, api, auth, client, declaration):
    made = submit(api, declaration["id"], title="To be withdrawn")
    auth.login("commenter")
    listing = client.get(f"/documents/{declaration['id']}/contributions").get_data(as_text=True)
    assert "hx-confirm=\"Withdraw your contribution" in listing
    confirm = client.get(f"/contributions/{made['id']}/withdraw")
    assert confirm.status_code == 200 and "Withdraw your contribution?" in confirm.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contribution, made["id"]).withdrawn_at is None
    done = client.post(f"/contributions/{made['id']}/withdraw", headers=HX)
    assert done.status_code == 200 and "was withdrawn" in done.get_data(as_text=True)
    assert "To be withdrawn" not in client.get(f"/documents/{declaration['id']}/contributions").get_data(as_text=True)
    assert client.post(f"/contributions/{made['id']}/withdraw", headers=HX).status_code == 404


def test_others_get_no_controls_and_are_refused_on_the_page(api, auth, client, declaration):
    made = submit(api, declaration["id"])
    for role in ("signatory", "editor", "admin"):
        Auth(client).logout()
        auth.login(role)
        listing = client.get(f"/documents/{declaration['id']}/contributions").get_data(as_text=True)
        assert f'/contributions/{made["id"]}/edit' not in listing
        assert client.get(f"/contributions/{made['id']}/edit", headers=HX).status_code == 403
        assert client.post(f"/contributions/{made['id']}", headers=HX, data={"title": "x"}).status_code == 403
        assert client.post(f"/contributions/{made['id']}/withdraw", headers=HX).status_code == 403
    Auth(client).logout()
    auth.login("outsider")
    assert client.get(f"/contributions/{made['id']}/edit", headers=HX).status_code == 404
    assert client.post(f"/contributions/{made['id']}/withdraw", headers=HX).status_code == 404
