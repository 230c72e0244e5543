"""The consultation: threads, comments, mentions, amendments, the deadline, contributions, the
summary and the report, over HTTP (pages and fragments), the JSON API and Socket.IO."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from drafting.consultation.queries import countdown
from drafting.consultation.report import csv_cell, md_escape
from drafting.extensions import db
from drafting.models import (
    Amendment,
    AuditEvent,
    Clause,
    ClauseRevision,
    Comment,
    Contribution,
    Document,
    Notification,
    Organisation,
    Thread,
    User,
)
from drafting.models.base import utcnow
from drafting.text.sanitise import clean_html, editable_text, plain_text, sanitise
from tests.conftest import EMAILS, HX, Auth

ACCEPTED = {"disposition": "accepted"}
NOTED = {"disposition": "noted", "reason": "Taken into account in the next revision of the plan."}


def assert_error(response, status: int, fragment: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    data = response.get_json()
    assert data["error"]["code"] and data["error"]["message"]
    if fragment:
        assert fragment.lower() in data["error"]["message"].lower(), data["error"]["message"]
    return data


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    return response.get_json()


def clause_state(app, clause_id: int) -> Clause:
    with app.app_context():
        clause = db.session.get(Clause, clause_id)
        db.session.expunge(clause)
        return clause


def revisions(app, clause_id: int) -> list[ClauseRevision]:
    with app.app_context():
        rows = list(db.session.scalars(select(ClauseRevision).where(ClauseRevision.clause_id == clause_id)
                                       .order_by(ClauseRevision.version)))
        for row in rows:
            _ = row.author, row.organisation
            db.session.expunge(row)
        return rows


def set_deadline(app, document_id: int, deadline: datetime | None) -> None:
    with app.app_context():
        db.session.get(Document, document_id).deadline = deadline
        db.session.commit()


def user_named(app, role: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == EMAILS[role]))
        _ = user.organisation
        db.session.expunge(user)
        return user


def notifications_of(app, role: str) -> list[str]:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.email == EMAILS[role]))
        return list(db.session.scalars(select(Notification.message).where(Notification.user_id == user_id)
                                       .order_by(Notification.id)))


def open_thread(api, clause_id: int, body: str = "A question about this clause.", role: str = "commenter",
                **extra) -> dict:
    return ok(api.as_(role).post(f"/clauses/{clause_id}/threads", json={"body": body, **extra}), 201)


def propose(api, clause_id: int, text: str, rationale: str = "Because it reads better.",
            role: str = "commenter", **extra) -> dict:
    return ok(api.as_(role).post(f"/clauses/{clause_id}/amendments",
                                 json={"text": text, "rationale": rationale, **extra}), 201)


def current_text(api, document_id: int, clause_id: int) -> dict:
    document = ok(api.as_("editor").get(f"/documents/{document_id}"))
    return next(c for c in document["clauses"] if c["id"] == clause_id)


def edit_clause(api, clause: dict, text: str) -> dict:
    return ok(api.as_("editor").patch(f"/clauses/{clause['id']}", json={"text": text,
                                                                        "base_version": clause["version"]}))


class Tags(HTMLParser):
    """Collect the elements and attributes of an HTML fragment."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


# ---- sanitising -------------------------------------------------------------------------------

def test_allowed_formatting_is_kept_and_links_get_rel():
    html = sanitise('<p>One <em>two</em> <strong>three</strong></p><ul><li>a</li></ul><ol><li>b</li></ol>'
                    'line<br>break <a href="https://example.org/x?a=1&b=2">link</a> '
                    '<a href="mailto:someone@example.org">mail</a>')
    tags = Tags(html).tags
    assert [t for t, _ in tags] == ["p", "em", "strong", "ul", "li", "ol", "li", "br", "a", "a"]
    links = [attrs for tag, attrs in tags if tag == "a"]
    assert links[0] == {"href": "https://example.org/x?a=1&b=2", "rel": "nofollow noopener"}
    assert links[1] == {"href": "mailto:someone@example.org", "rel": "nofollow noopener"}


def test_typed_plain_text_becomes_paragraphs_lists_and_links():
    html = sanitise("First paragraph\nsecond line\n\n- one\n- two\n\n1. a\n2. b\n\nSee www.example.org")
    assert html == ('<p>First paragraph<br>second line</p><ul><li>one</li><li>two</li></ul>'
                    '<ol><li>a</li><li>b</li></ol><p>See <a href="http://www.example.org" '
                    'rel="nofollow noopener">www.example.org</a></p>')


@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)><circle/></svg>",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<p onclick="alert(1)" style="background:url(javascript:alert(1))">x</p>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<div hx-get="/x" hx-trigger="load" data-hx-post="/y">x</div>',
    '<style>@import "http://attacker.example/x.css";</style>',
    "<template><img src=x onerror=alert(1)></template>",
])
def test_scripts_handlers_and_dangerous_links_are_neutralised(payload):
    html = sanitise(payload)
    for tag, attrs in Tags(html).tags:
        assert tag in {"p", "br", "em", "strong", "ul", "ol", "li", "a"}, html
        assert not any(name.startswith(("on", "hx-", "data-", "style")) for name in attrs), html
        if tag == "a":
            assert attrs["href"].startswith(("http://", "https://", "mailto:")), html
    assert clean_html(html) == html  # stored form is stable when sanitised again on the way out


def test_editable_text_round_trips():
    typed = 'Hello <em>there</em>\n\nsee https://x.org and <a href="https://y.org">Y</a>\n\n- a\n- b\n\n1 < 2'
    html = sanitise(typed)
    assert sanitise(editable_text(html)) == html
    assert plain_text(html).startswith("Hello there\n\nsee https://x.org and Y")


# ---- threads --------------------------------------------------------------------------------

def test_thread_without_and_with_a_quote(app, api, plan):
    clause = current_text(api, plan["id"], plan["clause_ids"][1])
    thread = open_thread(api, clause["id"], "Could this be <em>clearer</em>?")
    assert thread["status"] == "open" and thread["quote"] is None
    assert thread["clause_version"] == clause["version"]
    assert thread["author"]["name"] == "Lieve Vandamme"
    assert thread["organisation"] == "Scheldt Life Sciences Cluster"
    assert thread["comments"][0]["body"] == "<p>Could this be <em>clearer</em>?</p>"

    words = clause["text"].split()[2:6]
    quoted = open_thread(api, clause["id"], "About these words.", quote="  " + "\n  ".join(words) + " ")
    assert quoted["quote"] == " ".join(words)  # found whatever the whitespace, stored as in the clause

    missing = api.as_("commenter").post(f"/clauses/{clause['id']}/threads",
                                        json={"body": "x", "quote": "words that are not in the clause"})
    assert_error(missing, 422, "not in the text")
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "thread.created")) == 2


