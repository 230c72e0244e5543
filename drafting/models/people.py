"""Organisations, users and their API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..i18n import _l
from .base import iso, utcnow


class Organisation(db.Model):
    """A cluster or network, with its country (ISO 3166 alpha-2)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "country": self.country}


class User(UserMixin, db.Model):
    """A person who logs in; belongs to exactly one organisation."""

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    # Bumped on logout and password change so that copied session cookies stop working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A deactivated account cannot log in, use its tokens or be given a role; its work stays.
    deactivated_at: Mapped[datetime | None]
    # The interface language (a code of drafting.i18n.LANGUAGES; None: the browser's) and time zone
    # (IANA name; None: UTC) the person chose.
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str | None] = mapped_column(String(64))

    organisation: Mapped[Organisation] = relationship(back_populates="users", lazy="joined")

    def set_password(self, password: str) -> None:
        """Hash and store a password (scrypt, Werkzeug's default; the test suite's configuration
        names a cheaper method, PASSWORD_HASH_METHOD, for its own throwaway accounts)."""
        self.password_hash = generate_password_hash(password, current_app.config["PASSWORD_HASH_METHOD"])

    def check_password(self, password: str) -> bool:
        """Tell whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.deactivated_at is None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "email": self.email,
                "organisation": self.organisation.name}


# A token's state (ApiToken.state) as pages show it.
TOKEN_STATE_LABELS = {"active": _l("active"), "expired": _l("expired"), "revoked": _l("revoked")}


class ApiToken(db.Model):
    """A personal API token; only its SHA-256 is stored."""

    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    name: Mapped[str | None] = mapped_column(String(100))  # the owner's label: "CI export", "LEOS bridge"
    expires_at: Mapped[datetime | None]                     # None: until revoked
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str | None = None, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
        """Create a token for the user; return the row and the secret shown once."""
        secret = "dft_" + secrets.token_urlsafe(32)
        expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
        token = cls(user=user, token_hash=cls.hash(secret), name=name, expires_at=expires_at)
        db.session.add(token)
        return token, secret

    @property
    def state(self) -> str:
        """active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at is not None and self.expires_at <= utcnow() else "active"

    @property
    def state_label(self) -> str:
        """The state in the reader's language."""
        return str(TOKEN_STATE_LABELS[self.state])

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "created_at": iso(self.created_at),
                "last_used_at": iso(self.last_used_at), "expires_at": iso(self.expires_at),
                "revoked_at": iso(self.revoked_at), "state": self.state}


class LoginFailure(db.Model):
    """A failed login; recent ones rate-limit the account and the address (shared by every process)."""

    __table_args__ = (Index("ix_login_failure_email_created", "email", "created_at"),
                      Index("ix_login_failure_address_created", "address", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(db.Model):
    """A person invited by e-mail to a document with a role and a cluster.

    Only the SHA-256 of the one-time link's secret is stored; the link works once, for 7 days.
    """

    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64))
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])
