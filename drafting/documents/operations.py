"""Operations on documents: creation, members, participants, phases. They flush, never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from .. import audit, live
from ..errors import DomainError
from ..extensions import db
from ..models import Document, Membership, Organisation, Participation, User
from ..models.base import utcnow
from ..models.document import KINDS, PHASE_LABELS, PHASES, ROLES
from ..notifications import operations as notifications
from ..permissions import FROZEN, frozen_message
from ..text.clauses import TextError
from ..text.hashing import content_hash

# Where an admin may move a document from each phase. `adopted` is reached only through the last
# signature (signoff.operations.approve), never by hand; from signing, back to drafting is the
# only move, and it invalidates every approval. Staying in a phase only changes its deadline.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "drafting": ("consultation",),
    "consultation": ("final_review", "drafting"),
    "final_review": ("signing", "drafting"),
    "signing": ("drafting",),
    "adopted": (),
}
MAX_REASON_CHARS = 2000


class DocumentError(DomainError):
    """A request about a document that cannot be carried out; carries the HTTP status."""


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
        raise DocumentError(422, f"Role must be one of: {', '.join(ROLES)}.", field="role")
    email = email.strip().lower() if isinstance(email, str) else ""
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    if user is None:
        raise DocumentError(422, "No user has that email address.", field="email")
    if not user.is_active:
        raise DocumentError(422, f"The account of {user.name} is deactivated: it cannot be given a role. "
                                 "Reactivate it first.", field="email")
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
    """Make an organisation a participant: it will have to sign before adoption.

    A cluster that already takes part is refused (409); one that withdrew takes part again.
    """
    organisation = None
    if isinstance(name, str):
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == name.strip()))
    if organisation is None:
        raise DocumentError(422, "No organisation has that name.")
    if document.phase == "adopted":
        raise DocumentError(409, "The document is adopted: the organisations that signed it are final.")
    existing = db.session.scalar(select(Participation).where(
        Participation.document_id == document.id, Participation.organisation_id == organisation.id))
    if existing is not None and existing.withdrawn_at is None:
        raise DocumentError(409, f"{organisation.name} already takes part in this document.")
    if existing is not None:  # it withdrew: the same row takes part again; the withdrawal stays audited
        withdrawn_at, withdrawn_reason = existing.withdrawn_at, existing.withdrawn_reason
        existing.withdrawn_at = existing.withdrawn_reason = None
        participation = existing
    else:
        participation = Participation(document=document, organisation=organisation)
        db.session.add(participation)
    db.session.flush()
    if existing is not None:
        audit.record(actor, document, "participant.readded", "organisation", organisation.id,
                     organisation=organisation.name, withdrawn_at=withdrawn_at.isoformat(),
                     withdrawn_reason=withdrawn_reason)
    else:
        audit.record(actor, document, "participant.added", "organisation", organisation.id,
                     organisation=organisation.name)
    return participation


def withdraw_participant(actor: User, document: Document, organisation_id: int, reason: object) -> Participation:
    """Record that a participating cluster withdrew: its approvals become invalid and adoption no
    longer waits for it; in signing, the document is adopted if every remaining cluster has signed.

    Refused: 404 when the cluster does not take part, 409 once adopted, 422 without a reason.
    """
    from ..signoff.operations import _adopt_if_complete, valid_approvals

    lock_document(document)
    participation = next((p for p in document.active_participations if p.organisation_id == organisation_id), None)
    if participation is None:
        raise DocumentError(404, "That organisation does not take part in this document.")
    if document.phase == "adopted":
        raise DocumentError(409, "The document is adopted: the organisations that signed it are final.")
    if reason is not None and not isinstance(reason, str):
        raise DocumentError(422, "The reason must be text.")
    reason = (reason or "").strip()
    if not reason:
        raise DocumentError(422, "Say why the cluster withdraws: the reason stays on record and is shown "
                                 "with its invalidated approval.")
    if len(reason) > MAX_REASON_CHARS:
        raise DocumentError(413, f"The reason is limited to {MAX_REASON_CHARS:,} characters.")
    organisation = participation.organisation
    now = utcnow()
    participation.withdrawn_at, participation.withdrawn_reason = now, reason
    db.session.flush()
    live.announce(document, "participant.withdrawn", actor.id, organisation=organisation.name)
    audit.record(actor, document, "participant.withdrawn", "organisation", organisation.id,
                 organisation=organisation.name, reason=reason)
    why = f"{organisation.name} withdrew: {reason}"
    approvals = [a for a in valid_approvals(document) if a.organisation_id == organisation.id]
    for approval in approvals:
        approval.valid, approval.invalidated_at, approval.invalidated_reason = False, now, why
    db.session.flush()
    for approval in approvals:
        audit.record(actor, document, "approval.invalidated", "approval", approval.id,
                     organisation=organisation.name, signatory=approval.signatory.name,
                     content_hash=approval.content_hash, reason=why)
        live.announce(document, "approval.changed", actor.id, organisation=organisation.name)
    notifications.approvals_invalidated(document, approvals, why)
    if document.phase == "signing":
        _adopt_if_complete(document, actor, document_hash(document))
    return participation


def lock_document(document: Document) -> None:
    """Hold the document's row until commit, then reload it: phase moves, approvals and text
    changes of one document are serialised, and each sees the others' committed result."""
    db.session.execute(update(Document).where(Document.id == document.id).values(seq=Document.seq))
    db.session.refresh(document)


