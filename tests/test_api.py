"""The JSON API of CONTRACT.md, called with bearer tokens."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from drafting.extensions import db
from drafting.models import Clause, ClauseRevision, Document, User
from tests.conftest import EMAILS
from tests.phases import adopt, walk


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.is_json, response.get_data(as_text=True)[:200]
    data = response.get_json()
    assert isinstance(data["error"], dict)
    assert isinstance(data["error"]["code"], str) and data["error"]["code"]
    assert isinstance(data["error"]["message"], str) and data["error"]["message"]
    if code is not None:
        assert data["error"]["code"] == code
    return data


def get_document(api, document_id: int, role: str = "editor") -> dict:
    response = api.as_(role).get(f"/documents/{document_id}")
    assert response.status_code == 200
    return response.get_json()


def get_clause(api, document_id: int, clause_id: int) -> dict:
    return next(c for c in get_document(api, document_id)["clauses"] if c["id"] == clause_id)


def get_revisions(api, clause_id: int) -> list[dict]:
    response = api.as_("editor").get(f"/clauses/{clause_id}/revisions")
    assert response.status_code == 200
    return response.get_json()


def set_phase(api, document_id: int, phase: str, **extra):
    response = api.as_("admin").post(f"/documents/{document_id}/phase", json={"phase": phase, **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# ---- authentication ----------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer dft_nope"},
                                     {"Authorization": "Basic YWRtaW46YWRtaW4="},
                                     {"Authorization": "dft_nope"}])
def test_no_or_bad_token_is_401(client, declaration, headers):
    for path in ("/api/v1/documents", f"/api/v1/documents/{declaration['id']}",
                 f"/api/v1/clauses/{declaration['clause_ids'][0]}/revisions"):
        assert_error(client.get(path, headers=headers), 401)
    response = client.patch(f"/api/v1/clauses/{declaration['clause_ids'][0]}", headers=headers,
                            json={"text": "x", "base_version": 1})
    assert_error(response, 401)


def test_a_token_of_another_user_is_not_guessable_from_a_prefix(api, client, world):
    token = world.token("editor")
    assert client.get("/api/v1/documents", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert_error(client.get("/api/v1/documents", headers={"Authorization": f"Bearer {token[:-1]}"}), 401)
    assert client.get("/api/v1/documents", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_a_session_cookie_alone_does_not_authenticate_the_api(client, auth, declaration):
    auth.login("editor")
    assert client.get("/documents").status_code == 200  # logged in for the pages
    assert_error(client.get("/api/v1/documents"), 401)
    assert_error(client.get(f"/api/v1/documents/{declaration['id']}"), 401)
    response = client.patch(f"/api/v1/clauses/{declaration['clause_ids'][0]}",
                            json={"text": "Via cookie.", "base_version": 1})
    assert_error(response, 401)


# ---- documents ---------------------------------------------------------------------------

def test_list_documents_shows_the_visible_ones(api, declaration, plan):
    created = api.as_("admin").post("/documents", json={"title": "Internal note", "kind": "declaration"})
    assert created.status_code == 201
    new_id = created.get_json()["id"]

    admin_ids = {d["id"] for d in api.as_("admin").get("/documents").get_json()}
    assert admin_ids == {declaration["id"], plan["id"], new_id}
    editor_list = api.as_("editor").get("/documents").get_json()
    assert {d["id"] for d in editor_list} == {declaration["id"], plan["id"]}
    for item in editor_list:
        assert {"id", "title", "kind", "phase", "seq"} <= set(item)
    phases = {d["id"]: d["phase"] for d in editor_list}
    assert phases == {declaration["id"]: "drafting", plan["id"]: "consultation"}
    assert api.as_("outsider").get("/documents").get_json() == []


def test_get_document_has_the_contract_fields(api, declaration):
    data = get_document(api, declaration["id"], "observer")
    assert {"id", "title", "kind", "phase", "seq", "content_hash", "participants", "clauses"} <= set(data)
    assert data["id"] == declaration["id"]
    assert data["kind"] == "declaration" and data["phase"] == "drafting"
    assert data["seq"] == declaration["seq"]
    assert re.fullmatch(r"[0-9a-f]{64}", data["content_hash"])
    assert len(data["participants"]) == 7 and all(isinstance(p, str) for p in data["participants"])
    assert [c["id"] for c in data["clauses"]] == declaration["clause_ids"]
    for number, clause in enumerate(data["clauses"], start=1):
        assert set(clause) >= {"id", "number", "heading", "text", "version"}
        assert clause["number"] == number
        # Every clause as seeded, but "Follow-up", changed after its Hungarian translation (demo).
        assert clause["version"] == (2 if clause["heading"] == "Follow-up" else 1)
        assert isinstance(clause["text"], str) and clause["text"]


def test_content_hash_changes_with_the_text(api, declaration):
    before = get_document(api, declaration["id"])["content_hash"]
    clause_id = declaration["clause_ids"][0]
    response = api.as_("editor").patch(f"/clauses/{clause_id}", json={"text": "Changed.", "base_version": 1})
    assert response.status_code == 200
    assert get_document(api, declaration["id"])["content_hash"] != before


def test_outsider_and_unknown_document_are_404(api, declaration):
    assert_error(api.as_("outsider").get(f"/documents/{declaration['id']}"), 404)
    assert_error(api.as_("editor").get("/documents/999999"), 404)
    assert_error(api.as_("outsider").get(f"/clauses/{declaration['clause_ids'][0]}/revisions"), 404)


def test_create_document_as_admin(api):
    response = api.as_("admin").post("/documents", json={"title": "  Joint   Action Plan 2030 ",
                                                       "kind": "action_plan"})
    assert response.status_code == 201
    data = response.get_json()
    assert data["title"] == "Joint Action Plan 2030"
    assert data["kind"] == "action_plan" and data["phase"] == "drafting"
    assert data["clauses"] == [] and data["participants"] == []
    assert get_document(api, data["id"], "admin")["title"] == "Joint Action Plan 2030"


def test_create_document_refusals(api):
    assert_error(api.as_("editor").post("/documents", json={"title": "Mine", "kind": "declaration"}), 403)
    assert_error(api.as_("admin").post("/documents", json={"title": "Bad", "kind": "treaty"}), 422)
    assert_error(api.as_("admin").post("/documents", json={"title": "  ", "kind": "declaration"}), 422)
    assert_error(api.as_("admin").post("/documents", json={"kind": "declaration"}), 422)
    assert_error(api.as_("admin").post("/documents", data="{", content_type="application/json"), 400)
    assert_error(api.as_("admin").post("/documents", json=["title", "kind"]), 400)
    assert_error(api.as_("admin").post("/documents", json={"title": "t" * 301, "kind": "declaration"}), 413)
    assert {d["title"] for d in api.as_("admin").get("/documents").get_json()}.isdisjoint({"Mine", "Bad"})


def test_add_member(app, api, declaration):
    created = api.as_("admin").post("/documents", json={"title": "Members test", "kind": "declaration"})
    document_id = created.get_json()["id"]
    assert_error(api.as_("outsider").get(f"/documents/{document_id}"), 404)

    response = api.as_("admin").post(f"/documents/{document_id}/members",
                                     json={"email": EMAILS["outsider"].upper(), "role": "commenter"})
    assert response.status_code == 201
    assert response.get_json()["role"] == "commenter"
    assert api.as_("outsider").get(f"/documents/{document_id}").status_code == 200

    # changing the role of an existing member
    response = api.as_("admin").post(f"/documents/{document_id}/members",
                                     json={"email": EMAILS["outsider"], "role": "editor"})
    assert response.status_code == 201
    patch = api.as_("outsider").post(f"/documents/{document_id}/clauses", json={"text": "First."})
    assert patch.status_code == 201


@pytest.mark.parametrize("body", [{"email": EMAILS["outsider"], "role": "admin"},
                                  {"email": EMAILS["outsider"], "role": "owner"},
                                  {"email": EMAILS["outsider"]},
                                  {"email": "nobody@nowhere.example", "role": "editor"},
                                  {"role": "editor"}])
def test_add_member_validation(api, declaration, body):
    assert_error(api.as_("admin").post(f"/documents/{declaration['id']}/members", json=body), 422)
    assert_error(api.as_("outsider").get(f"/documents/{declaration['id']}"), 404)


def test_add_member_is_for_admins(api, declaration):
    body = {"email": EMAILS["outsider"], "role": "editor"}
    assert_error(api.as_("editor").post(f"/documents/{declaration['id']}/members", json=body), 403)
    assert_error(api.as_("outsider").post(f"/documents/{declaration['id']}/members", json=body), 404)
    assert_error(api.as_("outsider").get(f"/documents/{declaration['id']}"), 404)


def test_add_participant(api, declaration):
    before = get_document(api, declaration["id"])["participants"]
    name = "Baltic Health Network Secretariat"
    assert name not in before
    response = api.as_("admin").post(f"/documents/{declaration['id']}/participants",
                                     json={"organisation": name})
    assert response.status_code == 201
    assert response.get_json()["name"] == name
    assert set(get_document(api, declaration["id"])["participants"]) == {*before, name}
    assert_error(api.as_("admin").post(f"/documents/{declaration['id']}/participants",
                                       json={"organisation": "No Such Cluster"}), 422)
    assert_error(api.as_("editor").post(f"/documents/{declaration['id']}/participants",
                                        json={"organisation": name}), 403)


# ---- phases ------------------------------------------------------------------------------

def test_move_phase_as_admin(api, declaration):
    data = set_phase(api, declaration["id"], "consultation", deadline="2999-01-01T12:00:00Z")
    assert data["phase"] == "consultation"
    assert data["deadline"].startswith("2999-01-01T12:00:00")
    assert get_document(api, declaration["id"])["phase"] == "consultation"
    events = api.as_("editor").get(f"/documents/{declaration['id']}/changes?since={declaration['seq']}")
    assert [(e["event"], e["phase"]) for e in events.get_json()] == [("document.phase_changed", "consultation")]


def test_move_phase_refusals(api, declaration):
    assert_error(api.as_("editor").post(f"/documents/{declaration['id']}/phase", json={"phase": "signing"}), 403)
    assert_error(api.as_("signatory").post(f"/documents/{declaration['id']}/phase",
                                           json={"phase": "signing"}), 403)
    assert_error(api.as_("admin").post(f"/documents/{declaration['id']}/phase", json={"phase": "done"}), 422)
    assert_error(api.as_("admin").post(f"/documents/{declaration['id']}/phase", json={}), 422)
    assert_error(api.as_("admin").post(f"/documents/{declaration['id']}/phase",
                                       json={"phase": "consultation", "deadline": "soon"}), 422)
    assert_error(api.as_("admin").post(f"/documents/{declaration['id']}/phase",
                                       json={"phase": "consultation", "deadline": "2001-01-01T00:00:00Z"}), 422)
    assert get_document(api, declaration["id"])["phase"] == "drafting"


# ---- adding clauses ----------------------------------------------------------------------

def test_add_clause_at_the_end_and_after(api, declaration):
    ids = declaration["clause_ids"]
    response = api.as_("editor").post(f"/documents/{declaration['id']}/clauses",
                                      json={"text": "Closing words.", "heading": "Closing"})
    assert response.status_code == 201
    end = response.get_json()
    assert end["number"] == len(ids) + 1 and end["version"] == 1 and end["heading"] == "Closing"

    response = api.as_("editor").post(f"/documents/{declaration['id']}/clauses",
                                      json={"text": "Second thoughts.", "after": ids[0]})
    assert response.status_code == 201
    second = response.get_json()
    assert second["number"] == 2 and second["heading"] is None
    order = [c["id"] for c in get_document(api, declaration["id"])["clauses"]]
    assert order == [ids[0], second["id"], *ids[1:], end["id"]]
    assert [r["origin"] for r in get_revisions(api, second["id"])] == ["edit"]


def test_add_clause_refusals(api, declaration, plan):
    path = f"/documents/{declaration['id']}/clauses"
    assert_error(api.as_("editor").post(path, json={"text": " \n "}), 422)
    assert_error(api.as_("editor").post(path, json={}), 422)
    assert_error(api.as_("editor").post(path, json={"text": 5}), 422)
    assert_error(api.as_("editor").post(path, json={"text": "y" * 50_001}), 413)
    assert_error(api.as_("editor").post(path, json={"text": "Ok.", "after": plan["clause_ids"][0]}), 422)
    assert_error(api.as_("editor").post(path, json={"text": "Ok.", "after": "1"}), 422)
    assert_error(api.as_("editor").post(path, data="{", content_type="application/json"), 400)
    assert_error(api.as_("commenter").post(path, json={"text": "Commenter's clause."}), 403)
    assert_error(api.as_("observer").post(path, json={"text": "Observer's clause."}), 403)
    assert_error(api.as_("admin").post(path, json={"text": "Admin's clause."}), 403)
    assert_error(api.as_("outsider").post(path, json={"text": "Outsider's clause."}), 404)
    document = get_document(api, declaration["id"])
    assert [c["id"] for c in document["clauses"]] == declaration["clause_ids"]
    assert document["seq"] == declaration["seq"]


def test_exactly_50000_characters_are_accepted(api, declaration):
    response = api.as_("editor").post(f"/documents/{declaration['id']}/clauses", json={"text": "y" * 50_000})
    assert response.status_code == 201
    assert len(response.get_json()["text"]) == 50_000


# ---- saving clauses ----------------------------------------------------------------------

def patch(api, clause_id: int, text, base_version, role: str = "editor", **extra):
    body = {"text": text, "base_version": base_version, **extra}
    return api.as_(role).patch(f"/clauses/{clause_id}", json=body)


def test_patch_on_the_current_version(api, declaration):
    clause_id = declaration["clause_ids"][1]
    response = patch(api, clause_id, "Rewritten purpose.", 1)
    assert response.status_code == 200
    data = response.get_json()
    assert data["merged"] is False
    assert data["clause"]["id"] == clause_id and data["clause"]["number"] == 2
    assert data["clause"]["version"] == 2 and data["clause"]["text"] == "Rewritten purpose."
    assert get_clause(api, declaration["id"], clause_id)["text"] == "Rewritten purpose."


def test_patch_keeps_the_heading_unless_given(api, declaration):
    clause_id = declaration["clause_ids"][1]
    heading = get_clause(api, declaration["id"], clause_id)["heading"]
    assert heading
    assert patch(api, clause_id, "New text.", 1).get_json()["clause"]["heading"] == heading
    response = patch(api, clause_id, "New text.", 2, heading="New heading")
    assert response.get_json()["clause"]["heading"] == "New heading"
    assert response.get_json()["clause"]["version"] == 3


def test_patch_normalises_newlines_and_keeps_text_exactly(api, declaration):
    clause_id = declaration["clause_ids"][1]
    text = "First line  \r\n\r\n- item <b>one</b> & \"two\"\r(a) third\t"
    response = patch(api, clause_id, text, 1)
    assert response.status_code == 200
    assert response.get_json()["clause"]["text"] == "First line  \n\n- item <b>one</b> & \"two\"\n(a) third\t"


def test_stale_patch_with_separate_edits_is_merged(api, declaration):
    clause_id = declaration["clause_ids"][0]
    base = get_clause(api, declaration["id"], clause_id)["text"]
    theirs = base.replace("from Bulgaria,", "from the Republic of Bulgaria,")
    mine = base.replace("one of its priorities", "one of its main priorities")
    assert theirs != base and mine != base
    assert patch(api, clause_id, theirs, 1).get_json()["merged"] is False
    response = patch(api, clause_id, mine, 1)
    assert response.status_code == 200
    data = response.get_json()
    assert data["merged"] is True
    assert data["clause"]["version"] == 3
    assert "from the Republic of Bulgaria," in data["clause"]["text"]
    assert "one of its main priorities" in data["clause"]["text"]
    assert [r["origin"] for r in get_revisions(api, clause_id)] == ["edit", "edit", "merge"]


def test_stale_patch_touching_the_same_words_is_409(api, declaration):
    clause_id = declaration["clause_ids"][0]
    base = get_clause(api, declaration["id"], clause_id)["text"]
    theirs = base.replace("second half of 2020", "first half of 2021")
    mine = base.replace("second half of 2020", "second half of 2022")
    assert patch(api, clause_id, theirs, 1).status_code == 200
    seq = get_document(api, declaration["id"])["seq"]
    data = assert_error(patch(api, clause_id, mine, 1), 409, "conflict")
    assert data["current"]["id"] == clause_id
    assert data["current"]["version"] == 2 and data["current"]["text"] == theirs
    assert data["current"]["number"] == 1
    assert data["yours"] == mine
    assert get_clause(api, declaration["id"], clause_id)["text"] == theirs
    assert len(get_revisions(api, clause_id)) == 2
    assert get_document(api, declaration["id"])["seq"] == seq


def test_deleting_a_paragraph_someone_edited_is_409(api, declaration):
    clause_id = declaration["clause_ids"][0]
    base = get_clause(api, declaration["id"], clause_id)["text"]
    first, second = base.split("\n\n")
    theirs = first + "\n\n" + second.replace("German Presidency", "German and Portuguese Presidencies")
    mine = first
    assert patch(api, clause_id, theirs, 1).status_code == 200
    assert_error(patch(api, clause_id, mine, 1), 409)
    assert get_clause(api, declaration["id"], clause_id)["text"] == theirs


@pytest.mark.parametrize("base_version", [None, "1", 1.5, True, 0, -3, [1]])
def test_patch_with_a_bad_base_version_is_422(api, declaration, base_version):
    clause_id = declaration["clause_ids"][0]
    body = {"text": "New."} if base_version is None else {"text": "New.", "base_version": base_version}
    assert_error(api.as_("editor").patch(f"/clauses/{clause_id}", json=body), 422)
    assert get_clause(api, declaration["id"], clause_id)["version"] == 1


def test_patch_with_a_future_base_version_is_422(api, declaration):
    clause_id = declaration["clause_ids"][0]
    assert_error(patch(api, clause_id, "New.", 2), 422)
    assert get_clause(api, declaration["id"], clause_id)["version"] == 1


def test_patch_text_validation(api, declaration):
    clause_id = declaration["clause_ids"][0]
    assert_error(patch(api, clause_id, "", 1), 422)
    assert_error(patch(api, clause_id, None, 1), 422)
    assert_error(patch(api, clause_id, "y" * 50_001, 1), 413, "too_large")
    assert_error(api.as_("editor").patch(f"/clauses/{clause_id}", data="{", content_type="application/json"), 400)
    assert get_clause(api, declaration["id"], clause_id)["version"] == 1


def test_patch_refusals_by_role_and_id(api, declaration):
    clause_id = declaration["clause_ids"][0]
    assert_error(patch(api, 999999, "New.", 1), 404)
    assert_error(patch(api, clause_id, "New.", 1, role="observer"), 403)
    assert_error(patch(api, clause_id, "New.", 1, role="commenter"), 403)
    assert_error(patch(api, clause_id, "New.", 1, role="admin"), 403)
    assert_error(patch(api, clause_id, "New.", 1, role="outsider"), 404)
    assert get_clause(api, declaration["id"], clause_id)["version"] == 1


@pytest.mark.parametrize("phase", ["signing", "adopted"])
def test_frozen_text_is_423(app, api, declaration, phase):
    if phase == "adopted":
        adopt(app, api, declaration["id"])
    else:
        walk(api, declaration["id"], phase)
    clause_id = declaration["clause_ids"][0]
    assert_error(patch(api, clause_id, "Too late.", 1), 423)
    assert_error(api.as_("editor").post(f"/documents/{declaration['id']}/clauses", json={"text": "Late."}), 423)
    assert_error(api.as_("editor").delete(f"/clauses/{clause_id}"), 423)
    # roles that may never edit still get 403
    assert_error(patch(api, clause_id, "Too late.", 1, role="commenter"), 403)
    document = get_document(api, declaration["id"])
    assert [c["id"] for c in document["clauses"]] == declaration["clause_ids"]
    assert document["clauses"][0]["version"] == 1
    if phase == "adopted":
        return  # adoption is final
    # back to drafting: editable again
    set_phase(api, declaration["id"], "drafting", reason="A correction is needed.")
    assert patch(api, clause_id, "Editable again.", 1).status_code == 200


@pytest.mark.parametrize("phase", ["consultation", "final_review"])
def test_editors_edit_in_consultation_and_final_review(api, declaration, phase):
    walk(api, declaration["id"], phase)
    assert patch(api, declaration["clause_ids"][0], "Still open.", 1).status_code == 200


# ---- deleting ----------------------------------------------------------------------------

def test_delete_clause(app, api, declaration):
    ids = declaration["clause_ids"]
    victim = ids[1]
    assert patch(api, victim, "Version two.", 1).status_code == 200
    assert_error(api.as_("commenter").delete(f"/clauses/{victim}"), 403)
    assert_error(api.as_("outsider").delete(f"/clauses/{victim}"), 404)

    response = api.as_("editor").delete(f"/clauses/{victim}")
    assert response.status_code == 204
    assert response.get_data() == b""
    clauses = get_document(api, declaration["id"])["clauses"]
    assert [c["id"] for c in clauses] == [i for i in ids if i != victim]
    assert [c["number"] for c in clauses] == list(range(1, len(ids)))

    # gone for the API; a second delete and a save are 404
    assert_error(api.as_("editor").delete(f"/clauses/{victim}"), 404)
    assert_error(patch(api, victim, "Zombie.", 2), 404)
    # GET /clauses/<deleted>/revisions answers 404 today (get_clause_or_404 refuses deleted
    # clauses); not asserted either way: see the report, the kept history is unreachable.
    # its history is kept in the database
    with app.app_context():
        rows = db.session.scalars(select(ClauseRevision).where(ClauseRevision.clause_id == victim)
                                  .order_by(ClauseRevision.version)).all()
        assert [(r.version, r.text) for r in rows][-1] == (2, "Version two.")
        assert len(rows) == 2
    events = api.as_("editor").get(f"/documents/{declaration['id']}/changes?since={declaration['seq']}")
    assert [e["event"] for e in events.get_json()] == ["clause.updated", "clause.deleted"]


# ---- revisions and changes ---------------------------------------------------------------

def test_revisions_oldest_first(api, declaration):
    clause_id = declaration["clause_ids"][2]
    original = get_clause(api, declaration["id"], clause_id)["text"]
    assert patch(api, clause_id, "Second.", 1).status_code == 200
    assert patch(api, clause_id, "Third.", 2).status_code == 200
    history = api.as_("observer").get(f"/clauses/{clause_id}/revisions")
    assert history.status_code == 200
    rows = history.get_json()
    assert [r["version"] for r in rows] == [1, 2, 3]
    assert [r["text"] for r in rows] == [original, "Second.", "Third."]
    for row in rows:
        assert {"version", "text", "author", "origin", "created_at"} <= set(row)
        assert row["author"] == "Tereza Novotná"
        assert row["origin"] == "edit"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["created_at"])
    assert [r["created_at"] for r in rows] == sorted(r["created_at"] for r in rows)
    assert_error(api.as_("editor").get("/clauses/999999/revisions"), 404)


def test_changes_since(api, declaration):
    document_id, ids = declaration["id"], declaration["clause_ids"]
    start = declaration["seq"]
    assert patch(api, ids[0], "Changed.", 1).status_code == 200
    created = api.as_("editor").post(f"/documents/{document_id}/clauses", json={"text": "New."})
    assert api.as_("editor").delete(f"/clauses/{ids[1]}").status_code == 204

    everything = api.as_("observer").get(f"/documents/{document_id}/changes?since=0").get_json()
    assert [e["seq"] for e in everything] == list(range(1, start + 4))
    for event in everything:
        assert {"event", "document_id", "seq", "actor"} <= set(event)
        assert event["document_id"] == document_id

    with_since = api.as_("observer").get(f"/documents/{document_id}/changes?since={start}").get_json()
    editor_id = world_user_id(api, "editor")
    assert with_since == [
        {"event": "clause.updated", "document_id": document_id, "seq": start + 1, "actor": editor_id,
         "clause_id": ids[0], "version": 2, "merged": False},
        {"event": "clause.created", "document_id": document_id, "seq": start + 2, "actor": editor_id,
         "clause_id": created.get_json()["id"]},
        {"event": "clause.deleted", "document_id": document_id, "seq": start + 3, "actor": editor_id,
         "clause_id": ids[1]},
    ]
    assert get_document(api, document_id)["seq"] == start + 3
    assert api.as_("observer").get(f"/documents/{document_id}/changes?since={start + 3}").get_json() == []
    assert api.as_("observer").get(f"/documents/{document_id}").get_json()["seq"] == start + 3


def world_user_id(api, role: str) -> int:
    with api.world.app.app_context():
        return db.session.scalar(select(User.id).where(User.email == EMAILS[role]))


def test_changes_validation(api, declaration):
    assert_error(api.as_("editor").get(f"/documents/{declaration['id']}/changes?since=abc"), 422)
    assert_error(api.as_("editor").get(f"/documents/{declaration['id']}/changes?since=-1"), 422)
    assert_error(api.as_("outsider").get(f"/documents/{declaration['id']}/changes?since=0"), 404)


# ---- OpenAPI -----------------------------------------------------------------------------

def test_openapi_describes_every_endpoint(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] and spec["info"]["version"]
    base = next(server["url"] for server in spec["servers"])
    assert base == "/api/v1"

    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule[len("/api/v1"):])
        served.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert served, "no API routes found"

    described = {path: {m for m in item if m in {"get", "post", "put", "patch", "delete"}}
                 for path, item in spec["paths"].items()}
    assert described == served

    schemas = spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        parameters = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            assert operation.get("responses"), (path, method)
            assert "401" in operation["responses"], (path, method)
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == parameters, (path, method)
            for ref in re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', str(operation).replace("'", '"')):
                assert ref in schemas, ref


# ---- concurrency -------------------------------------------------------------------------

WRITERS = 20


def test_concurrent_stale_saves_of_separate_paragraphs_all_survive(app, api, world, declaration):
    clause_id = declaration["clause_ids"][1]
    paragraphs = [f"Paragraph {i} commits the clusters to goal alpha{i} in full." for i in range(WRITERS)]
    setup = patch(api, clause_id, "\n\n".join(paragraphs), 1)
    assert setup.status_code == 200
    base_version = setup.get_json()["clause"]["version"]
    assert base_version == 2

    tokens = [world.token("editor") for _ in range(WRITERS)]
    results: list[tuple[int, int, dict] | None] = [None] * WRITERS
    barrier = threading.Barrier(WRITERS)

    def writer(i: int) -> None:
        client = app.test_client()
        mine = list(paragraphs)
        mine[i] = mine[i].replace(f"alpha{i}", f"beta{i}")
        barrier.wait()
        response = client.patch(f"/api/v1/clauses/{clause_id}",
                                headers={"Authorization": f"Bearer {tokens[i]}"},
                                json={"text": "\n\n".join(mine), "base_version": base_version})
        results[i] = (i, response.status_code, response.get_json(silent=True) or {})

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(r is not None for r in results), "a writer did not finish"

    statuses = [status for _, status, _ in results]
    assert set(statuses) <= {200, 409}, statuses
    ok = [i for i, status, _ in results if status == 200]
    assert ok, "no save succeeded"

    final = get_clause(api, declaration["id"], clause_id)
    final_paragraphs = final["text"].split("\n\n")
    assert len(final_paragraphs) == WRITERS
    for i in range(WRITERS):
        if i in ok:
            assert f"beta{i}" in final_paragraphs[i], f"acknowledged edit {i} was lost"
        else:
            assert f"alpha{i}" in final_paragraphs[i]
    # every 200 answer's own clause already contains its edit
    for i, status, data in results:
        if status == 200:
            assert f"beta{i}" in data["clause"]["text"]

    history = get_revisions(api, clause_id)
    versions = [r["version"] for r in history]
    assert versions == list(range(1, len(versions) + 1)), versions
    assert len(history) == 1 + 1 + len(ok)  # original, setup save, one per accepted save
    assert final["version"] == versions[-1]
    acknowledged = sorted(data["clause"]["version"] for _, status, data in results if status == 200)
    assert acknowledged == list(range(base_version + 1, base_version + 1 + len(ok)))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ClauseRevision)
                                 .where(ClauseRevision.clause_id == clause_id)) == len(history)
        document = db.session.get(Document, declaration["id"])
        assert document.seq == declaration["seq"] + 1 + len(ok)
        assert db.session.get(Clause, clause_id).version == versions[-1]
    # exactly one save was based on the version it replaced; every other one was merged
    merged_flags = sorted(data["merged"] for _, status, data in results if status == 200)
    assert merged_flags == [False] + [True] * (len(ok) - 1)
    # these edits never touch the same words, so every one of them should have merged
    assert len(ok) == WRITERS, statuses


def test_stale_patch_repeating_the_same_edit_stores_nothing_new(api, declaration):
    clause_id = declaration["clause_ids"][0]
    base = get_clause(api, declaration["id"], clause_id)["text"]
    same = base.replace("second half of 2020", "second half of 2021")
    assert patch(api, clause_id, same, 1).status_code == 200
    response = patch(api, clause_id, same, 1)
    assert response.status_code == 200
    assert response.get_json()["clause"]["version"] == 2
    assert response.get_json()["clause"]["text"] == same
    assert len(get_revisions(api, clause_id)) == 2


def test_after_must_be_an_integer_id_not_a_boolean(api, declaration):
    """JSON true is not a clause id (bool is an int subclass in Python; base_version guards it)."""
    response = api.as_("editor").post(f"/documents/{declaration['id']}/clauses",
                                      json={"text": "Placed by a boolean.", "after": True})
    assert_error(response, 422)
    assert [c["id"] for c in get_document(api, declaration["id"])["clauses"]] == declaration["clause_ids"]


def test_oversized_body_and_bad_heading(api, declaration):
    clause_id = declaration["clause_ids"][0]
    assert_error(patch(api, clause_id, "y" * 3_000_000, 1), 413)
    assert_error(patch(api, clause_id, "Fine.", 1, heading=5), 422)
    assert_error(patch(api, clause_id, "Fine.", 1, heading="h" * 301), 413)
    assert get_clause(api, declaration["id"], clause_id)["version"] == 1


def test_unknown_routes_and_methods_answer_json_errors(api, declaration):
    clause_id = declaration["clause_ids"][0]
    assert_error(api.as_("editor").get(f"/clauses/{clause_id}/nothing"), 404)
    assert_error(api.as_("editor").put(f"/clauses/{clause_id}", json={}), 405)
