"""Issue 14: each event of a document's life notifies exactly the right people, in the right
category, with a link to the exact place and an excerpt; what each person chose for the category
decides their mail (off: none, digest: held); deactivated people get nothing; a change that rolls
back leaves neither notification nor mail."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from drafting.extensions import db
from drafting.models import Document, Membership, Notification, User
from drafting.models.mail import OutboxMail
from tests.conftest import EMAILS, HX, PASSWORD
from tests.phases import adopt, signatories, walk

BASE = "http://localhost"


@dataclass
class Told:
    email: str
    category: str | None
    message: str
    excerpt: str | None
    url: str | None
    mail: OutboxMail | None


class Watch:
    """What notifications and mails an action produced (everything after `start`)."""

    def __init__(self, app):
        self.app = app
        self.start()

    def start(self) -> None:
        with self.app.app_context():
            self.notes = db.session.scalar(select(func.max(Notification.id))) or 0
            self.mails = db.session.scalar(select(func.max(OutboxMail.id))) or 0

    def mails_since(self) -> list[OutboxMail]:
        with self.app.app_context():
            rows = list(db.session.scalars(select(OutboxMail).where(OutboxMail.id > self.mails).order_by(OutboxMail.id)))
            for row in rows:
                db.session.expunge(row)
            return rows

    def told(self) -> dict[str, Told]:
        """Each person told since `start`, by e-mail address (at most once each, checked)."""
        mails = self.mails_since()
        with self.app.app_context():
            notes = list(db.session.execute(select(Notification, User.email).join(User, Notification.user_id == User.id)
                                            .where(Notification.id > self.notes).order_by(Notification.id)))
        emails = [email for _, email in notes]
        assert len(emails) == len(set(emails)), f"someone was told twice: {emails}"
        by_mail = {m.to_email: m for m in mails}
        assert len(by_mail) == len(mails), f"someone was mailed twice: {[m.to_email for m in mails]}"
        return {email: Told(email, by_mail[email].category if email in by_mail else None, note.message,
                            note.excerpt, note.url, by_mail.get(email)) for note, email in notes}


@pytest.fixture
def watch(app) -> Watch:
    return Watch(app)


def ok(response, status: int = 200):
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:400])
    return response.get_json()


def email_of(app, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).email


def members(app, document_id: int, role: str | None = None, participants_only: bool = False) -> set[str]:
    """The e-mail addresses of the document's active members (with a role, of participating clusters)."""
    with app.app_context():
        document = db.session.get(Document, document_id)
        clusters = {p.organisation_id for p in document.active_participations}
        query = select(Membership).where(Membership.document_id == document_id)
        if role:
            query = query.where(Membership.role == role)
        return {m.user.email for m in db.session.scalars(query) if m.user.is_active
                and (not participants_only or m.user.organisation_id in clusters)}


def set_mode(app, role: str, category: str, mode: str) -> None:
    from drafting.notifications.outbox import set_mode as choose

    with app.app_context():
        choose(db.session.scalar(select(User).where(User.email == EMAILS[role])), category, mode)
        db.session.commit()


# ---- discussions: replies and mentions ----------------------------------------------------------

