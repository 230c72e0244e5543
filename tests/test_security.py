"""Security controls that are not covered elsewhere: headers, secrets, login throttling, Socket.IO
bounds, mass assignment and request limits. docs/security.md maps each threat to its test."""

from __future__ import annotations

import gc
import json
import warnings
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
import socketio
import websocket

from drafting import events
from drafting.app import create_app
from drafting.config import Config
from drafting.text.sanitise import ALLOWED_TAGS
from tests.conftest import EMAILS, HX, PASSWORD, World, live_env, make_app
from tests.served import LiveServer
from tests.test_live_server import hang_up


def test_security_headers_on_pages_fragments_and_the_api(client, auth, api, world):
    auth.login("editor")
    clause_id = world.document()["clause_ids"][0]
    for response in (client.get("/login"), client.get("/documents"), client.get(f"/clauses/{clause_id}", headers=HX),
                     api.as_("editor").get("/documents")):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_htmx_is_configured_without_eval_and_pages_have_no_inline_script(client, auth, world):
    auth.login("editor")
    page = client.get(f"/documents/{world.document()['id']}").get_data(as_text=True)
    assert '"allowEval": false' in page
    assert "<script>" not in page and " onclick=" not in page and "hx-on" not in page


def test_outside_development_the_app_refuses_to_start_without_a_secret_key(monkeypatch):
    class Production(Config):
        ENV_NAME = "production"
        SECRET_KEY = None
        SQLALCHEMY_DATABASE_URI = "sqlite://"

    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app(Production)


