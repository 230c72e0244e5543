"""The asyncio live server (drafting/live_server.py) beside the served app, joined by Redis.

The app (gunicorn) answers HTTP and publishes every change to the message queue; the live server
holds the WebSockets. The same protocol as the app's own Socket.IO (tests/test_live_server.py):
authentication, membership, broadcasts, presence, evictions, Origin, sizes and malformed frames.
Runs in the PostgreSQL pass of `make test` (it needs Redis).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio
from socketio import packet as sio_packet
from sqlalchemy import select

from drafting.events import StrictPacket
from drafting.extensions import db
from drafting.live import room
from drafting.models import User
from tests.conftest import EMAILS, REDIS, World, live_env, make_app
from tests.served import SplitServer
from tests.test_live_server import Listener, assert_joins_coalesce, bearer, session_cookie
from tests.test_socketio_frames import RawWebSocket

WAIT = 5.0


@pytest.fixture
def split(database):
    env = live_env()
    assert env.get("SOCKETIO_MESSAGE_QUEUE", "").startswith("redis://")
    servers = SplitServer(database, env=env)
    app = make_app(database)
    yield servers.app, servers.live, World(app)
    servers.stop()
    assert "Traceback" not in servers.live.output(), servers.live.output()[-3000:]
    with app.app_context():
        db.engine.dispose()


def _save(app_server, world, clause_id: int, text: str, base_version: int = 1) -> requests.Response:
    return requests.patch(app_server.url(f"/api/v1/clauses/{clause_id}"), headers=bearer(world.token("editor")),
                          json={"text": text, "base_version": base_version}, timeout=WAIT)


def test_a_save_over_http_reaches_viewers_of_the_live_server_only_in_their_document(split):
    app_server, live, world = split
    declaration, plan = world.document("declaration"), world.document("action_plan")
    watching = Listener(live.base, token=world.token("observer"))
    elsewhere = Listener(live.base, token=world.token("commenter"))
    try:
        joined = watching.join(declaration["id"])
        assert joined == {"ok": True, "seq": declaration["seq"]}
        assert elsewhere.join(plan["id"])["ok"] is True
        clause_id = declaration["clause_ids"][0]
        assert _save(app_server, world, clause_id, "Saved over HTTP, heard on the live server.").status_code == 200
        event = watching.wait_for("clause.updated", clause_id=clause_id)
        assert event["version"] == 2 and event["seq"] == declaration["seq"] + 1 and "text" not in event
        time.sleep(0.3)
        assert "clause.updated" not in elsewhere.names()
    finally:
        watching.close()
        elsewhere.close()


def test_connections_need_a_session_or_a_token_and_joins_need_membership(split):
    app_server, live, world = split
    declaration = world.document("declaration")
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(live.base)
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(live.base, token="dft_not-a-real-token")

    by_session = Listener(live.base, cookie=session_cookie(app_server, "commenter"))
    outsider = Listener(live.base, token=world.token("outsider"))
    try:
        assert by_session.join(declaration["id"])["ok"] is True
        refused = outsider.join(declaration["id"])
        assert refused["ok"] is False and "member" in refused["error"]
        assert by_session.join("1; DROP TABLE")["ok"] is False
        unknown = by_session.client.call("save", {"clause_id": 1, "text": "x"}, timeout=WAIT)
        assert unknown["ok"] is False and "changes go through HTTP" in unknown["error"]
        assert by_session.client.call("leave", {"document_id": declaration["id"]}, timeout=WAIT) == {"ok": True}
        assert by_session.client.call("leave", {"document_id": declaration["id"]}, timeout=WAIT)["ok"] is False
    finally:
        by_session.close()
        outsider.close()


def test_presence_is_shared_with_the_app_and_says_who_edits_what(split):
    app_server, live, world = split
    declaration = world.document("declaration")
    first = Listener(live.base, token=world.token("observer"))
    second = Listener(live.base, token=world.token("commenter"))
    try:
        assert first.join(declaration["id"])["ok"] and second.join(declaration["id"])["ok"]
        clause_id = declaration["clause_ids"][2]
        assert second.client.call("editing", {"document_id": declaration["id"], "clause_id": clause_id},
                                  timeout=WAIT) == {"ok": True}
        deadline = time.time() + WAIT
        users = []
        while time.time() < deadline:
            latest = [d for n, d in first.events if n == "presence"]
            users = latest[-1]["users"] if latest else []
            if any(u["editing_clause_id"] == clause_id for u in users) and len(users) == 2:
                break
            time.sleep(0.05)
        assert {u["name"] for u in users} == {"Lukas Brenner", "Lieve Vandamme"}
        assert [u["editing_clause_id"] for u in users if u["name"] == "Lieve Vandamme"] == [clause_id]
        second.close()
        deadline = time.time() + WAIT
        while time.time() < deadline:
            latest = [d for n, d in first.events if n == "presence"][-1]
            if [u["name"] for u in latest["users"]] == ["Lukas Brenner"]:
                break
            time.sleep(0.05)
        assert [u["name"] for u in latest["users"]] == ["Lukas Brenner"]
    finally:
        first.close()


def test_a_burst_of_joins_costs_a_few_presence_broadcasts_not_one_per_join(split):
    _, live, world = split
    assert_joins_coalesce(live.base, world)


def test_removing_a_member_in_the_app_evicts_their_live_connection(split):
    app_server, live, world = split
    declaration = world.document("declaration")
    watcher = Listener(live.base, token=world.token("observer"))
    try:
        assert watcher.join(declaration["id"])["ok"]
        with world.app.app_context():
            observer_id = db.session.scalar(select(User.id).where(User.email == EMAILS["observer"]))
        removed = requests.delete(app_server.url(f"/api/v1/documents/{declaration['id']}/members/{observer_id}"),
                                  headers=bearer(world.token("admin")), timeout=WAIT)
        assert removed.status_code == 204
        time.sleep(0.5)  # the leave-room travels through Redis to the live server
        assert _save(app_server, world, declaration["clause_ids"][0], "After the removal.").status_code == 200
        time.sleep(0.5)
        assert "clause.updated" not in watcher.names()
    finally:
        watcher.close()


def test_other_sites_may_not_connect(split):
    app_server, live, world = split
    declaration = world.document("declaration")
    honest = Listener(live.base, token=world.token("observer"))
    try:
        assert honest.join(declaration["id"])["ok"]
        # Another site's page may not connect (cross-site WebSocket hijacking); this site's may (every
        # Listener here sends the server's own address as its Origin).
        with pytest.raises(socketio.exceptions.ConnectionError):
            socketio.Client(reconnection=False).connect(
                live.base, auth={"token": world.token("commenter")}, transports=["websocket"],
                headers={"Origin": "https://evil.example"}, wait_timeout=WAIT)
        # Malformed and oversized frames: tests/test_socketio_frames.py runs against this server too.
    finally:
        honest.close()


def test_a_broadcast_frame_is_what_the_library_would_send_and_polling_gets_the_same_event(split):
    """The live server writes one prepared frame into every WebSocket (live_server.FanOut); a
    client on long polling takes python-socketio's own path. Both get the same event, and the
    WebSocket's frame is byte for byte the library's encoding of it."""
    app_server, live, world = split
    declaration = world.document("declaration")
    polling = Listener(live.base, token=world.token("commenter"), transports=("polling",))
    raw = RawWebSocket(live.base, world.token("observer"))
    try:
        assert polling.client.transport() == "polling"
        assert polling.join(declaration["id"])["ok"] is True
        raw.send("420" + json.dumps(["join", {"document_id": declaration["id"]}]))
        while not (answer := raw.answer("join")).startswith("430"):
            assert answer.startswith('42["presence"'), answer
        assert json.loads(answer[3:])[0]["ok"] is True
        clause_id = declaration["clause_ids"][1]
        assert _save(app_server, world, clause_id, "Sent once, written to every WebSocket.").status_code == 200
        while not (frame := raw.answer("clause.updated")).startswith('42["clause.updated"'):
            assert frame.startswith('42["presence"'), frame
        event = polling.wait_for("clause.updated", clause_id=clause_id)
        assert json.loads(frame[2:]) == ["clause.updated", event]
        assert frame == "4" + StrictPacket(sio_packet.EVENT, data=["clause.updated", event]).encode()
    finally:
        raw.close()
        polling.close()


def test_a_burst_of_saves_reaches_every_viewer_whole_and_in_order(split):
    """Under load the live server joins a connection's frames into one write per window
    (FanOut.BATCH_SECONDS): concurrent saves still reach a raw WebSocket viewer every one, each
    seq once, and a polling viewer gets the same events in the same order. (Not always in seq
    order: two saves committed a moment apart are published by two threads, and the later one
    can be first; the contract says so and pages put them right, tests/browser/test_live.py.)"""
    app_server, live, world = split
    declaration = world.document("declaration")
    clauses = requests.get(app_server.url(f"/api/v1/documents/{declaration['id']}"), headers=bearer(world.token("editor")),
                           timeout=WAIT).json()["clauses"][:12]
    clause_ids = [clause["id"] for clause in clauses]
    polling = Listener(live.base, token=world.token("commenter"), transports=("polling",))
    raw = RawWebSocket(live.base, world.token("observer"))
    try:
        assert polling.join(declaration["id"])["ok"] is True
        raw.send("420" + json.dumps(["join", {"document_id": declaration["id"]}]))
        while not (answer := raw.answer("join")).startswith("430"):
            assert answer.startswith('42["presence"'), answer
        rounds = 3
        with ThreadPoolExecutor(len(clause_ids)) as pool:
            for turn in range(rounds):
                saves = [pool.submit(_save, app_server, world, clause["id"], f"Burst {turn} of {clause['id']}.",
                                     clause["version"] + turn) for clause in clauses]
                assert [save.result().status_code for save in saves] == [200] * len(clause_ids)
        expected = len(clause_ids) * rounds
        heard = []
        while len(heard) < expected:
            frame = raw.answer("burst")
            assert frame, "the live server closed the connection"
            if frame.startswith('42["clause.updated"'):
                heard.append(json.loads(frame[2:])[1])
            else:
                assert frame.startswith('42["presence"'), frame
        seqs = [event["seq"] for event in heard]
        assert sorted(seqs) == list(range(declaration["seq"] + 1, declaration["seq"] + expected + 1))
        assert sorted((e["clause_id"], e["version"]) for e in heard) == sorted(
            (clause["id"], clause["version"] + turn + 1) for clause in clauses for turn in range(rounds))
        polling.wait_for("clause.updated", seq=seqs[-1])  # the live server's order is every viewer's
        assert [data for name, data in polling.events if name == "clause.updated"] == heard
    finally:
        raw.close()
        polling.close()


def test_a_viewer_that_stops_reading_is_closed_and_the_others_get_every_event(split):
    """A connection that leaves more than SLOW_CLIENT_BYTES (1 MB) unread is closed by the live
    server (live_server.FanOut), not buffered without end; a viewer who reads gets everything.
    The events come as any process sends them, through the message queue: 40 of 200 KB each,
    more than the kernel's buffers between the two ends can hold."""
    app_server, live, world = split
    declaration = world.document("declaration")
    honest = Listener(live.base, token=world.token("commenter"))
    slow = RawWebSocket(live.base, world.token("observer"), receive_buffer=4096)
    queue = socketio.RedisManager(REDIS, channel=live_env()["SOCKETIO_CHANNEL"], write_only=True)

    def bulletins() -> list[int]:
        with honest.arrived:
            return [data["n"] for name, data in honest.events if name == "bulletin" and len(data["text"]) == len(bulk)]

    try:
        assert honest.join(declaration["id"])["ok"] is True
        slow.send("420" + json.dumps(["join", {"document_id": declaration["id"]}]))
        while not (answer := slow.answer("join")).startswith("430"):
            assert answer.startswith('42["presence"'), answer
        bulk = "x" * 200_000
        for n in range(40):  # the slow viewer reads nothing meanwhile; the honest one reads each
            queue.emit("bulletin", {"n": n, "text": bulk}, room=room(declaration["id"]))
            deadline = time.time() + WAIT
            while len(bulletins()) <= n and time.time() < deadline:
                time.sleep(0.01)
        assert bulletins() == list(range(40))
        heard = 0
        while frame := slow.answer("after the bulletins"):  # "" once closed; an open, silent one fails
            heard += frame.startswith('42["bulletin"')
        assert heard < 40
    finally:
        slow.close()
        honest.close()

