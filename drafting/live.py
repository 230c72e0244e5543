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

from flask import current_app
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .extensions import db, socketio
from .models import ChangeEvent, Document
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
        from .events import evict_now

        # A fresh app context has its own database session: this one has just committed.
        with current_app.app_context():
            for user_id, document_id in evictions:
                evict_now(user_id, document_id)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(LOCKED, None)
    session.info.pop(PENDING, None)
    session.info.pop(EVICTIONS, None)
