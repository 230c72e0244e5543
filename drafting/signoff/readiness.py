"""What stands in the way of a phase move: blockers that refuse it, warnings the secretariat reads.

Moving to signing freezes the text: after it nothing can close a thread or decide an amendment,
and a cluster without a signatory can never sign. So for signing, open items and unsigned
clusters block (an admin may still override, with a reason that goes into the audit trail, and
the items still open are then closed as noted or not accepted, naming the override:
signoff.phases.move_phase); for the other moves they only warn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import DEFAULT_LANGUAGE
from ..models import Amendment, Clause, Comment, Document, Membership, Snapshot, Thread, User
from ..text.reveal import find_invisible


@dataclass(frozen=True)
class Issue:
    code: str
    message: str                    # in the reader's language
    url: str | None = None          # where the secretariat can act on it
    english: str = field(default="", compare=False)  # the message in English, for the audit trail

    def to_json(self) -> dict:
        return {"code": self.code, "message": self.message}


def _issue(code: str, say: Callable[[], str], url: str | None = None) -> Issue:
    """An issue whose message `say()` writes: in the reader's language, and in English for the record."""
    with force_locale(DEFAULT_LANGUAGE):
        english = say()
    return Issue(code, say(), url, english)


@dataclass
class Readiness:
    phase: str
    blockers: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.blockers

    def to_json(self) -> dict:
        return {"to": self.phase, "ready": self.ready, "blockers": [b.to_json() for b in self.blockers],
                "warnings": [w.to_json() for w in self.warnings]}


def _open_counts(document: Document) -> tuple[int, int]:
    live = select(Clause.id).where(Clause.document_id == document.id, Clause.deleted_at.is_(None))
    amendments = db.session.scalar(select(func.count(Amendment.id)).where(
        Amendment.clause_id.in_(live), Amendment.status == "open"))
    threads = db.session.scalar(select(func.count(Thread.id)).where(
        Thread.clause_id.in_(live), Thread.status == "open"))
    return amendments, threads


def _without_signatory(document: Document) -> list[str]:
    signatories = set(db.session.scalars(
        select(User.organisation_id).join(Membership, Membership.user_id == User.id).where(
            Membership.document_id == document.id, Membership.role == "signatory",
            User.deactivated_at.is_(None))))
    return [o.name for o in document.participants if o.id not in signatories]


def _hidden_characters(document: Document) -> list[int]:
    return [n for n, clause in enumerate(document.clauses, start=1)
            if find_invisible(clause.text) or find_invisible(clause.heading or "")]


def _comments_after_last_version(document: Document) -> int:
    last = db.session.scalar(select(func.max(Snapshot.created_at)).where(Snapshot.document_id == document.id))
    query = (select(func.count(Comment.id)).join(Thread, Comment.thread_id == Thread.id)
             .join(Clause, Thread.clause_id == Clause.id)
             .where(Clause.document_id == document.id, Comment.deleted_at.is_(None)))
    if last is not None:
        query = query.where(Comment.created_at > last)
    return db.session.scalar(query) or 0


def readiness(document: Document, phase: str, urls: dict[str, str] | None = None) -> Readiness:
    """Say what blocks moving the document to `phase` and what only warns."""
    urls = urls or {}
    result = Readiness(phase)
    if phase == document.phase or phase in ("drafting", "adopted"):
        return result
    signing = phase == "signing"
    blockers = result.blockers if signing else result.warnings
    amendments, threads = _open_counts(document)
    if amendments and phase != "consultation":
        blockers.append(_issue("open_amendments", lambda: ngettext(
            "%(num)s amendment is still open: accept or reject each before the text freezes.",
            "%(num)s amendments are still open: accept or reject each before the text freezes.", amendments),
            urls.get("report")))
    if threads and phase != "consultation":
        blockers.append(_issue("open_threads", lambda: ngettext(
            "%(num)s discussion is still open: close each with a disposition.",
            "%(num)s discussions are still open: close each with a disposition.", threads), urls.get("report")))
    if not document.participants:
        target = result.blockers if signing else result.warnings
        target.append(_issue("no_participants", lambda: _(
            "No participating cluster has been added: add the clusters that take part (each of them signs)."),
            urls.get("members")))
    for name in _without_signatory(document):
        blockers.append(_issue("no_signatory", lambda name=name: _(
            "%(name)s takes part but has no signatory on this document: give one of its members the "
            "signatory role.", name=name), urls.get("members")))
    if signing and not document.clauses:
        result.blockers.append(_issue("no_clauses", lambda: _("The document has no clauses to sign.")))
    hidden = _hidden_characters(document)
    if hidden:
        numbers = ", ".join(str(n) for n in hidden[:10]) + (" …" if len(hidden) > 10 else "")
        result.warnings.append(_issue("hidden_characters", lambda: ngettext(
            "%(num)s clause contains invisible or direction-changing characters (clause %(numbers)s): check "
            "them before the text is signed.",
            "%(num)s clauses contain invisible or direction-changing characters (clause %(numbers)s): check "
            "them before the text is signed.", len(hidden), numbers=numbers)))
    if phase in ("final_review", "signing"):
        newer = _comments_after_last_version(document)
        if newer:
            result.warnings.append(_issue("comments_after_version", lambda: ngettext(
                "%(num)s comment was written after the last named version: take a named version so the "
                "consultation's record is complete.",
                "%(num)s comments were written after the last named version: take a named version so the "
                "consultation's record is complete.", newer), urls.get("versions")))
    return result
