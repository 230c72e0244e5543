"""The live server: Socket.IO on asyncio, a task per connection instead of a thread (issue 19).

The served app (`gunicorn wsgi:app`) answers Socket.IO itself with Flask-SocketIO in threading
mode: every WebSocket holds a thread, and a save wakes one thread per viewer to write its frame.
That is the simplest thing for one process (`make run`), and it is what the tests of the live
protocol drive. For many people at once, this process takes `/socket.io/` over instead:

    SOCKETIO_MESSAGE_QUEUE=redis://127.0.0.1:6379/0 python -m drafting.live_server --port 5001

It is python-socketio's AsyncServer on aiohttp, fed by the message queue the app processes
already publish every change to (the "emit from an external process" pattern of the Socket.IO
libraries): `live.announce` stays the one broadcast path, and the app processes never hold a
WebSocket. The proxy in front sends `/socket.io/` here and everything else to the app
(docs/deploy.md). The protocol is the same, event for event: the same authentication (the
browser's session cookie or an API token), the same membership check on join, the same
presence registry in Redis (so evictions from the app processes reach these connections), the
same Origin check, message size bound, flood bound and refusal of malformed frames.

Handlers that read the database run in worker threads with the Flask app's context, so a slow
query never holds the event loop that writes everyone's frames.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import math
import struct
import time
from urllib.parse import parse_qs

import engineio
import socketio
from aiohttp import web
from flask import Flask, g
from flask_babel import gettext as _
from flask_login import current_user
from socketio import packet as sio_packet

from . import events, live, permissions
from .api.auth import user_for_token
from .app import create_app
from .extensions import db
from .models import Document, User
from .models.base import is_db_int

log = logging.getLogger(__name__)

QUEUES = ("redis://", "rediss://", "unix://")


def _flask_environ(environ: dict) -> dict:
    """A WSGI environ for Flask from the one the Socket.IO server made of the handshake."""
    plain = {key: value for key, value in environ.items() if isinstance(value, str)}
    host, _, port = plain.get("HTTP_HOST", "localhost").partition(":")
    return {**plain, "REQUEST_METHOD": "GET", "PATH_INFO": "/socket.io/", "SCRIPT_NAME": "",
            "SERVER_NAME": plain.get("SERVER_NAME") or host, "SERVER_PORT": plain.get("SERVER_PORT") or port or "80",
            "wsgi.url_scheme": plain.get("wsgi.url_scheme", "http"), "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": io.StringIO(), "wsgi.multithread": True, "wsgi.multiprocess": True,
            "wsgi.run_once": False, "wsgi.version": (1, 0)}


class _Presence:
    """Coalesced presence broadcasts, as `live.PresenceCoalescer` sends them from the app: the first
    at once, the ones that follow within INTERVAL seconds as one, with the state of that moment.

    A broadcast is one registry read, one query for the people in it and one encoded frame for the
    whole room, so a join costs O(N) however many people are already there."""

    INTERVAL = live.PresenceCoalescer.INTERVAL

    def __init__(self, server: LiveServer):
        self._server = server
        self._last: dict[int, float] = {}
        self._pending: set[int] = set()
        self._tasks: set[asyncio.Task] = set()

    def request(self, document_id: int) -> None:
        if document_id in self._pending:
            return
        self._pending.add(document_id)
        wait = self._last.get(document_id, -math.inf) + self.INTERVAL - time.monotonic()
        task = asyncio.get_running_loop().create_task(self._send(document_id, max(wait, 0.0)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, document_id: int, wait: float) -> None:
        if wait:
            await asyncio.sleep(wait)
        self._pending.discard(document_id)
        self._last[document_id] = time.monotonic()
        try:
            users = await self._server.in_app(None, live.presence_of, document_id)
            await self._server.sio.emit("presence", {"document_id": document_id, "users": users},
                                        to=live.room(document_id))
        except Exception:  # noqa: BLE001 - a late broadcast must never end the server
            log.warning("presence of document %s not broadcast", document_id, exc_info=True)


def _authenticate(auth) -> int | None:
    """The user of the handshake: the browser's session cookie, else an API token."""
    if current_user.is_authenticated:
        return current_user.id
    user = user_for_token(auth.get("token")) if isinstance(auth, dict) else None
    if user is not None:
        g.api_user = user  # the language of this connection's answers (i18n.select_locale)
    return user.id if user is not None else None


