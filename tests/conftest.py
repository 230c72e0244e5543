"""Shared fixtures: a migrated, seeded database per test, clients, login and API helpers.

The suite runs on SQLite by default. With DRAFTING_TEST_BACKEND=postgres it runs on the
PostgreSQL server at TEST_POSTGRES_URL (one database per test, copied from a migrated and
seeded template database) and serves live-server tests with a Redis message queue at
TEST_REDIS_URL. Under CI=true an unreachable PostgreSQL or Redis fails the run.
"""

from __future__ import annotations

import itertools
import os
import queue
import shutil
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from werkzeug.routing.rules import Rule

from drafting.app import create_app
from drafting.config import TestConfig
from drafting.extensions import db, socketio
from drafting.models import ApiToken, Document, Organisation, User

PASSWORD = "drafting-demo"
EMAILS = {
    "admin": "admin@drafting.example",
    "editor": "editor@drafting.example",
    "editor2": "ines.carvalho@atlantichealth.example",  # a second member of the drafting committee
    "commenter": "commenter@drafting.example",
    "signatory": "signatory@drafting.example",
    "observer": "observer@drafting.example",
    "outsider": "outsider@drafting.example",  # a user with no role on any document
}

BACKEND = os.environ.get("DRAFTING_TEST_BACKEND", "sqlite")
POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RUN = uuid.uuid4().hex[:8]  # names this run's databases and Redis channel, so runs never meet

# Files that need PostgreSQL and Redis run in the PostgreSQL pass only (make test runs both).
collect_ignore = ["test_scaleout.py", "test_mail_scaleout.py", "test_live_async.py"] if BACKEND != "postgres" else []
# What a test must use to meet the database: the PostgreSQL pass runs only such tests. The others
# (the rule table, diffs and merges, parsers, catalogues) touch no database and ran in the SQLite pass.
DATABASE_FIXTURES = frozenset({"database", "template_database", "postgres"})


# Every test makes one or more apps, and 90% of making one (60-70 ms) is Werkzeug generating and
# compiling a URL-building function for each of the ~175 rules, identical from app to app. The
# generated function depends only on the rule's text, its parsed parts and its defaults (it is
# bound to its rule afterwards), so the tests keep one per such key. Served processes (gunicorn,
# the live server) make one app each and are left alone.
_builders: dict = {}
_compile_builder = Rule._compile_builder


def _kept_builder(self: Rule, append_unknown: bool = True):
    defaults = repr(sorted((self.defaults or {}).items(), key=lambda item: item[0]))
    key = (self.rule, tuple(self._trace), defaults, append_unknown)
    if key not in _builders:
        _builders[key] = _compile_builder(self, append_unknown)
    return _builders[key]


Rule._compile_builder = _kept_builder


# `make test` runs both passes side by side and sets DRAFTING_TEST_SPLIT=1: the tests that touch no
# database (about 2 minutes of them) then run in the PostgreSQL pass instead, which is the shorter
# one (the SQLite pass has the browser tests). Each test still runs once; `make test-sqlite` alone
# runs them all.
SPLIT = os.environ.get("DRAFTING_TEST_SPLIT") == "1"


def _runs_here(item) -> bool:
    """Whether this pass runs the test (see DATABASE_FIXTURES and SPLIT)."""
    if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    if BACKEND == "postgres":
        return SPLIT
    return not SPLIT or "/tests/browser/" in str(item.path)