def test_a_reply_tells_the_thread_author_and_earlier_repliers_once(app, api, plan, watch):
    clause = plan["clause_ids"][2]
    thread = ok(api.as_("commenter").post(f"/clauses/{clause}/threads", json={"body": "Who pays for the registry?"}), 201)
    assert watch.told() == {}  # nobody mentioned: nobody told

    watch.start()
    first = ok(api.as_("signatory").post(f"/threads/{thread['id']}/comments",
                                         json={"body": "The <em>regions</em> do, from 2026."}), 201)
    told = watch.told()
    assert set(told) == {EMAILS["commenter"]}  # the author; not the one replying
    lieve = told[EMAILS["commenter"]]
    assert lieve.category == "discussion"
    assert lieve.excerpt == "The regions do, from 2026."
    assert "Katalin Szűcs (Danube Health Cluster) replied to your comment on clause 3" in lieve.message
    assert lieve.url == f"/documents/{plan['id']}#comment-{first['id']}"
    assert lieve.mail.url == BASE + lieve.url and lieve.mail.status == "queued"
    assert "“The regions do, from 2026.”" in lieve.mail.text_body and lieve.mail.html_body.startswith("<!doctype html>")
    assert "Joint Action Plan" in lieve.mail.text_body and "Scheldt Life Sciences Cluster" in lieve.mail.text_body
    assert lieve.mail.unsubscribe_url.startswith(BASE + "/unsubscribe/")

    # The editor replies mentioning the author: a mention, not also a reply; the earlier replier
    # hears of the reply; the editor nothing.
    watch.start()
    ok(api.as_("editor").post(f"/threads/{thread['id']}/comments",
                              json={"body": "@Lieve Vandamme, see the annex."}), 201)
    told = watch.told()
    assert set(told) == {EMAILS["commenter"], EMAILS["signatory"]}
    assert "mentioned you" in told[EMAILS["commenter"]].message
    assert told[EMAILS["commenter"]].excerpt == "@Lieve Vandamme, see the annex."
    assert "replied to a discussion you took part in" in told[EMAILS["signatory"]].message
    assert all(t.category == "discussion" for t in told.values())


def test_a_mention_that_names_nobody_is_reported(app, client, auth, plan, watch):
    auth.login("commenter")
    clause = plan["clause_ids"][1]
    page = client.post(f"/clauses/{clause}/threads", data={"body": "@Lieve, @Tereza Novotná and @Bob please."},
                       headers=HX).get_data(as_text=True)
    assert "Comment posted. No member is called @Lieve or @Bob: nobody was notified." in page
    assert set(watch.told()) == {EMAILS["editor"]}
    page = client.post(f"/clauses/{clause}/threads", data={"body": "Write to me@example.org, @tereza novotna."},
                       headers=HX).get_data(as_text=True)
    assert "No member is called" not in page  # an address is no mention; accents and case do not matter
    # Without JavaScript the page it leads to says so too.
    response = client.post(f"/clauses/{clause}/threads", data={"body": "@Nobody here?"})
    assert response.status_code == 302
    assert "No member is called @Nobody: nobody was notified." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_the_api_answer_names_the_mentions_that_notified_nobody(app, api, plan, watch):
    clause = plan["clause_ids"][1]
    thread = ok(api.as_("commenter").post(f"/clauses/{clause}/threads",
                                          json={"body": "@Lieve, @Tereza Novotná and @Bob please."}), 201)
    assert thread["unknown_mentions"] == ["@Lieve", "@Bob"]
    assert set(watch.told()) == {EMAILS["editor"]}  # Tereza Novotná, the one member named
    reply = ok(api.as_("signatory").post(f"/threads/{thread['id']}/comments",
                                         json={"body": "Write to me@example.org, @tereza novotna."}), 201)
    assert reply["unknown_mentions"] == []  # an address is no mention; accents and case do not matter
    edited = ok(api.as_("signatory").patch(f"/comments/{reply['id']}", json={"body": "Ask @Nobody here."}))
    assert edited["unknown_mentions"] == ["@Nobody"]
    # Only answers to writing carry it: reading a thread does not.
    assert "unknown_mentions" not in ok(api.as_("commenter").get(f"/threads/{thread['id']}"))["comments"][0]


