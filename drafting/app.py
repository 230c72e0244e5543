"""drafting: joint declarations and action plans written clause by clause, live."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from flask import Flask, abort, g, jsonify, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import database, events, fragments, i18n, permissions
from .api import audit as api_audit
from .api import consultation as api_consultation
from .api import exchange as api_exchange
from .api import history as api_history
from .api import routes as api_routes
from .api import signoff as api_signoff
from .api import strict as api_strict
from .api import tokens as api_tokens
from .api import translations as api_translations
from .api.blueprint import bp as api_bp
from .audit_trail.routes import bp as audit_trail_bp
from .auth.routes import bp as auth_bp
from .auth.routes import is_script_request, session_ended
from .clauses.routes import bp as clauses_bp
from .cli import register_commands
from .config import ROOT, Config, resolve_secret_key
from .consultation.routes import bp as consultation_bp
from .documents.operations import clause_label as clause_label_of
from .documents.operations import clause_labels
from .documents.routes import bp as documents_bp
from .errors import DomainError
from .exchange.routes import bp as exchange_bp
from .extensions import csrf, db, login_manager, mail, migrate, socketio
from .history.routes import bp as history_bp
from .i18n import N_, _l
from .live import PresenceCoalescer
from .models.base import MAX_ID, iso
from .models.document import ROLE_LABELS
from .notifications import worker
from .notifications.routes import bp as notifications_bp
from .people.routes import bp as people_bp
from .presence import make_registry
from .signoff.routes import bp as signoff_bp
from .text import actions, numbering, offload
from .text.numbering import default_kind
from .text.reveal import find_invisible, reveal
from .translating.routes import bp as translating_bp
from .urls import clause_links
from .views import ERROR_CODES, is_htmx

# The API's routes are registered on its blueprint when their modules are imported (above);
# `events` registers the Socket.IO handlers, which must happen before the first init_app.
API_MODULES = (api_audit, api_consultation, api_exchange, api_history, api_routes, api_signoff, api_strict,
               api_tokens, api_translations, events)

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A JSON string escape of U+0000 that is not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
# Other control characters (C0 but tab, line feed and carriage return; DEL), as JSON escapes,
# percent-escapes (query strings, forms) or raw bytes; and JSON escapes of UTF-16 surrogates.
_JSON_CONTROL = re.compile(rb"(?<!\\)(?:\\\\)*\\u00(?:0[1-8bcef]|1[0-9a-f]|7f)", re.IGNORECASE)
_URL_CONTROL = re.compile(rb"%(?:0[1-8bcef]|1[0-9a-f]|7f)|[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]", re.IGNORECASE)
_RAW_CONTROL = re.compile(rb"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")  # as bytes of a multipart part
_QUERY_LINE_BREAK = re.compile(rb"%0[ad]|[\r\n]", re.IGNORECASE)  # no query (a search, a next page) needs one
_JSON_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]", re.IGNORECASE)
NUL_MESSAGE = _l("Text cannot contain the NUL character (U+0000). Remove it and send again.")
CONTROL_MESSAGE = _l("Text cannot contain control characters (other than tabs and line breaks). "
                     "Remove them and send again; they often come with text pasted from other programs.")
SURROGATE_MESSAGE = _l("Text cannot contain a lone UTF-16 surrogate (\\ud800-\\udfff without its pair).")
# Werkzeug's and Flask-WTF's own texts, shown when a refusal carries no message of ours: in the
# catalogues too, looked up by their English text when shown (library_message).
LIBRARY_MESSAGES = frozenset({
    N_("The browser (or proxy) sent a request that this server could not understand."),
    N_("The server could not verify that you are authorized to access the URL requested. You either supplied "
       "the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the "
       "credentials required."),
    N_("You don't have the permission to access the requested resource. It is either read-protected or not "
       "readable by the server."),
    N_("The requested URL was not found on the server. If you entered the URL manually please check your "
       "spelling and try again."),
    N_("The method is not allowed for the requested URL."),
    N_("A conflict happened while processing the request. The resource might have been modified while the "
       "request was being processed."),
    N_("The server does not support the media type transmitted in the request."),
    N_("The request was well-formed but was unable to be followed due to semantic errors."),
    N_("The resource that is being accessed is locked."),
    N_("This user has exceeded an allotted request count. Try again later."),
    N_("The server encountered an internal error and was unable to complete your request. Either the server "
       "is overloaded or there is an error in the application."),
    N_("The server is temporarily unable to service your request due to maintenance downtime or capacity "
       "problems. Please try again later."),
    N_("The CSRF token is missing."),
    N_("The CSRF session token is missing."),
    N_("The CSRF token has expired."),
    N_("The CSRF token is invalid."),
    N_("The CSRF tokens do not match."),
    N_("The referrer header is missing."),
    N_("The referrer does not match the host."),
})


def library_message(message: str) -> str:
    """A library's English refusal in the person's language (other texts as they are)."""
    return _(message) if message in LIBRARY_MESSAGES else message


def _lone_surrogate(value) -> bool:
    """Tell whether parsed JSON holds a string with an unpaired surrogate (not encodable as UTF-8)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a document nested too deeply for the parser is unreadable JSON
    (400, the API's error object) rather than a RecursionError (500)."""

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError(_("The JSON is nested too deeply.")) from None


def refused_text(req) -> str | None:
    """Say why a request's text (query, form or JSON) cannot be stored, or None.

    U+0000 (PostgreSQL refuses it), other control characters but tab and line breaks, and lone
    surrogates (no database can store them as UTF-8) are answered 422 for every database alike,
    before any view runs. The contents of uploaded files are not looked at (binary files hold such
    bytes); the text fields of a multipart form are, when its body was read (a large import's is not).
    """
    query = req.query_string
    if b"%00" in query or b"\x00" in query:
        return NUL_MESSAGE
    if _URL_CONTROL.search(query) or _QUERY_LINE_BREAK.search(query):
        return CONTROL_MESSAGE
    if req.method in BODY_METHODS and req.mimetype == "multipart/form-data":
        limit = req.max_content_length
        if limit is not None and (req.content_length or 0) > limit:
            return None
        return _multipart_refused(req.get_data(cache=True), req.mimetype_params.get("boundary", ""))
    if req.method not in BODY_METHODS or req.mimetype not in ("application/json", "application/x-www-form-urlencoded"):
        return None
    data = req.get_data(cache=True)
    if b"\x00" in data:
        return NUL_MESSAGE
    if req.mimetype == "application/x-www-form-urlencoded":
        return NUL_MESSAGE if b"%00" in data else CONTROL_MESSAGE if _URL_CONTROL.search(data) else None
    if _JSON_NUL.search(data):
        return NUL_MESSAGE
    if _JSON_CONTROL.search(data) or b"\x7f" in data:
        return CONTROL_MESSAGE
    if _JSON_SURROGATE.search(data) and _lone_surrogate(req.get_json(silent=True)):
        return SURROGATE_MESSAGE
    return None


def _multipart_refused(data: bytes, boundary: str) -> str | None:
    """Say why a multipart body's field names, file names or text fields cannot be stored, or None."""
    if not boundary:
        return None
    for part in data.split(b"--" + boundary.encode("latin-1")):
        headers, _, body = part.partition(b"\r\n\r\n")
        text = headers if b"filename=" in headers.lower() else headers + body  # a file's bytes are its own
        if b"\x00" in text:
            return NUL_MESSAGE
        if _RAW_CONTROL.search(text):
            return CONTROL_MESSAGE
    return None


RETRY_BUSY_SECONDS = 5  # a database locked past its timeouts: when to try again (503)


class DatabaseId(IntegerConverter):
    """Integers in URLs; one too large for a database id reads as 0, which names no row (404)."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= MAX_ID else 0


def create_app(config_class: type = Config, **overrides) -> Flask:
    """Build the application: config, extensions, blueprints, commands; Socket.IO last."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"),
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.json = JSONProvider(app)
    app.config.from_object(config_class)
    app.config.update(overrides)
    if app.config.get("TRUSTED_PROXIES", 0) > 0:  # believe that many proxies' X-Forwarded-For/-Proto
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    resolve_secret_key(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    app.url_map.converters["int"] = DatabaseId  # ids beyond 64 bits are simply not found (404)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    mail.init_app(app)
    _register_body_reading(app)  # before CSRF's hook, which then parses the form from memory
    csrf.init_app(app)
    database.configure(app)
    offload.configure(app.config["TEXT_WORK_PROCESSES"])
    _register_text_workers(app)
    _register_notifications_worker(app)


    for blueprint in (auth_bp, documents_bp, clauses_bp, history_bp, consultation_bp, signoff_bp, exchange_bp,
                      audit_trail_bp, people_bp, notifications_bp, translating_bp, api_bp):
        app.register_blueprint(blueprint)
    csrf.exempt(api_bp)  # the API authenticates by bearer token only, never by cookie
    register_commands(app)
    _register_errors(app)
    _register_headers(app)
    _register_template_helpers(app)
    i18n.init_app(app)
    fragments.init_app(app)


    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["SOCKETIO_MESSAGE_QUEUE"],
        channel=app.config["SOCKETIO_CHANNEL"],
        # None: only pages of this site may connect (the Origin is checked: no cross-site hijacking).
        cors_allowed_origins=app.config.get("SOCKETIO_CORS_ORIGINS"),
        max_http_buffer_size=app.config["SOCKETIO_MAX_MESSAGE_BYTES"],
        # Malformed frames close their connection instead of raising in the library (issue 16).
        serializer=events.StrictPacket,
    )
    events.refuse_malformed_frames(socketio.server)
    app.extensions["drafting.presence"] = make_registry(app.config["SOCKETIO_MESSAGE_QUEUE"],
                                                        app.config["SOCKETIO_CHANNEL"],
                                                        app.config["PRESENCE_ALIVE_SECONDS"])
    app.extensions["drafting.presence_out"] = PresenceCoalescer()  # per app: see live.broadcast_presence
    return app


