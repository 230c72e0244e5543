"""Operations on documents: creation, members, participants, phases. They flush, never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .. import audit, live
from ..extensions import db
from ..models import Document, Membership, Organisation, Participation, User
from ..models.base import utcnow
from ..models.document import KINDS, PHASES, ROLES
from ..text.hashing import content_hash


class DocumentError(ValueError):
    """A request about a document that cannot be carried out; carries the HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def numbered_clauses(document: Document) -> list[tuple[int, Clause]]:  # noqa: F821
    """Return the document's live clauses with their numbers, in order."""
    return list(enumerate(document.clauses, start=1))


def document_hash(document: Document) -> str:
    """Compute the content hash of the document's current text."""
    return content_hash(document.title, ((n, c.heading, c.text) for n, c in numbered_clauses(document)))


def visible_documents(user: User) -> list[Document]:
    """Return the documents the user has a role on (all of them for the secretariat)."""
    query = select(Document).order_by(Document.updated_at.desc())
    if not user.is_admin:
        query = query.join(Membership).where(Membership.user_id == user.id)
    return list(db.session.scalars(query))


def create_document(actor: User, title: object, kind: object) -> Document:
    """Create an empty document in drafting."""
    if not isinstance(title, str) or not title.strip():
        raise DocumentError(422, "A document needs a title.")
    if len(title) > 300:
        raise DocumentError(413, "Titles are limited to 300 characters.")
    if kind not in KINDS:
        raise DocumentError(422, "Kind must be 'declaration' or 'action_plan'.")
    document = Document(title=" ".join(title.split()), kind=kind, phase="drafting")
    db.session.add(document)
    db.session.flush()
    audit.record(actor, document, "document.created", "document", document.id, title=document.title)
    return document


def add_member(actor: User, document: Document, email: object, role: object) -> Membership:
    """Give a user a role on the document, or change the role they have."""
    if role not in ROLES:
        raise DocumentError(422, f"Role must be one of: {', '.join(ROLES)}.")
    user = db.session.scalar(select(User).where(User.email == str(email or "").strip().lower()))
    if user is None:
        raise DocumentError(422, "No user has that email address.")
    membership = db.session.scalar(
        select(Membership).where(Membership.document_id == document.id, Membership.user_id == user.id))
    if membership is None:
        membership = Membership(document=document, user=user, role=role)
        db.session.add(membership)
    else:
        membership.role = role
    db.session.flush()
    audit.record(actor, document, "member.role_set", "membership", membership.id,
                 user=user.email, role=role)
    return membership


def remove_member(actor: User, document: Document, user_id: int) -> None:
    """Take a user's role on the document away; their open pages leave its room at once."""
    membership = db.session.scalar(
        select(Membership).where(Membership.document_id == document.id, Membership.user_id == user_id))
    if membership is None:
        raise DocumentError(404, "That user has no role on this document.")
    email = membership.user.email
    db.session.delete(membership)
    db.session.flush()
    audit.record(actor, document, "member.removed", "membership", membership.id, user=email)
    live.evict(user_id, document.id)


def add_participant(actor: User, document: Document, name: object) -> Participation:
    """Make an organisation a participant: it will have to sign before adoption."""
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        raise DocumentError(422, "No organisation has that name.")
    existing = db.session.scalar(select(Participation).where(
        Participation.document_id == document.id, Participation.organisation_id == organisation.id))
    if existing is not None:
        return existing
    participation = Participation(document=document, organisation=organisation)
    db.session.add(participation)
    db.session.flush()
    audit.record(actor, document, "participant.added", "organisation", organisation.id,
                 organisation=organisation.name)
    return participation


def move_phase(actor: User, document: Document, phase: object, deadline: datetime | None = None) -> Document:
    """Move the document to another phase, with an optional deadline."""
    if phase not in PHASES:
        raise DocumentError(422, f"Phase must be one of: {', '.join(PHASES)}.")
    if deadline is not None and deadline <= utcnow():
        raise DocumentError(422, "The deadline must be in the future.")
    previous = document.phase
    document.phase = phase
    document.deadline = deadline
    audit.record(actor, document, "document.phase_changed", "document", document.id,
                 previous=previous, phase=phase,
                 deadline=deadline.isoformat() if deadline else None)
    live.announce(document, "document.phase_changed", actor.id, phase=phase)
    return document


def document_json(document: Document, with_clauses: bool = True) -> dict:
    """Serialise a document for the API."""
    data = {
        "id": document.id, "title": document.title, "kind": document.kind,
        "phase": document.phase, "seq": document.seq,
        "deadline": document.deadline.isoformat(timespec="seconds") + "Z" if document.deadline else None,
        "updated_at": document.updated_at.isoformat(timespec="seconds") + "Z",
    }
    if with_clauses:
        data["content_hash"] = document_hash(document)
        data["participants"] = [o.name for o in document.participants]
        data["clauses"] = [c.to_json(n) for n, c in numbered_clauses(document)]
    return data
