"""Bearer-token authentication for the JSON API; session cookies are ignored here."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import abort, g, request
from sqlalchemy import select

from ..extensions import db
from ..models import ApiToken, User
from ..models.base import utcnow


def user_for_token(secret: str | None) -> User | None:
    """Return the user a token secret belongs to, or None."""
    if not secret:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(secret)))
    if token is None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now  # coarse on purpose: no write on every request
    return token.user


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