@pytest.mark.parametrize(("payload", "status", "fragment"), [
    ({"body": ""}, 422, "cannot be empty"),
    ({"body": "   \n  "}, 422, "cannot be empty"),
    ({"body": "<p></p><br>"}, 422, "cannot be empty"),
    ({"body": 12}, 422, "must be text"),
    ({}, 422, "must be text"),
    ({"body": "x" * 10_001}, 413, "limit is 10,000"),
    ({"body": "ok", "quote": "q" * 2001}, 413, "quoted passages"),
])
def test_bad_thread_bodies(api, plan, payload, status, fragment):
    response = api.as_("commenter").post(f"/clauses/{plan['clause_ids'][1]}/threads", json=payload)
    assert_error(response, status, fragment)


def test_malformed_body_is_400(api, plan):
    response = api.as_("commenter").post(f"/clauses/{plan['clause_ids'][1]}/threads", data="nope",
                                         content_type="application/json")
    assert_error(response, 400)


def test_replies_edits_and_deletes(app, api, plan):
    thread = open_thread(api, plan["clause_ids"][1])
    reply = ok(api.as_("editor").post(f"/threads/{thread['id']}/comments", json={"body": "Thanks, noted."}), 201)
    assert reply["author"]["name"] == "Tereza Novotná"
    opener_id = thread["comments"][0]["id"]

    edited = ok(api.as_("commenter").patch(f"/comments/{opener_id}", json={"body": "A sharper question."}))
    assert edited["body"] == "<p>A sharper question.</p>" and edited["edited_at"]
    assert_error(api.as_("commenter").patch(f"/comments/{reply['id']}", json={"body": "Hijacked"}), 403, "own")
    assert_error(api.as_("signatory").delete(f"/comments/{opener_id}"), 403, "own")
    assert_error(api.as_("commenter").patch(f"/comments/{opener_id}", json={"body": ""}), 422)

    # Deleting the opening comment keeps the thread while it has replies.
    assert api.as_("commenter").delete(f"/comments/{opener_id}").status_code == 204
    again = ok(api.as_("commenter").get(f"/threads/{thread['id']}"))
    assert again["comments"][0]["deleted"] is True and again["comments"][0]["body"] == ""
    assert_error(api.as_("commenter").delete(f"/comments/{opener_id}"), 404)

    # A thread whose only comment is deleted is gone.
    alone = open_thread(api, plan["clause_ids"][1], "Never mind.")
    assert api.as_("commenter").delete(f"/comments/{alone['comments'][0]['id']}").status_code == 204
    assert_error(api.as_("commenter").get(f"/threads/{alone['id']}"), 404)


def test_resolve_and_reopen_are_for_editors(api, plan):
    thread = open_thread(api, plan["clause_ids"][2])
    for role in ("commenter", "signatory", "observer"):
        assert_error(api.as_(role).post(f"/threads/{thread['id']}/resolve"), 403)
    resolved = ok(api.as_("editor").post(f"/threads/{thread['id']}/resolve", json=NOTED))
    assert resolved["status"] == "resolved" and resolved["resolved_by"]["name"] == "Tereza Novotná"
    assert (resolved["disposition"], resolved["reason"]) == ("noted", NOTED["reason"])
    again = ok(api.as_("editor").post(f"/threads/{thread['id']}/resolve", json=NOTED))  # idempotent
    assert again["status"] == "resolved" and again["resolved_at"] == resolved["resolved_at"]
    assert_error(api.as_("commenter").post(f"/threads/{thread['id']}/comments", json={"body": "But…"}), 409,
                 "resolved")
    assert_error(api.as_("commenter").post(f"/threads/{thread['id']}/reopen"), 403)
    reopened = ok(api.as_("editor").post(f"/threads/{thread['id']}/reopen"))
    assert reopened["status"] == "open" and reopened["resolved_by"] is None
    assert reopened["disposition"] is None and reopened["reason"] is None
    ok(api.as_("commenter").post(f"/threads/{thread['id']}/comments", json={"body": "But…"}), 201)


def test_roles_and_phases_for_threads(api, plan, declaration):
    clause_id = declaration["clause_ids"][0]
    assert_error(api.as_("commenter").post(f"/clauses/{clause_id}/threads", json={"body": "x"}), 403,
                 "consultation")
    open_thread(api, clause_id, "The committee discusses in drafting.", role="editor")
    assert_error(api.as_("observer").post(f"/clauses/{plan['clause_ids'][0]}/threads", json={"body": "x"}), 403)
    open_thread(api, plan["clause_ids"][0], "Signatories comment too.", role="signatory")


def test_non_members_and_unknown_ids_get_404(api, plan, auth, client):
    thread = open_thread(api, plan["clause_ids"][0])
    amendment = propose(api, plan["clause_ids"][0], "Entirely new words for this clause.")
    outsider = api.as_("outsider")
    for method, path, payload in [
        ("post", f"/clauses/{plan['clause_ids'][0]}/threads", {"body": "x"}),
        ("get", f"/clauses/{plan['clause_ids'][0]}/threads", None),
        ("get", f"/threads/{thread['id']}", None),
        ("post", f"/threads/{thread['id']}/comments", {"body": "x"}),
        ("post", f"/threads/{thread['id']}/resolve", None),
        ("patch", f"/comments/{thread['comments'][0]['id']}", {"body": "x"}),
        ("post", f"/clauses/{plan['clause_ids'][0]}/amendments", {"text": "x", "rationale": "y"}),
        ("post", f"/amendments/{amendment['id']}/accept", None),
        ("post", f"/amendments/{amendment['id']}/reject", {"reason": "x"}),
        ("get", f"/documents/{plan['id']}/contributions", None),
        ("get", f"/documents/{plan['id']}/consultation/summary", None),
        ("get", f"/documents/{plan['id']}/consultation/report", None),
    ]:
        response = getattr(outsider, method)(path, json=payload) if payload else getattr(outsider, method)(path)
        assert_error(response, 404)
    editor = api.as_("editor")
    for path in ("/threads/999999", "/amendments/999999", "/clauses/999999/threads"):
        assert_error(editor.get(path), 404)
    assert_error(editor.post("/threads/999999/resolve"), 404)
    assert_error(editor.put("/contributions/999999/clauses", json={"clause_ids": []}), 404)
    assert_error(editor.delete("/comments/999999"), 404)

    auth.login("outsider")
    for path in (f"/documents/{plan['id']}/threads", f"/documents/{plan['id']}/contributions",
                 f"/documents/{plan['id']}/summary", f"/documents/{plan['id']}/report",
                 f"/documents/{plan['id']}/report.csv", f"/clauses/{plan['clause_ids'][0]}/consultation",
                 f"/threads/{thread['id']}/reply", f"/amendments/{amendment['id']}/accept"):
        assert client.get(path, headers=HX).status_code == 404, path
    assert client.post(f"/clauses/{plan['clause_ids'][0]}/threads", data={"body": "x"}, headers=HX).status_code == 404
    assert client.post(f"/amendments/{amendment['id']}/accept", headers=HX).status_code == 404


