"""Clause history, diffs, restore, named versions, comparisons and 'changed since your last visit'."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import ClauseRevision, DocumentVisit, User
from drafting.models.base import utcnow
from tests.conftest import EMAILS, HX
from tests.phases import walk

NASTY = '<script>alert("x")</script> & <b>bold</b> "quoted"'


def patch(api, clause_id, text, base, role="editor"):
    response = api.as_(role).patch(f"/clauses/{clause_id}", json={"text": text, "base_version": base})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["clause"]


def test_history_panel_lists_every_revision_with_author_organisation_time_and_origin(client, auth, api, declaration):
    clause_id = declaration["clause_ids"][0]
    patch(api, clause_id, "Second wording.", 1)
    patch(api, clause_id, "Third wording.", 2)
    auth.login("observer")
    panel = client.get(f"/clauses/{clause_id}/history", headers=HX)
    assert panel.status_code == 200
    text = panel.get_data(as_text=True)
    for version in ("v1", "v2", "v3"):
        assert f"<th scope=\"row\">{version}</th>" in text
    assert "Tereza Novotná" in text and "Vltava Digital Health Cluster" in text
    assert "UTC" in text and "origin-edit" in text
    # The latest change is shown as a diff straight away, and observers get no restore buttons.
    assert "Version 2 → version 3" in text and "<del>" in text and "<ins>" in text
    assert "Restore" not in text
    full = client.get(f"/clauses/{clause_id}/history")
    assert full.status_code == 200 and "<h1>History of" in full.get_data(as_text=True)


def test_diff_views_escape_html_special_characters_everywhere(client, auth, api, declaration):
    clause_id = declaration["clause_ids"][1]
    patch(api, clause_id, NASTY, 1)
    patch(api, clause_id, NASTY + " <i>more</i>", 2)
    auth.login("editor")
    for view in ("inline", "side"):
        page = client.get(f"/clauses/{clause_id}/diff?from=1&to=3&view={view}", headers=HX).get_data(as_text=True)
        assert "<script>alert" not in page and "<b>bold</b>" not in page and "<i>more</i>" not in page
        assert "&lt;script&gt;alert(" in page and "&lt;i&gt;more&lt;/i&gt;" in page
    assert 'class="side-by-side"' in client.get(f"/clauses/{clause_id}/diff?from=1&to=3&view=side",
                                                 headers=HX).get_data(as_text=True)
    api_diff = api.as_("observer").get(f"/clauses/{clause_id}/diff?from=2&to=3").get_json()
    assert "<script>" not in api_diff["html"] and "&lt;i&gt;more&lt;/i&gt;" in api_diff["html"]
    snapshot = api.as_("editor").post(f"/documents/{declaration['id']}/snapshots", json={"name": "Before"})
    patch(api, clause_id, NASTY + " <u>later</u>", 3)
    compared = client.get(f"/documents/{declaration['id']}/compare?from={snapshot.get_json()['id']}&to=current")
    body = compared.get_data(as_text=True)
    assert compared.status_code == 200
    assert "<script>alert" not in body and "<u>" not in body
    assert "&lt;script&gt;" in body and "later" in body


def test_diff_marks_insertions_and_deletions_with_a_text_cue(api, declaration):
    clause_id = declaration["clause_ids"][2]
    old = api.as_("editor").get(f"/clauses/{clause_id}/revisions").get_json()[0]["text"]
    patch(api, clause_id, old.replace("Recalling", "Recalling with concern", 1), 1)
    result = api.as_("observer").get(f"/clauses/{clause_id}/diff?from=1&to=2").get_json()
    assert result["from"] == 1 and result["to"] == 2
    assert [op for op, _ in result["ops"]] == [0, 1, 0]
    assert result["ops"][1][1].strip() == "with concern"
    assert "[inserted: " in result["html"]
    assert "".join(t for op, t in result["ops"] if op != 1) == old


def test_from_later_than_to_shows_the_reverse_change(api, declaration):
    clause_id = declaration["clause_ids"][3]
    v1 = api.as_("editor").get(f"/clauses/{clause_id}/revisions").get_json()[0]["text"]
    patch(api, clause_id, "Only the new words.", 1)
    reverse = api.as_("editor").get(f"/clauses/{clause_id}/diff?from=2&to=1").get_json()
    assert reverse["from"] == 2 and reverse["to"] == 1
    assert "".join(t for op, t in reverse["ops"] if op != 1) == "Only the new words."
    assert "".join(t for op, t in reverse["ops"] if op != -1) == v1


@pytest.mark.parametrize("query", ["from=1&to=9", "from=0&to=1"])
def test_unknown_versions_are_404(client, auth, api, declaration, query):
    clause_id = declaration["clause_ids"][0]
    response = api.as_("editor").get(f"/clauses/{clause_id}/diff?{query}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    auth.login("editor")
    assert client.get(f"/clauses/{clause_id}/diff?{query}", headers=HX).status_code == 404


@pytest.mark.parametrize("query", ["from=x&to=1", "from=a&to=2", "to=1", "", "from=%C2%B2&to=1"])
def test_versions_that_are_no_numbers_are_422_not_404(client, auth, api, declaration, query):
    clause_id = declaration["clause_ids"][0]
    response = api.as_("editor").get(f"/clauses/{clause_id}/diff?{query}")
    assert response.status_code == 422
    message = response.get_json()["error"]["message"]
    assert "None" not in message and ("version number" in message or "not a version" in message)
    auth.login("editor")
    assert client.get(f"/clauses/{clause_id}/diff?{query}", headers=HX).status_code == 422
    compared = api.as_("editor").get(f"/documents/{declaration['id']}/compare?{query}")
    assert compared.status_code == 422 and "None" not in compared.get_json()["error"]["message"]
    assert client.get(f"/documents/{declaration['id']}/compare?{query}").status_code == 422


def test_restore_makes_an_old_version_current_as_a_new_revision(client, auth, api, declaration, socket_client):
    clause_id = declaration["clause_ids"][4]
    original = api.as_("editor").get(f"/clauses/{clause_id}/revisions").get_json()[0]["text"]
    patch(api, clause_id, "A rewrite the committee regrets.", 1)
    auth.login("editor")
    listener = socket_client()
    assert listener.emit("join", {"document_id": declaration["id"]}, callback=True)["ok"]
    listener.get_received()
    response = client.post(f"/clauses/{clause_id}/restore", data={"version": "1"}, headers=HX)
    assert response.status_code == 200
    assert "Restored version 1 as version 3." in response.get_data(as_text=True)
    history = api.as_("editor").get(f"/clauses/{clause_id}/revisions").get_json()
    assert [r["origin"] for r in history] == ["edit", "edit", "restore"]
    assert history[-1]["text"] == original
    events = [e for e in listener.get_received() if e["name"] == "clause.updated"]
    assert events and events[0]["args"][0]["version"] == 3  # broadcast like any save


def test_restore_through_the_api_and_its_refusals(api, declaration):
    clause_id = declaration["clause_ids"][4]
    patch(api, clause_id, "Changed.", 1)
    assert api.as_("observer").post(f"/clauses/{clause_id}/restore", json={"version": 1}).status_code == 403
    assert api.as_("editor").post(f"/clauses/{clause_id}/restore", json={"version": 7}).status_code == 404
    done = api.as_("editor").post(f"/clauses/{clause_id}/restore", json={"version": 1})
    assert done.status_code == 200 and done.get_json()["clause"]["version"] == 3
    walk(api, declaration["id"], "signing")
    frozen = api.as_("editor").post(f"/clauses/{clause_id}/restore", json={"version": 2})
    assert frozen.status_code == 423


def test_snapshot_compare_lists_added_removed_moved_and_changed(api, declaration):
    editor = api.as_("editor")
    doc_id, ids = declaration["id"], declaration["clause_ids"]
    first = editor.post(f"/documents/{doc_id}/snapshots", json={"name": "Consultation draft"})
    assert first.status_code == 201
    first = first.get_json()
    assert len(first["content_hash"]) == 64

    patch(api, ids[0], "The preamble, rewritten.", 1)                       # changed
    assert editor.delete(f"/clauses/{ids[1]}").status_code == 204           # removed
    added = editor.post(f"/documents/{doc_id}/clauses", json={"text": "A brand-new clause.", "after": ids[3]})
    assert added.status_code == 201                                         # added
    order = [c["id"] for c in editor.get(f"/documents/{doc_id}").get_json()["clauses"]]
    moved_id = order.pop(order.index(ids[10]))
    order.insert(2, moved_id)                                               # moved
    with api.client.application.app_context():
        from drafting.clauses.operations import reorder_clauses
        from drafting.models import Document

        document = db.session.get(Document, doc_id)
        actor = db.session.scalar(select(User).where(User.email == EMAILS["editor"]))
        reorder_clauses(document, actor, order)
        db.session.commit()

    second = editor.post(f"/documents/{doc_id}/snapshots", json={"name": "Final text"}).get_json()
    assert second["content_hash"] != first["content_hash"]
    result = editor.get(f"/documents/{doc_id}/compare?from={first['id']}&to={second['id']}").get_json()
    assert result["summary"] == {"added": 1, "removed": 1, "moved": 1, "changed": 1}
    assert result["added"][0]["text"] == "A brand-new clause."
    assert result["removed"][0]["clause_id"] == ids[1]
    assert result["moved"][0]["clause_id"] == moved_id
    changed = result["changed"][0]
    assert changed["clause_id"] == ids[0] and changed["from_version"] == 1 and changed["to_version"] == 2
    assert any(op == 1 and "rewritten" in text for op, text in changed["ops"])
    # Against the current text the same holds; against itself nothing differs.
    assert editor.get(f"/documents/{doc_id}/compare?from={first['id']}&to=current").get_json()["summary"] == \
        result["summary"]
    same = editor.get(f"/documents/{doc_id}/compare?from={second['id']}&to=current").get_json()
    assert same["summary"] == {"added": 0, "removed": 0, "moved": 0, "changed": 0}
    # Reverse direction: what was added is now removed.
    back = editor.get(f"/documents/{doc_id}/compare?from={second['id']}&to={first['id']}").get_json()
    assert back["summary"]["added"] == 1 and back["summary"]["removed"] == 1


def test_compare_page_summarises_and_prints(client, auth, api, declaration):
    editor = api.as_("editor")
    snap = editor.post(f"/documents/{declaration['id']}/snapshots", json={"name": "Draft 1"}).get_json()
    patch(api, declaration["clause_ids"][0], "Changed for the comparison page.", 1)
    auth.login("commenter")
    page = client.get(f"/documents/{declaration['id']}/compare?from={snap['id']}&to=current")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<strong>1</strong> changed" in text and "<strong>0</strong> added" in text
    assert "data-print" in text and "comparison" in text


def test_snapshots_need_an_editor_a_name_and_a_known_id(client, auth, api, declaration, world):
    doc_id = declaration["id"]
    assert api.as_("commenter").post(f"/documents/{doc_id}/snapshots", json={"name": "x"}).status_code == 403
    assert api.as_("editor").post(f"/documents/{doc_id}/snapshots", json={"name": "  "}).status_code == 422
    assert api.as_("editor").post(f"/documents/{doc_id}/snapshots", json={"name": "n" * 201}).status_code == 413
    assert api.as_("editor").get(f"/documents/{doc_id}/compare?from=999&to=current").status_code == 404
    other = world.document("action_plan")
    foreign = api.as_("editor").post(f"/documents/{other['id']}/snapshots", json={"name": "Plan"}).get_json()
    assert api.as_("editor").get(f"/documents/{doc_id}/compare?from={foreign['id']}").status_code == 404
    assert api.as_("outsider").get(f"/documents/{doc_id}/snapshots").status_code == 404
    auth.login("editor")
    form = client.post(f"/documents/{doc_id}/versions", data={"name": ""})
    assert form.status_code == 422 and "needs a name" in form.get_data(as_text=True)
    made = client.post(f"/documents/{doc_id}/versions", data={"name": "Consultation draft"})
    assert made.status_code == 302
    listing = client.get(f"/documents/{doc_id}/versions").get_data(as_text=True)
    assert "Consultation draft" in listing and "Named version saved." not in listing


def _age_visit(app, role, document_id, minutes, age_text=True):
    """Pretend the user's last visit began some minutes ago (and the seeded text long before)."""
    with app.app_context():
        for revision in (db.session.scalars(select(ClauseRevision)) if age_text else ()):
            if revision.created_at < utcnow() - timedelta(seconds=1):
                revision.created_at -= timedelta(days=1)
        user = db.session.scalar(select(User).where(User.email == EMAILS[role]))
        visit = db.session.scalar(select(DocumentVisit).where(
            DocumentVisit.user_id == user.id, DocumentVisit.document_id == document_id))
        visit.opened_at -= timedelta(minutes=minutes)
        visit.seen_at -= timedelta(minutes=minutes)
        db.session.commit()


