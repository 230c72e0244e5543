"""Operations on documents: creation, members, participants, phases. They flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, or_, select, update

from .. import audit, i18n, live
from ..errors import DomainError
from ..extensions import db
from ..models import Clause, Document, Membership, Organisation, Participation, User
from ..models.document import KINDS, ROLES
from ..text.actions import HALF_YEARS, PRESIDENCIES, half_years_of
from ..text.hashing import content_hash, content_hash_v2
from ..text.numbering import COUNTED_APART, label_of, labels

MAX_REASON_CHARS = 2000


class DocumentError(DomainError):
    """A request about a document that cannot be carried out; carries the HTTP status."""


def numbered_clauses(document: Document) -> list[tuple[int, Clause]]:
    """Return the document's live clauses with their numbers, in order."""
    return list(enumerate(document.clauses, start=1))


def labelled_clauses(document: Document) -> list[tuple[int, str, Clause]]:
    """The live clauses in order with their position number and their label (text.numbering)."""
    clauses = document.clauses
    return [(n, label, c) for n, (label, c) in enumerate(zip(labels([c.kind for c in clauses]), clauses, strict=True), start=1)]


def labels_by_id(clauses: list[Clause]) -> dict[int, str]:
    """The labels of a document's live clauses (given in order), by clause id."""
    return dict(zip((c.id for c in clauses), labels([c.kind for c in clauses]), strict=True))


@dataclass
class HalfYear:
    half: str
    presidency: str
    actions: list[tuple[str, Clause]]  # (label, clause) of the actions running in it


def action_timeline(document: Document, organisation: str | None = None) -> list[HalfYear]:
    """Each half-year of the plan period with the actions that run in it (one cluster's only,
    when named), and the EU Council presidency of that half-year."""
    rows = [HalfYear(half, PRESIDENCIES[half], []) for half in HALF_YEARS]
    by_half = {row.half: row for row in rows}
    for _n, label, clause in labelled_clauses(document):
        if clause.kind != "action" or not clause.action:
            continue
        if organisation and organisation not in clause.action.get("responsible", []):
            continue
        for half in half_years_of(clause.action):
            by_half[half].actions.append((label, clause))
    return rows


def clause_labels(document: Document) -> dict[int, str]:
    """Each live clause's label by id, read as (id, kind) rows in one query (for pages rendering
    one clause at a time)."""
    rows = db.session.execute(select(Clause.id, Clause.kind).where(
        Clause.document_id == document.id, Clause.deleted_at.is_(None)).order_by(Clause.position, Clause.id)).all()
    return dict(zip((r.id for r in rows), labels([r.kind for r in rows]), strict=True))


def _label_counts() -> Select:
    """What numbers one live clause, counted up to it: built once (its cache key too), run per save."""
    this = Clause.id == bindparam("clause_id")
    here = select(Clause.position).where(this, Clause.deleted_at.is_(None)).scalar_subquery()
    before = (Clause.document_id == bindparam("document_id"), Clause.deleted_at.is_(None), Clause.position <= here)
    last_section = select(func.max(Clause.position)).where(*before, Clause.kind == "section").scalar_subquery()
    # (Not `not_in`: an expanding IN is compiled again at every execution.)
    article = and_(*(Clause.kind != kind for kind in COUNTED_APART), or_(last_section.is_(None), Clause.position > last_section))

    def count(condition) -> ColumnElement:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    return select(count(this).label("found"), func.max(case((this, Clause.kind))).label("kind"),
                  count(Clause.kind == "recital").label("recitals"), count(Clause.kind == "section").label("sections"),
                  count(Clause.kind == "annex").label("annexes"), count(article).label("articles")).where(*before)


_LABEL_COUNTS = _label_counts()


def clause_label(clause: Clause) -> str:
    """One live clause's label, counted by the database: one row, whatever the document's length.

    A save answers its clause's label; reading the (id, kind) of every clause before it and
    numbering them in Python cost a save a fifth of its time in a document of 250 clauses
    (docs/benchmarks.md). The counts stop at the clause's position as the database has it now,
    so a move or an insertion committed since this request loaded the clause is counted right; a
    clause deleted meanwhile has no label (""), as in `clause_labels`. `numbering.label_of` turns
    the counts into the label, as `numbering.labels` does for a whole text.
    """
    row = db.session.execute(_LABEL_COUNTS, {"clause_id": clause.id, "document_id": clause.document_id}).one()
    if not row.found:
        return ""
    return label_of(row.kind, int(row.recitals), int(row.sections), int(row.annexes), int(row.articles))


def hash_of(title: str, scheme: int, entries) -> str:
    """The content hash of a text given as (number, label, kind, heading, text, action) entries."""
    if scheme == 1:
        return content_hash(title, ((n, heading, text) for n, _l, _k, heading, text, _a in entries))
    return content_hash_v2(title, ((label, kind, heading, text, action)
                                   for _n, label, kind, heading, text, action in entries))


def document_hash(document: Document) -> str:
    """Compute the content hash of the document's current text (by the document's hash scheme)."""
    return hash_of(document.title, document.hash_scheme,
                   ((n, label, c.kind, c.heading, c.text, c.action) for n, label, c in labelled_clauses(document)))


