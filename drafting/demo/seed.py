"""Load the demo world written for this project (see content.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from markupsafe import escape
from sqlalchemy import select

from ..clauses.operations import create_clause
from ..documents.operations import add_member, add_participant, create_document, move_phase
from ..extensions import db
from ..models import Amendment, Comment, Contribution, Organisation, Thread, User
from ..models.base import utcnow
from . import content


def _paragraphs(text: str) -> str:
    """Render plain demo text as the sanitised HTML that comment bodies are stored as."""
    return "".join(f"<p>{escape(part)}</p>" for part in text.split("\n\n") if part.strip())


def seed_demo() -> bool:
    """Create the demo organisations, users and documents unless they exist; tell whether it did."""
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
            move_phase(admin, document, spec["phase"], deadline)
    db.session.flush()
    _seed_consultation(users, orgs, documents)
    db.session.commit()
    return True


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
