"""Personal API tokens: issued with a name and an expiry, listed and revoked by their owner.

Only a token's SHA-256 is stored (models.people.ApiToken). A revoked or expired token finds
nobody (api.auth.user_for_token); revoking also ends the owner's live connections, so one
opened with the token stops receiving at once (the owner's browser pages reconnect by
themselves with their session).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select, update

from .. import live
from ..errors import DomainError
from ..extensions import db
from ..models import ApiToken, User
from ..models.base import utcnow

MAX_TOKEN_DAYS = 3650
EXPIRY_CHOICES = (30, 90, 365)  # days offered on the page; None (until revoked) is the last choice
MAX_ACTIVE_TOKENS = 20          # per person: a list anyone can still read and keep tidy


class TokenError(DomainError):
    """A token request that cannot be carried out."""


def tokens_of(user: User) -> list[ApiToken]:
    """The person's tokens, newest first (revoked ones too: they show when they were revoked)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc(), ApiToken.id.desc()).limit(200)))


def own_token(user: User, token_id: int) -> ApiToken | None:
    """One of the person's own tokens by id, or None (another person's is never found)."""
    return db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))


def issue_token(user: User, name: str, expires_in_days: int | None) -> tuple[ApiToken, str]:
    """Make a token for its owner; return it and the secret, shown once."""
    name = " ".join((name or "").split())
    if not name:
        raise TokenError(422, _("Give the token a name, so that you recognise it in this list later."), "name")
    if len(name) > 100:
        raise TokenError(422, _("A token's name has at most 100 characters."), "name")
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_TOKEN_DAYS:
        raise TokenError(422, _("A token expires after 1 to %(limit)s days, or not at all.", limit=MAX_TOKEN_DAYS),
                         "expires_in_days")
    active = db.session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > utcnow())))
    if active >= MAX_ACTIVE_TOKENS:
        raise TokenError(409, ngettext("You have %(num)s active token; revoke one you no longer use first.",
                                       "You have %(num)s active tokens; revoke one you no longer use first.", active))
    return ApiToken.issue(user, name=name, expires_in_days=expires_in_days)


def revoke_token(token: ApiToken) -> None:
    """Revoke one token (again: nothing changes)."""
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        live.evict(token.user_id)


def revoke_all_tokens(user: User) -> int:
    """Revoke every token of a person that still works; return how many."""
    now = utcnow()
    count = db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                               .values(revoked_at=now)).rowcount or 0
    if count:
        live.evict(user.id)
    return count
