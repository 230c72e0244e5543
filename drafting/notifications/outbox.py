"""Queue notifications: the in-app entry and the e-mail, in the caller's transaction.

Nothing is sent here. A mail row is written beside the change that causes it, so a change that
rolls back leaves no mail; the worker (worker.py) delivers committed rows. What a person chose
for the category decides the row's status: queued (immediately), held (for the daily digest) or
no row at all (off). Deactivated people get nothing. Past MAIL_HOURLY_CAP immediate mails in an
hour, further ones are held for the digest, so a storm of events cannot flood anyone's inbox.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, render_template, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select

from ..extensions import db
from ..i18n import _l, for_user
from ..models import Document, Notification, User
from ..models.base import utcnow
from ..models.mail import NotificationPreference, OutboxMail


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    description: str
    optional: bool = True           # invitations are not: the link is the point of the mail


CATEGORIES: dict[str, Category] = {c.key: c for c in (
    Category("invitation", _l("Invitations"), _l("An invitation to a document, with its one-time link."),
             optional=False),
    Category("consultation", _l("Consultation"), _l("A consultation opens, and reminders 72 and 24 hours before "
             "its deadline and the deadline for contributions while your cluster has not contributed.")),
    Category("discussion", _l("Discussions"),
             _l("A reply in a discussion you started or took part in, and mentions of you.")),
    Category("amendments", _l("Your amendments"), _l("An amendment you proposed is accepted or rejected.")),
    Category("signing", _l("Signing"), _l("The signing opens (with the content hash), your cluster's approval is "
             "invalidated, and the document is adopted.")),
)}
MODES = ("immediate", "digest", "off")
MODE_LABELS = {"immediate": _l("Immediately"), "digest": _l("Daily digest"), "off": _l("Off")}
HOUR = timedelta(hours=1)


def public_base() -> str:
    """The address every link passed on (mails, reminders, digests, invitations) is built on.

    PUBLIC_URL, else DEFAULT_PUBLIC_URL: never the request's Host header, which whoever sends the
    request chooses (a forged one would put their site, with our tokens, into people's mail).
    """
    config = current_app.config
    return (config.get("PUBLIC_URL") or config["DEFAULT_PUBLIC_URL"]).rstrip("/")


def public_url(path: str) -> str:
    """An absolute link on the public address for a path of the app (as url_for gives it)."""
    base = public_base()
    prefix = urlsplit(base).path  # served under a prefix: url_for's paths may carry it already
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        path = path[len(prefix):]
    return base + path


def mode_of(user: User, category: str) -> str:
    """The person's choice for a category (default: immediately)."""
    if not CATEGORIES[category].optional:
        return "immediate"
    chosen = db.session.scalar(select(NotificationPreference.mode).where(
        NotificationPreference.user_id == user.id, NotificationPreference.category == category))
    return chosen or "immediate"


def set_mode(user: User, category: str, mode: str) -> None:
    """Record the person's choice for a category."""
    if category not in CATEGORIES or not CATEGORIES[category].optional:
        raise ValueError(f"Unknown or fixed category: {category}")
    if mode not in MODES:
        raise ValueError(f"Unknown mode: {mode}")
    row = db.session.scalar(select(NotificationPreference).where(
        NotificationPreference.user_id == user.id, NotificationPreference.category == category))
    if row is None:
        row = NotificationPreference(user_id=user.id, category=category, mode=mode)
        db.session.add(row)
    row.mode, row.updated_at = mode, utcnow()
    db.session.flush()


# ---- one-click unsubscribe ---------------------------------------------------------------------

def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="drafting-unsubscribe")


def unsubscribe_token(user: User, category: str | Iterable[str]) -> str:
    """A signed token stopping one category of mail, or several (a digest's: those it holds)."""
    if not isinstance(category, str):
        keys = sorted(set(category))
        category = keys[0] if len(keys) == 1 else keys
    return _serializer().dumps([user.id, category])


def read_unsubscribe_token(token: str) -> tuple[int, list[str]] | None:
    """Return (user id, categories) from a signed token, or None when it is not one of ours."""
    try:
        user_id, categories = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if isinstance(categories, str):
        categories = [categories]
    if (not isinstance(user_id, int) or not isinstance(categories, list) or not categories
            or not all(isinstance(c, str) and c in CATEGORIES for c in categories)):
        return None
    return user_id, categories


