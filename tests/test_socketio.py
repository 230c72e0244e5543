"""Socket.IO: authenticated connections, rooms per document, change events and presence."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import User
from tests.conftest import EMAILS, HX, Auth


@pytest.fixture
def logged_in(app, socket_client):
    """Make a Flask client logged in as a role and a Socket.IO client on its session."""

    def make(role: str):
        flask_client = app.test_client()
        Auth(flask_client).login(role)
        sio = socket_client(flask_client)
        assert sio.is_connected(), role
        sio.get_received()  # drop whatever came with the connection
        return flask_client, sio

    return make


def user_id(app, role: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == EMAILS[role]))


def events(sio, name: str | None = None) -> list[dict]:
    received = sio.get_received()
    return [item["args"][0] for item in received if name is None or item["name"] == name]


def presence_when(sio, check, timeout: float = 3.0) -> dict:
    """The newest presence broadcast once it satisfies `check` (presence is coalesced: the last
    change of a burst arrives up to its interval later)."""
    deadline, latest = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        received = events(sio, "presence")
        if received:
            latest = received[-1]
            if check(latest):
                return latest
        time.sleep(0.02)
    raise AssertionError(f"no presence broadcast satisfied the check; the newest was {latest}")


def editing_of(latest: dict) -> dict:
    return {u["id"]: u["editing_clause_id"] for u in latest["users"]}


def names(received: list[dict]) -> list[str]:
    return [item["name"] for item in received]


def join(sio, document_id) -> dict:
    return sio.emit("join", {"document_id": document_id}, callback=True)


def test_anonymous_connection_is_refused(app, socket_client):
    sio = socket_client(app.test_client())
    assert not sio.is_connected()


def test_bad_token_is_refused(app, socket_client):
    sio = socket_client(app.test_client(), auth={"token": "dft_not-a-token"})
    assert not sio.is_connected()


def test_logged_out_session_is_refused(app, client, auth, socket_client):
    auth.login("editor")
    auth.logout()
    assert not socket_client(client).is_connected()


def test_member_joins_with_the_current_seq(client, auth, socket_client, declaration):
    auth.login("observer")
    sio = socket_client()
    assert sio.is_connected()
    sio.get_received()
    ack = join(sio, declaration["id"])
    assert ack == {"ok": True, "seq": declaration["seq"]}


def test_join_needs_an_integer_document_id(logged_in, declaration):
    _, sio = logged_in("editor")
    for payload in ({"document_id": str(declaration["id"])}, {}, None, "x"):
        ack = sio.emit("join", payload, callback=True)
        assert ack["ok"] is False and ack["error"], payload
    assert join(sio, 999999)["ok"] is False


def test_outsider_cannot_join_and_hears_nothing(app, logged_in, declaration):
    editor_client, _ = logged_in("editor")
    _, outsider = logged_in("outsider")
    ack = join(outsider, declaration["id"])
    assert ack["ok"] is False
    assert "member" in ack["error"]
    assert "seq" not in ack
    outsider.get_received()

    clause_id = declaration["clause_ids"][0]
    response = editor_client.post(f"/clauses/{clause_id}", headers=HX,
                                  data={"text": "Changed while an outsider listens.", "base_version": "1"})
    assert response.status_code == 200
    assert outsider.get_received() == []


def test_token_connection(app, socket_client, world, declaration):
    token = world.token("commenter")
    sio = socket_client(app.test_client(), auth={"token": token})
    assert sio.is_connected()
    sio.get_received()
    assert join(sio, declaration["id"]) == {"ok": True, "seq": declaration["seq"]}
    outsider = socket_client(app.test_client(), auth={"token": world.token("outsider")})
    assert outsider.is_connected()
    assert join(outsider, declaration["id"])["ok"] is False


def test_saved_clause_reaches_the_room_and_only_that_room(app, logged_in, declaration, plan):
    editor_client, _ = logged_in("editor")
    _, watcher = logged_in("observer")
    _, other_room = logged_in("commenter")
    assert join(watcher, declaration["id"])["ok"] is True
    assert join(other_room, plan["id"])["ok"] is True
    watcher.get_received()
    other_room.get_received()

    clause_id = declaration["clause_ids"][0]
    response = editor_client.post(f"/clauses/{clause_id}", headers=HX,
                                  data={"text": "A live change.", "base_version": "1"})
    assert response.status_code == 200

    received = watcher.get_received()
    updates = [item["args"][0] for item in received if item["name"] == "clause.updated"]
    assert updates == [{"document_id": declaration["id"], "seq": declaration["seq"] + 1,
                        "actor": user_id(app, "editor"), "clause_id": clause_id, "version": 2,
                        "merged": False}]
    assert other_room.get_received() == []


def test_merged_save_is_announced_as_merged(app, logged_in, declaration, api):
    editor_client, _ = logged_in("editor")
    _, watcher = logged_in("signatory")
    assert join(watcher, declaration["id"])["ok"] is True
    clause_id = declaration["clause_ids"][0]
    base = api.as_("editor").get(f"/documents/{declaration['id']}").get_json()["clauses"][0]["text"]
    first = base.replace("from Bulgaria,", "from the Republic of Bulgaria,")
    second = base.replace("one of its priorities", "one of its main priorities")
    watcher.get_received()
    assert editor_client.post(f"/clauses/{clause_id}", headers=HX,
                              data={"text": first, "base_version": "1"}).status_code == 200
    assert editor_client.post(f"/clauses/{clause_id}", headers=HX,
                              data={"text": second, "base_version": "1"}).status_code == 200
    updates = events(watcher, "clause.updated")
    assert [(u["version"], u["merged"], u["seq"]) for u in updates] == [
        (2, False, declaration["seq"] + 1), (3, True, declaration["seq"] + 2)]


def test_refused_change_is_not_broadcast(logged_in, declaration):
    editor_client, _ = logged_in("editor")
    _, watcher = logged_in("observer")
    assert join(watcher, declaration["id"])["ok"] is True
    watcher.get_received()
    clause_id = declaration["clause_ids"][0]
    assert editor_client.post(f"/clauses/{clause_id}", headers=HX,
                              data={"text": "", "base_version": "1"}).status_code == 422
    assert editor_client.post(f"/clauses/{clause_id}", headers=HX,
                              data={"text": "x" * 50_001, "base_version": "1"}).status_code == 413
    # Presence may still arrive (joins are announced a moment later, coalesced): it is not a change.
    assert [item for item in watcher.get_received() if item["name"] != "presence"] == []


def test_other_changes_are_broadcast_with_their_names(app, logged_in, declaration):
    editor_client, _ = logged_in("editor")
    _, watcher = logged_in("observer")
    assert join(watcher, declaration["id"])["ok"] is True
    watcher.get_received()
    ids = declaration["clause_ids"]
    assert editor_client.post(f"/documents/{declaration['id']}/clauses", headers=HX,
                              data={"text": "Added live."}).status_code == 200
    assert editor_client.post(f"/clauses/{ids[1]}/move", headers=HX, data={"direction": "up"}).status_code == 200
    assert editor_client.post(f"/clauses/{ids[2]}/delete", headers=HX).status_code == 200
    received = [item for item in watcher.get_received() if item["name"] != "presence"]
    assert names(received) == ["clause.created", "clause.moved", "clause.moved", "clause.deleted"]
    seqs = [item["args"][0]["seq"] for item in received]
    assert seqs == list(range(declaration["seq"] + 1, declaration["seq"] + 5))
    assert {item["args"][0]["clause_id"] for item in received[1:3]} == {ids[0], ids[1]}
    assert received[-1]["args"][0]["clause_id"] == ids[2]
    for item in received:
        assert item["args"][0]["document_id"] == declaration["id"]
        assert item["args"][0]["actor"] == user_id(app, "editor")


def test_presence_lists_joined_users_and_the_clause_being_edited(app, logged_in, declaration):
    _, editor = logged_in("editor")
    _, observer = logged_in("observer")
    assert join(editor, declaration["id"])["ok"] is True
    assert join(observer, declaration["id"])["ok"] is True
    latest = presence_when(observer, lambda p: len(p["users"]) == 2)  # joining broadcasts presence
    assert "seq" not in latest
    assert latest["document_id"] == declaration["id"]
    by_id = {u["id"]: u for u in latest["users"]}
    assert set(by_id) == {user_id(app, "editor"), user_id(app, "observer")}
    assert by_id[user_id(app, "editor")] == {"id": user_id(app, "editor"), "name": "Tereza Novotná",
                                              "organisation": "Vltava Digital Health Cluster",
                                              "editing_clause_id": None}
    assert by_id[user_id(app, "observer")]["organisation"] == "Baltic Health Network Secretariat"

    clause_id = declaration["clause_ids"][1]
    ack = editor.emit("editing", {"document_id": declaration["id"], "clause_id": clause_id}, callback=True)
    assert ack == {"ok": True}
    latest = presence_when(observer, lambda p: editing_of(p)[user_id(app, "editor")] == clause_id)
    assert editing_of(latest)[user_id(app, "observer")] is None

    # stops editing
    editor.emit("editing", {"document_id": declaration["id"], "clause_id": None}, callback=True)
    presence_when(observer, lambda p: editing_of(p)[user_id(app, "editor")] is None)


def test_editing_needs_a_joined_document(logged_in, declaration):
    _, sio = logged_in("editor")
    ack = sio.emit("editing", {"document_id": declaration["id"], "clause_id": declaration["clause_ids"][0]},
                   callback=True)
    assert ack["ok"] is False


def test_leaving_and_disconnecting_update_presence(app, logged_in, declaration):
    _, editor = logged_in("editor")
    _, observer = logged_in("observer")
    assert join(editor, declaration["id"])["ok"] is True
    assert join(observer, declaration["id"])["ok"] is True
    observer.get_received()

    only_observer = [user_id(app, "observer")]
    assert editor.emit("leave", {"document_id": declaration["id"]}, callback=True) == {"ok": True}
    presence_when(observer, lambda p: [u["id"] for u in p["users"]] == only_observer)

    assert join(editor, declaration["id"])["ok"] is True
    presence_when(observer, lambda p: len(p["users"]) == 2)
    editor.disconnect()
    presence_when(observer, lambda p: [u["id"] for u in p["users"]] == only_observer)


def test_logging_out_leaves_the_room_at_once(app, logged_in, declaration):
    """DESIGN.md, Live collaboration: a user who logs out leaves its room at once."""
    editor_client, _ = logged_in("editor")
    observer_client, watcher = logged_in("observer")
    assert join(watcher, declaration["id"])["ok"] is True
    assert observer_client.post("/logout").status_code == 302
    if watcher.is_connected():
        watcher.get_received()
    clause_id = declaration["clause_ids"][0]
    response = editor_client.post(f"/clauses/{clause_id}", headers=HX,
                                  data={"text": "Said after the observer logged out.", "base_version": "1"})
    assert response.status_code == 200
    if watcher.is_connected():
        assert [item["name"] for item in watcher.get_received() if item["name"] != "presence"] == []


def test_a_member_removed_from_the_document_leaves_its_room_at_once(app, logged_in, declaration, api):
    editor_client, _ = logged_in("editor")
    _, watcher = logged_in("observer")
    assert join(watcher, declaration["id"])["ok"] is True
    watcher.get_received()
    removed = api.as_("admin").delete(f"/documents/{declaration['id']}/members/{user_id(app, 'observer')}")
    assert removed.status_code == 204
    assert watcher.is_connected()  # still connected, but no longer in the document's room
    clause_id = declaration["clause_ids"][0]
    saved = editor_client.post(f"/clauses/{clause_id}", headers=HX,
                               data={"text": "Said after the observer was removed.", "base_version": "1"})
    assert saved.status_code == 200
    assert [item["name"] for item in watcher.get_received() if item["name"] != "presence"] == []
    assert join(watcher, declaration["id"])["ok"] is False  # and cannot come back


def test_removing_someone_without_a_role_is_404(app, api, declaration):
    response = api.as_("admin").delete(f"/documents/{declaration['id']}/members/{user_id(app, 'outsider')}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
