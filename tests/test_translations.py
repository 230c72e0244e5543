"""Clause-aligned translations (issue 18, items 2-3): written per clause and language, pinned to the
source version, stale when the source changes, merged or refused like clauses, live, and never part
of what is approved. Through the JSON API, the pages (htmx) and Socket.IO, as members use them."""

from __future__ import annotations

import re

from sqlalchemy import select

from drafting.extensions import db
from drafting.models import AuditEvent, Document, User
from drafting.translating.operations import save_title
from tests.conftest import EMAILS, HX

CS = "Klastry každoročně zveřejňují společnou zprávu o evropském prostoru pro zdravotní data."
BG = "Клъстерите публикуват съвместен годишен доклад за европейското пространство за здравни данни."


def clause_of(api, document_id: int, index: int = 0) -> dict:
    return api.as_("observer").get(f"/documents/{document_id}").get_json()["clauses"][index]


def put(api, role: str, clause_id: int, lang: str, **body):
    return api.as_(role).put(f"/clauses/{clause_id}/translations/{lang}", json=body)


def statuses(api, document_id: int, lang: str) -> dict[int, str]:
    answer = api.as_("observer").get(f"/documents/{document_id}/translations/{lang}")
    assert answer.status_code == 200, answer.get_json()
    return {c["id"]: c["status"] for c in answer.get_json()["clauses"]}


def test_a_translation_is_pinned_to_its_source_version_and_goes_stale_when_the_source_changes(api, declaration):
    clause = clause_of(api, declaration["id"], 3)
    saved = put(api, "editor", clause["id"], "cs", text=CS, heading="Jelentés", source_version=clause["version"])
    assert saved.status_code == 200, saved.get_json()
    body = saved.get_json()
    assert (body["lang"], body["text"], body["heading"], body["source_version"], body["stale"]) == \
        ("cs", CS, "Jelentés", clause["version"], False)
    listing = api.as_("observer").get(f"/documents/{declaration['id']}/translations/cs").get_json()
    assert listing["lang"] == "cs" and listing["language"] == "en"
    row = next(c for c in listing["clauses"] if c["id"] == clause["id"])
    assert (row["text"], row["source_version"], row["stale"], row["status"]) == (CS, clause["version"], False,
                                                                                  "translated")
    others = [c for c in listing["clauses"] if c["id"] != clause["id"]]
    assert others and all(c["status"] == "missing" and c["text"] is None for c in others)

    # The authentic clause changes: the translation is stale until it is brought up to date.
    changed = api.as_("editor2").patch(f"/clauses/{clause['id']}", json={
        "text": clause["text"] + " Also in Hungarian.", "base_version": clause["version"]})
    assert changed.status_code == 200
    assert statuses(api, declaration["id"], "cs")[clause["id"]] == "stale"
    again = put(api, "editor", clause["id"], "cs", text=CS + " Češtinaul is.", source_version=clause["version"] + 1)
    assert again.get_json()["stale"] is False and again.get_json()["version"] == 2
    assert statuses(api, declaration["id"], "cs")[clause["id"]] == "translated"
    # Another language is its own.
    assert statuses(api, declaration["id"], "bg")[clause["id"]] == "missing"
    progress = api.as_("observer").get(f"/documents/{declaration['id']}/translations").get_json()
    hu = next(p for p in progress["languages"] if p["lang"] == "cs")
    assert (hu["translated"], hu["stale"]) == (1, 0) and "en" not in [p["lang"] for p in progress["languages"]]


def test_bad_translations_are_refused_with_clear_errors_and_only_editors_translate(api, declaration):
    clause = clause_of(api, declaration["id"])
    cases = [
        ("editor", "en", {"text": CS, "source_version": 1}, 422),        # the authentic language
        ("editor", "xx", {"text": CS, "source_version": 1}, 404),        # no such language
        ("editor", "cs", {"text": "  ", "source_version": 1}, 422),      # empty
        ("editor", "cs", {"text": CS, "source_version": 99}, 422),       # a version from the future
        ("editor", "cs", {"text": CS, "source_version": "one"}, 422),
        ("editor", "cs", {"text": CS}, 422),
        ("editor", "cs", {"text": "x" * 50_001, "source_version": 1}, 413),
        ("editor", "cs", {"text": CS, "source_version": 1, "after_id": 3}, 422),  # unknown field
        ("commenter", "cs", {"text": CS, "source_version": 1}, 403),
        ("observer", "cs", {"text": CS, "source_version": 1}, 403),
        ("outsider", "cs", {"text": CS, "source_version": 1}, 404),
    ]
    for role, lang, body, status in cases:
        answer = put(api, role, clause["id"], lang, **body)
        assert answer.status_code == status, (role, lang, body, answer.get_json())
        assert answer.get_json()["error"]["message"]
    assert statuses(api, declaration["id"], "cs")[clause["id"]] == "missing"
    assert api.as_("observer").get(f"/documents/{declaration['id']}/translations/en").status_code == 422
    assert api.as_("outsider").get(f"/documents/{declaration['id']}/translations/cs").status_code == 404


