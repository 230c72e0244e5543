"""The one way a change is broadcast: room naming, seq, payloads, emitted after commit.

Operations call `announce(...)` inside their transaction. It increments the document's `seq`
(a row-level UPDATE, so concurrent changes of one document are numbered in commit order),
records a ChangeEvent for pages catching up, and queues the Socket.IO emit, which is sent
only after the transaction commits. A rolled-back change is never announced.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from .extensions import db, socketio
from .models import ChangeEvent, Document
from .models.base import utcnow

PENDING = "live_pending"
EVICTIONS = "live_evictions"


def room(document_id: int) -> str:
    """Name the Socket.IO room of a document."""
    return f"document:{document_id}"


def announce(document: Document, name: str, actor_id: int | None, **fields) -> dict:
    """Record a change of the document and queue its broadcast for after commit."""
    seq = db.session.execute(
        update(Document).where(Document.id == document.id)
        .values(seq=Document.seq + 1, updated_at=utcnow())
        .returning(Document.seq)
    ).scalar_one()
    payload = {"document_id": document.id, "seq": seq, "actor": actor_id, **fields}
    db.session.add(ChangeEvent(document_id=document.id, seq=seq, event=name, payload=payload))
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
    session.info.pop(PENDING, None)
    session.info.pop(EVICTIONS, None)