def _register_text_workers(app: Flask) -> None:
    """Start the text worker processes with the first request a served process answers."""
    if app.testing or not app.config["TEXT_WORK_PROCESSES"]:
        return

    @app.before_request
    def start_text_workers():
        offload.warm()  # cheap once started; a forked process starts its own


def _register_notifications_worker(app: Flask) -> None:
    """Deliver the outbox from a thread of the served process: started when the server has loaded
    the app (`served`, from gunicorn.conf.py), else with the first request (`flask run`)."""
    if app.config.get("MAIL_SERVER") and not app.config.get("PUBLIC_URL"):
        app.logger.warning("MAIL_SERVER is set but PUBLIC_URL is not: the links in e-mails and invitations are "
                           "built on %s (or the address gunicorn binds). Set PUBLIC_URL to the address people "
                           "open.", app.config["DEFAULT_PUBLIC_URL"])
    if app.testing or not app.config["NOTIFICATIONS_WORKER"]:
        return

    @app.before_request
    def start_notifications_worker():
        worker.start_in_background(app)  # once per process (a no-op when `served` started it)


def served(app: Flask, addresses: Iterable[str] = (), https: bool = False) -> None:
    """Called in each server process once it has loaded the app (gunicorn.conf.py, post_worker_init).

    Mail is delivered from now on, not only after a first request: after a restart without
    traffic the outbox still goes out. The thread is one per process (start_in_background) and
    every mail is claimed before it is sent, so a mail still leaves exactly once. Without
    PUBLIC_URL, links are built on the address the server binds (not on any request's Host).
    """
    if not app.config.get("PUBLIC_URL"):
        for address in addresses:
            host, colon, port = address.rpartition(":")
            if colon and port.isdigit() and host:
                host = "127.0.0.1" if host in ("0.0.0.0", "[::]") else host  # every interface: this one too
                app.config["DEFAULT_PUBLIC_URL"] = f"{'https' if https else 'http'}://{host}:{port}"
                break
    if not app.testing and app.config["NOTIFICATIONS_WORKER"]:
        worker.start_in_background(app)