def test_concurrent_translations_merge_and_overlapping_ones_conflict_with_nothing_lost(api, declaration):
    clause = clause_of(api, declaration["id"], 2)
    base = "Első mondat a jelentésről. Második mondat az adatokról. Harmadik mondat a klaszterekről."
    put(api, "editor", clause["id"], "cs", text=base, source_version=clause["version"])
    # Two editors start from version 1 of the translation; different sentences merge.
    mine = put(api, "editor", clause["id"], "cs", base_version=1, source_version=clause["version"],
               text=base.replace("Első", "Az első"))
    theirs = put(api, "editor2", clause["id"], "cs", base_version=1, source_version=clause["version"],
                 text=base.replace("Harmadik", "A harmadik"))
    assert mine.status_code == theirs.status_code == 200
    assert theirs.get_json()["text"] == "Az első mondat a jelentésről. Második mondat az adatokról. " \
                                        "A harmadik mondat a klaszterekről."
    # The same words changed differently: 409 with the current translation; nothing overwritten.
    clash = put(api, "editor2", clause["id"], "cs", base_version=1, source_version=clause["version"],
                text=base.replace("Első", "Legelső"))
    assert clash.status_code == 409, clash.get_json()
    current = clash.get_json()["current"]
    assert current["text"].startswith("Az első") and current["version"] == 3
    assert "same words" in clash.get_json()["error"]["message"]
    texts = api.as_("observer").get(f"/documents/{declaration['id']}/translations/cs").get_json()["clauses"]
    assert next(c for c in texts if c["id"] == clause["id"])["text"] == current["text"]
    # A form from version 1 that changed only the text keeps the heading a later version set.
    assert put(api, "editor", clause["id"], "cs", heading="Zpráva", base_version=3, source_version=clause["version"],
               text=current["text"]).status_code == 200
    stale_form = put(api, "editor2", clause["id"], "cs", heading=None, base_version=3, source_version=clause["version"],
                     text=current["text"].replace("mondat az adatokról", "mondat a adatokról"))
    assert stale_form.status_code == 200 and stale_form.get_json()["heading"] == "Zpráva"
    text = stale_form.get_json()["text"]
    assert put(api, "editor", clause["id"], "cs", heading="Výroční zpráva", base_version=5,
               source_version=clause["version"], text=text).status_code == 200
    clash = put(api, "editor2", clause["id"], "cs", heading="Jiná zpráva", base_version=5,
                source_version=clause["version"], text=text)  # both changed the heading: refused
    assert clash.status_code == 409 and clash.get_json()["current"]["heading"] == "Výroční zpráva"
    assert put(api, "editor2", clause["id"], "cs", base_version=7, source_version=clause["version"],
               text=base).status_code == 422  # a translation version from the future


def test_translations_are_no_part_of_the_content_hash_and_are_audited(app, api, declaration):
    before = api.as_("observer").get(f"/documents/{declaration['id']}").get_json()["content_hash"]
    clause = clause_of(api, declaration["id"])
    assert put(api, "editor", clause["id"], "bg", text=BG, source_version=clause["version"]).status_code == 200
    assert api.as_("editor").put(f"/documents/{declaration['id']}/translations/bg/title",
                                 json={"title": "Съвместна декларация"}).status_code == 200
    after = api.as_("observer").get(f"/documents/{declaration['id']}").get_json()
    assert after["content_hash"] == before
    listing = api.as_("observer").get(f"/documents/{declaration['id']}/translations/bg").get_json()
    assert listing["title"] == "Съвместна декларация"
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.document_id == declaration["id"])))
    assert {"translation.updated", "translation.title"} <= actions


def test_a_saved_translation_is_announced_to_the_document_room(app, socket_client, client, auth, api, declaration):
    auth.login("observer")
    watcher = socket_client(client)
    assert watcher.emit("join", {"document_id": declaration["id"]}, callback=True)["ok"] is True
    watcher.get_received()
    clause = clause_of(api, declaration["id"])
    assert put(api, "editor", clause["id"], "sv", text="Klustren publicerar en rapport.",
               source_version=clause["version"]).status_code == 200
    events = [e for e in watcher.get_received() if e["name"] == "translation.updated"]
    assert len(events) == 1
    payload = events[0]["args"][0]
    assert (payload["clause_id"], payload["lang"], payload["document_id"]) == (clause["id"], "sv", declaration["id"])


