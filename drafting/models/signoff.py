"""Approvals of the final text by each participating organisation, and failed password re-entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import iso, utcnow


class Approval(db.Model):
    """A signatory's approval of the exact text identified by its content hash."""

    # One valid approval per organisation and document, enforced by the database itself:
    # two signatories of one cluster signing at the same moment cannot both be recorded.
    __table_args__ = (
        Index("uq_approval_valid_organisation", "document_id", "organisation_id", unique=True,
              sqlite_where=text("valid"), postgresql_where=text("valid")),
    )

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

    def to_json(self) -> dict:
        return {"id": self.id, "organisation": self.organisation.name,
                "country": self.organisation.country, "signatory": self.signatory.name,
                "content_hash": self.content_hash, "signed_at": iso(self.signed_at), "valid": self.valid,
                "invalidated_at": iso(self.invalidated_at), "invalidated_reason": self.invalidated_reason}


class PasswordFailure(db.Model):
    """A wrong password given when signing; recent ones rate-limit further attempts (all processes)."""

    __table_args__ = (Index("ix_password_failure_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
