"""Log in and out with the browser; the API uses bearer tokens (see drafting/api)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from .. import live
from ..extensions import db, login_manager
from ..models import User
from ..models.base import parse_int
from . import bp

login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the user of a session; a session from before a logout no longer matches."""
    user_id, _, epoch = session_id.partition(":")
    user_id, epoch = parse_int(user_id), parse_int(epoch)
    if user_id is None or epoch is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_epoch != epoch:
        return None
    return user


def safe_next(target: str | None) -> str:
    """Return a local path to go to after login; anything pointing elsewhere goes home."""
    if not target:
        return url_for("documents.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return url_for("documents.index")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("documents.index"))
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None or not user.check_password(request.form.get("password", "")):
            error = "That email and password do not match an account."
        else:
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
    status = 401 if error else 200
    return render_template("auth/login.html", error=error, email=email), status


@bp.post("/logout")
@login_required
def logout():
    # Bumping the epoch makes every copy of this user's session cookie stale at once.
    current_user.session_epoch += 1
    live.evict(current_user.id)  # their open pages leave every document room at once
    db.session.commit()
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("auth.login"))
