"""Approvals of the final text by each participating organisation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow


class Approval(db.Model):
    """A signatory's approval of the exact text identified by its content hash."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    signatory_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid: Mapped[bool] = mapped_column(default=True)
    invalidated_at: Mapped[datetime | None]
    invalidated_reason: Mapped[str | None] = mapped_column(Text)

    organisation: Mapped[Organisation] = relationship(lazy="joined")  # noqa: F821
    signatory: Mapped[User] = relationship(lazy="joined")  # noqa: F821
