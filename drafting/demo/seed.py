"""Load the demo world written for this project (see content.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import current_app, has_request_context
from markupsafe import escape
from sqlalchemy import select

from ..clauses.operations import create_clause
from ..consultation.operations import accept_amendment, reject_amendment, resolve_thread
from ..documents.operations import add_member, add_participant, create_document, document_hash
from ..extensions import db
from ..models import Amendment, Comment, Contribution, Document, Organisation, Thread, User
from ..models.base import utcnow
from ..notifications.operations import quiet
from ..signoff.operations import approve
from ..signoff.phases import move_phase
from . import content


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
        for clause in spec["clauses"]:
            create_clause(document, editor, clause["text"], clause["heading"])
        if spec["phase"] != "drafting":
            deadline = utcnow() + timedelta(days=spec.get("deadline_days", 21))
            move_phase(admin, document, "consultation", deadline)
    db.session.flush()
    _seed_consultation(users, orgs, documents)
    # A document the demo shows past its consultation had every comment and amendment closed,
    # with the committee's disposition and reason, before it moved on: none is left open.
    for spec in content.DOCUMENTS:
        if spec["phase"] in LATER_PHASES:
            document = documents[spec["key"]]
            editor = next(users[u["email"]] for u in content.USERS if u["roles"].get(spec["key"]) == "editor")
            close_consultation(document, editor, users)
            _advance(document, admin, users, spec["phase"])
    db.session.commit()
    return True


LATER_PHASES = ("final_review", "signing", "adopted")


def close_consultation(document: Document, editor: User, users: dict) -> None:
    """Close the demo's open threads and amendments of a document as content.py says the committee did."""

    if not has_request_context():  # notifications carry links, which need a request to be built
        with current_app.test_request_context():
            close_consultation(document, editor, users)
        return
    key = _key(document)
    clauses = document.clauses
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


def _seed_consultation(users: dict, orgs: dict, documents: dict) -> None:
    for spec in content.THREADS:
        clause = documents[spec["document"]].clauses[spec["clause_index"]]
        author = users[spec["author"]]
        thread = Thread(clause_id=clause.id, author_id=author.id, quote=spec["quote"],
                        clause_version=clause.version)
        db.session.add(thread)
        for message in [{"author": spec["author"], "body": spec["body"]}, *spec["replies"]]:
            writer = users[message["author"]]
            thread.comments.append(Comment(author_id=writer.id, organisation_id=writer.organisation_id,
                                           body=_paragraphs(message["body"])))
    for spec in content.AMENDMENTS:
        clause = documents[spec["document"]].clauses[spec["clause_index"]]
        author = users[spec["author"]]
        db.session.add(Amendment(clause_id=clause.id, author_id=author.id,
                                 organisation_id=author.organisation_id, base_version=clause.version,
                                 text=spec["text"], rationale=_paragraphs(spec["rationale"])))
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
