"""The flask commands of CONTRACT.md, through Flask's CLI test runner."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from drafting.extensions import db
from drafting.models import (
    ApiToken,
    ChangeEvent,
    Clause,
    ClauseRevision,
    Document,
    Membership,
    Organisation,
    User,
)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_create_org(app, runner):
    result = runner.invoke(args=["create-org", "Pannonian Health Cluster", "--country", "hu"])
    assert result.exit_code == 0, result.output
    assert "Pannonian Health Cluster" in result.output
    with app.app_context():
        org = db.session.scalar(select(Organisation).where(Organisation.name == "Pannonian Health Cluster"))
        assert org is not None and org.country == "HU"


def test_create_org_duplicate_is_an_error(app, runner):
    before = count(app, Organisation)
    result = runner.invoke(args=["create-org", "Danube Health Cluster", "--country", "HU"])
    assert result.exit_code != 0
    assert "exists already" in result.output
    assert count(app, Organisation) == before


def test_create_org_twice_fails_the_second_time(app, runner):
    assert runner.invoke(args=["create-org", "Twice Cluster", "--country", "SE"]).exit_code == 0
    second = runner.invoke(args=["create-org", "Twice Cluster", "--country", "SE"])
    assert second.exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organisation)
                                 .where(Organisation.name == "Twice Cluster")) == 1


def test_create_org_bad_country_is_an_error(app, runner):
    before = count(app, Organisation)
    for country in ("SWE", "S", "1X", ""):
        result = runner.invoke(args=["create-org", "Bad Country Cluster", "--country", country])
        assert result.exit_code != 0, country
        assert "country" in result.output.lower(), country
    result = runner.invoke(args=["create-org", "No Country Cluster"])
    assert result.exit_code != 0
    assert count(app, Organisation) == before


def test_create_user(app, runner, client):
    result = runner.invoke(args=["create-user", "New.Person@Example.org", "--name", "New Person",
                                 "--org", "Danube Health Cluster", "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
        assert user is not None
        assert user.name == "New Person" and user.organisation.name == "Danube Health Cluster"
        assert user.is_admin is False
    response = client.post("/login", data={"email": "new.person@example.org", "password": "long-enough-pw"})
    assert response.status_code == 302


def test_create_admin_user(app, runner):
    result = runner.invoke(args=["create-user", "boss@example.org", "--name", "Boss", "--org",
                                 "Baltic Health Network Secretariat", "--password", "long-enough-pw",
                                 "--admin"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User.is_admin).where(User.email == "boss@example.org")) is True


def test_create_user_errors(app, runner):
    before = count(app, User)
    unknown_org = runner.invoke(args=["create-user", "someone@example.org", "--name", "Someone",
                                      "--org", "No Such Cluster", "--password", "long-enough-pw"])
    assert unknown_org.exit_code != 0
    assert "No Such Cluster" in unknown_org.output
    duplicate = runner.invoke(args=["create-user", "EDITOR@drafting.example", "--name", "Copy",
                                    "--org", "Danube Health Cluster", "--password", "long-enough-pw"])
    assert duplicate.exit_code != 0
    short = runner.invoke(args=["create-user", "short@example.org", "--name", "Short",
                                "--org", "Danube Health Cluster", "--password", "short"])
    assert short.exit_code != 0
    assert count(app, User) == before


def test_create_token_prints_a_working_token_on_the_last_line(app, runner, client):
    before = count(app, ApiToken)
    result = runner.invoke(args=["create-token", "editor@drafting.example"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip("\n").splitlines()
    token = lines[-1]
    assert token == token.strip() and " " not in token and len(token) >= 20
    assert count(app, ApiToken) == before + 1

    response = client.get("/api/v1/documents", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert len(response.get_json()) == 2
    assert client.get("/api/v1/documents", headers={"Authorization": f"Bearer {token}x"}).status_code == 401
    with app.app_context():  # only the SHA-256 of the token is stored, never the token itself
        stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and hashlib.sha256(token.encode()).hexdigest() in stored


def test_create_token_for_an_unknown_user_is_an_error(app, runner):
    before = count(app, ApiToken)
    result = runner.invoke(args=["create-token", "nobody@drafting.example"])
    assert result.exit_code != 0
    assert count(app, ApiToken) == before


def test_seed_demo_twice_changes_nothing(app, runner):
    models = (User, Organisation, Document, Clause, ClauseRevision, Membership, ChangeEvent)
    before = {model.__name__: count(app, model) for model in models}
    assert before["User"] > 0 and before["Document"] == 2 and before["Clause"] > 0
    with app.app_context():
        seqs = dict(db.session.execute(select(Document.id, Document.seq)).all())

    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        assert "nothing changed" in result.output
        assert "admin@drafting.example" in result.output  # it still prints the logins
        assert {model.__name__: count(app, model) for model in models} == before
    with app.app_context():
        assert dict(db.session.execute(select(Document.id, Document.seq)).all()) == seqs


def test_seed_demo_on_a_fresh_database_then_again(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path / "fresh.db")
    try:
        runner = app.test_cli_runner()
        upgraded = runner.invoke(args=["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        assert count(app, User) == 0

        first = runner.invoke(args=["seed-demo"])
        assert first.exit_code == 0, first.output
        assert "Demo world created." in first.output
        models = (User, Organisation, Document, Clause, ClauseRevision, Membership, ChangeEvent)
        after_first = {model.__name__: count(app, model) for model in models}
        assert after_first["Document"] == 2 and after_first["User"] > 5

        second = runner.invoke(args=["seed-demo"])
        assert second.exit_code == 0, second.output
        assert "nothing changed" in second.output
        assert {model.__name__: count(app, model) for model in models} == after_first
    finally:
        with app.app_context():
            db.engine.dispose()
