"""The pages and htmx fragments, driven through the Flask test client as a browser would."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from markupsafe import escape
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import Clause, ClauseRevision, Document
from tests.conftest import EMAILS, HX, PASSWORD, make_app
from tests.phases import walk

# ---- helpers -----------------------------------------------------------------------------

def html(response) -> str:
    return response.get_data(as_text=True)


def page_ids(text: str) -> list[int]:
    """The clause ids of a page or list fragment, in the order shown."""
    return [int(i) for i in re.findall(r'<li id="clause-(\d+)"', text)]


def page_numbers(text: str) -> list[int]:
    """The clauses' numbers in the page, in order: their place in the list, as their controls say
    ("Clause 3 actions"); the number shown follows the kind (see test_clause_kinds)."""
    return [int(n) for n in re.findall(r'aria-label="Clause (\d+) actions"', text)]


def document_json(api, document_id: int, role: str = "editor") -> dict:
    response = api.as_(role).get(f"/documents/{document_id}")
    assert response.status_code == 200
    return response.get_json()


def clause_json(api, document_id: int, clause_id: int) -> dict:
    return next(c for c in document_json(api, document_id)["clauses"] if c["id"] == clause_id)


def revisions(api, clause_id: int) -> list[dict]:
    response = api.as_("editor").get(f"/clauses/{clause_id}/revisions")
    assert response.status_code == 200
    return response.get_json()


def save(client, clause_id: int, text: str, base_version, heading: str | None = None, htmx=True):
    data = {"text": text, "base_version": str(base_version)}
    if heading is not None:
        data["heading"] = heading
    return client.post(f"/clauses/{clause_id}", data=data, headers=HX if htmx else {})


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


# ---- logging in and out ------------------------------------------------------------------

def test_wrong_password_answers_401_with_the_message(client):
    response = client.post("/login", data={"email": EMAILS["editor"], "password": "wrong-password"})
    assert response.status_code == 401
    assert "That email and password do not match an account." in html(response)
    assert client.get("/documents").status_code == 302  # still not logged in


def test_unknown_email_answers_401(client):
    response = client.post("/login", data={"email": "nobody@drafting.example", "password": PASSWORD})
    assert response.status_code == 401
    assert "do not match" in html(response)


@pytest.mark.parametrize("path", ["/documents", "/documents/{id}"])
def test_anonymous_pages_redirect_to_login_with_next(client, declaration, path):
    path = path.format(id=declaration["id"])
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login"
    assert parse_qs(location.query)["next"] == [path]


def test_login_follows_a_local_next(client, declaration):
    target = f"/documents/{declaration['id']}"
    response = client.post(f"/login?next={target}",
                           data={"email": EMAILS["editor"], "password": PASSWORD})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == target


@pytest.mark.parametrize("target", ["https://evil.example", "//evil.example/x", "https:/evil.example",
                                    "/\\evil.example"])
def test_login_never_redirects_off_site(client, target):
    response = client.post("/login", query_string={"next": target},
                           data={"email": EMAILS["editor"], "password": PASSWORD})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost")
    assert location.path == "/documents"


def test_a_copied_session_cookie_stops_working_after_logout(app, client, auth):
    auth.login("editor")
    copied = client.get_cookie("session").value

    before = app.test_client()
    before.set_cookie("session", copied)
    assert before.get("/documents").status_code == 200  # the copy works while logged in

    response = auth.logout()
    assert response.status_code == 302
    assert client.get("/documents").status_code == 302

    after = app.test_client()
    after.set_cookie("session", copied)
    response = after.get("/documents")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/login"


# ---- the document list -------------------------------------------------------------------

def row_of(text: str, document_id: int) -> str:
    rows = [row for row in text.split("<tr") if f'href="/documents/{document_id}"' in row]
    assert len(rows) == 1, f"document {document_id} listed {len(rows)} times"
    return rows[0]


def test_outsider_sees_no_documents(client, auth, declaration, plan):
    auth.login("outsider")
    text = html(client.get("/documents"))
    assert f'href="/documents/{declaration["id"]}"' not in text
    assert f'href="/documents/{plan["id"]}"' not in text
    assert "no role on any document" in text


def test_list_shows_only_documents_with_a_role(client, auth, api, declaration, plan):
    created = api.as_("admin").post("/documents", json={"title": "Secretariat working paper",
                                                       "kind": "declaration"})
    assert created.status_code == 201
    new_id = created.get_json()["id"]

    auth.login("admin")
    text = html(client.get("/documents"))
    for document_id in (declaration["id"], plan["id"], new_id):
        row_of(text, document_id)
    auth.logout()

    auth.login("editor")
    text = html(client.get("/documents"))
    row_of(text, declaration["id"])
    row_of(text, plan["id"])
    assert f'href="/documents/{new_id}"' not in text
    assert "Secretariat working paper" not in text


def test_list_rows_show_kind_phase_and_last_change(app, client, auth, declaration, plan):
    auth.login("commenter")
    text = html(client.get("/documents"))
    declaration_row, plan_row = row_of(text, declaration["id"]), row_of(text, plan["id"])
    assert "Joint Declaration" in declaration_row and "Drafting" in declaration_row
    assert "Joint Action Plan" in plan_row and "Consultation" in plan_row
    with app.app_context():
        for row, info in ((declaration_row, declaration), (plan_row, plan)):
            updated = db.session.get(Document, info["id"]).updated_at
            assert f'datetime="{updated.isoformat(timespec="seconds")}Z"' in row
            assert f"{updated.day} {updated:%b %Y}" in row  # as the page writes it: "5 Nov 2026"


# ---- the document page -------------------------------------------------------------------

def test_document_page_lists_clauses_in_order_numbered_with_headings(client, auth, api, declaration):
    auth.login("observer")
    response = client.get(f"/documents/{declaration['id']}")
    assert response.status_code == 200
    text = html(response)
    clauses = document_json(api, declaration["id"])["clauses"]
    assert len(clauses) >= 3
    assert page_ids(text) == [c["id"] for c in clauses] == declaration["clause_ids"]
    assert page_numbers(text) == list(range(1, len(clauses) + 1))
    assert [c["number"] for c in clauses] == list(range(1, len(clauses) + 1))
    for clause in clauses:
        heading = clause["heading"] or f"Clause {clause['number']}"
        assert str(escape(heading)) in text
    # headings appear in order too
    positions = [text.index(f'id="clause-{c["id"]}-title"') for c in clauses]
    assert positions == sorted(positions)


def test_clause_text_is_escaped_in_page_and_fragment(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][0]
    nasty = "<script>alert(1)</script> & <b>x</b>"
    response = save(client, clause_id, nasty, 1)
    assert response.status_code == 200
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;x&lt;/b&gt;"
    for text in (html(response),
                 html(client.get(f"/clauses/{clause_id}", headers=HX)),
                 html(client.get(f"/documents/{declaration['id']}"))):
        assert escaped in text
        assert "<script>alert(1)" not in text
        assert "<b>x</b>" not in text
    # stored exactly as typed
    assert clause_json(api, declaration["id"], clause_id)["text"] == nasty


# ---- editing -----------------------------------------------------------------------------

def test_edit_form_fragment_has_current_text_and_base_version(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][0]
    current = clause_json(api, declaration["id"], clause_id)
    response = client.get(f"/clauses/{clause_id}/edit", headers=HX)
    assert response.status_code == 200
    text = html(response)
    assert "<html" not in text  # a fragment, not a page
    assert "<textarea" in text
    assert str(escape(current["text"])) in text
    assert re.search(r'name="base_version" value="1"', text)
    assert "HX-Request" in response.headers.get("Vary", "")


def test_edit_without_htmx_is_a_full_page(client, auth, declaration):
    auth.login("editor")
    response = client.get(f"/clauses/{declaration['clause_ids'][0]}/edit")
    assert response.status_code == 200
    assert "<html" in html(response) and "<textarea" in html(response)


def test_save_stores_a_new_version(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][1]
    response = save(client, clause_id, "The purpose, rewritten by the committee.", 1)
    assert response.status_code == 200
    text = html(response)
    assert "The purpose, rewritten by the committee." in text
    assert "Saved as version 2" in text
    assert "<textarea" not in text  # back to the display fragment
    assert 'data-version="2"' in text

    history = revisions(api, clause_id)
    assert [r["version"] for r in history] == [1, 2]
    assert [r["origin"] for r in history] == ["edit", "edit"]
    assert history[1]["text"] == "The purpose, rewritten by the committee."
    assert history[1]["author"] == "Tereza Novotná"
    assert clause_json(api, declaration["id"], clause_id)["version"] == 2


def test_save_without_htmx_redirects_to_the_clause(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][1]
    response = save(client, clause_id, "Saved from a plain form.", 1, htmx=False)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/documents/{declaration['id']}#clause-{clause_id}")
    assert clause_json(api, declaration["id"], clause_id)["text"] == "Saved from a plain form."


def test_saving_the_same_text_stores_nothing(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][1]
    current = clause_json(api, declaration["id"], clause_id)
    response = save(client, clause_id, current["text"], 1, heading=current["heading"] or "")
    assert response.status_code == 200
    assert "No changes to save." in html(response)
    assert len(revisions(api, clause_id)) == 1


def test_cancel_returns_the_display_fragment(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][0]
    current = clause_json(api, declaration["id"], clause_id)
    response = client.get(f"/clauses/{clause_id}", headers=HX)
    assert response.status_code == 200
    text = html(response)
    assert f'<li id="clause-{clause_id}"' in text
    assert "<textarea" not in text
    assert str(escape(current["text"])) in text
    assert "<html" not in text
    # without htmx the clause address leads to its place on the page
    response = client.get(f"/clauses/{clause_id}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#clause-{clause_id}")


def test_empty_text_is_refused_with_422_and_keeps_the_input(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][0]
    before = clause_json(api, declaration["id"], clause_id)
    response = save(client, clause_id, "   \n  ", 1, heading="A heading I typed")
    assert response.status_code == 422
    text = html(response)
    assert "cannot be empty" in text
    assert "<textarea" in text
    assert 'value="A heading I typed"' in text
    assert re.search(r"<textarea[^>]*>   \n  </textarea>", text)
    assert clause_json(api, declaration["id"], clause_id) == before
    assert len(revisions(api, clause_id)) == 1


def test_too_long_text_is_refused_with_413(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][0]
    before = clause_json(api, declaration["id"], clause_id)
    seq = document_json(api, declaration["id"])["seq"]
    long_text = "y" * 50_001
    response = save(client, clause_id, long_text, 1)
    assert response.status_code == 413
    text = html(response)
    assert "50,000" in text and "limit" in text
    assert long_text in text  # what was typed is not thrown away
    assert clause_json(api, declaration["id"], clause_id) == before
    assert len(revisions(api, clause_id)) == 1
    assert document_json(api, declaration["id"])["seq"] == seq


def test_exactly_50000_characters_are_accepted(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][0]
    response = save(client, clause_id, "z" * 50_000, 1)
    assert response.status_code == 200
    assert clause_json(api, declaration["id"], clause_id)["text"] == "z" * 50_000


@pytest.mark.parametrize("base", ["", "abc", "0", "-1"])
def test_missing_or_bad_base_version_is_422(client, auth, api, declaration, base):
    auth.login("editor")
    clause_id = declaration["clause_ids"][0]
    response = save(client, clause_id, "Some new text.", base)
    assert response.status_code == 422
    assert "base_version" in html(response)
    assert clause_json(api, declaration["id"], clause_id)["version"] == 1


def test_base_version_from_the_future_is_422(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][0]
    response = save(client, clause_id, "Some new text.", 7)
    assert response.status_code == 422
    assert clause_json(api, declaration["id"], clause_id)["version"] == 1


# ---- merging and conflicts ---------------------------------------------------------------

def test_stale_save_with_separate_edits_is_merged(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][0]
    base = clause_json(api, declaration["id"], clause_id)["text"]
    theirs = replace_once(base, "from Bulgaria,", "from the Republic of Bulgaria,")
    mine = replace_once(base, "that will follow it.", "that will follow it in 2021 and 2022.")

    assert save(client, clause_id, theirs, 1).status_code == 200
    response = save(client, clause_id, mine, 1)  # still based on version 1
    assert response.status_code == 200
    text = html(response)
    assert "Merged" in text and "version 3" in text
    # What the others changed meanwhile is shown as a diff, escaped and marked up.
    assert "What the others changed meanwhile" in text
    assert "<ins>" in text and "Republic of" in text

    final = clause_json(api, declaration["id"], clause_id)
    assert final["version"] == 3
    assert "from the Republic of Bulgaria," in final["text"]
    assert "that will follow it in 2021 and 2022." in final["text"]
    assert final["text"] == replace_once(theirs, "that will follow it.",
                                         "that will follow it in 2021 and 2022.")
    history = revisions(api, clause_id)
    assert [r["version"] for r in history] == [1, 2, 3]
    assert [r["origin"] for r in history] == ["edit", "edit", "merge"]


def test_stale_save_touching_the_same_words_is_a_conflict(client, auth, api, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][0]
    base = clause_json(api, declaration["id"], clause_id)["text"]
    theirs = replace_once(base, "more than 1,400 universities", "more than 1,500 universities")
    mine = replace_once(base, "more than 1,400 universities", "nearly 1,600 universities")

    assert save(client, clause_id, theirs, 1).status_code == 200
    seq = document_json(api, declaration["id"])["seq"]
    response = save(client, clause_id, mine, 1)
    assert response.status_code == 409
    text = html(response)
    assert "Conflict" in text
    # Each version is shown with its changes marked: read it without the removed words (and the space after them).
    theirs_shown, yours_shown = (
        re.sub(r"<del>[^<]*</del>(?:\s*(?=<ins>))?|<[^>]+>", "", re.sub(r'<span class="visually-hidden">[^<]*</span>', "", part))
        for part in re.findall(r"<section.*?</section>", text, re.S))
    assert "more than 1,500 universities" in theirs_shown  # the current text
    assert "nearly 1,600 universities" in yours_shown
    assert '<mark class="conflict"' in text  # the words both changed stand out
    assert 'name="base_version" value="2"' in text  # resolving saves on top of the current version

    final = clause_json(api, declaration["id"], clause_id)
    assert final["version"] == 2 and final["text"] == theirs
    assert len(revisions(api, clause_id)) == 2
    assert document_json(api, declaration["id"])["seq"] == seq


# ---- adding, deleting, moving, reordering ------------------------------------------------

def test_add_after_a_clause_numbers_it_right_after(client, auth, api, declaration):
    auth.login("editor")
    first = declaration["clause_ids"][0]
    response = client.post(f"/documents/{declaration['id']}/clauses", headers=HX,
                           data={"after": str(first), "heading": "Inserted heading",
                                 "text": "An inserted clause."})
    assert response.status_code == 200
    text = html(response)
    assert "Clause 2 added." in text
    ids = page_ids(text)
    assert len(ids) == len(declaration["clause_ids"]) + 1
    new_id = ids[1]
    assert new_id not in declaration["clause_ids"]
    assert ids == [first, new_id, *declaration["clause_ids"][1:]]
    assert page_numbers(text) == list(range(1, len(ids) + 1))

    page = html(client.get(f"/documents/{declaration['id']}"))
    assert page_ids(page) == ids
    assert "Inserted heading" in page and "An inserted clause." in page
    new = clause_json(api, declaration["id"], new_id)
    assert new["number"] == 2 and new["version"] == 1 and new["heading"] == "Inserted heading"


def test_add_without_after_appends_at_the_end(client, auth, declaration):
    auth.login("editor")
    response = client.post(f"/documents/{declaration['id']}/clauses", headers=HX,
                           data={"text": "The closing clause."})
    assert response.status_code == 200
    ids = page_ids(html(response))
    assert ids[:-1] == declaration["clause_ids"]
    assert f"Clause {len(ids)} added." in html(response)


def test_add_with_empty_text_is_422_and_stores_nothing(client, auth, declaration):
    auth.login("editor")
    response = client.post(f"/documents/{declaration['id']}/clauses", headers=HX,
                           data={"text": "  ", "heading": "Kept"})
    assert response.status_code == 422
    assert "cannot be empty" in html(response)
    assert 'value="Kept"' in html(response)
    assert page_ids(html(client.get(f"/documents/{declaration['id']}"))) == declaration["clause_ids"]


def test_delete_closes_up_numbering_and_keeps_history(app, client, auth, api, declaration):
    auth.login("editor")
    ids = declaration["clause_ids"]
    victim = ids[1]
    assert save(client, victim, "A version 2 before deletion.", 1).status_code == 200
    response = client.post(f"/clauses/{victim}/delete", headers=HX)
    assert response.status_code == 200
    assert "Clause 2 deleted." in html(response)
    expected = [i for i in ids if i != victim]
    assert page_ids(html(response)) == expected

    page = html(client.get(f"/documents/{declaration['id']}"))
    assert page_ids(page) == expected
    assert page_numbers(page) == list(range(1, len(expected) + 1))
    assert "A version 2 before deletion." not in page
    assert [c["id"] for c in document_json(api, declaration["id"])["clauses"]] == expected

    with app.app_context():
        clause = db.session.get(Clause, victim)
        assert clause is not None and clause.deleted_at is not None
        stored = db.session.scalars(select(ClauseRevision).where(ClauseRevision.clause_id == victim)
                                    .order_by(ClauseRevision.version)).all()
        assert [r.version for r in stored] == [1, 2]
        assert stored[1].text == "A version 2 before deletion."

    # the deleted clause is gone for the pages
    assert client.get(f"/clauses/{victim}", headers=HX).status_code == 404
    assert client.get(f"/clauses/{victim}/edit", headers=HX).status_code == 404
    assert client.post(f"/clauses/{victim}/delete", headers=HX).status_code == 404


def test_delete_confirmation_page_without_htmx(client, auth, declaration):
    auth.login("editor")
    victim = declaration["clause_ids"][0]
    response = client.get(f"/clauses/{victim}/delete")
    assert response.status_code == 200
    assert "Delete clause 1" in html(response)
    response = client.post(f"/clauses/{victim}/delete")
    assert response.status_code == 302
    assert victim not in page_ids(html(client.get(f"/documents/{declaration['id']}")))


def test_move_up_and_down(client, auth, declaration):
    auth.login("editor")
    a, b, c = declaration["clause_ids"][:3]
    rest = declaration["clause_ids"][3:]
    response = client.post(f"/clauses/{b}/move", data={"direction": "up"}, headers=HX)
    assert response.status_code == 200
    assert page_ids(html(response)) == [b, a, c, *rest]
    assert "number 1" in html(response)

    response = client.post(f"/clauses/{b}/move", data={"direction": "down"}, headers=HX)
    assert response.status_code == 200
    assert page_ids(html(response)) == [a, b, c, *rest]

    response = client.post(f"/clauses/{a}/move", data={"direction": "down"}, headers=HX)
    assert page_ids(html(response)) == [b, a, c, *rest]
    page = html(client.get(f"/documents/{declaration['id']}"))
    assert page_ids(page) == [b, a, c, *rest]
    assert page_numbers(page) == list(range(1, len(declaration["clause_ids"]) + 1))


def test_move_beyond_the_ends_changes_nothing(client, auth, api, declaration):
    auth.login("editor")
    ids = declaration["clause_ids"]
    seq = document_json(api, declaration["id"])["seq"]
    assert client.post(f"/clauses/{ids[0]}/move", data={"direction": "up"}, headers=HX).status_code == 200
    assert client.post(f"/clauses/{ids[-1]}/move", data={"direction": "down"}, headers=HX).status_code == 200
    assert page_ids(html(client.get(f"/documents/{declaration['id']}"))) == ids
    assert document_json(api, declaration["id"])["seq"] == seq


def test_move_with_a_bad_direction_is_422(client, auth, declaration):
    auth.login("editor")
    ids = declaration["clause_ids"]
    response = client.post(f"/clauses/{ids[1]}/move", data={"direction": "sideways"}, headers=HX)
    assert response.status_code == 422
    assert page_ids(html(client.get(f"/documents/{declaration['id']}"))) == ids


def test_reorder_puts_clauses_in_the_given_order(client, auth, api, declaration):
    auth.login("editor")
    order = list(reversed(declaration["clause_ids"]))
    response = client.post(f"/documents/{declaration['id']}/order", headers=HX,
                           data={"order": [str(i) for i in order]})
    assert response.status_code == 200
    assert page_ids(html(response)) == order
    page = html(client.get(f"/documents/{declaration['id']}"))
    assert page_ids(page) == order
    assert page_numbers(page) == list(range(1, len(order) + 1))
    assert [c["id"] for c in document_json(api, declaration["id"])["clauses"]] == order


@pytest.mark.parametrize("change", ["missing", "foreign", "duplicate", "not_a_number", "unknown"])
def test_reorder_with_a_bad_list_is_422(client, auth, api, declaration, plan, change):
    auth.login("editor")
    ids = declaration["clause_ids"]
    order = [str(i) for i in reversed(ids)]
    if change == "missing":
        order = order[:-1]
    elif change == "foreign":
        order = [*order[:-1], str(plan["clause_ids"][0])]
    elif change == "duplicate":
        order = [*order[:-1], order[0]]
    elif change == "not_a_number":
        order = [*order[:-1], "x"]
    else:
        order = [*order[:-1], "999999"]
    seq = document_json(api, declaration["id"])["seq"]
    response = client.post(f"/documents/{declaration['id']}/order", headers=HX, data={"order": order})
    assert response.status_code == 422
    assert page_ids(html(client.get(f"/documents/{declaration['id']}"))) == ids
    assert document_json(api, declaration["id"])["seq"] == seq


# ---- permissions through HTTP ------------------------------------------------------------

@pytest.mark.parametrize("role", ["commenter", "observer", "signatory"])
def test_readers_may_not_change_clauses(client, auth, api, declaration, role):
    auth.login(role)
    ids = declaration["clause_ids"]
    clause_id = ids[0]
    before = document_json(api, declaration["id"])
    calls = [
        client.get(f"/clauses/{clause_id}/edit", headers=HX),
        client.get(f"/clauses/{clause_id}/edit"),
        client.post(f"/clauses/{clause_id}", data={"text": "Hijacked.", "base_version": "1"}, headers=HX),
        client.post(f"/clauses/{clause_id}/delete", headers=HX),
        client.post(f"/clauses/{ids[1]}/move", data={"direction": "up"}, headers=HX),
        client.post(f"/documents/{declaration['id']}/order", data={"order": [str(i) for i in reversed(ids)]},
                    headers=HX),
        client.post(f"/documents/{declaration['id']}/clauses", data={"text": "Added."}, headers=HX),
        client.get(f"/documents/{declaration['id']}/clauses/new", headers=HX),
    ]
    assert [r.status_code for r in calls] == [403] * len(calls)
    after = document_json(api, declaration["id"])
    assert after["clauses"] == before["clauses"]
    assert after["seq"] == before["seq"]
    # they may still read
    assert client.get(f"/documents/{declaration['id']}").status_code == 200
    assert client.get(f"/clauses/{clause_id}", headers=HX).status_code == 200


def test_forbidden_fragment_carries_a_message(client, auth, declaration):
    auth.login("commenter")
    response = client.get(f"/clauses/{declaration['clause_ids'][0]}/edit", headers=HX)
    assert response.status_code == 403
    assert "<html" not in html(response)
    assert "error-message" in html(response) and "commenter" in html(response)


def test_outsider_gets_404_everywhere(client, auth, api, declaration):
    auth.login("outsider")
    clause_id = declaration["clause_ids"][0]
    calls = [
        client.get(f"/documents/{declaration['id']}"),
        client.get(f"/documents/{declaration['id']}/changes?since=0"),
        client.get(f"/clauses/{clause_id}", headers=HX),
        client.get(f"/clauses/{clause_id}/edit", headers=HX),
        client.post(f"/clauses/{clause_id}", data={"text": "Hijacked.", "base_version": "1"}, headers=HX),
        client.post(f"/clauses/{clause_id}/delete", headers=HX),
        client.post(f"/clauses/{clause_id}/move", data={"direction": "down"}, headers=HX),
        client.post(f"/documents/{declaration['id']}/clauses", data={"text": "Added."}, headers=HX),
    ]
    assert [r.status_code for r in calls] == [404] * len(calls)
    assert clause_json(api, declaration["id"], clause_id)["version"] == 1


def test_unknown_clause_is_404(client, auth):
    auth.login("editor")
    assert client.get("/clauses/999999", headers=HX).status_code == 404
    assert client.get("/clauses/999999/edit", headers=HX).status_code == 404
    assert save(client, 999999, "Text.", 1).status_code == 404
    assert client.post("/clauses/999999/delete", headers=HX).status_code == 404
    assert client.get("/documents/999999").status_code == 404


@pytest.mark.parametrize("document", ["declaration", "action_plan"])
def test_edit_controls_are_shown_to_editors_only(client, auth, world, document):
    info = world.document(document)
    clause_id = info["clause_ids"][0]
    auth.login("editor")
    text = html(client.get(f"/documents/{info['id']}"))
    assert f'href="/clauses/{clause_id}/edit"' in text
    assert ">Edit</a>" in text
    auth.logout()
    for role in ("commenter", "observer", "signatory"):
        auth.login(role)
        text = html(client.get(f"/documents/{info['id']}"))
        assert f"/clauses/{clause_id}/edit" not in text, role
        assert ">Edit</a>" not in text, role
        assert f"/clauses/{clause_id}/delete" not in text, role
        assert "Add a clause" not in text, role
        fragment = html(client.get(f"/clauses/{clause_id}", headers=HX))
        assert "/edit" not in fragment, role
        auth.logout()


# ---- sequence numbers and change events --------------------------------------------------

def changes(client, document_id: int, since: int) -> list[dict]:
    response = client.get(f"/documents/{document_id}/changes?since={since}")
    assert response.status_code == 200
    return response.get_json()


def current_seq(app, document_id: int) -> int:
    with app.app_context():
        return db.session.get(Document, document_id).seq


def test_every_change_increments_seq_and_is_recorded(app, client, auth, declaration):
    auth.login("editor")
    document_id, ids = declaration["id"], declaration["clause_ids"]
    start = current_seq(app, document_id)
    assert start == declaration["seq"]

    steps = [
        ("clause.updated", lambda: save(client, ids[0], "Edited once.", 1)),
        ("clause.created", lambda: client.post(f"/documents/{document_id}/clauses", headers=HX,
                                               data={"text": "New one.", "after": str(ids[0])})),
        ("clause.moved", lambda: client.post(f"/clauses/{ids[2]}/move", headers=HX,
                                             data={"direction": "up"})),
        ("clause.deleted", lambda: client.post(f"/clauses/{ids[3]}/delete", headers=HX)),
    ]
    seq = start
    for name, step in steps:
        assert step().status_code == 200, name
        new_seq = current_seq(app, document_id)
        assert new_seq > seq, name
        events = changes(client, document_id, seq)
        assert [e["seq"] for e in events] == list(range(seq + 1, new_seq + 1)), name
        assert {e["event"] for e in events} == {name}
        for event in events:
            assert event["document_id"] == document_id
            assert event["actor"] == world_user_id(app, "editor")
            assert isinstance(event["clause_id"], int)
        seq = new_seq

    everything = changes(client, document_id, start)
    assert [e["seq"] for e in everything] == list(range(start + 1, seq + 1))
    updated = everything[0]
    assert updated["event"] == "clause.updated"
    assert updated["clause_id"] == ids[0] and updated["version"] == 2 and updated["merged"] is False
    assert everything[-1] == {"event": "clause.deleted", "document_id": document_id, "seq": seq,
                              "actor": world_user_id(app, "editor"), "clause_id": ids[3]}


def world_user_id(app, role: str) -> int:
    from drafting.models import User

    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == EMAILS[role]))


def test_refused_or_empty_changes_do_not_touch_seq(app, client, auth, api, declaration):
    auth.login("editor")
    document_id, clause_id = declaration["id"], declaration["clause_ids"][0]
    start = current_seq(app, document_id)
    current = clause_json(api, document_id, clause_id)
    save(client, clause_id, current["text"], 1, heading=current["heading"] or "")  # no change
    save(client, clause_id, "", 1)  # 422
    auth.logout()
    auth.login("commenter")
    save(client, clause_id, "Hijacked.", 1)  # 403
    assert current_seq(app, document_id) == start
    assert changes(client, document_id, start) == []


def test_changes_feed_validates_since(client, auth, declaration):
    auth.login("observer")
    assert client.get(f"/documents/{declaration['id']}/changes?since=abc").status_code == 422
    assert client.get(f"/documents/{declaration['id']}/changes?since=-1").status_code == 422
    events = changes(client, declaration["id"], 0)
    assert [e["seq"] for e in events] == list(range(1, declaration["seq"] + 1))


# ---- CSRF --------------------------------------------------------------------------------

def csrf_app(database):
    """An app over the same database with CSRF protection on, as in production."""
    return make_app(database, WTF_CSRF_ENABLED=True)


def test_csrf_token_is_required_and_accepted_from_the_page(database):
    app = csrf_app(database)
    assert app.config["WTF_CSRF_ENABLED"] is True
    try:
        client = app.test_client()
        login_page = html(client.get("/login"))
        form_token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
        refused = client.post("/login", data={"email": EMAILS["editor"], "password": PASSWORD})
        assert refused.status_code == 400
        response = client.post("/login", data={"email": EMAILS["editor"], "password": PASSWORD,
                                               "csrf_token": form_token})
        assert response.status_code == 302

        with app.app_context():
            document = db.session.scalar(select(Document).where(Document.kind == "declaration"))
            document_id, clause_id = document.id, document.clauses[0].id

        page = html(client.get(f"/documents/{document_id}"))
        hx_headers = re.search(r"hx-headers='([^']*)'", page).group(1)
        token = re.search(r'"X-CSRFToken":\s*"([^"]+)"', hx_headers).group(1)

        data = {"text": "Saved with a CSRF token.", "base_version": "1"}
        without = client.post(f"/clauses/{clause_id}", data=data, headers=HX)
        assert without.status_code == 400
        wrong = client.post(f"/clauses/{clause_id}", data=data, headers={**HX, "X-CSRFToken": "forged"})
        assert wrong.status_code == 400
        with app.app_context():
            assert db.session.get(Clause, clause_id).version == 1

        response = client.post(f"/clauses/{clause_id}", data=data, headers={**HX, "X-CSRFToken": token})
        assert response.status_code == 200
        assert "Saved as version 2" in html(response)
        with app.app_context():
            assert db.session.get(Clause, clause_id).text == "Saved with a CSRF token."
    finally:
        with app.app_context():
            db.engine.dispose()


def test_frozen_text_cannot_be_edited_through_the_pages(client, auth, api, declaration):
    versions = {c["id"]: c["version"] for c in document_json(api, declaration["id"])["clauses"]}
    walk(api, declaration["id"], "signing")
    auth.login("editor")
    ids = declaration["clause_ids"]
    calls = [
        client.get(f"/clauses/{ids[0]}/edit", headers=HX),
        client.post(f"/clauses/{ids[0]}", data={"text": "Too late.", "base_version": "1"}, headers=HX),
        client.post(f"/clauses/{ids[0]}/delete", headers=HX),
        client.post(f"/clauses/{ids[1]}/move", data={"direction": "up"}, headers=HX),
        client.post(f"/documents/{declaration['id']}/clauses", data={"text": "Late."}, headers=HX),
        client.post(f"/documents/{declaration['id']}/order", data={"order": [str(i) for i in reversed(ids)]},
                    headers=HX),
    ]
    assert [r.status_code for r in calls] == [423] * len(calls)
    assert "frozen" in html(calls[0])
    page = html(client.get(f"/documents/{declaration['id']}"))
    assert page_ids(page) == ids
    assert ">Edit</a>" not in page and f"/clauses/{ids[0]}/edit" not in page
    assert "frozen" in page
    assert {c["id"]: c["version"] for c in document_json(api, declaration["id"])["clauses"]} == versions
