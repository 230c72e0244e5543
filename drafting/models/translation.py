"""Clause-aligned translations of a document's text, each pinned to the source version it translates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow


class ClauseTranslation(db.Model):
    """A clause's text (and heading) in one language other than the document's authentic one.

    `source_version` is the clause version it translates; once the clause has a later version the
    translation is stale until someone updates it (or confirms it) against the new version.
    `version` counts the translation's own saves (compare-and-swap, like a clause's).
    """

    __table_args__ = (UniqueConstraint("clause_id", "lang"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"), index=True)
    lang: Mapped[str] = mapped_column(String(10))
    heading: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    source_version: Mapped[int]
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    clause: Mapped[Clause] = relationship()  # noqa: F821
    updated_by: Mapped[User | None] = relationship()  # noqa: F821
    revisions: Mapped[list[TranslationRevision]] = relationship(
        back_populates="translation", order_by="TranslationRevision.version")


class TranslationRevision(db.Model):
    """One saved state of a translation; never changed once written."""

    __table_args__ = (UniqueConstraint("translation_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    translation_id: Mapped[int] = mapped_column(ForeignKey("clause_translation.id", ondelete="CASCADE"))
    version: Mapped[int]
    heading: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    source_version: Mapped[int]
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    translation: Mapped[ClauseTranslation] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship(lazy="joined")  # noqa: F821
