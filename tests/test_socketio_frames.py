"""Malformed Socket.IO and Engine.IO frames close their connection and raise nothing (issue 16).

The served app (gunicorn, threads) gets raw frames: polling bodies over plain HTTP and WebSocket
frames over a raw WebSocket; so does the asyncio live server (drafting/live_server.py) in the
PostgreSQL pass, where Redis joins it to the app. Each one must be answered with an error or close that connection
quickly, without a traceback or a dying thread in the server's output, while an honest client in
the same document room keeps receiving broadcasts and a new one can still connect and join.
"""

from __future__ import annotations

import json
import os
import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import socketio
import websocket

from drafting.extensions import db
from tests.conftest import BACKEND, World, live_env, make_app
from tests.served import LiveServer, SplitServer
from tests.test_live_server import Listener, bearer

WAIT = 5.0  # an open session's long poll lasts 25 s: an answer within this means it was closed
# What a library's or the app's unhandled exception prints, whoever logs it.
TRACES = ("Traceback", "Exception in thread", "[ERROR]", "[CRITICAL]")

DEEP = "[" * 5000  # JSON nested deeper than Python's recursion limit, inside the 16 KB limit
# Socket.IO packets (inside an Engine.IO MESSAGE, "4") that the libraries cannot decode or dispatch.
SOCKETIO_GARBAGE = [
    '42["join",{',  # truncated JSON
    "42[",
    "42[]",  # no event name
    "42{}",  # not a list
    "42[null]",
    '42[1,"x"]',  # an event name that is not a string
    '42[{"a":1}]',  # an unhashable event name
    '42["connect",{"token":"x"}]',  # reserved names: the library would call the connect handler
    '42["disconnect"]',
    '451-["x",{"_placeholder":true,"num":9}]',  # an attachment that is never sent, placeholder out of range
    "4999999999999-[]",  # an attachment count the decoder refuses
    "46",  # a binary acknowledgement nobody asked for
    "44{}",  # CONNECT_ERROR comes from servers only
    "49",  # no such packet type
    "4-",
    "4",  # an empty Socket.IO packet (the library reads it as an event of None)
    "4\x00",
    '42/nope,["join",{}]',  # an event for a namespace the client never connected
    "43",  # an acknowledgement without a list
    "42" + DEEP,
    '42["join",' + DEEP,
]


class ServerOutput:
    """Everything the served process writes (gunicorn sends its stderr there too), read as it comes.

    Read from the pipe's descriptor with a timeout: the server's helper processes may keep the
    pipe open after it stops, so a blocking read could wait for ever.
    """

    def __init__(self, server: LiveServer):
        self.fd, self.chunks, self.done = server.process.stdout.fileno(), [], threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while not self.done.is_set():
            if select.select([self.fd], [], [], 0.1)[0]:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    return
                self.chunks.append(chunk)

    def text(self) -> str:
        time.sleep(0.5)  # let the server's threads finish what they were writing
        return b"".join(self.chunks).decode("utf-8", "replace")

    def stop(self):
        self.done.set()
        self.reader.join()


# The asyncio live server needs the Redis message queue, which the PostgreSQL pass has.
SERVERS = ["threads", "asyncio"] if BACKEND == "postgres" else ["threads"]


@pytest.fixture(params=SERVERS)
def served(database, request):
    if request.param == "threads":
        server = LiveServer(database, threads=40, env=live_env())
    else:
        server = SplitServer(database, env=live_env())
    output = ServerOutput(server)
    app = make_app(database)  # the same database, for tokens and ids
    yield server, World(app), output
    output.stop()
    server.stop()
    with app.app_context():
        db.engine.dispose()


def assert_no_traces(output: ServerOutput) -> None:
    text = output.text()
    found = [marker for marker in TRACES if marker in text]
    assert not found, f"the server logged {found}:\n{text[-6000:]}"


def assert_others_unaffected(server: LiveServer, world: World, honest: list[Listener], document: dict) -> None:
    """Honest clients, joined before the garbage, get a broadcast; a new one connects and joins."""
    clause_id = document["clause_ids"][0]
    response = requests.patch(server.url(f"/api/v1/clauses/{clause_id}"), headers=bearer(world.token("editor")),
                              json={"text": "Saved after the garbage.", "base_version": 1}, timeout=WAIT)
    assert response.status_code == 200, response.text
    for listener in honest:
        assert listener.wait_for("clause.updated", clause_id=clause_id)["version"] == 2
    late = Listener(server.base, token=world.token("commenter"))
    try:
        assert late.join(document["id"])["ok"] is True
    finally:
        late.close()


