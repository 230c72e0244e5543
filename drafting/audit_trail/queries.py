"""Reading a document's audit trail: newest first, filtered by clause, organisation and kind."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from ..extensions import db
from ..models import Approval, AuditEvent, Clause, Document, Organisation
from ..models.base import iso, parse_int
from .describe import CATEGORIES, describe

PAGE_SIZE = 100


@dataclass
class Filters:
    clause_id: int | None = None
    organisation: Organisation | None = None
    category: str | None = None
    before: int | None = None      # show events older than this id (the next page)

    @property
    def active(self) -> bool:
        return bool(self.clause_id or self.organisation or self.category)


def _id(args, name: str) -> int | None:
    raw = args.get(name)
    if raw is None or raw == "":
        return None
    value = parse_int(raw)
    if value is None or value < 1:
        raise LookupError(_("%(name)s must be a positive integer.", name=name))
    return value


def read_filters(args) -> Filters:
    """Read filters from query arguments; the organisation may be given by id or by name."""
    organisation = None
    raw = (args.get("organisation") or "").strip()
    if raw:
        number = parse_int(raw)
        organisation = (db.session.get(Organisation, number) if number else
                        db.session.scalar(select(Organisation).where(Organisation.name == raw)))
        if organisation is None:
            raise LookupError(_("No organisation is called “%(name)s”.", name=raw))
    category = args.get("category") or None
    if category is not None and category not in CATEGORIES:
        raise LookupError(_("Kind must be one of: %(kinds)s.", kinds=", ".join(CATEGORIES)))
    return Filters(_id(args, "clause"), organisation, category, _id(args, "before"))


def trail(document: Document, filters: Filters, limit: int = PAGE_SIZE) -> tuple[list[AuditEvent], int | None]:
    """Return a page of events, newest first, and the cursor of the next (older) page, if any."""
    query = select(AuditEvent).where(AuditEvent.document_id == document.id)
    if filters.clause_id:
        query = query.where(AuditEvent.clause_id == filters.clause_id)
    if filters.organisation is not None:
        org = filters.organisation.id
        signed = select(Approval.id).where(Approval.document_id == document.id, Approval.organisation_id == org)
        # Events by its people, events about its approvals, and its joining as a participant.
        query = query.where(or_(
            AuditEvent.organisation_id == org,
            and_(AuditEvent.object_type == "approval", AuditEvent.object_id.in_(signed)),
            and_(AuditEvent.object_type == "organisation", AuditEvent.object_id == org)))
    if filters.category:
        prefixes = CATEGORIES[filters.category][1]
        query = query.where(or_(*[AuditEvent.action.startswith(p) if p.endswith(".") else AuditEvent.action == p
                                  for p in prefixes]))
    if filters.before:
        query = query.where(AuditEvent.id < filters.before)
    rows = list(db.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def clause_names(document: Document) -> dict[int, str]:
    """Name every clause the trail may mention: "clause 3 (Scope)", or "deleted clause (Scope)"."""
    clauses = db.session.scalars(select(Clause).where(Clause.document_id == document.id)
                                 .order_by(Clause.position, Clause.id))
    names, number = {}, 0
    for clause in clauses:
        if clause.deleted_at is None:
            number += 1
            names[clause.id] = (_("clause %(number)s (%(heading)s)", number=number, heading=clause.heading)
                                if clause.heading else _("clause %(number)s", number=number))
        else:
            names[clause.id] = (_("a deleted clause (%(heading)s)", heading=clause.heading) if clause.heading
                                else _("a deleted clause"))
    return names


def organisations_in(document: Document) -> list[Organisation]:
    """Return the organisations that take part in the document or appear in its trail."""
    ids = set(db.session.scalars(select(AuditEvent.organisation_id).where(
        AuditEvent.document_id == document.id, AuditEvent.organisation_id.is_not(None)).distinct()))
    ids |= {o.id for o in document.participants}
    if not ids:
        return []
    return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)))


def event_json(event: AuditEvent, names: dict[int, str]) -> dict:
    """Serialise an event for the API."""
    return {"id": event.id, "at": iso(event.created_at), "action": event.action,
            "summary": describe(event, names),
            "actor": {"id": event.actor.id, "name": event.actor.name} if event.actor else None,
            "organisation": event.actor.organisation.name if event.actor else None,
            "clause_id": event.clause_id, "object_type": event.object_type, "object_id": event.object_id,
            "details": event.details, "prev_hash": event.prev_hash, "hash": event.hash}
