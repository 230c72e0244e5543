"""Load the demo world written for this project (see content.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask import current_app, has_request_context
from markupsafe import escape
from sqlalchemy import select

from ..clauses.operations import create_clause, save_clause
from ..consultation.operations import accept_amendment, reject_amendment, resolve_thread
from ..documents.operations import add_member, add_participant, create_document, document_hash
from ..extensions import db
from ..models import Amendment, Clause, Comment, Contribution, Document, Organisation, Thread, User
from ..models.base import utcnow
from ..notifications.operations import quiet
from ..signoff.operations import approve
from ..signoff.phases import move_phase
from ..translating.operations import save_title, save_translation
from . import content, translations


def _paragraphs(text: str) -> str:
    """Render plain demo text as the sanitised HTML that comment bodies are stored as."""
    return "".join(f"<p>{escape(part)}</p>" for part in text.split("\n\n") if part.strip())


def seed_demo() -> bool:
    """Create the demo organisations, users and documents unless they exist; tell whether it did.

    The demo world is loaded, not lived: nobody is notified or mailed of what it contains."""
    with quiet():
        return _seed_demo()


def _seed_demo() -> bool:
    admin_email = next(u["email"] for u in content.USERS if u["admin"])
    if db.session.scalar(select(User).where(User.email == admin_email)):
        return False
    orgs = {}
    for spec in content.ORGANISATIONS:
        orgs[spec["name"]] = Organisation(name=spec["name"], country=spec["country"])
        db.session.add(orgs[spec["name"]])
    users = {}
    for spec in content.USERS:
        user = User(email=spec["email"], name=spec["name"], organisation=orgs[spec["org"]],
                    is_admin=spec["admin"])
        user.set_password(content.DEMO_PASSWORD)
        db.session.add(user)
        users[spec["email"]] = user
    db.session.flush()
    admin = users[admin_email]
    documents = {}
    placed: dict[str, list[Clause]] = {}  # each document's clauses by their index in content.py
    for spec in content.DOCUMENTS:
        document = create_document(admin, spec["title"], spec["kind"])
        documents[spec["key"]] = document
        for org in content.ORGANISATIONS:
            if org["participant"]:
                add_participant(admin, document, org["name"])
        for user_spec in content.USERS:
            role = user_spec["roles"].get(spec["key"])
            if role:
                add_member(admin, document, user_spec["email"], role)
        editor = next(users[u["email"]] for u in content.USERS if u["roles"].get(spec["key"]) == "editor")
        placed[spec["key"]] = []
        strand = None
        for index, clause in enumerate(spec["clauses"]):
            kind = demo_kind(spec["kind"], index, clause)
            heading = clause["heading"]
            text, action = split_action(clause["text"]) if kind == "action" else (clause["text"], None)
            numbered = ACTION_HEADING.match(heading or "") if kind == "action" else None
            if numbered:  # "Action 2.3 — title": a section per strand, the action's number from it
                if numbered["strand"] != strand:
                    strand = numbered["strand"]
                    create_clause(document, editor, STRANDS[strand][1], STRANDS[strand][0], kind="section")
                heading = numbered["title"]
            elif kind == "article" and strand not in (None, "end"):  # the plan's closing parts
                strand = "end"
                create_clause(document, editor, "How the plan is financed, reviewed and amended.", "Implementation",
                              kind="section")
            placed[spec["key"]].append(create_clause(document, editor, text, heading, kind=kind, action=action))
        if spec["phase"] != "drafting":
            deadline = utcnow() + timedelta(days=spec.get("deadline_days", 21))
            move_phase(admin, document, "consultation", deadline)
    db.session.flush()
    _seed_consultation(users, orgs, documents, placed)
    _seed_translation(documents["declaration"], placed["declaration"], users)
    # A document the demo shows past its consultation had every comment and amendment closed,
    # with the committee's disposition and reason, before it moved on: none is left open.
    for spec in content.DOCUMENTS:
        if spec["phase"] in LATER_PHASES:
            document = documents[spec["key"]]
            editor = next(users[u["email"]] for u in content.USERS if u["roles"].get(spec["key"]) == "editor")
            close_consultation(document, editor, users, placed[spec["key"]])
            _advance(document, admin, users, spec["phase"])
    db.session.commit()
    return True


LATER_PHASES = ("final_review", "signing", "adopted")
# The clause of the declaration changed after its Hungarian translation: the demo's stale one.
STALE_CLAUSE = 31  # "Follow-up": near the end, where the tests' edits of the first clauses do not meet it
STALE_EDIT = ("review progress on the commitments above every year",
              "review progress on the commitments above every year, together with our regional partners,")


def _seed_translation(document: Document, clauses: list[Clause], users: dict) -> None:
    """The declaration's complete Hungarian translation, each clause pinned to its version; then
    one clause changes in English, so a newcomer sees a stale translation with what changed."""
    editor = next(users[u["email"]] for u in content.USERS if u["roles"].get("declaration") == "editor")
    save_title(document, editor, "hu", translations.DECLARATION_TITLE_HU)
    for clause, (heading, text) in zip(clauses, translations.DECLARATION_HU, strict=True):
        save_translation(clause, editor, "hu", text, clause.version, heading)
    stale = clauses[STALE_CLAUSE]
    old, new = STALE_EDIT
    save_clause(stale, editor, stale.text.replace(old, new, 1), stale.version)


def close_consultation(document: Document, editor: User, users: dict, clauses: list[Clause]) -> None:
    """Close the demo's open threads and amendments of a document as content.py says the committee did."""

    if not has_request_context():  # notifications carry links, which need a request to be built
        with current_app.test_request_context():
            close_consultation(document, editor, users, clauses)
        return
    key = _key(document)
    for spec in (t for t in content.THREADS if t["document"] == key):
        thread = db.session.scalar(select(Thread).where(
            Thread.clause_id == clauses[spec["clause_index"]].id, Thread.author_id == users[spec["author"]].id,
            Thread.status == "open"))
        if thread is not None:
            resolve_thread(thread, editor, spec["disposition"], spec["reason"])
    for spec in (a for a in content.AMENDMENTS if a["document"] == key):
        amendment = db.session.scalar(select(Amendment).where(
            Amendment.clause_id == clauses[spec["clause_index"]].id, Amendment.status == "open"))
        if amendment is None:
            continue
        if spec["decision"] == "accept":
            accept_amendment(amendment, editor)
        else:
            reject_amendment(amendment, editor, spec["reason"])
    db.session.flush()


