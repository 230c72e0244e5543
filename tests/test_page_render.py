"""The document page renders its clauses quickly without changing what they show: clause URLs come
from one url_for per request (drafting/urls.py), per-document answers are computed once, and
threads are summarised without loading every comment until one is shown."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from drafting.consultation import queries
from drafting.extensions import db
from drafting.models import Clause, Document, Thread
from drafting.urls import _PLACEHOLDER, IdUrl, clause_links
from tests.conftest import EMAILS, HX, PASSWORD, make_app

PREFIX = "http://localhost/drafting"  # the app served under SCRIPT_NAME=/drafting


def squeeze(html: str) -> str:
    """Drop the whitespace a browser ignores here, and the CSRF tokens' values (they carry the time)."""
    html = re.sub(r'(name="csrf_token" value=")[^"]+"', r'\1TOKEN"', html)
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


# ---- drafting/urls.py ---------------------------------------------------------------------------

ENDPOINTS = [("clauses.show", "clause_id", {}), ("clauses.move", "clause_id", {}),
             ("clauses.new", "after", {"document_id": 7}),
             ("consultation.clause_tools", "clause_id", {"expanded": 1}),
             ("consultation.contributions", "clause", {"document_id": 7})]


@pytest.mark.parametrize("base_url", ["http://localhost/", PREFIX, "https://example.org/a/b"])
@pytest.mark.parametrize(("endpoint", "key", "values"), ENDPOINTS)
def test_id_url_equals_url_for(app, base_url, endpoint, key, values):
    with app.test_request_context("/", base_url=base_url):
        pattern = IdUrl(endpoint, key, **values)
        for value in (0, 1, 42, 2**31 - 1, 10**30, -3, True, "12"):
            assert pattern(value) == url_for(endpoint, **values, **{key: value}), value
        if base_url == PREFIX:
            assert pattern(5).startswith("/drafting/")


def test_id_url_falls_back_when_the_placeholder_is_not_alone(app):
    """A fixed value that contains the placeholder cannot fool the substitution."""
    with app.test_request_context("/"):
        pattern = IdUrl("clauses.new", "after", document_id=_PLACEHOLDER)
        assert pattern(5) == url_for("clauses.new", document_id=_PLACEHOLDER, after=5)


def test_clause_links_follow_each_request_script_root(app, plan):
    """Patterns are kept per request, even when one app context serves several requests."""
    with app.app_context():
        clause = db.session.get(Clause, plan["clause_ids"][1])
        for base_url, root in ((PREFIX, "/drafting"), ("http://localhost/", ""), (PREFIX, "/drafting")):
            with app.test_request_context("/", base_url=base_url):
                links = clause_links(clause)
                expected = {
                    "show": url_for("clauses.show", clause_id=clause.id),
                    "edit": url_for("clauses.edit", clause_id=clause.id),
                    "move": url_for("clauses.move", clause_id=clause.id),
                    "delete": url_for("clauses.delete", clause_id=clause.id),
                    "new_after": url_for("clauses.new", document_id=clause.document_id, after=clause.id),
                    "history": url_for("history.history", clause_id=clause.id),
                    "discussion": url_for("consultation.clause_tools", clause_id=clause.id),
                    "discussion_expanded": url_for("consultation.clause_tools", clause_id=clause.id, expanded=1),
                    "new_thread": url_for("consultation.new_thread", clause_id=clause.id),
                    "new_amendment": url_for("consultation.new_amendment", clause_id=clause.id),
                    "contributions": url_for("consultation.contributions", document_id=clause.document_id,
                                             clause=clause.id),
                }
                assert {name: getattr(links, name) for name in expected} == expected
                assert links.edit == f"{root}/clauses/{clause.id}/edit"


# ---- the page and the fragments rendered alone --------------------------------------------------

