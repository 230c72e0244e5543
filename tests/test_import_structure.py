"""Import of files that are not drafting's own exports: the structure of Word and Markdown files.

Word list numbering (a "List Number" style, a paragraph's or a style's w:numPr, with its format read
from the numbering part), typed numbers and "Article N" paragraphs under headings split into clauses;
kinds are recognised ("CONSIDERING", "Article N"); tables stay GFM pipe tables; footnotes stay
footnotes ("[^1]" and "[^1]: …" at the end of their clause). Markdown goes through CommonMark. The
files are built here, with python-docx and lxml, and sent through the HTTP import; the exported
files still import back exactly. Rules: `drafting/text/outline.py`.
"""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn

from drafting.config import Config
from drafting.text.markdown import parse_markdown
from drafting.text.outline import ImportedClause, ImportFailure
from drafting.text.word import parse_docx
from tests.test_exchange import upload

LIMIT = Config.MAX_IMPORT_PARAGRAPHS
DECIMAL_LIST = 90  # the list this file adds to the numbering part: "1." at level 0, "(a)" at level 1
BULLET_LIST = 4  # python-docx's template: a bullet list ("List Bullet"'s numbering)


# ---- building Word files -------------------------------------------------------------------------

def add_lists(word) -> None:
    """Add a decimal list with lettered second level to the numbering part, as Word writes one."""
    numbering = word.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum {nsdecls("w")} w:abstractNumId="{DECIMAL_LIST}">'
        '<w:multiLevelType w:val="hybridMultilevel"/>'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%2)"/></w:lvl>'
        "</w:abstractNum>"))
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="{DECIMAL_LIST}">'
                               f'<w:abstractNumId w:val="{DECIMAL_LIST}"/></w:num>'))


def numbered(paragraph, list_id: int, level: int = 0):
    """Give a paragraph (or a paragraph style) Word's list numbering: w:pPr/w:numPr."""
    properties = (paragraph._p if hasattr(paragraph, "_p") else paragraph.element).get_or_add_pPr()
    properties.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{level}"/><w:numId w:val="{list_id}"/>'
                                "</w:numPr>"))
    return paragraph


class Footnotes:
    """Footnotes as Word writes them: word/footnotes.xml (python-docx has no API for it) and a
    w:footnoteReference run where the text refers to each."""

    def __init__(self, word):
        self.word = word
        self.xml = parse_xml(
            f'<w:footnotes {nsdecls("w")}>'
            '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r>'
            "</w:p></w:footnote></w:footnotes>")
        self.count = 0

    def add(self, paragraph, text: str) -> None:
        """Refer to a new footnote at the end of the paragraph."""
        self.count += 1
        note = parse_xml(f'<w:footnote {nsdecls("w")} w:id="{self.count}"><w:p>'
                         '<w:pPr><w:pStyle w:val="FootnoteText"/></w:pPr>'
                         '<w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr><w:footnoteRef/></w:r>'
                         f'<w:r><w:t xml:space="preserve"> {text}</w:t></w:r></w:p></w:footnote>')
        self.xml.append(note)
        run = paragraph.add_run()
        run._r.get_or_add_rPr().append(parse_xml(f'<w:rStyle {nsdecls("w")} w:val="FootnoteReference"/>'))
        run._r.append(OxmlElement("w:footnoteReference", attrs={qn("w:id"): str(self.count)}))

    def save(self) -> None:
        from lxml import etree

        part = Part(PackURI("/word/footnotes.xml"), CONTENT_TYPE.WML_FOOTNOTES,
                    etree.tostring(self.xml, xml_declaration=True, encoding="UTF-8", standalone=True),
                    self.word.part.package)
        self.word.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)