def test_changed_since_your_last_visit_marks_clauses_until_marked_seen(app, client, auth, api, declaration):
    doc_id, ids = declaration["id"], declaration["clause_ids"]
    auth.login("observer")
    first = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "changed since your last visit" not in first  # a first visit marks nothing
    _age_visit(app, "observer", doc_id, 90)

    patch(api, ids[2], "Changed while the observer was away.", 1)
    api.as_("editor").post(f"/documents/{doc_id}/clauses", json={"text": "New while away.", "after": ids[0]})

    again = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "2 clauses changed since your last visit" in again
    assert "Changed since your last visit." in again and "New since your last visit." in again
    assert f"/clauses/{ids[2]}/diff?from=1&amp;to=2" in again
    # A reload within the same visit keeps the marks.
    assert "2 clauses changed since your last visit" in client.get(f"/documents/{doc_id}").get_data(as_text=True)

    assert client.post(f"/documents/{doc_id}/seen").status_code == 302
    cleared = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "changed since your last visit" not in cleared and "Changed since your last visit." not in cleared


def test_own_changes_are_not_news(app, client, auth, api, declaration):
    doc_id, ids = declaration["id"], declaration["clause_ids"]
    auth.login("editor")
    client.get(f"/documents/{doc_id}")
    _age_visit(app, "editor", doc_id, 90)
    client.post(f"/clauses/{ids[0]}", data={"text": "My own change.", "base_version": "1"}, headers=HX)
    patch(api, ids[1], "Someone else's change.", 1, role="editor2")
    _age_visit(app, "editor", doc_id, 90, age_text=False)
    page = client.get(f"/documents/{doc_id}").get_data(as_text=True)
    assert "1 clause changed since your last visit" in page
    assert f"/clauses/{ids[1]}/diff?from=1&amp;to=2" in page
    assert f"/clauses/{ids[0]}/diff?" not in page