def ensure_text_open(document: Document) -> None:
    """Refuse (423) a text change whose transaction began before the text was frozen.

    Called by text operations after `live.announce` has locked the document's row, so the phase
    read here (returned by that UPDATE) is the committed one: an edit racing the move to signing
    cannot slip in.
    """
    phase = live.locked_row(document)["phase"]
    if phase in FROZEN:
        raise TextError(423, frozen_message(phase))


def clean_reason(reason: object, required: bool) -> str | None:
    """Return the reason for a move back, or raise DocumentError 422/413."""
    if reason is not None and not isinstance(reason, str):
        raise DocumentError(422, "The reason must be text.")
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON_CHARS:
        raise DocumentError(413, f"The reason is limited to {MAX_REASON_CHARS:,} characters.")
    if required and not reason:
        raise DocumentError(422, "Say why the document goes back to drafting: every approval given so far "
                                 "becomes invalid, and the reason is shown to everyone with them.")
    return reason or None


def clean_override(override: object) -> str | None:
    """Return the reason an admin gives for opening the signing despite blockers, or None."""
    if override is None or (isinstance(override, str) and not override.strip()):
        return None
    if not isinstance(override, str):
        raise DocumentError(422, "The reason for overriding must be text.")
    if len(override) > MAX_REASON_CHARS:
        raise DocumentError(413, f"The reason is limited to {MAX_REASON_CHARS:,} characters.")
    return override.strip()


def move_phase(actor: User, document: Document, phase: object, deadline: datetime | None = None,
               reason: object = None, override: object = None) -> Document:
    """Move the document to another phase (see TRANSITIONS), with an optional deadline.

    Entering signing freezes the text: it is refused (409, with the blockers) while amendments or
    threads are open or a participating cluster has no signatory, unless `override` gives the
    reason to go ahead anyway (recorded). It takes a named version of the text to be signed.
    Moving from signing back to drafting needs a reason and invalidates every approval. Staying
    in the same phase changes only the deadline.
    """
    if phase not in PHASES:
        raise DocumentError(422, f"Phase must be one of: {', '.join(PHASES)}.")
    if phase == "adopted":
        raise DocumentError(422, "A document becomes adopted by the last signature of its participants; "
                                 "it cannot be moved there by hand.")
    lock_document(document)
    previous = document.phase
    if phase != previous and phase not in TRANSITIONS[previous]:
        allowed = [PHASE_LABELS[p].lower() for p in TRANSITIONS[previous]]
        where = f"only to {' or '.join(allowed)}" if allowed else "nowhere: adoption is final"
        raise DocumentError(422, f"A document in {PHASE_LABELS[previous].lower()} can move {where}, "
                                 f"not to {PHASE_LABELS[phase].lower()}.")
    if deadline is not None and deadline <= utcnow():
        raise DocumentError(422, "The deadline must be in the future.")
    reason = clean_reason(reason, required=previous == "signing" and phase == "drafting")
    blockers = []
    if phase == "signing" and previous != "signing":
        if not document.active_participations:
            raise DocumentError(422, "Add the participating organisations before opening the signing: "
                                     "each of them has to sign.")
        if not document.clauses:
            raise DocumentError(422, "A document without clauses cannot be signed.")
        from ..signoff.readiness import readiness

        blockers = readiness(document, "signing").blockers
        override = clean_override(override)
        if blockers and override is None:
            raise DocumentError(409, "The signing cannot open yet: " + " ".join(b.message for b in blockers),
                                blockers=blockers)
    document.phase = phase
    document.deadline = deadline
    details = {"previous": previous, "phase": phase,
               "deadline": deadline.isoformat() if deadline else None}
    if reason:
        details["reason"] = reason
    if blockers:
        details["override"] = override
        details["blockers"] = [b.message for b in blockers]
    if phase in FROZEN or previous in FROZEN:
        details["content_hash"] = document_hash(document)
    action = "document.phase_changed" if phase != previous else "document.deadline_changed"
    audit.record(actor, document, action, "document", document.id, **details)
    if phase == "signing" and previous != "signing":
        from ..history.operations import create_snapshot

        create_snapshot(document, actor, f"Opened for signing, {utcnow():%d %b %Y %H:%M} UTC", origin="signing")
    if previous == "signing" and phase == "drafting":
        from ..signoff.operations import invalidate_approvals

        invalidate_approvals(actor, document, reason)
    if phase != previous and phase == "consultation":
        notifications.consultation_opened(document)
    elif phase != previous and phase == "signing":
        notifications.signing_opened(document, details["content_hash"])
    live.announce(document, "document.phase_changed", actor.id, phase=phase)
    return document


def document_json(document: Document, with_clauses: bool = True) -> dict:
    """Serialise a document for the API."""
    data = {
        "id": document.id, "title": document.title, "kind": document.kind,
        "phase": document.phase, "seq": document.seq,
        "deadline": document.deadline.isoformat(timespec="seconds") + "Z" if document.deadline else None,
        "contributions_deadline": (document.contributions_deadline.isoformat(timespec="seconds") + "Z"
                                   if document.contributions_deadline else None),
        "updated_at": document.updated_at.isoformat(timespec="seconds") + "Z",
    }
    if with_clauses:
        data["content_hash"] = document_hash(document)
        data["participants"] = [o.name for o in document.participants]
        data["clauses"] = [c.to_json(n) for n, c in numbered_clauses(document)]
    return data
