"""The rule table of drafting/permissions.py checked against an expectation written from DESIGN.md.

The expected matrix below is written by hand from DESIGN.md ("Users and roles", "Phases of a
document", "Sign-off"), not read back from RULES:

- admin (the secretariat): sees everything, manages members and participants, moves phases,
  reads the audit trail; it neither edits the text nor takes part in the discussion.
- editor (drafting committee): edits, adds, deletes and reorders clauses while the text is open
  (drafting, consultation, final review); accepts or rejects amendments then; takes part in the
  discussion and resolves threads while it is open; links contributions; takes named versions
  in every phase; reads the audit trail.
- commenter: reads; comments, replies and proposes amendments during the consultation only
  ("open to comments and amendments until a deadline"; final review is "committee only");
  submits best-practice contributions while they are collected (drafting and consultation).
- signatory: everything a commenter may, plus approving the final text during signing.
- observer: read only (reading includes exporting).
- Creating a new document from a Markdown or Word file ("import"): the secretariat, and editors
  (DESIGN: editors import); being an editor of a document in any phase of it qualifies.
- Entering signing freezes the text: actions that would change it answer 423 to a role that
  could otherwise do them; a role that may never do the action gets 403.
- Someone with no role on the document gets 404 for everything (existence not revealed).
- The consultation deadline closes the participants' comments, replies, amendments and
  contributions, and the editing or deleting of their comments; the committee (editors) may
  still reply.
- Whoever may comment may edit and delete their own comments, while they may comment.
- A participant may withdraw their own amendment while the text is open for discussion
  (drafting, consultation, final review), also after the deadline: it only takes work away.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from drafting import permissions
from drafting.permissions import RULES, decide

PHASES = ("drafting", "consultation", "final_review", "signing", "adopted")
ROLES = ("admin", "editor", "commenter", "signatory", "observer")

OK, NO, HIDDEN, FROZEN = 200, 403, 404, 423

#                        drafting consultation final_review signing adopted
EXPECTED: dict[str, dict[str, tuple[int, int, int, int, int]]] = {
    "view": {
        "admin":     (OK, OK, OK, OK, OK),
        "editor":    (OK, OK, OK, OK, OK),
        "commenter": (OK, OK, OK, OK, OK),
        "signatory": (OK, OK, OK, OK, OK),
        "observer":  (OK, OK, OK, OK, OK),
    },
    "edit_clause": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (OK, OK, OK, FROZEN, FROZEN),
        "commenter": (NO, NO, NO, NO, NO),
        "signatory": (NO, NO, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "comment": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (OK, OK, OK, NO, NO),
        "commenter": (NO, OK, NO, NO, NO),
        "signatory": (NO, OK, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "reply": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (OK, OK, OK, NO, NO),
        "commenter": (NO, OK, NO, NO, NO),
        "signatory": (NO, OK, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "propose_amendment": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (NO, NO, NO, NO, NO),
        "commenter": (NO, OK, NO, FROZEN, FROZEN),
        "signatory": (NO, OK, NO, FROZEN, FROZEN),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "decide_amendment": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (OK, OK, OK, FROZEN, FROZEN),
        "commenter": (NO, NO, NO, NO, NO),
        "signatory": (NO, NO, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "resolve_thread": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (OK, OK, OK, NO, NO),
        "commenter": (NO, NO, NO, NO, NO),
        "signatory": (NO, NO, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "contribute": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (NO, NO, NO, NO, NO),
        "commenter": (OK, OK, NO, NO, NO),
        "signatory": (OK, OK, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "link_contribution": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (OK, OK, OK, NO, NO),
        "commenter": (NO, NO, NO, NO, NO),
        "signatory": (NO, NO, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "edit_comment": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (OK, OK, OK, NO, NO),
        "commenter": (NO, OK, NO, NO, NO),
        "signatory": (NO, OK, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "withdraw_amendment": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (NO, NO, NO, NO, NO),
        "commenter": (OK, OK, OK, NO, NO),
        "signatory": (OK, OK, OK, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "snapshot": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (OK, OK, OK, OK, OK),
        "commenter": (NO, NO, NO, NO, NO),
        "signatory": (NO, NO, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "approve": {
        "admin":     (NO, NO, NO, NO, NO),
        "editor":    (NO, NO, NO, NO, NO),
        "commenter": (NO, NO, NO, NO, NO),
        "signatory": (NO, NO, NO, OK, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "manage": {
        "admin":     (OK, OK, OK, OK, OK),
        "editor":    (NO, NO, NO, NO, NO),
        "commenter": (NO, NO, NO, NO, NO),
        "signatory": (NO, NO, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "move_phase": {
        "admin":     (OK, OK, OK, OK, OK),
        "editor":    (NO, NO, NO, NO, NO),
        "commenter": (NO, NO, NO, NO, NO),
        "signatory": (NO, NO, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "view_audit": {
        "admin":     (OK, OK, OK, OK, OK),
        "editor":    (OK, OK, OK, OK, OK),
        "commenter": (NO, NO, NO, NO, NO),
        "signatory": (NO, NO, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    "export": {
        "admin":     (OK, OK, OK, OK, OK),
        "editor":    (OK, OK, OK, OK, OK),
        "commenter": (OK, OK, OK, OK, OK),
        "signatory": (OK, OK, OK, OK, OK),
        "observer":  (OK, OK, OK, OK, OK),
    },
    "import": {
        "admin":     (OK, OK, OK, OK, OK),
        "editor":    (OK, OK, OK, OK, OK),
        "commenter": (NO, NO, NO, NO, NO),
        "signatory": (NO, NO, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
    # Translations are no part of what is approved: editors write them in every phase (issue 18).
    "translate": {
        "admin":     (OK, OK, OK, OK, OK),
        "editor":    (OK, OK, OK, OK, OK),
        "commenter": (NO, NO, NO, NO, NO),
        "signatory": (NO, NO, NO, NO, NO),
        "observer":  (NO, NO, NO, NO, NO),
    },
}

USER_IDS = {"admin": 1, "editor": 2, "commenter": 3, "signatory": 4, "observer": 5, None: 6}
NOW = datetime(2024, 5, 1, 12, 0, 0)


def make_user(role: str | None, authenticated: bool = True) -> SimpleNamespace:
    return SimpleNamespace(is_authenticated=authenticated, is_admin=role == "admin", id=USER_IDS[role])


def make_document(phase: str, deadline: datetime | None = None) -> SimpleNamespace:
    memberships = [SimpleNamespace(user_id=USER_IDS[role], role=role)
                   for role in ("editor", "commenter", "signatory", "observer")]
    return SimpleNamespace(phase=phase, deadline=deadline, memberships=memberships)


def test_expectation_covers_every_action_of_the_table():
    """A new action in RULES without an expectation here fails, and so does a dropped one."""
    assert set(EXPECTED) == set(RULES)
    for action, rows in EXPECTED.items():
        assert set(rows) == set(ROLES), action


CASES = [(action, role, phase) for action in sorted(EXPECTED) for role in (*ROLES, None)
         for phase in PHASES]


@pytest.mark.parametrize(("action", "role", "phase"), CASES,
                         ids=[f"{a}-{r or 'nonmember'}-{p}" for a, r, p in CASES])
def test_decide_matches_the_expected_matrix(action, role, phase):
    decision = decide(make_user(role), make_document(phase), action, now=NOW)
    expected = HIDDEN if role is None else EXPECTED[action][role][PHASES.index(phase)]
    assert decision.status == expected
    assert bool(decision) is (expected == OK)
    assert decision.allowed is (expected == OK)
    if expected != OK:
        assert decision.message, "a refusal must say why"


@pytest.mark.parametrize("phase", PHASES)
def test_anonymous_user_is_treated_as_a_stranger(phase):
    anonymous = SimpleNamespace(is_authenticated=False, is_admin=False, id=None)
    for action in RULES:
        assert decide(anonymous, make_document(phase), action, now=NOW).status == HIDDEN
    assert decide(None, make_document(phase), "view", now=NOW).status == HIDDEN


def test_membership_of_another_user_gives_no_role():
    stranger = SimpleNamespace(is_authenticated=True, is_admin=False, id=999)
    assert permissions.role_of(stranger, make_document("drafting")) is None
    assert decide(stranger, make_document("drafting"), "view").status == HIDDEN


def test_role_of_reports_the_membership_and_admin():
    document = make_document("drafting")
    for role in ROLES:
        assert permissions.role_of(make_user(role), document) == role


def test_frozen_refusal_explains_the_freeze():
    decision = decide(make_user("editor"), make_document("signing"), "edit_clause", now=NOW)
    assert decision.status == FROZEN
    assert "frozen" in decision.message.lower()


# ---- the consultation deadline -----------------------------------------------------------

DEADLINE = NOW + timedelta(days=1)


@pytest.mark.parametrize("action", ["comment", "reply", "propose_amendment", "contribute", "edit_comment"])
@pytest.mark.parametrize("role", ["commenter", "signatory"])
def test_participants_may_act_until_the_deadline(role, action):
    document = make_document("consultation", deadline=DEADLINE)
    before = decide(make_user(role), document, action, now=DEADLINE - timedelta(minutes=1))
    after = decide(make_user(role), document, action, now=DEADLINE + timedelta(minutes=1))
    assert before.status == OK
    assert after.status == NO
    assert "deadline" in after.message.lower()


def test_commenter_comment_before_and_after_the_deadline():
    document = make_document("consultation", deadline=DEADLINE)
    commenter = make_user("commenter")
    assert decide(commenter, document, "comment", now=DEADLINE - timedelta(seconds=1)).allowed
    assert decide(commenter, document, "comment", now=DEADLINE + timedelta(seconds=1)).status == NO


@pytest.mark.parametrize("action", ["reply", "comment", "edit_clause", "decide_amendment", "resolve_thread"])
def test_editor_is_not_bound_by_the_deadline(action):
    document = make_document("consultation", deadline=DEADLINE)
    assert decide(make_user("editor"), document, action, now=DEADLINE + timedelta(days=3)).status == OK


def test_deadline_uses_the_current_time_when_none_is_given():
    past = make_document("consultation", deadline=datetime(2000, 1, 1))
    future = make_document("consultation", deadline=datetime(2999, 1, 1))
    assert decide(make_user("commenter"), past, "comment").status == NO
    assert decide(make_user("commenter"), future, "comment").status == OK


def test_no_deadline_means_open_consultation():
    document = make_document("consultation", deadline=None)
    assert decide(make_user("commenter"), document, "propose_amendment",
                  now=datetime(2999, 1, 1)).status == OK


def test_observer_after_the_deadline_may_still_read():
    document = make_document("consultation", deadline=DEADLINE)
    later = DEADLINE + timedelta(days=1)
    assert decide(make_user("observer"), document, "view", now=later).status == OK
    assert decide(make_user("observer"), document, "export", now=later).status == OK


def test_can_and_may_create_documents():
    document = make_document("drafting")
    assert permissions.can(make_user("editor"), document, "edit_clause") is True
    assert permissions.can(make_user("commenter"), document, "edit_clause") is False
    assert permissions.may_create_documents(make_user("admin")) is True
    for role in ("editor", "commenter", "signatory", "observer", None):
        assert permissions.may_create_documents(make_user(role)) is False
    assert permissions.may_create_documents(make_user("admin", authenticated=False)) is False
    assert permissions.may_create_documents(None) is False


def test_may_import_the_secretariat_and_editors_only():
    assert permissions.may_import(make_user("admin")) is True
    assert permissions.may_import(make_user("editor"), ["observer", "editor"]) is True
    for roles in ([], ["commenter"], ["signatory", "observer"]):
        assert permissions.may_import(make_user("commenter"), roles) is False
    assert permissions.may_import(make_user("admin", authenticated=False)) is False
    assert permissions.may_import(None, ["editor"]) is False


# ---- the role lookup, remembered for a transaction --------------------------------------------

def test_a_remembered_role_follows_membership_changes_in_the_same_transaction(app):
    from sqlalchemy import select

    from drafting.extensions import db
    from drafting.models import Document, Membership, User
    from drafting.permissions import role_of
    from tests.conftest import EMAILS

    with app.app_context():
        document = db.session.scalar(select(Document).where(Document.kind == "declaration"))
        outsider = db.session.scalar(select(User).where(User.email == EMAILS["outsider"]))
        assert role_of(outsider, document) is None
        membership = Membership(document_id=document.id, user_id=outsider.id, role="commenter")
        db.session.add(membership)
        db.session.flush()
        assert role_of(outsider, document) == "commenter"
        membership.role = "signatory"
        db.session.flush()
        assert role_of(outsider, document) == "signatory"
        db.session.delete(membership)
        db.session.flush()
        assert role_of(outsider, document) is None
        db.session.rollback()
        assert role_of(outsider, document) is None


def test_the_role_read_with_the_clause_refuses_a_stranger_and_follows_a_demotion_in_the_same_transaction(app):
    """views.get_clause_or_404 reads the member's role in the clause's own statement
    (permissions.ROLE_COLUMN) and remembers it for role_of: a stranger gets 404, and a
    membership changed later in the same transaction is what counts next."""
    from sqlalchemy import select
    from werkzeug.exceptions import Forbidden, NotFound

    from drafting.extensions import db
    from drafting.models import Document, Membership, User
    from drafting.permissions import role_of
    from drafting.views import get_clause_or_404
    from tests.conftest import EMAILS

    with app.test_request_context():
        document = db.session.scalar(select(Document).where(Document.kind == "declaration"))
        clause_id = document.clauses[0].id
        editor = db.session.scalar(select(User).where(User.email == EMAILS["editor"]))
        outsider = db.session.scalar(select(User).where(User.email == EMAILS["outsider"]))
        with pytest.raises(NotFound):
            get_clause_or_404(clause_id, "view", outsider)
        assert get_clause_or_404(clause_id, "edit_clause", editor).id == clause_id
        assert role_of(editor, document) == "editor"
        membership = db.session.scalar(select(Membership).where(Membership.document_id == document.id,
                                                                Membership.user_id == editor.id))
        membership.role = "observer"
        db.session.flush()
        with pytest.raises(Forbidden):
            get_clause_or_404(clause_id, "edit_clause", editor)
        assert get_clause_or_404(clause_id, "view", editor).id == clause_id
        assert role_of(editor, document) == "observer"
        db.session.rollback()
