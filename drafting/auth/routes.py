"""Log in and out with the browser; the API uses bearer tokens (see drafting/api)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from .. import live
from ..extensions import db, login_manager
from ..i18n import _l
from ..models import LoginFailure, User
from ..models.base import parse_int, utcnow

bp = Blueprint("auth", __name__)

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to continue.")
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


def safe_next(target: str | None, fallback: str | None = None) -> str:
    """Return a local path to go to (after login, from a notification); anything pointing
    elsewhere goes to the fallback (the documents)."""
    home = fallback or url_for("documents.index")
    if not target:
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return home
    return target


SESSION_ENDED = _l("Your session has ended. Nothing you typed is lost: log in again in a new tab, "
                   "then come back here and press Retry.")


def is_script_request() -> bool:
    """Tell a request made by the page's script (htmx, fetch) from a page the browser navigates to."""
    return (request.headers.get("HX-Request") == "true" or request.headers.get("Sec-Fetch-Dest") == "empty"
            or request.accept_mimetypes.best == "application/json")


def login_url_for_current_page() -> str:
    """The login page, coming back afterwards to the page an htmx request was made from."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    page = current.path + (f"?{current.query}" if current.query else "") if current.path else None
    return url_for("auth.login", next=safe_next(page)) if page else url_for("auth.login")


def session_ended():
    """401 for a script request without a session: marked `HX-Session-Ended: 1`, never a redirect.

    The page shows a lasting banner and keeps every open form (static/drafts.js). `HX-Redirect`
    stays for a page without that script: htmx then loads the login page as the whole page.
    """
    if request.accept_mimetypes.best == "application/json":
        response = jsonify({"error": {"code": "session_ended", "message": str(SESSION_ENDED)}})
    else:
        response = make_response(render_template("errors/_message.html", status=401, message=str(SESSION_ENDED)))
    response.status_code = 401
    response.headers["HX-Session-Ended"] = "1"
    response.headers["HX-Redirect"] = login_url_for_current_page()
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("HX-Request")
    return response


@login_manager.unauthorized_handler
def unauthorized():
    """Send someone not logged in to the login page, and back here afterwards.

    A page request is redirected (302). A request of the page's script (htmx, fetch) gets 401
    marked `HX-Session-Ended` (see session_ended): the page stays, with what was typed in it.
    """
    flash(str(login_manager.login_message), login_manager.login_message_category)
    if is_script_request():
        return session_ended()
    path = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=path))


@bp.get("/session")
def session_state():
    """Whether this browser's session is logged in, and a fresh CSRF token for the page's forms.

    Pages call it before retrying a request refused because the session had ended (drafts.js).
    """
    user = current_user if current_user.is_authenticated else None
    response = jsonify({"authenticated": user is not None, "user_id": user.id if user else None,
                        "csrf_token": generate_csrf()})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/session/again")
@login_required
def logged_in_again():
    """The page a new tab lands on after logging in again: it can be closed."""
    return render_template("auth/logged_in_again.html")


# Failed logins allowed in the window before 429: per account *from one address* (someone guessing
# one person's password), and per address whatever the account (someone trying many). A stranger
# elsewhere cannot lock the owner out: their failures count against their own address only.
# Behind a reverse proxy, TRUSTED_PROXIES makes request.remote_addr the client's (ProxyFix).
LOGIN_WINDOW = timedelta(minutes=15)
FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
FAILURES_PER_ADDRESS = 20
# An unknown e-mail is checked against a hash made like the accounts' (PASSWORD_HASH_METHOD), so
# that it takes as long as a wrong password and the answer's timing does not tell which e-mails
# have accounts. One per method, made on first use.
_NOBODY_HASHES: dict[str, str] = {}


def _nobody_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _NOBODY_HASHES:
        _NOBODY_HASHES[method] = generate_password_hash(secrets.token_urlsafe(16), method)
    return _NOBODY_HASHES[method]


def login_blocked(email: str, address: str) -> bool:
    """Tell whether too many recent failures came for this account from this address, or from it."""
    since = utcnow() - LOGIN_WINDOW
    recent = select(func.count(LoginFailure.id)).where(LoginFailure.created_at > since,
                                                      LoginFailure.address == address)
    by_pair = db.session.scalar(recent.where(LoginFailure.email == email))
    by_address = db.session.scalar(recent)
    return by_pair >= FAILURES_PER_ACCOUNT_AND_ADDRESS or by_address >= FAILURES_PER_ADDRESS


def password_matches(user: User | None, password: str) -> bool:
    """Check a password in the same time whether the account exists or not."""
    if user is None:
        check_password_hash(_nobody_hash(), password)
        return False
    return user.check_password(password)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    error, status, headers = None, 200, {}
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()[:254]
        address = (request.remote_addr or "unknown")[:64]
        if login_blocked(email, address):
            minutes = int(LOGIN_WINDOW.total_seconds() // 60)
            error = ngettext("Too many failed attempts. Wait %(num)s minute, then try again.",
                             "Too many failed attempts. Wait %(num)s minutes, then try again.", minutes)
            status, headers = 429, {"Retry-After": str(int(LOGIN_WINDOW.total_seconds()))}
        else:
            user = db.session.scalar(select(User).where(User.email == email))
            if not password_matches(user, request.form.get("password", "")):
                db.session.add(LoginFailure(email=email, address=address))
                db.session.commit()
                error, status = _("That email and password do not match an account."), 401
            elif not user.is_active:
                error, status = _("This account has been deactivated. Ask the secretariat if you need "
                                  "access again."), 403
            else:
                login_user(user)
                # A CSRF token from before the login is not carried into the session: a token an
                # attacker planted or read before cannot forge requests of the logged-in person.
                session.pop("csrf_token", None)
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
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))
