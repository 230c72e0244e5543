"""Shared fixtures: a migrated, seeded SQLite database per test, clients, login and API helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from drafting import create_app
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


def make_app(database: Path, **overrides):
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}", "WTF_CSRF_ENABLED": False, **overrides}
    return create_app(TestConfig, **settings)


def build_database(path: Path) -> None:
    """Migrate a fresh SQLite file with Alembic and load the demo world into it."""
    from flask_migrate import upgrade

    from drafting.demo.seed import seed_demo

    app = make_app(path)
    with app.app_context():
        upgrade()
        seed_demo()
        org = db.session.scalar(select(Organisation).where(Organisation.name.like("%Secretariat%")))
        outsider = User(email=EMAILS["outsider"], name="Olga Outsider", organisation=org)
        outsider.set_password(PASSWORD)
        db.session.add(outsider)
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "drafting.db"
    build_database(path)
    return path


@pytest.fixture
def database(template_database, tmp_path) -> Path:
    path = tmp_path / "drafting.db"
    shutil.copy(template_database, path)
    return path


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
