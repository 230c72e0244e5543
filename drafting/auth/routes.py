"""Log in and out with the browser; the API uses bearer tokens (see drafting/api)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select

from .. import live
from ..extensions import db, login_manager
from ..models import LoginFailure, User
from ..models.base import parse_int, utcnow
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
    if user is None or user.session_epoch != epoch or not user.is_active:
        return None  # a deactivated account's sessions end at once
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


@login_manager.unauthorized_handler
def unauthorized():
    """Send someone not logged in to the login page, and back here afterwards.

    A page request is redirected (302). An htmx request for a fragment gets 401 with
    `HX-Redirect`: htmx then loads the login page as the whole page, instead of swapping it
    into the fragment's place; afterwards the person returns to the page they were on.
    """
    flash(login_manager.login_message, login_manager.login_message_category)
    if request.headers.get("HX-Request") == "true":
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        page = current.path + (f"?{current.query}" if current.query else "") if current.path else None
        target = url_for("auth.login", next=safe_next(page)) if page else url_for("auth.login")
        response = make_response("Your session has ended; log in again to continue.", 401)
        response.headers["HX-Redirect"] = target
        return response
    path = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=path))


# Failed logins allowed in the window, per account and per address, before 429.
LOGIN_WINDOW = timedelta(minutes=15)
FAILURES_PER_ACCOUNT = 5
FAILURES_PER_ADDRESS = 20


def login_blocked(email: str, address: str) -> bool:
    """Tell whether too many recent failures came for this account or from this address."""
    since = utcnow() - LOGIN_WINDOW
    recent = select(func.count(LoginFailure.id)).where(LoginFailure.created_at > since)
    by_account = db.session.scalar(recent.where(LoginFailure.email == email))
    by_address = db.session.scalar(recent.where(LoginFailure.address == address))
    return by_account >= FAILURES_PER_ACCOUNT or by_address >= FAILURES_PER_ADDRESS


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("documents.index"))
    error, status, headers = None, 200, {}
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()[:254]
        address = (request.remote_addr or "unknown")[:64]
        if login_blocked(email, address):
            minutes = int(LOGIN_WINDOW.total_seconds() // 60)
            error = f"Too many failed attempts. Wait {minutes} minutes, then try again."
            status, headers = 429, {"Retry-After": str(int(LOGIN_WINDOW.total_seconds()))}
        else:
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None or not user.check_password(request.form.get("password", "")):
                db.session.add(LoginFailure(email=email, address=address))
                db.session.commit()
                error, status = "That email and password do not match an account.", 401
            elif not user.is_active:
                error, status = ("This account has been deactivated. Ask the secretariat if you need "
                                 "access again."), 403
            else:
                login_user(user)
                return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", error=error, email=email), status, headers


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
