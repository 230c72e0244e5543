"""Comment threads, amendments, contributions and notifications."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..i18n import _l
from .base import utcnow

TOPICS = ("research", "patient_care", "digital_solutions", "fast_track")
DISPOSITIONS = ("accepted", "partly_accepted", "not_accepted", "noted")
DISPOSITION_LABELS = {"accepted": _l("Accepted"), "partly_accepted": _l("Partly accepted"),
                      "not_accepted": _l("Not accepted"), "noted": _l("Noted"), "clause_deleted": _l("Clause deleted")}

contribution_clauses = Table(
    "contribution_clause",
    db.metadata,
    Column("contribution_id", ForeignKey("contribution.id", ondelete="CASCADE"), primary_key=True),
    Column("clause_id", ForeignKey("clause.id", ondelete="CASCADE"), primary_key=True),
)


class Thread(db.Model):
    """A discussion on a clause, optionally about a quoted passage."""

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    quote: Mapped[str | None] = mapped_column(Text)
    clause_version: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="open")
    # How it was closed: accepted, partly_accepted, not_accepted, noted or clause_deleted; and why.
    disposition: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id])  # noqa: F821
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])  # noqa: F821
    clause: Mapped[Clause] = relationship()  # noqa: F821
    comments: Mapped[list[Comment]] = relationship(back_populates="thread", order_by="Comment.id")


class Comment(db.Model):
    """One message in a thread; the body is sanitised HTML."""

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    thread: Mapped[Thread] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()  # noqa: F821
    organisation: Mapped[Organisation | None] = relationship()  # noqa: F821


class Amendment(db.Model):
    """New text for a clause proposed by a participant, with a rationale."""

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    base_version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="open")
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None]
    # What the editor accepted (the proposed text, or their edit of it: "accepted with changes")
    # and the clause version that acceptance became.
    accepted_text: Mapped[str | None] = mapped_column(Text)
    accepted_version: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id])  # noqa: F821
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])  # noqa: F821
    organisation: Mapped[Organisation | None] = relationship()  # noqa: F821
    clause: Mapped[Clause] = relationship()  # noqa: F821


class Contribution(db.Model):
    """A best-practice example or a bottleneck submitted by a cluster."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(20))  # best_practice | bottleneck
    topic: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    proposal: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]
    # Withdrawn by its author before the deadline: kept on record, no longer counted or listed.
    withdrawn_at: Mapped[datetime | None]

    organisation: Mapped[Organisation] = relationship()  # noqa: F821
    author: Mapped[User] = relationship()  # noqa: F821
    clauses: Mapped[list[Clause]] = relationship(secondary=contribution_clauses)  # noqa: F821


class Notification(db.Model):
    """Something a user should look at, shown in their in-app list."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text)
    # A short quote of what it is about (the comment, the reason), shown under the message.
    excerpt: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
