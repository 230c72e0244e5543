"""The served app (gunicorn) with real python-socketio clients and real concurrent HTTP writers."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio

from drafting.extensions import db
from tests.conftest import EMAILS, PASSWORD, World, live_env, make_app
from tests.served import LiveServer

WAIT = 5.0


@pytest.fixture
def served(database):
    server = LiveServer(database, threads=80, env=live_env())
    app = make_app(database)  # the same database, for making tokens and reading ids
    yield server, World(app)
    server.stop()
    with app.app_context():
        db.engine.dispose()


class Listener:
    """A real Socket.IO client that records the events it receives."""

    def __init__(self, base: str, token: str | None = None, cookie: str | None = None,
                 transports: tuple[str, ...] = ("websocket",)):
        self.events: list[tuple[str, dict]] = []
        self.arrived = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        # Same User-Agent as the login: session protection ties a session to its browser.
        headers = {"Cookie": cookie, "User-Agent": requests.utils.default_user_agent()} if cookie else None
        self.client.connect(base, auth={"token": token} if token else None, headers=headers,
                            transports=list(transports), wait_timeout=WAIT)

    def _record(self, name, data):
        with self.arrived:
            self.events.append((name, data))
            self.arrived.notify_all()

    def join(self, document_id: int) -> dict:
        return self.client.call("join", {"document_id": document_id}, timeout=WAIT)

    def wait_for(self, name: str, **match) -> dict:
        deadline = time.time() + WAIT
        with self.arrived:
            while True:
                for got, data in self.events:
                    if got == name and all(data.get(k) == v for k, v in match.items()):
                        return data
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"no {name} {match} within {WAIT}s; got {self.events}")
                self.arrived.wait(left)

    def names(self) -> list[str]:
        return [name for name, _ in self.events if name != "presence"]

    def close(self):
        hang_up(self.client)


def hang_up(client: socketio.Client) -> None:
    """Disconnect a client, over long polling once what it has sent has gone out.

    python-engineio's client (4.15.1) can lose a polling disconnect: when its write loop is still
    posting an earlier packet (the namespace connect, say) as the disconnect begins, it finds the
    state no longer "connected" when that POST returns and stops without sending the CLOSE queued
    meanwhile, so the open long poll waits for the server's next ping (25 s; 2 runs in 12 of
    test_socketio_refuses_cross_site_origins, seen in the client's log). Waiting until every queued
    packet has been posted closes that window.
    """
    if client.connected and client.transport() == "polling":
        client.eio.queue.join()
    client.disconnect()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def session_cookie(server, role: str) -> str:
    """Log in through the login form of a served app, as a browser does; the Cookie header it gets."""
    browser = requests.Session()
    login_page = browser.get(server.url("/login"), timeout=WAIT).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    answer = browser.post(server.url("/login"), data={"email": EMAILS[role], "password": PASSWORD,
                                                      "csrf_token": csrf}, allow_redirects=False, timeout=WAIT)
    assert answer.status_code == 302
    return "; ".join(f"{c.name}={c.value}" for c in browser.cookies)


def assert_joins_coalesce(base: str, world, joins: int = 20) -> None:
    """`joins` connections join one document at once: presence reaches them in a few broadcasts
    (one per join would be joins + (joins - 1) + ... + 1 frames), and lists the one person once."""
    declaration = world.document("declaration")
    listeners = [Listener(base, token=world.token("observer")) for _ in range(joins)]
    try:
        with ThreadPoolExecutor(max_workers=joins) as pool:
            assert all(answer["ok"] for answer in pool.map(lambda one: one.join(declaration["id"]), listeners))
        time.sleep(1.0)
        received = sum(1 for listener in listeners for name, _ in listener.events if name == "presence")
        assert received < joins * (joins + 1) // 2 // 2, received
        latest = [d for n, d in listeners[0].events if n == "presence"][-1]
        assert [u["name"] for u in latest["users"]] == ["Lukas Brenner"]  # one person, twenty tabs
    finally:
        for listener in listeners:
            listener.close()


def test_real_clients_get_saves_of_their_document_only(served):
    server, world = served
    declaration, plan = world.document("declaration"), world.document("action_plan")
    editor, observer, commenter = world.token("editor"), world.token("observer"), world.token("commenter")
    watching = Listener(server.base, token=observer)
    elsewhere = Listener(server.base, token=commenter)
    try:
        assert watching.join(declaration["id"])["ok"] is True
        assert elsewhere.join(plan["id"])["ok"] is True
        clause_id = declaration["clause_ids"][0]
        response = requests.patch(server.url(f"/api/v1/clauses/{clause_id}"), headers=bearer(editor),
                                  json={"text": "Saved over real HTTP.", "base_version": 1}, timeout=WAIT)
        assert response.status_code == 200
        event = watching.wait_for("clause.updated", clause_id=clause_id)
        assert event["version"] == 2 and event["merged"] is False
        assert event["document_id"] == declaration["id"] and event["seq"] == declaration["seq"] + 1
        assert "text" not in event  # events carry ids and versions, never text
        time.sleep(0.3)
        assert "clause.updated" not in elsewhere.names()
    finally:
        watching.close()
        elsewhere.close()


def test_a_burst_of_joins_costs_a_few_presence_broadcasts_not_one_per_join(served):
    server, world = served
    assert_joins_coalesce(server.base, world)


def test_connections_need_a_session_or_a_token_and_joins_need_membership(served):
    server, world = served
    declaration = world.document("declaration")
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(server.base)
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(server.base, token="dft_not-a-real-token")

    by_session = Listener(server.base, cookie=session_cookie(server, "commenter"))
    outsider = Listener(server.base, token=world.token("outsider"))
    try:
        assert by_session.join(declaration["id"])["ok"] is True
        refused = outsider.join(declaration["id"])
        assert refused["ok"] is False and "member" in refused["error"]
        # Clients cannot change anything through Socket.IO: no handler takes a save.
        by_session.client.emit("clause.updated", {"clause_id": declaration["clause_ids"][0], "text": "x"})
        time.sleep(0.3)
        api = requests.get(server.url(f"/api/v1/documents/{declaration['id']}"),
                           headers=bearer(world.token("editor")), timeout=WAIT).json()
        assert api["seq"] == declaration["seq"]
        assert "clause.updated" not in outsider.names()
    finally:
        by_session.close()
        outsider.close()


def test_twenty_four_concurrent_stale_writers_lose_nothing(served):
    """Every acknowledged save is in the final text, every other answer is 409, versions never repeat."""
    server, world = served
    declaration = world.document("declaration")
    clause_id = declaration["clause_ids"][5]
    tokens = [world.token("editor") for _ in range(24)]
    paragraphs = [f"Paragraph {i} keeps its original wording number {i}." for i in range(20)]
    setup = requests.patch(server.url(f"/api/v1/clauses/{clause_id}"), headers=bearer(tokens[0]),
                           json={"text": "\n\n".join(paragraphs), "base_version": 1}, timeout=WAIT)
    assert setup.status_code == 200 and setup.json()["clause"]["version"] == 2

    def edit(i: int) -> tuple[int, str, requests.Response]:
        target = i % 20  # writers 20..23 rewrite the same words as writers 0..3
        mine = list(paragraphs)
        marker = f"edited-by-writer-{i}"
        mine[target] = mine[target].replace("original wording", marker)
        response = requests.patch(server.url(f"/api/v1/clauses/{clause_id}"), headers=bearer(tokens[i]),
                                  json={"text": "\n\n".join(mine), "base_version": 2}, timeout=30)
        return i, marker, response

    start = threading.Barrier(24)

    def run(i):
        start.wait()
        return edit(i)

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(run, range(24)))

    final = requests.get(server.url(f"/api/v1/clauses/{clause_id}/revisions"), headers=bearer(tokens[0]),
                         timeout=WAIT).json()
    text = final[-1]["text"]
    accepted = [(i, marker) for i, marker, response in results if response.status_code == 200]
    refused = [(i, response) for i, _, response in results if response.status_code != 200]
    for _, marker in accepted:
        assert marker in text, marker
    for i, response in refused:
        assert response.status_code == 409, (i, response.status_code, response.text)
        assert response.json()["yours"] and response.json()["current"]["version"] >= 3
    assert len(accepted) >= 20  # the twenty writers on separate paragraphs can always be merged
    assert len(refused) >= 1  # two writers rewrote the same words: one of each pair is refused
    versions = [r["version"] for r in final]
    assert versions == list(range(1, len(versions) + 1))
    assert len(versions) == 2 + len(accepted)
