"""THE table of who may do what in which phase. Nothing else decides.

Views, the JSON API, templates (to hide controls) and Socket.IO handlers all ask `decide`.
A decision carries the HTTP status a refusal maps to:
404 when the user may not even see the document (its existence is not revealed),
403 when the role or phase does not allow the action, 423 when the text is frozen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask import g
from flask_babel import gettext as _
from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session

from . import live
from .extensions import db
from .i18n import _l, when
from .models import Document, Membership
from .models.base import utcnow
from .models.document import PHASES, ROLE_LABELS
from .text.clauses import TextError

ALL_PHASES = frozenset(PHASES)
OPEN_TEXT = frozenset({"drafting", "consultation", "final_review"})
FROZEN = frozenset({"signing", "adopted"})
DISCUSSION = frozenset({"drafting", "consultation", "final_review"})
CONSULTATION = frozenset({"consultation"})
NEVER: frozenset[str] = frozenset()

# action -> role -> phases in which that role may do it.  "admin" is the site-wide secretariat.
RULES: dict[str, dict[str, frozenset[str]]] = {
    "view": {r: ALL_PHASES for r in ("admin", "editor", "commenter", "signatory", "observer")},
    "edit_clause": {"editor": OPEN_TEXT},           # edit, add, delete, reorder, restore
    "comment": {"editor": DISCUSSION, "commenter": CONSULTATION, "signatory": CONSULTATION},
    "reply": {"editor": DISCUSSION, "commenter": CONSULTATION, "signatory": CONSULTATION},
    "propose_amendment": {"commenter": CONSULTATION, "signatory": CONSULTATION},
    "decide_amendment": {"editor": OPEN_TEXT},
    "resolve_thread": {"editor": DISCUSSION},
    # Also editing and withdrawing one's own contribution.
    "contribute": {"commenter": CONSULTATION | {"drafting"}, "signatory": CONSULTATION | {"drafting"}},
    "link_contribution": {"editor": DISCUSSION},
    # Changing one's own comment (edit, delete) and withdrawing one's own amendment: whose it is
    # is checked by the operation; the table says when.
    "edit_comment": {"editor": DISCUSSION, "commenter": CONSULTATION, "signatory": CONSULTATION},
    "withdraw_amendment": {"commenter": DISCUSSION, "signatory": DISCUSSION},
    "snapshot": {"editor": ALL_PHASES},
    "approve": {"signatory": frozenset({"signing"})},
    "manage": {"admin": ALL_PHASES},                # members, participants
    "move_phase": {"admin": ALL_PHASES},
    "view_audit": {"admin": ALL_PHASES, "editor": ALL_PHASES},
    "export": {r: ALL_PHASES for r in ("admin", "editor", "commenter", "signatory", "observer")},
    # Creating a new document from a Markdown or Word file: the secretariat, and whoever is an
    # editor of some document (in any phase of it); the importer becomes the new document's editor.
    "import": {"admin": ALL_PHASES, "editor": ALL_PHASES},
    # Translations of the text (issue 18): the editors, in every phase (a translation is no part of
    # what the signatories approve, so it goes on after the text is frozen and adopted).
    "translate": {"admin": ALL_PHASES, "editor": ALL_PHASES},
}

# Actions that change the text: refused with 423 once the text is frozen.
TEXT_ACTIONS = frozenset({"edit_clause", "decide_amendment", "propose_amendment"})
# Actions of participants that close at the consultation deadline.
DEADLINE_BOUND = frozenset({"comment", "reply", "propose_amendment", "contribute", "edit_comment"})
# Submitting a contribution, and editing or withdrawing one's own (whose it is: the operation
# checks): they close at the contributions deadline when one is set, else with the consultation.
CONTRIBUTING = frozenset({"contribute"})

PHASE_MESSAGES = {
    "edit_clause": _l("Clauses can be edited during drafting, consultation and final review only."),
    "comment": _l("Comments are open to participants only during the consultation."),
    "reply": _l("Replies are open to participants only during the consultation."),
    "propose_amendment": _l("Amendments can be proposed only during the consultation."),
    "approve": _l("Approvals are given only while the document is in the signing phase."),
    "edit_comment": _l("Comments can be changed only while the discussion is open to you."),
    "withdraw_amendment": _l("Amendments can no longer be withdrawn in this phase."),
    "contribute": _l("Contributions are collected during drafting and the consultation only."),
    "resolve_thread": _l("Threads can be resolved only while the text is open for discussion."),
    "decide_amendment": _l("Amendments are decided while the text is open: drafting, consultation, final review."),
}


def frozen_message(phase: str) -> str:
    """Why the text cannot change: frozen for signing, or adopted for good."""
    if phase == "adopted":
        return _("The text is adopted; it can no longer be changed.")
    return _("The text is frozen for signing; it can no longer be changed.")


@dataclass(frozen=True)
class Decision:
    allowed: bool
    status: int = 200
    message: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True)


_ROLE = select(Membership.role).where(Membership.document_id == bindparam("document_id"),
                                     Membership.user_id == bindparam("user_id"))


def role_of(user, document) -> str | None:
    """Return the user's role on the document ("admin" for the secretariat), or None."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.is_admin:
        return "admin"
    if "memberships" in document.__dict__:  # already loaded (a page listing the members)
        for membership in document.memberships:
            if membership.user_id == user.id:
                return membership.role
        return None
    # Remembered for the rest of the transaction: a page asks for every clause. A commit, a
    # rollback or a flush that touches a membership forgets it (see _forget_roles).
    roles = db.session.info.setdefault(ROLES_SEEN, {})
    key = (user.id, document.id)
    if key not in roles:
        roles[key] = db.session.scalar(_ROLE, {"document_id": document.id, "user_id": user.id})
    return roles[key]