def test_each_event_has_a_short_subject_naming_the_document_once(app, api, plan, watch):
    with app.app_context():
        title = db.session.get(Document, plan["id"]).title
    thread = ok(api.as_("commenter").post(f"/clauses/{plan['clause_ids'][2]}/threads", json={"body": "A question."}), 201)
    watch.start()
    reply = ok(api.as_("signatory").post(f"/threads/{thread['id']}/comments", json={"body": "An answer."}), 201)
    assert watch.told()[EMAILS["commenter"]].mail.subject == f"Reply from Katalin Szűcs: {title}"
    watch.start()
    mention = ok(api.as_("editor").post(f"/threads/{thread['id']}/comments",
                                        json={"body": "@Katalin Szűcs, see the annex."}), 201)
    katalin = watch.told()[EMAILS["signatory"]]
    assert katalin.mail.subject == f"Mentioned by Tereza Novotná: {title}"
    # The mention links to the comment that mentions, not to its thread.
    assert katalin.url == f"/documents/{plan['id']}#comment-{mention['id']}" != f"#comment-{reply['id']}"
    assert katalin.mail.url == f"{BASE}/documents/{plan['id']}#comment-{mention['id']}"

    text = ok(api.as_("editor").get(f"/documents/{plan['id']}"))["clauses"][0]["text"]
    clause = plan["clause_ids"][0]
    first = ok(api.as_("commenter").post(f"/clauses/{clause}/amendments",
                                         json={"text": text + " Yearly.", "rationale": "Current."}), 201)
    second = ok(api.as_("commenter").post(f"/clauses/{clause}/amendments",
                                          json={"text": text + " Monthly.", "rationale": "Faster."}), 201)
    watch.start()
    ok(api.as_("editor").post(f"/amendments/{first['id']}/accept", json={}))
    ok(api.as_("editor").post(f"/amendments/{second['id']}/reject", json={"reason": "Too often."}))
    subjects = [mail.subject for mail in watch.mails_since()]
    assert subjects == [f"Amendment accepted: {title}", f"Amendment rejected: {title}"]

    # A title as long as a title may be (300 characters): cut between words, once, with "…".
    long_title = ("A very long title about health data " * 9)[:300].strip()
    with app.app_context():
        db.session.get(Document, plan["id"]).title = long_title
        db.session.commit()
    watch.start()
    ok(api.as_("signatory").post(f"/threads/{thread['id']}/comments", json={"body": "Another answer."}), 201)
    subject = watch.told()[EMAILS["commenter"]].mail.subject
    full = f"Reply from Katalin Szűcs: {long_title}"
    assert len(subject) <= 150 and subject.endswith("…") and "…" not in subject[:-1]
    assert full.startswith(subject[:-1]) and full[len(subject) - 1] == " "  # a whole word last


# ---- the public address of links: never the request's Host -----------------------------------------

@pytest.mark.parametrize("public_url, base", [(None, "http://127.0.0.1:5000"),
                                              ("https://drafting.example.org/", "https://drafting.example.org")])
def test_a_forged_host_header_never_reaches_a_mail(app, api, client, plan, declaration, watch, public_url, base):
    from drafting.config import Config

    app.config.update(PUBLIC_URL=public_url, DEFAULT_PUBLIC_URL=Config.DEFAULT_PUBLIC_URL)
    evil = {"base_url": "http://evil.example"}  # the request says `Host: evil.example`
    thread = ok(api.as_("commenter").post(f"/clauses/{plan['clause_ids'][2]}/threads",
                                          json={"body": "A question."}, **evil), 201)
    answer = ok(api.as_("signatory").post(f"/threads/{thread['id']}/comments", json={"body": "An answer."},
                                          **evil), 201)
    client.post("/login", data={"email": EMAILS["admin"], "password": PASSWORD}, **evil)  # the page, as evil.example
    page = client.post(f"/documents/{declaration['id']}/invitations", data=NEW, follow_redirects=True,
                       **evil).get_data(as_text=True)
    reply, invitation = watch.mails_since()
    assert reply.url == f"{base}/documents/{plan['id']}#comment-{answer['id']}"
    assert reply.unsubscribe_url.startswith(f"{base}/unsubscribe/")
    assert invitation.url.startswith(f"{base}/invitations/") and invitation.url in page  # the link shown too
    for mail in (reply, invitation):
        assert "evil.example" not in mail.text_body + mail.html_body
        assert f"{base}/settings/notifications" in mail.text_body or mail.user_id is None


