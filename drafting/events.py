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
from sqlalchemy import select

from . import permissions
from .api.auth import user_for_token
from .extensions import db, socketio
from .live import room
from .models import Document, User


class Flood:
    """Count each connection's events in one-second windows; this process holds the connection."""

    def __init__(self):
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}

    def allow(self, sid: str, limit: int) -> bool:
        second = int(time.monotonic())
        with self._lock:
            start, count = self._windows.get(sid, (second, 0))
            if start != second:
                start, count = second, 0
            self._windows[sid] = (start, count + 1)
            return count + 1 <= limit

    def forget(self, sid: str) -> None:
        with self._lock:
            self._windows.pop(sid, None)


_flood = Flood()


def bounded(handler):
    """Disconnect a client that sends more events per second than any page would."""

    @functools.wraps(handler)
    def wrapper(*args, **kwargs):
        if not _flood.allow(request.sid, current_app.config["SOCKETIO_EVENTS_PER_SECOND"]):
            disconnect()
            return {"ok": False, "error": "too many messages"}
        return handler(*args, **kwargs)

    return wrapper


def registry():
    """The app's presence registry (this process, or Redis shared by every process)."""
    return current_app.extensions["drafting.presence"]


def _presence(document_id: int) -> list[dict]:
    viewers = registry().viewers(document_id)
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_({uid for uid, _ in viewers})))}
    users: dict[int, dict] = {}
    for user_id, editing in viewers:
        user = people.get(user_id)
        if user is None:
            continue
        entry = users.setdefault(user_id, {"id": user.id, "name": user.name,
                                           "organisation": user.organisation.name, "editing_clause_id": None})
        entry["editing_clause_id"] = entry["editing_clause_id"] or editing
    return sorted(users.values(), key=lambda u: u["name"])


def broadcast_presence(document_id: int) -> None:
    """Send the document's room who is on it and what they are editing."""
    socketio.emit("presence", {"document_id": document_id, "users": _presence(document_id)},
                  to=room(document_id))


def evict_now(user_id: int, document_id: int | None = None) -> None:
    """Remove a user's connections from a document's room, or disconnect them when None.

    The connections may live in another process: Socket.IO's message queue carries the
    leave-room or disconnect there.
    """
    sids = registry().sids_of(user_id)
    for sid in sids:
        if document_id is None:
            socketio.server.disconnect(sid, namespace="/")
            for joined in registry().remove(sid):
                broadcast_presence(joined)
            continue
        socketio.server.leave_room(sid, room(document_id), namespace="/")
        registry().leave(sid, document_id)
    if document_id is not None and sids:
        broadcast_presence(document_id)


@socketio.on("connect")
def on_connect(auth=None):
    """Sent by every client; refused unless a browser session or an API token authenticates it."""
    user = current_user if current_user.is_authenticated else None
    if user is None and isinstance(auth, dict):
        user = user_for_token(auth.get("token"))
    if user is None:
        raise ConnectionRefusedError("authentication required")
    registry().add(request.sid, user.id)


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """Leaving clients drop out of the presence of every document they had joined."""
    _flood.forget(request.sid)
    for document_id in registry().remove(request.sid):
        broadcast_presence(document_id)


@socketio.on("join")
@bounded
def on_join(data):
    """A page joins its document's room; members only. Acknowledged with the current seq."""
    user_id = registry().user_of(request.sid)
    document_id = data.get("document_id") if isinstance(data, dict) else None
    if user_id is None or not isinstance(document_id, int) or isinstance(document_id, bool):
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
    if not isinstance(document_id, int) or not registry().joined(request.sid, document_id):
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
    if not isinstance(document_id, int) or not registry().joined(request.sid, document_id) \
            or not (clause_id is None or (isinstance(clause_id, int) and not isinstance(clause_id, bool))):
        return {"ok": False, "error": "not joined"}
    registry().set_editing(request.sid, document_id, clause_id)
    broadcast_presence(document_id)
    return {"ok": True}


@socketio.on("*")
@bounded
def on_anything_else(event, data=None):
    """Any other event is refused: clients cannot change data through Socket.IO."""
    return {"ok": False, "error": f"unknown event {str(event)[:40]!r}; changes go through HTTP"}
