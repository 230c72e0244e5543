"""The one way a change is broadcast: room naming, seq, payloads, emitted after commit.

Operations call `announce(...)` inside their transaction. It increments the document's `seq`
(a row-level UPDATE, so concurrent changes of one document are numbered in commit order),
records a ChangeEvent for pages catching up, and queues the Socket.IO emit, which is sent
only after the transaction commits. A rolled-back change is never announced.

The UPDATE that takes the document's row also returns its phase and audit-chain head; they are
remembered for the rest of the transaction (`locked_row`), so the freeze check and the audit
record that follow need no statement of their own to read them under the lock.
"""

from __future__ import annotations

import threading
import time

from flask import current_app
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from .extensions import db, socketio
from .models import ChangeEvent, Document, User
from .models.base import utcnow

PENDING = "live_pending"
EVICTIONS = "live_evictions"
LOCKED = "live_locked_documents"  # document id -> {"seq", "phase", "audit_head"} read under the row lock


def room(document_id: int) -> str:
    """Name the Socket.IO room of a document."""
    return f"document:{document_id}"


# The statements of every change, built once (a save runs them all; building them each time
# cost more CPU than running them).
_DOCUMENT = Document.__table__
_RETURNED = (_DOCUMENT.c.seq, _DOCUMENT.c.phase, _DOCUMENT.c.audit_head)
_BUMP = (update(_DOCUMENT).where(_DOCUMENT.c.id == bindparam("document_id"))
         .values(seq=_DOCUMENT.c.seq + 1, updated_at=bindparam("now")).returning(*_RETURNED))
_HOLD = (update(_DOCUMENT).where(_DOCUMENT.c.id == bindparam("document_id"))
         .values(seq=_DOCUMENT.c.seq).returning(*_RETURNED))
_SET_HEAD = update(_DOCUMENT).where(_DOCUMENT.c.id == bindparam("document_id")).values(audit_head=bindparam("head"))
_RECORD_CHANGE = insert(ChangeEvent.__table__)


def _lock(document: Document, statement, params: dict) -> dict:
    """Run a row-locking UPDATE of the document; remember and return what it read."""
    db.session.flush()  # pending changes (a new phase, say) go first: they are what the row returns
    seq, phase, audit_head = db.session.execute(statement, {"document_id": document.id, **params}).one()
    set_committed_value(document, "seq", seq)
    if "now" in params:
        set_committed_value(document, "updated_at", params["now"])
    row = {"seq": seq, "phase": phase, "audit_head": audit_head}
    db.session.info.setdefault(LOCKED, {})[document.id] = row
    return row


def locked_row(document: Document) -> dict:
    """Hold the document's row for this transaction; return its seq, phase and audit head.

    The first call takes the lock (a no-op UPDATE: a row lock on PostgreSQL, the write lock on
    SQLite); later calls in the same transaction answer from memory.
    """
    row = db.session.info.get(LOCKED, {}).get(document.id)
    return row if row is not None else _lock(document, _HOLD, {})


def set_audit_head(document: Document, head: str) -> None:
    """Write the head of the document's audit chain (its row is already held: see locked_row)."""
    row = locked_row(document)
    db.session.execute(_SET_HEAD, {"document_id": document.id, "head": head})
    set_committed_value(document, "audit_head", head)
    row["audit_head"] = head


def announce(document: Document, name: str, actor_id: int | None, **fields) -> dict:
    """Record a change of the document and queue its broadcast for after commit."""
    now = utcnow()
    seq = _lock(document, _BUMP, {"now": now})["seq"]
    payload = {"document_id": document.id, "seq": seq, "actor": actor_id, **fields}
    # A plain INSERT: nothing in this transaction reads the event back as an object.
    db.session.execute(_RECORD_CHANGE, {"document_id": document.id, "seq": seq, "event": name,
                                        "payload": payload, "created_at": now})
    db.session.info.setdefault(PENDING, []).append((name, payload))
    return payload


def changes_since(document: Document, since: int) -> list[dict]:
    """Return the events of the document after `since`, in order, as broadcast."""
    rows = db.session.scalars(
        select(ChangeEvent).where(ChangeEvent.document_id == document.id, ChangeEvent.seq > since)
        .order_by(ChangeEvent.seq)
    )
    return [{"event": row.event, **row.payload} for row in rows]


def evict(user_id: int, document_id: int | None = None) -> None:
    """Take a user's live connections out of a document's room (or end them all) after commit."""
    db.session.info.setdefault(EVICTIONS, []).append((user_id, document_id))


@event.listens_for(Session, "after_commit")
def _emit_after_commit(session: Session) -> None:
    session.info.pop(LOCKED, None)
    for name, payload in session.info.pop(PENDING, []):
        socketio.emit(name, payload, to=room(payload["document_id"]))
    evictions = session.info.pop(EVICTIONS, [])
    if evictions:
        # A fresh app context has its own database session: this one has just committed.
        with current_app.app_context():
            for user_id, document_id in evictions:
                evict_now(user_id, document_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(LOCKED, None)
    session.info.pop(PENDING, None)
    session.info.pop(EVICTIONS, None)


# ---- presence: who has a document open, and what they edit ------------------------------------

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
        server = socketio.server  # this app's (the extension object serves one app at a time)

        def later() -> None:
            socketio.sleep(wait)
            with self._lock:
                self._pending.discard(document_id)
                self._last[document_id] = time.monotonic()
            try:
                with app.app_context():
                    _send_presence(document_id, server)
            except Exception:  # noqa: BLE001 - a late broadcast must never kill the process
                app.logger.warning("presence of document %s not broadcast", document_id, exc_info=True)

        socketio.start_background_task(later)


def registry():
    """The app's presence registry (this process, or Redis shared by every process)."""
    return current_app.extensions["drafting.presence"]


def presence_of(document_id: int) -> list[dict]:
    """Who is on the document and what they edit: one registry read and two queries (the people,
    their organisations), however many are there."""
    viewers = registry().viewers(document_id)
    ids = {user_id for user_id, _ in viewers}
    people = {u.id: u for u in db.session.scalars(
        select(User).where(User.id.in_(ids)).options(selectinload(User.organisation)))} if ids else {}
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
    """Send the document's room who is on it and what they are editing (coalesced by the app's own
    coalescer: a broadcast pending in one app must not stand for another's, as it did between tests)."""
    current_app.extensions["drafting.presence_out"].request(document_id)


def _send_presence(document_id: int, server=None) -> None:
    (server or socketio.server).emit("presence", {"document_id": document_id, "users": presence_of(document_id)},
                                     to=room(document_id), namespace="/")


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
