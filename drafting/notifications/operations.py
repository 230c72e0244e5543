"""Who is told of what: the events of a document's life turned into notifications and mails, and
what the admin does to the outbox.

The event functions are called by the operations where the change happens (documents, people,
sign-off), inside their transaction: a change that rolls back leaves no notification and no mail.
They flush nothing themselves and never commit. Deactivated people get nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select

from .. import audit
from ..errors import DomainError
from ..extensions import db
from ..i18n import _l, for_user, when
from ..models import Approval, Document, Invitation, Membership, Notification, User
from ..models.base import utcnow
from ..models.document import ROLE_LABELS
from ..models.mail import MAIL_STATUSES, OutboxMail
from .outbox import notify, public_base, queue_mail

REQUEUEABLE = ("failed", "uncertain")

# Set while the demo world is loaded: it is written, not lived, so nobody is told anything.
_quiet: ContextVar[bool] = ContextVar("drafting_notifications_quiet", default=False)


class OutboxError(DomainError):
    """An outbox request that cannot be carried out; carries the HTTP status."""


@contextmanager
def quiet() -> Iterator[None]:
    """Tell nobody of what happens inside (loading the demo world)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


@contextmanager
def links() -> Iterator[None]:
    """Make links buildable where no request is under way (a CLI command, the demo, the worker).

    Only url_for's paths are used: outbox.public_url puts them on the public address."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context("/", base_url=public_base() + "/"):
        yield


def tell(user: User, document: Document | None, category: str, message: str, url: str | None, *,
         subject: str | None = None, details: list[str] | None = None,
         excerpt: str | None = None) -> Notification | None:
    """Notify one person (in-app entry and mail as they chose), unless deactivated or all is quiet."""
    if _quiet.get() or not user.is_active:
        return None
    # In the person's language and time zone: `message`, `subject` and `details` may be lazy
    # strings (drafting.i18n._l), made into text here, for this person.
    with links(), for_user(user):
        return notify(user, document, category, str(message), url,
                      subject=str(subject) if subject is not None else None,
                      details=[str(line) for line in details] if details else details, excerpt=excerpt)


def _members(document: Document, role: str | None = None,
             organisation_ids: Iterable[int] | None = None) -> list[User]:
    """The document's active members (with a role, of some organisations), by name."""
    query = select(Membership).where(Membership.document_id == document.id)
    if role is not None:
        query = query.where(Membership.role == role)
    wanted = set(organisation_ids) if organisation_ids is not None else None
    people = [m.user for m in db.session.scalars(query) if m.user.is_active
              and (wanted is None or m.user.organisation_id in wanted)]
    return sorted(people, key=lambda u: (u.name.lower(), u.id))


def _when(moment: datetime) -> LazyString:
    """A moment as its reader writes it (language, time zone): written when the message is."""
    return LazyString(when, moment)


# ---- events of a document ------------------------------------------------------------------------

def consultation_opened(document: Document) -> list[User]:
    """Tell every member of a participating cluster that the consultation is open (and until when)."""
    if _quiet.get():
        return []
    clusters = {p.organisation_id for p in document.active_participations}
    people = _members(document, organisation_ids=clusters)
    if document.deadline:
        message = _l("The consultation on “%(title)s” is open until %(deadline)s: read the text, comment on its "
                     "clauses and propose amendments.", title=document.title, deadline=_when(document.deadline))
    else:
        message = _l("The consultation on “%(title)s” is open: read the text, comment on its clauses and propose "
                     "amendments.", title=document.title)
    subject = _l("Consultation open: %(title)s", title=document.title)
    with links():
        url = url_for("documents.page", document_id=document.id)
        for user in people:
            tell(user, document, "consultation", message, url, subject=subject)
    return people


def signing_opened(document: Document, content_hash: str) -> list[User]:
    """Tell each signatory of a participating cluster that the signing is open, with the content hash."""
    if _quiet.get():
        return []
    clusters = {p.organisation_id for p in document.active_participations}
    people = _members(document, role="signatory", organisation_ids=clusters)
    details = [_l("Content hash of the text to sign: %(hash)s", hash=content_hash),
               _l("The sign-off page shows the same hash: check that it matches before you sign.")]
    with links():
        url = url_for("signoff.page", document_id=document.id)
        for user in people:
            tell(user, document, "signing",
                 _l("The signing of “%(title)s” is open: you may sign for %(organisation)s.",
                    title=document.title, organisation=user.organisation.name),
                 url, subject=_l("Signing open: %(title)s", title=document.title), details=details)
    return people


