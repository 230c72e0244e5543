"""The authorization matrix (ISSUE 8, item 4): every route and API endpoint of the app, called by
every role, a non-member and an anonymous visitor, with the status each one must get.

The table EXPECT below is written by hand from DESIGN.md ("Users and roles", "Phases of a
document", "Sign-off") and CONTRACT.md, not read back from drafting/permissions.py:

- admin (the secretariat): reads everything; manages members and participants; moves phases;
  creates and imports documents; reads the audit trail. It neither edits the text nor takes part
  in the discussion.
- editor (drafting committee): edits, adds, deletes, reorders and restores clauses while the text
  is open (drafting, consultation, final review); decides amendments then; comments, replies and
  resolves threads while the discussion is open; links contributions; takes named versions in
  every phase; reads the audit trail; imports documents.
- commenter: reads; comments, replies and proposes amendments during the consultation;
  contributes best practices during drafting and the consultation; changes its own comments and
  withdraws its own amendments.
- signatory: everything a commenter may, plus approving the text during signing.
- observer: read only (reading includes exports, reports and verification).
- outsider: a logged-in user with no role on any document: 404 for everything scoped to a
  document (its existence is not revealed); the lists of their own things (documents,
  notifications) answer 200.
- anonymous: the pages redirect to /login (302), fragments answer 401 with HX-Redirect to /login,
  the API answers 401.
- Once the text is frozen (signing, adopted) a text change answers 423 to a role that could make
  it otherwise.
- After the consultation's deadline the participants' comments, replies, amendments,
  contributions and comment edits are refused (403); editors may still reply; a proposer may
  still withdraw.
- The API takes bearer tokens only: a browser session cookie without a token answers 401.

Some pairs have variants in other phases (a list of Rules): e.g. commenting in drafting, saving
a clause in signing (423), moving an adopted document back (422).

The test builds the list of (endpoint, method) pairs from `app.url_map`: a new route without an
entry here fails `test_every_route_has_a_rule`. Each pair runs on a fresh database: the callers
that must be refused go first, the allowed ones last, so a refusal never sees an allowed change.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any

import pytest
from flask import url_for
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import ApiToken, Clause, Document, Organisation, User
from drafting.models.base import utcnow
from tests.conftest import EMAILS, PASSWORD
from tests.phases import adopt, walk

CALLERS = ("anonymous", "outsider", "observer", "commenter", "signatory", "editor", "admin")
ROLES = CALLERS[1:]
IGNORED_METHODS = {"HEAD", "OPTIONS"}
MARKDOWN = (b"# Joint Declaration on Matrix Testing\n\n## Scope\n\nEvery route is checked.\n\n"
            b"## Roles\n\nEvery role is called.\n")


def E(anonymous: int, outsider: int, observer: int, commenter: int, signatory: int, editor: int,
      admin: int) -> dict[str, int]:
    """The expected status per caller, in the order of CALLERS."""
    return dict(zip(CALLERS, (anonymous, outsider, observer, commenter, signatory, editor, admin), strict=True))


#                 anon outsider observer commenter signatory editor admin
PAGE_READ = E(302, 404, 200, 200, 200, 200, 200)   # a member reads a page of a document
API_READ = E(401, 404, 200, 200, 200, 200, 200)    # a member reads a document's data


@dataclass(frozen=True)
class Rule:
    """How to call one (endpoint, method) and what every caller must get."""

    expect: dict[str, int]
    args: Callable[[Ctx], dict] = lambda c: {}       # URL variables and query string
    body: Callable[[Ctx], dict] | None = None        # JSON (API) or form (pages), built at call time
    multipart: bool = False                          # send the body as multipart/form-data
    document: str = "action_plan"                    # the seeded document (action plan: consultation)
    phase: str | None = None                         # move the document here first (default: as seeded)
    deadline_passed: bool = False                    # the consultation's deadline is past
    htmx: bool = False                               # a fragment: send HX-Request
    anonymous_to: str = "/login"                     # where an anonymous 302 must lead
    to_login_ok: bool = False                        # a member's 302 may lead to /login (logout)
    check: Callable[[str, Any], str | None] | None = None  # a further check of a response

    @property
    def phase_label(self) -> str:
        phase = self.phase or {"action_plan": "consultation", "declaration": "drafting"}[self.document]
        return phase + ("-after-deadline" if self.deadline_passed else "")


def variants(*rules: Rule) -> tuple[Rule, ...]:
    return rules


# ---- the data a call needs, made in the test's own database --------------------------------------

class Ctx:
    """Ids of seeded and created objects for one test; created objects come only when asked for."""

    def __init__(self, app, kind: str):
        self.app = app
        with app.app_context():
            document = db.session.scalar(select(Document).where(Document.kind == kind))
            self.doc = document.id
            self.clause_ids = [c.id for c in document.clauses]
            self.users = {role: db.session.scalar(select(User).where(User.email == email)).id
                          for role, email in EMAILS.items()}
        self.clause = self.clause_ids[0]

    def _make(self, build: Callable) -> Any:
        """Run an operation as it runs in a request, commit it, return what it gave."""
        with self.app.test_request_context():
            document = db.session.get(Document, self.doc)
            user = {role: db.session.get(User, uid) for role, uid in self.users.items()}
            result = build(document, db.session.get(Clause, self.clause), user)
            db.session.commit()
            return result

    # -- API tokens (issue 16) --
    @cached_property
    def editor_token(self) -> int:
        """The id of a token of the editor's (another caller's is never theirs to see or revoke)."""
        with self.app.app_context():
            token, _ = ApiToken.issue(db.session.get(User, self.users["editor"]), name="Matrix")
            db.session.commit()
            return token.id

    # -- people (issue 13) --
    @cached_property
    def organisation_id(self) -> int:
        with self.app.app_context():
            return db.session.scalar(select(Organisation.id).where(Organisation.name == "Danube Health Cluster"))

    @cached_property
    def participant(self) -> int:
        """The id of an organisation taking part in the document."""
        with self.app.app_context():
            return db.session.get(Document, self.doc).participants[0].id

    @cached_property
    def deactivated_user(self) -> int:
        from drafting.people.operations import deactivate_user

        def build(document, clause, user):
            return deactivate_user(user["admin"], user["editor2"]).id
        return self._make(build)

    @cached_property
    def invitation(self) -> tuple[int, str]:
        """A pending invitation of a new person to the document: its id and the link's secret."""
        from drafting.people.operations import invite

        def build(document, clause, user):
            invitation, secret = invite(user["admin"], document, "invited@matrix.example", "Invited Person",
                                        "Danube Health Cluster", "commenter")
            return invitation.id, secret
        return self._make(build)

    @cached_property
    def password_token(self) -> str:
        from drafting.people.operations import password_link

        def build(document, clause, user):
            return password_link(user["admin"], user["editor2"]).rsplit("/", 1)[1]
        return self._make(build)

    # -- consultation objects, all by the commenter unless said --
    @cached_property
    def _thread_and_comment(self) -> tuple[int, int]:
        from drafting.consultation.operations import open_thread

        def build(document, clause, user):
            thread = open_thread(clause, user["commenter"], "<p>Please say who pays for this.</p>")
            return thread.id, thread.comments[0].id
        return self._make(build)

    @property
    def thread(self) -> int:
        return self._thread_and_comment[0]

    @property
    def comment(self) -> int:
        return self._thread_and_comment[1]

    @cached_property
    def resolved_thread(self) -> int:
        from drafting.consultation.operations import open_thread, resolve_thread

        def build(document, clause, user):
            thread = open_thread(clause, user["commenter"], "<p>Settled at the meeting.</p>")
            resolve_thread(thread, user["editor"], "accepted")
            return thread.id
        return self._make(build)

    @cached_property
    def amendment(self) -> int:
        from drafting.consultation.operations import propose_amendment

        def build(document, clause, user):
            return propose_amendment(clause, user["commenter"], clause.text + " Reviewed every year.",
                                     "<p>A yearly review keeps it current.</p>").id
        return self._make(build)

    @cached_property
    def contribution(self) -> int:
        from drafting.consultation.operations import submit_contribution

        def build(document, clause, user):
            return submit_contribution(document, user["commenter"], "best_practice", "research",
                                       "Shared biobank catalogue", "<p>One catalogue for seven regions.</p>").id
        return self._make(build)

    @cached_property
    def notification(self) -> int:
        """A notification of the commenter's."""
        from drafting.consultation.operations import notify

        def build(document, clause, user):
            notification = notify(user["commenter"], document, "Your amendment was discussed.",
                                  f"/documents/{document.id}")
            db.session.flush()
            return notification.id
        return self._make(build)

    # -- e-mail notifications (issue 14) --
    @cached_property
    def unsubscribe_token(self) -> str:
        """The commenter's signed link to stop "discussion" mails."""
        from drafting.notifications.outbox import unsubscribe_token

        with self.app.app_context():
            return unsubscribe_token(db.session.get(User, self.users["commenter"]), "discussion")

    @cached_property
    def failed_mail(self) -> int:
        from drafting.models.mail import OutboxMail

        def build(document, clause, user):
            mail = OutboxMail(to_email="someone@matrix.example", category="invitation", subject="Matrix",
                              text_body="x", html_body="x", status="failed", attempts=5, last_error="refused")
            db.session.add(mail)
            db.session.flush()
            return mail.id
        return self._make(build)

    @cached_property
    def snapshot(self) -> int:
        from drafting.history.operations import create_snapshot

        def build(document, clause, user):
            snapshot = create_snapshot(document, user["editor"], "Before the matrix")
            db.session.flush()
            return snapshot.id
        return self._make(build)

    @cached_property
    def new_organisation(self) -> str:
        def build(document, clause, user):
            db.session.add(Organisation(name="Baltic Matrix Cluster", country="LT"))
            return "Baltic Matrix Cluster"
        return self._make(build)

    @cached_property
    def sealed(self) -> str:
        """A previewed import, sealed as the preview page hands it to the save step."""
        from drafting.exchange.operations import read_file, seal

        with self.app.app_context():
            imported, source = read_file("matrix.md", MARKDOWN)
            return seal(imported, source)

    def close_consultation(self) -> None:
        """Put the consultation's deadline an hour in the past."""
        with self.app.app_context():
            document = db.session.get(Document, self.doc)
            assert document.phase == "consultation"
            document.deadline = utcnow() - timedelta(hours=1)
            db.session.commit()

    # -- read at call time --
    def version(self) -> int:
        with self.app.app_context():
            return db.session.get(Clause, self.clause).version

    def content_hash(self) -> str:
        from drafting.documents.operations import document_hash

        with self.app.app_context():
            return document_hash(db.session.get(Document, self.doc))