def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        (kept if _runs_here(item) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def database_url(database: Path | str) -> str:
    """A SQLAlchemy URL for a test database: a SQLite file path, or a URL already."""
    return database if isinstance(database, str) else f"sqlite:///{database}"


_made_apps: list = []


def make_app(database: Path | str, **overrides):
    settings = {"SQLALCHEMY_DATABASE_URI": database_url(database), "WTF_CSRF_ENABLED": False, **overrides}
    app = create_app(TestConfig, **settings)
    _made_apps.append(app)
    return app


@pytest.fixture(autouse=True)
def _close_database_connections():
    """Close the pooled connections of every app a test made, so none is left for the GC."""
    yield
    while _made_apps:
        app = _made_apps.pop()
        app.extensions["drafting.presence"].close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def build_database(database: Path | str) -> None:
    """Migrate a fresh database with Alembic and load the demo world into it."""
    from flask_migrate import upgrade

    from drafting.demo.seed import seed_demo

    app = make_app(database)
    with app.app_context():
        upgrade()
        seed_demo()
        org = db.session.scalar(select(Organisation).where(Organisation.name.like("%Secretariat%")))
        outsider = User(email=EMAILS["outsider"], name="Olga Outsider", organisation=org)
        outsider.set_password(PASSWORD)
        db.session.add(outsider)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def services_or_fail() -> None:
    """Check PostgreSQL and Redis; fail under CI, skip the PostgreSQL pass elsewhere."""
    import redis

    problems = []
    try:
        engine = create_engine(POSTGRES)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means unreachable
        problems.append(f"PostgreSQL at {POSTGRES}: {error.__class__.__name__}: {error}")
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except Exception as error:  # noqa: BLE001
        problems.append(f"Redis at {REDIS}: {error.__class__.__name__}: {error}")
    if problems:
        message = "; ".join(problems)
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and a service the PostgreSQL pass needs is unreachable: {message}",
                        pytrace=False)
        pytest.skip(f"PostgreSQL pass skipped outside CI, unreachable: {message}")


class Postgres:
    """Create and drop databases on the test server (AUTOCOMMIT, as CREATE DATABASE needs)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")

    def url_for(self, name: str) -> str:
        return self.url.rsplit("/", 1)[0] + "/" + name

    def create(self, name: str, template: str | None = None) -> str:
        with self.engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        return self.url_for(name)

    def drop(self, name: str) -> None:
        with self.engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


class Copies:
    """Copies of the template database made ahead, and used ones dropped, by a thread beside the tests.

    A copy takes PostgreSQL 0.1-0.3 s, which every test of the PostgreSQL pass waited for; made
    while the previous test runs (by PostgreSQL's own processes, on the other core), the next one is
    ready when asked for. Copies are made before drops are done; what is left is dropped at the end.
    """

    AHEAD = 2
    MAKE, DROP, STOP = 0, 1, 2  # the thread's jobs, by priority

    def __init__(self, server: Postgres, template: str):
        self.server, self.template = server, template
        self.ready: queue.Queue = queue.Queue()  # names of copies no test has had, or the error making one
        self.jobs: queue.PriorityQueue = queue.PriorityQueue()
        self.order = itertools.count()
        self.failed_drops: list[str] = []  # said at the end: a database left behind is not silent
        for _ in range(self.AHEAD):
            self._ask(self.MAKE)
        self.thread = threading.Thread(target=self._work, name="database-copies", daemon=True)
        self.thread.start()

    def _ask(self, job: int, name: str | None = None) -> None:
        self.jobs.put((job, next(self.order), name))

    def _work(self) -> None:
        while True:
            job, _, name = self.jobs.get()
            if job == self.STOP:
                return
            try:
                if job == self.MAKE:
                    name = f"drafting_{RUN}_{uuid.uuid4().hex[:10]}"
                    self.server.create(name, template=self.template)
                    self.ready.put(name)
                else:
                    self.server.drop(name)
            except Exception as error:  # noqa: BLE001 - handed to the test that waits for the copy, or to close()
                if job == self.MAKE:
                    self.ready.put(error)
                else:
                    self.failed_drops.append(f"{name}: {error.__class__.__name__}: {error}")

    def take(self) -> str:
        """A fresh copy's URL; another is made in its place."""
        self._ask(self.MAKE)
        name = self.ready.get(timeout=120)
        if isinstance(name, Exception):
            raise name
        return name

    def give_back(self, name: str) -> None:
        self._ask(self.DROP, name)

    def close(self) -> None:
        self._ask(self.STOP)
        self.thread.join(timeout=120)
        while not self.ready.empty():
            name = self.ready.get()
            if isinstance(name, str):
                self.server.drop(name)
        assert not self.failed_drops, f"test databases not dropped: {self.failed_drops}"


@pytest.fixture(scope="session")
def postgres():
    services_or_fail()
    server = Postgres(POSTGRES)
    yield server
    server.engine.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory, request) -> Path | str:
    if BACKEND != "postgres":
        path = tmp_path_factory.mktemp("template") / "drafting.db"
        build_database(path)
        return path
    server = request.getfixturevalue("postgres")
    name = f"drafting_{RUN}_template"
    url = server.create(name)
    build_database(url)
    request.addfinalizer(lambda: server.drop(name))
    return url


