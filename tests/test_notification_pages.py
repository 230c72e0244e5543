"""Issue 14: the pages of e-mail notifications. A person's choices per category, the one-click
unsubscribe link of every mail (also RFC 8058's POST from mail clients, without CSRF token), the
admin's outbox with its texts and the button to queue a mail again, the excerpt in the in-app
list and the API, and the list of members the @ box suggests."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import User
from drafting.models.mail import NotificationPreference, OutboxMail
from tests.conftest import EMAILS, PASSWORD, make_app


def user_id(app, role: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == EMAILS[role]))


def modes(app, role: str) -> dict[str, str]:
    with app.app_context():
        rows = db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user_id(app, role)))
        return {row.category: row.mode for row in rows}


def token_for(app, role: str, category: str) -> str:
    from drafting.notifications.outbox import unsubscribe_token

    with app.app_context():
        return unsubscribe_token(db.session.get(User, user_id(app, role)), category)


def text(response) -> str:
    return response.get_data(as_text=True)


# ---- preferences ----------------------------------------------------------------------------------

def test_the_preferences_page_saves_each_category(app, client, auth):
    assert client.get("/settings/notifications").status_code == 302  # login first
    auth.login("commenter")
    page = text(client.get("/settings/notifications"))
    for label in ("Consultation", "Discussions", "Your amendments", "Signing"):
        assert f"<legend>{label}</legend>" in page
    assert page.count('type="radio"') == 4 * 3 and "Invitations always come by e-mail" in page
    assert re.search(r'name="discussion" value="immediate" checked', page)  # the default
    assert 'href="/settings/notifications"' in text(client.get("/documents"))  # linked from the header
    assert 'href="/settings/notifications"' in text(client.get("/notifications"))

    response = client.post("/settings/notifications", data={"consultation": "digest", "discussion": "off",
                                                            "amendments": "immediate", "signing": "immediate"})
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "Your choices are saved. Consultation: daily digest; Discussions: off;" in page
    assert re.search(r'name="discussion" value="off" checked', page)
    assert modes(app, "commenter") == {"consultation": "digest", "discussion": "off"}
    assert modes(app, "editor") == {}  # one's own only

    response = client.post("/settings/notifications", data={"discussion": "weekly"})
    assert response.status_code == 422 and "Choose how you want “Discussions” e-mails" in text(response)
    assert modes(app, "commenter") == {"consultation": "digest", "discussion": "off"}


def test_the_preferences_page_needs_the_csrf_token(database):
    app = make_app(database, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    page = text(client.get("/login"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"email": EMAILS["commenter"], "password": PASSWORD, "csrf_token": token})
    assert client.post("/settings/notifications", data={"discussion": "off"}).status_code == 400
    page = text(client.get("/settings/notifications"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/settings/notifications", data={"discussion": "off", "csrf_token": token}).status_code == 302


# ---- unsubscribing ----------------------------------------------------------------------------------

def test_unsubscribe_asks_then_stops_one_category(app, client):
    token = token_for(app, "commenter", "discussion")
    page = text(client.get(f"/unsubscribe/{token}"))  # no login needed
    assert "Stop “Discussions” e-mails?" in page and "commenter@drafting.example" in page
    assert modes(app, "commenter") == {}  # a GET (a link scanner) changes nothing
    page = text(client.post(f"/unsubscribe/{token}"))
    assert "You are unsubscribed" in page and "no longer receives “Discussions” e-mails" in page
    assert modes(app, "commenter") == {"discussion": "off"}
    assert "already off" in text(client.get(f"/unsubscribe/{token}"))


def test_one_click_unsubscribe_from_a_mail_client_needs_no_csrf_token(database):
    """RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the List-Unsubscribe URL."""
    app = make_app(database, WTF_CSRF_ENABLED=True)
    token = token_for(app, "signatory", "signing")
    response = app.test_client().post(f"/unsubscribe/{token}", data="List-Unsubscribe=One-Click",
                                      content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert modes(app, "signatory") == {"signing": "off"}
    # Other pages still need the token.
    assert app.test_client().post("/settings/notifications", data={"signing": "off"}).status_code == 400


@pytest.mark.parametrize("token", ["nonsense", "WzEsImRpc2N1c3Npb24iXQ.forged-signature-here"])
def test_a_bad_unsubscribe_token_is_not_found(client, token):
    assert client.get(f"/unsubscribe/{token}").status_code == 404
    assert client.post(f"/unsubscribe/{token}").status_code == 404


def test_invitations_cannot_be_unsubscribed(app, client):
    from drafting.notifications.outbox import _serializer

    with app.app_context():
        token = _serializer().dumps([user_id(app, "commenter"), "invitation"])
    assert client.post(f"/unsubscribe/{token}").status_code == 404


def test_a_mail_carries_a_working_unsubscribe_link(app, api, client, plan):
    thread = api.as_("commenter").post(f"/clauses/{plan['clause_ids'][1]}/threads", json={"body": "A question."})
    api.as_("editor").post(f"/threads/{thread.get_json()['id']}/comments", json={"body": "An answer."})
    with app.app_context():
        mail = db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc())).first()
        assert mail.to_email == EMAILS["commenter"] and mail.unsubscribe_url in mail.text_body
        link = mail.unsubscribe_url
    assert client.post(link.removeprefix("http://localhost")).status_code == 200
    assert modes(app, "commenter") == {"discussion": "off"}


# ---- the admin's outbox -----------------------------------------------------------------------------

def failed_mail(app) -> int:
    with app.app_context():
        mail = OutboxMail(to_email="ana.pop@carpathian.example", category="invitation", subject="Invitation to a test",
                          text_body="Open it: http://localhost/invitations/secret-link", html_body="<p>x</p>",
                          status="failed", attempts=5, last_error="SMTP 550: mailbox unavailable")
        db.session.add(mail)
        db.session.commit()
        return mail.id


@pytest.mark.parametrize("role", ["editor", "commenter", "observer", "outsider"])
def test_only_the_secretariat_reads_the_outbox(app, client, auth, role):
    mail = failed_mail(app)
    auth.login(role)
    assert client.get("/admin/outbox").status_code == 403
    assert client.post(f"/admin/outbox/{mail}/requeue").status_code == 403


def test_the_outbox_lists_mails_and_queues_a_failed_one_again(app, client, auth):
    mail = failed_mail(app)
    assert client.get("/admin/outbox").status_code == 302
    auth.login("admin")
    page = text(client.get("/admin/outbox"))
    assert "No mail server is configured" in page and 'aria-current="page">Outbox' in page
    entry = re.search(rf'<li id="mail-{mail}".*?</li>', page, re.S).group(0)
    for shown in ("Invitation to a test", "ana.pop@carpathian.example", "Invitations", "Failed",
                  "SMTP 550: mailbox unavailable", "http://localhost/invitations/secret-link", "Queue again"):
        assert shown in entry, shown
    assert f'id="mail-{mail}"' in text(client.get("/admin/outbox?status=failed"))
    assert f'id="mail-{mail}"' not in text(client.get("/admin/outbox?status=sent"))
    assert client.get("/admin/outbox?status=lost").status_code == 404

    response = client.post(f"/admin/outbox/{mail}/requeue", data={"status": "failed"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/outbox?status=failed#mail-{mail}")
    assert "is queued again" in text(client.get("/admin/outbox"))
    with app.app_context():
        row = db.session.get(OutboxMail, mail)
        assert (row.status, row.attempts, row.last_error) == ("queued", 0, "SMTP 550: mailbox unavailable")
    assert client.post(f"/admin/outbox/{mail}/requeue").status_code == 409  # queued already
    assert client.post("/admin/outbox/999999/requeue").status_code == 404


def test_the_outbox_is_in_the_admin_nav(client, auth):
    auth.login("admin")
    assert 'href="/admin/outbox"' in text(client.get("/admin/users"))


# ---- the in-app list and the API ----------------------------------------------------------------------

def test_the_in_app_list_and_the_api_show_the_excerpt(app, api, client, auth, plan):
    api.as_("commenter").post(f"/clauses/{plan['clause_ids'][1]}/threads",
                              json={"body": "@Tereza Novotná: <strong>who</strong> pays for <script>x</script> this?"})
    auth.login("editor")
    page = text(client.get("/notifications"))
    excerpt = re.search(r'<blockquote class="notification-excerpt"[^>]*>(.*?)</blockquote>', page, re.S).group(1)
    assert excerpt == "@Tereza Novotná: who pays for &lt;script&gt;x&lt;/script&gt; this?"
    [entry] = api.as_("editor").get("/notifications").get_json()
    assert entry["excerpt"] == "@Tereza Novotná: who pays for <script>x</script> this?"
    schema = api.as_("editor").get("/openapi.json").get_json()["components"]["schemas"]["Notification"]
    assert "excerpt" in schema["properties"]


# ---- the @ box ------------------------------------------------------------------------------------------

def test_the_mention_box_suggests_members(app, client, auth, plan):
    auth.login("commenter")
    url = f"/documents/{plan['id']}/people"
    names = [p["name"] for p in client.get(url, query_string={"q": "tere"}).get_json()]
    assert names == ["Tereza Novotná"]
    assert [p["name"] for p in client.get(url, query_string={"q": "szucs"}).get_json()] == ["Katalin Szűcs"]
    assert [p["name"] for p in client.get(url, query_string={"q": "NOVOTNA"}).get_json()] == ["Tereza Novotná"]
    assert [p["name"] for p in client.get(url, query_string={"q": "lieve"}).get_json()] == []  # not oneself
    assert client.get(url, query_string={"q": "ovotn"}).get_json() == []  # words start with it
    many = client.get(url, query_string={"q": "drafting"}).get_json()  # e-mail words: @drafting.example
    assert 0 < len(many) <= 8 and all(set(p) == {"name", "organisation"} for p in many)
    assert len(client.get(url, query_string={"q": "a"}).get_json()) <= 8
    assert client.get(url).get_json() == []
    auth.logout()
    auth.login("outsider")
    assert client.get(url, query_string={"q": "tere"}).status_code == 404
