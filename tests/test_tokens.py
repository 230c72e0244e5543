"""Personal API tokens (issue 16): an expiry, a name, listed and revoked by their owner on a page,
through the API and with `revoke-tokens`; an expired or revoked token opens nothing, also not a
live connection."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import ApiToken, User
from drafting.models.base import utcnow
from tests.conftest import EMAILS


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def created(runner, *args) -> str:
    result = runner.invoke(args=["create-token", *args])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def token_row(app, secret: str) -> ApiToken:
    with app.app_context():
        row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(secret)))
        db.session.expunge(row)
        return row


def test_create_token_with_an_expiry_works_until_it_passes(app, runner, client):
    secret = created(runner, EMAILS["editor"], "--expires-days", "30", "--name", "Nightly export")
    row = token_row(app, secret)
    assert row.name == "Nightly export"
    assert timedelta(days=29, hours=23) < row.expires_at - utcnow() <= timedelta(days=30)
    assert client.get("/api/v1/documents", headers=bearer(secret)).status_code == 200
    with app.app_context():  # a month later
        db.session.get(ApiToken, row.id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/api/v1/documents", headers=bearer(secret)).status_code == 401


@pytest.mark.parametrize("days", ["0", "-3", "3651", "soon"])
def test_create_token_refuses_an_impossible_expiry(app, runner, days):
    with app.app_context():
        before = db.session.query(ApiToken).count()
    result = runner.invoke(args=["create-token", EMAILS["editor"], "--expires-days", days])
    assert result.exit_code != 0 and "--expires-days" in result.output
    with app.app_context():
        assert db.session.query(ApiToken).count() == before


def test_without_expires_days_a_token_lasts_until_revoked(app, runner):
    assert token_row(app, created(runner, EMAILS["editor"])).expires_at is None


def test_revoke_tokens_ends_every_token_of_that_person_only(app, runner, client):
    first, second = created(runner, EMAILS["editor"]), created(runner, EMAILS["editor"])
    other = created(runner, EMAILS["commenter"])
    result = runner.invoke(args=["revoke-tokens", EMAILS["editor"]])
    assert result.exit_code == 0 and f"Revoked 2 API tokens of {EMAILS['editor']}." in result.output
    for secret in (first, second):
        assert client.get("/api/v1/documents", headers=bearer(secret)).status_code == 401
    assert client.get("/api/v1/documents", headers=bearer(other)).status_code == 200
    assert runner.invoke(args=["revoke-tokens", "nobody@drafting.example"]).exit_code != 0


def test_the_owner_lists_tokens_without_secrets_and_revokes_one(app, runner, client):
    mine, spare = created(runner, EMAILS["editor"], "--name", "Script"), created(runner, EMAILS["editor"])
    listed = client.get("/api/v1/tokens", headers=bearer(mine))
    assert listed.status_code == 200
    tokens = listed.get_json()
    assert {t["state"] for t in tokens} == {"active"}
    current = [t for t in tokens if t["current"]]
    assert len(current) == 1 and current[0]["name"] == "Script"
    text = listed.get_data(as_text=True)
    assert mine not in text and spare not in text and ApiToken.hash(mine) not in text

    spare_id = token_row(app, spare).id
    assert client.delete(f"/api/v1/tokens/{spare_id}", headers=bearer(mine)).status_code == 204
    assert client.get("/api/v1/documents", headers=bearer(spare)).status_code == 401
    states = {t["id"]: t["state"] for t in client.get("/api/v1/tokens", headers=bearer(mine)).get_json()}
    assert states[spare_id] == "revoked"
    # Revoking the token in use works too; afterwards it opens nothing.
    assert client.delete(f"/api/v1/tokens/{token_row(app, mine).id}", headers=bearer(mine)).status_code == 204
    assert client.get("/api/v1/tokens", headers=bearer(mine)).status_code == 401


def test_another_persons_token_is_not_found(app, runner, client):
    theirs = created(runner, EMAILS["commenter"])
    mine = created(runner, EMAILS["editor"])
    theirs_id = token_row(app, theirs).id
    answer = client.delete(f"/api/v1/tokens/{theirs_id}", headers=bearer(mine))
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    assert theirs_id not in {t["id"] for t in client.get("/api/v1/tokens", headers=bearer(mine)).get_json()}
    assert client.get("/api/v1/documents", headers=bearer(theirs)).status_code == 200


def test_the_page_makes_a_token_shown_once_and_revokes_it(app, auth, client):
    auth.login("commenter")
    page = client.get("/settings/tokens").get_data(as_text=True)
    assert "You have no tokens." in page
    made = client.post("/settings/tokens", data={"name": "LEOS bridge", "expires_in_days": "90"})
    assert made.status_code == 302
    shown = client.get("/settings/tokens").get_data(as_text=True)
    secret = re.search(r'value="(dft_[^"]+)"', shown).group(1)
    assert "shown only this once" in shown and "LEOS bridge" in shown and "expires" in shown
    assert secret not in client.get("/settings/tokens").get_data(as_text=True)  # once
    assert client.get("/api/v1/documents", headers=bearer(secret)).status_code == 200

    token_id = token_row(app, secret).id
    assert client.post(f"/settings/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/documents", headers=bearer(secret)).status_code == 401
    assert "revoked" in client.get("/settings/tokens").get_data(as_text=True)


@pytest.mark.parametrize("form, message", [
    ({"name": "", "expires_in_days": "30"}, "Give the token a name"),
    ({"name": "x" * 101, "expires_in_days": "30"}, "at most 100 characters"),
    ({"name": "Ok", "expires_in_days": "99999"}, "1 to 3650 days"),
    ({"name": "Ok", "expires_in_days": "soon"}, "Choose when the token expires"),
])
def test_the_page_refuses_a_bad_token_form_in_place(app, auth, client, form, message):
    auth.login("commenter")
    with app.app_context():
        before = db.session.query(ApiToken).count()
    answer = client.post("/settings/tokens", data=form)
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert message in text and 'aria-invalid="true"' in text
    with app.app_context():
        assert db.session.query(ApiToken).count() == before


def test_someone_elses_token_cannot_be_revoked_on_the_page(app, runner, auth, client):
    theirs = created(runner, EMAILS["editor"])
    auth.login("commenter")
    assert client.post(f"/settings/tokens/{token_row(app, theirs).id}/revoke").status_code == 404
    assert client.get("/api/v1/documents", headers=bearer(theirs)).status_code == 200


def test_revoking_ends_a_live_connection_opened_with_the_token(app, runner, client, world):
    from drafting.extensions import socketio

    secret = created(runner, EMAILS["editor"])
    plan = world.document("action_plan")
    sio = socketio.test_client(app, flask_test_client=app.test_client(), auth={"token": secret})
    assert sio.is_connected()
    assert sio.emit("join", {"document_id": plan["id"]}, callback=True)["ok"] is True
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == EMAILS["editor"]))
    assert runner.invoke(args=["revoke-tokens", EMAILS["editor"]]).exit_code == 0
    assert not sio.is_connected(), f"the connection of user {user_id} stayed open after its token was revoked"
    again = socketio.test_client(app, flask_test_client=app.test_client(), auth={"token": secret})
    assert not again.is_connected()
