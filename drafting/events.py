"""Socket.IO handlers: authenticated connections, one room per document, presence.

Clients never change data through Socket.IO; every change goes through HTTP where
permissions are checked, and reaches the rooms through `live.announce`.
"""

from __future__ import annotations

import functools
import threading
import time

from flask import current_app, request
from flask_login import current_user
from flask_socketio import disconnect, join_room, leave_room

from . import permissions
from .api.auth import user_for_token
from .extensions import db, socketio
from .live import broadcast_presence, registry, room
from .models import Document, User
from .models.base import is_db_int


class Flood:
    """Count each connection's events in one-second windows; this process holds the connection.

    A connection is the Engine.IO session (the WebSocket or the polling session), not the
    namespace session: a client that connects and disconnects the namespace over and over on one
    transport keeps one budget, and the connects count too.
    """

    PRUNE_AT = 10_000  # windows kept before the stale ones are dropped

    def __init__(self):
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}

    def allow(self, key: str, limit: int) -> bool:
        second = int(time.monotonic())
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
            return {"ok": False, "error": "too many messages"}
        return handler(*args, **kwargs)

    return wrapper


@socketio.on("connect")
def on_connect(auth=None):
    """Sent by every client; refused unless a browser session or an API token authenticates it."""
    user = current_user if current_user.is_authenticated else None
    if user is None and isinstance(auth, dict):
        user = user_for_token(auth.get("token"))
    if user is None:
        raise ConnectionRefusedError("authentication required")
    if not _flood.allow(_connection(), current_app.config["SOCKETIO_EVENTS_PER_SECOND"]):
        raise ConnectionRefusedError("too many messages")
    registry().add(request.sid, user.id)


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """Leaving clients drop out of the presence of every document they had joined."""
    for document_id in registry().remove(request.sid):
        broadcast_presence(document_id)


@socketio.on("join")
@bounded
def on_join(data):
    """A page joins its document's room; members only. Acknowledged with the current seq."""
    user_id = registry().user_of(request.sid)
    document_id = data.get("document_id") if isinstance(data, dict) else None
    if user_id is None or not is_db_int(document_id):
        return {"ok": False, "error": "document_id must be an integer"}
    document = db.session.get(Document, document_id)
    user = db.session.get(User, user_id)
    if document is None or user is None or not permissions.decide(user, document, "view"):
        return {"ok": False, "error": "not a member of this document"}
    join_room(room(document_id))
    registry().join(request.sid, document_id)
    broadcast_presence(document_id)
    return {"ok": True, "seq": document.seq}


@socketio.on("leave")
@bounded
def on_leave(data):
    """A page leaves its document's room."""
    document_id = data.get("document_id") if isinstance(data, dict) else None
    if not is_db_int(document_id) or not registry().joined(request.sid, document_id):
        return {"ok": False, "error": "not joined"}
    leave_room(room(document_id))
    registry().leave(request.sid, document_id)
    broadcast_presence(document_id)
    return {"ok": True}


@socketio.on("editing")
@bounded
def on_editing(data):
    """A page says which clause its user has open (or None); the room sees it in presence."""
    if not isinstance(data, dict):
        return {"ok": False, "error": "bad request"}
    document_id, clause_id = data.get("document_id"), data.get("clause_id")
    if not is_db_int(document_id) or not registry().joined(request.sid, document_id) \
            or not (clause_id is None or is_db_int(clause_id)):
        return {"ok": False, "error": "not joined"}
    registry().set_editing(request.sid, document_id, clause_id)
    broadcast_presence(document_id)
    return {"ok": True}


@socketio.on("*")
@bounded
def on_anything_else(event, data=None):
    """Any other event is refused: clients cannot change data through Socket.IO."""
    return {"ok": False, "error": f"unknown event {str(event)[:40]!r}; changes go through HTTP"}