# ---- the page: counts, filters, fragments ---------------------------------------------------

def test_open_thread_counts_and_the_filter_marker(api, auth, client, plan):
    clause_id = plan["clause_ids"][1]
    first = open_thread(api, clause_id)
    open_thread(api, clause_id, "Second point.")
    ok(api.as_("editor").post(f"/threads/{first['id']}/resolve", json=ACCEPTED))
    auth.login("observer")
    page = client.get(f"/documents/{plan['id']}").get_data(as_text=True)
    section = re.search(rf'<section id="consult-{clause_id}".*?</section>', page, re.S).group(0)
    assert 'data-open-threads="1"' in section
    assert "1 open thread<" in section and "1 resolved" in section
    # Clauses without open threads carry no marker: "show only clauses with open threads" hides them.
    empty = re.search(rf'<section id="consult-{plan["clause_ids"][0]}"[^>]*>', page).group(0)
    assert "data-open-threads" not in empty
    assert "data-only-open-threads" in page
    # Observers read the discussion but get no controls.
    assert "Comment on clause" not in page and ">Reply<" not in page


def test_side_panel_lists_open_threads_filtered_by_organisation(app, api, auth, client, plan):
    open_thread(api, plan["clause_ids"][0], "From Belgium.")
    open_thread(api, plan["clause_ids"][1], "From Hungary.", role="signatory")
    auth.login("editor")
    all_threads = client.get(f"/documents/{plan['id']}/threads", headers=HX).get_data(as_text=True)
    assert all_threads.count("<li>") == 6 + 2  # the seeded six and ours
    with app.app_context():
        hungary = db.session.scalar(select(Organisation.id).where(Organisation.name == "Danube Health Cluster"))
    hungarian = client.get(f"/documents/{plan['id']}/threads?organisation={hungary}", headers=HX).get_data(as_text=True)
    assert "Katalin Szűcs" in hungarian and "Lieve Vandamme" not in hungarian
    assert "Bence Halmos" in hungarian  # a seeded Hungarian thread
    assert "2 open threads opened by" in hungarian
    page = client.get(f"/documents/{plan['id']}/threads")
    assert page.status_code == 200 and "<h1>Open threads</h1>" in page.get_data(as_text=True)
    api_rows = ok(api.as_("editor").get(f"/documents/{plan['id']}/threads?organisation=Danube Health Cluster"))
    assert {row["author"]["name"] for row in api_rows} == {"Katalin Szűcs", "Bence Halmos"}


