"""Socket.IO handlers: authenticated connections, one room per document, presence.

Clients never change data through Socket.IO; every change goes through HTTP where
permissions are checked, and reaches the rooms through `live.announce`.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
import time
from urllib.parse import parse_qs

import engineio
from flask import current_app, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import disconnect, join_room, leave_room
from socketio import Server
from socketio import packet as sio_packet

from . import permissions
from .api.auth import user_for_token
from .extensions import db, socketio
from .live import broadcast_presence, registry, room
from .models import Document, User
from .models.base import is_db_int

log = logging.getLogger(__name__)


class Flood:
    """Count each connection's events in one-second windows; this process holds the connection.

    A connection is the Engine.IO session (the WebSocket or the polling session), not the
    namespace session: a client that connects and disconnects the namespace over and over on one
    transport keeps one budget, and the connects count too.
    """

    PRUNE_AT = 10_000  # windows kept before the stale ones are dropped

    def __init__(self, clock=time.monotonic):
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}
        self.clock = clock

    def allow(self, key: str, limit: int) -> bool:
        second = int(self.clock())
        with self._lock:
            if len(self._windows) > self.PRUNE_AT:
                self._windows = {k: w for k, w in self._windows.items() if w[0] >= second - 1}
            start, count = self._windows.get(key, (second, 0))
            if start != second:
                start, count = second, 0
            self._windows[key] = (start, count + 1)
            return count + 1 <= limit


_flood = Flood()


def _connection() -> str:
    """The transport connection (Engine.IO session id) the current event came on."""
    try:
        return socketio.server.manager.eio_sid_from_sid(request.sid, request.namespace or "/") or request.sid
    except (AttributeError, KeyError):
        return request.sid


def bounded(handler):
    """Disconnect a client that sends more events per second than any page would."""

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        if not _flood.allow(_connection(), current_app.config["SOCKETIO_EVENTS_PER_SECOND"]):
            disconnect()
            return {"ok": False, "error": _("too many messages")}
        return handler(*args, **kwargs)

    return wrapper


@socketio.on("connect")
def on_connect(auth=None):
    """Sent by every client; refused unless a browser session or an API token authenticates it."""
    user = current_user if current_user.is_authenticated else None
    if user is None and isinstance(auth, dict):
        user = user_for_token(auth.get("token"))
    if user is None:
        raise ConnectionRefusedError(_("authentication required"))
    if not _flood.allow(_connection(), current_app.config["SOCKETIO_EVENTS_PER_SECOND"]):
        raise ConnectionRefusedError(_("too many messages"))
    registry().add(request.sid, user.id)


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """Leaving clients drop out of the presence of every document they had joined."""
    for document_id in registry().remove(request.sid):
        broadcast_presence(document_id)


@socketio.on("join")
@bounded
def on_join(data=None, *_extra):
    """A page joins its document's room; members only. Acknowledged with the current seq."""
    user_id = registry().user_of(request.sid)
    document_id = data.get("document_id") if isinstance(data, dict) else None
    if user_id is None or not is_db_int(document_id):
        return {"ok": False, "error": _("document_id must be an integer")}
    document = db.session.get(Document, document_id)
    user = db.session.get(User, user_id)
    if document is None or user is None or not permissions.decide(user, document, "view"):
        return {"ok": False, "error": _("not a member of this document")}
    join_room(room(document_id))
    registry().join(request.sid, document_id)
    broadcast_presence(document_id)
    return {"ok": True, "seq": document.seq}


@socketio.on("leave")
@bounded
def on_leave(data=None, *_extra):
    """A page leaves its document's room."""
    document_id = data.get("document_id") if isinstance(data, dict) else None
    if not is_db_int(document_id) or not registry().joined(request.sid, document_id):
        return {"ok": False, "error": _("not joined")}
    leave_room(room(document_id))
    registry().leave(request.sid, document_id)
    broadcast_presence(document_id)
    return {"ok": True}