def approvals_invalidated(document: Document, approvals: Iterable[Approval], reason: str | None) -> list[User]:
    """Tell whoever gave each approval, and the other signatories of its cluster, that it no longer counts."""
    if _quiet.get():
        return []
    told: list[User] = []
    with links():
        url = url_for("signoff.page", document_id=document.id) + "#since-signed"
        for approval in approvals:
            organisation = approval.organisation
            people = {u.id: u for u in _members(document, role="signatory", organisation_ids=[organisation.id])}
            if approval.signatory.is_active:
                people.setdefault(approval.signatory.id, approval.signatory)
            message = _l("The approval %(signatory)s gave for %(organisation)s to “%(title)s” is no longer valid.",
                         signatory=approval.signatory.name, organisation=organisation.name, title=document.title)
            for user in people.values():
                if user.id in {t.id for t in told}:
                    continue
                tell(user, document, "signing", message, url, excerpt=reason,
                     subject=_l("Approval no longer valid: %(title)s", title=document.title),
                     details=[_l("See what changed since it was given on the sign-off page.")])
                told.append(user)
    return told


def adopted(document: Document, content_hash: str) -> list[User]:
    """Tell every member that the document is adopted, with the link to its certificate."""
    if _quiet.get():
        return []
    people = _members(document)
    with links():
        url = url_for("signoff.certificate_page", document_id=document.id)
        for user in people:
            tell(user, document, "signing",
                 _l("“%(title)s” is adopted: every participating cluster has signed.", title=document.title), url,
                 subject=_l("Adopted: %(title)s", title=document.title),
                 details=[_l("Content hash of the adopted text: %(hash)s", hash=content_hash),
                          _l("The certificate of adoption lists every approval.")])
    return people


def invitation_sent(invitation: Invitation, actor: User, link: str) -> OutboxMail | None:
    """Mail the invited person their one-time link (the admin still sees it when no mail server is set)."""
    if _quiet.get():
        return None
    document = db.session.get(Document, invitation.document_id)
    # The invited person may have no account yet, hence no language: the mail is in English (the
    # default language), its dates in UTC.
    with links(), for_user(None):
        message = _("%(actor)s (%(actor_organisation)s) invites you, %(name)s of %(organisation)s, to take part "
                    "in “%(title)s” as %(role)s.", actor=actor.name, actor_organisation=actor.organisation.name,
                    name=invitation.name, organisation=invitation.organisation.name, title=document.title,
                    role=ROLE_LABELS.get(invitation.role, invitation.role))
        details = [_("Open the link to set your password and join. It works once, until %(until)s.",
                     until=when(invitation.expires_at)),
                   _("If you did not expect this invitation, ignore this e-mail.")]
        subject = _("Invitation to “%(title)s” in drafting", title=document.title)
        return queue_mail(None, "invitation", subject, message,
                          document=document, url=link, to_email=invitation.email, details=details)


# ---- the admin's outbox -------------------------------------------------------------------------

def mail_server_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def outbox_counts() -> dict[str, int]:
    """How many mails are in each status."""
    rows = db.session.execute(select(OutboxMail.status, func.count(OutboxMail.id)).group_by(OutboxMail.status))
    counts = dict.fromkeys(MAIL_STATUSES, 0)
    counts.update({status: count for status, count in rows})
    return counts


def outbox_mails(status: str | None = None, limit: int = 200) -> list[OutboxMail]:
    """The newest mails of the outbox, of one status or all."""
    query = select(OutboxMail).order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc()).limit(limit)
    if status is not None:
        query = query.where(OutboxMail.status == status)
    return list(db.session.scalars(query))


def requeue(mail: OutboxMail, actor: User) -> OutboxMail:
    """Queue a failed or uncertain mail again (it may then arrive twice: the admin decides)."""
    if mail.status not in REQUEUEABLE:
        raise OutboxError(409, _("Only failed or uncertain mails can be queued again; this one is %(status)s.",
                                 status=mail.status))
    previous = mail.status
    mail.status, mail.attempts, mail.next_attempt_at = "queued", 0, utcnow()
    mail.claimed_by = mail.claimed_at = None
    db.session.flush()
    audit.record(actor, None, "mail.requeued", "outbox_mail", mail.id, previous=previous,
                 category=mail.category, document_id=mail.document_id)
    return mail
