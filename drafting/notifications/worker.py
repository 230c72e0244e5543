"""Deliver the outbox: claim due mails, send them by SMTP, retry with backoff; reminders and digests.

The outbox pattern (docs/architecture.md, "Notifications"): a mail row is written in the same
transaction as the change that causes it (outbox.py), and delivered here only once committed.
A round of the worker:

1. A row left "sending" longer than LEASE belongs to a worker that stopped mid-send: it becomes
   "uncertain" and is never sent again automatically (it may have left: never twice).
2. At most once a minute (every round with --once): reminders before deadlines and the daily
   digests are written as rows, in one transaction (one process at a time on PostgreSQL).
3. With MAIL_SERVER set, due "queued" rows are claimed (FOR UPDATE SKIP LOCKED on PostgreSQL, a
   conditional UPDATE on SQLite) and sent one by one, each marked "sent" in its own commit. A
   failure puts the row back with a backoff, until MAX_ATTEMPTS. Without MAIL_SERVER nothing is
   claimed: mails wait in the outbox, which the admin reads.

Served processes run rounds in a daemon thread (NOTIFICATIONS_WORKER=1, `start_in_background`);
`flask --app wsgi notifications work` runs them in a process of their own (cli.py).
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import threading
import time
from collections import defaultdict
from datetime import datetime, timedelta
from email.utils import formataddr

from flask import Flask, current_app, render_template_string, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_mailman import EmailMultiAlternatives
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db, mail
from ..i18n import for_user, language, when
from ..models import (
    Amendment,
    Clause,
    Comment,
    Contribution,
    Document,
    Membership,
    Notification,
    Thread,
    User,
)
from ..models.base import utcnow
from ..models.mail import OutboxMail
from . import outbox
from .operations import links

log = logging.getLogger(__name__)

BATCH = 10                          # rows claimed at once (sent within MAIL_TIMEOUT each, well inside LEASE)
LEASE = timedelta(minutes=10)       # longer "sending" than this: the worker died mid-send
MAX_ATTEMPTS = 8
BACKOFF_FIRST = 30                  # seconds before the first retry; doubles each time
BACKOFF_MAX = 3600
ROUND_SECONDS = 2.0                 # how often a served process's worker looks for due mail
SCHEDULE_SECONDS = 60.0             # how often it computes reminders and digests
REMINDER_HOURS = (72, 24)
# PostgreSQL advisory lock held while one process writes reminders and digests.
SCHEDULE_LOCK = 0x64726166


# ---- delivery -----------------------------------------------------------------------------------

def worker_id() -> str:
    """Who claims a row: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[-80:]


def backoff(attempts: int) -> timedelta:
    """How long to wait before the next try after `attempts` failed ones: 30 s, 1 min, 2 min ... 1 h."""
    return timedelta(seconds=min(BACKOFF_FIRST * 2 ** max(attempts - 1, 0), BACKOFF_MAX))