def _register_body_reading(app: Flask) -> None:
    @app.before_request
    def read_body_first():
        """Read the whole request body before any view code opens a transaction."""
        # A transaction's first write holds the database's write lock (on SQLite, the whole
        # database's) until it ends: a view that wrote and then read a body sent slowly stalled
        # every writer. Read raw, within MAX_CONTENT_LENGTH; the form is parsed later from these
        # bytes, under the view's own limits. A body declared larger is left to the view: only the
        # imports accept one (they raise the limit after checking who may import, and write
        # nothing before reading it); every other view refuses it (413) without reading it.
        limit = request.max_content_length
        if request.method in BODY_METHODS and (limit is None or (request.content_length or 0) <= limit):
            request.get_data(cache=True)
        refused = refused_text(request)
        if refused:
            abort(422, str(refused))


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _register_errors(app: Flask) -> None:

    def answer(status: int, message: str, headers=(), details: dict | None = None):
        """The API's error object, or the error message as a fragment or a page."""
        if _wants_json():
            return (jsonify({"error": {"code": ERROR_CODES.get(status, "error"), "message": message}, **(details or {})}),
                    status, headers)
        template = "errors/_message.html" if is_htmx() else "errors/page.html"
        return render_template(template, status=status, message=message), status, headers



    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        """A refused CSRF token. For the page's script: its session has ended (401, marked), or
        the page holds a token of an earlier session of this browser (400 marked `HX-CSRF-Stale`:
        the page fetches a fresh token and sends again). A page request answers 400 as before."""
        if _wants_json() or not is_script_request():
            return http_error(error)
        if not current_user.is_authenticated:
            return session_ended()
        return answer(400, library_message(str(error.description)),
                      [("HX-CSRF-Stale", "1"), ("Cache-Control", "no-store")])

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = str(error.description or error.name)
        if error.code == 413 and "exceeds the capacity limit" in message:
            message = _("The request is too large.")
        return answer(error.code, library_message(message), _kept_headers(error))


    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        """Every refusal of the domain that no view showed in place: the transaction is undone
        (or kept, when the refusal recorded something on purpose), and the answer says why."""
        db.session.commit() if error.keep else db.session.rollback()
        return answer(error.status, str(error.message), error.headers(), error.details())

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError):
        """The database stayed locked past its timeouts (another process's long write): 503, retry."""
        if not database.is_busy(error):
            raise error  # any other database failure is a 500, as before
        db.session.rollback()
        app.logger.warning("database busy, answered 503: %s", error.orig)
        return answer(503, _("The database is busy: the request could not be completed. Try again in a few "
                             "seconds."), {"Retry-After": str(RETRY_BUSY_SECONDS)})