def _advance(document: Document, admin: User, users: dict, phase: str) -> None:
    """Move a document on from the consultation; to adopted, a signatory of every participant signs."""
    for step in ("final_review", "signing"):
        move_phase(admin, document, step)
        if step == phase:
            return
    signatories = {}
    for spec in content.USERS:
        user = users[spec["email"]]
        if spec["roles"].get(_key(document)) == "signatory":
            signatories.setdefault(user.organisation_id, user)
    for participant in document.participants:
        approve(document, signatories[participant.id], document_hash(document), content.DEMO_PASSWORD)


def _key(document: Document) -> str:
    return next(spec["key"] for spec in content.DOCUMENTS if spec["title"] == document.title)


# The plan's five strands ("Structure of the plan" in content.py): a section each.
STRANDS = {
    "1": ("Governance and coordination", "How the participating clusters steer, follow and evaluate the plan."),
    "2": ("Data and interoperability", "Making health data findable, accessible and usable across borders."),
    "3": ("Innovation and SMEs", "Testbeds, market access and partnering for companies of our clusters."),
    "4": ("Skills and citizens", "Health data skills for professionals, and citizens' trust."),
    "5": ("Presidencies and policy dialogue", "Our dialogue with the EU Council presidencies and the EHDS."),
}
ACTION_HEADING = re.compile(r"^Action (?P<strand>\d+)\.\d+ — (?P<title>.+)$")
RECITAL_OPENINGS = ("Recalling", "Noting", "Considering", "Whereas", "Having regard")
_TIMEFRAME = re.compile(r"^(\d{4})\s*[-–]\s*(\d{4})")