def _may_view(user_id: int, document_id: int) -> int | None:
    """The document's seq when the user may view it, else None."""
    document = db.session.get(Document, document_id)
    user = db.session.get(User, user_id)
    if document is None or user is None or not permissions.decide(user, document, "view"):
        return None
    return document.seq


def _in_language_of(user_id: int | None, text_of) -> str:
    """A refusal's text in the language of the connection's person (their setting, else the
    handshake's Accept-Language), as the app's own handlers answer."""
    if user_id is not None and not current_user.is_authenticated:
        g.api_user = db.session.get(User, user_id)
    return text_of()


class LiveServer:
    """The asyncio Socket.IO server of one process, bound to a Flask app for its database and settings."""

    def __init__(self, app: Flask):
        queue = app.config["SOCKETIO_MESSAGE_QUEUE"]
        if not (queue and queue.startswith(QUEUES)):
            raise RuntimeError("the live server needs SOCKETIO_MESSAGE_QUEUE set to the app's Redis "
                               "(redis://...): it hears the app's changes there")
        self.app = app
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            client_manager=FanOut(queue, channel=app.config["SOCKETIO_CHANNEL"]),
            # None: only pages of this site may connect (the Origin is checked), as in the app.
            cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
            max_http_buffer_size=app.config["SOCKETIO_MAX_MESSAGE_BYTES"],
            serializer=events.StrictPacket,
        )
        self.flood = events.Flood()
        self.presence = _Presence(self)
        self._environs: dict[str, dict] = {}  # Socket.IO sid -> the handshake's environ, for Flask
        self._users: dict[str, int] = {}  # Socket.IO sid -> its person (for the language of refusals)
        self._register()
        _refuse_malformed_frames(self.sio)

    # -- running work with the app -------------------------------------------------------------

    def _call(self, sid: str | None, fn, *args):
        environ = self._environs.get(sid) if sid else None
        context = self.app.request_context(environ) if environ else self.app.app_context()
        with context:
            return fn(*args)

    async def in_app(self, sid: str | None, fn, *args):
        """Run `fn` in a worker thread, in a request context of the connection (or the app's)."""
        return await asyncio.to_thread(self._call, sid, fn, *args)

    def _allowed(self, sid: str) -> bool:
        try:
            key = self.sio.manager.eio_sid_from_sid(sid, "/") or sid
        except (AttributeError, KeyError):
            key = sid
        return self.flood.allow(key, self.app.config["SOCKETIO_EVENTS_PER_SECOND"])

    async def _refusal(self, sid: str, text_of) -> dict:
        """The answer refusing an event, its text (`text_of()`, a gettext call) in the person's language."""
        return {"ok": False, "error": await self.in_app(sid, _in_language_of, self._users.get(sid), text_of)}

    # -- the protocol ------------------------------------------------------------------------

    def _register(self) -> None:
        sio = self.sio
        registry = self.app.extensions["drafting.presence"]

        @sio.on("connect")
        async def on_connect(sid, environ, auth=None):
            self._environs[sid] = _flask_environ(environ)
            user_id = await self.in_app(sid, _authenticate, auth)
            refusal = (lambda: _("authentication required")) if user_id is None else \
                None if self._allowed(sid) else (lambda: _("too many messages"))
            if refusal is not None:
                text = await self.in_app(sid, _in_language_of, None, refusal)
                self._environs.pop(sid, None)
                raise ConnectionRefusedError(text)
            self._users[sid] = user_id
            await asyncio.to_thread(registry.add, sid, user_id)

        @sio.on("disconnect")
        async def on_disconnect(sid, reason=None):
            self._environs.pop(sid, None)
            self._users.pop(sid, None)
            for document_id in await asyncio.to_thread(registry.remove, sid):
                self.presence.request(document_id)

        def bounded(handler):
            async def wrapper(sid, data=None, *_extra):
                if not self._allowed(sid):
                    answer = await self._refusal(sid, lambda: _("too many messages"))
                    await sio.disconnect(sid)
                    return answer
                return await handler(sid, data)

            return wrapper

        @sio.on("join")
        @bounded
        async def on_join(sid, data):
            user_id = await asyncio.to_thread(registry.user_of, sid)
            document_id = data.get("document_id") if isinstance(data, dict) else None
            if user_id is None or not is_db_int(document_id):
                return await self._refusal(sid, lambda: _("document_id must be an integer"))
            seq = await self.in_app(sid, _may_view, user_id, document_id)
            if seq is None:
                return await self._refusal(sid, lambda: _("not a member of this document"))
            await sio.enter_room(sid, live.room(document_id))
            await asyncio.to_thread(registry.join, sid, document_id)
            self.presence.request(document_id)
            return {"ok": True, "seq": seq}

        @sio.on("leave")
        @bounded
        async def on_leave(sid, data):
            document_id = data.get("document_id") if isinstance(data, dict) else None
            if not is_db_int(document_id) or not await asyncio.to_thread(registry.joined, sid, document_id):
                return await self._refusal(sid, lambda: _("not joined"))
            await sio.leave_room(sid, live.room(document_id))
            await asyncio.to_thread(registry.leave, sid, document_id)
            self.presence.request(document_id)
            return {"ok": True}

        @sio.on("editing")
        @bounded
        async def on_editing(sid, data):
            if not isinstance(data, dict):
                return await self._refusal(sid, lambda: _("bad request"))
            document_id, clause_id = data.get("document_id"), data.get("clause_id")
            if not is_db_int(document_id) or not (clause_id is None or is_db_int(clause_id)) \
                    or not await asyncio.to_thread(registry.joined, sid, document_id):
                return await self._refusal(sid, lambda: _("not joined"))
            await asyncio.to_thread(registry.set_editing, sid, document_id, clause_id)
            self.presence.request(document_id)
            return {"ok": True}

        @sio.on("*")
        async def on_anything_else(event, sid, *_data):
            if not self._allowed(sid):
                answer = await self._refusal(sid, lambda: _("too many messages"))
                await sio.disconnect(sid)
                return answer
            name = repr(str(event)[:40])
            return await self._refusal(sid, lambda: _("unknown event %(event)s; changes go through HTTP", event=name))

    def web_app(self) -> web.Application:
        """The aiohttp application serving /socket.io/ (and a health check)."""
        application = web.Application()
        self.sio.attach(application)

        async def health(_request):
            return web.json_response({"ok": True})

        application.router.add_get("/live/health", health)
        return application


