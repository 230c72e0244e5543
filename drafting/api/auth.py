"""Bearer-token authentication for the JSON API; session cookies are ignored here."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import abort, g, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import lazyload

from ..extensions import db
from ..models import ApiToken, User
from ..models.base import utcnow

# Built once; the user and the token in one row (the organisation loads if something asks).
_BY_HASH = (select(User, ApiToken).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == bindparam("token_hash"))
            .options(lazyload(User.organisation), lazyload(ApiToken.user)))


def user_for_token(secret: str | None) -> User | None:
    """Return the user a token secret belongs to, or None."""
    if not secret:
        return None
    row = db.session.execute(_BY_HASH, {"token_hash": ApiToken.hash(secret)}).first()
    if row is None:
        return None
    user, token = row
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now  # coarse on purpose: no write on every request
    return user


def token_required(view):
    """Require `Authorization: Bearer <token>`; set g.api_user."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
        user = user_for_token(secret.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            abort(401, "Send a valid API token as 'Authorization: Bearer <token>'.")
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper
