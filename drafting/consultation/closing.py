"""Closing a deleted clause's open threads and amendments (and reopening them when the clause is
restored), closing what is left open when the signing opens by override, and what that shares with
the rest of the consultation (closing a thread, telling people). Kept apart from
consultation.operations, which saves clause text through clauses.operations: clauses.operations
calls this module when a clause is deleted or restored, so neither imports the other."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from .. import audit, live
from ..extensions import db
from ..i18n import N_, _l
from ..models import Amendment, AuditEvent, Clause, Document, Notification, Thread, User
from ..models.base import utcnow
from ..notifications.operations import tell


def notify(user: User, document: Document | None, message: str, url: str | None, category: str = "discussion",
           *, excerpt: str | None = None, subject: str | None = None,
           details: list[str] | None = None) -> Notification | None:
    """Tell a user: an entry in their in-app list and an e-mail as they chose for the category
    (nothing for a deactivated account). `message`, `subject` and `details` are lazy strings
    (drafting.i18n._l), made into text in the recipient's language."""
    return tell(user, document, category, message, url, subject=subject, details=details, excerpt=excerpt)


def clause_mention(clause: Clause):
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


def close_amendment(amendment: Amendment, actor: User, status: str, reason: str, **details) -> None:
    """Close an open amendment without deciding on its text (its clause deleted, the signing opened
    despite it): recorded with its status and reason, audited, announced."""
    amendment.status, amendment.reason = status, reason
    amendment.decided_by_id, amendment.decided_at = actor.id, utcnow()
    db.session.flush()
    document = amendment.clause.document
    audit.record(actor, document, "amendment.closed", "amendment", amendment.id, amendment.clause_id,
                 status=status, **details, reason=reason)
    live.announce(document, "amendment.closed", actor.id, clause_id=amendment.clause_id, amendment_id=amendment.id)


# The reason recorded (in English) on the items a deleted clause closes; the report shows it translated.
CLAUSE_DELETED_REASON = N_("The clause was deleted.")


def close_items_of_deleted_clause(clause: Clause, actor: User) -> tuple[list[Thread], list[Amendment]]:
    """Close a clause's open threads and amendments because it is being deleted, telling their authors.

    Called by clauses.operations.delete_clause before the clause leaves the document, so the
    notifications can still name it by its number. The items stay on record and in the report.
    """
    document = clause.document
    label = clause_mention(clause)
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
                   url + f"#report-thread-{thread.id}",
                   subject=_l("Comment closed: %(title)s", title=document.title))
    for amendment in amendments:
        close_amendment(amendment, actor, "clause_deleted", CLAUSE_DELETED_REASON)
        if amendment.author_id != actor.id:
            notify(amendment.author, document,
                   _l("%(actor)s deleted %(clause)s of “%(title)s”; your amendment to it was closed. "
                      "It stays in the consultation report.", actor=actor.name, clause=label, title=document.title),
                   url + f"#report-amendment-{amendment.id}", "amendments",
                   subject=_l("Amendment closed: %(title)s", title=document.title))
    return threads, amendments


def closed_by_deletion(clause: Clause) -> tuple[list[Thread], list[Amendment]]:
    """Return the threads and amendments that the deleted clause's deletion closed.

    Its deletion closed them as "clause deleted"; as nothing else closes an item so while its
    clause is live, those are the ones closed that way since the clause was last restored (or
    ever, if it never was). Items settled otherwise, or closed by an earlier deletion that an
    earlier restore left closed, are not among them. Ask before the restore is recorded.
    """
    since = db.session.scalar(select(AuditEvent.created_at).where(
        AuditEvent.document_id == clause.document_id, AuditEvent.clause_id == clause.id,
        AuditEvent.action == "clause.restored").order_by(AuditEvent.id.desc()).limit(1))
    threads_query = select(Thread).where(Thread.clause_id == clause.id, Thread.status == "resolved",
                                         Thread.disposition == "clause_deleted")
    amendments_query = select(Amendment).where(Amendment.clause_id == clause.id, Amendment.status == "clause_deleted")
    if since is not None:
        threads_query = threads_query.where(Thread.resolved_at >= since)
        amendments_query = amendments_query.where(Amendment.decided_at >= since)
    return (list(db.session.scalars(threads_query.order_by(Thread.id))),
            list(db.session.scalars(amendments_query.order_by(Amendment.id))))