class PollingListener(Listener):
    """The same honest client, over HTTP long-polling only (the page's fallback transport)."""

    def __init__(self, base: str, token: str):
        self.events: list[tuple[str, dict]] = []
        self.arrived = threading.Condition()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        self.client.connect(base, auth={"token": token}, transports=["polling"], wait_timeout=WAIT)


class Polling:
    """An Engine.IO session over HTTP long-polling, driven by hand."""

    def __init__(self, base: str, token: str | None):
        self.http = requests.Session()
        opened = self.http.get(f"{base}/socket.io/?EIO=4&transport=polling", timeout=WAIT)
        assert opened.status_code == 200 and opened.text.startswith("0"), opened.text
        self.url = f"{base}/socket.io/?EIO=4&transport=polling&sid={json.loads(opened.text[1:])['sid']}"
        if token:
            assert self.post("40" + json.dumps({"token": token})).status_code == 200
            assert self.get().text.startswith("40{"), "the Socket.IO connect was not accepted"

    def post(self, body: str | bytes) -> requests.Response:
        return self.http.post(self.url, data=body.encode() if isinstance(body, str) else body, timeout=WAIT)

    def get(self) -> requests.Response:
        return self.http.get(self.url, timeout=WAIT)

    def close(self):
        self.http.close()


def test_malformed_polling_bodies_close_their_session_and_raise_nothing(served):
    server, world, output = served
    declaration = world.document("declaration")
    token = world.token("observer")
    honest = [Listener(server.base, token=world.token("observer")),
              PollingListener(server.base, token=world.token("commenter"))]
    try:
        for listener in honest:
            assert listener.join(declaration["id"])["ok"] is True
        # Engine.IO payloads the server must refuse at once (before: unknown packet types and
        # oversized bodies held a server thread for good, waiting for the session's queue to drain;
        # the others logged a traceback, answered 200 and left the session open).
        engineio_garbage = [b"9", b"6", b"0", b"2probe", b"x", b"4\xff\xfe", b"4\x1e", b"d=",
                            "\x1e".join(["3"] * 17).encode(), ("4" + DEEP).encode(),
                            ('42["join",{"x":"' + "a" * 20_000 + '"}]').encode()]
        for authenticated in (False, True):
            for body in engineio_garbage:
                session = Polling(server.base, token if authenticated else None)
                try:
                    answer = session.post(body)
                    assert answer.status_code in (400, 413), (body[:30], answer.status_code, answer.text)
                    assert session.get().status_code == 400, (body[:30], "the session is still open")
                except requests.Timeout:
                    raise AssertionError(f"{body[:30]!r}: no answer within {WAIT}s") from None
                finally:
                    session.close()
        # Socket.IO packets in a valid Engine.IO payload: the session is closed.
        for packet in SOCKETIO_GARBAGE + ["bAAAA"]:  # "b...": binary data, which no page sends
            session = Polling(server.base, token)
            try:
                assert session.post(packet).status_code == 200, packet[:30]
                after = session.get()
            except requests.Timeout:
                raise AssertionError(f"{packet[:30]!r}: the session is still open after {WAIT}s") from None
            finally:
                session.close()
            assert after.status_code == 400 or "1" in after.text.split("\x1e"), (packet[:30], after.text)
        assert_others_unaffected(server, world, honest, declaration)
    finally:
        for listener in honest:
            listener.close()
    assert_no_traces(output)


class RawWebSocket:
    """A Socket.IO connection over a raw WebSocket, authenticated by token."""

    def __init__(self, base: str, token: str, receive_buffer: int | None = None):
        # receive_buffer: a small kernel receive buffer (SO_RCVBUF), for a client that reads slowly.
        options = ((socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer),) if receive_buffer else ()
        self.ws = websocket.create_connection(base.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket",
                                              timeout=WAIT, sockopt=options)
        assert self.ws.recv().startswith("0")
        self.ws.send("40" + json.dumps({"token": token}))
        assert self.ws.recv().startswith("40{")

    def send(self, frame: str | bytes) -> None:
        try:
            self.ws.send_binary(frame) if isinstance(frame, bytes) else self.ws.send(frame)
        except (BrokenPipeError, ConnectionResetError, websocket.WebSocketConnectionClosedException):
            pass  # the server closed it while the frame was on its way: as good as an answer

    def answer(self, case) -> str:
        """The next Engine.IO packet the server sends, skipping its pings; "" once closed."""
        while True:
            try:
                message = self.ws.recv()
            except (websocket.WebSocketConnectionClosedException, ConnectionResetError, BrokenPipeError):
                return ""
            except websocket.WebSocketTimeoutException:
                raise AssertionError(f"{str(case)[:40]!r}: no answer within {WAIT}s, the connection is open") from None
            if message != "2":
                return message

    def close(self):
        try:
            self.ws.close(timeout=1)
        except OSError:
            pass
        self.ws.shutdown()  # its socket too, even when the server reset the connection


