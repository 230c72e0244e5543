"""Configuration read from the environment."""

import os
import secrets
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_SEAL_KEY_FILE = str(Path(tempfile.gettempdir()) / f"drafting-test-seal-{os.getuid()}.pem")


class Config:
    """Settings for a served app; every value can come from the environment."""

    ENV_NAME = os.environ.get("DRAFTING_ENV", "development")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    PASSWORD_HASH_METHOD = "scrypt"  # Werkzeug's default; deliberately not read from the environment
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{ROOT / 'instance' / 'drafting.db'}"
    )
    # A threaded server holds a thread per WebSocket and serves HTTP on others: size the pool
    # so bursts of requests wait briefly instead of timing out.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 40,
                                       "pool_timeout": 10}
    SOCKETIO_MESSAGE_QUEUE = os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None
    SOCKETIO_ASYNC_MODE = os.environ.get("SOCKETIO_ASYNC_MODE", "threading")
    # Processes sharing a message queue must share the channel; it also prefixes presence keys.
    SOCKETIO_CHANNEL = os.environ.get("SOCKETIO_CHANNEL", "drafting")
    # Several processes: how long a process that stopped without a goodbye (killed, crashed)
    # still counts as present; its viewers drop out of presence after that (drafting/presence.py).
    PRESENCE_ALIVE_SECONDS = int(os.environ.get("PRESENCE_ALIVE_SECONDS", "30"))
    # Clients only join, leave and say what they edit: tiny messages. Larger ones close the connection.
    SOCKETIO_MAX_MESSAGE_BYTES = 16 * 1024
    # Events one connection may send per second before it is disconnected (flooding).
    SOCKETIO_EVENTS_PER_SECOND = 20
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    MAX_CLAUSE_CHARS = 50_000
    # Files imported as new documents (drafting/exchange): at most this many paragraphs (Word, table
    # cells included) or paragraphs and headings (Markdown, with at most 5 lines a paragraph), counted
    # before the file is parsed, so a larger one is refused at once (413). It allows 20 paragraphs to
    # each of the 1,000 clauses an import may make (text/outline.py), and it bounds how far a Word
    # file's text may expand: 1.6 KB and 50 XML elements a paragraph, 31 MB in all (text/word.py).
    MAX_IMPORT_PARAGRAPHS = 20_000
    # Worker processes per server process for diffs and merges too heavy to run beside other
    # requests (drafting/text/offload.py); 0: all in the request's own thread.
    TEXT_WORK_PROCESSES = int(os.environ.get("TEXT_WORK_PROCESSES", "1"))
    # Rendered clauses kept per process for the next page load (drafting/fragments.py); 0: off.
    CLAUSE_FRAGMENT_CACHE = int(os.environ.get("CLAUSE_FRAGMENT_CACHE", "5000"))
    # E-mail (drafting/notifications/): SMTP through Flask-Mailman. Without MAIL_SERVER nothing is
    # sent: mails wait in the outbox, which the admin reads at /admin/outbox.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "0") == "1"
    MAIL_USE_SSL = os.environ.get("MAIL_USE_SSL", "0") == "1"
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "drafting <no-reply@drafting.invalid>")
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "20"))
    # The deployment's address, base of every link in e-mails and invitations
    # (https://drafting.example.org). Never taken from a request's Host header, which anyone can
    # forge: unset, links are built on DEFAULT_PUBLIC_URL (where `make run` serves; under gunicorn,
    # the address it binds, gunicorn.conf.py), and the app warns at startup if MAIL_SERVER is set.
    PUBLIC_URL = os.environ.get("PUBLIC_URL") or None
    DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
    # 1: the served process delivers queued mail itself; 0: only `flask notifications work` does.
    NOTIFICATIONS_WORKER = os.environ.get("NOTIFICATIONS_WORKER", "1") == "1"
    # Immediate mails per person per hour; more go into their daily digest.
    MAIL_HOURLY_CAP = int(os.environ.get("MAIL_HOURLY_CAP", "20"))
    # The hour of the day (UTC) from which each person's held mails go out as one daily digest.
    MAIL_DIGEST_HOUR = int(os.environ.get("MAIL_DIGEST_HOUR", "7"))
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    # Reverse proxies in front of the app whose X-Forwarded-For (and -Proto) are believed: the
    # client's address for login throttling and logs. 0 (default): none; 1: one nginx (deploy.md).
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0") or 0)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # The Ed25519 key that seals certificates of adoption (drafting/signoff/seal.py,
    # docs/verification.md): a PEM file, made on first use; unset, instance/seal-ed25519.pem.
    # Test runs (and the apps they serve) seal with a key of their own, never the checkout's.
    SEAL_KEY_FILE = os.environ.get("DRAFTING_SEAL_KEY_FILE") or (TEST_SEAL_KEY_FILE if ENV_NAME == "testing" else None)
    TESTING = False


class TestConfig(Config):
    """Settings for the test suite: a throwaway database, no CSRF tokens in forms."""

    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SEAL_KEY_FILE = TEST_SEAL_KEY_FILE
    DEFAULT_PUBLIC_URL = "http://localhost"  # where Flask's test client sends its requests
    # The suite logs in thousands of times: scrypt's 80 ms a check was a tenth of its run. Only
    # its own throwaway accounts are hashed so (Config keeps scrypt; a stored hash names its method).
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


def resolve_secret_key(app) -> None:
    """Refuse to start outside development without SECRET_KEY; use a random one in development."""
    if app.config.get("SECRET_KEY"):
        return
    if app.config["ENV_NAME"] in ("development", "testing"):
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    raise RuntimeError(
        "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random value "
        "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
    )