def reopen_items_of_restored_clause(clause: Clause, actor: User, threads: list[Thread],
                                    amendments: list[Amendment]) -> None:
    """Open again the threads and amendments its deletion closed (`closed_by_deletion`), now that
    the clause is back: audited, announced, their authors told.

    Called by clauses.operations.restore_clause once the clause is live again.
    """
    document = clause.document
    label = clause_mention(clause)
    for thread in threads:
        thread.status, thread.disposition, thread.reason = "open", None, None
        thread.resolved_by_id = thread.resolved_at = None
        db.session.flush()
        audit.record(actor, document, "thread.reopened", "thread", thread.id, clause.id,
                     disposition="clause_deleted", clause_restored=True)
        live.announce(document, "thread.reopened", actor.id, clause_id=clause.id, thread_id=thread.id)
        if thread.author_id != actor.id:
            notify(thread.author, document,
                   _l("%(actor)s restored %(clause)s of “%(title)s”; your comment on it, closed when the clause "
                      "was deleted, is open again.", actor=actor.name, clause=label, title=document.title),
                   url_for("documents.page", document_id=document.id) + f"#thread-{thread.id}")
    for amendment in amendments:
        amendment.status, amendment.reason = "open", None
        amendment.decided_by_id = amendment.decided_at = None
        db.session.flush()
        audit.record(actor, document, "amendment.reopened", "amendment", amendment.id, clause.id,
                     status="clause_deleted", clause_restored=True)
        live.announce(document, "amendment.reopened", actor.id, clause_id=clause.id, amendment_id=amendment.id)
        if amendment.author_id != actor.id:
            notify(amendment.author, document,
                   _l("%(actor)s restored %(clause)s of “%(title)s”; your amendment to it, closed when the clause "
                      "was deleted, is open again.", actor=actor.name, clause=label, title=document.title),
                   url_for("documents.page", document_id=document.id) + f"#amendment-{amendment.id}", "amendments")


# The reason recorded (in English, as the audit trail is) on the items still open when an admin
# opens the signing despite them; the admin's own reason follows.
OVERRIDE_REASON = "Still open when the signing was opened despite open items. The reason given: %(override)s"


def close_items_left_open_at_override(document: Document, actor: User, override: str) -> tuple[list[Thread],
                                                                                                list[Amendment]]:
    """Close the threads and amendments still open on the document's live clauses because an admin
    opens the signing despite them: threads as "noted", amendments as not accepted (the text freezes
    without them), each with a reason naming the override, audited, announced, their authors told.

    Called by signoff.phases.move_phase before the text freezes, so every item of the
    consultation report has a disposition and a reason, and none is left open for ever.
    """
    live_clauses = select(Clause.id).where(Clause.document_id == document.id, Clause.deleted_at.is_(None))
    threads = list(db.session.scalars(select(Thread).where(Thread.clause_id.in_(live_clauses),
                                                           Thread.status == "open").order_by(Thread.id)))
    amendments = list(db.session.scalars(select(Amendment).where(
        Amendment.clause_id.in_(live_clauses), Amendment.status == "open").order_by(Amendment.id)))
    reason = OVERRIDE_REASON % {"override": override}
    for thread in threads:
        close_thread(thread, actor, "noted", reason)
    for amendment in amendments:
        close_amendment(amendment, actor, "rejected", reason, disposition="not_accepted")
    # One message for each author, however many of their items were closed.
    authors = {item.author_id: item.author for item in [*threads, *amendments] if item.author_id != actor.id}
    proposers = {amendment.author_id for amendment in amendments}
    url = url_for("consultation.report", document_id=document.id)
    for author_id, author in authors.items():
        notify(author, document,
               _l("%(actor)s opened the signing of “%(title)s” while comments or amendments of yours were still "
                  "open: they were closed, comments as noted and amendments as not accepted, and stay in the "
                  "consultation report. Reason: %(reason)s", actor=actor.name, title=document.title,
                  reason=override),
               url, "amendments" if author_id in proposers else "discussion", excerpt=override)
    return threads, amendments
