"""Sign-off: approvals by the participating organisations, their invalidation, verification and the
certificate of adoption. Operations flush, record the audit event and announce; they never commit.

Who may sign in which phase is decided by the caller through `permissions` ("approve"); what only
the data can tell (the organisation takes part, has not signed yet, the password, the hash) is
checked here, after the document's row is locked, so approvals and phase moves are serialised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit, live
from ..audit_trail.describe import describe
from ..documents.operations import document_hash, labelled_clauses, lock_document
from ..errors import DomainError
from ..extensions import db
from ..history.operations import compare, create_snapshot, current_side, snapshot_side
from ..i18n import DEFAULT_LANGUAGE, when
from ..models import Approval, AuditEvent, Document, Membership, Organisation, PasswordFailure, Snapshot, User
from ..models.base import iso, utcnow
from ..notifications import operations as notifications
from ..text.hashing import clause_hash, clause_hash_v2

# Wrong passwords: after this many within the window, signing is refused (429) until the oldest
# of them leaves the window. Counted in the database, so every server process sees them.
MAX_PASSWORD_FAILURES = 5
PASSWORD_WINDOW = timedelta(minutes=15)
CONTENT_HASH_METHOD = (
    "SHA-256 over the UTF-8 bytes of: 'drafting-content-v1', the title, and for each clause in order "
    "its number, heading (empty when none) and text joined by U+001F; the parts joined by U+001E.")
CLAUSE_HASH_METHOD = "SHA-256 over the UTF-8 bytes of the clause's number, heading and text joined by U+001F."
CONTENT_HASH_METHOD_V2 = (
    "SHA-256 over the UTF-8 bytes of: 'drafting-content-v2', the title, and for each clause in order "
    "its label, kind, heading (empty when none), text and action fields (JSON, sorted keys, no spaces, "
    "not ASCII-escaped; empty when none) joined by U+001F; the parts joined by U+001E.")
CLAUSE_HASH_METHOD_V2 = ("SHA-256 over the UTF-8 bytes of the clause's label, kind, heading, text and action "
                         "fields joined by U+001F, as in the content hash.")
EVENT_HASH_METHOD = (
    "SHA-256 over the UTF-8 bytes of the event's `hashed` fields as JSON with sorted keys; "
    "`prev` is the hash of the event before it in the document's audit trail.")


class SignoffError(DomainError):
    """A sign-off request that cannot be carried out; carries the HTTP status to answer.

    `keep` asks the caller to commit anyway (a wrong password is recorded for the rate limit).
    """


# ---- reading ----------------------------------------------------------------------------------

def approvals_of(document: Document) -> list[Approval]:
    """Return every approval of the document, valid and invalidated, oldest first."""
    return list(db.session.scalars(
        select(Approval).where(Approval.document_id == document.id).order_by(Approval.signed_at, Approval.id)))


def valid_approvals(document: Document) -> list[Approval]:
    """Return the approvals that count, one per organisation at most."""
    return [a for a in approvals_of(document) if a.valid]


@dataclass
class BoardRow:
    """One participating organisation on the sign-off board."""

    organisation: Organisation
    approval: Approval | None                    # the valid approval, if it signed
    invalidated: list[Approval] = field(default_factory=list)
    signatories: list[User] = field(default_factory=list)  # who may sign for it on this document

    @property
    def signed(self) -> bool:
        return self.approval is not None


def board(document: Document) -> list[BoardRow]:
    """Return each participating organisation with its approval (or pending) and the invalidated ones."""
    rows = {o.id: BoardRow(o, None) for o in document.participants}
    for approval in approvals_of(document):
        row = rows.get(approval.organisation_id)
        if row is None:
            continue
        if approval.valid:
            row.approval = approval
        else:
            row.invalidated.append(approval)
    # Who may sign: active signatories only, as readiness counts them (a deactivated account cannot sign).
    memberships = db.session.scalars(select(Membership).join(User, Membership.user_id == User.id).where(
        Membership.document_id == document.id, Membership.role == "signatory", User.deactivated_at.is_(None))
        .order_by(Membership.id))
    for membership in memberships:
        row = rows.get(membership.user.organisation_id)
        if row is not None:
            row.signatories.append(membership.user)
    return list(rows.values())


def approval_of(document: Document, organisation_id: int) -> Approval | None:
    """Return the organisation's valid approval of the document, if any."""
    return db.session.scalar(select(Approval).where(
        Approval.document_id == document.id, Approval.organisation_id == organisation_id,
        Approval.valid.is_(True)))


@dataclass
class SinceSigned:
    """What changed since an organisation's approval was invalidated: its approved text against now."""

    approval: Approval
    snapshot: object | None            # the named version with the approved text (None: none kept)
    comparison: object | None          # history.operations.Comparison, when the version is known