def visible_documents(user: User) -> list[Document]:
    """Return the documents the user has a role on (all of them for the secretariat)."""
    query = select(Document).order_by(Document.updated_at.desc())
    if not user.is_admin:
        query = query.join(Membership).where(Membership.user_id == user.id)
    return list(db.session.scalars(query))


def create_document(actor: User, title: object, kind: object, language: object = ...) -> Document:
    """Create an empty document in drafting."""
    if not isinstance(title, str) or not title.strip():
        raise DocumentError(422, _("A document needs a title."))
    if len(title) > 300:
        raise DocumentError(413, _("Titles are limited to 300 characters."))
    if kind not in KINDS:
        raise DocumentError(422, _("Kind must be 'declaration' or 'action_plan'."))
    if language is ...:  # not given: English
        language = i18n.DEFAULT_LANGUAGE
    if not isinstance(language, str) or language not in i18n.LANGUAGES:
        raise DocumentError(422, _("The authentic language must be one of: %(codes)s.",
                                   codes=", ".join(i18n.LANGUAGES)), field="language")
    document = Document(title=" ".join(title.split()), kind=kind, phase="drafting", language=language)
    db.session.add(document)
    db.session.flush()
    audit.record(actor, document, "document.created", "document", document.id, title=document.title)
    return document


def add_member(actor: User, document: Document, email: object, role: object) -> Membership:
    """Give a user a role on the document, or change the role they have."""
    if role not in ROLES:
        raise DocumentError(422, _("Role must be one of: %(roles)s.", roles=", ".join(ROLES)), field="role")
    email = email.strip().lower() if isinstance(email, str) else ""
    user = db.session.scalar(select(User).where(User.email == email)) if email else None
    if user is None:
        raise DocumentError(422, _("No user has that email address."), field="email")
    if not user.is_active:
        raise DocumentError(422, _("The account of %(name)s is deactivated: it cannot be given a role. "
                                   "Reactivate it first.", name=user.name), field="email")
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
        raise DocumentError(404, _("That user has no role on this document."))
    email = membership.user.email
    db.session.delete(membership)
    db.session.flush()
    audit.record(actor, document, "member.removed", "membership", membership.id, user=email)
    live.evict(user_id, document.id)


def add_participant(actor: User, document: Document, name: object) -> Participation:
    """Make an organisation a participant: it will have to sign before adoption.

    A cluster that already takes part is refused (409); one that withdrew takes part again. While
    the signing is open, a cluster without an active signatory on the document is refused (409):
    adoption would wait for a signature nobody can give.
    """
    organisation = None
    if isinstance(name, str):
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == name.strip()))
    if organisation is None:
        raise DocumentError(422, _("No organisation has that name."))
    if document.phase == "adopted":
        raise DocumentError(409, _("The document is adopted: the organisations that signed it are final."))
    existing = db.session.scalar(select(Participation).where(
        Participation.document_id == document.id, Participation.organisation_id == organisation.id))
    if existing is not None and existing.withdrawn_at is None:
        raise DocumentError(409, _("%(organisation)s already takes part in this document.",
                                   organisation=organisation.name))
    if document.phase == "signing" and not has_signatory(document, organisation):
        raise DocumentError(409, _("The signing is open and %(organisation)s has no signatory on this document: "
                                   "adoption would wait for a signature nobody can give. Give one of its "
                                   "members the signatory role first, then add the cluster.",
                                   organisation=organisation.name))
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



def has_signatory(document: Document, organisation: Organisation) -> bool:
    """Tell whether an active member of the organisation is a signatory of the document."""
    return db.session.scalar(select(Membership.id).join(User, Membership.user_id == User.id).where(
        Membership.document_id == document.id, Membership.role == "signatory",
        User.organisation_id == organisation.id, User.deactivated_at.is_(None)).limit(1)) is not None


def lock_document(document: Document) -> None:
    """Hold the document's row until commit, then reload it: phase moves, approvals and text
    changes of one document are serialised, and each sees the others' committed result."""
    db.session.execute(update(Document).where(Document.id == document.id).values(seq=Document.seq))
    db.session.refresh(document)




def document_json(document: Document, with_clauses: bool = True) -> dict:
    """Serialise a document for the API."""
    data = {
        "id": document.id, "title": document.title, "kind": document.kind, "hash_scheme": document.hash_scheme,
        "language": document.language,
        "phase": document.phase, "seq": document.seq,
        "deadline": document.deadline.isoformat(timespec="seconds") + "Z" if document.deadline else None,
        "contributions_deadline": (document.contributions_deadline.isoformat(timespec="seconds") + "Z"
                                   if document.contributions_deadline else None),
        "updated_at": document.updated_at.isoformat(timespec="seconds") + "Z",
    }
    if with_clauses:
        data["content_hash"] = document_hash(document)
        data["participants"] = [o.name for o in document.participants]
        data["clauses"] = [c.to_json(n, label) for n, label, c in labelled_clauses(document)]
    return data