def _login(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def test_login_is_throttled_per_account(client):
    for _ in range(5):
        assert _login(client, EMAILS["editor"], "wrong password").status_code == 401
    blocked = _login(client, EMAILS["editor"], PASSWORD)  # even the right password now waits
    assert blocked.status_code == 429 and "Too many failed attempts" in blocked.get_data(as_text=True)
    assert int(blocked.headers["Retry-After"]) > 0
    assert _login(client, EMAILS["observer"], PASSWORD).status_code == 302  # other accounts unaffected


def test_login_is_throttled_per_address(client):
    for n in range(20):
        assert _login(client, f"nobody{n}@example.org", "guess").status_code == 401
    assert _login(client, EMAILS["observer"], PASSWORD).status_code == 429


def _login_next(location: str) -> str | None:
    parts = urlsplit(location)
    assert parts.path == "/login" and not parts.netloc
    return parse_qs(parts.query).get("next", [None])[0]


def test_an_ended_session_sends_the_whole_page_to_the_login_not_the_fragment(client, auth, world):
    document = world.document()
    clause_id = document["clause_ids"][0]
    page = f"http://localhost/documents/{document['id']}?x=1"
    fragment = client.get(f"/clauses/{clause_id}/history",
                          headers={"HX-Request": "true", "HX-Current-URL": page})
    assert fragment.status_code == 401 and "<form" not in fragment.get_data(as_text=True)
    assert _login_next(fragment.headers["HX-Redirect"]) == f"/documents/{document['id']}?x=1"
    # A current URL elsewhere is not followed after login.
    elsewhere = client.get(f"/clauses/{clause_id}/history",
                           headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"})
    assert _login_next(elsewhere.headers["HX-Redirect"]) == "/x"  # only the path: never another host
    assert client.get(f"/clauses/{clause_id}/history", headers={"HX-Request": "true"}).headers["HX-Redirect"] == "/login"
    # A page (no htmx) is redirected as before, and comes back after the login.
    plain = client.get(f"/documents/{document['id']}?x=1")
    assert plain.status_code == 302 and _login_next(plain.headers["Location"]) == f"/documents/{document['id']}?x=1"
    back = client.post(plain.headers["Location"], data={"email": EMAILS["editor"], "password": PASSWORD})
    assert back.status_code == 302 and back.headers["Location"] == f"/documents/{document['id']}?x=1"


def test_extra_fields_are_ignored_no_mass_assignment(api, world):
    declaration = world.document("declaration")
    plan = world.document("action_plan")
    editor, admin, commenter = api.as_("editor"), api.as_("admin"), api.as_("commenter")
    clause_id = declaration["clause_ids"][0]
    # Fields a clause can be written with are refused, not silently dropped: nothing is saved.
    refused = editor.patch(f"/clauses/{clause_id}", json={
        "text": "Plain edit.", "base_version": 1, "author": "someone else",
        "organisation": "Another Cluster", "origin": "import", "document_id": plan["id"]})
    assert refused.status_code == 422 and "author" in refused.get_json()["error"]["message"]
    assert editor.get(f"/clauses/{clause_id}/revisions").get_json()[-1]["version"] == 1
    # The read-only fields of the clause object read before (id, number, version) are ignored.
    saved = editor.patch(f"/clauses/{clause_id}", json={
        "text": "Plain edit.", "base_version": 1, "version": 99, "id": 12345, "number": 7})
    assert saved.status_code == 200
    assert saved.get_json()["clause"]["version"] == 2 and saved.get_json()["clause"]["id"] == clause_id
    revision = editor.get(f"/clauses/{clause_id}/revisions").get_json()[-1]
    assert revision["author"] == "Tereza Novotná" and revision["origin"] == "edit"
    created = admin.post("/documents", json={"title": "New", "kind": "declaration", "phase": "adopted",
                                             "seq": 50, "id": 1})
    assert created.status_code == 201 and created.get_json()["phase"] == "drafting"
    assert created.get_json()["seq"] == 0 and created.get_json()["id"] != 1
    thread = commenter.post(f"/clauses/{plan['clause_ids'][0]}/threads",
                            json={"body": "A question.", "status": "resolved", "author_id": 1})
    assert thread.status_code == 201 and thread.get_json()["status"] == "open"
    amendment = commenter.post(f"/clauses/{plan['clause_ids'][1]}/amendments",
                               json={"text": "New text.", "rationale": "Why.", "status": "accepted"})
    assert amendment.status_code == 201 and amendment.get_json()["status"] == "open"
    member = admin.post(f"/documents/{declaration['id']}/members",
                        json={"email": EMAILS["outsider"], "role": "observer", "is_admin": True})
    assert member.status_code == 201
    assert World(api.client.application).user("outsider").is_admin is False


def test_request_bodies_are_limited(api, world):
    clause_id = world.document()["clause_ids"][0]
    huge = json.dumps({"text": "x" * (3 * 1024 * 1024), "base_version": 1})
    response = api.as_("editor").patch(f"/clauses/{clause_id}", data=huge, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"
    assert api.as_("editor").patch(f"/clauses/{clause_id}", data="{not json",
                                   content_type="application/json").status_code == 400


def test_the_sanitiser_allow_list_never_includes_dangerous_elements():
    assert not {"svg", "math", "noscript", "style", "script", "iframe", "template", "object"} & set(ALLOWED_TAGS)


def test_user_content_sits_in_hx_disable_containers(client, auth, api, world):
    plan = world.document("action_plan")
    clause_id = plan["clause_ids"][0]
    injected = '<div hx-get="/logout" hx-trigger="load">x</div>'
    api.as_("editor").patch(f"/clauses/{clause_id}", json={"text": injected, "base_version": 1})
    api.as_("commenter").post(f"/clauses/{clause_id}/threads", json={"body": injected})
    auth.login("observer")
    page = client.get(f"/documents/{plan['id']}").get_data(as_text=True)
    assert '<div hx-get="/logout"' not in page  # escaped in clause text, escaped or stripped in comments
    assert page.count('class="clause-text" hx-disable') >= len(plan["clause_ids"])


# ---- Socket.IO ------------------------------------------------------------------------------

@pytest.fixture
def served(database):
    server = LiveServer(database, env=live_env())
    yield server, World(make_app(database))
    server.stop()


def _close(client: socketio.Client) -> None:
    """Release the client's sockets even when the server dropped the connection."""
    hang_up(client)
    transport = client.eio
    if getattr(transport, "ws", None) is not None:
        transport.ws.close()
    if getattr(transport, "http", None) is not None:
        transport.http.close()
    # The client library can drop its socket object without closing it when the server cuts
    # the connection; collect it here, where that is expected, rather than in a later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def test_socketio_refuses_cross_site_origins(served):
    server, world = served
    token = world.token("observer")
    evil = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        evil.connect(server.base, auth={"token": token}, headers={"Origin": "https://evil.example"},
                     transports=["polling"], wait_timeout=5)
    _close(evil)
    same = socketio.Client(reconnection=False)
    same.connect(server.base, auth={"token": token}, headers={"Origin": server.base},
                 transports=["polling"], wait_timeout=5)
    assert same.connected
    _close(same)


def test_socketio_messages_over_the_size_bound_close_the_connection(served):
    """Speak Engine.IO 4 / Socket.IO 5 over a raw WebSocket, so the socket is closed here for sure."""
    server, world = served
    url = server.base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=5)
    try:
        assert ws.recv().startswith("0")                                 # Engine.IO open
        ws.send("40" + json.dumps({"token": world.token("observer")}))  # Socket.IO connect with auth
        assert ws.recv().startswith("40")                                # connected
        ws.send("421" + json.dumps(["join", {"document_id": world.document()["id"]}]))  # ack id 1
        small = ws.recv()
        while not small.startswith("431"):  # skip presence broadcasts until the join's ack
            small = ws.recv()
        assert '"ok":true' in small.replace(" ", "")
        ws.send("42" + json.dumps(["editing", {"document_id": 1, "padding": "x" * 64 * 1024}]))
        with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError, OSError)):
            for _ in range(20):
                if ws.recv() == "":
                    raise websocket.WebSocketConnectionClosedException("closed")
    finally:
        ws.shutdown()  # closes the socket even though the server already ended the connection
    assert requests.get(server.url("/login"), timeout=5).status_code == 200  # the server carries on


