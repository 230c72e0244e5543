"""Bearer-token authentication for the JSON API; session cookies are ignored here."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps

from flask import abort, current_app, g, request
from flask_babel import gettext as _
from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import lazyload

from ..extensions import db
from ..models import ApiToken, User
from ..models.base import utcnow

# Built once; the user and the token in one row (the organisation loads if something asks).
# A revoked or expired token, or one of a deactivated account, finds nobody.
_BY_HASH = (select(User, ApiToken).join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == bindparam("token_hash"), User.deactivated_at.is_(None),
                   ApiToken.revoked_at.is_(None),
                   or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > bindparam("now")))
            .options(lazyload(User.organisation), lazyload(ApiToken.user)))


def user_for_token(secret: str | None) -> User | None:
    """Return the user a token secret belongs to, or None (also when the account is deactivated)."""
    if not secret:
        return None
    now = utcnow()
    row = db.session.execute(_BY_HASH, {"token_hash": ApiToken.hash(secret), "now": now}).first()
    if row is None:
        return None
    user, token = row
    g.api_token_id = token.id  # which of the owner's tokens this request came with (GET /tokens)
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        _record_use(token, now)  # coarse on purpose: no write on every request
    return user


def _record_use(token: ApiToken, now: datetime) -> None:
    """Commit the token's last use at once, in a short transaction of its own."""
    # Left in the request's transaction, this write held SQLite's write lock (and the process's
    # write queue) until the request ended: one client sending its body slowly, or any slow
    # request, stalled every writer. Committed here, before the view runs, it is also kept when
    # the request fails. At most one write per token and minute: not worth batching off the
    # request path. Called first thing (token_required, the Socket.IO connect), nothing else is
    # pending in the session.
    token_id, token.last_used_at = token.id, now
    try:
        db.session.commit()
    except OperationalError as error:  # bookkeeping never fails a request; the view's own work decides
        db.session.rollback()
        current_app.logger.warning("API token %s: last use not recorded: %s", token_id, error.orig)


def token_required(view):
    """Require `Authorization: Bearer <token>`; set g.api_user."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        scheme, _space, secret = request.headers.get("Authorization", "").partition(" ")
        user = user_for_token(secret.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            abort(401, _("Send a valid API token as 'Authorization: Bearer <token>'."))
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper
