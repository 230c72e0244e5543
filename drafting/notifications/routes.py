"""Pages of e-mail notifications: a person's choices per category, one-click unsubscribe, and the
admin's outbox (what was sent, what waits, what failed)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__)


@bp.route("/settings/notifications", methods=["GET", "POST"])
def preferences():
    raise NotImplementedError  # helper: the preferences page


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    raise NotImplementedError  # helper: one-click unsubscribe (RFC 8058)