def table(word, rows: list[list[str]]) -> None:
    made = word.add_table(rows=len(rows), cols=len(rows[0]))
    for row, values in zip(made.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value


def docx_bytes(build) -> bytes:
    word = docx.Document()
    build(word)
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()


def structured_word(word) -> None:
    """A declaration as a secretariat writes it in Word: recitals, numbered commitments under
    headings, a table, footnotes; Bulgarian, Hungarian, Portuguese and Swedish text."""
    add_lists(word)
    notes = Footnotes(word)
    commitment = word.styles.add_style("Commitment", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    commitment.base_style = word.styles["Normal"]
    numbered(commitment, DECIMAL_LIST)  # numbering through the style: w:style/w:pPr/w:numPr

    word.add_heading("Съвместна декларация за здравните данни", 0)
    word.add_paragraph("Sofia, Győr, Lisboa, Umeå", style="Subtitle")
    considering = word.add_paragraph("CONSIDERING that the clusters of Győr and Umeå already share data;")
    notes.add(considering, "Report of the Győr cluster, 2024.")
    word.add_paragraph("WHEREAS São Paulo's coração project is a model (ação conjunta);")

    word.add_heading("Commitments", 1)
    word.add_paragraph("The clusters commit to:")
    share = word.add_paragraph("share health data across borders", style="List Number")
    notes.add(share, "As the European Health Data Space allows.")
    share.add_run(";")
    word.add_paragraph("train staff in Lisboa and Västerås.", style="List Number")

    word.add_heading("Actions", 1)
    keep = numbered(word.add_paragraph("Őrizzük az adatokat: keep the data safe;"), DECIMAL_LIST)
    notes.add(keep, "Hungarian: ő and ű stay as they are.")
    numbered(word.add_paragraph("with encryption,"), DECIMAL_LIST, level=1)
    numbered(word.add_paragraph("with audits;"), DECIMAL_LIST, level=1)
    numbered(word.add_paragraph("publish a yearly report"), DECIMAL_LIST)
    numbered(word.add_paragraph("in every language of the clusters."), BULLET_LIST)  # a bullet: no number
    word.add_paragraph("review the network in Malmö.", style="Commitment")

    word.add_heading("Final provisions", 1)
    word.add_paragraph("1. This declaration takes effect on signature.")
    word.add_paragraph("2) It is reviewed in 2030 – преглед.")

    word.add_heading("Article 7 — Data", 1)
    word.add_paragraph("Data stay in the Union.", style="List Number")
    word.add_paragraph("Access is logged.", style="List Number")
    table(word, [["Cluster", "Country", "Role | task"],
                 ["Győr", "Magyarország", "lead"],
                 ["Umeå\nNorrland", "Sverige", "data | audit"]])
    word.add_paragraph("")
    word.add_heading("Annex I — Partners", 1)
    table(word, [["Partner", "Town"], ["Coração Saúde", "Lisboa"], ["Ålands hälsa", "Mariehamn"]])
    notes.save()


STRUCTURED_WORD = [  # (heading, text, kind)
    (None, "CONSIDERING that the clusters of Győr and Umeå already share data;[^1]\n\n"
           "[^1]: Report of the Győr cluster, 2024.", "recital"),
    (None, "WHEREAS São Paulo's coração project is a model (ação conjunta);", "recital"),
    ("Commitments", "The clusters commit to:", "article"),
    (None, "share health data across borders[^1];\n\n[^1]: As the European Health Data Space allows.", "article"),
    (None, "train staff in Lisboa and Västerås.", "article"),
    ("Actions", "Őrizzük az adatokat: keep the data safe;[^1]\n\n(a) with encryption,\n\n(b) with audits;\n\n"
                "[^1]: Hungarian: ő and ű stay as they are.", "article"),
    (None, "publish a yearly report\n\nin every language of the clusters.", "article"),
    (None, "review the network in Malmö.", "article"),
    ("Final provisions", "This declaration takes effect on signature.", "article"),
    (None, "It is reviewed in 2030 – преглед.", "article"),
    ("Data", "Data stay in the Union.\n\nAccess is logged.\n\n"
             "| Cluster | Country | Role \\| task |\n| --- | --- | --- |\n| Győr | Magyarország | lead |\n"
             "| Umeå Norrland | Sverige | data \\| audit |", "article"),
    ("Partners", "| Partner | Town |\n| --- | --- |\n| Coração Saúde | Lisboa |\n| Ålands hälsa | Mariehamn |",
     "annex"),
]


def articles_word(word) -> None:
    """A Word file without headings: recitals, then "Article N" paragraphs typed in the text."""
    word.add_paragraph("Съвместна декларация", style="Title")
    word.add_paragraph("The clusters of Lisboa, Umeå and Szeged,")
    word.add_paragraph("Considering that cross-border care needs common data;")
    word.add_paragraph("Recalling the declaration of Göteborg;")
    word.add_paragraph("Article 1 — Scope")
    word.add_paragraph("This declaration covers health data (ação, coração).")
    word.add_paragraph("1. It applies to every cluster.")
    word.add_paragraph("2. It applies from 2026.")
    word.add_paragraph("Article 2. The clusters share data with Malmö and Västerås.")
    word.add_paragraph("ARTICLE 3")
    word.add_paragraph("Последни разпоредби: ő, ű, å, ä, ö.")


ARTICLES_WORD = [
    (None, "The clusters of Lisboa, Umeå and Szeged,", "article"),
    (None, "Considering that cross-border care needs common data;", "recital"),
    (None, "Recalling the declaration of Göteborg;", "recital"),
    ("Scope", "This declaration covers health data (ação, coração).\n\n1. It applies to every cluster.\n\n"
              "2. It applies from 2026.", "article"),
    (None, "The clusters share data with Malmö and Västerås.", "article"),
    (None, "Последни разпоредби: ő, ű, å, ä, ö.", "article"),
]


# ---- Markdown files -----------------------------------------------------------------------------

STRUCTURED_MARKDOWN = """\
# Joint Declaration on Health Data — Съвместна декларация

CONSIDERING that *Győr*, **Umeå** and `São Paulo` share data[^cons];

WHEREAS the clusters of Lisboa and Västerås agree (ação conjunta);

## Commitments

1. Share health data across borders[^ehds]:
   - with consent,
   - with *care*;
2. Train staff in Kraków and Malmö.

## Article 2 — Scope

1. This applies to every cluster.
2. It applies from 2026 (see [the plan](https://example.org/plan)).

| Cluster | Country | Role \\| task |
|:--|:-:|--:|
| Győr | Magyarország | *lead* |
| Umeå | Sverige | data \\| audit |

## Follow-up

Reviewed yearly, in every language: ő, ű, å, ä, ö, ã, ç, ъ.

[^cons]: Report of the **Győr** cluster, 2024.
[^ehds]: As the European Health Data Space allows.
"""

MARKDOWN_CLAUSES = [
    (None, "CONSIDERING that Győr, Umeå and São Paulo share data[^1];\n\n"
           "[^1]: Report of the Győr cluster, 2024.", "recital"),
    (None, "WHEREAS the clusters of Lisboa and Västerås agree (ação conjunta);", "recital"),
    ("Commitments", "Share health data across borders[^1]:\n- with consent,\n- with care;\n\n"
                    "[^1]: As the European Health Data Space allows.", "article"),
    (None, "Train staff in Kraków and Malmö.", "article"),
    ("Scope", "1. This applies to every cluster.\n2. It applies from 2026 (see the plan (https://example.org/plan)).\n\n"
              "| Cluster | Country | Role \\| task |\n| :--- | :---: | ---: |\n| Győr | Magyarország | lead |\n"
              "| Umeå | Sverige | data \\| audit |", "article"),
    ("Follow-up", "Reviewed yearly, in every language: ő, ű, å, ä, ö, ã, ç, ъ.", "article"),
]


def clauses_of(answer) -> list[tuple]:
    return [(c["heading"], c["text"], c["kind"]) for c in answer.get_json()["clauses"]]


# ---- Word ---------------------------------------------------------------------------------------

def test_word_lists_typed_numbers_tables_and_footnotes_split_into_clauses(api):
    content = docx_bytes(structured_word)
    preview = upload(api, "declaration.docx", content, preview="true")
    assert preview.status_code == 200, preview.get_json()
    data = preview.get_json()
    assert data["title"] == "Съвместна декларация за здравните данни" and data["format"] == "docx"
    assert [(c["heading"], c["text"]) for c in data["clauses"]] == [(h, t) for h, t, _ in STRUCTURED_WORD]
    notes = " ".join(data["notes"])
    assert "“Commitments”, “Actions”, “Final provisions”" in notes and "3 footnotes kept as footnotes" in notes
    assert "2 tables stayed tables" in notes
    created = upload(api, "declaration.docx", content)
    assert created.status_code == 201, created.get_json()
    assert clauses_of(created) == STRUCTURED_WORD
    assert [c["label"] for c in created.get_json()["clauses"]] == ["A", "B", *map(str, range(1, 10)), "I"]


def test_word_article_paragraphs_without_headings_split_into_articles(api):
    created = upload(api, "articles.docx", docx_bytes(articles_word))
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["title"] == "Съвместна декларация"
    assert clauses_of(created) == ARTICLES_WORD


def chapters_word(word) -> None:
    word.add_heading("Joint Declaration on Health Data", 0)
    word.add_heading("Chapter I — General provisions", 1)
    word.add_heading("Article 1 — Scope", 2)
    word.add_paragraph("This applies to the clusters of Győr and Umeå.")
    word.add_heading("Article 2", 2)
    word.add_paragraph("Определения: „здравни данни“ означава …")
    word.add_heading("Chapter II — Follow-up", 1)
    word.add_paragraph("The clusters follow up in Lisboa and São Paulo.")
    word.add_heading("Article 3 — Reporting", 2)
    word.add_paragraph("Reports are published every year.")
    word.add_heading("Background notes", 2)
    word.add_paragraph("An ordinary deeper heading stays in its article.")


CHAPTERS = [("section", None, "1", "General provisions"),
            ("article", "Scope", "1.1", "This applies to the clusters of Győr and Umeå."),
            ("article", None, "1.2", "Определения: „здравни данни“ означава …"),
            ("section", "Follow-up", "2", "The clusters follow up in Lisboa and São Paulo."),
            ("article", "Reporting", "2.1", "Reports are published every year.\n\nBackground notes\n\n"
                                            "An ordinary deeper heading stays in its article.")]


@pytest.mark.parametrize(("name", "content"), [
    ("chapters.docx", docx_bytes(chapters_word)),
    ("chapters.md", ("# Joint Declaration on Health Data\n\n## Chapter I — General provisions\n\n"
                     "### Article 1 — Scope\n\nThis applies to the clusters of Győr and Umeå.\n\n### Article 2\n\n"
                     "Определения: „здравни данни“ означава …\n\n## Chapter II — Follow-up\n\n"
                     "The clusters follow up in Lisboa and São Paulo.\n\n### Article 3 — Reporting\n\n"
                     "Reports are published every year.\n\n### Background notes\n\n"
                     "An ordinary deeper heading stays in its article.\n").encode()),
])
def test_articles_under_chapter_headings_are_clauses_numbered_within_their_sections(api, name, content):
    # A Markdown heading that stays in the text keeps its markup; a Word one becomes a paragraph.
    expected = [(*clause[:3], clause[3].replace("Background", "### Background" if name.endswith(".md") else "Background"))
                for clause in CHAPTERS]
    preview = upload(api, name, content, preview="true").get_json()
    assert [(c["kind"], c["heading"], c["label"], c["text"]) for c in preview["clauses"]] == expected
    created = upload(api, name, content)
    assert created.status_code == 201, created.get_json()
    assert [(c["kind"], c["heading"], c["label"], c["text"]) for c in created.get_json()["clauses"]] == expected


def test_word_numbering_is_read_from_the_numbering_part():
    """A bullet is no number, numbering switched off (numId 0) is none, a lettered list nests."""
    def build(word):
        add_lists(word)
        word.add_heading("Scope", 1)
        numbered(word.add_paragraph("A bullet, not a number."), BULLET_LIST)
        numbered(word.add_paragraph("Another bullet."), BULLET_LIST)
        numbered(word.add_paragraph("Numbering switched off."), 0)
        word.add_paragraph("Not numbered either.", style="List Bullet")
        word.add_heading("Steps", 1)
        numbered(word.add_paragraph("one"), DECIMAL_LIST)
        numbered(word.add_paragraph("sub"), DECIMAL_LIST, level=1)
        numbered(word.add_paragraph("two"), DECIMAL_LIST)

    text = parse_docx(docx_bytes(build), max_paragraphs=LIMIT)
    assert [(c.heading, c.text) for c in text.clauses] == [
        ("Scope", "A bullet, not a number.\n\nAnother bullet.\n\nNumbering switched off.\n\nNot numbered either."),
        ("Steps", "one\n\n(a) sub"), (None, "two")]


def test_a_single_row_or_column_table_stays_lines_and_a_damaged_footnote_part_is_refused():
    def build(word):
        word.add_paragraph("Tables", style="Title")
        word.add_heading("Scope", 1)
        table(word, [["Funding", "EU4Health | 2027"]])
        table(word, [["Győr"], ["Umeå"]])
        word.add_paragraph("Text[^1] typed by hand stays as typed.")

    text = parse_docx(docx_bytes(build), max_paragraphs=LIMIT)
    assert [c.text for c in text.clauses] == [
        "Funding | EU4Health | 2027\n\nGyőr\nUmeå\n\nText[^1] typed by hand stays as typed."]

    def damaged(word):
        word.add_paragraph("Text")
        part = Part(PackURI("/word/footnotes.xml"), CONTENT_TYPE.WML_FOOTNOTES, b"<w:footnotes", word.part.package)
        word.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)

    with pytest.raises(ImportFailure, match="damaged"):
        parse_docx(docx_bytes(damaged), max_paragraphs=LIMIT)


def test_word_templates_are_refused_with_a_message(api):
    content = zipfile.ZipFile(io.BytesIO(docx_bytes(lambda word: word.add_paragraph("Text"))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as template:
        for name in content.namelist():
            data = content.read(name)
            if name == "[Content_Types].xml":
                data = data.replace(b"wordprocessingml.document.main+xml", b"wordprocessingml.template.main+xml")
            template.writestr(name, data)
    answer = upload(api, "template.docx", out.getvalue())
    assert answer.status_code == 415 and "template or a document with macros" in answer.get_json()["error"]["message"]


# ---- Markdown -----------------------------------------------------------------------------------

def test_markdown_through_commonmark_with_tables_footnotes_and_kinds(api):
    content = STRUCTURED_MARKDOWN.encode()
    preview = upload(api, "declaration.md", content, preview="true")
    assert preview.status_code == 200, preview.get_json()
    data = preview.get_json()
    assert data["title"] == "Joint Declaration on Health Data — Съвместна декларация" and data["format"] == "markdown"
    assert [(c["heading"], c["text"]) for c in data["clauses"]] == [(h, t) for h, t, _ in MARKDOWN_CLAUSES]
    created = upload(api, "declaration.md", content)
    assert created.status_code == 201, created.get_json()
    assert clauses_of(created) == MARKDOWN_CLAUSES


def markdown(source: str):
    return parse_markdown(source, max_paragraphs=LIMIT)


def test_markdown_is_read_as_commonmark():
    text = markdown("Declaration\n===========\n\nSetext *title* above; a hard  \nbreak, an escaped \\*star\\*, "
                    "&amp; an entity, <http://x.eu> and ![a map](map.png).\n\n> Quoted\n> text.\n\n"
                    "```\ncode # stays\n```\n\n---\n\n<!-- a comment is no text -->\n\n* star item\n+ plus item\n")
    assert text.title == "Declaration"
    assert [c.text for c in text.clauses] == [
        "Setext title above; a hard\nbreak, an escaped *star*, & an entity, http://x.eu and a map.",
        "Quoted\ntext.", "code # stays", "- star item", "- plus item"]
    # Ordered lists keep their numbers as lines where they do not split; loose lists keep blank lines.
    kept = markdown("## Article 3\n\n3) third;\n\n4) fourth:\n   1. nested\n")
    assert [(c.heading, c.text, c.kind) for c in kept.clauses] == [
        (None, "3) third;\n\n4) fourth:\n\n   1. nested", "article")]
    # An ordered list of one item does not split its section; an unreferenced definition stays text.
    single = markdown("## Scope\n\n1. Only one.\n\n[^x]: Never referred to.\n\n[link]: https://x.eu\n")
    assert [c.text for c in single.clauses] == ["1. Only one.\n\n[^x]: Never referred to.\n\n[link]: https://x.eu"]


def test_markdown_files_over_the_parsers_limits_are_refused():
    with pytest.raises(ImportFailure, match="markup characters") as refused:
        markdown("[" * (LIMIT * 10 + 1))
    assert refused.value.status == 413
    with pytest.raises(ImportFailure, match="paragraphs and headings"):
        markdown("- item\n" * (LIMIT + 1))
    deep = "".join("  " * depth + "- level\n" for depth in range(12))
    with pytest.raises(ImportFailure, match="too deeply") as refused:
        markdown(deep)
    assert refused.value.status == 422
    # Emphasis nested thousands deep is read flat, without recursion.
    assert markdown("*" * 5000 + "deep" + "*" * 5000).clauses[0].text == "deep"


# ---- round trips ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "content"), [
    ("declaration.md", STRUCTURED_MARKDOWN.encode()),
    ("declaration.docx", docx_bytes(structured_word)),
])
def test_imported_structure_exports_and_imports_back_exactly(api, name, content):
    created = upload(api, name, content)
    assert created.status_code == 201, created.get_json()
    original = api.as_("editor").get(f"/documents/{created.get_json()['id']}").get_json()
    markdown_export = api.as_("editor").get(f"/documents/{original['id']}/export?format=md").data
    copy_md = upload(api, "again.md", markdown_export).get_json()
    assert [(c["heading"], c["text"], c["kind"]) for c in copy_md["clauses"]] == \
        [(c["heading"], c["text"], c["kind"]) for c in original["clauses"]]
    assert copy_md["content_hash"] == original["content_hash"]
    word_export = api.as_("editor").get(f"/documents/{original['id']}/export?format=docx").data
    again = upload(api, "again.docx", word_export, preview="true").get_json()
    assert again["title"] == original["title"]
    assert [(c["heading"], c["text"], c["kind"]) for c in again["clauses"]] == \
        [(c["heading"], c["text"], c["kind"]) for c in original["clauses"]]


def test_a_word_file_with_many_footnotes_stays_within_the_limits():
    def build(word):
        notes = Footnotes(word)
        for number in range(300):
            word.add_heading(f"Clause {number}", 1)
            paragraph = word.add_paragraph(f"Text {number}")
            notes.add(paragraph, f"Note {number}.")
            notes.add(paragraph, f"Second note {number}.")
        notes.save()

    text = parse_docx(docx_bytes(build), max_paragraphs=LIMIT)
    assert len(text.clauses) == 300
    assert text.clauses[299] == ImportedClause("Clause 299", "Text 299[^1][^2]\n\n[^1]: Note 299.\n"
                                                             "[^2]: Second note 299.")