def test_mail_without_public_url_is_warned_about_at_startup(database, caplog):
    from tests.conftest import make_app

    with caplog.at_level("WARNING"):
        make_app(database, MAIL_SERVER="smtp.example.org", PUBLIC_URL=None)
    assert "MAIL_SERVER is set but PUBLIC_URL is not" in caplog.text and "http://localhost" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        make_app(database, MAIL_SERVER="smtp.example.org", PUBLIC_URL="https://drafting.example.org")
        make_app(database, MAIL_SERVER=None, PUBLIC_URL=None)  # nothing is mailed: no links to get wrong
    assert "PUBLIC_URL" not in caplog.text


# ---- amendments -----------------------------------------------------------------------------------

def test_amendment_decisions_tell_the_proposer(app, api, plan, watch):
    clause = plan["clause_ids"][0]
    text = ok(api.as_("editor").get(f"/documents/{plan['id']}"))["clauses"][0]["text"]
    first = ok(api.as_("commenter").post(f"/clauses/{clause}/amendments",
                                         json={"text": text + " Reviewed yearly.", "rationale": "Keep it current."}), 201)
    second = ok(api.as_("signatory").post(f"/clauses/{clause}/amendments",
                                          json={"text": text + " Reviewed monthly.", "rationale": "Faster."}), 201)
    watch.start()
    ok(api.as_("editor").post(f"/amendments/{first['id']}/accept", json={}))
    told = watch.told()
    assert set(told) == {EMAILS["commenter"]}
    assert told[EMAILS["commenter"]].category == "amendments"
    assert told[EMAILS["commenter"]].url == f"/documents/{plan['id']}#amendment-{first['id']}"
    assert told[EMAILS["commenter"]].excerpt is None

    watch.start()
    ok(api.as_("editor").post(f"/amendments/{second['id']}/reject", json={"reason": "Monthly is too often."}))
    told = watch.told()
    assert set(told) == {EMAILS["signatory"]}
    katalin = told[EMAILS["signatory"]]
    assert katalin.category == "amendments" and katalin.excerpt == "Monthly is too often."
    assert katalin.url.endswith(f"#amendment-{second['id']}") and "“Monthly is too often.”" in katalin.mail.text_body


# ---- phases ---------------------------------------------------------------------------------------

def test_the_consultation_opening_tells_members_of_participating_clusters(app, api, declaration, watch):
    doc = declaration["id"]
    ok(api.as_("admin").post(f"/documents/{doc}/phase", json={"phase": "consultation",
                                                              "deadline": "2099-03-31T17:00:00Z"}))
    told = watch.told()
    expected = members(app, doc, participants_only=True)
    assert set(told) == expected and EMAILS["editor"] in expected
    assert EMAILS["observer"] not in told and EMAILS["admin"] not in told  # the secretariat takes no part
    for person in told.values():
        assert person.category == "consultation" and person.url == f"/documents/{doc}"
        assert "is open until 31 Mar 2099, 17:00 UTC" in person.message
        assert person.mail.url == f"{BASE}/documents/{doc}"
        assert person.mail.subject == "Consultation open: Joint Declaration of European Health-Innovation Clusters on the European Health Data Space"

    watch.start()  # a new deadline is no new opening
    ok(api.as_("admin").post(f"/documents/{doc}/phase", json={"phase": "consultation",
                                                              "deadline": "2099-04-30T17:00:00Z"}))
    assert watch.told() == {}


def test_the_signing_opening_tells_each_signatory_with_the_hash(app, api, plan, watch):
    data = walk(api, plan["id"], "signing")
    told = watch.told()
    # The walk's override closed the plan's open items: their authors are told that, once each.
    closed = {email for email, person in told.items() if "while comments or amendments of yours" in person.message}
    told = {email: person for email, person in told.items() if email not in closed}
    expected = members(app, plan["id"], role="signatory", participants_only=True)
    assert set(told) == expected and len(expected) >= 4
    for person in told.values():
        assert person.category == "signing" and person.url == f"/documents/{plan['id']}/signoff"
        assert data["content_hash"] in person.mail.text_body and data["content_hash"] in person.mail.html_body
        assert "you may sign for" in person.message