def expire_stale(now: datetime | None = None) -> int:
    """Mark rows left "sending" past the lease as "uncertain"; return how many."""
    cutoff = (now or utcnow()) - LEASE
    stale = select(OutboxMail.id).where(OutboxMail.status == "sending", OutboxMail.claimed_at < cutoff)
    if db.session.scalar(stale.limit(1)) is None:  # read first: an idle round writes nothing
        db.session.rollback()
        return 0
    result = db.session.execute(
        update(OutboxMail).where(OutboxMail.status == "sending", OutboxMail.claimed_at < cutoff)
        .values(status="uncertain", last_error="The worker stopped while sending it: it may or may not "
                                               "have left. Not sent again automatically.")
        .execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount:
        log.warning("outbox: %d mail(s) left sending past the lease are now uncertain", result.rowcount)
    return result.rowcount


def _due(now: datetime):
    return (OutboxMail.status == "queued", OutboxMail.next_attempt_at <= now)


def claim(limit: int = BATCH, now: datetime | None = None, claimer: str | None = None) -> list[int]:
    """Claim up to `limit` due queued rows for this worker (status "sending"); return their ids.

    PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED, so concurrent workers take disjoint rows.
    SQLite: a conditional UPDATE per row (still "queued"), which one writer at a time makes.
    """
    now, claimer = now or utcnow(), claimer or worker_id()
    if db.engine.dialect.name == "postgresql":
        rows = list(db.session.scalars(select(OutboxMail).where(*_due(now)).order_by(OutboxMail.id)
                                       .limit(limit).with_for_update(skip_locked=True)))
        for row in rows:
            row.status, row.claimed_by, row.claimed_at = "sending", claimer, now
        db.session.commit()
        return [row.id for row in rows]
    candidates = list(db.session.scalars(select(OutboxMail.id).where(*_due(now)).order_by(OutboxMail.id)
                                         .limit(limit)))
    claimed = []
    for mail_id in candidates:
        result = db.session.execute(
            update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.status == "queued")
            .values(status="sending", claimed_by=claimer, claimed_at=now)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            claimed.append(mail_id)
    db.session.commit()
    return claimed


def message_for(row: OutboxMail, connection=None) -> EmailMultiAlternatives:
    """The e-mail of an outbox row: its text, its HTML alternative and its headers."""
    headers = {"Auto-Submitted": "auto-generated"}
    if row.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{row.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    to = formataddr((row.user.name, row.to_email)) if row.user is not None else row.to_email
    message = EmailMultiAlternatives(row.subject, row.text_body, current_app.config["MAIL_DEFAULT_SENDER"],
                                     [to], headers=headers, connection=connection)
    message.attach_alternative(row.html_body, "text/html")
    return message


def smtp_connection():
    """A Flask-Mailman connection to MAIL_SERVER, from the settings as they are now."""
    config = current_app.config
    return mail.get_connection(backend=config.get("MAIL_BACKEND") or "smtp", host=config["MAIL_SERVER"],
                               port=config["MAIL_PORT"], username=config.get("MAIL_USERNAME"),
                               password=config.get("MAIL_PASSWORD"), use_tls=config.get("MAIL_USE_TLS"),
                               use_ssl=config.get("MAIL_USE_SSL"), timeout=config.get("MAIL_TIMEOUT"))


def _permanent(error: Exception) -> bool:
    """A refusal that trying again will not change (5xx: no such mailbox, rejected)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def _finish(mail_id: int, claimer: str, **values) -> None:
    """Record the outcome of a claimed row in its own commit (only while it is still ours)."""
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id, OutboxMail.status == "sending",
                                                OutboxMail.claimed_by == claimer)
                       .values(**values).execution_options(synchronize_session=False))
    db.session.commit()


def _close(connection) -> None:
    try:
        connection.close()
    except (smtplib.SMTPException, OSError):
        pass


def send_claimed(ids: list[int], claimer: str) -> dict[str, int]:
    """Send claimed rows one by one; mark each sent, back in the queue with a backoff, or failed."""
    counts: dict[str, int] = defaultdict(int)
    connection = None
    pending = list(ids)
    try:
        while pending:
            mail_id = pending.pop(0)
            row = db.session.get(OutboxMail, mail_id, populate_existing=True)
            if row is None or row.status != "sending" or row.claimed_by != claimer:
                db.session.rollback()
                continue  # no longer ours (past the lease: uncertain)
            if row.user is not None and not row.user.is_active:
                _finish(mail_id, claimer, status="failed", last_error="Not sent: the person was deactivated.")
                counts["skipped"] += 1
                continue
            attempts, row_to = row.attempts + 1, row.to_email
            message = message_for(row)
            db.session.rollback()  # no transaction stays open while the SMTP server answers
            try:
                if connection is None:
                    connection = smtp_connection()
                    connection.open()
                message.connection = connection
                if not message.send():
                    raise smtplib.SMTPRecipientsRefused({row_to: (550, b"No recipient")})
            except (smtplib.SMTPException, OSError) as error:
                if connection is not None:
                    _close(connection)
                    connection = None  # the next mail opens a fresh one
                reason = f"{error.__class__.__name__}: {error}"[:2000]
                if attempts >= MAX_ATTEMPTS or _permanent(error):
                    _finish(mail_id, claimer, status="failed", attempts=attempts, last_error=reason)
                    counts["failed"] += 1
                    log.warning("outbox: mail %s failed after %d attempt(s): %s", mail_id, attempts, reason)
                else:
                    _finish(mail_id, claimer, status="queued", attempts=attempts, last_error=reason,
                            next_attempt_at=utcnow() + backoff(attempts), claimed_by=None, claimed_at=None)
                    counts["retry"] += 1
                continue
            except Exception as error:  # noqa: BLE001 - a mail that cannot be built (bad header, address)
                _finish(mail_id, claimer, status="failed", attempts=attempts,
                        last_error=f"Not sent: {error.__class__.__name__}: {error}"[:2000])
                counts["failed"] += 1
                continue
            _finish(mail_id, claimer, status="sent", attempts=attempts, sent_at=utcnow(), last_error=None)
            counts["sent"] += 1
    finally:
        if connection is not None:
            _close(connection)
        if pending:  # stopped by an error (the database?): give back what was not tried, if we can
            db.session.rollback()
            db.session.execute(update(OutboxMail).where(OutboxMail.id.in_(pending), OutboxMail.status == "sending",
                                                        OutboxMail.claimed_by == claimer)
                               .values(status="queued", claimed_by=None, claimed_at=None)
                               .execution_options(synchronize_session=False))
            db.session.commit()
    return counts


def deliver_due(limit: int | None = None, now: datetime | None = None) -> dict[str, int]:
    """Claim and send due mail until none is left (or `limit` rows); nothing without MAIL_SERVER."""
    counts: dict[str, int] = defaultdict(int)
    if not current_app.config.get("MAIL_SERVER"):
        return counts
    claimer = worker_id()
    while limit is None or counts["claimed"] < limit:
        ids = claim(BATCH if limit is None else min(BATCH, limit - counts["claimed"]), now, claimer)
        if not ids:
            break
        counts["claimed"] += len(ids)
        for key, value in send_claimed(ids, claimer).items():
            counts[key] += value
    return counts


# ---- reminders before deadlines ----------------------------------------------------------------

def _participants_who_took_part(document: Document, kind: str) -> set[int]:
    """Organisations that contributed (and, for the consultation, commented or proposed amendments)."""
    done = set(db.session.scalars(select(Contribution.organisation_id).where(
        Contribution.document_id == document.id, Contribution.withdrawn_at.is_(None))))
    if kind == "consultation":
        done |= set(db.session.scalars(
            select(func.coalesce(Comment.organisation_id, User.organisation_id))
            .join(Thread, Comment.thread_id == Thread.id).join(Clause, Thread.clause_id == Clause.id)
            .join(User, Comment.author_id == User.id)
            .where(Clause.document_id == document.id, Comment.deleted_at.is_(None), Thread.status != "deleted")))
        done |= set(db.session.scalars(
            select(func.coalesce(Amendment.organisation_id, User.organisation_id))
            .join(Clause, Amendment.clause_id == Clause.id).join(User, Amendment.author_id == User.id)
            .where(Clause.document_id == document.id, Amendment.status != "withdrawn")))
    return done


def reminder_recipients(document: Document, kind: str) -> list[User]:
    """Active members of the document from participating clusters that have not yet taken part."""
    waiting = {o.id for o in document.participants} - _participants_who_took_part(document, kind)
    members = db.session.scalars(select(Membership).where(Membership.document_id == document.id)
                                 .order_by(Membership.user_id))
    return [m.user for m in members if m.user.is_active and m.user.organisation_id in waiting]


def _reminder_message(document: Document, kind: str, deadline: datetime, hours: int, user: User) -> str:
    """The reminder in the person's language, the deadline in their time zone."""
    with for_user(user):
        values = {"title": document.title, "deadline": when(deadline), "cluster": user.organisation.name}
        if kind == "consultation":
            return ngettext("Reminder: the consultation on “%(title)s” closes in less than %(num)s hour "
                            "(%(deadline)s), and %(cluster)s has not yet commented, proposed an amendment or "
                            "contributed.",
                            "Reminder: the consultation on “%(title)s” closes in less than %(num)s hours "
                            "(%(deadline)s), and %(cluster)s has not yet commented, proposed an amendment or "
                            "contributed.", hours, **values)
        return ngettext("Reminder: contributions to “%(title)s” close in less than %(num)s hour (%(deadline)s), "
                        "and %(cluster)s has not yet contributed.",
                        "Reminder: contributions to “%(title)s” close in less than %(num)s hours (%(deadline)s), "
                        "and %(cluster)s has not yet contributed.", hours, **values)


def reminder_key(document: Document, deadline: datetime, kind: str, hours: int, user: User) -> str:
    """Once per document, deadline, kind, window and person: a deadline moved gives new reminders."""
    return f"reminder:{document.id}:{deadline.isoformat(timespec='seconds')}:{kind}:{hours}:{user.id}"


def _outbox_rows_in_session() -> set[OutboxMail]:
    return {o for o in (*db.session.new, *db.session.identity_map.values()) if isinstance(o, OutboxMail)}


def _reminder_subject(document: Document, kind: str, user: User) -> str:
    """The reminder's subject in the person's language: what closes, and the document's title."""
    with for_user(user):
        if kind == "consultation":
            return _("Reminder, the consultation closes soon: %(title)s", title=document.title)
        return _("Reminder, contributions close soon: %(title)s", title=document.title)


def _remind(user: User, document: Document, message: str, subject: str, url: str, key: str) -> bool:
    """Notify once (in-app and by mail, as the person chose); the mail row carries the key."""
    if db.session.scalar(select(OutboxMail.id).where(OutboxMail.dedupe_key == key)) is not None:
        return False
    # Someone who chose "off" has no mail row to carry the key: their in-app entry says it was done.
    if db.session.scalar(select(Notification.id).where(
            Notification.user_id == user.id, Notification.document_id == document.id,
            Notification.message == message).limit(1)) is not None:
        return False
    before = _outbox_rows_in_session()
    outbox.notify(user, document, "consultation", message, url, subject=subject)
    for row in _outbox_rows_in_session() - before:
        if row.user_id == user.id and row.dedupe_key is None:
            row.dedupe_key = key
    return True


def queue_reminders(now: datetime | None = None) -> int:
    """Write the reminders due 72 and 24 hours before each open deadline; return how many."""
    now = now or utcnow()
    horizon = now + timedelta(hours=max(REMINDER_HOURS))
    due: list[tuple[Document, str, datetime]] = []
    for document in db.session.scalars(select(Document).where(
            Document.phase == "consultation", Document.deadline > now, Document.deadline <= horizon)
            .order_by(Document.id)):
        due.append((document, "consultation", document.deadline))
    for document in db.session.scalars(select(Document).where(
            Document.phase.in_(("drafting", "consultation")), Document.contributions_deadline > now,
            Document.contributions_deadline <= horizon).order_by(Document.id)):
        due.append((document, "contributions", document.contributions_deadline))
    written = 0
    for document, kind, deadline in due:
        # Only the nearest window: a deadline set 20 hours away gives the 24-hour reminder alone.
        hours = min(h for h in REMINDER_HOURS if deadline - now <= timedelta(hours=h))
        if kind == "consultation":
            url = url_for("documents.page", document_id=document.id)
        else:
            url = url_for("consultation.contributions", document_id=document.id)
        for user in reminder_recipients(document, kind):
            message = _reminder_message(document, kind, deadline, hours, user)
            written += _remind(user, document, message, _reminder_subject(document, kind, user), url,
                               reminder_key(document, deadline, kind, hours, user))
    db.session.flush()
    return written


# ---- the daily digest ---------------------------------------------------------------------------

# Its words come from `digest_words` (in the recipient's language), so that the catalogues have them.
DIGEST_HTML = """<!doctype html>
<html lang="{{ words.lang }}"><head><meta charset="utf-8"><title>{{ words.title }}</title></head>
<body style="font-family: system-ui, sans-serif; color: #1d2433; max-width: 40rem;">
<p style="font-size: 1.05rem;">{{ intro }}</p>
<ol>
{% for item in items %}<li style="margin-bottom: .5rem;">{{ item.subject }}{% if item.url %}<br>
<a href="{{ item.url }}" style="color: #1f5f8b;">{{ words.open }}</a>{% endif %}</li>
{% endfor %}</ol>
<hr style="border: 0; border-top: 1px solid #d9dde5;">
<p style="color: #5b6475; font-size: .85rem;">{{ words.sent_to }}
{% if unsubscribe %}<a href="{{ unsubscribe }}">{{ words.stop }}</a> ·{% endif %}
<a href="{{ preferences }}">{{ words.choose }}</a></p>
</body></html>
"""


def digest_words(user: User) -> dict[str, str]:
    """The digest's own words, in the language of the context (see gather_digests: the recipient's)."""
    return {"lang": language(), "title": _("Your daily digest"), "open": _("Open it in drafting"),
            "sent_to": _("Sent to %(name)s (%(organisation)s) by drafting.", name=user.name,
                         organisation=user.organisation.name),
            "stop": _("Stop these e-mails"), "choose": _("Choose what you receive")}


def digest_key(user_id: int, day: datetime) -> str:
    return f"digest:{user_id}:{day.date().isoformat()}"


def _digest_text(user: User, intro: str, items: list[OutboxMail], unsubscribe: str | None, preferences: str) -> str:
    lines = [intro, ""]
    for number, item in enumerate(items, 1):
        lines.append(f"{number}. {item.subject}")
        if item.url:
            lines.append(f"   {item.url}")
        lines.append("")
    lines += ["--", _("Sent to %(name)s (%(organisation)s) by drafting.", name=user.name,
                      organisation=user.organisation.name)]
    if unsubscribe:
        lines.append(_("Stop these e-mails: %(link)s", link=unsubscribe))
    lines.append(_("Choose what you receive: %(link)s", link=preferences))
    return "\n".join(lines) + "\n"


def gather_digests(now: datetime | None = None) -> int:
    """Gather each person's held rows into one digest mail a day, from MAIL_DIGEST_HOUR (UTC).

    The parts become "digested" and point at the digest, which is queued as usual (never capped).
    Held rows of deactivated people are marked failed: they get nothing. Returns digests written.
    """
    now = now or utcnow()
    if now.hour < current_app.config.get("MAIL_DIGEST_HOUR", 7):
        return 0
    held = list(db.session.scalars(select(OutboxMail).where(OutboxMail.status == "held",
                                                            OutboxMail.created_at <= now)
                                   .order_by(OutboxMail.user_id, OutboxMail.id)))
    by_user: dict[int | None, list[OutboxMail]] = defaultdict(list)
    for row in held:
        by_user[row.user_id].append(row)
    written = 0
    for items in by_user.values():
        user = items[0].user
        if user is None or not user.is_active:
            for row in items:
                row.status, row.last_error = "failed", "Not sent: the person was deactivated."
            continue
        key = digest_key(user.id, now)
        if db.session.scalar(select(OutboxMail.id).where(OutboxMail.dedupe_key == key)) is not None:
            continue  # today's digest went out already; these wait for tomorrow's
        # One-click unsubscribe (List-Unsubscribe) stops the categories the digest holds.
        categories = {row.category for row in items if row.category in outbox.CATEGORIES
                      and outbox.CATEGORIES[row.category].optional}
        unsubscribe = outbox.unsubscribe_url(user, categories) if categories else None
        preferences = outbox.public_url(url_for("notifications.preferences"))
        with for_user(user):  # in the recipient's language and time zone
            intro = ngettext("Your daily digest from drafting: %(num)s notification since the last one.",
                             "Your daily digest from drafting: %(num)s notifications since the last one.", len(items))
            subject = ngettext("drafting: your daily digest (%(num)s notification)",
                               "drafting: your daily digest (%(num)s notifications)", len(items))
            text_body = _digest_text(user, intro, items, unsubscribe, preferences)
            html_body = render_template_string(DIGEST_HTML, user=user, intro=intro, items=items,
                                               unsubscribe=unsubscribe, preferences=preferences,
                                               words=digest_words(user))
        digest = OutboxMail(user_id=user.id, to_email=user.email, category="digest", document_id=None,
                            subject=subject, text_body=text_body, html_body=html_body,
                            url=None, unsubscribe_url=unsubscribe, dedupe_key=key, status="queued",
                            next_attempt_at=now, created_at=now)
        db.session.add(digest)
        db.session.flush()
        for row in items:
            row.status, row.digest_id = "digested", digest.id
        written += 1
    db.session.flush()
    return written


def schedule(now: datetime | None = None) -> dict[str, int]:
    """Write due reminders and digests in one transaction (one process at a time on PostgreSQL)."""
    with links():  # the mails' links are built with url_for, on the public address
        try:
            if db.engine.dialect.name == "postgresql" and not db.session.scalar(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SCHEDULE_LOCK}):
                db.session.rollback()
                return {"reminders": 0, "digests": 0}  # another process is at it
            counts = {"reminders": queue_reminders(now), "digests": gather_digests(now)}
            db.session.commit()
            return counts
        except IntegrityError:
            # Another worker wrote the same reminder or digest first (dedupe_key is unique).
            db.session.rollback()
            return {"reminders": 0, "digests": 0}
        except Exception:
            db.session.rollback()
            raise


# ---- rounds and the background thread -----------------------------------------------------------

def run_round(app: Flask, *, scheduled: bool = True, now: datetime | None = None) -> dict[str, int]:
    """One round in its own app context and session: stale leases, reminders and digests, delivery."""
    with app.app_context():
        try:
            counts: dict[str, int] = {"uncertain": expire_stale(now)}
            if scheduled:
                counts.update(schedule(now))
            counts.update(deliver_due(now=now))
            return counts
        finally:
            db.session.remove()


def status_counts() -> dict[str, int]:
    """How many outbox rows are in each status."""
    return dict(db.session.execute(select(OutboxMail.status, func.count(OutboxMail.id))
                                   .group_by(OutboxMail.status)).all())


class Worker:
    """Run rounds every `interval` seconds until stopped; reminders and digests once a minute."""

    def __init__(self, app: Flask, interval: float = ROUND_SECONDS, schedule_every: float = SCHEDULE_SECONDS):
        self.app, self.interval, self.schedule_every = app, interval, schedule_every
        self.stopping = threading.Event()
        self._last_schedule = float("-inf")

    def round(self) -> dict[str, int]:
        scheduled = time.monotonic() - self._last_schedule >= self.schedule_every
        if scheduled:
            self._last_schedule = time.monotonic()
        return run_round(self.app, scheduled=scheduled)

    def run(self) -> None:
        """Loop until stop(); a failing round is logged and the next one tried (never crashes)."""
        while not self.stopping.is_set():
            try:
                self.round()
            except Exception:  # noqa: BLE001 - the worker must outlive a bad round (database down...)
                self.app.logger.exception("notifications worker: the round failed; trying again")
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        self.stopping.set()


_started: dict[int, threading.Thread] = {}
_starting = threading.Lock()


def start_in_background(app: Flask) -> threading.Thread:
    """Start this process's delivery thread once (a forked process starts its own)."""
    pid = os.getpid()
    thread = _started.get(pid)
    if thread is not None:
        return thread
    with _starting:
        if pid not in _started:
            worker = Worker(app)
            thread = threading.Thread(target=worker.run, name="notifications-worker", daemon=True)
            thread.worker = worker  # type: ignore[attr-defined]
            thread.start()
            _started[pid] = thread
        return _started[pid]