def test_malformed_websocket_frames_close_their_connection_and_raise_nothing(served):
    server, world, output = served
    declaration = world.document("declaration")
    token = world.token("observer")
    honest = Listener(server.base, token=world.token("observer"))
    try:
        assert honest.join(declaration["id"])["ok"] is True
        # Events of the right shape with the wrong arguments are answered, and the connection stays.
        raw = RawWebSocket(server.base, token)
        try:
            for frame, answer in [
                ('421["join"]', '431[{"ok":false,"error":"document_id must be an integer"}]'),
                ('422["join",{"document_id":"x"},"more"]', '432[{"ok":false,"error":"document_id must be an integer"}]'),
                ('423["save",1,2,3]', '433[{"ok":false,"error":"unknown event \'save\'; changes go through HTTP"}]'),
                ('424["editing"]', '434[{"ok":false,"error":"bad request"}]'),
            ]:
                raw.send(frame)
                assert raw.answer(frame) == answer
            raw.send("40/nope,")  # a namespace this server does not serve: CONNECT_ERROR
            assert raw.answer("40/nope,").startswith("44/nope,")
            raw.send(f'425["join",{{"document_id":{declaration["id"]}}}]')
            assert raw.answer("join").startswith('435[{"ok":true')
        finally:
            raw.close()
        # Frames that are no packet of this protocol close the connection (before: undecodable
        # Engine.IO frames escaped the WebSocket handler, which logged a traceback and wrote an
        # HTTP 500 into the open WebSocket; Socket.IO ones logged one and left it open).
        frames = ["x", "", "9", "6", "bA", "4" + DEEP, b"\xff\xfe", "4" + "a" * 200_000] + SOCKETIO_GARBAGE
        for frame in frames:
            raw = RawWebSocket(server.base, token)
            try:
                raw.send(frame)
                answer = raw.answer(frame)
                assert answer in ("", "1"), (str(frame)[:30], answer)  # closed, or the CLOSE packet first
            finally:
                raw.close()
        assert_others_unaffected(server, world, [honest], declaration)
    finally:
        honest.close()
    assert_no_traces(output)


def test_a_polling_client_that_says_goodbye_gets_its_open_long_poll_answered(served):
    """Engine.IO over long polling: the client always has a GET waiting for events. When it sends
    its close packet, the server answers that GET at once. The threaded Engine.IO always did; the
    asyncio one left it open (up to 45 s), holding a connection and the client's own disconnect."""
    server, world, _output = served
    declaration = world.document("declaration")
    url = server.base + "/socket.io/?EIO=4&transport=polling"
    session = requests.Session()
    session.headers["Origin"] = server.base
    handshake = session.get(url, timeout=WAIT).text
    sid = json.loads(handshake[handshake.index("{"):])["sid"]
    url += f"&sid={sid}"
    assert session.post(url, data="40" + json.dumps({"token": world.token("observer")}), timeout=WAIT).ok
    assert session.get(url, timeout=WAIT).text.startswith("40{")  # connected
    assert session.post(url, data="420" + json.dumps(["join", {"document_id": declaration["id"]}]), timeout=WAIT).ok
    for _ in range(5):  # the join's answer, maybe after its presence broadcast
        if '430[{"ok":true' in session.get(url, timeout=WAIT).text:
            break
    else:
        raise AssertionError("the join was not answered")
    with ThreadPoolExecutor(1) as pool:
        for _ in range(5):  # (the join's presence broadcast may come first)
            waiting = pool.submit(requests.get, url, headers={"Origin": server.base}, timeout=20)  # the long poll
            time.sleep(0.5)
            if not waiting.done():
                break
        assert not waiting.done()
        assert session.post(url, data="1", timeout=WAIT).ok  # goodbye
        assert waiting.result(timeout=WAIT).status_code in (200, 400)  # answered now, not at the next ping