def test_the_pages_show_progress_side_by_side_and_an_editor_translates_with_htmx(client, auth, api, declaration):
    clause = clause_of(api, declaration["id"], 3)
    put(api, "editor", clause["id"], "cs", text=CS, source_version=clause["version"])
    api.as_("editor2").patch(f"/clauses/{clause['id']}", json={
        "text": clause["text"].replace("annual", "yearly") if "annual" in clause["text"] else clause["text"] + " New.",
        "base_version": clause["version"]})
    auth.login("editor")
    overview = client.get(f"/documents/{declaration['id']}/translations").get_data(as_text=True)
    assert "Čeština" in overview and "Български" in overview and "1 stale" in overview
    page = client.get(f"/documents/{declaration['id']}/translations/cs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    row = re.search(rf'<li class="translation-row state-stale" id="tr-{clause["id"]}".*?</li>', html, re.S).group(0)
    assert "What changed in the authentic text since version" in row and "<ins>" in row
    assert 'lang="cs"' in row and "Still correct: mark up to date" in row
    stale_only = client.get(f"/documents/{declaration['id']}/translations/cs?show=stale").get_data(as_text=True)
    assert stale_only.count('class="translation-row') == 1

    # Translate a missing clause through the form, as htmx sends it; hostile text stays text.
    missing = clause_of(api, declaration["id"], 4)
    form = client.get(f"/clauses/{missing['id']}/translations/cs/edit", headers=HX)
    assert form.status_code == 200 and 'name="source_version"' in form.get_data(as_text=True)
    saved = client.post(f"/clauses/{missing['id']}/translations/cs", headers=HX, data={
        "text": "<script>alert(1)</script> A klaszterek.", "heading": "", "source_version": str(missing["version"])})
    assert saved.status_code == 200
    fragment = saved.get_data(as_text=True)
    assert "Translation saved (version 1)." in fragment and "<script>alert" not in fragment
    assert "&lt;script&gt;" in fragment
    # A bad save keeps what was typed, with the error in the form.
    bad = client.post(f"/clauses/{missing['id']}/translations/cs", headers=HX, data={
        "text": "Megtartott szöveg", "source_version": "999"})
    assert bad.status_code == 422 and "Megtartott szöveg" in bad.get_data(as_text=True)
    # Marking the stale one up to date: it is translated again.
    up = client.post(f"/clauses/{clause['id']}/translations/cs", headers=HX, data={
        "text": CS, "heading": "", "source_version": str(clause["version"] + 1), "base_version": "1"})
    assert up.status_code == 200 and 'state-translated' in up.get_data(as_text=True)


def test_readers_see_translations_but_cannot_change_them(client, auth, api, declaration):
    clause = clause_of(api, declaration["id"])
    put(api, "editor", clause["id"], "pt", text="Os clusters publicam um relatório.", source_version=clause["version"])
    auth.login("observer")
    page = client.get(f"/documents/{declaration['id']}/translations/pt").get_data(as_text=True)
    assert "Os clusters publicam um relatório." in page and "Edit translation" not in page and "Translate<" not in page
    assert client.get(f"/clauses/{clause['id']}/translations/pt/edit", headers=HX).status_code == 403
    refused = client.post(f"/clauses/{clause['id']}/translations/pt", headers=HX,
                          data={"text": "Outro", "source_version": "1"})
    assert refused.status_code == 403
    assert client.get(f"/documents/{declaration['id']}/translations/en").status_code == 404
    assert client.get(f"/documents/{declaration['id']}/translations/zz").status_code == 404


def test_the_demo_declaration_has_a_complete_hungarian_translation_with_one_stale_clause(client, auth, api, declaration):
    listing = api.as_("observer").get(f"/documents/{declaration['id']}/translations/hu").get_json()
    states = [c["status"] for c in listing["clauses"]]
    assert states.count("stale") == 1 and states.count("missing") == 0 and states[31] == "stale"
    assert listing["title"].startswith("Az európai egészségügyi innovációs klaszterek")
    assert listing["clauses"][0]["heading"] == "Preambulum" and "ő" in "".join(c["text"] for c in listing["clauses"])
    diff = api.as_("observer").get(f"/clauses/{listing['clauses'][31]['id']}/diff?from=1&to=2").get_json()
    assert "regional partners" in diff["html"]
    # The page shows what changed in the stale clause since the version its translation translates
    # (from the revisions of all stale rows, read together: translating.operations.source_revisions).
    auth.login("observer")
    page = client.get(f"/documents/{declaration['id']}/translations/hu").get_data(as_text=True)
    assert page.count('<details class="translation-changes"') == 1
    changes = page[page.index('<details class="translation-changes"'):]
    assert "regional partners" in changes[:changes.index("</details>")]


def test_a_translation_exports_in_every_format_marked_as_one(client, auth, api, declaration):
    import io
    import zipfile

    from docx import Document as Word
    from lxml import etree

    from drafting.text.akn import schema_errors

    editor = api.as_("editor")
    authentic = editor.get(f"/documents/{declaration['id']}").get_json()
    md = editor.get(f"/documents/{declaration['id']}/export?format=md&lang=hu")
    assert md.status_code == 200 and "-hu-" in md.headers["Content-Disposition"]
    text = md.get_data(as_text=True)
    assert text.startswith("# Az európai egészségügyi innovációs klaszterek")
    assert "\n> " in text.split("##", 1)[0]  # the notice, before the first clause
    assert "Preambulum\n" in text  # the translated heading
    assert authentic["content_hash"] in text  # the authentic text's hash, said to be that
    docx = editor.get(f"/documents/{declaration['id']}/export?format=docx&lang=hu").data
    word = Word(io.BytesIO(docx))
    assert word.paragraphs[0].text.startswith("Az európai egészségügyi")
    assert any(p.style.name == "Intense Quote" for p in word.paragraphs[:4])
    akn = editor.get(f"/documents/{declaration['id']}/export?format=akn&lang=hu").data
    root = etree.fromstring(akn)
    ns = {"a": "http://docs.oasis-open.org/legaldocml/ns/akn/3.0"}
    assert root.xpath("//a:FRBRExpression/a:FRBRlanguage/@language", namespaces=ns) == ["hun"]
    assert root.xpath("//a:FRBRExpression/a:FRBRtranslation/@fromLanguage", namespaces=ns) == ["eng"]
    assert schema_errors(akn) == []
    auth.login("observer")
    page = client.get(f"/documents/{declaration['id']}/export?format=html&lang=hu")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="hu">' in html and 'class="translation-note"' in html
    assert "format=md&amp;lang=hu" in html or "format=md&lang=hu" in html
    pdf = client.get(f"/documents/{declaration['id']}/export?format=pdf&lang=hu")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # The authentic export is unchanged by translations; bad languages are refused.
    assert '<html lang="en">' in client.get(f"/documents/{declaration['id']}/export?format=html").get_data(as_text=True)
    assert client.get(f"/documents/{declaration['id']}/export?format=md&lang=xx").status_code == 422
    assert client.get(f"/documents/{declaration['id']}/export?format=md&lang=en").status_code == 200
    assert zipfile.is_zipfile(io.BytesIO(docx))


def test_the_secretariat_chooses_the_authentic_language_of_a_new_document(client, auth, api):
    made = api.as_("admin").post("/documents", json={"title": "Wspólna deklaracja — Společné prohlášení",
                                                     "kind": "declaration", "language": "cs"})
    assert made.status_code == 201 and made.get_json()["language"] == "cs"
    assert api.as_("admin").post("/documents", json={"title": "X", "kind": "declaration",
                                                     "language": "xx"}).status_code == 422
    # Translations go into every language but the authentic one, English included.
    progress = api.as_("admin").get(f"/documents/{made.get_json()['id']}/translations").get_json()
    assert progress["language"] == "cs" and "en" in [p["lang"] for p in progress["languages"]]
    assert "cs" not in [p["lang"] for p in progress["languages"]]
    auth.login("admin")
    page = client.post("/documents", data={"title": "Declaração conjunta", "kind": "action_plan", "language": "pt"})
    assert page.status_code == 302
    document = client.get(page.headers["Location"]).get_data(as_text=True)
    assert "authentic text in Português" in document
    refused = client.post("/documents", data={"title": "Y", "kind": "declaration", "language": "zz"})
    assert refused.status_code == 422 and 'role="alert"' in refused.get_data(as_text=True)


def test_a_title_saved_in_one_language_keeps_one_saved_meanwhile_in_another(app, api, declaration):
    # Two translators save the title at once: the second started from a document read before the
    # first committed. It takes the document's row and reads the titles again, so neither is lost.
    with app.app_context():
        document = db.session.get(Document, declaration["id"])
        editor = db.session.scalar(select(User).where(User.email == EMAILS["editor"]))
        assert "cs" not in (document.title_translations or {})  # read now, before the other save
        db.session.expunge(document)
        db.session.rollback()  # this request's read ends; its document keeps what it read
        assert api.as_("editor2").put(f"/documents/{declaration['id']}/translations/cs/title",
                                      json={"title": "Společné prohlášení"}).status_code == 200
        save_title(db.session.merge(document, load=False), editor, "bg", "Съвместна декларация")
        db.session.commit()
    titles = {lang: api.as_("observer").get(f"/documents/{declaration['id']}/translations/{lang}").get_json()["title"]
              for lang in ("cs", "bg", "hu")}
    assert titles["cs"] == "Společné prohlášení" and titles["bg"] == "Съвместна декларация"
    assert titles["hu"].startswith("Az európai")  # the demo's Hungarian title stays too