@pytest.fixture
def database(template_database, tmp_path, request) -> Path | str:
    if BACKEND != "postgres":
        path = tmp_path / "drafting.db"
        shutil.copy(template_database, path)
        return path
    copies = request.getfixturevalue("database_copies")
    name = copies.take()
    request.addfinalizer(lambda: copies.give_back(name))
    return copies.server.url_for(name)


@pytest.fixture(scope="session")
def database_copies(postgres, template_database):
    copies = Copies(postgres, template_database.rsplit("/", 1)[1])
    yield copies
    copies.close()


def live_env() -> dict:
    """Environment for served test apps: the Redis message queue in the PostgreSQL pass."""
    if BACKEND != "postgres":
        return {}
    return {"SOCKETIO_MESSAGE_QUEUE": REDIS, "SOCKETIO_CHANNEL": f"drafting-test-{RUN}"}


@pytest.fixture
def app(database):
    app = make_app(database)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class World:
    """Look up seeded objects by a readable name."""

    def __init__(self, app):
        self.app = app

    def user(self, role: str) -> User:
        with self.app.app_context():
            user = db.session.scalar(select(User).where(User.email == EMAILS[role]))
            db.session.expunge(user)
            return user

    def document(self, kind: str = "declaration") -> Document:
        with self.app.app_context():
            document = db.session.scalar(select(Document).where(Document.kind == kind))
            return {"id": document.id, "clause_ids": [c.id for c in document.clauses],
                    "phase": document.phase, "seq": document.seq}

    def token(self, role: str) -> str:
        with self.app.app_context():
            user = db.session.scalar(select(User).where(User.email == EMAILS[role]))
            _, secret = ApiToken.issue(user)
            db.session.commit()
            return secret


@pytest.fixture
def world(app) -> World:
    return World(app)


HX = {"HX-Request": "true"}  # the header of a request made by htmx: answered with a fragment


@pytest.fixture
def declaration(world) -> dict:
    """The Joint Declaration: in drafting."""
    return world.document("declaration")


@pytest.fixture
def plan(world) -> dict:
    """The Joint Action Plan: in consultation, deadline in three weeks."""
    return world.document("action_plan")


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, role: str):
        response = self.client.post("/login", data={"email": EMAILS[role], "password": PASSWORD})
        assert response.status_code == 302, response.status_code
        return response

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)


class Api:
    """Call the JSON API as a role: api.as_("editor").patch(path, json=...)."""

    def __init__(self, client, world):
        self.client, self.world, self.tokens = client, world, {}

    def as_(self, role: str):
        if role not in self.tokens:
            self.tokens[role] = self.world.token(role)
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        client = self.client

        class Caller:
            def __getattr__(self, method):
                def call(path, **kwargs):
                    return getattr(client, method)(f"/api/v1{path}", headers=headers, **kwargs)
                return call

        return Caller()


@pytest.fixture
def api(client, world) -> Api:
    return Api(client, world)


@pytest.fixture
def socket_client(app, client):
    """Make a Socket.IO test client sharing a Flask client's session (log in first)."""
    made = []

    def make(flask_client=None, auth=None):
        sio = socketio.test_client(app, flask_test_client=flask_client or client, auth=auth)
        made.append(sio)
        return sio

    yield make
    for sio in made:
        if sio.is_connected():
            sio.disconnect()