def upload() -> tuple[io.BytesIO, str]:
    return io.BytesIO(MARKDOWN), "matrix.md"


SEEDED_TITLES = ("Joint Declaration of European Health-Innovation Clusters", "Joint Action Plan 2024-2029")


def outsider_sees_nothing(caller: str, response) -> str | None:
    """The outsider's list of documents is empty; a member's lists both seeded documents."""
    if caller == "anonymous":
        return None
    if response.is_json:
        titles = " ".join(d["title"] for d in response.get_json())
    else:
        titles = response.get_data(as_text=True)
    shown = [title for title in SEEDED_TITLES if title in titles]
    if caller == "outsider" and shown:
        return f"the outsider's document list shows {shown}"
    if caller not in ("outsider", "anonymous") and len(shown) != len(SEEDED_TITLES):
        return f"{caller}'s document list shows only {shown}"
    return None


# ---- the table ----------------------------------------------------------------------------------
# Commented columns: anonymous, outsider, observer, commenter, signatory, editor, admin.

EXPECT: dict[tuple[str, str], Rule | tuple[Rule, ...]] = {
    # ---- JSON API: documents, members, phases ----
    ("api.openapi", "GET"): Rule(E(200, 200, 200, 200, 200, 200, 200)),  # public description
    ("api.list_documents", "GET"): Rule(E(401, 200, 200, 200, 200, 200, 200), check=outsider_sees_nothing),
    ("api.create_document_", "POST"): Rule(
        E(401, 403, 403, 403, 403, 403, 201),
        body=lambda c: {"title": "Joint Declaration on Rare Diseases", "kind": "declaration"}),
    ("api.get_document", "GET"): variants(
        Rule(API_READ, args=lambda c: {"document_id": c.doc}),
        Rule(API_READ, args=lambda c: {"document_id": c.doc}, phase="adopted"),
    ),
    ("api.add_member_", "POST"): Rule(
        E(401, 404, 403, 403, 403, 403, 201), args=lambda c: {"document_id": c.doc},
        body=lambda c: {"email": EMAILS["outsider"], "role": "observer"}),
    ("api.remove_member_", "DELETE"): Rule(
        E(401, 404, 403, 403, 403, 403, 204),
        args=lambda c: {"document_id": c.doc, "user_id": c.users["editor2"]}),
    ("api.add_participant_", "POST"): Rule(
        E(401, 404, 403, 403, 403, 403, 201), args=lambda c: {"document_id": c.doc},
        body=lambda c: {"organisation": c.new_organisation}),
    ("api.list_members", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc}),
    ("api.withdraw_participant_", "DELETE"): Rule(
        E(401, 404, 403, 403, 403, 403, 200), args=lambda c: {"document_id": c.doc, "organisation_id": c.participant},
        body=lambda c: {"reason": "It merged into another cluster."}),
    ("api.invite_", "POST"): Rule(
        E(401, 404, 403, 403, 403, 403, 201), args=lambda c: {"document_id": c.doc},
        body=lambda c: {"email": "new.person@matrix.example", "name": "New Person",
                        "organisation": "Danube Health Cluster", "role": "commenter"}),
    ("api.change_phase", "POST"): variants(
        Rule(E(401, 404, 403, 403, 403, 403, 200), args=lambda c: {"document_id": c.doc},
             body=lambda c: {"phase": "final_review"}),
        Rule(E(401, 404, 403, 403, 403, 403, 200), args=lambda c: {"document_id": c.doc}, phase="signing",
             body=lambda c: {"phase": "drafting", "reason": "A participant asked for a change."}),
        # Adopted is final: not even the secretariat reopens it (CONTRACT: any other move is 422).
        Rule(E(401, 404, 403, 403, 403, 403, 422), args=lambda c: {"document_id": c.doc}, phase="adopted",
             body=lambda c: {"phase": "drafting", "reason": "A participant asked for a change."}),
    ),
    ("api.changes", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc, "since": 0}),

    # ---- JSON API: clauses and their history ----
    ("api.create_clause_", "POST"): variants(
        Rule(E(401, 404, 403, 403, 403, 201, 403), args=lambda c: {"document_id": c.doc},
             body=lambda c: {"text": "The clusters meet twice a year.", "heading": "Meetings"}),
        Rule(E(401, 404, 403, 403, 403, 423, 403), args=lambda c: {"document_id": c.doc}, phase="signing",
             body=lambda c: {"text": "The clusters meet twice a year."}),
    ),
    ("api.patch_clause", "PATCH"): variants(
        Rule(E(401, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c.clause},
             body=lambda c: {"text": "Rewritten by the committee.", "base_version": c.version()}),
        Rule(E(401, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c.clause},
             document="declaration",
             body=lambda c: {"text": "Rewritten by the committee.", "base_version": c.version()}),
        Rule(E(401, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c.clause},
             phase="final_review",
             body=lambda c: {"text": "Rewritten by the committee.", "base_version": c.version()}),
        Rule(E(401, 404, 403, 403, 403, 423, 403), args=lambda c: {"clause_id": c.clause}, phase="signing",
             body=lambda c: {"text": "Rewritten by the committee.", "base_version": c.version()}),
        Rule(E(401, 404, 403, 403, 403, 423, 403), args=lambda c: {"clause_id": c.clause}, phase="adopted",
             body=lambda c: {"text": "Rewritten by the committee.", "base_version": c.version()}),
    ),
    ("api.delete_clause_", "DELETE"): variants(
        Rule(E(401, 404, 403, 403, 403, 204, 403), args=lambda c: {"clause_id": c.clause}),
        Rule(E(401, 404, 403, 403, 403, 423, 403), args=lambda c: {"clause_id": c.clause}, phase="signing"),
    ),
    # Restoring a deleted clause: the URL names a clause the editor deleted (through the operation) first.
    ("api.undelete_clause_", "POST"): variants(
        Rule(E(401, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c._make(
            lambda document, clause, user: __import__("drafting.clauses.operations", fromlist=["delete_clause"])
            .delete_clause(clause, user["editor"]) or clause.id)}),
        Rule(E(401, 404, 403, 403, 403, 423, 403), phase="signing", args=lambda c: {"clause_id": c._make(
            lambda document, clause, user: __import__("drafting.clauses.operations", fromlist=["delete_clause"])
            .delete_clause(clause, user["editor"]) or clause.id)}),
    ),
    ("api.revisions", "GET"): Rule(API_READ, args=lambda c: {"clause_id": c.clause}),
    ("api.clause_diff", "GET"): Rule(API_READ, args=lambda c: {"clause_id": c.clause, "from": 1, "to": 1}),
    ("api.restore", "POST"): variants(
        Rule(E(401, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c.clause},
             body=lambda c: {"version": 1}),
        Rule(E(401, 404, 403, 403, 403, 423, 403), args=lambda c: {"clause_id": c.clause}, phase="signing",
             body=lambda c: {"version": 1}),
    ),
    ("api.list_snapshots", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc}),
    ("api.take_snapshot", "POST"): variants(
        Rule(E(401, 404, 403, 403, 403, 201, 403), args=lambda c: {"document_id": c.doc},
             body=lambda c: {"name": "After the consultation"}),
        Rule(E(401, 404, 403, 403, 403, 201, 403), args=lambda c: {"document_id": c.doc}, phase="adopted",
             body=lambda c: {"name": "As adopted"}),
    ),
    ("api.compare_snapshots", "GET"): Rule(
        API_READ, args=lambda c: {"document_id": c.doc, "from": c.snapshot, "to": "current"}),

    # ---- JSON API: threads and comments ----
    ("api.clause_threads", "GET"): Rule(API_READ, args=lambda c: {"clause_id": c.clause}),
    ("api.create_thread", "POST"): variants(
        Rule(E(401, 404, 403, 201, 201, 201, 403), args=lambda c: {"clause_id": c.clause},
             body=lambda c: {"body": "<p>Who funds this?</p>"}),
        Rule(E(401, 404, 403, 403, 403, 201, 403), args=lambda c: {"clause_id": c.clause},
             document="declaration", body=lambda c: {"body": "<p>Who funds this?</p>"}),
        Rule(E(401, 404, 403, 403, 403, 201, 403), args=lambda c: {"clause_id": c.clause},
             phase="final_review", body=lambda c: {"body": "<p>Who funds this?</p>"}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"clause_id": c.clause},
             phase="signing", body=lambda c: {"body": "<p>Who funds this?</p>"}),
        Rule(E(401, 404, 403, 403, 403, 201, 403), args=lambda c: {"clause_id": c.clause},
             deadline_passed=True, body=lambda c: {"body": "<p>Who funds this?</p>"}),
    ),
    ("api.document_threads", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc, "status": "all"}),
    ("api.get_thread", "GET"): Rule(API_READ, args=lambda c: {"thread_id": c.thread}),
    ("api.reply", "POST"): variants(
        Rule(E(401, 404, 403, 201, 201, 201, 403), args=lambda c: {"thread_id": c.thread},
             body=lambda c: {"body": "<p>Agreed.</p>"}),
        Rule(E(401, 404, 403, 403, 403, 201, 403), args=lambda c: {"thread_id": c.thread},
             phase="final_review", body=lambda c: {"body": "<p>Agreed.</p>"}),
        Rule(E(401, 404, 403, 403, 403, 201, 403), args=lambda c: {"thread_id": c.thread},
             deadline_passed=True, body=lambda c: {"body": "<p>Agreed.</p>"}),
    ),
    ("api.resolve", "POST"): variants(
        Rule(E(401, 404, 403, 403, 403, 200, 403), args=lambda c: {"thread_id": c.thread},
             body=lambda c: {"disposition": "noted", "reason": "Recorded for the next revision."}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"thread_id": c.thread}, phase="signing",
             body=lambda c: {"disposition": "noted", "reason": "Recorded for the next revision."}),
    ),
    ("api.reopen", "POST"): Rule(E(401, 404, 403, 403, 403, 200, 403),
                                 args=lambda c: {"thread_id": c.resolved_thread}),
    # The comment is the commenter's: only its author changes it.
    ("api.patch_comment", "PATCH"): variants(
        Rule(E(401, 404, 403, 200, 403, 403, 403), args=lambda c: {"comment_id": c.comment},
             body=lambda c: {"body": "<p>Please say who pays for this, and when.</p>"}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"comment_id": c.comment}, phase="signing",
             body=lambda c: {"body": "<p>Please say who pays for this, and when.</p>"}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"comment_id": c.comment},
             deadline_passed=True, body=lambda c: {"body": "<p>Please say who pays for this, and when.</p>"}),
    ),
    ("api.delete_comment_", "DELETE"): variants(
        Rule(E(401, 404, 403, 204, 403, 403, 403), args=lambda c: {"comment_id": c.comment}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"comment_id": c.comment}, phase="final_review"),
    ),

    # ---- JSON API: amendments ----
    ("api.clause_amendments", "GET"): Rule(API_READ, args=lambda c: {"clause_id": c.clause}),
    ("api.create_amendment", "POST"): variants(
        Rule(E(401, 404, 403, 201, 201, 403, 403), args=lambda c: {"clause_id": c.clause},
             body=lambda c: {"text": "A new text for the clause.", "rationale": "<p>Clearer.</p>"}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"clause_id": c.clause},
             document="declaration",
             body=lambda c: {"text": "A new text for the clause.", "rationale": "<p>Clearer.</p>"}),
        Rule(E(401, 404, 403, 423, 423, 403, 403), args=lambda c: {"clause_id": c.clause}, phase="signing",
             body=lambda c: {"text": "A new text for the clause.", "rationale": "<p>Clearer.</p>"}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"clause_id": c.clause}, deadline_passed=True,
             body=lambda c: {"text": "A new text for the clause.", "rationale": "<p>Clearer.</p>"}),
    ),
    ("api.get_amendment", "GET"): Rule(API_READ, args=lambda c: {"amendment_id": c.amendment}),
    ("api.accept", "POST"): variants(
        Rule(E(401, 404, 403, 403, 403, 200, 403), args=lambda c: {"amendment_id": c.amendment}),
        Rule(E(401, 404, 403, 403, 403, 423, 403), args=lambda c: {"amendment_id": c.amendment},
             phase="signing"),
    ),
    ("api.reject", "POST"): Rule(E(401, 404, 403, 403, 403, 200, 403),
                                 args=lambda c: {"amendment_id": c.amendment},
                                 body=lambda c: {"reason": "Out of scope for this plan."}),
    # The amendment is the commenter's: only its proposer withdraws it.
    ("api.withdraw", "POST"): variants(
        Rule(E(401, 404, 403, 200, 403, 403, 403), args=lambda c: {"amendment_id": c.amendment}),
        Rule(E(401, 404, 403, 200, 403, 403, 403), args=lambda c: {"amendment_id": c.amendment},
             phase="final_review"),
        Rule(E(401, 404, 403, 200, 403, 403, 403), args=lambda c: {"amendment_id": c.amendment},
             deadline_passed=True),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"amendment_id": c.amendment},
             phase="signing"),
    ),

    # ---- JSON API: contributions, summary, report, notifications ----
    ("api.list_contributions", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc}),
    ("api.create_contribution", "POST"): variants(
        Rule(E(401, 404, 403, 201, 201, 403, 403), args=lambda c: {"document_id": c.doc},
             body=lambda c: {"kind": "best_practice", "topic": "patient_care", "title": "Home dialysis",
                             "body": "<p>Nurses visit twice a week.</p>"}),
        Rule(E(401, 404, 403, 201, 201, 403, 403), args=lambda c: {"document_id": c.doc},
             document="declaration",
             body=lambda c: {"kind": "best_practice", "topic": "patient_care", "title": "Home dialysis",
                             "body": "<p>Nurses visit twice a week.</p>"}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"document_id": c.doc},
             phase="final_review",
             body=lambda c: {"kind": "best_practice", "topic": "patient_care", "title": "Home dialysis",
                             "body": "<p>Nurses visit twice a week.</p>"}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"document_id": c.doc},
             deadline_passed=True,
             body=lambda c: {"kind": "best_practice", "topic": "patient_care", "title": "Home dialysis",
                             "body": "<p>Nurses visit twice a week.</p>"}),
    ),
    ("api.patch_contribution", "PATCH"): variants(
        Rule(E(401, 404, 403, 200, 403, 403, 403), args=lambda c: {"contribution_id": c.contribution},
             body=lambda c: {"title": "Shared biobank catalogue, revised"}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"contribution_id": c.contribution},
             deadline_passed=True, body=lambda c: {"title": "Shared biobank catalogue, revised"}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"contribution_id": c.contribution},
             phase="signing", body=lambda c: {"title": "Shared biobank catalogue, revised"}),
    ),
    ("api.delete_contribution", "DELETE"): variants(
        Rule(E(401, 404, 403, 204, 403, 403, 403), args=lambda c: {"contribution_id": c.contribution}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"contribution_id": c.contribution},
             deadline_passed=True),
    ),
    ("api.link_clauses", "PUT"): Rule(E(401, 404, 403, 403, 403, 200, 403),
                                      args=lambda c: {"contribution_id": c.contribution},
                                      body=lambda c: {"clause_ids": [c.clause]}),
    ("api.consultation_summary", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc}),
    ("api.consultation_report", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc, "format": "json"}),
    ("api.list_notifications", "GET"): Rule(E(401, 200, 200, 200, 200, 200, 200)),
    # The notification is the commenter's; anyone else is told it does not exist.
    ("api.read_notification", "POST"): Rule(E(401, 404, 404, 200, 404, 404, 404),
                                            args=lambda c: {"notification_id": c.notification}),

    # ---- JSON API: sign-off ----
    ("api.give_approval", "POST"): variants(
        Rule(E(401, 404, 403, 403, 201, 403, 403), args=lambda c: {"document_id": c.doc}, phase="signing",
             body=lambda c: {"content_hash": c.content_hash(), "password": PASSWORD}),
        Rule(E(401, 404, 403, 403, 403, 403, 403), args=lambda c: {"document_id": c.doc},
             body=lambda c: {"content_hash": c.content_hash(), "password": PASSWORD}),
    ),
    ("api.list_approvals", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc}),
    ("api.verify_document", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc}),
    ("api.document_readiness", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc, "to": "signing"}),
    ("api.adoption_certificate", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc}, phase="adopted"),
    ("api.audit_trail", "GET"): Rule(E(401, 404, 403, 403, 403, 200, 200), args=lambda c: {"document_id": c.doc}),

    # ---- JSON API: export and import ----
    ("api.export_document", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc, "format": "md"}),
    ("api.import_document_", "POST"): Rule(E(401, 403, 403, 403, 403, 201, 201), multipart=True,
                                           body=lambda c: {"file": upload(), "kind": "declaration"}),

    # ---- pages: logging in and out ----
    ("auth.login", "GET"): Rule(E(200, 302, 302, 302, 302, 302, 302)),  # members go to their documents
    ("auth.login", "POST"): Rule(E(302, 302, 302, 302, 302, 302, 302), anonymous_to="/documents",
                                 body=lambda c: {"email": EMAILS["observer"], "password": PASSWORD}),
    ("auth.logout", "POST"): Rule(E(302, 302, 302, 302, 302, 302, 302), to_login_ok=True),
    # Whether the session is logged in, with a fresh CSRF token (drafts.js, before a Retry): anyone.
    ("auth.session_state", "GET"): Rule(E(200, 200, 200, 200, 200, 200, 200)),
    ("auth.logged_in_again", "GET"): Rule(E(302, 200, 200, 200, 200, 200, 200)),  # "you can close this tab"

    # ---- pages: documents ----
    ("documents.home", "GET"): Rule(E(302, 302, 302, 302, 302, 302, 302), anonymous_to="/documents"),
    ("documents.index", "GET"): Rule(E(302, 200, 200, 200, 200, 200, 200), check=outsider_sees_nothing),
    ("documents.create", "POST"): Rule(
        E(302, 403, 403, 403, 403, 403, 302),
        body=lambda c: {"title": "Joint Declaration on Rare Diseases", "kind": "declaration"}),
    ("documents.page", "GET"): variants(
        Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
        Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}, phase="adopted"),
    ),
    ("documents.changes", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc, "since": 0}),
    ("documents.timeline", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),

    # ---- pages: clauses ----
    ("clauses.show", "GET"): Rule(PAGE_READ, args=lambda c: {"clause_id": c.clause}, htmx=True),
    ("clauses.edit", "GET"): Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c.clause},
                                  htmx=True),
    ("clauses.save", "POST"): variants(
        Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c.clause}, htmx=True,
             body=lambda c: {"text": "Rewritten on the page.", "heading": "", "base_version": c.version()}),
        Rule(E(302, 404, 403, 403, 403, 423, 403), args=lambda c: {"clause_id": c.clause}, htmx=True,
             phase="signing",
             body=lambda c: {"text": "Rewritten on the page.", "heading": "", "base_version": c.version()}),
    ),
    ("clauses.new", "GET"): Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"document_id": c.doc},
                                 htmx=True),
    ("clauses.create", "POST"): variants(
        Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"document_id": c.doc}, htmx=True,
             body=lambda c: {"text": "The clusters meet twice a year."}),
        Rule(E(302, 404, 403, 403, 403, 423, 403), args=lambda c: {"document_id": c.doc}, htmx=True,
             phase="signing", body=lambda c: {"text": "The clusters meet twice a year."}),
    ),
    ("clauses.delete", "GET"): Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c.clause}),
    ("clauses.delete", "POST"): variants(
        Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c.clause}, htmx=True),
        Rule(E(302, 404, 403, 403, 403, 423, 403), args=lambda c: {"clause_id": c.clause}, htmx=True,
             phase="adopted"),
    ),
    ("clauses.deleted", "GET"): variants(
        Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
        Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}, htmx=True),
    ),
    ("clauses.undelete", "POST"): variants(
        Rule(E(302, 404, 403, 403, 403, 200, 403), htmx=True, args=lambda c: {"clause_id": c._make(
            lambda document, clause, user: __import__("drafting.clauses.operations", fromlist=["delete_clause"])
            .delete_clause(clause, user["editor"]) or clause.id)}),
        Rule(E(302, 404, 403, 403, 403, 423, 403), htmx=True, phase="signing", args=lambda c: {"clause_id": c._make(
            lambda document, clause, user: __import__("drafting.clauses.operations", fromlist=["delete_clause"])
            .delete_clause(clause, user["editor"]) or clause.id)}),
    ),
    ("clauses.move", "POST"): variants(
        Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c.clause}, htmx=True,
             body=lambda c: {"direction": "down"}),
        Rule(E(302, 404, 403, 403, 403, 423, 403), args=lambda c: {"clause_id": c.clause}, htmx=True,
             phase="signing", body=lambda c: {"direction": "down"}),
    ),
    ("clauses.reorder", "POST"): variants(
        Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"document_id": c.doc}, htmx=True,
             body=lambda c: {"order": list(reversed(c.clause_ids))}),
        Rule(E(302, 404, 403, 403, 403, 423, 403), args=lambda c: {"document_id": c.doc}, htmx=True,
             phase="signing", body=lambda c: {"order": list(reversed(c.clause_ids))}),
    ),

    # ---- pages: the audit trail ----
    ("audit_trail.page", "GET"): Rule(E(302, 404, 403, 403, 403, 200, 200), args=lambda c: {"document_id": c.doc}),

    # ---- pages: the consultation ----
    ("consultation.clause_tools", "GET"): Rule(PAGE_READ, args=lambda c: {"clause_id": c.clause}, htmx=True),
    ("consultation.new_thread", "GET"): Rule(E(302, 404, 403, 200, 200, 200, 403),
                                             args=lambda c: {"clause_id": c.clause}, htmx=True),
    ("consultation.create_thread", "POST"): variants(
        Rule(E(302, 404, 403, 200, 200, 200, 403), args=lambda c: {"clause_id": c.clause}, htmx=True,
             body=lambda c: {"body": "Who funds this?"}),
        Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c.clause}, htmx=True,
             document="declaration", body=lambda c: {"body": "Who funds this?"}),
    ),
    ("consultation.reply_form", "GET"): Rule(E(302, 404, 403, 200, 200, 200, 403),
                                             args=lambda c: {"thread_id": c.thread}, htmx=True),
    ("consultation.reply", "POST"): variants(
        Rule(E(302, 404, 403, 200, 200, 200, 403), args=lambda c: {"thread_id": c.thread}, htmx=True,
             body=lambda c: {"body": "Agreed."}),
        Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"thread_id": c.thread}, htmx=True,
             deadline_passed=True, body=lambda c: {"body": "Agreed."}),
    ),
    ("consultation.comment", "GET"): Rule(PAGE_READ, args=lambda c: {"comment_id": c.comment}, htmx=True),
    ("consultation.edit_comment_form", "GET"): Rule(E(302, 404, 403, 200, 403, 403, 403),
                                                    args=lambda c: {"comment_id": c.comment}, htmx=True),
    ("consultation.update_comment", "POST"): Rule(E(302, 404, 403, 200, 403, 403, 403),
                                                  args=lambda c: {"comment_id": c.comment}, htmx=True,
                                                  body=lambda c: {"body": "Who pays, and when?"}),
    ("consultation.remove_comment", "POST"): Rule(E(302, 404, 403, 200, 403, 403, 403),
                                                  args=lambda c: {"comment_id": c.comment}, htmx=True),
    ("consultation.resolve_form", "GET"): Rule(E(302, 404, 403, 403, 403, 200, 403),
                                               args=lambda c: {"thread_id": c.thread}, htmx=True),
    ("consultation.resolve", "POST"): Rule(E(302, 404, 403, 403, 403, 200, 403),
                                           args=lambda c: {"thread_id": c.thread}, htmx=True,
                                           body=lambda c: {"disposition": "accepted"}),
    ("consultation.reopen", "POST"): Rule(E(302, 404, 403, 403, 403, 200, 403),
                                          args=lambda c: {"thread_id": c.resolved_thread}, htmx=True),
    ("consultation.thread_changes", "GET"): Rule(PAGE_READ, args=lambda c: {"thread_id": c.thread}, htmx=True),
    ("consultation.new_amendment", "GET"): Rule(E(302, 404, 403, 200, 200, 403, 403),
                                                args=lambda c: {"clause_id": c.clause}, htmx=True),
    ("consultation.create_amendment", "POST"): variants(
        Rule(E(302, 404, 403, 200, 200, 403, 403), args=lambda c: {"clause_id": c.clause}, htmx=True,
             body=lambda c: {"text": "A new text for the clause.", "rationale": "Clearer."}),
        Rule(E(302, 404, 403, 423, 423, 403, 403), args=lambda c: {"clause_id": c.clause}, htmx=True,
             phase="signing", body=lambda c: {"text": "A new text for the clause.", "rationale": "Clearer."}),
    ),
    ("consultation.accept_form", "GET"): Rule(E(302, 404, 403, 403, 403, 200, 403),
                                              args=lambda c: {"amendment_id": c.amendment}, htmx=True),
    ("consultation.accept", "POST"): variants(
        Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"amendment_id": c.amendment}, htmx=True),
        Rule(E(302, 404, 403, 403, 403, 423, 403), args=lambda c: {"amendment_id": c.amendment}, htmx=True,
             phase="signing"),
    ),
    ("consultation.reject_form", "GET"): Rule(E(302, 404, 403, 403, 403, 200, 403),
                                              args=lambda c: {"amendment_id": c.amendment}, htmx=True),
    ("consultation.reject", "POST"): Rule(E(302, 404, 403, 403, 403, 200, 403),
                                          args=lambda c: {"amendment_id": c.amendment}, htmx=True,
                                          body=lambda c: {"reason": "Out of scope for this plan."}),
    ("consultation.withdraw", "POST"): Rule(E(302, 404, 403, 200, 403, 403, 403),
                                            args=lambda c: {"amendment_id": c.amendment}, htmx=True),
    ("consultation.threads", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}, htmx=True),
    ("consultation.contributions", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
    ("consultation.submit", "POST"): variants(
        Rule(E(302, 404, 403, 302, 302, 403, 403), args=lambda c: {"document_id": c.doc},
             body=lambda c: {"kind": "best_practice", "topic": "research", "title": "Shared biobank catalogue",
                             "body": "One catalogue for seven regions."}),
        Rule(E(302, 404, 403, 403, 403, 403, 403), args=lambda c: {"document_id": c.doc}, phase="signing",
             body=lambda c: {"kind": "best_practice", "topic": "research", "title": "Shared biobank catalogue",
                             "body": "One catalogue for seven regions."}),
    ),
    # The contribution is the commenter's: only its author edits or withdraws it, until the deadline.
    ("consultation.edit_contribution_form", "GET"): Rule(E(302, 404, 403, 200, 403, 403, 403),
                                                         args=lambda c: {"contribution_id": c.contribution},
                                                         htmx=True),
    ("consultation.update_contribution", "POST"): variants(
        Rule(E(302, 404, 403, 200, 403, 403, 403), args=lambda c: {"contribution_id": c.contribution}, htmx=True,
             body=lambda c: {"kind": "best_practice", "topic": "research", "title": "Shared biobank catalogue",
                             "body": "One catalogue for eight regions."}),
        Rule(E(302, 404, 403, 403, 403, 403, 403), args=lambda c: {"contribution_id": c.contribution}, htmx=True,
             deadline_passed=True,
             body=lambda c: {"kind": "best_practice", "topic": "research", "title": "Shared biobank catalogue",
                             "body": "One catalogue for eight regions."}),
    ),
    ("consultation.withdraw_contribution_", "GET"): Rule(E(302, 404, 403, 200, 403, 403, 403),
                                                         args=lambda c: {"contribution_id": c.contribution}),
    ("consultation.withdraw_contribution_", "POST"): variants(
        Rule(E(302, 404, 403, 200, 403, 403, 403), args=lambda c: {"contribution_id": c.contribution}, htmx=True),
        Rule(E(302, 404, 403, 403, 403, 403, 403), args=lambda c: {"contribution_id": c.contribution}, htmx=True,
             phase="signing"),
    ),
    ("consultation.contributions_deadline", "POST"): Rule(E(302, 404, 403, 403, 403, 403, 302),
                                                          args=lambda c: {"document_id": c.doc},
                                                          body=lambda c: {"deadline": "2999-01-01T10:00"}),
    ("consultation.link", "POST"): Rule(E(302, 404, 403, 403, 403, 200, 403),
                                        args=lambda c: {"contribution_id": c.contribution}, htmx=True,
                                        body=lambda c: {"clause_ids": [str(c.clause)]}),
    ("consultation.proposed_changes", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
    ("consultation.summary", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
    ("consultation.report", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
    ("consultation.report_md", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
    ("consultation.report_csv_", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
    ("consultation.notifications", "GET"): Rule(E(302, 200, 200, 200, 200, 200, 200)),
    ("consultation.notifications_link", "GET"): Rule(E(302, 200, 200, 200, 200, 200, 200), htmx=True),
    # The notification is the commenter's; anyone else is told it does not exist.
    ("consultation.open_notification", "GET"): Rule(E(302, 404, 404, 302, 404, 404, 404),
                                                     args=lambda c: {"notification_id": c.notification}),
    ("consultation.open_and_read_notification", "POST"): Rule(E(302, 404, 404, 302, 404, 404, 404),
                                                     args=lambda c: {"notification_id": c.notification}),
    ("consultation.read_notification", "POST"): Rule(E(302, 404, 404, 200, 404, 404, 404),
                                                     args=lambda c: {"notification_id": c.notification},
                                                     htmx=True),
    ("consultation.read_all_notifications", "POST"): Rule(E(302, 200, 200, 200, 200, 200, 200), htmx=True),
    # The members the @ box suggests: whoever reads the document (JSON for the page's script).
    ("consultation.people", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc, "q": "te"}),
    # ---- pages: e-mail notifications (issue 14) ----
    ("people.tokens", "GET"): Rule(E(302, 200, 200, 200, 200, 200, 200)),
    ("people.make_token", "POST"): Rule(E(302, 302, 302, 302, 302, 302, 302),
                                        body=lambda c: {"name": "Matrix export", "expires_in_days": "30"}),
    ("people.revoke_own_token", "POST"): Rule(E(302, 404, 404, 404, 404, 302, 404),
                                              args=lambda c: {"token_id": c.editor_token}),
    # ---- translations (issue 18): every member reads them, editors (and the secretariat) write ----
    ("translating.overview", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
    ("translating.side_by_side", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc, "lang": "hu"}),
    ("translating.row", "GET"): Rule(PAGE_READ, args=lambda c: {"clause_id": c.clause, "lang": "hu"}, htmx=True),
    ("translating.edit", "GET"): Rule(E(302, 404, 403, 403, 403, 200, 200),
                                      args=lambda c: {"clause_id": c.clause, "lang": "hu"}, htmx=True),
    ("translating.save", "POST"): Rule(E(302, 404, 403, 403, 403, 200, 200),
                                       args=lambda c: {"clause_id": c.clause, "lang": "hu"}, htmx=True,
                                       body=lambda c: {"text": "Fordítás.", "source_version": "1"}),
    ("translating.title", "POST"): Rule(E(302, 404, 403, 403, 403, 302, 302),
                                        args=lambda c: {"document_id": c.doc, "lang": "hu"},
                                        body=lambda c: {"title": "Közös cselekvési terv"}),
    ("api.put_translation", "PUT"): Rule(E(401, 404, 403, 403, 403, 200, 200),
                                         args=lambda c: {"clause_id": c.clause, "lang": "bg"},
                                         body=lambda c: {"text": "Превод.", "source_version": 1}),
    ("api.get_translations", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc, "lang": "bg"}),
    ("api.put_title", "PUT"): Rule(E(401, 404, 403, 403, 403, 200, 200),
                                   args=lambda c: {"document_id": c.doc, "lang": "bg"},
                                   body=lambda c: {"title": "Съвместен план за действие"}),
    ("api.get_progress", "GET"): Rule(API_READ, args=lambda c: {"document_id": c.doc}),
    # ---- the scripts' strings in a language: public, like the scripts themselves (issue 18) ----
    ("i18n_messages", "GET"): Rule(E(200, 200, 200, 200, 200, 200, 200), args=lambda c: {"lang": "hu"}),
    # ---- pages: one's own language and time zone (issue 18) ----
    ("people.language_settings", "GET"): Rule(E(302, 200, 200, 200, 200, 200, 200)),
    ("people.save_language_settings", "POST"): Rule(E(302, 302, 302, 302, 302, 302, 302),
                                                    body=lambda c: {"locale": "hu", "timezone": "Europe/Budapest"}),
    ("api.list_tokens", "GET"): Rule(E(401, 200, 200, 200, 200, 200, 200)),
    ("api.delete_token", "DELETE"): Rule(E(401, 404, 404, 404, 404, 204, 404),
                                         args=lambda c: {"token_id": c.editor_token}),
    ("notifications.preferences", "GET"): Rule(E(302, 200, 200, 200, 200, 200, 200)),
    ("notifications.preferences", "POST"): Rule(E(302, 302, 302, 302, 302, 302, 302),
                                                body=lambda c: {"discussion": "digest"}),
    # The signed link is the credential: no login, and everyone gets the same answer.
    ("notifications.unsubscribe", "GET"): Rule(E(200, 200, 200, 200, 200, 200, 200),
                                               args=lambda c: {"token": c.unsubscribe_token}),
    ("notifications.unsubscribe", "POST"): Rule(E(200, 200, 200, 200, 200, 200, 200),
                                                args=lambda c: {"token": c.unsubscribe_token}),
    ("notifications.outbox", "GET"): Rule(E(302, 403, 403, 403, 403, 403, 200)),
    ("notifications.requeue_mail", "POST"): Rule(E(302, 403, 403, 403, 403, 403, 302),
                                                  args=lambda c: {"mail_id": c.failed_mail}),

    # ---- pages: export and import ----
    ("exchange.download", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc, "format": "html"}),
    ("exchange.upload_form", "GET"): Rule(E(302, 403, 403, 403, 403, 200, 200)),
    ("exchange.preview", "POST"): Rule(E(302, 403, 403, 403, 403, 200, 200), multipart=True,
                                       body=lambda c: {"file": upload()}),
    ("exchange.save", "POST"): Rule(E(302, 403, 403, 403, 403, 302, 302),
                                    body=lambda c: {"sealed": c.sealed, "title": "Matrix declaration",
                                                    "kind": "declaration"}),

    # ---- pages: history and named versions ----
    ("history.history", "GET"): Rule(PAGE_READ, args=lambda c: {"clause_id": c.clause}, htmx=True),
    ("history.diff", "GET"): Rule(PAGE_READ, args=lambda c: {"clause_id": c.clause, "from": 1, "to": 1},
                                  htmx=True),
    ("history.restore", "POST"): variants(
        Rule(E(302, 404, 403, 403, 403, 200, 403), args=lambda c: {"clause_id": c.clause}, htmx=True,
             body=lambda c: {"version": "1"}),
        Rule(E(302, 404, 403, 403, 403, 423, 403), args=lambda c: {"clause_id": c.clause}, htmx=True,
             phase="adopted", body=lambda c: {"version": "1"}),
    ),
    ("history.versions", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
    ("history.take_snapshot", "POST"): Rule(E(302, 404, 403, 403, 403, 302, 403),
                                            args=lambda c: {"document_id": c.doc},
                                            body=lambda c: {"name": "After the consultation"}),
    ("history.compare_versions", "GET"): Rule(PAGE_READ,
                                              args=lambda c: {"document_id": c.doc, "from": c.snapshot}),
    ("history.mark_seen", "POST"): Rule(E(302, 404, 302, 302, 302, 302, 302), args=lambda c: {"document_id": c.doc}),

    # ---- pages: phases and sign-off ----
    ("signoff.page", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
    ("signoff.sign", "POST"): variants(
        Rule(E(302, 404, 403, 403, 302, 403, 403), args=lambda c: {"document_id": c.doc}, phase="signing",
             body=lambda c: {"confirm": "yes", "content_hash": c.content_hash(), "password": PASSWORD}),
        Rule(E(302, 404, 403, 403, 403, 403, 403), args=lambda c: {"document_id": c.doc},
             body=lambda c: {"confirm": "yes", "content_hash": c.content_hash(), "password": PASSWORD}),
    ),
    ("signoff.phase_form", "GET"): Rule(E(302, 404, 403, 403, 403, 403, 200),
                                        args=lambda c: {"document_id": c.doc, "to": "final_review"}),
    ("signoff.move", "POST"): Rule(E(302, 404, 403, 403, 403, 403, 302), args=lambda c: {"document_id": c.doc},
                                   body=lambda c: {"phase": "final_review"}),
    ("signoff.verify_page", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
    ("signoff.certificate_page", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}, phase="adopted"),
    # ---- pages: the secretariat's people, a document's members (issue 13) ----
    ("people.admin", "GET"): Rule(E(302, 403, 403, 403, 403, 403, 302)),
    ("people.users", "GET"): Rule(E(302, 403, 403, 403, 403, 403, 200)),
    ("people.create_user_", "POST"): Rule(E(302, 403, 403, 403, 403, 403, 302), body=lambda c: {
        "name": "Eva Lindqvist", "email": "eva@matrix.example", "organisation": str(c.organisation_id),
        "password": "a long secret"}),
    ("people.deactivate", "POST"): Rule(E(302, 403, 403, 403, 403, 403, 302),
                                       args=lambda c: {"user_id": c.users["editor2"]}),
    ("people.reactivate", "POST"): Rule(E(302, 403, 403, 403, 403, 403, 302),
                                       args=lambda c: {"user_id": c.deactivated_user}),
    ("people.set_user_password", "POST"): Rule(E(302, 403, 403, 403, 403, 403, 302),
                                              args=lambda c: {"user_id": c.users["editor2"]},
                                              body=lambda c: {"password": "a new secret", "confirm": "a new secret"}),
    ("people.make_password_link", "POST"): Rule(E(302, 403, 403, 403, 403, 403, 302),
                                               args=lambda c: {"user_id": c.users["editor2"]}),
    ("people.organisations", "GET"): Rule(E(302, 403, 403, 403, 403, 403, 200)),
    ("people.create_organisation_", "POST"): Rule(E(302, 403, 403, 403, 403, 403, 302),
                                                 body=lambda c: {"name": "Nordic Matrix Cluster", "country": "SE"}),
    ("people.members", "GET"): Rule(PAGE_READ, args=lambda c: {"document_id": c.doc}),
    ("people.add_member_", "POST"): Rule(E(302, 404, 403, 403, 403, 403, 302), args=lambda c: {"document_id": c.doc},
                                         body=lambda c: {"email": EMAILS["outsider"], "role": "observer"}),
    ("people.change_role", "POST"): Rule(E(302, 404, 403, 403, 403, 403, 302),
                                        args=lambda c: {"document_id": c.doc, "user_id": c.users["editor2"]},
                                        body=lambda c: {"role": "observer"}),
    ("people.remove_member_", "POST"): Rule(E(302, 404, 403, 403, 403, 403, 302),
                                           args=lambda c: {"document_id": c.doc, "user_id": c.users["editor2"]}),
    ("people.add_participant_", "POST"): Rule(E(302, 404, 403, 403, 403, 403, 302),
                                             args=lambda c: {"document_id": c.doc},
                                             body=lambda c: {"organisation": c.new_organisation}),
    ("people.withdraw", "POST"): Rule(E(302, 404, 403, 403, 403, 403, 302),
                                     args=lambda c: {"document_id": c.doc, "organisation_id": c.participant},
                                     body=lambda c: {"reason": "It merged into another cluster."}),
    ("people.invite_", "POST"): Rule(E(302, 404, 403, 403, 403, 403, 302), args=lambda c: {"document_id": c.doc},
                                    body=lambda c: {"email": "new.person@matrix.example", "name": "New Person",
                                                    "organisation": "Danube Health Cluster", "role": "commenter"}),
    ("people.revoke", "POST"): Rule(E(302, 404, 403, 403, 403, 403, 302),
                                   args=lambda c: {"document_id": c.doc, "invitation_id": c.invitation[0]}),
    # The one-time links need no login; each caller gets the same answer (passwords that differ: 422,
    # so the link is not used up; test_invitations.py and test_people.py follow a link to its end).
    ("people.invitation_page", "GET"): Rule(E(200, 200, 200, 200, 200, 200, 200),
                                           args=lambda c: {"secret": c.invitation[1]}),
    ("people.invitation_page", "POST"): Rule(E(422, 422, 422, 422, 422, 422, 422),
                                            args=lambda c: {"secret": c.invitation[1]},
                                            body=lambda c: {"password": "my own secret", "confirm": "not the same"}),
    ("people.set_password_page", "GET"): Rule(E(200, 200, 200, 200, 200, 200, 200),
                                             args=lambda c: {"token": c.password_token}),
    ("people.set_password_page", "POST"): Rule(E(422, 422, 422, 422, 422, 422, 422),
                                              args=lambda c: {"token": c.password_token},
                                              body=lambda c: {"password": "my own secret", "confirm": "not the same"}),
}


def as_variants(entry: Rule | tuple[Rule, ...]) -> tuple[Rule, ...]:
    return entry if isinstance(entry, tuple) else (entry,)


CASES = [pytest.param(endpoint, method, index, id=f"{endpoint}-{method}-{rule.document}-{rule.phase_label}")
         for (endpoint, method), entry in EXPECT.items() for index, rule in enumerate(as_variants(entry))]


# ---- the routes of the app ----------------------------------------------------------------------

def route_pairs(app) -> set[tuple[str, str]]:
    return {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
            for method in rule.methods - IGNORED_METHODS}


def test_every_route_has_a_rule(app):
    routes = route_pairs(app)
    missing = sorted(routes - set(EXPECT))
    stale = sorted(set(EXPECT) - routes)
    assert not missing, f"routes without an entry in EXPECT (add one with every caller's status): {missing}"
    assert not stale, f"entries in EXPECT for routes that no longer exist: {stale}"


def test_every_entry_names_every_caller():
    for key, entry in EXPECT.items():
        for rule in as_variants(entry):
            assert set(rule.expect) == set(CALLERS), key


# ---- calling as each caller ---------------------------------------------------------------------

_SESSIONS: dict[str, str] = {}  # role -> session cookie (same secret key, user ids and epochs in every copy)


def use_session(client, role: str | None) -> None:
    """Make the client's next request come from the role's browser session (None: anonymous)."""
    client.delete_cookie("session")
    if role is None:
        return
    if role not in _SESSIONS:
        response = client.post("/login", data={"email": EMAILS[role], "password": PASSWORD})
        assert response.status_code == 302, (role, response.status_code)
        _SESSIONS[role] = client.get_cookie("session").value
    client.set_cookie("session", _SESSIONS[role])


def issue_tokens(app) -> dict[str, str]:
    with app.app_context():
        tokens = {}
        for role in ROLES:
            user = db.session.scalar(select(User).where(User.email == EMAILS[role]))
            tokens[role] = ApiToken.issue(user)[1]
        db.session.commit()
        return tokens


def is_success(rule: Rule, caller: str, is_api: bool) -> bool:
    status = rule.expect[caller]
    if status >= 400:
        return False
    return not (caller == "anonymous" and not is_api and status == 302 and rule.anonymous_to == "/login")


def call(client, rule: Rule, method: str, url: str, caller: str, ctx: Ctx, tokens: dict, is_api: bool):
    headers = {"HX-Request": "true"} if rule.htmx else {}
    if is_api:
        client.delete_cookie("session")
        if caller != "anonymous":
            headers["Authorization"] = f"Bearer {tokens[caller]}"
    else:
        use_session(client, None if caller == "anonymous" else caller)
    return client.open(url, method=method, headers=headers, **body_kwargs(rule, ctx, is_api))


def body_kwargs(rule: Rule, ctx: Ctx, is_api: bool) -> dict[str, Any]:
    """The request body, built now (a version or content hash is read at call time)."""
    if rule.body is None:
        return {}
    data = rule.body(ctx)
    if rule.multipart:
        return {"data": data, "content_type": "multipart/form-data"}
    return {"json": data} if is_api else {"data": data}


def problem(rule: Rule, caller: str, response, is_api: bool) -> str | None:
    expected, got = rule.expect[caller], response.status_code
    if caller == "anonymous" and rule.htmx and not is_api and expected == 302 and rule.anonymous_to == "/login":
        # A fragment asked for without a session: 401, and htmx sends the whole page to the login.
        redirect_to = response.headers.get("HX-Redirect", "")
        if got != 401 or not redirect_to.startswith("/login"):
            return f"{caller}: got {got} with HX-Redirect {redirect_to!r}, expected 401 to /login"
        return None
    if got != expected:
        body = response.get_data(as_text=True)[:200].replace("\n", " ")
        return f"{caller}: got {got}, expected {expected} ({body!r})"
    if got == 302:
        location = response.headers.get("Location", "")
        to_login = location.startswith("/login")
        if caller == "anonymous" and not location.startswith(rule.anonymous_to):
            return f"{caller}: redirected to {location!r}, expected {rule.anonymous_to}"
        if caller != "anonymous" and to_login and not rule.to_login_ok:
            return f"{caller}: redirected to the login page ({location!r})"
    if rule.check is not None:
        return rule.check(caller, response)
    return None


@pytest.mark.parametrize(("endpoint", "method", "index"), CASES)
def test_authorization(app, client, api, endpoint, method, index):
    rule = as_variants(EXPECT[(endpoint, method)])[index]
    is_api = endpoint.startswith("api.")
    ctx = Ctx(app, rule.document)
    with app.test_request_context():
        url = url_for(endpoint, **rule.args(ctx))  # creates what the URL names, before any phase move
    if rule.phase == "adopted":
        adopt(app, api, ctx.doc)
    elif rule.phase is not None:
        walk(api, ctx.doc, rule.phase)
    if rule.deadline_passed:
        ctx.close_consultation()
    tokens = issue_tokens(app) if is_api else {}
    order = sorted(CALLERS, key=lambda caller: is_success(rule, caller, is_api))  # refusals first
    problems = []
    if is_api and rule.expect["anonymous"] == 401:
        # The API authenticates by token only: the admin's browser session alone is no credential.
        use_session(client, "admin")
        response = client.open(url, method=method, headers={"HX-Request": "true"} if rule.htmx else {},
                               **body_kwargs(rule, ctx, is_api))
        if response.status_code != 401:
            problems.append(f"admin's session cookie without a token: got {response.status_code}, expected 401")
    for caller in order:
        response = call(client, rule, method, url, caller, ctx, tokens, is_api)
        found = problem(rule, caller, response, is_api)
        if found:
            problems.append(found)
    assert not problems, f"{method} {url} in {rule.phase_label}:\n  " + "\n  ".join(problems)

