"""Record audit events; each carries the hash of the document's previous event."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import insert, select

from . import live
from .extensions import db
from .models import AuditEvent, Document, User
from .models.base import utcnow

_INSERT = insert(AuditEvent.__table__)
_COLUMNS = tuple(column.key for column in AuditEvent.__table__.columns if column.key != "id")


def hashed_fields(prev_hash: str | None, event: AuditEvent) -> dict:
    """Return what an event's hash covers (published on the certificate so anyone can recompute it)."""
    return {"prev": prev_hash, "document": event.document_id, "actor": event.actor_id,
            "organisation": event.organisation_id, "action": event.action,
            "object_type": event.object_type, "object_id": event.object_id,
            "clause": event.clause_id, "details": event.details,
            "at": event.created_at.isoformat()}


def hash_fields(fields: dict) -> str:
    """SHA-256 of the fields as JSON with sorted keys, UTF-8, not ASCII-escaped."""
    body = json.dumps(fields, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _event_hash(prev_hash: str | None, event: AuditEvent) -> str:
    return hash_fields(hashed_fields(prev_hash, event))


def record(actor: User | None, document: Document | None, action: str, object_type: str,
           object_id: int | None = None, clause_id: int | None = None, **details) -> AuditEvent:
    """Append an audit event (written, not committed) chained to the document's last one.

    The event returned is not in the session: read events back with `events_of`.
    """
    prev_hash = None
    if document is not None:
        # Read the chain's head under the document's row lock, so two transactions cannot both
        # chain to the same event (a fork would read as tampering). Free where the operation
        # already holds the row (live.announce ran first).
        prev_hash = live.locked_row(document)["audit_head"]
    event = AuditEvent(
        document_id=document.id if document else None,
        actor_id=actor.id if actor else None,
        organisation_id=actor.organisation_id if actor else None,
        action=action, object_type=object_type, object_id=object_id, clause_id=clause_id,
        details=details, created_at=utcnow(), prev_hash=prev_hash,
    )
    event.hash = _event_hash(prev_hash, event)
    if document is None:
        db.session.flush()  # the actor may be new in this transaction (locked_row flushed otherwise)
    # A plain INSERT instead of the unit of work: the event is final, nothing changes it later.
    event.id = db.session.execute(_INSERT, {column: getattr(event, column) for column in _COLUMNS}
                                  ).inserted_primary_key[0]
    if document is not None:
        live.set_audit_head(document, event.hash)
    return event


@dataclass
class ChainCheck:
    """The result of recomputing a document's audit chain."""

    events: int
    head: str | None
    problems: list[tuple[int, str]] = field(default_factory=list)  # (event id, what is wrong)

    @property
    def intact(self) -> bool:
        return not self.problems


def events_of(document: Document) -> list[AuditEvent]:
    """Return the document's audit events in the order they were chained."""
    return list(db.session.scalars(
        select(AuditEvent).where(AuditEvent.document_id == document.id).order_by(AuditEvent.id)))


def verify_chain(document: Document, events: list[AuditEvent] | None = None) -> ChainCheck:
    """Recompute every event's hash and link: an altered, removed or inserted event shows up."""
    events = events_of(document) if events is None else events
    check = ChainCheck(len(events), events[-1].hash if events else None)
    previous = None
    for event in events:
        if event.prev_hash != previous:
            check.problems.append((event.id, _("it does not follow the event before it: an event was "
                                               "removed, inserted or changed before this one")))
        if event.hash != _event_hash(event.prev_hash, event):
            check.problems.append((event.id, _("its content no longer matches its hash: it was altered")))
        previous = event.hash
    if document.audit_head != previous:
        # The document row keeps the newest event's hash: a chain cut short (or one whose newest
        # events were replaced) no longer ends where the document says it does.
        last = events[-1].id if events else None
        check.problems.append((last, _("the trail does not end with the document's newest recorded "
                                       "event: events were removed from its end or replaced")))
    return check
