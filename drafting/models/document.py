"""Documents, who takes part in them, their change log and named versions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..i18n import _l
from .base import utcnow

KINDS = ("declaration", "action_plan")
KIND_LABELS = {"declaration": _l("Joint Declaration"), "action_plan": _l("Joint Action Plan")}
PHASES = ("drafting", "consultation", "final_review", "signing", "adopted")
PHASE_LABELS = {
    "drafting": _l("Drafting"), "consultation": _l("Consultation"), "final_review": _l("Final review"),
    "signing": _l("Signing"), "adopted": _l("Adopted"),
}

# Where an admin may move a document from each phase. `adopted` is reached only through the last
# signature (signoff.operations.approve), never by hand; from signing, back to drafting is the
# only move, and it invalidates every approval. Staying in a phase only changes its deadline.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "drafting": ("consultation",),
    "consultation": ("final_review", "drafting"),
    "final_review": ("signing", "drafting"),
    "signing": ("drafting",),
    "adopted": (),
}
ROLES = ("editor", "commenter", "signatory", "observer")
# A role as pages and messages name it ("admin": the secretariat, site-wide).
ROLE_LABELS = {"admin": _l("admin"), "editor": _l("editor"), "commenter": _l("commenter"),
               "signatory": _l("signatory"), "observer": _l("observer")}


class Document(db.Model):
    """A Joint Declaration or Joint Action Plan, made of ordered clauses."""

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    phase: Mapped[str] = mapped_column(String(20), default="drafting")
    deadline: Mapped[datetime | None]
    # The call for contributions closes here (its own date, apart from the consultation's).
    contributions_deadline: Mapped[datetime | None]
    # Incremented by every change; the live protocol's sequence number.
    seq: Mapped[int] = mapped_column(default=0)
    # The hash of the document's newest audit event: the chain's head, kept beside the chain so
    # that removing events from its end shows up (see audit.verify_chain).
    audit_head: Mapped[str | None] = mapped_column(String(64))
    # How the content hash is computed (text.hashing): 1 for documents made before clause kinds
    # (their approvals stay valid), 2 since (kinds, labels and action fields hashed too).
    hash_scheme: Mapped[int] = mapped_column(default=2, server_default="1")
    # The authentic language (a code of drafting.i18n.LANGUAGES): the language of the clauses'
    # own text, which approvals and the content hash cover; translations are in other languages.
    language: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    # The title in other languages, by language code (the clauses' translations: ClauseTranslation).
    title_translations: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    clauses: Mapped[list[Clause]] = relationship(  # noqa: F821
        back_populates="document", order_by="Clause.position",
        primaryjoin="and_(Document.id == Clause.document_id, Clause.deleted_at.is_(None))",
        viewonly=True,
    )
    memberships: Mapped[list[Membership]] = relationship(back_populates="document")
    participations: Mapped[list[Participation]] = relationship(back_populates="document")

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS[self.kind])

    @property
    def phase_label(self) -> str:
        return str(PHASE_LABELS[self.phase])

    @property
    def active_participations(self) -> list[Participation]:
        """The participations that count: a withdrawn cluster no longer signs."""
        return [p for p in self.participations if p.withdrawn_at is None]

    @property
    def participants(self) -> list[Organisation]:  # noqa: F821
        return sorted((p.organisation for p in self.active_participations), key=lambda o: o.name)


class Membership(db.Model):
    """A user's role on one document."""

    __table_args__ = (UniqueConstraint("user_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")  # noqa: F821
    document: Mapped[Document] = relationship(back_populates="memberships")


class Participation(db.Model):
    """An organisation taking part in a document; each must sign before adoption."""

    __table_args__ = (UniqueConstraint("document_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A cluster that drops out is withdrawn, not deleted: the record says when and why.
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)

    document: Mapped[Document] = relationship(back_populates="participations")
    organisation: Mapped[Organisation] = relationship(lazy="joined")  # noqa: F821


class ChangeEvent(db.Model):
    """One broadcast change of a document, kept so reconnecting pages can catch up."""

    __table_args__ = (UniqueConstraint("document_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    seq: Mapped[int]
    event: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DocumentVisit(db.Model):
    """When a user last looked at a document, for 'changed since your last visit'.

    `seen_at` is what the marks are computed against: the start of the previous visit, or the
    moment the user marked everything as seen. `opened_at` is when the current visit began.
    """

    __table_args__ = (UniqueConstraint("user_id", "document_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]


class Snapshot(db.Model):
    """A named version of a document: its ordered clause versions and their content hash."""

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    content_hash: Mapped[str] = mapped_column(String(64))
    # "manual", or taken by the application when signing opens ("signing") or at adoption ("adopted").
    origin: Mapped[str] = mapped_column(String(20), default="manual")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    entries: Mapped[list[SnapshotClause]] = relationship(
        order_by="SnapshotClause.position", cascade="all, delete-orphan")


class SnapshotClause(db.Model):
    """One clause at one version, at one position, within a snapshot."""

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshot.id", ondelete="CASCADE"), index=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clause.id"))
    position: Mapped[int]
    version: Mapped[int]