def test_comment_through_the_page(app, auth, client, plan):
    clause_id = plan["clause_ids"][1]
    auth.login("commenter")
    form = client.get(f"/clauses/{clause_id}/threads/new?quote=shared", headers=HX)
    assert form.status_code == 200 and 'name="quote"' in form.get_data(as_text=True)
    response = client.post(f"/clauses/{clause_id}/threads", headers=HX,
                           data={"body": "Please <strong>keep</strong> this.", "quote": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'id="consult-{clause_id}"' in html and "Comment posted." in html
    assert "<strong>keep</strong>" in html

    empty = client.post(f"/clauses/{clause_id}/threads", headers=HX, data={"body": "  ", "quote": "kept quote"})
    html = empty.get_data(as_text=True)
    assert empty.status_code == 422 and "cannot be empty" in html and "kept quote" in html
    big = client.post(f"/clauses/{clause_id}/threads", headers=HX, data={"body": "y" * 10_001})
    assert big.status_code == 413 and "limit" in big.get_data(as_text=True)

    # Without htmx: a redirect back to the thread, or a page with the form and its message.
    plain = client.post(f"/clauses/{clause_id}/threads", data={"body": "No JavaScript here."})
    assert plain.status_code == 302 and "#thread-" in plain.headers["Location"]
    bad = client.post(f"/clauses/{clause_id}/threads", data={"body": ""})
    assert bad.status_code == 422 and "<form" in bad.get_data(as_text=True)


def test_reply_edit_delete_resolve_through_the_page(app, api, auth, client, plan):
    clause_id = plan["clause_ids"][1]
    thread = open_thread(api, clause_id)
    auth.login("commenter")
    assert client.get(f"/threads/{thread['id']}/reply", headers=HX).status_code == 200
    reply = client.post(f"/threads/{thread['id']}/comments", headers=HX, data={"body": "Adding a detail."})
    assert reply.status_code == 200 and "Reply posted." in reply.get_data(as_text=True)
    with app.app_context():
        mine = db.session.scalar(select(Comment.id).where(Comment.thread_id == thread["id"]).order_by(Comment.id.desc()))
    form = client.get(f"/comments/{mine}/edit", headers=HX)
    assert form.status_code == 200 and "Adding a detail." in form.get_data(as_text=True)
    saved = client.post(f"/comments/{mine}", headers=HX, data={"body": "Adding a better detail."})
    assert "Comment saved." in saved.get_data(as_text=True) and "edited" in saved.get_data(as_text=True)
    assert client.post(f"/threads/{thread['id']}/resolve", headers=HX, data=ACCEPTED).status_code == 403

    Auth(client).logout()
    auth.login("editor")
    assert client.get(f"/comments/{mine}/edit", headers=HX).status_code == 403
    assert client.post(f"/comments/{mine}/delete", headers=HX).status_code == 403
    resolved = client.post(f"/threads/{thread['id']}/resolve", headers=HX, data=ACCEPTED)
    assert "Thread resolved." in resolved.get_data(as_text=True) and ">Reopen<" in resolved.get_data(as_text=True)
    reopened = client.post(f"/threads/{thread['id']}/reopen", headers=HX)
    assert "Thread reopened." in reopened.get_data(as_text=True)

    Auth(client).logout()
    auth.login("commenter")
    deleted = client.post(f"/comments/{mine}/delete", headers=HX)
    assert deleted.status_code == 200 and "Comment deleted." in deleted.get_data(as_text=True)


# ---- mentions and notifications -------------------------------------------------------------

def test_mentions_notify_members_only(app, api, plan):
    body = ("@tereza novotna and @Katalin Szűcs, please look. Also @Olga Outsider, @Friederike Albrecht, "
            "@Lieve Vandamme (myself) and @observer@drafting.example. Not a mention: mail@Tereza Novotná")
    thread = open_thread(api, plan["clause_ids"][3], body)
    assert len(notifications_of(app, "editor")) == 1
    assert "Lieve Vandamme (Scheldt Life Sciences Cluster) mentioned you" in notifications_of(app, "editor")[0]
    assert len(notifications_of(app, "signatory")) == 1
    assert len(notifications_of(app, "observer")) == 1
    assert notifications_of(app, "outsider") == []   # not a member of the document
    assert notifications_of(app, "admin") == []      # the secretariat is not a member either
    assert notifications_of(app, "commenter") == []  # no notification for mentioning oneself

    # Editing notifies only whoever is newly mentioned.
    comment_id = thread["comments"][0]["id"]
    ok(api.as_("commenter").patch(f"/comments/{comment_id}", json={"body": body + " And @editor@drafting.example"}))
    assert len(notifications_of(app, "editor")) == 1
    ok(api.as_("commenter").patch(f"/comments/{comment_id}", json={"body": "Now @Lukas Brenner only."}))
    assert len(notifications_of(app, "observer")) == 1  # already mentioned before
    api_list = ok(api.as_("signatory").get("/notifications"))
    assert api_list[0]["read"] is False and api_list[0]["url"].endswith(f"#comment-{comment_id}")  # the comment
    assert ok(api.as_("signatory").post(f"/notifications/{api_list[0]['id']}/read"))["read"] is True
    assert_error(api.as_("editor").post(f"/notifications/{api_list[0]['id']}/read"), 404)


def test_the_longest_name_wins_and_words_must_end():
    from types import SimpleNamespace

    from drafting.consultation.operations import mentioned_members

    def member(uid, name, email):
        return SimpleNamespace(user=SimpleNamespace(id=uid, name=name, email=email))

    document = SimpleNamespace(memberships=[member(1, "Anna Maria", "am@x.eu"), member(2, "Anna Maria Berg", "b@x.eu"),
                                            member(3, "Jo", "jo@x.eu")])
    assert [u.id for u in mentioned_members(document, "Hi @Anna Maria Berg!")] == [2]
    assert [u.id for u in mentioned_members(document, "Hi @anna maria, and @Jonathan")] == [1]
    assert [u.id for u in mentioned_members(document, "cc @JO@X.EU.")] == [3]


def test_notification_page_count_and_mark_as_read(app, api, auth, client, plan):
    open_thread(api, plan["clause_ids"][3], "@Tereza Novotná what do you think?")
    open_thread(api, plan["clause_ids"][4], "@Tereza Novotná and this one?")
    auth.login("editor")
    page = client.get("/notifications").get_data(as_text=True)
    assert "(2 unread)" in page and "mentioned you in a comment on clause 4" in page
    with app.app_context():
        ids = list(db.session.scalars(select(Notification.id).join(User).where(User.email == EMAILS["editor"])
                                      .order_by(Notification.id)))
    looked = client.get(f"/notifications/{ids[0]}")  # a GET goes there and changes nothing
    assert looked.status_code == 302 and f"/documents/{plan['id']}#comment-" in looked.headers["Location"]
    assert "(2 unread)" in client.get("/documents").get_data(as_text=True)
    opened = client.post(f"/notifications/{ids[0]}/open")  # the list's link: open and mark read
    assert opened.status_code == 302 and f"/documents/{plan['id']}#comment-" in opened.headers["Location"]
    assert "(1 unread)" in client.get("/documents").get_data(as_text=True)
    assert "(1 unread)" in client.get("/notifications/link", headers=HX).get_data(as_text=True)
    marked = client.post("/notifications/read", headers=HX)
    assert "1 notification marked as read." in marked.get_data(as_text=True)
    assert 'id="notifications-link"' in marked.get_data(as_text=True) and "hx-swap-oob" in marked.get_data(as_text=True)
    assert "unread)" not in client.get("/documents").get_data(as_text=True)
    Auth(client).logout()
    auth.login("commenter")
    assert client.get(f"/notifications/{ids[0]}").status_code == 404
    assert client.post(f"/notifications/{ids[0]}/open").status_code == 404
    assert client.post(f"/notifications/{ids[0]}/read").status_code == 404


# ---- amendments -----------------------------------------------------------------------------

def test_accepting_an_amendment_credits_the_proposer(app, api, plan):
    clause = current_text(api, plan["id"], plan["clause_ids"][2])
    text = clause["text"] + " We will also publish the results."
    amendment = propose(api, clause["id"], text, "Transparency <em>matters</em>.")
    assert amendment["status"] == "open" and amendment["base_version"] == clause["version"]
    assert amendment["rationale"] == "<p>Transparency <em>matters</em>.</p>"
    assert_error(api.as_("commenter").post(f"/amendments/{amendment['id']}/accept"), 403)

    answer = ok(api.as_("editor").post(f"/amendments/{amendment['id']}/accept"))
    assert answer["amendment"]["status"] == "accepted" and answer["amendment"]["disposition"] == "accepted"
    assert answer["clause"]["text"] == text and answer["clause"]["version"] == clause["version"] + 1
    assert answer["amendment"]["accepted_version"] == clause["version"] + 1
    assert answer["merged"] is False
    last = revisions(app, clause["id"])[-1]
    assert last.origin == "amendment"
    assert last.author.name == "Lieve Vandamme"
    assert last.organisation.name == "Scheldt Life Sciences Cluster"
    assert_error(api.as_("editor").post(f"/amendments/{amendment['id']}/accept"), 409, "already been accepted")
    assert_error(api.as_("editor").post(f"/amendments/{amendment['id']}/reject", json={"reason": "x"}), 409)
    assert "was accepted by Tereza Novotná" in notifications_of(app, "commenter")[-1]


def test_accepting_after_an_intervening_edit_merges(app, api, plan):
    clause = current_text(api, plan["id"], plan["clause_ids"][2])
    first, rest = clause["text"].split(" ", 1)
    amendment = propose(api, clause["id"], clause["text"] + " Added by the amendment.")
    edited = edit_clause(api, clause, "Firstly, " + first.lower() + " " + rest)
    assert edited["clause"]["version"] == clause["version"] + 1
    answer = ok(api.as_("editor").post(f"/amendments/{amendment['id']}/accept"))
    assert answer["merged"] is True
    merged = answer["clause"]["text"]
    assert merged.startswith("Firstly, ") and merged.endswith(" Added by the amendment.")
    last = revisions(app, clause["id"])[-1]
    assert (last.origin, last.author.name, last.version) == ("amendment", "Lieve Vandamme", clause["version"] + 2)


def test_a_conflicting_acceptance_stores_nothing_then_accepts_with_changes(app, api, plan):
    clause = current_text(api, plan["id"], plan["clause_ids"][2])
    amendment = propose(api, clause["id"], "The amendment rewrites the whole clause.")
    edit_clause(api, clause, "The committee rewrote the whole clause meanwhile.")
    before = len(revisions(app, clause["id"]))
    conflict = api.as_("editor").post(f"/amendments/{amendment['id']}/accept")
    data = assert_error(conflict, 409, "nothing was saved")
    assert data["current"]["text"] == "The committee rewrote the whole clause meanwhile."
    assert data["yours"] == "The amendment rewrites the whole clause."
    assert len(revisions(app, clause["id"])) == before
    assert ok(api.as_("editor").get(f"/amendments/{amendment['id']}"))["status"] == "open"

    # The editor reconciles against the current version: accepted with changes.
    answer = ok(api.as_("editor").post(f"/amendments/{amendment['id']}/accept", json={
        "text": "The amendment and the committee rewrote the clause together.",
        "base_version": data["current"]["version"]}))
    assert answer["amendment"]["disposition"] == "accepted_with_changes"
    assert answer["amendment"]["accepted_text"] == "The amendment and the committee rewrote the clause together."
    assert answer["clause"]["text"] == answer["amendment"]["accepted_text"]
    assert revisions(app, clause["id"])[-1].author.name == "Lieve Vandamme"


def test_accept_with_changes_on_the_base_version(api, plan):
    clause = current_text(api, plan["id"], plan["clause_ids"][4])
    amendment = propose(api, clause["id"], clause["text"] + " Proposed addition.", role="signatory")
    answer = ok(api.as_("editor").post(f"/amendments/{amendment['id']}/accept",
                                       json={"text": clause["text"] + " Edited addition."}))
    assert answer["amendment"]["disposition"] == "accepted_with_changes"
    assert answer["clause"]["text"].endswith(" Edited addition.")
    assert_error(api.as_("editor").post(f"/amendments/{amendment['id']}/accept", json={"text": ""}), 409)


def test_reject_with_a_reason_and_withdraw(app, api, plan):
    clause_id = plan["clause_ids"][4]
    amendment = propose(api, clause_id, "Shorter.")
    assert_error(api.as_("editor").post(f"/amendments/{amendment['id']}/reject", json={"reason": " "}), 422)
    assert_error(api.as_("editor").post(f"/amendments/{amendment['id']}/reject", json={}), 422)
    rejected = ok(api.as_("editor").post(f"/amendments/{amendment['id']}/reject",
                                         json={"reason": "Too short <b>to</b> keep the commitment."}))
    assert rejected["status"] == "rejected" and rejected["reason"] == "Too short <b>to</b> keep the commitment."
    assert "was rejected by Tereza Novotná: Too short" in notifications_of(app, "commenter")[-1]

    second = propose(api, clause_id, "Another wording.")
    assert_error(api.as_("signatory").post(f"/amendments/{second['id']}/withdraw"), 403, "proposed")
    assert_error(api.as_("editor").post(f"/amendments/{second['id']}/withdraw"), 403)
    assert ok(api.as_("commenter").post(f"/amendments/{second['id']}/withdraw"))["status"] == "withdrawn"
    assert_error(api.as_("commenter").post(f"/amendments/{second['id']}/withdraw"), 409)
    assert_error(api.as_("editor").post(f"/amendments/{second['id']}/accept"), 409, "withdrawn")


@pytest.mark.parametrize(("payload", "status", "fragment"), [
    ({"text": "", "rationale": "r"}, 422, "empty"),
    ({"text": "New words.", "rationale": ""}, 422, "rationale cannot be empty"),
    ({"text": "x" * 50_001, "rationale": "r"}, 413, "limit"),
    ({"text": "New words.", "rationale": "r" * 10_001}, 413, "limit"),
    ({"text": "New words.", "rationale": "r", "base_version": 99}, 422, "base_version"),
])
def test_bad_amendments(api, plan, payload, status, fragment):
    response = api.as_("commenter").post(f"/clauses/{plan['clause_ids'][0]}/amendments", json=payload)
    assert_error(response, status, fragment)


def test_an_amendment_repeating_the_text_is_refused_and_editors_do_not_propose(api, plan, declaration):
    clause = current_text(api, plan["id"], plan["clause_ids"][0])
    assert_error(api.as_("commenter").post(f"/clauses/{clause['id']}/amendments",
                                           json={"text": clause["text"], "rationale": "r"}), 422, "same")
    assert_error(api.as_("editor").post(f"/clauses/{clause['id']}/amendments",
                                        json={"text": "x", "rationale": "r"}), 403)
    assert_error(api.as_("commenter").post(f"/clauses/{declaration['clause_ids'][0]}/amendments",
                                           json={"text": "x", "rationale": "r"}), 403, "consultation")


def test_accept_through_the_page_shows_the_diff_and_the_conflict(app, api, auth, client, plan):
    clause = current_text(api, plan["id"], plan["clause_ids"][2])
    fine = propose(api, clause["id"], clause["text"] + " One more sentence.")
    auth.login("editor")
    section = client.get(f"/clauses/{clause['id']}/consultation?expanded=1", headers=HX).get_data(as_text=True)
    assert "<ins>" in section and "One more sentence." in section
    accepted = client.post(f"/amendments/{fine['id']}/accept", headers=HX)
    html = accepted.get_data(as_text=True)
    assert accepted.status_code == 200 and f'<li id="clause-{clause["id"]}"' in html
    assert "Amendment accepted as version" in html and "credited to Lieve Vandamme" in html

    clause = current_text(api, plan["id"], clause["id"])
    clash = propose(api, clause["id"], "A completely different clause.")
    edit_clause(api, clause, "The committee's completely different clause.")
    stale = client.get(f"/clauses/{clause['id']}/consultation?expanded=1", headers=HX).get_data(as_text=True)
    assert "The clause has changed since" in stale and "Reconcile and accept" in stale
    conflict = client.post(f"/amendments/{clash['id']}/accept", headers=HX)
    html = conflict.get_data(as_text=True)
    assert conflict.status_code == 409 and "Conflict." in html and "Reconciled text" in html
    assert "The committee&#39;s completely different clause." in html
    form = client.get(f"/amendments/{clash['id']}/accept", headers=HX).get_data(as_text=True)
    version = re.search(r'name="base_version" value="(\d+)"', form).group(1)
    done = client.post(f"/amendments/{clash['id']}/accept", headers=HX,
                       data={"text": "A reconciled clause.", "base_version": version})
    assert done.status_code == 200 and "with your changes" in done.get_data(as_text=True)
    assert "Accepted with changes" in client.get(f"/clauses/{clause['id']}/consultation?expanded=1",
                                                 headers=HX).get_data(as_text=True)


def test_reject_and_withdraw_through_the_page(api, auth, client, plan):
    clause_id = plan["clause_ids"][5]
    first = propose(api, clause_id, "Proposal one.")
    second = propose(api, clause_id, "Proposal two.")
    auth.login("editor")
    empty = client.post(f"/amendments/{first['id']}/reject", headers=HX, data={"reason": ""})
    assert empty.status_code == 422 and "reason cannot be empty" in empty.get_data(as_text=True).lower()
    rejected = client.post(f"/amendments/{first['id']}/reject", headers=HX, data={"reason": "Out of scope."})
    assert "Out of scope." in rejected.get_data(as_text=True) and "Rejected by" in rejected.get_data(as_text=True)
    Auth(client).logout()
    auth.login("commenter")
    withdrawn = client.post(f"/amendments/{second['id']}/withdraw", headers=HX)
    assert "Amendment withdrawn." in withdrawn.get_data(as_text=True)


# ---- the deadline ----------------------------------------------------------------------------

def test_after_the_deadline_participants_are_closed_and_editors_still_reply(app, api, auth, client, plan):
    clause_id = plan["clause_ids"][1]
    thread = open_thread(api, clause_id)
    amendment = propose(api, clause_id, "A late-breaking idea.")
    set_deadline(app, plan["id"], utcnow() - timedelta(minutes=1))
    for role in ("commenter", "signatory"):
        caller = api.as_(role)
        assert_error(caller.post(f"/clauses/{clause_id}/threads", json={"body": "Too late?"}), 403, "deadline")
        assert_error(caller.post(f"/threads/{thread['id']}/comments", json={"body": "Too late?"}), 403, "deadline")
        assert_error(caller.post(f"/clauses/{clause_id}/amendments", json={"text": "x", "rationale": "y"}), 403,
                     "deadline")
        assert_error(caller.post(f"/documents/{plan['id']}/contributions", json={
            "kind": "best_practice", "topic": "research", "title": "t", "body": "b"}), 403, "deadline")
    assert_error(api.as_("commenter").patch(f"/comments/{thread['comments'][0]['id']}", json={"body": "x"}), 403)
    ok(api.as_("editor").post(f"/threads/{thread['id']}/comments", json={"body": "We take note."}), 201)
    ok(api.as_("editor").post(f"/threads/{thread['id']}/resolve", json=NOTED))
    ok(api.as_("commenter").post(f"/amendments/{amendment['id']}/withdraw"))  # withdrawing is still possible

    auth.login("commenter")
    page = client.get(f"/documents/{plan['id']}").get_data(as_text=True)
    assert "Comments and amendments closed at the deadline" in page
    assert "Comment on clause" not in page and "Propose amendment to clause" not in page
    refused = client.post(f"/clauses/{clause_id}/threads", headers=HX, data={"body": "late"})
    assert refused.status_code == 403 and "deadline" in refused.get_data(as_text=True)


def test_the_page_shows_the_countdown(app, auth, client, plan):
    set_deadline(app, plan["id"], utcnow() + timedelta(days=3, hours=4, minutes=30))
    auth.login("commenter")
    page = client.get(f"/documents/{plan['id']}").get_data(as_text=True)
    assert re.search(r"close in\s+<strong data-countdown=\"[^\"]+\">3 days 4 hours</strong>", page)


@pytest.mark.parametrize(("delta", "text"), [
    (timedelta(days=3, hours=4, minutes=59), "3 days 4 hours"),
    (timedelta(days=1, minutes=5), "1 day"),
    (timedelta(hours=5, minutes=1), "5 hours 1 minute"),
    (timedelta(hours=1), "1 hour"),
    (timedelta(minutes=12, seconds=30), "12 minutes"),
    (timedelta(seconds=20), "less than a minute"),
    (timedelta(seconds=-1), None),
])
def test_countdown(delta, text):
    now = datetime(2024, 5, 1, 12, 0)
    assert countdown(now + delta, now) == text
    assert countdown(None, now) is None


# ---- threads remember their clause version -----------------------------------------------------

def test_outdated_quote_and_changed_clause(app, api, auth, client, plan):
    clause = current_text(api, plan["id"], plan["clause_ids"][1])
    words = clause["text"].split()
    gone_quote, kept_quote = " ".join(words[:3]), " ".join(words[-3:])
    gone = open_thread(api, clause["id"], "About the opening.", quote=gone_quote)
    kept = open_thread(api, clause["id"], "About the ending.", quote=kept_quote)
    assert gone["outdated"] is False and gone["clause_changed"] is False
    edit_clause(api, clause, "Rewritten opening. " + " ".join(words[3:]))
    gone, kept = (ok(api.as_("commenter").get(f"/threads/{t['id']}")) for t in (gone, kept))
    assert (gone["outdated"], gone["clause_changed"]) == (True, True)
    assert (kept["outdated"], kept["clause_changed"]) == (False, True)

    auth.login("commenter")
    section = client.get(f"/clauses/{clause['id']}/consultation?expanded=1", headers=HX).get_data(as_text=True)
    gone_html = re.search(rf'<article id="thread-{gone["id"]}".*?</article>', section, re.S).group(0)
    kept_html = re.search(rf'<article id="thread-{kept["id"]}".*?</article>', section, re.S).group(0)
    assert "Outdated:" in gone_html and "data-quote=" not in gone_html
    assert "Outdated:" not in kept_html and "data-quote=" in kept_html
    assert "The clause has changed since this thread was opened on version 1" in kept_html
    changes = client.get(f"/threads/{kept['id']}/changes", headers=HX).get_data(as_text=True)
    assert "<del>" in changes and "<ins>" in changes and "Rewritten opening." in changes
    assert client.get(f"/threads/{kept['id']}/changes").status_code == 200  # a page of its own without htmx


# ---- contributions -------------------------------------------------------------------------

def contribution(kind="best_practice", topic="research", title="Regional data hub", body="How we did it.",
                 proposal="", **extra):
    return {"kind": kind, "topic": topic, "title": title, "body": body, "proposal": proposal, **extra}


def test_contributions_with_at_most_five_bottlenecks(app, api, declaration):
    commenter = api.as_("commenter")
    document_id = declaration["id"]
    first = ok(commenter.post(f"/documents/{document_id}/contributions",
                              json=contribution(clause_ids=declaration["clause_ids"][:2])), 201)
    assert first["organisation"] == "Scheldt Life Sciences Cluster" and first["clause_ids"] == sorted(
        declaration["clause_ids"][:2])
    assert_error(commenter.post(f"/documents/{document_id}/contributions",
                                json=contribution(kind="bottleneck")), 422, "proposal")
    with app.app_context():
        used = db.session.scalar(select(func.count(Contribution.id)).join(Organisation).where(
            Contribution.document_id == document_id, Contribution.kind == "bottleneck",
            Organisation.name == "Scheldt Life Sciences Cluster"))
    for i in range(5 - used):
        ok(commenter.post(f"/documents/{document_id}/contributions", json=contribution(
            kind="bottleneck", title=f"Bottleneck {i}", proposal="An EU instrument.")), 201)
    sixth = commenter.post(f"/documents/{document_id}/contributions",
                           json=contribution(kind="bottleneck", proposal="One more."))
    assert_error(sixth, 422, "already submitted 5 bottlenecks")
    ok(commenter.post(f"/documents/{document_id}/contributions", json=contribution(title="Still a best practice")), 201)
    # The limit is per organisation: the Hungarian signatory can still submit one.
    ok(api.as_("signatory").post(f"/documents/{document_id}/contributions",
                                 json=contribution(kind="bottleneck", proposal="A fund.")), 201)


@pytest.mark.parametrize(("payload", "status"), [
    (contribution(kind="anecdote"), 422), (contribution(topic="space"), 422), (contribution(title=""), 422),
    (contribution(body=""), 422), (contribution(title="t" * 301), 413), (contribution(body="b" * 20_001), 413),
    (contribution(clause_ids=[999999]), 422), (contribution(clause_ids="1,2"), 422),
])
def test_bad_contributions(api, declaration, payload, status):
    assert_error(api.as_("commenter").post(f"/documents/{declaration['id']}/contributions", json=payload), status)


def test_who_contributes_and_who_links(api, declaration, plan):
    for role in ("editor", "observer"):
        assert_error(api.as_(role).post(f"/documents/{declaration['id']}/contributions", json=contribution()), 403)
    made = ok(api.as_("commenter").post(f"/documents/{declaration['id']}/contributions", json=contribution()), 201)
    assert_error(api.as_("commenter").put(f"/contributions/{made['id']}/clauses", json={"clause_ids": []}), 403)
    linked = ok(api.as_("editor").put(f"/contributions/{made['id']}/clauses",
                                      json={"clause_ids": declaration["clause_ids"][3:5]}))
    assert linked["clause_ids"] == sorted(declaration["clause_ids"][3:5])
    assert_error(api.as_("editor").put(f"/contributions/{made['id']}/clauses",
                                       json={"clause_ids": plan["clause_ids"][:1]}), 422)


def test_browsing_contributions(app, api, auth, client, declaration):
    document_id = declaration["id"]
    mine = ok(api.as_("commenter").post(f"/documents/{document_id}/contributions", json=contribution(
        topic="fast_track", title="Sandbox for digital therapeutics")), 201)
    every = ok(api.as_("observer").get(f"/documents/{document_id}/contributions"))
    assert len(every) > 6
    fast = ok(api.as_("observer").get(f"/documents/{document_id}/contributions?topic=fast_track"))
    assert fast and all(row["topic"] == "fast_track" for row in fast)
    belgian = ok(api.as_("observer").get(
        f"/documents/{document_id}/contributions?organisation=Scheldt Life Sciences Cluster"))
    assert belgian and all(row["organisation"] == "Scheldt Life Sciences Cluster" for row in belgian)
    bottlenecks = ok(api.as_("observer").get(f"/documents/{document_id}/contributions?kind=bottleneck"))
    assert bottlenecks and all(row["kind"] == "bottleneck" for row in bottlenecks)
    assert_error(api.as_("observer").get(f"/documents/{document_id}/contributions?topic=space"), 422)

    auth.login("editor")
    page = client.get(f"/documents/{document_id}/contributions?topic=fast_track").get_data(as_text=True)
    assert "Sandbox for digital therapeutics" in page and "Link to clauses" in page
    assert page.count('class="card contribution"') == len(fast)
    clause_id = declaration["clause_ids"][6]
    linked = client.post(f"/contributions/{mine['id']}/clauses", headers=HX, data={"clause_ids": [str(clause_id)]})
    assert "Linked to 1 clause." in linked.get_data(as_text=True)
    by_clause = client.get(f"/documents/{document_id}/contributions?clause={clause_id}").get_data(as_text=True)
    assert by_clause.count('class="card contribution"') == 1
    section = client.get(f"/clauses/{clause_id}/consultation", headers=HX).get_data(as_text=True)
    assert "Informed by 1 contribution" in section


def test_submitting_a_contribution_through_the_page(auth, client, declaration):
    auth.login("commenter")
    page = client.get(f"/documents/{declaration['id']}/contributions").get_data(as_text=True)
    assert "Submit contribution" in page and "bottlenecks left" in page
    bad = client.post(f"/documents/{declaration['id']}/contributions", data={
        "kind": "bottleneck", "topic": "research", "title": "Slow ethics approvals", "body": "It takes months."})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "proposal" in html.lower() and "Slow ethics approvals" in html
    good = client.post(f"/documents/{declaration['id']}/contributions", data={
        "kind": "best_practice", "topic": "patient_care", "title": "Hospital at home", "body": "It works.",
        "clause_ids": [str(declaration["clause_ids"][0])]})
    assert good.status_code == 302
    assert "Hospital at home" in client.get(good.headers["Location"]).get_data(as_text=True)


# ---- summary and report --------------------------------------------------------------------

def test_summary_per_organisation(app, api, auth, client, plan):
    clause = current_text(api, plan["id"], plan["clause_ids"][0])
    before = {row["organisation"]: row for row in ok(api.as_("observer").get(
        f"/documents/{plan['id']}/consultation/summary"))}
    thread = open_thread(api, clause["id"])
    ok(api.as_("signatory").post(f"/threads/{thread['id']}/comments", json={"body": "Agreed."}), 201)
    accepted = propose(api, clause["id"], clause["text"] + " Accepted part.")
    rejected = propose(api, clause["id"], "Rejected wording.")
    ok(api.as_("editor").post(f"/amendments/{accepted['id']}/accept"))
    ok(api.as_("editor").post(f"/amendments/{rejected['id']}/reject", json={"reason": "No."}))
    rows = {row["organisation"]: row for row in ok(api.as_("observer").get(
        f"/documents/{plan['id']}/consultation/summary"))}
    belgium, old = rows["Scheldt Life Sciences Cluster"], before["Scheldt Life Sciences Cluster"]
    assert belgium["threads"] == old["threads"] + 1
    assert belgium["amendments"] == old["amendments"] + 2
    assert belgium["accepted"] == old["accepted"] + 1 and belgium["rejected"] == old["rejected"] + 1
    assert rows["Danube Health Cluster"]["replies"] == before["Danube Health Cluster"]["replies"] + 1
    participants = {name for name, row in rows.items() if row["participant"]}
    assert len(participants) == 7 and "Baltic Health Network Secretariat" not in rows
    assert belgium["comments"] == belgium["threads"] + belgium["replies"]

    auth.login("signatory")
    page = client.get(f"/documents/{plan['id']}/summary").get_data(as_text=True)
    assert "Scheldt Life Sciences Cluster" in page and "Accepted with changes" in page


def test_report_page_and_downloads(app, api, auth, client, plan):
    clause = current_text(api, plan["id"], plan["clause_ids"][0])
    thread = open_thread(api, clause["id"], "=HYPERLINK(\"http://attacker.example\",\"click\")",
                         quote=" ".join(clause["text"].split()[:2]))
    ok(api.as_("editor").post(f"/threads/{thread['id']}/resolve", json=NOTED))
    kept = propose(api, clause["id"], clause["text"] + " Kept.")
    changed = propose(api, plan["clause_ids"][1], "+cmd|' /C calc'!A0", rationale="-2+3")
    rejected = propose(api, plan["clause_ids"][4], "@SUM(1+1)*cmd", rationale="<script>alert(1)</script> *bold*")
    ok(api.as_("editor").post(f"/amendments/{kept['id']}/accept"))
    ok(api.as_("editor").post(f"/amendments/{changed['id']}/accept", json={"text": "The editor's version."}))
    ok(api.as_("editor").post(f"/amendments/{rejected['id']}/reject", json={"reason": "=1+1 is not a reason"}))

    auth.login("observer")
    page = client.get(f"/documents/{plan['id']}/report").get_data(as_text=True)
    for label in ("Noted", "Accepted", "Accepted with changes", "Rejected", "Open", "By clause", "By cluster"):
        assert label in page
    assert "=1+1 is not a reason" in page

    md = client.get(f"/documents/{plan['id']}/report.md")
    assert md.status_code == 200 and md.mimetype == "text/markdown"
    assert "attachment" in md.headers["Content-Disposition"]
    text = md.get_data(as_text=True)
    assert "#### Amendment" in text and ": Accepted with changes" in text and ": Rejected" in text
    assert "<script>" not in text and "\\<script\\>" in text and "\\*bold\\*" in text

    response = client.get(f"/documents/{plan['id']}/report.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 6 + 3 + 1 + 3  # seeded threads and amendments, ours
    dispositions = {row["id"]: row["disposition"] for row in rows if row["type"] == "amendment"}
    assert dispositions[str(kept["id"])] == "accepted"
    assert dispositions[str(changed["id"])] == "accepted_with_changes"
    assert dispositions[str(rejected["id"])] == "rejected"
    ours = next(row for row in rows if row["type"] == "thread" and row["id"] == str(thread["id"]))
    assert ours["disposition"] == "noted" and ours["text"].startswith("'=HYPERLINK")
    assert ours["excerpt"].startswith("'=HYPERLINK") and ours["reason"] == NOTED["reason"]
    bad = next(row for row in rows if row["id"] == str(rejected["id"]) and row["type"] == "amendment")
    assert bad["text"].startswith("'@SUM") and bad["reason"].startswith("'=1+1")
    worse = next(row for row in rows if row["id"] == str(changed["id"]) and row["type"] == "amendment")
    assert worse["text"].startswith("'+cmd") and worse["rationale"].startswith("'-2+3")
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value

    api_report = ok(api.as_("observer").get(f"/documents/{plan['id']}/consultation/report"))
    assert {entry["disposition"] for entry in api_report} >= {"open", "noted", "accepted",
                                                              "accepted_with_changes", "rejected"}
    assert api.as_("observer").get(f"/documents/{plan['id']}/consultation/report?format=csv").mimetype == "text/csv"
    assert_error(api.as_("observer").get(f"/documents/{plan['id']}/consultation/report?format=pdf"), 422)


def test_markdown_and_csv_escaping():
    assert md_escape("# Title *x* [a](javascript:1) <b>") == "\\# Title \\*x\\* \\[a\\](javascript:1) \\<b\\>"
    assert md_escape("- item\n1. one") == "\\- item\n\\1. one"
    assert md_escape("R&D &lt;x&gt;") == "R&D &amp;lt;x&amp;gt;"
    for value, expected in (("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
                            ("safe", "safe"), (None, ""), (3, "3")):
        assert csv_cell(value) == expected


# ---- Socket.IO ------------------------------------------------------------------------------

def test_consultation_events_reach_the_room(app, api, socket_client, plan):
    watcher_client = app.test_client()
    Auth(watcher_client).login("observer")
    watcher = socket_client(watcher_client)
    assert watcher.emit("join", {"document_id": plan["id"]}, callback=True)["ok"] is True
    watcher.get_received()
    clause = current_text(api, plan["id"], plan["clause_ids"][2])
    with app.app_context():
        commenter_id = db.session.scalar(select(User.id).where(User.email == EMAILS["commenter"]))
        editor_id = db.session.scalar(select(User.id).where(User.email == EMAILS["editor"]))

    thread = open_thread(api, clause["id"])
    ok(api.as_("editor").post(f"/threads/{thread['id']}/comments", json={"body": "Noted."}), 201)
    ok(api.as_("editor").post(f"/threads/{thread['id']}/resolve", json=NOTED))
    accepted = propose(api, clause["id"], clause["text"] + " Accepted.")
    ok(api.as_("editor").post(f"/amendments/{accepted['id']}/accept"))
    rejected = propose(api, clause["id"], "Rejected.")
    ok(api.as_("editor").post(f"/amendments/{rejected['id']}/reject", json={"reason": "No."}))

    received = [(item["name"], item["args"][0]) for item in watcher.get_received() if item["name"] != "presence"]
    names = [name for name, _ in received]
    assert names == ["thread.created", "comment.created", "thread.resolved", "amendment.created",
                     "clause.updated", "amendment.accepted", "amendment.created", "amendment.rejected"]
    seqs = [payload["seq"] for _, payload in received]
    assert seqs == list(range(plan["seq"] + 1, plan["seq"] + 1 + len(received)))
    by_name = dict(received)
    assert by_name["thread.created"] == {"document_id": plan["id"], "seq": seqs[0], "actor": commenter_id,
                                         "clause_id": clause["id"], "thread_id": thread["id"]}
    assert by_name["thread.resolved"]["actor"] == editor_id
    assert by_name["comment.created"]["thread_id"] == thread["id"]
    assert by_name["amendment.accepted"] == {"document_id": plan["id"], "seq": seqs[5], "actor": editor_id,
                                             "clause_id": clause["id"], "amendment_id": accepted["id"]}
    assert by_name["amendment.rejected"]["amendment_id"] == rejected["id"]
    # The catch-up feed has the same, in order.
    feed = ok(api.as_("observer").get(f"/documents/{plan['id']}/changes?since={plan['seq']}"))
    assert [change["event"] for change in feed] == names


def test_refused_actions_are_not_broadcast(app, api, socket_client, plan):
    watcher_client = app.test_client()
    Auth(watcher_client).login("editor")
    watcher = socket_client(watcher_client)
    watcher.emit("join", {"document_id": plan["id"]}, callback=True)
    watcher.get_received()
    api.as_("commenter").post(f"/clauses/{plan['clause_ids'][0]}/threads", json={"body": ""})
    api.as_("observer").post(f"/clauses/{plan['clause_ids'][0]}/threads", json={"body": "x"})
    assert [item for item in watcher.get_received() if item["name"] != "presence"] == []


def test_seeded_consultation_shows_up(app, auth, client, plan, declaration):
    auth.login("editor")
    page = client.get(f"/documents/{plan['id']}").get_data(as_text=True)
    assert page.count('class="thread thread-open"') == 6
    assert page.count('class="amendment amendment-open"') == 3
    assert "Could the annual in-person meeting be held back to back" in page
    contributions = client.get(f"/documents/{declaration['id']}/contributions").get_data(as_text=True)
    assert contributions.count('class="card contribution"') >= 6
    with app.app_context():
        assert db.session.scalar(select(func.count(Thread.id))) == 6
        assert db.session.scalar(select(func.count(Amendment.id))) == 3
