"""An ended session, seen over HTTP (issue 15, item 2): a request of the page's script gets 401
marked `HX-Session-Ended: 1`, never the login page; GET /session gives a fresh CSRF token; the
"logged in again" page; full-page requests keep redirecting to the login page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import EMAILS, HX, PASSWORD, make_app

ENDED = "Your session has ended. Nothing you typed is lost"


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def assert_session_ended(response, page_path: str | None = None):
    assert response.status_code == 401
    assert response.headers["HX-Session-Ended"] == "1"
    assert "Location" not in response.headers  # not a redirect
    assert response.headers["Cache-Control"] == "no-store"
    assert "<form" not in response.get_data(as_text=True)
    if page_path is not None:
        target = urlsplit(response.headers["HX-Redirect"])
        assert target.path == "/login" and parse_qs(target.query)["next"] == [page_path]


@pytest.fixture
def csrf_client(database):
    """A client of an app with CSRF protection on, as in production."""
    app = make_app(database, WTF_CSRF_ENABLED=True)
    return app.test_client()


def login_with_token(client, role: str = "editor") -> None:
    token = token_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": EMAILS[role], "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_an_htmx_request_without_a_session_gets_401_marked_not_a_redirect(client, world):
    document = world.document()
    clause_id = document["clause_ids"][0]
    page = f"http://localhost/documents/{document['id']}"
    got = client.get(f"/clauses/{clause_id}/edit", headers={**HX, "HX-Current-URL": page})
    assert_session_ended(got, f"/documents/{document['id']}")
    assert ENDED in got.get_data(as_text=True)
    saved = client.post(f"/clauses/{clause_id}", data={"text": "x", "base_version": "1"}, headers=HX)
    assert_session_ended(saved)


def test_a_fetch_without_a_session_gets_the_marked_401_too(client, world):
    document = world.document()
    by_fetch = client.get(f"/documents/{document['id']}/changes?since=0", headers={"Sec-Fetch-Dest": "empty"})
    assert_session_ended(by_fetch)
    as_json = client.get(f"/documents/{document['id']}/changes?since=0", headers={"Accept": "application/json"})
    assert_session_ended(as_json)
    assert as_json.get_json()["error"]["code"] == "session_ended"
    assert ENDED in as_json.get_json()["error"]["message"]


def test_a_page_request_without_a_session_still_redirects_to_the_login(client, world):
    document = world.document()
    page = client.get(f"/documents/{document['id']}")
    assert page.status_code == 302 and urlsplit(page.headers["Location"]).path == "/login"
    assert "HX-Session-Ended" not in page.headers


def test_a_session_ended_by_a_logout_elsewhere_is_marked(client, auth, world):
    clause_id = world.document()["clause_ids"][0]
    auth.login("editor")
    assert client.get(f"/clauses/{clause_id}/edit", headers=HX).status_code == 200
    kept = client.get_cookie("session").value
    auth.logout()  # another tab of this person logs out: every copy of the session ends
    client.set_cookie("session", kept)
    assert_session_ended(client.get(f"/clauses/{clause_id}/edit", headers=HX))


def test_a_missing_csrf_session_token_is_a_session_end_for_htmx(csrf_client, world):
    client = csrf_client
    document = world.document()
    clause_id = document["clause_ids"][0]
    login_with_token(client)
    page = client.get(f"/documents/{document['id']}").get_data(as_text=True)
    token = token_of(page)
    client.delete_cookie("session")  # the session cookie is gone (expired, cleared)
    data = {"text": "Typed before the session ended.", "base_version": "1", "csrf_token": token}
    refused = client.post(f"/clauses/{clause_id}", data=data, headers={**HX, "X-CSRFToken": token})
    assert_session_ended(refused)
    # As a whole page the same failure stays a plain 400, as before.
    plain = client.post(f"/clauses/{clause_id}", data=data)
    assert plain.status_code == 400 and "HX-Session-Ended" not in plain.headers


def test_a_token_of_an_earlier_session_is_marked_stale_and_a_fresh_one_works(csrf_client, world):
    client = csrf_client
    document = world.document()
    clause_id = document["clause_ids"][0]
    login_with_token(client)
    old = token_of(client.get(f"/documents/{document['id']}").get_data(as_text=True))
    client.delete_cookie("session")
    login_with_token(client)  # logged in again (another tab): a new session, a new token
    data = {"text": "Sent again with the fresh token.", "base_version": "1"}
    stale = client.post(f"/clauses/{clause_id}", data={**data, "csrf_token": old}, headers={**HX, "X-CSRFToken": old})
    assert stale.status_code == 400 and stale.headers["HX-CSRF-Stale"] == "1"
    assert "HX-Session-Ended" not in stale.headers
    state = client.get("/session", headers={"Accept": "application/json"})
    assert state.status_code == 200 and state.headers["Cache-Control"] == "no-store"
    fresh = state.get_json()["csrf_token"]
    saved = client.post(f"/clauses/{clause_id}", data={**data, "csrf_token": fresh}, headers={**HX, "X-CSRFToken": fresh})
    assert saved.status_code == 200 and "Sent again with the fresh token." in saved.get_data(as_text=True)


def test_get_session_tells_who_is_logged_in(client, auth, world):
    anonymous = client.get("/session")
    assert anonymous.status_code == 200
    assert anonymous.get_json()["authenticated"] is False and anonymous.get_json()["user_id"] is None
    assert anonymous.get_json()["csrf_token"]
    auth.login("commenter")
    mine = client.get("/session").get_json()
    assert mine["authenticated"] is True and mine["user_id"] == world.user("commenter").id
    assert mine["csrf_token"] and set(mine) == {"authenticated", "user_id", "csrf_token"}


def test_the_logged_in_again_page_and_the_login_that_leads_there(client, auth):
    login_link = "/login?next=/session/again"
    assert client.get("/session/again").status_code == 302
    response = client.post(login_link, data={"email": EMAILS["editor"], "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/session/again"
    page = client.get("/session/again").get_data(as_text=True)
    assert "You are logged in again; you can close this tab." in page
    # Already logged in (another tab was quicker): the login page goes on to the same place.
    again = client.get(login_link)
    assert again.status_code == 302 and again.headers["Location"] == "/session/again"
    assert client.get("/login?next=https://evil.example/x").headers["Location"] == "/documents"


def test_document_pages_carry_what_the_script_needs(client, auth, world):
    auth.login("editor")
    page = client.get(f"/documents/{world.document()['id']}").get_data(as_text=True)
    user_id = world.user("editor").id
    assert f'data-user="{user_id}"' in page and 'data-session-url="/session"' in page
    assert 'data-login-again-url="/login?next=/session/again"' in page and 'data-logout-url="/logout"' in page
    client.post("/logout")
    login = client.get("/login").get_data(as_text=True)
    assert "data-user=" not in login  # nothing is kept for logged-out pages