def since_signed(document: Document, organisation_id: int) -> SinceSigned | None:
    """For an organisation without a valid approval whose earlier one was invalidated, compare the
    version it approved (the named version with its hash) with the current text."""
    if approval_of(document, organisation_id) is not None:
        return None
    last = db.session.scalar(select(Approval).where(
        Approval.document_id == document.id, Approval.organisation_id == organisation_id,
        Approval.valid.is_(False)).order_by(Approval.signed_at.desc(), Approval.id.desc()).limit(1))
    if last is None:
        return None
    snapshot = db.session.scalar(select(Snapshot).where(
        Snapshot.document_id == document.id, Snapshot.content_hash == last.content_hash)
        .order_by(Snapshot.id.desc()).limit(1))
    comparison = compare(snapshot_side(snapshot), current_side(document)) if snapshot else None
    return SinceSigned(last, snapshot, comparison)


# ---- the password rate limit ------------------------------------------------------------------

def password_retry_after(user: User, now: datetime | None = None) -> int | None:
    """Return the seconds until the user may try a password again, or None when they may now."""
    now = now or utcnow()
    times = list(db.session.scalars(
        select(PasswordFailure.created_at).where(PasswordFailure.user_id == user.id,
                                                 PasswordFailure.created_at > now - PASSWORD_WINDOW)
        .order_by(PasswordFailure.created_at)))
    if len(times) < MAX_PASSWORD_FAILURES:
        return None
    free_at = times[-MAX_PASSWORD_FAILURES] + PASSWORD_WINDOW
    return max(1, math.ceil((free_at - now).total_seconds()))


def _recent_failures(user: User, now: datetime) -> int:
    return db.session.scalar(select(func.count(PasswordFailure.id)).where(
        PasswordFailure.user_id == user.id, PasswordFailure.created_at > now - PASSWORD_WINDOW))


def wait_message(seconds: int) -> str:
    if seconds < 60:
        return ngettext("Too many wrong passwords: signing is blocked for your account for %(num)s seconds. "
                        "Nothing was signed. If you have forgotten your password, ask the secretariat.",
                        "Too many wrong passwords: signing is blocked for your account for %(num)s seconds. "
                        "Nothing was signed. If you have forgotten your password, ask the secretariat.", seconds)
    return ngettext("Too many wrong passwords: signing is blocked for your account for %(num)s minute. "
                    "Nothing was signed. If you have forgotten your password, ask the secretariat.",
                    "Too many wrong passwords: signing is blocked for your account for %(num)s minutes. "
                    "Nothing was signed. If you have forgotten your password, ask the secretariat.",
                    math.ceil(seconds / 60))


# ---- changing ---------------------------------------------------------------------------------

def approve(document: Document, signatory: User, content_hash: object, password: object) -> Approval:
    """Record the signatory's approval of the current text for their organisation.

    Refused: 403 outside signing, 429 after repeated wrong passwords, 422 when the organisation
    does not take part, 409 when it has already signed, 403 for a wrong password (recorded, so
    the caller commits), 409 when the confirmed hash is not the current text's. The last
    participant's approval adopts the document.
    """
    # The password hash costs about 0.15 s of CPU: check it before taking the document's row (on
    # SQLite, the write lock of the whole database), unless the rate limit already refuses. Its
    # answer is still given in the order below, after the checks made under the lock.
    password_ok = None
    if isinstance(password, str) and password and password_retry_after(signatory) is None:
        password_ok = signatory.check_password(password)
    lock_document(document)
    if document.phase != "signing":
        message = (_("The document is already adopted.") if document.phase == "adopted" else
                   _("Approvals are given only while the document is in the signing phase."))
        raise SignoffError(403, message)
    wait = password_retry_after(signatory)
    if wait:
        raise SignoffError(429, wait_message(wait), retry_after=wait)
    organisation = signatory.organisation
    if organisation.id not in {p.organisation_id for p in document.active_participations}:
        raise SignoffError(422, _("%(organisation)s is not a participating organisation of this document: only "
                                  "participants sign it.", organisation=organisation.name))
    existing = approval_of(document, organisation.id)
    if existing is not None:
        raise SignoffError(409, _("%(organisation)s has already signed: %(signatory)s approved the text on "
                                  "%(moment)s. An organisation signs once.", organisation=organisation.name,
                                  signatory=existing.signatory.name, moment=when(existing.signed_at)))
    if not isinstance(content_hash, str) or not content_hash.strip():
        raise SignoffError(422, _("Confirm the content hash of the text you approve."))
    if not isinstance(password, str) or not password:
        raise SignoffError(422, _("Enter your password to sign."))
    if not (password_ok if password_ok is not None else signatory.check_password(password)):
        now = utcnow()
        db.session.add(PasswordFailure(user_id=signatory.id, document_id=document.id, created_at=now))
        db.session.flush()
        left = MAX_PASSWORD_FAILURES - _recent_failures(signatory, now)
        minutes = PASSWORD_WINDOW.seconds // 60
        hint = (ngettext("After %(num)s more wrong attempt, signing is blocked for %(minutes)s minutes.",
                         "After %(num)s more wrong attempts, signing is blocked for %(minutes)s minutes.",
                         left, minutes=minutes) if left > 0 else
                _("Signing is now blocked for %(minutes)s minutes.", minutes=minutes))
        raise SignoffError(403, _("That password is not correct. Nothing was signed.") + " " + hint, keep=True)
    current = document_hash(document)
    if content_hash.strip().lower() != current:
        raise SignoffError(409, _("The text is not the one you confirmed: its content hash is now %(hash)s. "
                                  "Nothing was signed. Read the current text and confirm its hash.", hash=current),
                           current_hash=current)
    approval = Approval(document_id=document.id, organisation_id=organisation.id, signatory_id=signatory.id,
                        content_hash=current, signed_at=utcnow(), valid=True)
    db.session.add(approval)
    db.session.flush()
    audit.record(signatory, document, "approval.given", "approval", approval.id,
                 organisation=organisation.name, signatory=signatory.name, content_hash=current)
    live.announce(document, "approval.changed", signatory.id, organisation=organisation.name)
    adopt_if_complete(document, signatory, current)
    return approval


