"""No input gives a 500 (issue 16): text that no database can store, JSON nested too deeply, line
breaks in a query, Socket.IO ids beyond the database's integers, exports of extreme titles, and a
Markdown export that no viewer can read as HTML. Over HTTP, Socket.IO and the exports users get."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from drafting.text.markdown import escape_line, unescape_line
from tests.conftest import EMAILS, PASSWORD


def error_of(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    return response.get_json()["error"]["message"]


@pytest.mark.parametrize("body", [
    '{"text": "x\\ud800y", "base_version": 1}',          # a lone high surrogate
    '{"text": "x\\udfffy", "base_version": 1}',          # a lone low surrogate
    '{"text": "ok", "heading": "\\ud83d", "base_version": 1}',
])
def test_a_lone_surrogate_is_refused_with_422_and_nothing_changes(api, plan, body):
    clause_id = plan["clause_ids"][0]
    editor = api.as_("editor")
    before = editor.get(f"/documents/{plan['id']}").get_json()["clauses"][0]
    message = error_of(editor.patch(f"/clauses/{clause_id}", data=body, content_type="application/json"), 422)
    assert "surrogate" in message
    assert editor.get(f"/documents/{plan['id']}").get_json()["clauses"][0] == before


def test_a_surrogate_pair_is_an_emoji_and_is_kept(api, plan):
    clause_id = plan["clause_ids"][0]
    response = api.as_("editor").patch(f"/clauses/{clause_id}", data='{"text": "Health \\ud83c\\udfe5 for all.", "base_version": 1}',
                                       content_type="application/json")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["clause"]["text"] == "Health \U0001f3e5 for all."


@pytest.mark.parametrize("text", ["bell\u0007", "escape\u001b[31m", "delete\u007f", "vertical\u000btab", "unit\u001fseparator"])
def test_control_characters_are_refused_everywhere_text_enters(api, auth, client, plan, text):
    clause_id = plan["clause_ids"][1]
    editor = api.as_("editor")
    assert "control characters" in error_of(editor.patch(f"/clauses/{clause_id}", json={"text": text, "base_version": 1}), 422)
    assert "control characters" in error_of(editor.post(f"/documents/{plan['id']}/snapshots", json={"name": text}), 422)
    auth.login("editor")
    page = client.post(f"/clauses/{clause_id}", data={"text": text, "base_version": "1"}, headers={"HX-Request": "true"})
    assert page.status_code == 422 and "control characters" in page.get_data(as_text=True)
    assert editor.get(f"/clauses/{clause_id}/revisions").get_json()[-1]["version"] == 1


def test_tabs_and_line_breaks_stay_welcome(api, plan):
    clause_id = plan["clause_ids"][1]
    response = api.as_("editor").patch(f"/clauses/{clause_id}", json={"text": "One\tcolumn\r\nTwo\nThree", "base_version": 1})
    assert response.status_code == 200
    assert response.get_json()["clause"]["text"] == "One\tcolumn\nTwo\nThree"


def test_json_nested_a_hundred_thousand_levels_is_a_400_not_a_500(api, plan):
    body = "[" * 100_000 + "]" * 100_000
    response = api.as_("editor").post(f"/clauses/{plan['clause_ids'][0]}/threads", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("query", ["next=/documents%0d%0aSet-Cookie:x=1", "next=/documents%0aX:1", "next=/a%0D%0Ab"])
def test_a_line_break_in_a_query_is_refused_and_sets_no_header(client, query):
    response = client.post(f"/login?{query}", data={"email": EMAILS["editor"], "password": PASSWORD})
    assert response.status_code == 422
    assert "control characters" in response.get_data(as_text=True)
    assert "x" not in response.headers.getlist("Set-Cookie") and "X" not in response.headers


@pytest.mark.parametrize("document_id", [2**63, 2**31, -1, 0, 1.5, "1", True, None])
def test_socket_join_with_an_impossible_id_is_acknowledged_with_an_error(auth, socket_client, document_id):
    auth.login("editor")
    sio = socket_client()
    answer = sio.emit("join", {"document_id": document_id}, callback=True)
    assert answer["ok"] is False and answer["error"]
    assert sio.emit("editing", {"document_id": document_id, "clause_id": 2**63}, callback=True)["ok"] is False
    assert sio.emit("leave", {"document_id": document_id}, callback=True)["ok"] is False
    assert sio.is_connected()


def test_an_editing_clause_beyond_the_database_is_refused(auth, socket_client, plan):
    auth.login("editor")
    sio = socket_client()
    assert sio.emit("join", {"document_id": plan["id"]}, callback=True)["ok"] is True
    assert sio.emit("editing", {"document_id": plan["id"], "clause_id": 2**63}, callback=True)["ok"] is False
    assert sio.emit("editing", {"document_id": plan["id"], "clause_id": plan["clause_ids"][0]}, callback=True)["ok"] is True


def test_a_title_longer_than_words_core_properties_still_exports(api, auth, client):
    title = "Joint Declaration " + "on the European Health Data Space " * 8
    title = title[:300]
    created = api.as_("admin").post("/documents", json={"title": title, "kind": "declaration"})
    assert created.status_code == 201, created.get_data(as_text=True)
    auth.login("admin")
    response = client.get(f"/documents/{created.get_json()['id']}/export?format=docx")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as docx:
        core = docx.read("docProps/core.xml").decode()
        body = docx.read("word/document.xml").decode()
    stored = re.search(r"<dc:title>(.*?)</dc:title>", core).group(1)
    assert len(stored) == 255 and stored.endswith("…")
    assert title.strip()[-20:] in body  # the document itself carries the whole title


def test_the_markdown_export_never_carries_live_html(api, auth, client, plan):
    editor = api.as_("editor")
    clause = editor.get(f"/documents/{plan['id']}").get_json()["clauses"][0]
    hostile = "Before <img src=x onerror=alert(1)> and <script>alert(2)</script>\n<b>bold</b> line"
    assert editor.patch(f"/clauses/{clause['id']}", json={"text": hostile, "heading": "XSS<img src=y onerror=alert(3)>",
                                                           "base_version": clause["version"]}).status_code == 200
    auth.login("editor")
    exported = client.get(f"/documents/{plan['id']}/export?format=md").get_data(as_text=True)
    assert not re.search(r"(?<!\\)<(img|script|b)\b", exported)  # every "<" of the text is escaped
    assert "## Preamble. XSS\\<img src=y onerror=alert(3)>" in exported  # the plan opens with a preamble
    # ... and the file imports back to exactly the same text.
    preview = client.post("/documents/import", data={"file": (io.BytesIO(exported.encode()), "plan.md")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert "Before &lt;img src=x onerror=alert(1)&gt; and &lt;script&gt;alert(2)&lt;/script&gt;" in page


@pytest.mark.parametrize("line", ["<b>", "\\<b>", "\\\\<", "#<", "\\#", "a\\b<c", "<<\\<", "\\"])
def test_escaped_lines_read_back_exactly(line):
    assert unescape_line(escape_line(line)) == line


def test_earlier_exports_still_read_back():
    assert unescape_line("\\<b>bold</b>") == "<b>bold</b>"   # the old escape of a leading "<"
    assert unescape_line("\\# not a heading") == "# not a heading"
    assert unescape_line("a <b> c") == "a <b> c"
