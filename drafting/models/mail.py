"""E-mail: the outbox of messages to deliver, and each person's choices per category."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow

# What a mail row is doing. queued: to send (at next_attempt_at); sending: claimed by a worker;
# sent; failed: gave up after retries; held: waits for the person's daily digest (their choice,
# or the hourly cap); digested: went out inside a digest; uncertain: a worker stopped while
# sending it, so it may or may not have left (never sent again automatically: never twice).
MAIL_STATUSES = ("queued", "sending", "sent", "failed", "held", "digested", "uncertain")


class OutboxMail(db.Model):
    """One e-mail, written in the same transaction as the change that causes it, delivered after
    commit by a worker (drafting/notifications/worker.py). Rendered when queued: self-contained."""

    __tablename__ = "outbox_mail"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbox_mail_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_mail_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    to_email: Mapped[str] = mapped_column(String(254))
    category: Mapped[str] = mapped_column(String(20))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(1000))          # the exact page or clause
    unsubscribe_url: Mapped[str | None] = mapped_column(String(1000))
    # Makes a mail idempotent (reminders: document, deadline, kind and person): a second insert
    # with the same key is refused by the database.
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_mail.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])  # noqa: F821


class NotificationPreference(db.Model):
    """How a person wants one category of mail: immediately, in a daily digest, or not at all."""

    __table_args__ = (UniqueConstraint("user_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(10))      # immediate | digest | off
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