@socketio.on("editing")
@bounded
def on_editing(data=None, *_extra):
    """A page says which clause its user has open (or None); the room sees it in presence."""
    if not isinstance(data, dict):
        return {"ok": False, "error": _("bad request")}
    document_id, clause_id = data.get("document_id"), data.get("clause_id")
    if not is_db_int(document_id) or not registry().joined(request.sid, document_id) \
            or not (clause_id is None or is_db_int(clause_id)):
        return {"ok": False, "error": _("not joined")}
    registry().set_editing(request.sid, document_id, clause_id)
    broadcast_presence(document_id)
    return {"ok": True}


@socketio.on("*")
@bounded
def on_anything_else(event, *_data):
    """Any other event is refused: clients cannot change data through Socket.IO."""
    return {"ok": False, "error": _("unknown event %(event)s; changes go through HTTP", event=repr(str(event)[:40]))}


# Malformed frames (issue 16). A hostile client may send anything over /socket.io/. The libraries
# decode it where an exception either escapes into a library thread (a traceback logged, the
# connection left open) or, on a polling POST, makes Engine.IO disconnect the session and wait for
# its queue to drain, which holds that server thread for good. So every frame is decoded by the
# libraries' own decoders before they act on it, and one they cannot decode, or that is not a
# packet this app's clients send, closes that connection; other connections never notice.

class MalformedFrame(ValueError):
    """A client sent something that is not a packet of this app's protocol."""


# What the libraries' decoders raise on bad input (UnicodeDecodeError, binascii.Error and
# JSONDecodeError are ValueErrors; JSON nested thousands deep is a RecursionError).
DECODE_ERRORS = (ValueError, TypeError, KeyError, IndexError, RecursionError)
# Engine.IO packets a client sends: over polling, no PING (a WebSocket upgrade's probe is one).
POLLING_PACKETS = frozenset({engineio.packet.CLOSE, engineio.packet.PONG, engineio.packet.MESSAGE,
                             engineio.packet.UPGRADE})
WEBSOCKET_PACKETS = POLLING_PACKETS | {engineio.packet.PING}


class StrictPacket(sio_packet.Packet):
    """Socket.IO packets as this app's clients send them: the server's `serializer`.

    The library's decoder, then what its dispatcher takes for granted, as the reference client's
    parser (socket.io-parser `isPayloadValid`) checks it: text only (pages send no binary data, so
    no attachment can be announced or awaited), the default namespace (a connect to another one
    is left to the library, which answers CONNECT_ERROR), an event is a list led by its name, a
    string other than the reserved "connect" and "disconnect", an acknowledgement is a list.
    """

    def __init__(self, *args, encoded_packet=None, **kwargs):
        if encoded_packet is not None and not encoded_packet:  # the library reads "" as an event of None
            raise MalformedFrame("empty packet")
        super().__init__(*args, encoded_packet=encoded_packet, **kwargs)

    def decode(self, encoded_packet):
        if not isinstance(encoded_packet, str):
            raise MalformedFrame("binary data")
        try:
            attachments = super().decode(encoded_packet)
        except DECODE_ERRORS as error:
            raise MalformedFrame(f"undecodable packet ({type(error).__name__})") from None
        kind, data = self.packet_type, self.data
        if attachments or kind not in (sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.EVENT, sio_packet.ACK):
            raise MalformedFrame(f"packet type {kind!r}")
        if kind != sio_packet.CONNECT and self.namespace not in (None, "/"):
            raise MalformedFrame("unknown namespace")
        if kind == sio_packet.EVENT and not (isinstance(data, list) and data and isinstance(data[0], str)
                                             and data[0] not in Server.reserved_events):
            raise MalformedFrame("an event must be a list led by its name")
        if kind == sio_packet.ACK and not isinstance(data, list):
            raise MalformedFrame("an acknowledgement must be a list")
        return 0


def _close(eio, sid, problem: str) -> None:
    """Close one Engine.IO session without waiting for its queue (a polling client may never drain it)."""
    log.warning("Socket.IO session %s closed: %s", sid, problem)
    session = eio.sockets.get(sid)
    if session is not None:
        session.close(wait=False, reason=eio.reason.TRANSPORT_ERROR)


