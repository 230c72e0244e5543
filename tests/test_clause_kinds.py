"""Clause kinds, their numbering, and a plan's actions with structured fields (issue 17, items 1-2):
through the pages, the API and Socket.IO, as committee members and integrations use them."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from drafting.extensions import db
from drafting.models import Clause, Document
from drafting.text.hashing import content_hash
from drafting.text.numbering import labels
from tests.conftest import HX


def test_each_kind_numbers_on_its_own_and_sections_number_what_follows():
    kinds = ["preamble", "recital", "recital", "article", "article", "section", "article", "action",
             "section", "article", "recital", "annex", "annex"]
    assert labels(kinds) == ["", "A", "B", "1", "2", "1", "1.1", "1.2", "2", "2.1", "C", "I", "II"]
    assert labels(["recital"] * 28)[25:] == ["Z", "AA", "AB"]
    assert labels([]) == []


def doc(api, document_id, role="editor"):
    response = api.as_(role).get(f"/documents/{document_id}")
    assert response.status_code == 200
    return response.get_json()


def shown_labels(page: str) -> list[str]:
    return re.findall(r'<span class="clause-number[^"]*" aria-hidden="true">([^<]*)</span>', page)


def test_the_demo_declaration_has_a_preamble_lettered_recitals_and_numbered_articles(api, declaration, client, auth):
    clauses = doc(api, declaration["id"])["clauses"]
    kinds = [c["kind"] for c in clauses]
    assert kinds[0] == "preamble" and clauses[0]["label"] == ""
    recitals = [c for c in clauses if c["kind"] == "recital"]
    assert [c["label"] for c in recitals] == [chr(65 + i) for i in range(len(recitals))] and len(recitals) >= 6
    articles = [c for c in clauses if c["kind"] == "article"]
    assert [c["label"] for c in articles] == [str(i) for i in range(1, len(articles) + 1)]
    assert [c["number"] for c in clauses] == list(range(1, len(clauses) + 1))  # positions stay 1..n
    auth.login("observer")
    page = client.get(f"/documents/{declaration['id']}").get_data(as_text=True)
    assert shown_labels(page) == [c["label"] or "¶" for c in clauses]
    assert '<span class="clause-kind kind-recital">Recital A</span>' in page


def test_the_demo_plan_numbers_its_actions_within_its_strands(api, plan):
    clauses = doc(api, plan["id"])["clauses"]
    sections = [c for c in clauses if c["kind"] == "section"]
    assert [c["label"] for c in sections] == ["1", "2", "3", "4", "5", "6"]
    first = next(c for c in clauses if c["kind"] == "action")
    assert first["label"] == "1.1" and first["heading"] == "Standing coordination mechanism"
    assert first["action"]["responsible"] == ["Vltava Digital Health Cluster", "Danube Health Cluster"]
    assert (first["action"]["start"], first["action"]["end"]) == ("2024-H1", "2029-H2")
    assert "Responsible clusters:" not in first["text"]


def test_a_new_clause_takes_the_kind_chosen_in_the_form_and_renumbers_the_list(client, auth, declaration, api):
    auth.login("editor")
    form = client.get(f"/documents/{declaration['id']}/clauses/new", headers=HX).get_data(as_text=True)
    assert 'name="kind"' in form and '<option value="article" selected>Article</option>' in form
    assert '<option value="recital" >Recital</option>' in form and '<option value="annex" >Annex</option>' in form
    first = declaration["clause_ids"][0]
    response = client.post(f"/documents/{declaration['id']}/clauses", headers=HX,
                           data={"text": "Having regard to the Treaty.", "heading": "", "after": first, "kind": "recital"})
    assert response.status_code == 200
    clauses = doc(api, declaration["id"])["clauses"]
    assert clauses[1]["kind"] == "recital" and clauses[1]["label"] == "A" and clauses[1]["text"].startswith("Having")
    assert clauses[2]["label"] == "1"  # the article after it keeps its number
    assert clauses[3]["kind"] == "recital" and clauses[3]["label"] == "B"  # the next recital moved one letter on
    assert shown_labels(response.get_data(as_text=True))[:4] == ["¶", "A", "1", "B"]


def test_a_wrong_kind_is_refused_in_the_form_with_the_text_kept(client, auth, declaration):
    auth.login("editor")
    clause_id = declaration["clause_ids"][3]
    edit = client.get(f"/clauses/{clause_id}/edit", headers=HX).get_data(as_text=True)
    version = re.search(r'name="base_version" value="(\d+)"', edit).group(1)
    response = client.post(f"/clauses/{clause_id}", headers=HX,
                           data={"text": "Kept words.", "heading": "", "base_version": version, "kind": "chapter"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "The kind of a clause must be one of" in body and "Kept words." in body


def test_changing_a_kind_by_the_form_renumbers_and_is_announced_for_a_list_refresh(client, auth, declaration, api,
                                                                                   socket_client):
    auth.login("editor")
    sio = socket_client()
    assert sio.emit("join", {"document_id": declaration["id"]}, callback=True)["ok"]
    sio.get_received()
    clause = doc(api, declaration["id"])["clauses"][12]  # an article ("Research — ...")
    response = client.post(f"/clauses/{clause['id']}", headers=HX, data={
        "text": clause["text"], "heading": "Research", "base_version": clause["version"], "kind": "section"})
    assert response.status_code == 200
    clauses = doc(api, declaration["id"])["clauses"]
    assert clauses[12]["kind"] == "section" and clauses[12]["label"] == "1"
    assert clauses[13]["label"] == "1.1"  # the articles after it now count within it
    updates = [e["args"][0] for e in sio.get_received() if e["name"] == "clause.updated"]
    assert updates and updates[-1]["clause_id"] == clause["id"] and updates[-1]["renumbered"] is True
    # A save that keeps the kind says nothing of renumbering.
    client.post(f"/clauses/{clause['id']}", headers=HX, data={
        "text": clause["text"] + " More.", "heading": "Research", "base_version": clause["version"] + 1,
        "kind": "section"})
    updates = [e["args"][0] for e in sio.get_received() if e["name"] == "clause.updated"]
    assert updates and "renumbered" not in updates[-1]


def test_the_api_creates_and_patches_kinds_and_merges_them_three_ways(api, declaration):
    editor = api.as_("editor")
    created = editor.post(f"/documents/{declaration['id']}/clauses", json={"text": "Annexed table.", "kind": "annex"})
    assert created.status_code == 201 and created.get_json()["kind"] == "annex" and created.get_json()["label"] == "I"
    clause = created.get_json()
    # One side changes the kind, the other (from the same version) the text: both are kept.
    first = editor.patch(f"/clauses/{clause['id']}", json={"text": clause["text"], "base_version": 1, "kind": "article"})
    assert first.status_code == 200 and first.get_json()["clause"]["kind"] == "article"
    second = editor.patch(f"/clauses/{clause['id']}", json={"text": "Annexed table, revised.", "base_version": 1})
    assert second.status_code == 200
    merged = second.get_json()
    assert merged["merged"] is True and merged["clause"]["kind"] == "article"
    assert merged["clause"]["text"] == "Annexed table, revised."
    # Two different kinds from the same base: a conflict, nothing saved.
    clash = editor.patch(f"/clauses/{clause['id']}", json={"text": clause["text"], "base_version": 1, "kind": "recital"})
    assert clash.status_code == 409
    assert doc(api, declaration["id"])["clauses"][-1]["kind"] == "article"
    bad = editor.patch(f"/clauses/{clause['id']}", json={"text": "x", "base_version": 3, "kind": "chapter"})
    assert bad.status_code == 422 and "kind" in bad.get_json()["error"]["message"]


def test_action_fields_are_checked(api, plan):
    editor = api.as_("editor")
    action = next(c for c in doc(api, plan["id"])["clauses"] if c["kind"] == "action")

    def patch(fields):
        return editor.patch(f"/clauses/{action['id']}", json={"text": action["text"], "base_version": action["version"],
                                                              "action": fields})

    outsider = patch({"responsible": ["Nowhere Cluster"]})
    assert outsider.status_code == 422 and "does not take part" in outsider.get_json()["error"]["message"]
    assert patch({"start": "2031-H1"}).status_code == 422
    assert patch({"start": "2027-H1", "end": "2025-H2"}).status_code == 422
    assert patch({"colour": "red"}).status_code == 422
    assert patch(["not", "an", "object"]).status_code == 422
    assert patch({"funding": ["x" * 301]}).status_code == 413
    good = patch({"responsible": ["mälaren health data cluster"], "start": "2026-H1", "end": "2027-H2",
                  "funding": ["Horizon Europe", "EU4Health"], "indicators": ["3 pilots"]})
    assert good.status_code == 200
    assert good.get_json()["clause"]["action"] == {
        "responsible": ["Mälaren Health Data Cluster"], "start": "2026-H1", "end": "2027-H2",
        "funding": ["Horizon Europe", "EU4Health"], "indicators": ["3 pilots"]}
    # The fields are versioned: the revision has them, and restoring the version before brings back the old ones.
    revisions = editor.get(f"/clauses/{action['id']}/revisions").get_json()
    assert revisions[-1]["action"]["start"] == "2026-H1" and revisions[-2]["action"] == action["action"]
    restored = editor.post(f"/clauses/{action['id']}/restore", json={"version": action["version"]})
    assert restored.status_code == 200 and restored.get_json()["clause"]["action"] == action["action"]


def test_the_action_form_edits_the_fields(client, auth, plan, api):
    auth.login("editor")
    action = next(c for c in doc(api, plan["id"])["clauses"] if c["kind"] == "action")
    form = client.get(f"/clauses/{action['id']}/edit", headers=HX).get_data(as_text=True)
    assert 'name="responsible" value="Vltava Digital Health Cluster"' in form
    assert '<option value="2026-H2" >2026-H2 (Ireland presidency)</option>' in form
    response = client.post(f"/clauses/{action['id']}", headers=HX, data={
        "text": action["text"], "heading": action["heading"], "base_version": action["version"], "kind": "action",
        "action_fields": "1", "responsible": ["Thracian MedTech Cluster", "Atlantic Health Innovation Cluster"],
        "start": "2025-H2", "end": "2026-H1", "funding": "Interreg Europe\n\nNational funds\n", "indicators": ""})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Thracian MedTech Cluster; Atlantic Health Innovation Cluster" in body and "Denmark to Cyprus presidency" in body
    saved = next(c for c in doc(api, plan["id"])["clauses"] if c["id"] == action["id"])
    assert saved["action"]["funding"] == ["Interreg Europe", "National funds"] and saved["action"]["indicators"] == []
    refused = client.post(f"/clauses/{action['id']}", headers=HX, data={
        "text": action["text"], "heading": action["heading"], "base_version": saved["version"], "kind": "action",
        "action_fields": "1", "start": "2028-H1", "end": "2024-H2", "funding": "Kept funding line"})
    assert refused.status_code == 422
    assert "The end cannot come before the start." in refused.get_data(as_text=True)
    assert "Kept funding line" in refused.get_data(as_text=True)


def test_the_timeline_shows_actions_per_half_year_with_the_presidency(client, auth, plan, api):
    auth.login("observer")
    page = client.get(f"/documents/{plan['id']}/timeline")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    rows = dict(re.findall(r'<tr id="half-(\d{4}-H[12])">(.*?)</tr>', text, re.S))
    assert list(rows) == [f"{y}-H{h}" for y in range(2024, 2030) for h in (1, 2)]
    assert "Hungary" in rows["2024-H2"] and "Netherlands" in rows["2029-H2"] and "Cyprus" in rows["2026-H1"]
    assert "Standing coordination mechanism" in rows["2024-H1"] and "Standing coordination mechanism" in rows["2029-H2"]
    # Capitalising on the presidency dialogues runs 2024-2025 only.
    assert "Capitalising on the presidency" in rows["2025-H2"] and "Capitalising on the presidency" not in rows["2026-H1"]
    clusters = doc(api, plan["id"])
    with client.application.app_context():
        thracian = db.session.scalar(select(Document).where(Document.id == plan["id"])).participants
        thracian = next(o for o in thracian if o.name == "Thracian MedTech Cluster")
        thracian_id = thracian.id
    mine = client.get(f"/documents/{plan['id']}/timeline?organisation={thracian_id}").get_data(as_text=True)
    responsible = [c for c in clusters["clauses"] if c["kind"] == "action"
                   and "Thracian MedTech Cluster" in c["action"]["responsible"]]
    others = [c for c in clusters["clauses"] if c["kind"] == "action" and c not in responsible]
    assert responsible and others
    assert all(c["heading"] in mine for c in responsible) and not any(f"· {c['heading']}" in mine for c in others)
    assert client.get(f"/documents/{plan['id']}/timeline?organisation=999999").status_code == 404


def test_the_content_hash_covers_kinds_and_documents_made_before_keep_theirs(app, api, declaration):
    before = doc(api, declaration["id"])["content_hash"]
    clause = doc(api, declaration["id"])["clauses"][5]
    api.as_("editor").patch(f"/clauses/{clause['id']}", json={"text": clause["text"], "base_version": clause["version"],
                                                              "kind": "article"})
    after = doc(api, declaration["id"])["content_hash"]
    assert after != before  # same words, another kind: another text
    with app.app_context():
        document = db.session.get(Document, declaration["id"])
        document.hash_scheme = 1  # as the migration leaves documents made before kinds
        db.session.commit()
        clauses = db.session.scalars(select(Clause).where(Clause.document_id == document.id,
                                                          Clause.deleted_at.is_(None)).order_by(Clause.position)).all()
        old = content_hash(document.title, [(i, c.heading, c.text) for i, c in enumerate(clauses, start=1)])
    assert doc(api, declaration["id"])["content_hash"] == old


@pytest.mark.parametrize("fields", [{"kind": None}, {"kind": 3}, {"kind": ""}])
def test_a_kind_that_is_not_a_kind_is_refused_by_the_api(api, declaration, fields):
    clause = doc(api, declaration["id"])["clauses"][1]
    response = api.as_("editor").patch(f"/clauses/{clause['id']}",
                                       json={"text": clause["text"], "base_version": clause["version"], **fields})
    assert response.status_code == 422


def test_an_import_recognises_kinds_and_an_export_carries_them_back_exactly(api, plan):
    from tests.test_exchange import upload

    source = ("# Déclaration commune — Съвместна декларация\n\n"
              "Whereas the clusters of Győr, Lisboa and Umeå agree;\n\n"
              "## Preamble\n\nWe, the clusters, declare.\n\n"
              "## Article 1 — Scope\n\nThis applies to all.\n\n"
              "## Art. 2\n\nNo heading after the number.\n\n"
              "## Chapter II: Follow-up\n\nWhat follows.\n\n"
              "## Annex I. Figures\n\nTable of figures.\n\n"
              "## Partnership\n\nAn ordinary heading stays one.\n").encode()
    created = upload(api, "declaration.md", source)
    assert created.status_code == 201, created.get_json()
    clauses = created.get_json()["clauses"]
    assert [(c["kind"], c["label"], c["heading"]) for c in clauses] == [
        ("recital", "A", None), ("preamble", "", "Preamble"), ("article", "1", "Scope"), ("article", "2", None),
        ("section", "1", "Follow-up"), ("annex", "I", "Figures"), ("article", "1.1", "Partnership")]
    # The plan's actions, with their fields, survive an export and an import exactly.
    original = api.as_("editor").get(f"/documents/{plan['id']}").get_json()
    md = api.as_("editor").get(f"/documents/{plan['id']}/export?format=md").data.decode("utf-8")
    assert "## Action 1.1. Standing coordination mechanism\n" in md and "## Section 2. Data and interoperability\n" in md
    copy = upload(api, "plan.md", md.encode("utf-8"), kind="action_plan").get_json()
    assert [(c["kind"], c["label"], c["heading"], c["text"], c.get("action")) for c in copy["clauses"]] == \
        [(c["kind"], c["label"], c["heading"], c["text"], c.get("action")) for c in original["clauses"]]
    assert copy["content_hash"] == original["content_hash"]


def test_an_import_naming_an_unknown_cluster_as_responsible_is_refused(api, plan):
    from tests.test_exchange import upload

    md = api.as_("editor").get(f"/documents/{plan['id']}/export?format=md").data.decode("utf-8")
    forged = md.replace('"responsible": ["Vltava Digital Health Cluster"', '"responsible": ["Nowhere Cluster"', 1)
    assert forged != md
    refused = upload(api, "plan.md", forged.encode("utf-8"), kind="action_plan")
    assert refused.status_code == 422 and "Nowhere Cluster" in refused.get_json()["error"]["message"]


def test_the_markdown_export_of_a_plan_ends_with_its_table_of_actions(api, plan):
    editor = api.as_("editor")
    action = next(c for c in doc(api, plan["id"])["clauses"] if c["kind"] == "action")
    editor.patch(f"/clauses/{action['id']}", json={"text": action["text"], "base_version": action["version"],
                                                   "action": {**action["action"], "funding": ["EU4Health <img src=x>"]}})
    md = editor.get(f"/documents/{plan['id']}/export?format=md").get_data(as_text=True)
    record = md.split("<!-- drafting: end of the text", 1)[1]
    assert "### Table of actions" in record
    rows = [line for line in record.splitlines() if line.startswith("| 1.")]
    assert rows[0] == ("| 1.1 | Standing coordination mechanism | Vltava Digital Health Cluster; Danube Health Cluster "
                       "| 2024-H1 | 2029-H2 | EU4Health \\<img src=x> |  |")
    assert len([line for line in record.splitlines() if re.match(r"^\| \d\.\d ", line)]) == 18
    # Below the end marker: the file still imports back to the same text.
    from tests.test_exchange import upload
    copy = upload(api, "plan.md", md.encode(), kind="action_plan").get_json()
    assert copy["content_hash"] == doc(api, plan["id"])["content_hash"]


def test_the_history_diff_shows_a_change_of_kind_and_of_action_fields(client, auth, api, plan):
    editor = api.as_("editor")
    action = next(c for c in doc(api, plan["id"])["clauses"] if c["kind"] == "action")
    changed = {**action["action"], "end": "2027-H2", "funding": ["Horizon Europe"]}
    assert editor.patch(f"/clauses/{action['id']}", json={"text": action["text"], "base_version": action["version"],
                                                          "action": changed}).status_code == 200
    assert editor.patch(f"/clauses/{action['id']}", json={"text": action["text"], "base_version": action["version"] + 1,
                                                          "kind": "article"}).status_code == 200
    auth.login("observer")
    v = action["version"]
    fields = client.get(f"/clauses/{action['id']}/diff?from={v}&to={v + 1}", headers=HX).get_data(as_text=True)
    assert re.search(r"<dt>End</dt><dd><del>.*2029-H2.*</del>\s*→ <ins>.*2027-H2.*</ins>", fields)
    assert "Horizon Europe" in fields and "<dt>Start</dt>" not in fields  # only what changed
    kind = client.get(f"/clauses/{action['id']}/diff?from={v + 1}&to={v + 2}", headers=HX).get_data(as_text=True)
    assert re.search(r"Kind: <del>.*Action.*</del>\s*→ <ins>.*Article.*</ins>", kind)


def test_the_word_export_of_a_plan_has_its_table_of_actions_and_imports_back_exactly(api, plan):
    import io

    from docx import Document as Word

    from tests.test_exchange import upload

    editor = api.as_("editor")
    action = next(c for c in doc(api, plan["id"])["clauses"] if c["kind"] == "action")
    # An entry may hold "; " and any script: the file keeps the entries apart.
    funding = ["EU4Health; co-funded by Győr and Umeå", "Фонд за иновации — São Paulo"]
    assert editor.patch(f"/clauses/{action['id']}", json={
        "text": action["text"], "base_version": action["version"],
        "action": {**action["action"], "funding": funding}}).status_code == 200
    original = doc(api, plan["id"])
    data = editor.get(f"/documents/{plan['id']}/export?format=docx").data
    word = Word(io.BytesIO(data))
    headings = [p.text for p in word.paragraphs if p.style.name == "Heading 1"]
    assert headings[0] == "Preamble. Introduction" and "Section 1. Governance and coordination" in headings
    assert "Action 1.1. Standing coordination mechanism" in headings
    table = word.tables[-1]
    assert [c.text for c in table.rows[0].cells] == ["Action", "Title", "Responsible", "Start", "End", "Funding",
                                                     "Indicators"]
    actions = [c for c in original["clauses"] if c["kind"] == "action"]
    assert len(table.rows) == len(actions) + 1
    first = [c.text for c in table.rows[1].cells]
    assert first[:6] == ["1.1", "Standing coordination mechanism", "Vltava Digital Health Cluster\nDanube Health Cluster",
                         "2024-H1", "2029-H2", "\n".join(funding)]
    # The record is not the text, but its table gives the actions their fields back: the file
    # imports to the same kinds, labels, headings, texts and action fields, so the same hash.
    copy = upload(api, "plan.docx", data, kind="action_plan").get_json()
    assert [(c["kind"], c["label"], c["heading"], c["text"], c.get("action")) for c in copy["clauses"]] == \
        [(c["kind"], c["label"], c["heading"], c["text"], c.get("action")) for c in original["clauses"]]
    assert copy["content_hash"] == original["content_hash"]


def test_the_word_export_of_a_declaration_imports_back_with_its_kinds(api, declaration):
    from tests.test_exchange import upload

    original = doc(api, declaration["id"])
    data = api.as_("editor").get(f"/documents/{declaration['id']}/export?format=docx").data
    copy = upload(api, "declaration.docx", data).get_json()
    assert {c["kind"] for c in copy["clauses"]} >= {"preamble", "recital", "article"}
    assert [(c["kind"], c["label"], c["heading"], c["text"]) for c in copy["clauses"]] == \
        [(c["kind"], c["label"], c["heading"], c["text"]) for c in original["clauses"]]
    assert copy["content_hash"] == original["content_hash"]


def test_the_verify_page_describes_the_hash_scheme_of_the_document(client, auth, app, declaration):
    auth.login("observer")
    page = client.get(f"/documents/{declaration['id']}/verify").get_data(as_text=True)
    assert "<code>drafting-content-v2</code>" in page and "drafting-content-v1" not in page
    with app.app_context():
        db.session.get(Document, declaration["id"]).hash_scheme = 1
        db.session.commit()
    page = client.get(f"/documents/{declaration['id']}/verify").get_data(as_text=True)
    assert "<code>drafting-content-v1</code>" in page and "drafting-content-v2" not in page


@pytest.mark.parametrize("seed", range(3))
def test_the_label_a_save_answers_is_the_one_the_document_shows(api, declaration, seed):
    """A save answers its clause's label counted alone in the database (documents.operations.clause_label);
    over random kinds, insertions in the middle and deletions it is the label the whole document numbers."""
    import random

    rng = random.Random(seed)
    editor = api.as_("editor")
    kinds = ["preamble", "recital", "article", "action", "section", "annex"]
    for _ in range(24):
        ids = [c["id"] for c in doc(api, declaration["id"])["clauses"]]
        payload = {"text": f"Clause {rng.random():.6f}.", "kind": rng.choice(kinds), "after": rng.choice(ids)}
        assert editor.post(f"/documents/{declaration['id']}/clauses", json=payload).status_code == 201
        if rng.random() < 0.25:
            assert editor.delete(f"/clauses/{rng.choice(ids)}").status_code == 204
    clauses = doc(api, declaration["id"])["clauses"]
    assert {c["kind"] for c in clauses} >= {"recital", "article", "section", "annex"}
    assert [c["label"] for c in clauses] == labels([c["kind"] for c in clauses])
    for clause in clauses:
        saved = editor.patch(f"/clauses/{clause['id']}", json={"text": clause["text"] + " Saved.",
                                                              "base_version": clause["version"]})
        assert saved.status_code == 200
        assert (saved.get_json()["clause"]["kind"], saved.get_json()["clause"]["label"]) == \
            (clause["kind"], clause["label"])
    # A save that changes the kind renumbers: it answers the label the document shows after it.
    for clause in rng.sample(clauses, 8):
        current = next(c for c in doc(api, declaration["id"])["clauses"] if c["id"] == clause["id"])
        kind = rng.choice([k for k in kinds if k != current["kind"]])
        saved = editor.patch(f"/clauses/{clause['id']}", json={"text": current["text"], "kind": kind,
                                                              "base_version": current["version"]})
        assert saved.status_code == 200 and saved.get_json()["clause"]["kind"] == kind
        shown = next(c for c in doc(api, declaration["id"])["clauses"] if c["id"] == clause["id"])
        assert saved.get_json()["clause"]["label"] == shown["label"]