def test_an_invalidated_approval_tells_its_cluster_with_the_reason(app, api, plan, watch):
    walk(api, plan["id"], "signing")
    current = ok(api.as_("signatory").get(f"/documents/{plan['id']}"))["content_hash"]
    ok(api.as_("signatory").post(f"/documents/{plan['id']}/approvals",
                                 json={"content_hash": current, "password": PASSWORD}), 201)
    with app.app_context():  # a second signatory of the same cluster hears of it too
        katalin = db.session.scalar(select(User).where(User.email == EMAILS["signatory"]))
        colleague = User(email="zsofia.nagy@danubehealth.example", name="Zsófia Nagy",
                         organisation_id=katalin.organisation_id)
        colleague.set_password(PASSWORD)
        db.session.add(colleague)
        db.session.add(Membership(document_id=plan["id"], user=colleague, role="signatory"))
        db.session.commit()
    watch.start()
    ok(api.as_("admin").post(f"/documents/{plan['id']}/phase",
                             json={"phase": "drafting", "reason": "Clause 2 needs the new budget figures."}))
    told = watch.told()
    assert set(told) == {EMAILS["signatory"], "zsofia.nagy@danubehealth.example"}
    for person in told.values():
        assert person.category == "signing" and person.excerpt == "Clause 2 needs the new budget figures."
        assert person.url == f"/documents/{plan['id']}/signoff#since-signed"
        assert "The approval Katalin Szűcs gave for Danube Health Cluster" in person.message


def test_a_withdrawn_cluster_is_told_its_approval_no_longer_counts(app, api, plan, watch):
    walk(api, plan["id"], "signing")
    current = ok(api.as_("signatory").get(f"/documents/{plan['id']}"))["content_hash"]
    ok(api.as_("signatory").post(f"/documents/{plan['id']}/approvals",
                                 json={"content_hash": current, "password": PASSWORD}), 201)
    with app.app_context():
        organisation_id = db.session.scalar(select(User.organisation_id).where(User.email == EMAILS["signatory"]))
    watch.start()
    ok(api.as_("admin").delete(f"/documents/{plan['id']}/participants/{organisation_id}",
                               json={"reason": "It merged into another cluster."}))
    told = watch.told()
    assert set(told) == {EMAILS["signatory"]}
    assert told[EMAILS["signatory"]].excerpt == "Danube Health Cluster withdrew: It merged into another cluster."


def test_adoption_tells_every_member_with_the_certificate(app, api, plan, watch):
    walk(api, plan["id"], "signing")
    watch.start()
    adopt(app, api, plan["id"])
    told = watch.told()
    assert set(told) == members(app, plan["id"])
    assert EMAILS["observer"] in told  # every member, participating or not
    for person in told.values():
        assert person.category == "signing" and person.url == f"/documents/{plan['id']}/certificate"
        assert person.mail.url == f"{BASE}/documents/{plan['id']}/certificate"
        assert "is adopted" in person.message


# ---- invitations ----------------------------------------------------------------------------------

NEW = {"email": "mara.ionescu@carpathian.example", "name": "Mara Ionescu",
       "organisation": "Danube Health Cluster", "role": "commenter"}


def test_an_invitation_is_mailed_with_its_one_time_link(app, api, declaration, watch):
    answer = ok(api.as_("admin").post(f"/documents/{declaration['id']}/invitations", json=NEW), 201)
    [mail] = watch.mails_since()
    assert mail.to_email == NEW["email"] and mail.user_id is None and mail.category == "invitation"
    assert mail.url == answer["link"] and answer["link"] in mail.text_body and answer["link"] in mail.html_body
    assert mail.subject == "Invitation to “Joint Declaration of European Health-Innovation Clusters on the European Health Data Space” in drafting"
    assert "Friederike Albrecht" in mail.text_body and "as commenter" in mail.text_body
    assert mail.unsubscribe_url is None and mail.status == "queued"


