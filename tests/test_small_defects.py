"""The smaller defects met while running the whole process (issue 13, item 7), each pinned down."""

from __future__ import annotations

import re

from tests.conftest import EMAILS, HX
from tests.phases import adopt, walk

BASE = "The clusters publish an annual report on the data space before the end of March each year."


def make_clause(api, document_id: int, text: str = BASE, heading: str | None = None) -> dict:
    answer = api.as_("editor").post(f"/documents/{document_id}/clauses", json={"text": text, "heading": heading})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_the_conflict_names_who_wrote_the_overlapping_change_not_the_last_saver(api, auth, client, world):
    document = world.document("declaration")
    clause = make_clause(api, document["id"])
    # Version 2 (editor) rewrites "annual report"; version 3 (a second editor) changes the end.
    v2 = BASE.replace("annual report", "yearly summary")
    assert api.as_("editor").patch(f"/clauses/{clause['id']}", json={"text": v2, "base_version": 1}).status_code == 200
    v3 = v2.replace("each year", "of every year")
    assert api.as_("editor2").patch(f"/clauses/{clause['id']}", json={"text": v3, "base_version": 2}).status_code == 200
    # A stale save from version 1 touching "annual report" overlaps version 2 only.
    stale = BASE.replace("annual report", "audited annual report")
    answer = api.as_("editor2").patch(f"/clauses/{clause['id']}", json={"text": stale, "base_version": 1})
    assert answer.status_code == 409
    editor = world.user("editor").name
    assert answer.get_json()["changed_by"] == [editor]
    auth.login("editor2")
    page = client.post(f"/clauses/{clause['id']}", data={"text": stale, "base_version": "1"}, headers=HX)
    assert page.status_code == 409
    notice = re.search(r'role="alert">(.*?)</p>', page.get_data(as_text=True), re.S).group(1)
    assert editor in notice and world.user("editor2").name not in notice


def test_an_unknown_field_is_refused_not_ignored(api, world):
    document = world.document("declaration")
    before = len(api.as_("editor").get(f"/documents/{document['id']}").get_json()["clauses"])
    answer = api.as_("editor").post(f"/documents/{document['id']}/clauses",
                                    json={"text": "A new clause.", "after_id": document["clause_ids"][0]})
    assert answer.status_code == 422
    assert "after_id" in answer.get_json()["error"]["message"] and "after" in answer.get_json()["error"]["message"]
    assert len(api.as_("editor").get(f"/documents/{document['id']}").get_json()["clauses"]) == before
    clause_id = document["clause_ids"][0]
    answer = api.as_("editor").patch(f"/clauses/{clause_id}", json={"txt": "Typo in the field.", "base_version": 1})
    assert answer.status_code == 422 and "txt" in answer.get_json()["error"]["message"]


def test_a_clause_without_heading_is_announced_once(api, auth, client, world):
    document = world.document("declaration")
    clause = make_clause(api, document["id"], heading=None)
    auth.login("editor")
    html = client.get(f"/documents/{document['id']}").get_data(as_text=True)
    title = re.search(rf'<h2 id="clause-{clause["id"]}-title"[^>]*>(.*?)</h2>', html, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", title).strip()
    assert text == f"Clause {clause['number']}"


def test_one_clause_is_not_called_numbered_clauses(api, auth, client):
    answer = api.as_("admin").post("/documents", json={"title": "A one-clause note", "kind": "declaration"})
    doc_id = answer.get_json()["id"]
    api.as_("admin").post(f"/documents/{doc_id}/members", json={"email": EMAILS["editor"], "role": "editor"})
    make_clause(api, doc_id)
    auth.login("admin")
    html = client.get(f"/documents/{doc_id}/signoff").get_data(as_text=True)
    assert "the 1 numbered clauses" not in html and "the numbered clause (number" in html
    assert "1 clauses" not in html and "A one-clause note: 1 clause</summary>" in html
    walk(api, doc_id, "final_review")
    html = client.get(f"/documents/{doc_id}/phase?to=signing").get_data(as_text=True)
    assert "1 clauses" not in html and "1 clause, content hash" in html


def test_the_admin_is_told_what_they_run_not_that_they_can_read(auth, client, world):
    document = world.document("action_plan")
    auth.login("admin")
    html = client.get(f"/documents/{document['id']}").get_data(as_text=True)
    assert "you can read this document" not in html
    assert "you run this document" in html


def test_after_adoption_the_text_is_adopted_not_frozen_for_signing(app, api, auth, client, world):
    document = world.document("declaration")
    adopt(app, api, document["id"])
    answer = api.as_("editor").patch(f"/clauses/{document['clause_ids'][0]}", json={"text": "Late.", "base_version": 1})
    assert answer.status_code == 423
    assert "adopted" in answer.get_json()["error"]["message"]
    assert "frozen for signing" not in answer.get_json()["error"]["message"]
    auth.login("editor")
    html = client.get(f"/documents/{document['id']}").get_data(as_text=True)
    assert "the text is adopted and final" in html and "frozen for signing" not in html


def test_a_signing_document_still_says_frozen_for_signing(api, auth, client, world):
    document = world.document("declaration")
    walk(api, document["id"], "signing")
    auth.login("editor")
    html = client.get(f"/documents/{document['id']}").get_data(as_text=True)
    assert "the text is frozen for signing" in html
