"""Invitations (issue 13, item 2): the admin invites a person to a document by e-mail; the one-time
link sets a password, creates the account and opens the document; used, revoked and expired
links answer 410."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import AuditEvent, Invitation, Membership, User
from drafting.models.base import utcnow
from tests.conftest import EMAILS, PASSWORD
from tests.test_api import assert_error
from tests.test_people import events, field_error, follow, text_of

NEW = {"email": "Mara.Ionescu@carpathian.example", "name": "Mara Ionescu",
       "organisation": "Danube Health Cluster", "role": "commenter"}


def invite_in_page(client, document_id: int, **changes) -> str:
    """Invite through the members page as the logged-in admin; return the link shown."""
    page = follow(client, client.post(f"/documents/{document_id}/invitations", data={**NEW, **changes}))
    assert "No e-mail is sent yet" in page
    return re.search(r'id="new-link-url" type="text" readonly value="([^"]+)"', page).group(1)


def path_of(link: str) -> str:
    return link.removeprefix("http://localhost")


def test_the_admin_invites_and_the_person_joins(app, client, auth, declaration):
    auth.login("admin")
    doc = declaration["id"]
    link = invite_in_page(client, doc)
    assert re.fullmatch(r"http://localhost/invitations/[A-Za-z0-9_-]{43}", link)
    page = text_of(client.get(f"/documents/{doc}/members"))
    assert "new-link-url" not in page  # the secret is shown once
    pending = re.search(r'<li id="invitation-\d+">.*?</li>', page, re.S).group(0)
    assert "mara.ionescu@carpathian.example" in pending and "expires <time" in pending and "Revoke" in pending
    created = events(app, "invitation.created")[-1]
    assert created.document_id == doc and created.details["role"] == "commenter"
    secret = link.rsplit("/", 1)[1]
    with app.app_context():
        invitation = db.session.scalar(select(Invitation))
        assert invitation.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret not in str(created.details)
        assert timedelta(days=6, hours=23) < invitation.expires_at - invitation.created_at <= timedelta(days=7)
    auth.logout()

    guest = app.test_client()
    page = text_of(guest.get(path_of(link)))
    assert "Joint Declaration" in page and "Mara Ionescu" in page and "commenter" in page
    response = guest.post(path_of(link), data={"password": "short", "confirm": "short"})
    assert response.status_code == 422 and "at least 8 characters" in text_of(response)
    response = guest.post(path_of(link), data={"password": "my own secret", "confirm": "my 0wn secret"})
    assert response.status_code == 422 and "not the same" in text_of(response)

    response = guest.post(path_of(link), data={"password": "my own secret", "confirm": "my own secret"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/documents/{doc}")
    page = text_of(guest.get(f"/documents/{doc}"))
    assert "Welcome, Mara Ionescu: you are commenter of this document." in page
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "mara.ionescu@carpathian.example"))
        assert user.name == "Mara Ionescu" and user.organisation.name == "Danube Health Cluster"
        assert user.check_password("my own secret")
        role = db.session.scalar(select(Membership.role).where(Membership.user_id == user.id,
                                                               Membership.document_id == doc))
        assert role == "commenter"
        invitation = db.session.scalar(select(Invitation))
        assert invitation.accepted_at is not None and invitation.user_id == user.id
    assert events(app, "invitation.accepted")[-1].details["new_account"] is True

    # the link worked once
    again = app.test_client().get(path_of(link))
    assert again.status_code == 410 and "used already" in text_of(again)
    response = app.test_client().post(path_of(link), data={"password": "take over", "confirm": "take over"})
    assert response.status_code == 410
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "mara.ionescu@carpathian.example")
                                 ).check_password("my own secret")


def test_revoked_expired_and_unknown_links(app, client, auth, declaration):
    auth.login("admin")
    doc = declaration["id"]
    revoked = invite_in_page(client, doc, email="one@x.example")
    expired = invite_in_page(client, doc, email="two@x.example")
    with app.app_context():
        first = db.session.scalar(select(Invitation).where(Invitation.email == "one@x.example"))
        second = db.session.scalar(select(Invitation).where(Invitation.email == "two@x.example"))
        second.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        first_id = first.id
    page = follow(client, client.post(f"/documents/{doc}/invitations/{first_id}/revoke"))
    assert "The invitation of one@x.example is withdrawn" in page
    assert "two@x.example" not in page  # expired: no longer pending
    assert client.post(f"/documents/{doc}/invitations/{first_id}/revoke").status_code == 409
    assert events(app, "invitation.revoked")

    guest = app.test_client()
    response = guest.get(path_of(revoked))
    assert response.status_code == 410 and "withdrawn by the secretariat" in text_of(response)
    response = guest.post(path_of(expired), data={"password": "long enough", "confirm": "long enough"})
    assert response.status_code == 410 and "expired" in text_of(response)
    response = guest.get("/invitations/" + "A" * 43)
    assert response.status_code == 404 and "not valid" in text_of(response)
    assert guest.get("/invitations/%00%ff").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email.in_(["one@x.example", "two@x.example"]))) is None


def test_a_new_invitation_replaces_the_pending_one(app, client, auth, declaration):
    auth.login("admin")
    old = invite_in_page(client, declaration["id"])
    new = invite_in_page(client, declaration["id"], role="observer")
    assert app.test_client().get(path_of(old)).status_code == 410
    assert app.test_client().get(path_of(new)).status_code == 200
    page = text_of(client.get(f"/documents/{declaration['id']}/members"))
    assert page.count('<li id="invitation-') == 1


@pytest.mark.parametrize("changes, status, key, words", [
    ({"email": EMAILS["editor"]}, 409, "invite-email", "already a member of this document, as editor"),
    ({"email": "no address"}, 422, "invite-email", "not an e-mail address"),
    ({"name": " "}, 422, "invite-name", "Enter the person"),
    ({"organisation": "Nowhere Cluster"}, 422, "invite-organisation", "No organisation has that name"),
    ({"role": "admin"}, 422, "invite-role", "Role must be one of"),
])
def test_a_refused_invitation_says_why_beside_the_field(app, client, auth, declaration, changes, status, key, words):
    auth.login("admin")
    data = {**NEW, **changes}
    response = client.post(f"/documents/{declaration['id']}/invitations", data=data)
    assert response.status_code == status
    page = text_of(response)
    assert words in field_error(page, key)
    if data["email"].strip() and "no address" not in data["email"]:
        assert f'value="{data["email"]}"' in page
    assert "new-link-url" not in page
    with app.app_context():
        assert db.session.scalar(select(Invitation)) is None


def test_inviting_a_deactivated_account_is_refused(app, client, auth, declaration):
    auth.login("admin")
    outsider = db_user_id(app, EMAILS["outsider"])
    client.post(f"/admin/users/{outsider}/deactivate")
    response = client.post(f"/documents/{declaration['id']}/invitations", data={**NEW, "email": EMAILS["outsider"]})
    assert response.status_code == 422 and "deactivated" in field_error(text_of(response), "invite-email")


def test_an_existing_account_is_not_invited_for_another_cluster(app, client, auth, api, declaration):
    """Olga's account belongs to the secretariat: an invitation "as" the Danube cluster was silently
    ignored (she joined for her own organisation); it is refused on the cluster field."""
    auth.login("admin")
    data = {**NEW, "email": EMAILS["outsider"], "organisation": "Danube Health Cluster"}
    response = client.post(f"/documents/{declaration['id']}/invitations", data=data)
    assert response.status_code == 422
    message = field_error(text_of(response), "invite-organisation")
    assert "Olga Outsider (outsider@drafting.example) already has an account as a member of " \
           "Baltic Health Network Secretariat" in message and "not for Danube Health Cluster" in message
    assert f'value="{EMAILS["outsider"]}"' in text_of(response) and "new-link-url" not in text_of(response)
    answer = assert_error(api.as_("admin").post(f"/documents/{declaration['id']}/invitations", json=data), 422)
    assert "already has an account as a member of Baltic Health Network Secretariat" in answer["error"]["message"]
    with app.app_context():
        assert db.session.scalar(select(Invitation)) is None
    # For the cluster the account belongs to, the invitation is made.
    assert invite_in_page(client, declaration["id"], email=EMAILS["outsider"],
                          organisation="Baltic Health Network Secretariat")


def test_an_account_made_meanwhile_in_another_cluster_cannot_accept(app, client, auth, declaration):
    """The address got an account of another cluster after it was invited: accepting is refused."""
    auth.login("admin")
    link = path_of(invite_in_page(client, declaration["id"]))  # for the Danube cluster
    with app.app_context():
        from drafting.models import Organisation

        meseta = db.session.scalar(select(Organisation.id).where(Organisation.name == "Meseta BioHealth Cluster"))
    follow(client, client.post("/admin/users", data={"name": "Mara Ionescu", "email": NEW["email"],
                                                     "organisation": str(meseta), "password": "a long secret"}))
    mara = app.test_client()
    mara.post("/login", data={"email": NEW["email"], "password": "a long secret"})
    response = mara.post(link)
    assert response.status_code == 409
    page = text_of(response)
    assert "This invitation is for a member of Danube Health Cluster, but your account belongs to " \
           "Meseta BioHealth Cluster" in page and 'id="organisation-error"' in page
    with app.app_context():
        assert db.session.scalar(select(Membership).where(Membership.user_id == db_user_id(app, NEW["email"].lower()),
                                                          Membership.document_id == declaration["id"])) is None
        assert db.session.scalar(select(Invitation)).accepted_at is None


def db_user_id(app, email: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def test_an_existing_account_logs_in_to_accept(app, client, auth, declaration):
    auth.login("admin")
    doc = declaration["id"]
    link = path_of(invite_in_page(client, doc, email=EMAILS["outsider"], role="observer",
                                  organisation="Baltic Health Network Secretariat"))  # the outsider's own

    guest = app.test_client()
    page = text_of(guest.get(link))
    assert "exists already" in page and 'name="password"' not in page
    # no account is made over the existing one, and no role is given without logging in
    response = guest.post(link, data={"password": "hijack it", "confirm": "hijack it"})
    assert response.status_code == 200 and "Log in to accept" in text_of(response)

    # someone else logged in: told so, nothing changes
    auth.logout()
    auth.login("editor")
    page = text_of(client.post(link))
    assert "this invitation is for outsider@drafting.example" in page
    with app.app_context():
        assert db.session.scalar(select(Membership).where(Membership.user_id == db_user_id(app, EMAILS["outsider"]),
                                                          Membership.document_id == doc)) is None

    # the owner logs in (back to the link) and accepts: the role is added to their account
    outsider = app.test_client()
    response = outsider.post(f"/login?next={link}", data={"email": EMAILS["outsider"], "password": PASSWORD})
    assert response.headers["Location"] == link
    assert "Accept and open the document" in text_of(outsider.get(link))
    response = outsider.post(link)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/documents/{doc}")
    assert outsider.get(f"/documents/{doc}").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAILS["outsider"]))
        assert user.check_password(PASSWORD) and user.name == "Olga Outsider"
    assert events(app, "invitation.accepted")[-1].details["new_account"] is False
    assert outsider.get(link).status_code == 410


def test_only_the_admin_invites_and_revokes(app, client, auth, api, declaration):
    auth.login("admin")
    invite_in_page(client, declaration["id"])
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    auth.logout()
    for role, status in [("editor", 403), ("signatory", 403), ("outsider", 404)]:
        auth.login(role)
        assert client.post(f"/documents/{declaration['id']}/invitations", data=NEW).status_code == status
        assert client.post(f"/documents/{declaration['id']}/invitations/{invitation_id}/revoke").status_code == status
        assert_error(api.as_(role).post(f"/documents/{declaration['id']}/invitations", json=NEW), status)
        auth.logout()
    with app.app_context():
        assert db.session.scalar(select(Invitation)).revoked_at is None


def test_an_invitation_of_another_document_is_not_revoked_here(app, client, auth, api, declaration):
    other = api.as_("admin").post("/documents", json={"title": "Other", "kind": "declaration"}).get_json()["id"]
    auth.login("admin")
    invite_in_page(client, declaration["id"])
    with app.app_context():
        invitation_id = db.session.scalar(select(Invitation.id))
    assert client.post(f"/documents/{other}/invitations/{invitation_id}/revoke").status_code == 404
    with app.app_context():
        assert db.session.get(Invitation, invitation_id).revoked_at is None


# ---- the API --------------------------------------------------------------------------------------

def test_the_api_invites_and_gives_the_link(app, api, declaration):
    response = api.as_("admin").post(f"/documents/{declaration['id']}/invitations", json=NEW)
    assert response.status_code == 201
    data = response.get_json()
    assert set(data) == {"id", "email", "expires_at", "link"}
    assert data["email"] == "mara.ionescu@carpathian.example"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["expires_at"])
    guest = app.test_client()
    response = guest.post(path_of(data["link"]), data={"password": "from the api", "confirm": "from the api"})
    assert response.status_code == 302
    assert guest.get(f"/documents/{declaration['id']}").status_code == 200


def test_the_api_link_follows_public_url(app, api, declaration):
    app.config["PUBLIC_URL"] = "https://drafting.example.org/"
    data = api.as_("admin").post(f"/documents/{declaration['id']}/invitations", json=NEW).get_json()
    assert data["link"].startswith("https://drafting.example.org/invitations/")


@pytest.mark.parametrize("public_url, base", [(None, "http://127.0.0.1:5000"),
                                              ("https://drafting.example.org", "https://drafting.example.org")])
def test_a_forged_host_header_does_not_change_the_invitation_link(app, api, client, declaration, public_url, base):
    from drafting.config import Config

    app.config.update(PUBLIC_URL=public_url, DEFAULT_PUBLIC_URL=Config.DEFAULT_PUBLIC_URL)
    evil = {"base_url": "http://evil.example"}  # the request says `Host: evil.example`
    data = api.as_("admin").post(f"/documents/{declaration['id']}/invitations", json=NEW, **evil).get_json()
    assert re.fullmatch(re.escape(base) + r"/invitations/[A-Za-z0-9_-]{43}", data["link"])
    with app.app_context():
        observer = db.session.scalar(select(User.id).where(User.email == EMAILS["observer"]))
    client.post("/login", data={"email": EMAILS["admin"], "password": PASSWORD}, **evil)
    made = client.post(f"/admin/users/{observer}/password-link", **evil)
    page = client.get(made.headers["Location"], **evil).get_data(as_text=True)
    link = re.search(r'id="new-link-url" type="text" readonly value="([^"]+)"', page).group(1)
    assert link.startswith(f"{base}/password/")  # the set-password link an admin passes on, too


@pytest.mark.parametrize("body, status", [
    ({**NEW, "email": EMAILS["signatory"]}, 409),
    ({**NEW, "role": "owner"}, 422),
    ({**NEW, "organisation": 7}, 422),
    ({**NEW, "email": ["a@b.example"]}, 422),
    ({k: v for k, v in NEW.items() if k != "name"}, 422),
    ({**NEW, "name": "N" * 201}, 413),
    ([NEW], 400),
])
def test_the_api_refuses_bad_invitations(app, api, declaration, body, status):
    assert_error(api.as_("admin").post(f"/documents/{declaration['id']}/invitations", json=body), status)
    with app.app_context():
        assert db.session.scalar(select(Invitation)) is None
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "invitation.created")) is None


def test_the_api_invitation_for_an_unknown_document(api, client):
    assert_error(api.as_("admin").post("/documents/999999/invitations", json=NEW), 404)
    assert_error(client.post("/api/v1/documents/1/invitations", json=NEW), 401)
