"""What each phase means, what the viewer may do in it (read from the rule table), and the moves."""

from __future__ import annotations

from dataclasses import dataclass

from .. import permissions
from ..documents.operations import TRANSITIONS
from ..models import Document
from ..models.document import PHASE_LABELS, PHASES

PHASE_HELP = {
    "drafting": "The drafting committee writes and reorganises the text.",
    "consultation": "Participating clusters comment on the clauses and propose amendments until the "
                    "deadline; the committee keeps editing.",
    "final_review": "The drafting committee settles the final text; participants can read it.",
    "signing": "The text is frozen. A signatory of every participating organisation approves it by "
               "confirming its content hash.",
    "adopted": "Every participating organisation approved this exact text. It can no longer change.",
}

# The rule table's actions in words, for "what you can do now".
ACTION_LABELS = {
    "view": "read the text and its history",
    "edit_clause": "edit, add, delete, reorder and restore clauses",
    "comment": "comment on clauses",
    "reply": "reply in discussions",
    "propose_amendment": "propose amendments",
    "decide_amendment": "accept or reject amendments",
    "resolve_thread": "resolve discussions",
    "contribute": "submit best-practice contributions",
    "link_contribution": "link contributions to clauses",
    "edit_comment": "edit or delete your comments",
    "withdraw_amendment": "withdraw your amendments",
    "snapshot": "take named versions",
    "approve": "approve the final text for your organisation",
    "manage": "manage members and participating organisations",
    "move_phase": "move the document to another phase",
    "view_audit": "read the audit trail",
    "export": "export the text (print view, Markdown, Word)",
    "import": "create documents from Markdown or Word files",
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
        return Move(phase, "Change the deadline", f"The document stays in {PHASE_LABELS[phase].lower()}; "
                                                  "only its deadline changes.", takes_deadline=True)
    if phase == "consultation":
        return Move(phase, "Open the consultation",
                    "Participating clusters can comment and propose amendments until the deadline; "
                    "editors keep editing.", takes_deadline=True)
    if phase == "final_review":
        return Move(phase, "Close the consultation for the final review",
                    "Comments and amendment proposals close; the drafting committee settles the final text.",
                    takes_deadline=True)
    if phase == "signing":
        return Move(phase, "Open the signing",
                    "The text freezes: nobody can change it any more. Signatories of every participating "
                    "organisation are asked to approve it by confirming its content hash; the last "
                    "signature adopts it.", takes_deadline=True)
    if current == "signing":
        return Move(phase, "Back to drafting",
                    "The text opens for editing again and every approval given so far becomes invalid. "
                    "The invalidated approvals stay visible on the sign-off board and in the audit trail, "
                    "with your reason.", needs_reason=True)
    return Move(phase, "Back to drafting", "The text returns to the drafting committee; the consultation "
                                           "and review start again from drafting.")


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
    return PHASE_LABELS[phase]