def test_a_client_flooding_events_is_disconnected(app, client, auth, socket_client, monkeypatch):
    # All 40 events inside one second, as a flood is, however slow this machine is today (the
    # windows are whole seconds: 40 events spread over two or three of them may never pass 20).
    monkeypatch.setattr(events._flood, "clock", lambda: 1_000_000.5)
    auth.login("observer")
    sio = socket_client()
    assert sio.is_connected()
    document_id = World(app).document()["id"]
    answers = []
    for _ in range(40):
        if not sio.is_connected():
            break
        answers.append(sio.emit("editing", {"document_id": document_id, "clause_id": None}, callback=True))
    assert answers[-1] == {"ok": False, "error": "too many messages"}
    assert len(answers) <= 21  # the bound is 20 events a second
    assert not sio.is_connected()


def test_unknown_socketio_events_change_nothing(app, client, auth, socket_client, api):
    auth.login("editor")
    sio = socket_client()
    declaration = World(app).document()
    answer = sio.emit("clause.updated", {"clause_id": declaration["clause_ids"][0], "text": "forged"},
                      callback=True)
    assert answer["ok"] is False and "changes go through HTTP" in answer["error"]
    assert api.as_("editor").get(f"/documents/{declaration['id']}").get_json()["seq"] == declaration["seq"]


@pytest.mark.parametrize("raw", [b'{"title": "\\u0000", "kind": "declaration"}',
                                 b'{"title": "A\\U0000b", "kind": "declaration"}',
                                 b'{"title": "A\\\\\\u0000", "kind": "declaration"}',
                                 b'{"title": "A\x00", "kind": "declaration"}'])
def test_a_nul_character_is_refused_with_422_on_every_database(api, raw):
    # PostgreSQL cannot store U+0000 in text; SQLite can. Both answer the same, before any view.
    answer = api.as_("admin").post("/documents", data=raw, content_type="application/json")
    assert answer.status_code == 422
    assert "NUL" in answer.get_json()["error"]["message"]


def test_an_escaped_backslash_before_u0000_is_ordinary_text(api):
    answer = api.as_("admin").post("/documents", data=b'{"title": "Path C:\\\\u0000 is fine", "kind": "declaration"}',
                                   content_type="application/json")
    assert answer.status_code == 201 and answer.get_json()["title"] == "Path C:\\u0000 is fine"


def test_a_nul_in_a_form_or_a_query_is_refused(client, auth, world):
    document = world.document("declaration")
    auth.login("editor")
    answer = client.post(f"/documents/{document['id']}/clauses", data={"text": "Bad\x00text"})
    assert answer.status_code == 422 and "NUL" in answer.get_data(as_text=True)
    assert client.get(f"/documents/{document['id']}/contributions?topic=%00").status_code == 422


@pytest.mark.parametrize("value", ["99999999999999999999999", "2147483648", "\u00b2", "-1"])
def test_ids_no_row_can_have_never_reach_the_database(api, client, auth, world, value):
    # Beyond PostgreSQL's INTEGER, or digits that are no ASCII digits: an empty answer or 422, never 500.
    plan = world.document("action_plan")
    answer = api.as_("editor").get(f"/documents/{plan['id']}/contributions", query_string={"clause_id": value})
    assert answer.status_code in (200, 422)
    if answer.status_code == 200:
        assert answer.get_json() == []
    auth.login("editor")
    for path in (f"/documents/{plan['id']}/contributions?clause={value}",
                 f"/documents/{plan['id']}/contributions?organisation={value}",
                 f"/documents/{plan['id']}/threads?organisation={value}"):
        assert client.get(path.replace(value, quote(value))).status_code == 200
