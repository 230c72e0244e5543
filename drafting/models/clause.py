"""Clauses and their append-only revisions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy import text as sql
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import iso, utcnow

ORIGINS = ("edit", "merge", "amendment", "restore", "import")


class Clause(db.Model):
    """A numbered part of a document; its text is plain Unicode, escaped on the way out."""

    # Live clauses have unique positions in their document; deleted ones keep their last place.
    __table_args__ = (Index("ix_clause_document_position", "document_id", "position"),
                      Index("uq_clause_live_position", "document_id", "position", unique=True,
                            sqlite_where=sql("deleted_at IS NULL"), postgresql_where=sql("deleted_at IS NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    position: Mapped[int]
    heading: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    # What the clause is (text.numbering.KINDS); it decides its number. Versioned with the text.
    kind: Mapped[str] = mapped_column(String(20), default="article", server_default="article")
    # An action's structured fields (responsible, start, end, funding, indicators); None otherwise.
    action: Mapped[dict | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Deleted clauses are kept (soft delete) so history, snapshots and audit still resolve.
    deleted_at: Mapped[datetime | None]

    document: Mapped[Document] = relationship(back_populates="clauses")  # noqa: F821
    revisions: Mapped[list[ClauseRevision]] = relationship(
        back_populates="clause", order_by="ClauseRevision.version")
    updated_by: Mapped[User | None] = relationship()  # noqa: F821

    @property
    def number(self) -> int | None:
        """The clause's number in its document, None once deleted. Every operation that adds,
        deletes or moves a clause renumbers the live clauses 1..n, so the position is the number."""
        return None if self.deleted_at else self.position

    def to_json(self, number: int | None = None, label: str | None = None) -> dict:
        data = {"id": self.id, "number": number, "label": label, "kind": self.kind, "heading": self.heading,
                "text": self.text, "version": self.version}
        if self.action is not None:
            data["action"] = self.action
        return data


class ClauseRevision(db.Model):
    """One saved state of a clause; never changed once written."""

    __table_args__ = (UniqueConstraint("clause_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id", ondelete="CASCADE"))
    version: Mapped[int]
    heading: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="article", server_default="article")
    action: Mapped[dict | None] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The organisation at the time of writing, so credit survives a user's move.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    origin: Mapped[str] = mapped_column(String(20), default="edit")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    clause: Mapped[Clause] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship(lazy="joined")  # noqa: F821
    organisation: Mapped[Organisation | None] = relationship(lazy="joined")  # noqa: F821

    def to_json(self) -> dict:
        return {"version": self.version, "kind": self.kind, "heading": self.heading, "text": self.text,
                **({"action": self.action} if self.action is not None else {}),
                "author": self.author.name if self.author else None,
                "organisation": self.organisation.name if self.organisation else None,
                "origin": self.origin, "created_at": iso(self.created_at)}
