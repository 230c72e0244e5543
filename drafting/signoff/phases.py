"""What each phase means, what the viewer may do in it (read from the rule table), and the moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import gettext as translate

from .. import audit, live, permissions
from ..consultation.closing import close_items_left_open_at_override
from ..documents.operations import MAX_REASON_CHARS, DocumentError, document_hash, lock_document
from ..extensions import db
from ..history.operations import create_snapshot
from ..i18n import N_, _l, number
from ..models import Document, Participation, User
from ..models.base import utcnow
from ..models.document import PHASE_LABELS, PHASES, TRANSITIONS
from ..notifications import operations as notifications
from ..permissions import FROZEN
from .operations import adopt_if_complete, invalidate_approvals, valid_approvals
from .readiness import readiness

PHASE_HELP = {
    "drafting": _l("The drafting committee writes and reorganises the text."),
    "consultation": _l("Participating clusters comment on the clauses and propose amendments until the "
                       "deadline; the committee keeps editing."),
    "final_review": _l("The drafting committee settles the final text; participants can read it."),
    "signing": _l("The text is frozen. A signatory of every participating organisation approves it by "
                  "confirming its content hash."),
    "adopted": _l("Every participating organisation approved this exact text. It can no longer change."),
}

# The phases' names (models.document.PHASE_LABELS), marked for the catalogues: phase_label() and
# phase_name() show them in the reader's language.
PHASE_NAMES = (N_("Drafting"), N_("Consultation"), N_("Final review"), N_("Signing"), N_("Adopted"))

# The rule table's actions in words, for "what you can do now".
ACTION_LABELS = {
    "view": _l("read the text and its history"),
    "edit_clause": _l("edit, add, delete, reorder and restore clauses"),
    "comment": _l("comment on clauses"),
    "reply": _l("reply in discussions"),
    "propose_amendment": _l("propose amendments"),
    "decide_amendment": _l("accept or reject amendments"),
    "resolve_thread": _l("resolve discussions"),
    "contribute": _l("submit best-practice contributions"),
    "link_contribution": _l("link contributions to clauses"),
    "edit_comment": _l("edit or delete your comments"),
    "withdraw_amendment": _l("withdraw your amendments"),
    "snapshot": _l("take named versions"),
    "approve": _l("approve the final text for your organisation"),
    "manage": _l("manage members and participating organisations"),
    "move_phase": _l("move the document to another phase"),
    "view_audit": _l("read the audit trail"),
    "export": _l("export the text (print view, Markdown, Word)"),
    "import": _l("create documents from Markdown or Word files"),
    "translate": _l("translate the text into the other languages"),
}


@dataclass(frozen=True)
class Move:
    """A phase move an admin may make, with what it does, for the confirmation page."""

    phase: str
    label: str
    consequence: str
    needs_reason: bool = False
    takes_deadline: bool = False


def move_to(document: Document, phase: str) -> Move:
    """Describe moving the document to a phase."""
    current = document.phase
    if phase == current:
        return Move(phase, _("Change the deadline"),
                    _("The document stays in %(phase)s; only its deadline changes.", phase=phase_name(phase)),
                    takes_deadline=True)
    if phase == "consultation":
        return Move(phase, _("Open the consultation"),
                    _("Participating clusters can comment and propose amendments until the deadline; "
                      "editors keep editing."), takes_deadline=True)
    if phase == "final_review":
        return Move(phase, _("Close the consultation for the final review"),
                    _("Comments and amendment proposals close; the drafting committee settles the final text."),
                    takes_deadline=True)
    if phase == "signing":
        return Move(phase, _("Open the signing"),
                    _("The text freezes: nobody can change it any more. Signatories of every participating "
                      "organisation are asked to approve it by confirming its content hash; the last "
                      "signature adopts it."), takes_deadline=True)
    if current == "signing":
        return Move(phase, _("Back to drafting"),
                    _("The text opens for editing again and every approval given so far becomes invalid. "
                      "The invalidated approvals stay visible on the sign-off board and in the audit trail, "
                      "with your reason."), needs_reason=True)
    return Move(phase, _("Back to drafting"), _("The text returns to the drafting committee; the consultation "
                                                "and review start again from drafting."))


def moves(document: Document) -> list[Move]:
    """Return the moves an admin may make now, forward first."""
    targets = TRANSITIONS[document.phase]
    ordered = sorted(targets, key=lambda p: -PHASES.index(p))
    forward = [p for p in ordered if PHASES.index(p) > PHASES.index(document.phase)]
    back = [p for p in ordered if p not in forward]
    return [move_to(document, p) for p in forward + back]


def allowed_now(user, document: Document) -> list[str]:
    """Return, in words, what the user may do on the document now, according to the rule table."""
    hidden = {"view", "import"} | (set() if TRANSITIONS[document.phase] else {"move_phase"})
    return [ACTION_LABELS.get(action, action.replace("_", " ")) for action in permissions.RULES
            if action not in hidden and permissions.can(user, document, action)]


def phase_label(phase: str) -> str:
    """A phase's label in the reader's language ("Final review")."""
    return translate(str(PHASE_LABELS[phase]))


def phase_name(phase: str) -> str:
    """A phase's name inside a sentence, in the reader's language ("final review")."""
    return phase_label(phase).lower()


# ---- moving a document, and a cluster withdrawing --------------------------------------------

def _reason_too_long() -> str:
    return _("The reason is limited to %(limit)s characters.", limit=number(MAX_REASON_CHARS))


def clean_reason(reason: object, required: bool) -> str | None:
    """Return the reason for a move back, or raise DocumentError 422/413."""
    if reason is not None and not isinstance(reason, str):
        raise DocumentError(422, _("The reason must be text."))
    reason = (reason or "").strip()
    if len(reason) > MAX_REASON_CHARS:
        raise DocumentError(413, _reason_too_long())
    if required and not reason:
        raise DocumentError(422, _("Say why the document goes back to drafting: every approval given so far "
                                   "becomes invalid, and the reason is shown to everyone with them."))
    return reason or None


def clean_override(override: object) -> str | None:
    """Return the reason an admin gives for opening the signing despite blockers, or None."""
    if override is None or (isinstance(override, str) and not override.strip()):
        return None
    if not isinstance(override, str):
        raise DocumentError(422, _("The reason for overriding must be text."))
    if len(override) > MAX_REASON_CHARS:
        raise DocumentError(413, _reason_too_long())
    return override.strip()


def _unreachable(previous: str, phase: str) -> str:
    """Why a document cannot move from `previous` to `phase`, and where it can go."""
    names = [phase_name(p) for p in TRANSITIONS[previous]]
    if not names:
        return _("A document in %(current)s can move nowhere: adoption is final, not to %(target)s.",
                 current=phase_name(previous), target=phase_name(phase))
    allowed = names[0]
    for name in names[1:]:
        allowed = _("%(first)s or %(second)s", first=allowed, second=name)
    return _("A document in %(current)s can move only to %(allowed)s, not to %(target)s.",
             current=phase_name(previous), allowed=allowed, target=phase_name(phase))


def move_phase(actor: User, document: Document, phase: object, deadline: datetime | None = None,
               reason: object = None, override: object = None) -> Document:
    """Move the document to another phase (see TRANSITIONS), with an optional deadline.

    Entering signing freezes the text: it is refused (409, with the blockers) while amendments or
    threads are open or a participating cluster has no signatory, unless `override` gives the
    reason to go ahead anyway (recorded). Items still open then are closed first, threads as noted
    and amendments as not accepted, with a reason naming the override, so none is left open for
    ever and the consultation report says what became of each. It takes a named version of the
    text to be signed.
    Moving from signing back to drafting needs a reason and invalidates every approval. Staying
    in the same phase changes only the deadline.
    """
    if phase not in PHASES:
        raise DocumentError(422, _("Phase must be one of: %(phases)s.", phases=", ".join(PHASES)))
    if phase == "adopted":
        raise DocumentError(422, _("A document becomes adopted by the last signature of its participants; "
                                   "it cannot be moved there by hand."))
    lock_document(document)
    previous = document.phase
    if phase != previous and phase not in TRANSITIONS[previous]:
        raise DocumentError(422, _unreachable(previous, phase))
    if deadline is not None and deadline <= utcnow():
        raise DocumentError(422, _("The deadline must be in the future."))
    reason = clean_reason(reason, required=previous == "signing" and phase == "drafting")
    blockers = []
    if phase == "signing" and previous != "signing":
        if not document.active_participations:
            raise DocumentError(422, _("Add the participating organisations before opening the signing: "
                                       "each of them has to sign."))
        if not document.clauses:
            raise DocumentError(422, _("A document without clauses cannot be signed."))
        blockers = readiness(document, "signing").blockers
        override = clean_override(override)
        if blockers and override is None:
            raise DocumentError(409, _("The signing cannot open yet: %(blockers)s",
                                       blockers=" ".join(b.message for b in blockers)), blockers=blockers)
    closed: tuple[list, list] = ([], [])
    if blockers:
        closed = close_items_left_open_at_override(document, actor, override)
    document.phase = phase
    document.deadline = deadline
    details = {"previous": previous, "phase": phase,
               "deadline": deadline.isoformat() if deadline else None}
    if reason:
        details["reason"] = reason
    if blockers:
        details["override"] = override
        details["blockers"] = [b.english or b.message for b in blockers]  # the record is in English
        if closed[0] or closed[1]:
            details["closed_threads"], details["closed_amendments"] = len(closed[0]), len(closed[1])
    if phase in FROZEN or previous in FROZEN:
        details["content_hash"] = document_hash(document)
    action = "document.phase_changed" if phase != previous else "document.deadline_changed"
    audit.record(actor, document, action, "document", document.id, **details)
    if phase == "signing" and previous != "signing":
        create_snapshot(document, actor, f"Opened for signing, {utcnow():%d %b %Y %H:%M} UTC", origin="signing")
    if previous == "signing" and phase == "drafting":
        invalidate_approvals(actor, document, reason)
    if phase != previous and phase == "consultation":
        notifications.consultation_opened(document)
    elif phase != previous and phase == "signing":
        notifications.signing_opened(document, details["content_hash"])
    live.announce(document, "document.phase_changed", actor.id, phase=phase)
    return document


def withdraw_participant(actor: User, document: Document, organisation_id: int, reason: object) -> Participation:
    """Record that a participating cluster withdrew: its approvals become invalid and adoption no
    longer waits for it; in signing, the document is adopted if every remaining cluster has signed.

    Refused: 404 when the cluster does not take part, 409 once adopted, 422 without a reason.
    """
    lock_document(document)
    participation = next((p for p in document.active_participations if p.organisation_id == organisation_id), None)
    if participation is None:
        raise DocumentError(404, _("That organisation does not take part in this document."))
    if document.phase == "adopted":
        raise DocumentError(409, _("The document is adopted: the organisations that signed it are final."))
    if reason is not None and not isinstance(reason, str):
        raise DocumentError(422, _("The reason must be text."))
    reason = (reason or "").strip()
    if not reason:
        raise DocumentError(422, _("Say why the cluster withdraws: the reason stays on record and is shown "
                                   "with its invalidated approval."))
    if len(reason) > MAX_REASON_CHARS:
        raise DocumentError(413, _reason_too_long())
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
        adopt_if_complete(document, actor, document_hash(document))
    return participation