@pytest.mark.parametrize("role", ["editor", "commenter", "observer"])
@pytest.mark.parametrize("base_url", ["http://localhost/", PREFIX])
def test_each_clause_on_the_page_is_its_fragment(client, auth, plan, role, base_url):
    """The page's clauses are exactly what the routes render for one clause alone."""
    auth.login(role)
    page = client.get(f"/documents/{plan['id']}", base_url=base_url)
    assert page.status_code == 200
    html = squeeze(page.get_data(as_text=True))
    root = "/drafting" if base_url == PREFIX else ""
    for number, clause_id in enumerate(plan["clause_ids"], start=1):
        alone = client.get(f"/clauses/{clause_id}", headers=HX, base_url=base_url)
        assert alone.status_code == 200
        fragment = squeeze(alone.get_data(as_text=True))
        assert fragment.startswith(f'<li id="clause-{clause_id}"') and fragment in html, number
        assert f'href="{root}/clauses/{clause_id}/history"' in fragment
        editing = (f'href="{root}/clauses/{clause_id}/edit"', f'action="{root}/clauses/{clause_id}/move"',
                   f'hx-post="{root}/clauses/{clause_id}/delete"',
                   f'href="{root}/documents/{plan["id"]}/clauses/new?after={clause_id}"')
        assert all((link in fragment) == (role == "editor") for link in editing), role
        assert (f'href="{root}/clauses/{clause_id}/threads/new"' in fragment) == (role != "observer")
        assert f'data-url="{root}/clauses/{clause_id}/consultation"' in fragment
        if role == "editor":
            assert 'name="csrf_token" value="TOKEN"' in fragment
        discussion = client.get(f"/clauses/{clause_id}/consultation", headers=HX, base_url=base_url)
        assert f'<section id="consult-{clause_id}"' in discussion.get_data(as_text=True)
    assert html.count('<li id="clause-') == len(plan["clause_ids"])
    tokens = set(re.findall(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)))
    assert len(tokens) == 1 and "" not in tokens  # every form of the page carries the request's token
    assert html.count('aria-label="Edit clause ') == (len(plan["clause_ids"]) if role == "editor" else 0)


def test_the_move_buttons_of_the_first_and_last_clause(client, auth, plan):
    auth.login("editor")
    html = client.get(f"/documents/{plan['id']}").get_data(as_text=True)
    first, last = plan["clause_ids"][0], plan["clause_ids"][-1]
    total = len(plan["clause_ids"])
    assert re.search(r'value="up" class="icon" disabled\s+aria-label="Move clause 1 up"', html)
    assert re.search(rf'value="down" class="icon" disabled\s+aria-label="Move clause {total} down"', html)
    assert not re.search(r'value="down" class="icon" disabled\s+aria-label="Move clause 1 down"', html)
    assert f'id="clause-{first}"' in html and f'id="clause-{last}"' in html


def _discussion(api, clause_id: int) -> dict:
    """A thread with a deleted opening comment and two replies, one deleted, and a plain thread."""
    def ok(response, status=201):
        assert response.status_code == status, response.get_data(as_text=True)[:300]
        return response.get_json()

    thread = ok(api.as_("commenter").post(f"/clauses/{clause_id}/threads", json={"body": "<p>First point.</p>"}))
    kept = ok(api.as_("editor").post(f"/threads/{thread['id']}/comments", json={"body": "Noted, thanks."}))
    gone = ok(api.as_("editor").post(f"/threads/{thread['id']}/comments", json={"body": "Typo."}))
    assert api.as_("editor").delete(f"/comments/{gone['id']}").status_code == 204
    assert api.as_("commenter").delete(f"/comments/{thread['comments'][0]['id']}").status_code == 204
    other = ok(api.as_("signatory").post(f"/clauses/{clause_id}/threads",
                                         json={"body": "<p>Second <em>point</em>.</p>"}))
    return {"thread": thread, "kept": kept, "other": other}


def test_thread_summaries_match_the_threads(app, api, plan):
    """What the page summarises without loading comments equals the full view of each thread."""
    _discussion(api, plan["clause_ids"][2])
    with app.test_request_context("/"):
        document = db.session.get(Document, plan["id"])
        views = [v for cc in queries._document_consultation(document).values() for v in cc.threads]
        assert views
        for view in views:
            full = queries.thread_view(db.session.get(Thread, view.thread.id), view.clause)
            assert (view.organisation, view.changed, view.outdated, view.comment_count, view.replies) == \
                   (full.organisation, full.changed, full.outdated, full.comment_count, full.replies)
            assert (view.opening.body, view.opening.deleted_at) == (full.opening.body, full.opening.deleted_at)
            assert [c.id for c in view.comments] == [c.id for c in full.comments]
            assert all(c.author is not None for c in view.comments)