# -- fan-out: one frame for the whole room --------------------------------------------------------

SLOW_CLIENT_BYTES = 1 << 20  # a connection that has not read this much of what it was sent is closed


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked WebSocket text frame (RFC 6455, 5.2): what a server sends."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + payload


class FanOut(socketio.AsyncRedisManager):
    """The Redis manager, with a room's event written as one prepared frame to every WebSocket.

    The library hands every recipient its own copy through the connection's queue and writer task
    (a queue put, a task wake-up and a frame built per viewer). Here the Socket.IO packet, the
    Engine.IO packet and the WebSocket frame are encoded once, and the frame's bytes are written
    straight into each WebSocket's transport (non-blocking; frames are written whole, so they
    never interleave with the writer task's). Connections without compression only (the live
    server turns it off: these frames are small) and upgraded to WebSocket; the others (long
    polling), events with acknowledgements and binary data take the library's path. A client
    that lets SLOW_CLIENT_BYTES pile up unread is closed rather than buffered without end.

    Under load, frames are written in batches: the first event after a quiet spell goes out at
    once to everyone and opens a window of BATCH_SECONDS; the frames of the events in that
    window are joined per connection and written with one system call each when it ends (and
    while they keep coming, the next window opens). A frame waits at most BATCH_SECONDS. At 250
    authors a save's 249 writes took a quarter of the server core; batched, 8-10% more saves a
    second (docs/benchmarks.md, "Authors editing at once")."""

    BATCH_SECONDS = 0.02

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._batch: dict[object, tuple[str, list[bytes]]] | None = None  # transport -> (sid, frames)

    def _open_window(self) -> bool:
        """Tell whether a message may be written at once (no window open); open one either way."""
        if self._batch is not None:
            return False
        self._batch = {}
        asyncio.get_running_loop().call_later(self.BATCH_SECONDS, self._flush)
        return True

    def _write(self, eio_sid: str, transport, frame: bytes, now: bool) -> None:
        """Write a frame now, or add it to the open window's batch."""
        # (The window may have closed while this message waited on a polling client: nothing
        # is pending then, so writing at once keeps the order.)
        if now or self._batch is None:
            self._send(eio_sid, transport, frame)
            return
        batch = self._batch.get(transport)
        if batch is None:
            self._batch[transport] = (eio_sid, [frame])
        else:
            batch[1].append(frame)

    def _flush(self) -> None:
        """Write each connection's batch in one go; keep batching while frames keep coming."""
        batch, self._batch = self._batch, None
        if batch:
            self._batch = {}
            asyncio.get_running_loop().call_later(self.BATCH_SECONDS, self._flush)
            for transport, (eio_sid, frames) in batch.items():
                if not transport.is_closing():
                    self._send(eio_sid, transport, frames[0] if len(frames) == 1 else b"".join(frames))

    @staticmethod
    def _send(eio_sid: str, transport, data: bytes) -> None:
        if transport.get_write_buffer_size() > SLOW_CLIENT_BYTES:
            log.warning("Socket.IO session %s closed: %s bytes sent and not read", eio_sid,
                        transport.get_write_buffer_size())
            transport.abort()
        else:
            transport.write(data)

    async def _handle_emit(self, message):
        data = message.get("data")
        if message.get("callback") is not None or message.get("binary") or not isinstance(data, list):
            return await super()._handle_emit(message)
        namespace = message.get("namespace") or "/"
        skip = message.get("skip_sid")
        skip = set(skip if isinstance(skip, list) else [skip])
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace,
                                           data=[message["event"], *data]).encode()
        eio_packet = engineio.packet.Packet(engineio.packet.MESSAGE, encoded)
        frame = text_frame(eio_packet.encode().encode("utf-8"))
        sockets = self.server.eio.sockets
        now = self._open_window()  # the whole message at once after a quiet spell, else batched
        for sid, eio_sid in self.get_participants(namespace, message.get("room")):
            if sid in skip:
                continue
            transport = self._transport(sockets.get(eio_sid))
            if transport is None:
                await self.server._send_eio_packet(eio_sid, eio_packet)
            else:
                self._write(eio_sid, transport, frame, now)
        return None

    @staticmethod
    def _transport(session):
        response = getattr(session, "drafting_response", None)
        if response is None or session.closed or not session.upgraded or response.closed:
            return None
        writer = getattr(response, "_writer", None)
        transport = getattr(writer, "transport", None)
        return None if transport is None or transport.is_closing() else transport