def _polling_body_refused(eio, environ) -> tuple[str, str] | None:
    """Read and decode a polling POST's body as Engine.IO will; say why it is refused, or None."""
    sid = parse_qs(environ.get("QUERY_STRING", "")).get("sid", [None])[0]
    session = eio.sockets.get(sid) if sid else None
    if session is None or not session.connected or session.upgraded:
        return None  # Engine.IO answers these itself (400), without reading the body
    if session.closed:
        return "400 BAD REQUEST", "session closed"
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if not 0 <= length <= eio.max_http_buffer_size:
        _close(eio, sid, f"polling body of {environ.get('CONTENT_LENGTH')} bytes")
        return "413 PAYLOAD TOO LARGE", "payload too large"
    body = environ["wsgi.input"].read(length)
    try:
        kinds = {p.packet_type for p in engineio.payload.Payload(encoded_payload=body.decode("utf-8")).packets}
    except DECODE_ERRORS as error:
        _close(eio, sid, f"undecodable polling body ({type(error).__name__})")
        return "400 BAD REQUEST", "malformed payload"
    if not kinds <= POLLING_PACKETS:
        _close(eio, sid, f"Engine.IO packet types {sorted(kinds - POLLING_PACKETS)} over polling")
        return "400 BAD REQUEST", "malformed payload"
    environ["wsgi.input"] = io.BytesIO(body)  # Engine.IO reads it again
    return None


class _CheckedFrames:
    """A WebSocket whose text frames must decode as Engine.IO packets a client sends.

    Engine.IO decodes each frame outside any `try`: a bad one escaped its handler (the server
    logged a traceback and wrote a 500 into the open WebSocket). A refused frame closes the
    WebSocket and reads as the end of the connection, which Engine.IO handles as a client leaving.
    """

    def __init__(self, ws, eio, sid):
        self._ws, self._eio, self._sid = ws, eio, sid

    def __getattr__(self, name):
        return getattr(self._ws, name)

    def wait(self):
        frame = self._ws.wait()
        if frame is None:
            return None
        try:
            if len(frame) > self._eio.max_http_buffer_size:
                problem = f"frame of {len(frame)} bytes"
            elif engineio.packet.Packet(encoded_packet=frame).packet_type in WEBSOCKET_PACKETS:
                return frame
            else:
                problem = "unknown Engine.IO packet type"
        except DECODE_ERRORS as error:
            problem = f"undecodable frame ({type(error).__name__})"
        log.warning("Socket.IO session %s closed: %s", self._sid, problem)
        self._ws.close()
        return None


def refuse_malformed_frames(server) -> None:
    """Make a Socket.IO server close, instead of raising on, connections that send malformed frames.

    Called with the server `socketio.init_app` made (with `serializer=StrictPacket`).
    """
    eio = server.eio
    handle_message = eio.handlers["message"]

    def on_message(sid, data):
        session = eio.sockets.get(sid)
        if session is None or session.closed:
            return  # what followed a refused packet in the same polling body, or a client's own close
        try:
            return handle_message(sid, data)
        except MalformedFrame as error:
            _close(eio, sid, str(error))

    eio.on("message", on_message)

    handle_request = eio.handle_request

    def checked_request(environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST":
            return handle_request(environ, start_response)
        refused = _polling_body_refused(eio, environ)
        if refused is None:
            try:
                return handle_request(environ, start_response)
            except KeyError:  # Engine.IO's "Session is disconnected": it closed since it was looked up
                refused = "400 BAD REQUEST", "session closed"
        start_response(refused[0], [("Content-Type", "text/plain; charset=utf-8")])
        return [refused[1].encode()]

    eio.handle_request = checked_request

    websocket = eio._async["websocket"]  # the async mode's WebSocket driver, once per connection

    def checked_websocket(handler, *args, **kwargs):
        sid = getattr(getattr(handler, "__self__", None), "sid", None)
        return websocket(lambda ws: handler(_CheckedFrames(ws, eio, sid)), *args, **kwargs)

    eio._async = {**eio._async, "websocket": checked_websocket}