def test_a_discussion_loading_on_demand(client, auth, api, plan, monkeypatch):
    """Above the inline limit the page shows summaries; opening one loads the comments."""
    clause_id = plan["clause_ids"][2]
    made = _discussion(api, clause_id)
    monkeypatch.setattr(queries, "INLINE_COMMENTS", 0)
    auth.login("editor")
    html = client.get(f"/documents/{plan['id']}").get_data(as_text=True)
    section = html[html.index(f'<section id="consult-{clause_id}"'):]
    section = section[:section.index("</section>")]
    assert f'hx-get="/clauses/{clause_id}/consultation?expanded=1"' in section
    assert "Loading the discussion" in section and "Noted, thanks." not in section
    assert '<span class="count count-open">2 open threads</span>' in section
    panel = html[html.index('<div id="open-threads"'):]
    assert f'href="/documents/{plan["id"]}#thread-{made["thread"]["id"]}"' in panel
    assert "Second point." in panel  # the opening comment's excerpt
    assert "First point." not in panel  # deleted: no excerpt
    assert '<span class="muted">1 reply</span>' in panel
    opened = client.get(f"/clauses/{clause_id}/consultation?expanded=1", headers=HX).get_data(as_text=True)
    assert "Noted, thanks." in opened and "This comment was deleted by its author." in opened
    assert f'id="consult-{clause_id}-details" class="consult-details" open' in opened



# ---- clauses kept between page loads (drafting/fragments.py) ------------------------------------