# -- malformed frames, as events.refuse_malformed_frames refuses them in threading mode -----------

def _close(eio, sid, problem: str):
    log.warning("Socket.IO session %s closed: %s", sid, problem)
    session = eio.sockets.get(sid)
    if session is not None:
        return session.close(wait=False, reason=eio.reason.TRANSPORT_ERROR)
    return None


class _CheckedFrames:
    """An aiohttp WebSocket whose text frames must decode as Engine.IO packets a client sends."""

    def __init__(self, ws, eio, sid):
        self._ws, self._eio, self._sid = ws, eio, sid

    def __getattr__(self, name):
        return getattr(self._ws, name)

    async def wait(self):
        frame = await self._ws.wait()
        if frame is None:
            return None
        try:
            if len(frame) > self._eio.max_http_buffer_size:
                problem = f"frame of {len(frame)} bytes"
            elif engineio.packet.Packet(encoded_packet=frame).packet_type in events.WEBSOCKET_PACKETS:
                return frame
            else:
                problem = "unknown Engine.IO packet type"
        except events.DECODE_ERRORS as error:
            problem = f"undecodable frame ({type(error).__name__})"
        log.warning("Socket.IO session %s closed: %s", self._sid, problem)
        await self._ws.close()
        return None


def _refuse_malformed_frames(server: socketio.AsyncServer) -> None:
    eio = server.eio
    handle_message = eio.handlers["message"]

    async def on_message(sid, data):
        session = eio.sockets.get(sid)
        if session is None or session.closed:
            return None
        try:
            return await handle_message(sid, data)
        except events.MalformedFrame as error:
            closing = _close(eio, sid, str(error))
            if closing is not None:
                await closing
            return None

    eio.on("message", on_message)

    handle_request = eio.handle_request

    async def checked_request(*args, **kwargs):
        request = args[0]
        if request.method != "POST":
            return await handle_request(*args, **kwargs)
        refused = await _polling_body_refused(eio, request)
        if refused is not None:
            return web.Response(status=refused[0], text=refused[1])
        session = _polling_session(eio, request)
        try:
            return await handle_request(*args, **kwargs)
        finally:
            if session is not None and session.closed and not session.upgraded:
                # The client said goodbye (a close packet). The threaded Engine.IO then ends the
                # long poll the client still has open; the asyncio one closes the session without
                # a word to it, and that GET waited for a ping that never comes to a closed session
                # (up to ping interval + timeout, 45 s), holding a connection, the client's own
                # disconnect (30 s measured) and the server's shutdown.
                session.queue.put_nowait(None)

    eio.handle_request = checked_request

    translate = eio._async["translate_request"]

    def translate_read_body(request):
        environ = translate(request)
        if _BODY in request:  # read by the check above: Engine.IO reads it from here instead of the stream
            environ["wsgi.input"] = _ReadBody(request[_BODY])
        return environ

    websocket = eio._async["websocket"]

    class CheckedWebSocket(websocket):
        def __init__(self, handler, server_):
            session = getattr(handler, "__self__", None)
            sid = getattr(session, "sid", None)

            async def checked(ws):
                if session is not None:
                    session.drafting_response = ws._sock  # where FanOut writes this connection's frames
                return await handler(_CheckedFrames(ws, eio, sid))

            super().__init__(checked, server_)

        async def __call__(self, environ):
            # The driver's own, without permessage-deflate: a frame is then the same bytes for every
            # connection (FanOut), and these frames are a few hundred bytes anyway.
            request = environ["aiohttp.request"]
            self._sock = web.WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
            await self._sock.prepare(request)
            self.environ = environ
            await self.handler(self)
            return self._sock

    eio._async = {**eio._async, "websocket": CheckedWebSocket, "translate_request": translate_read_body}