def _kept_headers(error: HTTPException) -> list[tuple[str, str]]:
    """Headers an error must keep (Allow on 405, Retry-After on 429), not its content type."""
    return [(k, v) for k, v in error.get_headers() if k.lower() in ("allow", "retry-after", "www-authenticate")]


def _register_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("SESSION_COOKIE_SECURE"):
            # Served over HTTPS (secure cookies say so): browsers keep to HTTPS for a year.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static" and "Cache-Control" not in response.headers and _personal(request):
            # A page or answer for one person: no browser, proxy or back button keeps a copy.
            response.headers["Cache-Control"] = "no-store"
        return response


def _personal(req) -> bool:
    """Tell whether an answer was made for a logged-in person (session or API token)."""
    return "Authorization" in req.headers or bool(getattr(current_user, "is_authenticated", False))


def _register_template_helpers(app: Flask) -> None:

    @app.context_processor
    def helpers():
        return {"can": permissions.can, "role_of": permissions.role_of, "role_labels": ROLE_LABELS}

    app.jinja_env.filters["iso"] = iso
    app.jinja_env.filters["reveal"] = reveal
    app.jinja_env.globals["find_invisible"] = find_invisible
    app.jinja_env.globals["clause_links"] = clause_links

    def clause_label(clause) -> str:
        """A clause's label when a page renders it alone (the list passes `labels` for all)."""
        if clause.deleted_at:
            return ""
        # The first clause of a document a request renders is counted alone (a save's partial
        # renders one); a page rendering several one by one reads all labels once, at the second.
        cache = g.setdefault("clause_labels", {})
        labels = cache.get(clause.document_id)
        if labels is None:
            cache[clause.document_id] = {clause.id: clause_label_of(clause)}
            return cache[clause.document_id][clause.id]
        if clause.id not in labels and len(labels) == 1:
            labels = cache[clause.document_id] = clause_labels(clause.document)
        return labels.get(clause.id, str(clause.position))

    app.jinja_env.globals.update(clause_label=clause_label, default_kind=default_kind, kind_title=numbering.display_title,
                                 clause_kinds=numbering.KINDS, clause_kind_labels=numbering.KIND_NAMES, number_kinds=numbering.labels,
                                 half_years=actions.HALF_YEARS, presidencies=actions.PRESIDENCIES)