def _page(client, auth, role: str, document_id: int) -> str:
    auth.logout()  # whoever was logged in (logging in over a session keeps its user)
    auth.login(role)
    response = client.get(f"/documents/{document_id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _clause_html(html: str, clause_id: int) -> str:
    start = html.index(f'<li id="clause-{clause_id}"')
    return html[start:html.index("</li>", html.index("</article>", start)) + 5]


def _discussed_inline(html: str, plan) -> list[int]:
    return [cid for cid in plan["clause_ids"] if 'class="consult-details"' in _clause_html(html, cid)]


def _fragments(app):
    return app.extensions["drafting.fragments"]


def test_a_kept_clause_is_what_a_fresh_render_gives(app, client, auth, plan, database):
    first = _page(client, auth, "editor", plan["id"])
    # Every clause was kept but those whose discussion is shown inline (this small plan's).
    inline = _discussed_inline(first, plan)
    assert inline and len(_fragments(app)) == len(plan["clause_ids"]) - len(inline)
    second = _page(client, auth, "editor", plan["id"])
    uncached = make_app(database, CLAUSE_FRAGMENT_CACHE=0)
    assert uncached.extensions["drafting.fragments"] is None
    fresh_client = uncached.test_client()
    fresh_client.post("/login", data={"email": EMAILS["editor"], "password": PASSWORD})
    fresh = fresh_client.get(f"/documents/{plan['id']}").get_data(as_text=True)
    for clause_id in plan["clause_ids"]:
        kept = squeeze(_clause_html(second, clause_id))
        assert kept == squeeze(_clause_html(first, clause_id)) == squeeze(_clause_html(fresh, clause_id))
    # The per-request values are this request's, not the ones of the load that filled the store.
    token = re.findall(r'name="csrf_token" value="([^"]+)"', second)
    assert len(set(token)) == 1 and "tokenmark" not in second and "seqmark" not in second
    seq = re.search(r'<section id="clauses"[^>]*data-seq="(\d+)"', second).group(1)
    assert set(re.findall(r'<section id="consult-\d+" [^>]*data-seq="(\d+)"', second)) == {seq}


def test_kept_clauses_follow_every_change(app, client, auth, api, plan):
    first_id, second_id, third_id = plan["clause_ids"][:3]
    _page(client, auth, "editor", plan["id"])
    with app.app_context():
        version = db.session.get(Clause, first_id).version
    saved = api.as_("editor").patch(f"/clauses/{first_id}", json={"text": "Rewritten while kept.",
                                                                   "base_version": version})
    assert saved.status_code == 200
    thread = api.as_("commenter").post(f"/clauses/{second_id}/threads", json={"body": "<p>A point.</p>"})
    assert thread.status_code == 201
    moved = client.post(f"/clauses/{third_id}/move", data={"direction": "up"})
    assert moved.status_code in (200, 302, 303)
    html = _page(client, auth, "editor", plan["id"])
    assert "Rewritten while kept." in _clause_html(html, first_id)
    assert f'data-version="{version + 1}"' in _clause_html(html, first_id)
    assert "1 open thread" in _clause_html(html, second_id)
    assert 'aria-label="Move clause 2 up"' in _clause_html(html, third_id)
    assert 'aria-label="Move clause 3 up"' in _clause_html(html, second_id)
    with app.app_context():
        seq = db.session.get(Document, plan["id"]).seq
    assert f'data-seq="{seq}"' in _clause_html(html, first_id)


def test_a_kept_clause_never_shows_one_persons_controls_to_another(app, client, auth, plan):
    clause_id = plan["clause_ids"][0]
    page = _page(client, auth, "editor", plan["id"])
    editor = _clause_html(page, clause_id)
    assert 'aria-label="Edit clause 1"' in editor and 'name="csrf_token"' in editor
    observer = _clause_html(_page(client, auth, "observer", plan["id"]), clause_id)
    assert "Edit clause" not in observer and "csrf_token" not in observer and "Comment on clause" not in observer
    commenter = _clause_html(_page(client, auth, "commenter", plan["id"]), clause_id)
    assert "Edit clause" not in commenter and 'aria-label="Comment on clause 1"' in commenter
    kept = len(plan["clause_ids"]) - len(_discussed_inline(page, plan))
    assert len(_fragments(app)) == 3 * kept  # one set per distinct view


def test_changed_since_your_last_visit_is_per_person(app, client, auth, api, plan):
    clause_id = plan["clause_ids"][0]
    _page(client, auth, "editor", plan["id"])  # the editor's visit
    auth.logout()
    with app.app_context():
        version = db.session.get(Clause, clause_id).version
    saved = api.as_("editor2").patch(f"/clauses/{clause_id}", json={"text": "Changed by a colleague.",
                                                                    "base_version": version})
    assert saved.status_code == 200
    _page(client, auth, "observer", plan["id"])  # keeps the clause as the observer sees it
    auth.logout()
    mine = _clause_html(_page(client, auth, "editor", plan["id"]), clause_id)
    assert "Changed since your last visit." in mine and "Changed by a colleague." in mine
    auth.logout()
    theirs = _clause_html(_page(client, auth, "editor2", plan["id"]), clause_id)
    assert "since your last visit" not in theirs and "Changed by a colleague." in theirs


def test_amendment_diffs_are_worked_out_only_when_shown(client, auth, api, plan, monkeypatch):
    clause_id = plan["clause_ids"][1]
    _discussion(api, clause_id)
    with client.application.app_context():
        clause = db.session.get(Clause, clause_id)
        text, version = clause.text, clause.version
    proposed = api.as_("commenter").post(f"/clauses/{clause_id}/amendments",
                                         json={"text": text + " With a proposed ending.", "rationale": "Clearer.",
                                               "base_version": version})
    assert proposed.status_code == 201, proposed.get_data(as_text=True)
    monkeypatch.setattr(queries, "INLINE_COMMENTS", 0)  # discussions load on demand
    calls = []
    real = queries.offload.diff
    monkeypatch.setattr(queries.offload, "diff", lambda *args: calls.append(args) or real(*args))
    html = _page(client, auth, "editor", plan["id"])
    assert "1 open amendment" in _clause_html(html, clause_id) and calls == []
    opened = client.get(f"/clauses/{clause_id}/consultation?expanded=1", headers=HX).get_data(as_text=True)
    assert calls and re.search(r"<ins>(<span[^>]*>[^<]*</span>)? With a proposed ending\.", opened)


def test_a_list_status_is_announced_once_not_by_every_clause(client, auth, plan):
    auth.login("editor")
    third = plan["clause_ids"][2]
    moved = client.post(f"/clauses/{third}/move", data={"direction": "up"}, headers=HX)
    html = moved.get_data(as_text=True)
    assert moved.status_code == 200 and html.count("Clause moved up to number 2.") == 1
    assert '<p class="list-status" role="status">Clause moved up to number 2.</p>' in html
    assert 'class="clause-status"' not in html