def adopt_if_complete(document: Document, actor: User, current: str) -> bool:
    participants = {p.organisation_id for p in document.active_participations}
    signed = {a.organisation_id for a in valid_approvals(document) if a.content_hash == current}
    if not participants or not participants <= signed:
        return False
    document.phase = "adopted"
    document.deadline = None
    audit.record(actor, document, "document.adopted", "document", document.id, content_hash=current,
                 organisations=sorted(o.name for o in document.participants))

    create_snapshot(document, actor, f"Adopted, {utcnow():%d %b %Y %H:%M} UTC", origin="adopted")
    notifications.adopted(document, current)
    live.announce(document, "document.phase_changed", actor.id, phase="adopted")
    return True


def invalidate_approvals(actor: User, document: Document, reason: str | None) -> list[Approval]:
    """Mark every valid approval of the document invalid, with the reason; they stay on record."""
    approvals = valid_approvals(document)
    now = utcnow()
    for approval in approvals:
        approval.valid = False
        approval.invalidated_at = now
        approval.invalidated_reason = reason
    db.session.flush()
    for approval in approvals:
        audit.record(actor, document, "approval.invalidated", "approval", approval.id,
                     organisation=approval.organisation.name, signatory=approval.signatory.name,
                     content_hash=approval.content_hash, reason=reason)
        live.announce(document, "approval.changed", actor.id, organisation=approval.organisation.name)
    notifications.approvals_invalidated(document, approvals, reason)
    return approvals


# ---- verification -----------------------------------------------------------------------------

@dataclass
class ApprovalCheck:
    approval: Approval
    matches: bool          # its hash is the current text's
    recorded: bool         # the audit trail holds its event with the same hash


@dataclass
class Verification:
    """The current text's hash recomputed and every approval and the audit chain checked against it."""

    document: Document
    content_hash: str
    checked_at: datetime
    approvals: list[ApprovalCheck]
    chain: audit.ChainCheck
    participants: int
    signed: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        return {
            "document_id": self.document.id, "phase": self.document.phase,
            "content_hash": self.content_hash, "checked_at": iso(self.checked_at),
            "participants": self.participants, "signed": self.signed, "ok": self.ok,
            "problems": self.problems,
            "approvals": [{**c.approval.to_json(), "matches_current_text": c.matches,
                           "in_audit_trail": c.recorded} for c in self.approvals],
            "audit_chain": {"intact": self.chain.intact, "events": self.chain.events, "head": self.chain.head,
                            "problems": [{"event_id": i, "problem": p} for i, p in self.chain.problems]},
        }


