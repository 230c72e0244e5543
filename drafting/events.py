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


class PresenceCoalescer:
    """At most one presence broadcast per document every INTERVAL seconds: the first goes at
    once, the ones that follow within the interval become one, sent at its end with the state
    of that moment. A flood of joins, leaves and "editing" events costs a few broadcasts."""

    INTERVAL = 0.2

    def __init__(self):
        self._lock = threading.Lock()
        self._last: dict[int, float] = {}
        self._pending: set[int] = set()

    def request(self, document_id: int) -> None:
        now = time.monotonic()
        with self._lock:
            if document_id in self._pending:
                return
            wait = self._last.get(document_id, float("-inf")) + self.INTERVAL - now
            if wait <= 0:
                self._last[document_id] = now
            else:
                self._pending.add(document_id)
        if wait <= 0:
            _send_presence(document_id)
            return
        app = current_app._get_current_object()

        def later() -> None:
            socketio.sleep(wait)
            with self._lock:
                self._pending.discard(document_id)
                self._last[document_id] = time.monotonic()
            try:
                with app.app_context():
                    _send_presence(document_id)
            except Exception:  # noqa: BLE001 - a late broadcast must never kill the process
                app.logger.warning("presence of document %s not broadcast", document_id, exc_info=True)

        socketio.start_background_task(later)


_presence_out = PresenceCoalescer()


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
    """Send the document's room who is on it and what they are editing (coalesced)."""
    _presence_out.request(document_id)


def _send_presence(document_id: int) -> None:
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
