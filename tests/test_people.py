"""The secretariat's people pages (issue 13, items 1 and 2): organisations, users, deactivation,
passwords, and a document's members and participating clusters, through HTTP and the API."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from drafting.documents.operations import document_hash
from drafting.extensions import db
from drafting.models import Approval, AuditEvent, Document, Membership, Organisation, Participation, User
from drafting.signoff.operations import approve
from tests.conftest import EMAILS, PASSWORD, make_app
from tests.phases import signatories, walk
from tests.test_api import assert_error

ADMIN_PAGES = ["/admin", "/admin/users", "/admin/organisations"]


def text_of(response) -> str:
    return response.get_data(as_text=True)


def follow(client, response) -> str:
    assert response.status_code == 302, (response.status_code, text_of(response)[-1500:])
    return text_of(client.get(response.headers["Location"]))


def user_id(app, role_or_email: str) -> int:
    email = EMAILS.get(role_or_email, role_or_email)
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def organisation_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Organisation.id).where(Organisation.name == name))


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                        .order_by(AuditEvent.id)))
        db.session.expunge_all()
        return found


def field_error(page: str, key: str) -> str:
    """The message shown next to a field (its id is `key`), and check the field points at it."""
    match = re.search(rf'<p class="error field-error" id="{key}-error" role="alert">(.*?)</p>', page, re.S)
    assert match, f"no error next to {key}"
    field = re.search(rf'<(?:input|select|textarea) id="{key}"[^>]*>', page)
    assert field and f"{key}-error" in field.group(0) and 'aria-invalid="true"' in field.group(0), key
    return html.unescape(match.group(1))


# ---- who may use the admin pages ------------------------------------------------------------------

@pytest.mark.parametrize("role", ["editor", "commenter", "signatory", "observer", "outsider"])
def test_the_admin_pages_are_for_the_secretariat_only(client, auth, app, role):
    auth.login(role)
    target = user_id(app, "observer")
    for path in ADMIN_PAGES:
        assert client.get(path).status_code == 403, path
    posts = {"/admin/organisations": {"name": "Sneaky Cluster", "country": "SE"},
             "/admin/users": {"name": "Sneaky", "email": "sneaky@x.example", "organisation": "1",
                              "password": "long enough"},
             f"/admin/users/{target}/deactivate": {}, f"/admin/users/{target}/reactivate": {},
             f"/admin/users/{target}/password": {"password": "hijacked!!", "confirm": "hijacked!!"},
             f"/admin/users/{target}/password-link": {}}
    for path, data in posts.items():
        assert client.post(path, data=data).status_code == 403, path
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "sneaky@x.example")) is None
        assert db.session.scalar(select(Organisation).where(Organisation.name == "Sneaky Cluster")) is None
        assert db.session.get(User, target).check_password(PASSWORD)


def test_anonymous_visitors_are_sent_to_log_in(client):
    for path in ADMIN_PAGES + ["/documents/1/members"]:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    assert "/login" in client.post("/admin/organisations", data={"name": "X", "country": "SE"}).headers["Location"]


def test_only_admins_see_the_nav_link(client, auth):
    auth.login("admin")
    assert "Users and organisations" in text_of(client.get("/documents"))
    auth.logout()
    auth.login("editor")
    assert "Users and organisations" not in text_of(client.get("/documents"))


# ---- organisations ------------------------------------------------------------------------------

def test_the_admin_adds_an_organisation(client, auth, app):
    auth.login("admin")
    page = follow(client, client.post("/admin/organisations", data={"name": "  Baltic   Biotech Cluster ",
                                                                     "country": "lt"}))
    assert "Baltic Biotech Cluster (LT) added." in page
    assert "Baltic Biotech Cluster" in text_of(client.get("/admin/organisations"))
    with app.app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.name == "Baltic Biotech Cluster"))
        assert organisation.country == "LT"
    assert events(app, "organisation.created")[-1].details == {"name": "Baltic Biotech Cluster", "country": "LT"}


@pytest.mark.parametrize("data, status, key, words", [
    ({"name": "danube health cluster", "country": "HU"}, 409, "new-org-name", "already exists"),
    ({"name": "Nordic Cluster", "country": "XX"}, 422, "new-org-country", "two-letter ISO 3166"),
    ({"name": "Nordic Cluster", "country": "Sweden"}, 422, "new-org-country", "two-letter ISO 3166"),
    ({"name": "Nordic Cluster", "country": ""}, 422, "new-org-country", "two-letter ISO 3166"),
    ({"name": "   ", "country": "SE"}, 422, "new-org-name", "Enter the organisation"),
    ({"name": "N" * 201, "country": "SE"}, 413, "new-org-name", "limited to 200"),
])
def test_a_refused_organisation_says_why_beside_the_field_and_keeps_what_was_typed(client, auth, app, data, status,
                                                                                    key, words):
    auth.login("admin")
    response = client.post("/admin/organisations", data=data)
    assert response.status_code == status
    page = text_of(response)
    assert words in field_error(page, key)
    if data["name"].strip():
        assert f'value="{data["name"]}"' in page
    assert f'value="{data["country"]}"' in page
    with app.app_context():
        assert db.session.scalar(select(Organisation).where(Organisation.name == "Nordic Cluster")) is None


# ---- users --------------------------------------------------------------------------------------

def new_user_form(app, **changes) -> dict:
    data = {"name": "Eva Lindqvist", "email": "eva@nordic.example",
            "organisation": str(organisation_id(app, "Danube Health Cluster")), "password": "a long secret"}
    return {**data, **changes}


def test_the_admin_creates_a_user_who_can_then_log_in(client, auth, app):
    auth.login("admin")
    page = follow(client, client.post("/admin/users", data=new_user_form(app, email=" Eva@Nordic.example ")))
    assert "Account created for Eva Lindqvist (eva@nordic.example)" in page
    row = re.search(r'<li id="user-\d+">.*?Eva Lindqvist.*?</li>', page, re.S).group(0)
    assert "Danube Health Cluster" in row and "active" in row
    auth.logout()
    assert client.post("/login", data={"email": "eva@nordic.example", "password": "a long secret"}).status_code == 302
    assert events(app, "user.created")[-1].details["email"] == "eva@nordic.example"


@pytest.mark.parametrize("changes, status, key, words", [
    ({"email": EMAILS["editor"].upper()}, 409, "new-user-email", "already exists"),
    ({"email": "not-an-address"}, 422, "new-user-email", "not an e-mail address"),
    ({"password": "short"}, 422, "new-user-password", "at least 8 characters"),
    ({"organisation": "999999"}, 422, "new-user-organisation", "Choose the user's organisation"),
    ({"organisation": "danube"}, 422, "new-user-organisation", "Choose the user's organisation"),
    ({"name": ""}, 422, "new-user-name", "Enter the person"),
])
def test_a_refused_user_says_why_and_keeps_what_was_typed_but_the_password(client, auth, app, changes, status, key,
                                                                           words):
    auth.login("admin")
    data = new_user_form(app, **changes)
    response = client.post("/admin/users", data=data)
    assert response.status_code == status
    page = text_of(response)
    assert words in field_error(page, key)
    assert f'value="{data["email"]}"' in page
    if data["name"]:
        assert f'value="{data["name"]}"' in page
    assert data["password"] not in page  # a password is never sent back
    with app.app_context():
        assert db.session.scalar(select(User).where(User.name == "Eva Lindqvist")) is None


def test_deactivation_ends_sessions_and_tokens_and_blocks_login_and_roles(app, client, auth, api, world, declaration):
    editor = app.test_client()
    assert editor.post("/login", data={"email": EMAILS["editor"], "password": PASSWORD}).status_code == 302
    assert editor.get("/documents").status_code == 200
    token = world.token("editor")
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/documents", headers=bearer).status_code == 200

    auth.login("admin")
    target = user_id(app, "editor")
    page = follow(client, client.post(f"/admin/users/{target}/deactivate"))
    assert "is deactivated" in page
    assert re.search(rf'<li id="user-{target}">.*?deactivated', page, re.S)
    assert events(app, "user.deactivated")[-1].details == {"email": EMAILS["editor"]}

    # the session cookie and the token stopped working at once
    response = editor.get("/documents")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert_error(editor.get("/api/v1/documents", headers=bearer), 401)
    # logging in again: a clear message, only with the right password
    refused = app.test_client().post("/login", data={"email": EMAILS["editor"], "password": PASSWORD})
    assert refused.status_code == 403 and "This account has been deactivated" in text_of(refused)
    wrong = app.test_client().post("/login", data={"email": EMAILS["editor"], "password": "not it"})
    assert wrong.status_code == 401 and "deactivated" not in text_of(wrong)
    # no role can be given to it, by the page or the API
    response = client.post(f"/documents/{declaration['id']}/members", data={"email": EMAILS["editor"], "role": "observer"})
    assert response.status_code == 422 and "deactivated" in field_error(text_of(response), "member-email")
    assert_error(api.as_("admin").post(f"/documents/{declaration['id']}/members",
                                       json={"email": EMAILS["editor"], "role": "observer"}), 422)
    assert EMAILS["editor"] not in re.search(r'<select id="member-email".*?</select>',
                                             text_of(client.get(f"/documents/{declaration['id']}/members")),
                                             re.S).group(0)

    # reactivated: the password and the token work again
    assert "is active again" in follow(client, client.post(f"/admin/users/{target}/reactivate"))
    assert client.get("/api/v1/documents", headers=bearer).status_code == 200
    assert app.test_client().post("/login", data={"email": EMAILS["editor"], "password": PASSWORD}).status_code == 302
    assert events(app, "user.reactivated")


def test_a_deactivated_users_live_connection_is_refused(app, client, auth, socket_client):
    editor = app.test_client()
    editor.post("/login", data={"email": EMAILS["editor"], "password": PASSWORD})
    assert socket_client(editor).is_connected()
    auth.login("admin")
    client.post(f"/admin/users/{user_id(app, 'editor')}/deactivate")
    assert not socket_client(editor).is_connected()


def test_an_admin_cannot_deactivate_themselves(client, auth, app):
    auth.login("admin")
    me = user_id(app, "admin")
    response = client.post(f"/admin/users/{me}/deactivate")
    assert response.status_code == 422
    assert "You cannot deactivate your own account" in text_of(response)
    assert client.get("/admin/users").status_code == 200  # still logged in, still active
    with app.app_context():
        assert db.session.get(User, me).is_active


def test_deactivating_twice_or_an_unknown_user(client, auth, app):
    auth.login("admin")
    target = user_id(app, "observer")
    client.post(f"/admin/users/{target}/deactivate")
    assert client.post(f"/admin/users/{target}/deactivate").status_code == 409
    assert client.post("/admin/users/999999/deactivate").status_code == 404
    assert client.post(f"/admin/users/{user_id(app, 'editor')}/reactivate").status_code == 409


def test_the_admin_sets_a_new_password(app, client, auth):
    signatory = app.test_client()
    signatory.post("/login", data={"email": EMAILS["signatory"], "password": PASSWORD})
    auth.login("admin")
    target = user_id(app, "signatory")
    response = client.post(f"/admin/users/{target}/password", data={"password": "brand new pw", "confirm": "other one"})
    assert response.status_code == 422
    assert "not the same" in field_error(text_of(response), f"user-{target}-confirm")
    response = client.post(f"/admin/users/{target}/password", data={"password": "short", "confirm": "short"})
    assert "at least 8" in field_error(text_of(response), f"user-{target}-password")

    assert "New password set" in follow(client, client.post(f"/admin/users/{target}/password",
                                                            data={"password": "brand new pw", "confirm": "brand new pw"}))
    assert signatory.get("/documents").status_code == 302  # their open session ended
    assert app.test_client().post("/login", data={"email": EMAILS["signatory"], "password": PASSWORD}).status_code == 401
    assert app.test_client().post("/login", data={"email": EMAILS["signatory"],
                                                  "password": "brand new pw"}).status_code == 302
    assert "brand new pw" not in str(events(app, "user.password_set")[-1].details)


def password_link(client, target: int) -> str:
    page = follow(client, client.post(f"/admin/users/{target}/password-link"))
    return re.search(r'id="new-link-url" type="text" readonly value="([^"]+)"', page).group(1)


def test_a_one_time_link_sets_a_password(app, client, auth):
    auth.login("admin")
    target = user_id(app, "observer")
    link = password_link(client, target)
    assert link.startswith("http://localhost/password/")
    assert "new-link-url" not in text_of(client.get("/admin/users"))  # shown once
    auth.logout()

    visitor = app.test_client()
    page = text_of(visitor.get(link))
    assert "Set your password" in page and EMAILS["observer"] in page
    response = visitor.post(link, data={"password": "another secret", "confirm": "another secreT"})
    assert response.status_code == 422 and "not the same" in text_of(response)
    response = visitor.post(link, data={"password": "another secret", "confirm": "another secret"})
    assert response.status_code == 302
    assert visitor.get("/documents").status_code == 200  # logged in
    assert app.test_client().post("/login", data={"email": EMAILS["observer"],
                                                  "password": "another secret"}).status_code == 302
    # used: it no longer works
    again = app.test_client().get(link)
    assert again.status_code == 410 and "used already" in text_of(again)
    assert app.test_client().post(link, data={"password": "third secret", "confirm": "third secret"}).status_code == 410
    assert app.test_client().get(link[:-3] + "abc").status_code == 404
    assert app.test_client().get("/password/nonsense").status_code == 404
    assert events(app, "user.password_reset")


def test_an_expired_password_link_answers_410(app, client, auth, monkeypatch):
    auth.login("admin")
    link = password_link(client, user_id(app, "observer"))
    monkeypatch.setattr("drafting.people.operations.PASSWORD_LINK_LIFETIME", timedelta(seconds=-1))
    response = app.test_client().get(link)
    assert response.status_code == 410 and "expired" in text_of(response)


def test_a_password_link_of_a_deactivated_account_stops_working(app, client, auth):
    auth.login("admin")
    target = user_id(app, "observer")
    link = password_link(client, target)
    client.post(f"/admin/users/{target}/deactivate")
    assert app.test_client().get(link).status_code == 410
    assert client.post(f"/admin/users/{target}/password-link").status_code == 422


# ---- a document's members page ------------------------------------------------------------------

@pytest.mark.parametrize("role", ["editor", "commenter", "signatory", "observer"])
def test_members_read_the_members_page_without_the_forms(client, auth, declaration, role):
    auth.login(role)
    page = text_of(client.get(f"/documents/{declaration['id']}/members"))
    assert "Members and participating clusters" in page
    assert "Danube Health Cluster" in page and "signatory" in page
    assert "<form" not in page.split('<main id="main"', 1)[1]
    assert "Add a member" not in page and "Invite someone" not in page and "Withdraw<" not in page


def test_outsiders_do_not_learn_the_document_exists(client, auth, declaration):
    auth.login("outsider")
    assert client.get(f"/documents/{declaration['id']}/members").status_code == 404
    assert client.post(f"/documents/{declaration['id']}/participants",
                       data={"organisation": "Baltic Health Network Secretariat"}).status_code == 404


def test_the_document_page_and_phase_card_link_to_the_members_page(client, auth, declaration):
    auth.login("admin")
    page = text_of(client.get(f"/documents/{declaration['id']}"))
    url = f"/documents/{declaration['id']}/members"
    assert page.count(f'href="{url}"') == 2
    assert f'<a href="{url}">manage members and participating organisations</a>' in page
    auth.logout()
    auth.login("observer")
    assert text_of(client.get(f"/documents/{declaration['id']}")).count(f'href="{url}"') == 1


def test_the_admin_adds_a_member_changes_the_role_and_removes_them(app, client, auth, declaration):
    auth.login("admin")
    doc = declaration["id"]
    target = user_id(app, "outsider")
    page = follow(client, client.post(f"/documents/{doc}/members", data={"email": EMAILS["outsider"], "role": "observer"}))
    assert "Olga Outsider is now observer of this document." in page
    assert re.search(rf'<li id="member-{target}">.*?observer', page, re.S)

    response = client.post(f"/documents/{doc}/members/{target}/role", data={"role": "admin"})
    assert response.status_code == 422
    assert "Role must be one of" in field_error(text_of(response), f"role-{target}-role")
    page = follow(client, client.post(f"/documents/{doc}/members/{target}/role", data={"role": "editor"}))
    assert "Olga Outsider is now editor" in page

    page = follow(client, client.post(f"/documents/{doc}/members/{target}/remove"))
    assert "Olga Outsider no longer has a role on this document." in page
    assert client.post(f"/documents/{doc}/members/{target}/remove").status_code == 404
    assert client.post(f"/documents/{doc}/members/{target}/role", data={"role": "editor"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(Membership).where(Membership.user_id == target)) is None


def test_adding_a_member_refused_keeps_the_choice(client, auth, declaration):
    auth.login("admin")
    response = client.post(f"/documents/{declaration['id']}/members", data={"email": EMAILS["outsider"], "role": "owner"})
    assert response.status_code == 422
    assert "Role must be one of" in field_error(text_of(response), "member-role")
    assert f'<option value="{EMAILS["outsider"]}" selected>' in text_of(response)


@pytest.mark.parametrize("role", ["editor", "commenter", "signatory", "observer"])
def test_members_cannot_change_members_or_clusters(app, client, auth, declaration, role):
    auth.login(role)
    doc = declaration["id"]
    target = user_id(app, "editor2")
    danube = organisation_id(app, "Danube Health Cluster")
    for path, data in [(f"/documents/{doc}/members", {"email": EMAILS["outsider"], "role": "editor"}),
                       (f"/documents/{doc}/members/{target}/role", {"role": "observer"}),
                       (f"/documents/{doc}/members/{target}/remove", {}),
                       (f"/documents/{doc}/participants", {"organisation": "Baltic Health Network Secretariat"}),
                       (f"/documents/{doc}/participants/{danube}/withdraw", {"reason": "We leave."}),
                       (f"/documents/{doc}/invitations", {"email": "x@y.example", "name": "X", "role": "editor",
                                                          "organisation": "Danube Health Cluster"})]:
        assert client.post(path, data=data).status_code == 403, path
    with app.app_context():
        document = db.session.get(Document, doc)
        assert len(document.active_participations) == 7
        assert db.session.scalar(select(Membership.role).where(Membership.user_id == target,
                                                               Membership.document_id == doc)) == "editor"


# ---- participating clusters ---------------------------------------------------------------------

def test_a_cluster_without_a_signatory_is_flagged(client, auth, declaration):
    auth.login("admin")
    doc = declaration["id"]
    page = follow(client, client.post(f"/documents/{doc}/participants",
                                      data={"organisation": "Baltic Health Network Secretariat"}))
    assert "Baltic Health Network Secretariat now takes part" in page
    cluster = re.search(r'<li id="cluster-\d+">\s*<div class="person-main"><strong>Baltic Health Network Secretariat'
                        r'.*?</li>', page, re.S).group(0)
    assert "No signatory on this document: nobody can sign for Baltic Health Network Secretariat yet." in cluster
    danube = re.search(r'<li id="cluster-\d+">\s*<div class="person-main"><strong>Danube Health Cluster.*?</li>',
                       page, re.S).group(0)
    assert "Signatory: Katalin" in danube and "No signatory" not in danube


def test_adding_a_cluster_that_already_takes_part_is_a_conflict(client, auth, api, declaration):
    auth.login("admin")
    doc = declaration["id"]
    response = client.post(f"/documents/{doc}/participants", data={"organisation": "Danube Health Cluster"})
    assert response.status_code == 409
    assert "Danube Health Cluster already takes part" in field_error(text_of(response), "participant-organisation")
    data = assert_error(api.as_("admin").post(f"/documents/{doc}/participants",
                                              json={"organisation": "Danube Health Cluster"}), 409, "conflict")
    assert "already takes part" in data["error"]["message"]
    response = client.post(f"/documents/{doc}/participants", data={"organisation": "No Such Cluster"})
    assert response.status_code == 422 and "No organisation has that name" in text_of(response)


def test_in_signing_a_cluster_without_a_signatory_cannot_be_added(app, client, auth, api, declaration):
    """Adoption waits for every participating cluster: one that nobody can sign for is refused."""
    doc = declaration["id"]
    walk(api, doc, "signing")
    secretariat = "Baltic Health Network Secretariat"  # no member of it is a signatory here
    auth.login("admin")
    response = client.post(f"/documents/{doc}/participants", data={"organisation": secretariat})
    assert response.status_code == 409
    message = field_error(text_of(response), "participant-organisation")
    assert "The signing is open and Baltic Health Network Secretariat has no signatory" in message
    assert "signatory role first" in message
    data = assert_error(api.as_("admin").post(f"/documents/{doc}/participants", json={"organisation": secretariat}),
                        409, "conflict")
    assert "has no signatory on this document" in data["error"]["message"]
    with app.app_context():
        org = organisation_id(app, secretariat)
        assert db.session.scalar(select(Participation).where(Participation.document_id == doc,
                                                             Participation.organisation_id == org)) is None
    assert not [e for e in events(app, "participant.added") if e.document_id == doc
                and e.details["organisation"] == secretariat]
    # A deactivated signatory does not count; an active one does.
    follow(client, client.post(f"/documents/{doc}/members", data={"email": EMAILS["outsider"], "role": "signatory"}))
    client.post(f"/admin/users/{user_id(app, 'outsider')}/deactivate")
    assert client.post(f"/documents/{doc}/participants", data={"organisation": secretariat}).status_code == 409
    client.post(f"/admin/users/{user_id(app, 'outsider')}/reactivate")
    page = follow(client, client.post(f"/documents/{doc}/participants", data={"organisation": secretariat}))
    assert "Baltic Health Network Secretariat now takes part" in page
    assert api.as_("admin").get(f"/documents/{doc}").get_json()["phase"] == "signing"


def test_a_deactivated_signatory_is_not_counted_as_one_who_can_sign(app, client, auth, api, declaration):
    """The sign-off board and "Who must sign" list active signatories only, as readiness counts them."""
    doc = declaration["id"]
    danube = organisation_id(app, "Danube Health Cluster")  # Katalin Szűcs is its only signatory here
    walk(api, doc, "final_review")
    auth.login("admin")
    board_row = re.compile(rf'<tr id="board-org-{danube}".*?</tr>', re.S)
    who_must_sign = re.compile(r'<li>Danube Health Cluster <span class="country">HU</span>.*?</li>', re.S)
    assert "Katalin Szűcs may sign" in board_row.search(text_of(client.get(f"/documents/{doc}/signoff"))).group(0)
    assert "no signatory" not in who_must_sign.search(
        text_of(client.get(f"/documents/{doc}/phase?to=signing"))).group(0)

    client.post(f"/admin/users/{user_id(app, 'signatory')}/deactivate")
    row = board_row.search(text_of(client.get(f"/documents/{doc}/signoff"))).group(0)
    assert "Katalin" not in row and "No signatory assigned yet" in row
    page = text_of(client.get(f"/documents/{doc}/phase?to=signing"))
    assert "no signatory assigned yet" in who_must_sign.search(page).group(0)
    assert 'data-code="no_signatory"' in page  # readiness agrees


def test_withdrawing_needs_a_reason_and_a_participant(app, client, auth, api, declaration, plan):
    auth.login("admin")
    doc = declaration["id"]
    danube = organisation_id(app, "Danube Health Cluster")
    response = client.post(f"/documents/{doc}/participants/{danube}/withdraw", data={"reason": "   "})
    assert response.status_code == 422
    assert "Say why the cluster withdraws" in field_error(text_of(response), f"withdraw-{danube}-reason")
    assert '<details open>' in text_of(response)
    secretariat = organisation_id(app, "Baltic Health Network Secretariat")
    assert client.post(f"/documents/{doc}/participants/{secretariat}/withdraw",
                       data={"reason": "Never took part."}).status_code == 404
    assert client.post(f"/documents/{doc}/participants/999999/withdraw", data={"reason": "x"}).status_code == 404

    admin = api.as_("admin")
    assert_error(admin.delete(f"/documents/{doc}/participants/{danube}", json={}), 422)
    assert_error(admin.delete(f"/documents/{doc}/participants/{danube}"), 422)
    assert_error(admin.delete(f"/documents/{doc}/participants/{danube}", json={"reason": 5}), 422)
    assert_error(admin.delete(f"/documents/{doc}/participants/{danube}", json={"reason": "x" * 2001}), 413)
    assert_error(admin.delete(f"/documents/{doc}/participants/{danube}", data="{", content_type="application/json"), 400)
    assert_error(admin.delete(f"/documents/{doc}/participants/{secretariat}", json={"reason": "x"}), 404)
    assert_error(admin.delete(f"/documents/{doc}/participants/999999999999999999999", json={"reason": "x"}), 404)
    assert_error(api.as_("editor").delete(f"/documents/{doc}/participants/{danube}", json={"reason": "x"}), 403)
    assert_error(api.as_("outsider").delete(f"/documents/{doc}/participants/{danube}", json={"reason": "x"}), 404)
    with app.app_context():
        assert len(db.session.get(Document, doc).active_participations) == 7


def test_a_cluster_of_another_document_is_not_withdrawn_here(app, api):
    created = api.as_("admin").post("/documents", json={"title": "Another", "kind": "declaration"}).get_json()
    danube = organisation_id(app, "Danube Health Cluster")
    assert_error(api.as_("admin").delete(f"/documents/{created['id']}/participants/{danube}",
                                         json={"reason": "Wrong document."}), 404)


def test_a_withdrawn_cluster_is_listed_with_date_and_reason_and_can_come_back(app, client, auth, api, declaration):
    auth.login("admin")
    doc = declaration["id"]
    danube = organisation_id(app, "Danube Health Cluster")
    page = follow(client, client.post(f"/documents/{doc}/participants/{danube}/withdraw",
                                      data={"reason": "Our board did not approve <b>the plan</b>."}))
    assert "Danube Health Cluster has withdrawn" in page
    withdrawn = re.search(rf'<li id="withdrawn-{danube}">.*?</li>', page, re.S).group(0)
    assert "withdrew <time" in withdrawn
    assert "Our board did not approve &lt;b&gt;the plan&lt;/b&gt;." in withdrawn
    assert f'id="cluster-{danube}"' not in page
    document = api.as_("observer").get(f"/documents/{doc}").get_json()
    assert "Danube Health Cluster" not in document["participants"] and len(document["participants"]) == 6
    event = events(app, "participant.withdrawn")[-1]
    assert event.details == {"organisation": "Danube Health Cluster",
                             "reason": "Our board did not approve <b>the plan</b>."}

    # it can take part again: the same row, re-activated and audited
    page = follow(client, client.post(f"/documents/{doc}/participants", data={"organisation": "Danube Health Cluster"}))
    assert f'id="cluster-{danube}"' in page and f'id="withdrawn-{danube}"' not in page
    with app.app_context():
        rows = list(db.session.scalars(select(Participation).where(Participation.document_id == doc,
                                                                   Participation.organisation_id == danube)))
        assert len(rows) == 1 and rows[0].withdrawn_at is None and rows[0].withdrawn_reason is None
    assert events(app, "participant.readded")[-1].details["withdrawn_reason"] == \
        "Our board did not approve <b>the plan</b>."


def sign(app, document_id: int, organisations: list[str]) -> None:
    emails = signatories(app, document_id)
    with app.app_context():
        document = db.session.get(Document, document_id)
        current = document_hash(document)
        for name in organisations:
            user = db.session.scalar(select(User).where(User.email == emails[name]))
            approve(document, user, current, PASSWORD)
        db.session.commit()


def test_withdrawing_in_signing_voids_only_that_clusters_approval(app, client, auth, api, world, declaration,
                                                                  socket_client):
    doc = declaration["id"]
    walk(api, doc, "signing")
    names = sorted(signatories(app, doc))
    sign(app, doc, names[:2])
    leaving, staying = names[0], names[1]
    auth.login("admin")
    sio = socket_client()
    sio.emit("join", {"document_id": doc})
    sio.get_received()

    response = api.as_("admin").delete(f"/documents/{doc}/participants/{organisation_id(app, leaving)}",
                                       json={"reason": "It merged into another cluster."})
    assert response.status_code == 200
    data = response.get_json()
    assert data["phase"] == "signing" and leaving not in data["participants"] and len(data["participants"]) == 6
    with app.app_context():
        approvals = {a.organisation.name: a for a in db.session.scalars(select(Approval).where(Approval.document_id == doc))}
        assert not approvals[leaving].valid
        assert approvals[leaving].invalidated_reason == f"{leaving} withdrew: It merged into another cluster."
        assert approvals[staying].valid and approvals[staying].invalidated_reason is None
    invalidated = events(app, "approval.invalidated")
    assert [e.details["organisation"] for e in invalidated] == [leaving]
    received = [(m["name"], m["args"][0]) for m in sio.get_received()]
    assert ("participant.withdrawn", {**received[0][1], "organisation": leaving}) == received[0]
    assert received[0][1]["document_id"] == doc and received[0][1]["seq"] > declaration["seq"]
    assert any(name == "approval.changed" and args["organisation"] == leaving for name, args in received)
    # The sign-off board lists it apart, with the reason, and no longer counts it.
    board = client.get(f"/documents/{doc}/signoff").get_data(as_text=True)
    withdrawn = board.split('class="withdrawn-clusters"', 1)[1].split("</ul>", 1)[0]
    assert leaving in withdrawn and "It merged into another cluster." in withdrawn
    assert "of 6</strong> participating organisations" in board


def test_withdrawing_the_last_cluster_that_had_not_signed_adopts_the_document(app, api, declaration):
    doc = declaration["id"]
    walk(api, doc, "signing")
    names = sorted(signatories(app, doc))
    sign(app, doc, names[:-1])
    last = names[-1]
    response = api.as_("admin").delete(f"/documents/{doc}/participants/{organisation_id(app, last)}",
                                       json={"reason": "It closed down."})
    assert response.status_code == 200 and response.get_json()["phase"] == "adopted"
    adopted = events(app, "document.adopted")[-1]
    assert last not in adopted.details["organisations"] and len(adopted.details["organisations"]) == 6
    verification = api.as_("observer").get(f"/documents/{doc}/verify")
    assert verification.status_code == 200 and verification.get_json()["ok"], verification.get_json()

    # adopted is final: no more withdrawals, and none can be added
    assert_error(api.as_("admin").delete(f"/documents/{doc}/participants/{organisation_id(app, names[0])}",
                                         json={"reason": "Too late."}), 409)
    assert_error(api.as_("admin").post(f"/documents/{doc}/participants", json={"organisation": last}), 409)


def test_the_adopted_members_page_offers_no_cluster_changes(app, client, auth, api, declaration):
    doc = declaration["id"]
    walk(api, doc, "signing")
    sign(app, doc, sorted(signatories(app, doc)))
    auth.login("admin")
    page = text_of(client.get(f"/documents/{doc}/members"))
    assert "Withdraw<" not in page and "Add a participating cluster" not in page
    danube = organisation_id(app, "Danube Health Cluster")
    response = client.post(f"/documents/{doc}/participants/{danube}/withdraw", data={"reason": "Too late."})
    assert response.status_code == 409 and "adopted" in text_of(response)


# ---- the API: members ---------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["admin", "editor", "commenter", "signatory", "observer"])
def test_members_are_listed_to_members(app, api, declaration, role):
    response = api.as_(role).get(f"/documents/{declaration['id']}/members")
    assert response.status_code == 200
    members = response.get_json()
    assert members and all(set(m) == {"user_id", "email", "name", "organisation", "role"} for m in members)
    with app.app_context():
        expected = {(m.user.email, m.role) for m in db.session.scalars(
            select(Membership).where(Membership.document_id == declaration["id"]))}
    assert {(m["email"], m["role"]) for m in members} == expected
    editor = next(m for m in members if m["email"] == EMAILS["editor"])
    assert editor["role"] == "editor" and editor["user_id"] == user_id(app, "editor")
    assert [m["name"].lower() for m in members] == sorted(m["name"].lower() for m in members)


def test_members_are_hidden_from_others(client, api, declaration):
    assert_error(api.as_("outsider").get(f"/documents/{declaration['id']}/members"), 404)
    assert_error(client.get(f"/api/v1/documents/{declaration['id']}/members"), 401)
    assert_error(api.as_("admin").get("/documents/999999/members"), 404)


# ---- CSRF ---------------------------------------------------------------------------------------

def test_the_forms_need_the_csrf_token(database):
    app = make_app(database, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login_page = text_of(client.get("/login"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"email": EMAILS["admin"], "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    with app.app_context():
        doc = db.session.scalar(select(Document.id).where(Document.kind == "declaration"))
        danube = db.session.scalar(select(Organisation.id).where(Organisation.name == "Danube Health Cluster"))
        observer = db.session.scalar(select(User.id).where(User.email == EMAILS["observer"]))
    forged = {"csrf_token": "forged"}
    for path, data in [("/admin/organisations", {"name": "Forged Cluster", "country": "SE"}),
                       (f"/admin/users/{observer}/deactivate", {}),
                       (f"/documents/{doc}/participants/{danube}/withdraw", {"reason": "Forged."}),
                       (f"/documents/{doc}/invitations", {"email": "f@x.example", "name": "F", "role": "editor",
                                                          "organisation": "Danube Health Cluster"})]:
        assert client.post(path, data=data).status_code == 400, path
        assert client.post(path, data={**data, **forged}).status_code == 400, path
    with app.app_context():
        assert db.session.get(User, observer).is_active
        assert len(db.session.get(Document, doc).active_participations) == 7
    page = text_of(client.get("/admin/organisations"))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/admin/organisations", data={"name": "Real Cluster", "country": "SE", "csrf_token": token})
    assert response.status_code == 302