ROLES_SEEN = "permissions_roles"

# A member's role as a column of another query (views.get_clause_or_404 loads it with the clause).
ROLE_COLUMN = (select(Membership.role).where(Membership.document_id == Document.id,
                                             Membership.user_id == bindparam("user_id"))
               .scalar_subquery())


def remember_role(user, document, role: str | None) -> None:
    """Keep a role read by another query (ROLE_COLUMN) for role_of, as if role_of had read it."""
    if user is not None and getattr(user, "is_authenticated", False) and not user.is_admin:
        db.session.info.setdefault(ROLES_SEEN, {})[(user.id, document.id)] = role


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_roles(session: Session, *_args) -> None:
    session.info.pop(ROLES_SEEN, None)


@event.listens_for(Membership, "after_insert")
@event.listens_for(Membership, "after_update")
@event.listens_for(Membership, "after_delete")
def _forget_roles_on_membership_change(_mapper, _connection, membership: Membership) -> None:
    session = Session.object_session(membership)
    if session is not None:
        session.info.pop(ROLES_SEEN, None)


def decide(user, document, action: str, now: datetime | None = None) -> Decision:
    """Decide whether the user may do the action on the document now."""
    role = role_of(user, document)
    if role is None:
        return Decision(False, 404, _("Document not found."))
    by_role = RULES[action]
    if role not in by_role:
        return Decision(False, 403, _("Your role (%(role)s) does not allow this.", role=ROLE_LABELS.get(role, role)))
    if action in TEXT_ACTIONS and document.phase in FROZEN:
        return Decision(False, 423, frozen_message(document.phase))
    if document.phase not in by_role[role]:
        message = PHASE_MESSAGES.get(action)
        return Decision(False, 403, str(message) if message else _("This is not possible in the current phase."))
    if action in CONTRIBUTING and role != "editor":
        # Contributions have a deadline of their own when the secretariat sets one; it replaces
        # the consultation's for submitting, editing and withdrawing them.
        closes = getattr(document, "contributions_deadline", None)
        if closes is not None:
            if (now or utcnow()) > closes:
                return Decision(False, 403, _("Contributions closed at their deadline, %(deadline)s.",
                                              deadline=when(closes)))
            return ALLOW
    if (action in DEADLINE_BOUND and role != "editor" and document.phase == "consultation"
            and document.deadline is not None and (now or utcnow()) > document.deadline):
        if action in CONTRIBUTING:
            return Decision(False, 403, _("Contributions closed with the consultation, at its deadline."))
        return Decision(False, 403, _("The consultation closed at its deadline."))
    return ALLOW


def can(user, document, action: str) -> bool:
    """Tell whether the user may do the action now (for templates hiding controls).

    A page asks this for every clause; the answer is remembered for the rest of the request,
    keyed by everything it depends on.
    """
    try:
        cache = g.setdefault("permission_answers", {})
    except RuntimeError:  # outside a request
        return decide(user, document, action).allowed
    key = (getattr(user, "id", None), document.id, document.phase, document.deadline,
           getattr(document, "contributions_deadline", None), action)
    if key not in cache:
        cache[key] = decide(user, document, action).allowed
    return cache[key]


def may_import(user, roles: Iterable[str] = ()) -> bool:
    """Tell whether the user, holding these roles on documents, may create a document from a file."""
    if not (user and getattr(user, "is_authenticated", False)):
        return False
    return bool(user.is_admin) or any(role in RULES["import"] for role in roles)


def may_administer(user) -> bool:
    """Only the secretariat creates documents, manages organisations and users, and reads the outbox."""
    return bool(user and getattr(user, "is_authenticated", False) and user.is_admin)


may_create_documents = may_administer


def may_bring_participants(user, document: Document) -> bool:
    """Tell whether an import may make the clusters its actions name participants of `document`.

    The responsible clusters are part of an imported plan's text, so whoever may import brings
    them into the document the import creates (still empty, in drafting); on any other
    document only the secretariat changes the participants.
    """
    if may_administer(user):
        return True
    fresh = document.phase == "drafting" and not document.clauses
    return fresh and may_import(user, ["editor"]) and role_of(user, document) == "editor"


def ensure_text_open(document: Document) -> None:
    """Refuse (423) a text change whose transaction began before the text was frozen.

    Called by text operations after `live.announce` has locked the document's row, so the phase
    read here (returned by that UPDATE) is the committed one: an edit racing the move to signing
    cannot slip in.
    """
    phase = live.locked_row(document)["phase"]
    if phase in FROZEN:
        raise TextError(423, frozen_message(phase))
