"""Closing a deleted clause's open threads and amendments, and what that shares with the rest of
the consultation (closing a thread, telling people). Kept apart from consultation.operations,
which saves clause text through clauses.operations: clauses.operations calls this module when a
clause is deleted, so neither imports the other."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from .. import audit, live
from ..extensions import db
from ..i18n import N_, _l
from ..models import Amendment, Clause, Document, Notification, Thread, User
from ..models.base import utcnow
from ..notifications.operations import tell


def notify(user: User, document: Document | None, message: str, url: str | None, category: str = "discussion",
           *, excerpt: str | None = None, subject: str | None = None,
           details: list[str] | None = None) -> Notification | None:
    """Tell a user: an entry in their in-app list and an e-mail as they chose for the category
    (nothing for a deactivated account). `message`, `subject` and `details` are lazy strings
    (drafting.i18n._l), made into text in the recipient's language."""
    return tell(user, document, category, message, url, subject=subject, details=details, excerpt=excerpt)


def clause_label(clause: Clause):
    """How a notification names a clause ("clause 3"): a lazy string, in the reader's language."""
    number = clause.number
    return _l("clause %(number)s", number=number) if number else _l("a deleted clause")


def close_thread(thread: Thread, actor: User, disposition: str, reason: str | None) -> None:
    thread.status = "resolved"
    thread.disposition = disposition
    thread.reason = reason
    thread.resolved_by_id = actor.id
    thread.resolved_at = utcnow()
    db.session.flush()
    document = thread.clause.document
    audit.record(actor, document, "thread.resolved", "thread", thread.id, thread.clause_id,
                 disposition=disposition, reason=reason)
    live.announce(document, "thread.resolved", actor.id, clause_id=thread.clause_id, thread_id=thread.id,
                  disposition=disposition)


# The reason recorded (in English) on the items a deleted clause closes; the report shows it translated.
CLAUSE_DELETED_REASON = N_("The clause was deleted.")


def close_items_of_deleted_clause(clause: Clause, actor: User) -> tuple[list[Thread], list[Amendment]]:
    """Close a clause's open threads and amendments because it is being deleted, telling their authors.

    Called by clauses.operations.delete_clause before the clause leaves the document, so the
    notifications can still name it by its number. The items stay on record and in the report.
    """
    document = clause.document
    label = clause_label(clause)
    threads = list(db.session.scalars(select(Thread).where(Thread.clause_id == clause.id, Thread.status == "open")
                                      .order_by(Thread.id)))
    amendments = list(db.session.scalars(select(Amendment).where(Amendment.clause_id == clause.id,
                                                                 Amendment.status == "open").order_by(Amendment.id)))
    if not threads and not amendments:
        return threads, amendments
    url = url_for("consultation.report", document_id=document.id)
    for thread in threads:
        close_thread(thread, actor, "clause_deleted", CLAUSE_DELETED_REASON)
        if thread.author_id != actor.id:
            notify(thread.author, document,
                   _l("%(actor)s deleted %(clause)s of “%(title)s”; your comment on it was closed. "
                      "It stays in the consultation report.", actor=actor.name, clause=label, title=document.title),
                   url + f"#report-thread-{thread.id}")
    now = utcnow()
    for amendment in amendments:
        amendment.status = "clause_deleted"
        amendment.reason = CLAUSE_DELETED_REASON
        amendment.decided_by_id = actor.id
        amendment.decided_at = now
        db.session.flush()
        audit.record(actor, document, "amendment.closed", "amendment", amendment.id, clause.id,
                     status="clause_deleted", reason=CLAUSE_DELETED_REASON)
        live.announce(document, "amendment.closed", actor.id, clause_id=clause.id, amendment_id=amendment.id)
        if amendment.author_id != actor.id:
            notify(amendment.author, document,
                   _l("%(actor)s deleted %(clause)s of “%(title)s”; your amendment to it was closed. "
                      "It stays in the consultation report.", actor=actor.name, clause=label, title=document.title),
                   url + f"#report-amendment-{amendment.id}", "amendments")
    return threads, amendments
