"""Restoring a deleted clause (issue 15, item 5): the operation, the page's routes and the API."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from drafting.clauses.operations import delete_clause, deleted_clauses, restore_clause
from drafting.extensions import db
from drafting.models import AuditEvent, ChangeEvent, Clause, ClauseRevision, Document, Thread, User
from drafting.text.clauses import TextError
from tests.conftest import EMAILS, HX, Auth
from tests.phases import walk


def html(response) -> str:
    return response.get_data(as_text=True)


def page_ids(text: str) -> list[int]:
    """The ids of the live clauses a page or list fragment shows, in order."""
    return [int(i) for i in re.findall(r'<li id="clause-(\d+)"', text)]


def live_ids(app, document_id: int) -> list[int]:
    with app.app_context():
        return [c.id for c in db.session.get(Document, document_id).clauses]


def versions(app, clause_id: int) -> list[tuple[int, str]]:
    with app.app_context():
        return [(r.version, r.text) for r in db.session.scalars(
            select(ClauseRevision).where(ClauseRevision.clause_id == clause_id).order_by(ClauseRevision.version))]


def user(role: str) -> User:
    return db.session.scalar(select(User).where(User.email == EMAILS[role]))


def section(text: str) -> str:
    """The Deleted clauses section of a page or list fragment ("" when there is none)."""
    match = re.search(r'<details id="deleted-clauses".*?</details>', text, re.S)
    return match.group(0) if match else ""


def listing(client, document_id: int) -> str:
    """The list the Deleted clauses section fetches when it is opened."""
    response = client.get(f"/documents/{document_id}/deleted-clauses", headers=HX)
    assert response.status_code == 200
    return html(response)


# ---- the operation ------------------------------------------------------------------------------

def test_restore_puts_the_clause_back_in_its_place_with_its_history(app, declaration):
    ids = declaration["clause_ids"]
    with app.test_request_context():
        editor = user("editor")
        clause = db.session.get(Clause, ids[2])
        text, heading, version = clause.text, clause.heading, clause.version
        delete_clause(clause, editor)
        db.session.commit()
        assert [c.id for c in db.session.get(Document, declaration["id"]).clauses] == ids[:2] + ids[3:]

        restored = restore_clause(db.session.get(Clause, ids[2]), editor)
        db.session.commit()
        assert restored.deleted_at is None and restored.position == 3
        assert (restored.text, restored.heading, restored.version) == (text, heading, version)
        document = db.session.get(Document, declaration["id"])
        assert [c.id for c in document.clauses] == ids
        assert [c.position for c in document.clauses] == list(range(1, len(ids) + 1))
        event = db.session.scalars(select(AuditEvent).where(AuditEvent.document_id == document.id)
                                   .order_by(AuditEvent.id.desc())).first()
        assert (event.action, event.clause_id, event.actor_id) == ("clause.restored", ids[2], editor.id)
        assert event.details == {"position": 3, "version": version}
        change = db.session.scalars(select(ChangeEvent).where(ChangeEvent.document_id == document.id)
                                    .order_by(ChangeEvent.seq.desc())).first()
        assert change.event == "clause.restored" and change.payload["clause_id"] == ids[2]
        assert deleted_clauses(document) == []


def test_the_former_place_is_clamped_and_a_position_can_be_given(app, declaration):
    ids = declaration["clause_ids"]
    with app.test_request_context():
        editor = user("editor")
        for clause_id in (ids[-1], ids[0], ids[1]):  # the last first: its place (n) is then past the end
            delete_clause(db.session.get(Clause, clause_id), editor)
        db.session.commit()
        restore_clause(db.session.get(Clause, ids[-1]), editor)
        db.session.commit()
        assert live_order(declaration["id"]) == ids[2:]  # back at the end, not past it
        restore_clause(db.session.get(Clause, ids[1]), editor, position=1)
        db.session.commit()
        assert live_order(declaration["id"]) == [ids[1], *ids[2:]]
        restore_clause(db.session.get(Clause, ids[0]), editor, position=10_000)
        db.session.commit()
        assert live_order(declaration["id"]) == [ids[1], *ids[2:], ids[0]]
        with pytest.raises(TextError) as refused:
            restore_clause(db.session.get(Clause, ids[0]), editor)
        assert refused.value.status == 409
        db.session.rollback()
        delete_clause(db.session.get(Clause, ids[0]), editor)
        for bad in (0, -1, "2", 2.0, True):
            with pytest.raises(TextError) as refused:
                restore_clause(db.session.get(Clause, ids[0]), editor, position=bad)
            assert refused.value.status == 422


def live_order(document_id: int) -> list[int]:
    db.session.expire_all()
    return [c.id for c in db.session.get(Document, document_id).clauses]


def test_restoring_reopens_what_the_deletion_closed(app, client, auth, api, plan):
    """The undo undoes what the deletion did to the clause's discussions (tests/test_dispositions.py
    checks the amendments, the audit trail and the notifications)."""
    clause_id = plan["clause_ids"][2]
    thread = api.as_("commenter").post(f"/clauses/{clause_id}/threads", json={"body": "<p>Who pays?</p>"})
    assert thread.status_code == 201, thread.get_json()
    assert api.as_("editor").delete(f"/clauses/{clause_id}").status_code == 204

    auth.login("editor")
    assert "Restoring it reopens what its deletion closed (1 thread)." in listing(client, plan["id"])
    answer = client.post(f"/clauses/{clause_id}/undelete", headers=HX)
    assert answer.status_code == 200
    assert "1 thread closed at its deletion is open again." in html(answer)
    with app.app_context():
        reopened = db.session.get(Thread, thread.get_json()["id"])
        assert (reopened.status, reopened.disposition, reopened.reason) == ("open", None, None)


# ---- the page's routes --------------------------------------------------------------------------

def test_delete_offers_undo_and_focuses_the_next_clause(client, auth, declaration):
    auth.login("editor")
    ids = declaration["clause_ids"]
    answer = html(client.post(f"/clauses/{ids[1]}/delete", headers=HX))
    assert page_ids(answer) == ids[:1] + ids[2:]
    # The Undo sits where the clause was, before the clause that took its place, which gets the focus.
    undo = answer.index(f'id="undo-{ids[1]}"')
    assert answer.index(f'<li id="clause-{ids[0]}"') < undo < answer.index(f'<li id="clause-{ids[2]}"')
    assert f'data-focus="clause-{ids[2]}"' in answer and 'data-focus-control="first"' in answer
    assert 'data-announce="Clause 2 (Purpose of this declaration) deleted. Undo"' in answer
    assert f'hx-post="/clauses/{ids[1]}/undelete"' in answer
    assert "Clause 2 deleted." in answer

    # The last clause: the focus goes to the one before it.
    answer = html(client.post(f"/clauses/{ids[-1]}/delete", headers=HX))
    assert f'data-focus="clause-{ids[-2]}"' in answer
    assert answer.index(f'<li id="clause-{ids[-2]}"') < answer.index(f'id="undo-{ids[-1]}"')


def test_undo_restores_the_clause_in_its_place_with_its_text_and_versions(app, client, auth, declaration):
    auth.login("editor")
    ids = declaration["clause_ids"]
    victim = ids[1]
    assert client.post(f"/clauses/{victim}", data={"text": "Version two of the purpose.", "base_version": "1"},
                       headers=HX).status_code == 200
    before = versions(app, victim)
    assert client.post(f"/clauses/{victim}/delete", headers=HX).status_code == 200
    assert client.get(f"/clauses/{victim}", headers=HX).status_code == 404

    answer = client.post(f"/clauses/{victim}/undelete", headers=HX)
    assert answer.status_code == 200
    text = html(answer)
    assert page_ids(text) == ids
    assert f'data-focus="clause-{victim}"' in text and 'data-focus-control="first"' in text
    assert "Clause 2 restored with its history." in text
    assert 'undo-delete' not in text and section(text) == ""
    assert versions(app, victim) == before and before[-1] == (2, "Version two of the purpose.")
    assert "Version two of the purpose." in html(client.get(f"/clauses/{victim}", headers=HX))
    assert page_ids(html(client.get(f"/documents/{declaration['id']}"))) == ids


def test_restore_without_htmx_redirects_to_the_clause(client, auth, declaration):
    auth.login("editor")
    victim = declaration["clause_ids"][3]
    assert client.post(f"/clauses/{victim}/delete").status_code == 302
    answer = client.post(f"/clauses/{victim}/undelete")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"#clause-{victim}")


def test_deleted_clauses_section_lists_who_deleted_and_when(app, client, auth, declaration):
    ids = declaration["clause_ids"]
    auth.login("editor")
    assert section(html(client.get(f"/documents/{declaration['id']}"))) == ""
    assert client.post(f"/clauses/{ids[1]}/delete", headers=HX).status_code == 200
    assert client.post(f"/clauses/{ids[4]}/delete", headers=HX).status_code == 200
    with app.app_context():
        headless = db.session.get(Clause, ids[4])
        first_words = " ".join(headless.text.split()[:10])
        editor = user("editor")
        who = f"{editor.name}, {editor.organisation.name}"
    page = html(client.get(f"/documents/{declaration['id']}"))
    url = f"/documents/{declaration['id']}/deleted-clauses"
    assert "Deleted clauses (2)" in section(page) and f'data-deleted-url="{url}"' in section(page)
    assert first_words not in page  # fetched only when the section is opened
    shown = listing(client, declaration["id"])
    assert shown.index(first_words) < shown.index("Purpose of this declaration")  # newest first
    assert shown.count(f"Deleted by {who}") == 2 and "<time datetime=" in shown
    assert f'href="/clauses/{ids[1]}/history"' in shown
    assert 'aria-label="Restore deleted clause: Purpose of this declaration"' in shown
    assert "(was clause 2, version 1)" in shown
    assert f'hx-post="/clauses/{ids[1]}/undelete"' in shown
    assert "closed" not in shown  # nothing was open on them
    # Without JavaScript: a page of its own, with plain forms.
    whole = html(client.get(url))
    assert "<h1>Deleted clauses</h1>" in whole and f'action="/clauses/{ids[1]}/undelete"' in whole
    assert "hx-post" not in whole.split("<h1>Deleted clauses</h1>")[1]

    # The history of a deleted clause stays readable.
    history = client.get(f"/clauses/{ids[1]}/history")
    assert history.status_code == 200 and "Purpose of this declaration" in html(history) and "v1" in html(history)

    # Restoring from the section: it leaves the section.
    answer = html(client.post(f"/clauses/{ids[1]}/undelete", headers=HX))
    assert "Deleted clauses (1)" in section(answer)
    assert "Purpose of this declaration" not in listing(client, declaration["id"])

    # Readers see the section, without Restore.
    reader = app.test_client()
    Auth(reader).login("commenter")
    assert "Deleted clauses (1)" in section(html(reader.get(f"/documents/{declaration['id']}")))
    shown = listing(reader, declaration["id"])
    assert first_words in shown and "Restore" not in shown and "/history" in shown
    outsider = app.test_client()
    Auth(outsider).login("outsider")
    assert outsider.get(url, headers=HX).status_code == 404


def test_restore_is_refused_when_not_deleted_frozen_or_not_yours(client, auth, api, declaration):
    ids = declaration["clause_ids"]
    auth.login("editor")
    answer = client.post(f"/clauses/{ids[0]}/undelete", headers=HX)
    assert answer.status_code == 409
    assert "not deleted" in html(answer) and page_ids(html(answer)) == ids  # the list stays, with why

    assert client.post(f"/clauses/{ids[1]}/delete", headers=HX).status_code == 200
    for role, status in (("commenter", 403), ("observer", 403), ("outsider", 404)):
        auth.logout()
        auth.login(role)
        assert client.post(f"/clauses/{ids[1]}/undelete", headers=HX).status_code == status, role
    walk(api, declaration["id"], "signing")
    auth.logout()
    auth.login("editor")
    assert client.post(f"/clauses/{ids[1]}/undelete", headers=HX).status_code == 423
    shown = listing(client, declaration["id"])
    assert "Purpose of this declaration" in shown and "Restore" not in shown
    assert client.post("/clauses/999999/undelete", headers=HX).status_code == 404


# ---- the API ------------------------------------------------------------------------------------

def test_api_restores_a_deleted_clause(app, api, declaration):
    ids = declaration["clause_ids"]
    editor = api.as_("editor")
    assert editor.delete(f"/clauses/{ids[2]}").status_code == 204
    answer = editor.post(f"/clauses/{ids[2]}/undelete")
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["id"], body["number"], body["version"]) == (ids[2], 3, 1)
    assert [c["id"] for c in editor.get(f"/documents/{declaration['id']}").get_json()["clauses"]] == ids

    assert editor.delete(f"/clauses/{ids[2]}").status_code == 204
    answer = editor.post(f"/clauses/{ids[2]}/undelete", json={"position": 1})
    assert answer.status_code == 200 and answer.get_json()["number"] == 1
    changes = editor.get(f"/documents/{declaration['id']}/changes?since={declaration['seq']}").get_json()
    assert [c["event"] for c in changes] == ["clause.deleted", "clause.restored", "clause.deleted", "clause.restored"]


def test_api_refusals(api, declaration, plan):
    ids = declaration["clause_ids"]
    editor = api.as_("editor")
    answer = editor.post(f"/clauses/{ids[0]}/undelete")
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "conflict"
    assert editor.delete(f"/clauses/{ids[1]}").status_code == 204
    assert editor.post(f"/clauses/{ids[1]}/undelete", json={"position": "first"}).status_code == 422
    assert editor.post(f"/clauses/{ids[1]}/undelete", json={"where": 1}).status_code == 422
    assert editor.post(f"/clauses/{ids[1]}/undelete", json=[1]).status_code == 400
    assert api.as_("commenter").post(f"/clauses/{ids[1]}/undelete").status_code == 403
    assert api.as_("admin").post(f"/clauses/{ids[1]}/undelete").status_code == 403
    answer = api.as_("outsider").post(f"/clauses/{ids[1]}/undelete")
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    walk(api, declaration["id"], "signing")
    answer = editor.post(f"/clauses/{ids[1]}/undelete")
    assert answer.status_code == 423 and answer.get_json()["error"]["code"] == "locked"


def test_api_describes_the_route(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    post = spec["paths"]["/clauses/{clause_id}/undelete"]["post"]
    assert set(post["responses"]) >= {"200", "401", "403", "404", "409", "423"}


# ---- live ---------------------------------------------------------------------------------------

def test_restore_is_broadcast_to_the_room(app, client, auth, socket_client, declaration):
    ids = declaration["clause_ids"]
    auth.login("editor")
    assert client.post(f"/clauses/{ids[1]}/delete", headers=HX).status_code == 200
    watcher_client = app.test_client()
    Auth(watcher_client).login("observer")
    watcher = socket_client(watcher_client)
    assert watcher.emit("join", {"document_id": declaration["id"]}, callback=True)["ok"] is True
    watcher.get_received()
    assert client.post(f"/clauses/{ids[1]}/undelete", headers=HX).status_code == 200
    received = [item for item in watcher.get_received() if item["name"] != "presence"]
    assert [item["name"] for item in received] == ["clause.restored"]
    payload = received[0]["args"][0]
    assert payload["clause_id"] == ids[1] and payload["document_id"] == declaration["id"]
    assert payload["seq"] == declaration["seq"] + 2

    # A refused restore is not broadcast.
    assert client.post(f"/clauses/{ids[1]}/undelete", headers=HX).status_code == 409
    assert [item for item in watcher.get_received() if item["name"] != "presence"] == []