def test_history_of_a_deleted_clause_stays_readable(client, auth, api, declaration):
    clause_id = declaration["clause_ids"][6]
    patch(api, clause_id, "Last words before deletion.", 1)
    assert api.as_("editor").delete(f"/clauses/{clause_id}").status_code == 204
    auth.login("commenter")
    page = client.get(f"/clauses/{clause_id}/history")
    assert page.status_code == 200 and "was deleted" in page.get_data(as_text=True)
    assert api.as_("commenter").get(f"/clauses/{clause_id}/diff?from=1&to=2").status_code == 200
    assert api.as_("editor").post(f"/clauses/{clause_id}/restore", json={"version": 1}).status_code == 404


def test_outsiders_see_no_history(client, auth, api, declaration):
    clause_id = declaration["clause_ids"][0]
    auth.login("outsider")
    assert client.get(f"/clauses/{clause_id}/history", headers=HX).status_code == 404
    assert client.get(f"/clauses/{clause_id}/diff?from=1&to=1", headers=HX).status_code == 404
    assert client.get(f"/documents/{declaration['id']}/versions").status_code == 404
    assert api.as_("outsider").get(f"/clauses/{clause_id}/diff?from=1&to=1").status_code == 404


def test_diff_of_many_repeated_paragraphs_is_bounded_in_size_and_exact(client, auth, api, declaration):
    """The worst case of the issue: 16,666 one-letter paragraphs, each changed (3.9 MB and 139 s before)."""
    clause_id = declaration["clause_ids"][2]
    old, new = "a\n\n" * 16_666, "b\n\n" * 16_666
    patch(api, clause_id, old, 1)
    patch(api, clause_id, new, 2)
    response = api.as_("observer").get(f"/clauses/{clause_id}/diff?from=2&to=3")
    assert response.status_code == 200
    assert len(response.data) < 500_000
    ops = response.get_json()["ops"]
    assert "".join(text for op, text in ops if op <= 0) == old
    assert "".join(text for op, text in ops if op >= 0) == new
    auth.login("observer")
    page = client.get(f"/clauses/{clause_id}/diff?from=2&to=3", headers=HX)
    assert page.status_code == 200 and len(page.data) < 1_000_000