def unsubscribe_url(user: User, category: str | Iterable[str]) -> str:
    """The one-click unsubscribe link of a mail (List-Unsubscribe), on the public address."""
    return public_url(url_for("notifications.unsubscribe", token=unsubscribe_token(user, category)))


# ---- queueing -----------------------------------------------------------------------------------

def _immediate_in_last_hour(user: User) -> int:
    return db.session.scalar(select(func.count(OutboxMail.id)).where(
        OutboxMail.user_id == user.id, OutboxMail.created_at > utcnow() - HOUR,
        OutboxMail.status.in_(("queued", "sending", "sent", "failed", "uncertain")))) or 0


def queue_mail(user: User | None, category: str, subject: str, message: str, *, document: Document | None = None,
               url: str | None = None, to_email: str | None = None, dedupe_key: str | None = None,
               details: list[str] | None = None) -> OutboxMail | None:
    """Write one e-mail to the outbox (not sent: the worker sends committed rows).

    `message` is the sentence saying what happened; `details` more lines (a reason, a hash);
    `url` a path or absolute URL of the exact page or clause. Returns None when the person chose
    "off", is deactivated, or a mail with the same `dedupe_key` exists.
    """
    if category not in CATEGORIES:
        raise ValueError(f"Unknown category: {category}")
    if user is not None and (not user.is_active):
        return None
    mode = mode_of(user, category) if user is not None else "immediate"
    if mode == "off":
        return None
    if dedupe_key and db.session.scalar(select(OutboxMail.id).where(OutboxMail.dedupe_key == dedupe_key)):
        return None
    status = "held" if mode == "digest" else "queued"
    if status == "queued" and user is not None and _immediate_in_last_hour(user) >= current_app.config["MAIL_HOURLY_CAP"]:
        status = "held"  # the storm goes into the digest
    link = public_url(url) if url and url.startswith("/") else url
    unsubscribe = unsubscribe_url(user, category) if user is not None and CATEGORIES[category].optional else None
    # In the recipient's language and time zone (someone invited without an account: English, UTC).
    with for_user(user):
        subject = subject_line(str(subject))
        context = {"user": user, "document": document, "message": str(message),
                   "details": [str(line) for line in details or []], "link": link, "unsubscribe": unsubscribe,
                   "category": CATEGORIES[category], "preferences": public_url(url_for("notifications.preferences"))}
        text_body = render_template("mail/notification.txt", **context)
        html_body = render_template("mail/notification.html", **context)
    mail = OutboxMail(user_id=user.id if user else None, to_email=to_email or user.email, category=category,
                      document_id=document.id if document else None, subject=subject,
                      text_body=text_body, html_body=html_body,
                      url=link, unsubscribe_url=unsubscribe, dedupe_key=dedupe_key, status=status,
                      next_attempt_at=utcnow(), created_at=utcnow())
    db.session.add(mail)
    return mail


EXCERPT_CHARS = 280
SUBJECT_CHARS = 150


def subject_line(text: str) -> str:
    """A mail's subject: one line of at most SUBJECT_CHARS, a longer one cut between words."""
    text = " ".join(text.split())
    if len(text) <= SUBJECT_CHARS:
        return text
    return text[:SUBJECT_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ,;:–-") + "…"


def excerpt_of(text: str | None) -> str | None:
    """The first words of a text, for a notification's excerpt."""
    text = " ".join((text or "").split())
    if len(text) <= EXCERPT_CHARS:
        return text or None
    return text[:EXCERPT_CHARS].rsplit(" ", 1)[0] + "…"


def notify(user: User, document: Document | None, category: str, message: str, url: str | None,
           subject: str | None = None, details: list[str] | None = None, excerpt: str | None = None) -> Notification:
    """Tell a person: an entry in their in-app list, and an e-mail as they chose for the category.

    `excerpt` (plain text: a comment, a reason) is shown under the message in the list and quoted
    in the mail."""
    excerpt = excerpt_of(excerpt)
    with for_user(user):  # the recipient's language and time zone
        message = str(message)
        if excerpt:
            details = [_("“%(excerpt)s”", excerpt=excerpt), *(details or [])]
        if not subject:
            subject = message  # it names the document already (queue_mail shortens it)
        notification = Notification(user_id=user.id, document_id=document.id if document else None,
                                    message=message, excerpt=excerpt, url=url, created_at=utcnow())
        db.session.add(notification)
        queue_mail(user, category, str(subject), message, document=document, url=url, details=details)
    return notification
