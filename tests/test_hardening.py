"""Answers made for one person are never cached; HTTPS is pinned when cookies are secure; a GET
changes no state (issue 16). Over HTTP, as a browser and an API client see it."""

from __future__ import annotations

from sqlalchemy import select

from drafting.extensions import db
from drafting.models import Notification, User
from tests.conftest import EMAILS, make_app
from tests.test_consultation import open_thread


def test_pages_and_answers_for_a_person_are_not_stored(auth, client, api, world):
    assert "no-store" not in client.get("/login").headers.get("Cache-Control", "")  # nobody's page
    auth.login("editor")
    plan = world.document("action_plan")
    for path in ("/documents", f"/documents/{plan['id']}", "/notifications", "/settings/tokens"):
        assert client.get(path).headers.get("Cache-Control") == "no-store", path
    assert api.as_("editor").get(f"/documents/{plan['id']}").headers.get("Cache-Control") == "no-store"
    static = client.get("/static/app.css")
    try:
        assert static.status_code == 200 and static.headers.get("Cache-Control") != "no-store"
    finally:
        static.close()


def test_hsts_only_when_cookies_are_secure(database, client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = make_app(database, SESSION_COOKIE_SECURE=True).test_client()
    assert secure.get("/login").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_following_a_notification_link_by_get_leaves_it_unread(app, api, auth, client, world):
    plan = world.document("action_plan")
    open_thread(api, plan["clause_ids"][2], "@Tereza Novotná a question for you.")
    with app.app_context():
        notification = db.session.scalar(select(Notification).join(User).where(User.email == EMAILS["editor"]))
        notification_id = notification.id
    auth.login("editor")
    assert client.get(f"/notifications/{notification_id}").status_code == 302
    with app.app_context():
        assert db.session.get(Notification, notification_id).read_at is None
    page = client.get("/notifications").get_data(as_text=True)
    assert f'action="/notifications/{notification_id}/open"' in page  # the list opens it by POST


def test_reconnecting_the_namespace_does_not_reset_the_flood_budget(app, auth, socket_client, world):
    """Alternating connect packets on one transport used to start a fresh budget each time."""
    auth.login("observer")
    sio = socket_client()
    document_id = world.document()["id"]
    sent, refused = 0, False
    for _ in range(40):
        if not sio.is_connected():
            sio.connect()  # a namespace connect on the same Engine.IO session
            if not sio.is_connected():
                refused = True
                break
        sent += 1
        sio.emit("editing", {"document_id": document_id, "clause_id": None}, callback=True)
        sio.disconnect()
    assert refused, "forty connects and events in a second were all accepted"
    assert sent <= 20
