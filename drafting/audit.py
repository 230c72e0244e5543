"""Record audit events; each carries the hash of the document's previous event."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import select

from .extensions import db
from .models import AuditEvent, Document, User
from .models.base import utcnow


def _event_hash(prev_hash: str | None, event: AuditEvent) -> str:
    body = json.dumps(
        {"prev": prev_hash, "document": event.document_id, "actor": event.actor_id,
         "organisation": event.organisation_id, "action": event.action,
         "object_type": event.object_type, "object_id": event.object_id,
         "clause": event.clause_id, "details": event.details,
         "at": event.created_at.isoformat()},
        sort_keys=True, ensure_ascii=False,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(actor: User | None, document: Document | None, action: str, object_type: str,
           object_id: int | None = None, clause_id: int | None = None, **details) -> AuditEvent:
    """Append an audit event (flushed, not committed) chained to the document's last one."""
    prev_hash = None
    if document is not None:
        prev_hash = db.session.scalar(
            select(AuditEvent.hash).where(AuditEvent.document_id == document.id)
            .order_by(AuditEvent.id.desc()).limit(1)
        )
    event = AuditEvent(
        document_id=document.id if document else None,
        actor_id=actor.id if actor else None,
        organisation_id=actor.organisation_id if actor else None,
        action=action, object_type=object_type, object_id=object_id, clause_id=clause_id,
        details=details, created_at=utcnow(), prev_hash=prev_hash,
    )
    event.hash = _event_hash(prev_hash, event)
    db.session.add(event)
    return event