def verify(document: Document) -> Verification:
    """Recompute the content hash and check every approval and the audit chain against it."""
    current = document_hash(document)
    events = audit.events_of(document)
    chain = audit.verify_chain(document, events)
    given = {e.object_id: e for e in events if e.action == "approval.given"}
    withdrawn = {e.object_id for e in events if e.action == "approval.invalidated"}
    problems: list[str] = []
    checks = []
    for approval in approvals_of(document):
        event = given.get(approval.id)
        recorded = event is not None and event.details.get("content_hash") == approval.content_hash
        matches = approval.content_hash == current
        checks.append(ApprovalCheck(approval, matches, recorded))
        who = {"organisation": approval.organisation.name, "signatory": approval.signatory.name}
        if approval.valid and not matches:
            problems.append(_("The approval of %(organisation)s (%(signatory)s) is for another text: the text "
                              "changed after it was given.", **who))
        if not recorded:
            problems.append(_("The approval of %(organisation)s (%(signatory)s) has no matching event in the "
                              "audit trail.", **who))
        if not approval.valid and approval.id not in withdrawn:
            problems.append(_("The invalidation of the approval of %(organisation)s (%(signatory)s) is missing "
                              "from the audit trail.", **who))
    participants = {o.id for o in document.participants}
    signed = {c.approval.organisation_id for c in checks if c.approval.valid and c.matches}
    if document.phase == "adopted":
        for organisation in document.participants:
            if organisation.id not in signed:
                problems.append(_("The document is adopted, but %(organisation)s has no valid approval of the "
                                  "current text.", organisation=organisation.name))
        adoption = next((e for e in reversed(events) if e.action == "document.adopted"), None)
        if adoption is None:
            problems.append(_("The document is adopted, but its adoption is missing from the audit trail."))
        elif adoption.details.get("content_hash") != current:
            problems.append(_("The adopted text's hash in the audit trail differs from the current text's."))
    if not chain.intact:
        problems.append(ngettext("The audit trail is not intact: %(num)s problem found (listed below).",
                                 "The audit trail is not intact: %(num)s problems found (listed below).",
                                 len(chain.problems)))
    return Verification(document, current, utcnow(), checks, chain, len(participants),
                        len(signed & participants), problems)


# ---- the certificate of adoption --------------------------------------------------------------

def certificate(document: Document) -> dict:
    """Return the certificate of adoption: hashes, signatories and the chained events of the signing.
    Its words are English whatever the reader's language: the seal covers them."""
    if document.phase != "adopted":
        raise SignoffError(409, _("The document is not adopted yet: its certificate of adoption exists once "
                                  "every participating organisation has signed."))
    with force_locale(DEFAULT_LANGUAGE):
        return _certificate(document)


def _certificate(document: Document) -> dict:
    events = audit.events_of(document)
    chain = audit.verify_chain(document, events)
    end = max((i for i, e in enumerate(events) if e.action == "document.adopted"), default=len(events) - 1)
    start = max((i for i, e in enumerate(events[:end])
                 if e.action == "document.phase_changed" and (e.details or {}).get("phase") == "signing"),
                default=0)
    adopted_at = events[end].created_at if events else None
    signatures = sorted(valid_approvals(document), key=lambda a: a.organisation.name)
    return {
        "certificate": "Certificate of adoption",
        "issued_at": iso(utcnow()),
        "document": {"id": document.id, "title": document.title, "kind": str(document.kind_label),
                     "adopted_at": iso(adopted_at)},
        "content_hash": document_hash(document),
        "content_hash_method": CONTENT_HASH_METHOD if document.hash_scheme == 1 else CONTENT_HASH_METHOD_V2,
        "clauses": [_clause_entry(document, n, label, c) for n, label, c in labelled_clauses(document)],
        "clause_hash_method": CLAUSE_HASH_METHOD if document.hash_scheme == 1 else CLAUSE_HASH_METHOD_V2,
        "signatories": [{"organisation": a.organisation.name, "country": a.organisation.country,
                         "signatory": a.signatory.name, "signed_at": iso(a.signed_at),
                         "content_hash": a.content_hash} for a in signatures],
        "signing_events": [{**_event_json(e), "summary": describe(e)} for e in events[start:end + 1]],
        "event_hash_method": EVENT_HASH_METHOD,
        "audit_chain": {"intact": chain.intact, "events": chain.events, "head": chain.head,
                        "problems": [{"event_id": i, "problem": p} for i, p in chain.problems]},
    }


def _clause_entry(document: Document, number: int, label: str, clause) -> dict:
    if document.hash_scheme == 1:
        return {"number": number, "heading": clause.heading,
                "clause_hash": clause_hash(number, clause.heading, clause.text)}
    return {"number": number, "label": label, "kind": clause.kind, "heading": clause.heading,
            "clause_hash": clause_hash_v2(label, clause.kind, clause.heading, clause.text, clause.action)}


def _event_json(event: AuditEvent) -> dict:
    return {"id": event.id, "at": iso(event.created_at), "action": event.action,
            "actor": event.actor.name if event.actor else None,
            "organisation": (event.details or {}).get("organisation") or _organisation_name(event.organisation_id),
            "prev_hash": event.prev_hash, "hash": event.hash,
            "hashed": audit.hashed_fields(event.prev_hash, event)}


def _organisation_name(organisation_id: int | None) -> str | None:
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    return organisation.name if organisation else None