_BODY = "drafting.polling_body"


class _ReadBody:
    """A polling body already read, for Engine.IO's `await environ["wsgi.input"].read()`."""

    def __init__(self, body: bytes):
        self._body = body

    async def read(self, *_size) -> bytes:
        body, self._body = self._body, b""
        return body


def _polling_session(eio, request):
    """The Engine.IO session a polling request names (its `sid`), if it still exists."""
    sid = parse_qs(request.query_string).get("sid", [None])[0]
    return eio.sockets.get(sid) if sid else None


async def _polling_body_refused(eio, request) -> tuple[int, str] | None:
    session = _polling_session(eio, request)
    if session is None or not session.connected or session.upgraded:
        return None
    if session.closed:
        return 400, "session closed"
    length = request.content_length
    if length is None or not 0 <= length <= eio.max_http_buffer_size:
        closing = _close(eio, session.sid, f"polling body of {length} bytes")
        if closing is not None:
            await closing
        return 413, "payload too large"
    body = await request.read()
    request[_BODY] = body  # Engine.IO reads it again (translate_read_body)
    try:
        kinds = {p.packet_type for p in engineio.payload.Payload(encoded_payload=body.decode("utf-8")).packets}
    except events.DECODE_ERRORS as error:
        kinds, problem = None, f"undecodable polling body ({type(error).__name__})"
    else:
        problem = f"Engine.IO packet types {sorted(kinds - events.POLLING_PACKETS)} over polling"
    if kinds is None or not kinds <= events.POLLING_PACKETS:
        closing = _close(eio, session.sid, problem)
        if closing is not None:
            await closing
        return 400, "malformed payload"
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m drafting.live_server", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = LiveServer(create_app())
    web.run_app(server.web_app(), host=options.host, port=options.port, print=None,
                access_log=None, handle_signals=True)


if __name__ == "__main__":
    main()