def demo_kind(document_kind: str, index: int, clause: dict) -> str:
    """The kind of a demo clause: the declaration's opening and enacting formula are preambles, its
    "Recalling/Noting/Considering" paragraphs recitals, the rest articles; the plan's introduction
    is preamble, its "Action" clauses actions, its closing parts articles."""
    heading = clause["heading"] or ""
    if document_kind == "action_plan":
        if heading.startswith("Action "):
            return "action"
        return "preamble" if index < 3 else "article"
    if heading == "Preamble" or clause["text"].startswith("We therefore commit"):
        return "preamble"
    if not heading and clause["text"].startswith(RECITAL_OPENINGS):
        return "recital"
    return "article"


def split_action(text: str) -> tuple[str, dict]:
    """Take an action's "Responsible clusters / Timeframe / Funding sources" lines out of its text
    into its structured fields (the demo content was written with them as lines)."""
    kept, action = [], {"responsible": [], "start": None, "end": None, "funding": [], "indicators": []}
    for line in text.split("\n"):
        if line.startswith("Responsible clusters: "):
            action["responsible"] = [n.strip() for n in line.split(": ", 1)[1].split(";") if n.strip()]
        elif line.startswith("Funding sources: "):
            action["funding"] = [n.strip() for n in line.split(": ", 1)[1].split(";") if n.strip()]
        elif line.startswith("Timeframe: ") and _TIMEFRAME.match(line.split(": ", 1)[1]):
            first, last = _TIMEFRAME.match(line.split(": ", 1)[1]).groups()
            action["start"], action["end"] = f"{first}-H1", f"{last}-H2"
        else:
            kept.append(line)
    return "\n".join(kept).rstrip("\n"), action


def _seed_consultation(users: dict, orgs: dict, documents: dict, placed: dict[str, list[Clause]]) -> None:
    for spec in content.THREADS:
        clause = placed[spec["document"]][spec["clause_index"]]
        author = users[spec["author"]]
        thread = Thread(clause_id=clause.id, author_id=author.id, quote=spec["quote"],
                        clause_version=clause.version)
        db.session.add(thread)
        for message in [{"author": spec["author"], "body": spec["body"]}, *spec["replies"]]:
            writer = users[message["author"]]
            thread.comments.append(Comment(author_id=writer.id, organisation_id=writer.organisation_id,
                                           body=_paragraphs(message["body"])))
    for spec in content.AMENDMENTS:
        clause = placed[spec["document"]][spec["clause_index"]]
        author = users[spec["author"]]
        text = split_action(spec["text"])[0] if clause.kind == "action" else spec["text"]
        db.session.add(Amendment(clause_id=clause.id, author_id=author.id,
                                 organisation_id=author.organisation_id, base_version=clause.version,
                                 text=text, rationale=_paragraphs(spec["rationale"])))
    for spec in content.CONTRIBUTIONS:
        db.session.add(Contribution(
            document_id=documents[spec["document"]].id, organisation_id=orgs[spec["org"]].id,
            author_id=users[spec["author"]].id, kind=spec["kind"], topic=spec["topic"],
            title=spec["title"], body=_paragraphs(spec["body"]), proposal=_paragraphs(spec["proposal"])))


def print_logins(echo: Callable[[str], None]) -> None:
    """Print the demo logins, one per role, in the order of the workflow."""
    echo(f"Demo logins (password for all: {content.DEMO_PASSWORD}):")
    by_role: dict[str, dict] = {}
    for spec in content.USERS:
        role = "admin" if spec["admin"] else next((r for r in spec["roles"].values() if r), None)
        if role and role not in by_role and spec["email"].endswith("@drafting.example"):
            by_role[role] = spec
    for role in ("admin", "editor", "commenter", "signatory", "observer"):
        if role in by_role:
            spec = by_role[role]
            echo(f"  {role:<10} {spec['email']:<34} {spec['name']}, {spec['org']}")