def test_the_members_page_shows_the_link_only_without_a_mail_server(app, client, auth, declaration, database):
    auth.login("admin")
    response = client.post(f"/documents/{declaration['id']}/invitations", data=NEW, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "No e-mail is sent yet (no mail server is configured)" in page and 'id="new-link-url"' in page

    from tests.conftest import make_app

    with_mail = make_app(database, MAIL_SERVER="smtp.example.org", NOTIFICATIONS_WORKER=False)
    other = with_mail.test_client()
    other.post("/login", data={"email": EMAILS["admin"], "password": PASSWORD})
    response = other.post(f"/documents/{declaration['id']}/invitations",
                          data={**NEW, "email": "ana.pop@carpathian.example"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "An e-mail with the link was queued" in page and 'id="new-link-url"' not in page


# ---- choices, deactivated people, rollbacks -------------------------------------------------------

def test_choices_decide_the_mail_not_the_in_app_entry(app, api, plan, watch):
    thread = ok(api.as_("commenter").post(f"/clauses/{plan['clause_ids'][2]}/threads", json={"body": "A question."}), 201)
    set_mode(app, "commenter", "discussion", "off")
    watch.start()
    ok(api.as_("editor").post(f"/threads/{thread['id']}/comments", json={"body": "An answer."}), 201)
    told = watch.told()
    assert set(told) == {EMAILS["commenter"]} and told[EMAILS["commenter"]].mail is None  # in the list, no mail

    set_mode(app, "commenter", "discussion", "digest")
    watch.start()
    ok(api.as_("editor").post(f"/threads/{thread['id']}/comments", json={"body": "Another answer."}), 201)
    assert told_mail_status(watch, EMAILS["commenter"]) == "held"

    set_mode(app, "commenter", "discussion", "immediate")
    set_mode(app, "commenter", "amendments", "off")  # another category changes nothing here
    watch.start()
    ok(api.as_("editor").post(f"/threads/{thread['id']}/comments", json={"body": "A third answer."}), 201)
    assert told_mail_status(watch, EMAILS["commenter"]) == "queued"


def told_mail_status(watch: Watch, email: str) -> str:
    told = watch.told()
    assert set(told) == {email}
    return told[email].mail.status


def test_deactivated_people_get_nothing(app, api, plan, watch):
    from drafting.people.operations import deactivate_user

    thread = ok(api.as_("commenter").post(f"/clauses/{plan['clause_ids'][2]}/threads", json={"body": "A question."}), 201)
    with app.test_request_context():
        admin = db.session.scalar(select(User).where(User.email == EMAILS["admin"]))
        lieve = db.session.scalar(select(User).where(User.email == EMAILS["commenter"]))
        deactivate_user(admin, lieve)
        db.session.commit()
    watch.start()
    ok(api.as_("editor").post(f"/threads/{thread['id']}/comments", json={"body": "@Lieve Vandamme, an answer."}), 201)
    assert watch.told() == {}
    walk(api, plan["id"], "signing")
    watch.start()
    adopt(app, api, plan["id"])  # every member is told, but not a deactivated one
    assert EMAILS["editor"] in watch.told() and EMAILS["commenter"] not in watch.told()


def test_a_change_that_rolls_back_tells_nobody(app, plan, watch):
    from drafting.consultation.operations import add_comment, open_thread
    from drafting.models import Clause
    from drafting.signoff.phases import move_phase

    with app.test_request_context():
        users = {role: db.session.scalar(select(User).where(User.email == email)) for role, email in EMAILS.items()}
        thread = open_thread(db.session.get(Clause, plan["clause_ids"][2]), users["commenter"], "A question.")
        db.session.commit()
        watch.start()
        add_comment(thread, users["editor"], "@Katalin Szűcs, an answer.")
        move_phase(users["admin"], db.session.get(Document, plan["id"]), "final_review")
        assert db.session.scalar(select(func.count(OutboxMail.id)).where(OutboxMail.id > watch.mails)) == 2
        db.session.rollback()
    assert watch.told() == {} and watch.mails_since() == []


def test_signatories_of_clusters_that_take_no_part_are_not_asked_to_sign(app, api, plan, watch):
    emails = signatories(app, plan["id"])
    walk(api, plan["id"], "signing")
    assert set(emails.values()) <= set(watch.told())
    assert EMAILS["observer"] not in watch.told() and EMAILS["editor"] not in watch.told()
