"""Word (.docx) in and out: written with python-docx, read with lxml within the import's limits.

The export: the title in the Title style, a Subtitle line (kind and phase), each clause as a
Heading 1 "N. Heading" followed by its paragraphs (blank-line separated blocks of the clause text;
single line breaks stay line breaks), then, on a new page, the record of the export in the
"Drafting Record" style (phase, content hash and, once adopted, the signatories). The import reads
the body in order and stops at that record; it follows the splitting rules of `outline.py`, with
Word's automatic numbering counting as numbering. An exported file (marked in its properties)
imports back to the same clauses, empty paragraphs included. A file over the import's limits
(paragraphs, XML elements, expanded size of each part read) is refused before its text is parsed.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.shared import Pt
from lxml import etree

from .clauses import MAX_CLAUSE_CHARS
from .outline import (
    ExportedText,
    ImportedClause,
    ImportedText,
    ImportFailure,
    Paragraph,
    choose_title,
    finish,
    heading_text,
    split_numbered,
)

RECORD_STYLE = "Drafting Record"
EXPORT_KEYWORD = "drafting-export"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HEADING = re.compile(r"^heading ([1-9])$", re.IGNORECASE)
_LIST_NUMBER = re.compile(r"^list number(?: ([2-9]))?$", re.IGNORECASE)


def xml_safe(text: str) -> str:
    """Return text a .docx can store: control characters are shown as U+FFFD instead."""
    return _NOT_XML.sub("\ufffd", text)


def written_utc(moment) -> str:
    """Write a stored UTC time as the exports show it."""
    return moment.strftime("%d %b %Y, %H:%M UTC")


def new_document(title: str, subject: str, subtitle: str, keywords: str, comments: str) -> WordDocument:
    """Start a .docx: its properties (marked as made by drafting), the title and a Subtitle line."""
    doc = Document()
    properties = doc.core_properties
    # Word's core properties hold at most 255 characters; the document itself has the whole title.
    safe_title = xml_safe(title)
    properties.title = safe_title if len(safe_title) <= 255 else safe_title[:254] + "…"
    properties.subject = subject
    properties.keywords = keywords
    properties.comments = comments
    properties.author = "drafting"
    doc.add_heading(safe_title, level=0)
    doc.add_paragraph(xml_safe(subtitle), style="Subtitle")
    return doc


def add_record_heading(doc: WordDocument, heading: str) -> None:
    """Start the record of the export on a new page, in the style the import stops at."""
    style = doc.styles.add_style(RECORD_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Heading 1"]
    record = doc.add_paragraph(heading, style=RECORD_STYLE)
    record.paragraph_format.page_break_before = True


def docx_bytes(doc: WordDocument) -> bytes:
    """Return the .docx file's bytes."""
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def to_docx(text: ExportedText) -> bytes:
    """Write the document as a .docx file: numbered headed clauses, then the record of the export."""
    status = "adopted" if text.adopted else f"draft, {text.phase_label.lower()} phase"
    doc = new_document(text.title, text.kind_label, f"{text.kind_label} · {status}", EXPORT_KEYWORD,
                       f"Content hash (SHA-256): {text.content_hash}")
    for number, heading, body in text.clauses:
        doc.add_heading(xml_safe(f"{number}." + (f" {heading}" if heading else "")), level=1)
        for block in body.split("\n\n"):
            doc.add_paragraph(xml_safe(block))

    add_record_heading(doc, "Adoption record" if text.adopted else "Record of this export")
    if text.adopted:
        when = f" on {written_utc(text.adopted_at)}" if text.adopted_at else ""
        doc.add_paragraph(f"This {text.kind_label} was adopted{when}: every participating organisation "
                          "approved the exact text identified by the content hash below.")
    else:
        line = f"Draft, not adopted. Phase: {text.phase_label}"
        doc.add_paragraph(line + (f" (deadline {written_utc(text.deadline)})." if text.deadline else "."))
    hash_paragraph = doc.add_paragraph("Content hash (SHA-256 of the title and the numbered clauses): ")
    run = hash_paragraph.add_run(text.content_hash)
    run.font.name = "Courier New"
    run.font.size = Pt(9)
    if text.adopted:
        table = doc.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, label in zip(table.rows[0].cells, ("Organisation", "Country", "Signed by", "Signed at"),
                               strict=True):
            cell.text = label
            cell.paragraphs[0].runs[0].bold = True
        for signature in text.signatures:
            row = table.add_row().cells
            for cell, value in zip(row, (signature.organisation, signature.country, signature.name,
                                         written_utc(signature.signed_at)), strict=True):
                cell.text = xml_safe(value)
    doc.add_paragraph(f"Exported from drafting on {written_utc(text.exported_at)}.")
    footer = doc.sections[0].footer.paragraphs[0]
    footer.text = xml_safe(f"{text.title} · {status} · content hash {text.content_hash[:16]}…")
    return docx_bytes(doc)


# ---- import ---------------------------------------------------------------------------------
#
# The import reads the three parts it needs itself, with lxml, instead of opening the file with
# python-docx, which parses every part it knows (headers, numbering, themes ...), scans styles.xml
# again for each paragraph's style (1.4 ms a paragraph) and follows merged table cells recursively.
# Sizes and counts are checked before the text is parsed, so an oversized file of any shape is
# refused within a second, and the work on an accepted one is bounded by the same limits.

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CP = "{http://schemas.openxmlformats.org/package/2006/metadata/core-properties}"
_NAMESPACES = {"w": _W[1:-1]}
DOCUMENT_PART, STYLES_PART, CORE_PART = "word/document.xml", "word/styles.xml", "docProps/core.xml"
# A paragraph of a real Word file, generously: its markup (revision ids, paragraph and run properties)
# and 300 characters of text at 2 bytes each (Cyrillic, Greek: at 20,000 paragraphs, the 5 M
# characters an import may carry); its XML elements; the pieces of text the import walks (runs split
# by formatting and revisions, tabs, line breaks). A file at the paragraph limit may have that limit
# times these, no more. Every table cell holds a paragraph (Word requires one), so there are at most
# twice as many table rows and cells as paragraphs.
PARAGRAPH_XML_BYTES = 1024 + 600
PARAGRAPH_XML_ELEMENTS = 50
PARAGRAPH_PIECES = 20
PARAGRAPH_TABLE_CELLS = 2
MAX_PART_XML = 2 * 1024 * 1024  # styles or properties: Word writes ~50 KB, python-docx's template 350 KB
# The rest of the package (themes, numbering, images stored as they are) of a file of at most 5 MB.
# It is never read; a file that would expand far beyond this is no document to import.
OTHER_PARTS_BYTES = 16 * 1024 * 1024
MAX_TABLE_COLUMNS = 63  # Word's own limit: no row has more grid columns
MAX_PARTS = 2000  # a Word file has a few dozen parts, and one for each image
_PIECES = ("w:t", "w:tab", "w:br", "w:cr", "w:ptab", "w:noBreakHyphen")
_ANY_PIECE = " or ".join(f"self::{piece}" for piece in _PIECES)
_RUN_CONTENT = etree.XPath(f"(w:r | w:hyperlink/w:r)/*[{_ANY_PIECE}]", namespaces=_NAMESPACES)
_COUNT_PARAGRAPHS = etree.XPath("count(//w:p)", namespaces=_NAMESPACES)
# Every w:t, w:tab ... wherever it is (tab stops too): six plain counts are three times faster than one
# that checks each is in a run.
_COUNT_PIECES = etree.XPath(" + ".join(f"count(//{piece})" for piece in _PIECES), namespaces=_NAMESPACES)
_COUNT_TABLE_CELLS = etree.XPath("count(//w:tr) + count(//w:tc)", namespaces=_NAMESPACES)
_T, _BR, _BR_TYPE, _VAL = f"{_W}t", f"{_W}br", f"{_W}type", f"{_W}val"
_P, _TABLE, _ROW, _CELL = f"{_W}p", f"{_W}tbl", f"{_W}tr", f"{_W}tc"
_CHARACTERS = {f"{_W}tab": "\t", f"{_W}ptab": "\t", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
# Built-in styles whose name in styles.xml differs from the one Word shows (python-docx's BabelFish).
_UI_NAMES = {"caption": "Caption", "footer": "Footer", "header": "Header",
             **{f"heading {level}": f"Heading {level}" for level in range(1, 10)}}
_OLD_WORD = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, RuntimeError,
               NotImplementedError, zlib.error)  # damaged, encrypted or oddly compressed members
_DAMAGED = "This Word document (.docx) is damaged: its text could not be read."


@dataclass(frozen=True)
class WordLimits:
    """How much of a .docx file the import reads, all following from the paragraph limit."""

    paragraphs: int
    text_bytes: int  # word/document.xml, expanded
    elements: int  # its XML elements, counted in its bytes before it is parsed
    pieces: int  # what the import walks: text, tabs and breaks of runs
    table_cells: int  # table rows and cells
    package_bytes: int  # the whole file, expanded

    @classmethod
    def of(cls, max_paragraphs: int) -> WordLimits:
        """Return the limits for files of up to `max_paragraphs` paragraphs."""
        text_bytes = max_paragraphs * PARAGRAPH_XML_BYTES
        return cls(max_paragraphs, text_bytes, max_paragraphs * PARAGRAPH_XML_ELEMENTS,
                   max_paragraphs * PARAGRAPH_PIECES, max_paragraphs * PARAGRAPH_TABLE_CELLS,
                   text_bytes + OTHER_PARTS_BYTES)


@dataclass(frozen=True)
class WordFile:
    """What the import reads from a .docx: the body, the paragraph styles' names and the keywords."""

    body: etree._Element
    style_names: dict[str, str]  # paragraph style id -> the name Word shows
    default_style: str
    keywords: str


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _refuse_above(found: int, limit: int, what: str) -> None:
    if found > limit:
        raise ImportFailure(413, f"This Word document has {found:,} {what}; documents with up to {limit:,} "
                                 "can be imported.")


def _read_part(archive: zipfile.ZipFile, name: str, limit: int, what: str) -> bytes | None:
    """Read one part, refusing it before it is decompressed when it would expand beyond `limit`."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        raise ImportFailure(413, f"This Word document's {what} expands to {_megabytes(info.file_size)}; "
                                 f"up to {_megabytes(limit)} can be imported.")
    try:
        with archive.open(info) as stream:
            # zipfile stops at the declared size and then checks the CRC: a header that lies fails here.
            return stream.read(limit + 1)
    except _ZIP_ERRORS:
        raise ImportFailure(422, _DAMAGED) from None


def _parse(xml: bytes) -> etree._Element:
    # python-docx's parser options, so whitespace reads as it did; no entity is expanded, and lxml
    # itself refuses nesting deeper than 256 and text nodes over 10 MB. Word never writes a DTD: one
    # is refused rather than left to the parser's defences against entity expansion.
    if xml.find(b"<!DOCTYPE") >= 0:
        raise ImportFailure(422, _DAMAGED)
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
    try:
        return etree.fromstring(xml, parser)
    except (etree.LxmlError, ValueError):
        raise ImportFailure(422, _DAMAGED) from None


def _int(element: etree._Element | None, default: int) -> int:
    """Return the w:val of a property element as a number; `default` when absent or not a number."""
    if element is None:
        return default
    try:
        return int(element.get(_VAL, default))
    except ValueError:
        return default


def _style_names(styles: bytes | None) -> tuple[dict[str, str], str]:
    """Map paragraph style ids to their names once, and name the default paragraph style, as python-docx does."""
    if styles is None:
        return {}, "Normal"  # python-docx's stand-in styles part has one paragraph style
    first: dict[str, tuple[str | None, str]] = {}
    default = ""
    for style in _parse(styles).iterchildren(f"{_W}style"):
        name_element = style.find(f"{_W}name")
        name = name_element.get(_VAL) or "" if name_element is not None else ""
        name = _UI_NAMES.get(name, name)
        kind = style.get(f"{_W}type")
        if (style_id := style.get(f"{_W}styleId")) is not None:
            first.setdefault(style_id, (kind, name))  # the first style with an id is the one used
        if kind == "paragraph" and style.get(f"{_W}default") in ("1", "true", "on"):
            default = name  # the last default paragraph style is the one used
    return {style_id: name for style_id, (kind, name) in first.items() if kind == "paragraph"}, default


def open_docx(data: bytes, *, max_paragraphs: int) -> WordFile:
    """Open a .docx file within the import's limits, or raise ImportFailure with a message a person understands."""
    if data[:8] == _OLD_WORD:
        raise ImportFailure(415, "This is an old Word 97-2003 (.doc) file. Open it in Word or LibreOffice, "
                                 "save it as a Word document (.docx) and import that.")
    limits = WordLimits.of(max_paragraphs)
    # Each part has an entry in the zip's directory; reading 50,000 of them would take a second.
    if (parts := data.count(b"PK\x01\x02")) > MAX_PARTS:
        raise ImportFailure(413, f"This Word document has {parts:,} parts; documents with up to {MAX_PARTS:,} "
                                 "can be imported.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except _ZIP_ERRORS:
        raise ImportFailure(422, "This file is not a valid Word document (.docx): it could not be opened "
                                 "as one. It may be damaged or of another type.") from None
    if DOCUMENT_PART not in {member.filename for member in members}:
        raise ImportFailure(422, "This file is not a Word document (.docx): it has no document text inside.")
    if (expanded := sum(member.file_size for member in members)) > limits.package_bytes:
        raise ImportFailure(413, f"This Word document expands to {_megabytes(expanded)}; documents expanding "
                                 f"to up to {_megabytes(limits.package_bytes)} can be imported.")
    text = _read_part(archive, DOCUMENT_PART, limits.text_bytes, "text part")
    # Counted in the bytes before they are parsed: every element starts with "<" but not "</" (the
    # few "<?" and "<!" count too). Then the paragraphs and the pieces the import will walk, in C.
    _refuse_above(text.count(b"<") - text.count(b"</"), limits.elements, "XML elements in its text (paragraphs, "
                  "runs, formatting)")
    root = _parse(text)
    _refuse_above(int(_COUNT_PARAGRAPHS(root)), limits.paragraphs, "paragraphs")
    _refuse_above(int(_COUNT_PIECES(root)), limits.pieces, "pieces of text (runs, tabs, line breaks)")
    _refuse_above(int(_COUNT_TABLE_CELLS(root)), limits.table_cells, "table rows and cells")
    body = root.find(f"{_W}body") if root.tag == f"{_W}document" else None
    if body is None:
        raise ImportFailure(422, _DAMAGED)
    style_names, default_style = _style_names(_read_part(archive, STYLES_PART, MAX_PART_XML, "styles part"))
    core = _read_part(archive, CORE_PART, MAX_PART_XML, "properties part")
    keywords = (_parse(core).findtext(f"{_CP}keywords") or "") if core is not None else ""
    return WordFile(body, style_names, default_style, keywords)


def _paragraph_text(paragraph: etree._Element) -> str:
    """Return a paragraph's text as python-docx reads it: its runs and hyperlinks, with tabs and line breaks."""
    parts = []
    for node in _RUN_CONTENT(paragraph):
        tag = node.tag
        if tag == _T:
            parts.append(node.text or "")
        elif tag == _BR:  # page and column breaks are no text
            parts.append("\n" if node.get(_BR_TYPE, "textWrapping") == "textWrapping" else "")
        else:
            parts.append(_CHARACTERS[tag])
    return "".join(parts)


def _table_text(table: etree._Element) -> str:
    """Return a table as lines of text, one per row, cells separated by |; a merged cell repeats its text."""
    lines, length = [], 0
    above: dict[int, tuple[str, int]] = {}  # grid column -> (text, span) of the previous row's cell there
    for row in table.iterchildren(_ROW):
        cells: list[tuple[str, int]] = []
        here: dict[int, tuple[str, int]] = {}
        column = _int(row.find(f"{_W}trPr/{_W}gridBefore"), 0)
        for cell in row.iterchildren(_CELL):
            if not 0 <= column < MAX_TABLE_COLUMNS:
                break
            properties = cell.find(f"{_W}tcPr")
            span = min(max(_int(properties.find(f"{_W}gridSpan"), 1), 1), MAX_TABLE_COLUMNS) \
                if properties is not None else 1
            merge = properties.find(f"{_W}vMerge") if properties is not None else None
            if merge is not None and merge.get(_VAL, "continue") == "continue" and column in above:
                here[column] = above[column]  # continues the cell above: python-docx repeats its text
            else:
                here[column] = ("\n".join(_paragraph_text(p) for p in cell.iterchildren(_P)).strip(), span)
            cells.append(here[column])
            column += span
        above = here
        if not any(text for text, _ in cells):
            continue  # a row of empty cells is left out; building it could cost 63 cells a row
        line = " | ".join(" | ".join([text] * width) for text, width in cells)
        if line.strip(" |"):
            lines.append(line)
            length += len(line) + 1
        if length > MAX_CLAUSE_CHARS:
            raise ImportFailure(413, f"A table in this Word document holds more than {MAX_CLAUSE_CHARS:,} "
                                     f"characters; a clause holds up to {MAX_CLAUSE_CHARS:,}. Shorten it in "
                                     "the file and import it again.")
    return "\n".join(lines)


def _blocks(word: WordFile):
    """Yield (kind, style name, text, numbering level) for the body's paragraphs and tables, in order."""
    for element in word.body.iterchildren(_P, _TABLE):
        if element.tag == _TABLE:
            yield "table", "", _table_text(element), None
            continue
        properties = element.find(f"{_W}pPr")
        style_id = properties.find(f"{_W}pStyle") if properties is not None else None
        style_id = style_id.get(_VAL) if style_id is not None else None
        style = word.style_names.get(style_id, word.default_style) if style_id else word.default_style
        numbering = properties.find(f"{_W}numPr") if properties is not None else None
        level = None
        if numbering is not None:
            level = _int(numbering.find(f"{_W}ilvl"), 0)
        elif match := _LIST_NUMBER.match(style):
            level = int(match.group(1)) - 1 if match.group(1) else 0
        yield "p", style, _paragraph_text(element), level


def parse_docx(data: bytes, *, max_paragraphs: int) -> ImportedText:
    """Split a .docx file into a title and clauses (see `outline.py`); refuse one over `max_paragraphs`."""
    word = open_docx(data, max_paragraphs=max_paragraphs)
    exported = EXPORT_KEYWORD in word.keywords
    title = None
    body: list[tuple[str, str, int | None, int | None]] = []  # (kind, text, heading level, numbering level)
    notes: list[str] = []
    for kind, style, text, level in _blocks(word):
        if style == RECORD_STYLE:
            break
        if style == "Title":
            title = title or text.strip() or None
            continue
        if style == "Subtitle":
            continue
        if kind == "table":
            if text:
                notes.append("A table was imported as lines of text, one per row, cells separated by |.")
                body.append(("p", text, None, None))
            continue
        heading = _HEADING.match(style)
        body.append(("h" if heading else "p", text, int(heading.group(1)) if heading else None, level))
    if not exported:
        body = [b for b in body if b[1].strip()]  # empty paragraphs are spacing in ordinary files
    headings = [i for i, b in enumerate(body) if b[0] == "h"]
    h1_count = sum(1 for i in headings if body[i][2] == 1)
    if title is None and headings and choose_title(headings[0] == 0 and body[0][2] == 1, h1_count):
        title = body[0][1].strip() or None
        body = body[1:]
        headings = [i - 1 for i in headings[1:]]
    if not headings:
        clauses, rule = split_numbered([Paragraph(text, level) for _, text, _, level in body])
        notes.append(rule)
        return finish(title, clauses, notes)
    level = min(body[i][2] for i in headings)
    starts = [i for i in headings if body[i][2] == level]
    clauses = []
    preamble = [b[1] for b in body[:starts[0]] if b[1].strip()]
    if preamble:
        clauses.append(ImportedClause(None, "\n\n".join(preamble)))
        notes.append("The text before the first heading became a first clause without a heading.")
    for start, end in zip(starts, [*starts[1:], len(body)], strict=True):
        texts = [b[1] for b in body[start + 1:end]]
        clauses.append(ImportedClause(heading_text(body[start][1]), "\n\n".join(texts)))
    if exported:
        notes.append("This file was exported from drafting: its clauses import exactly as they were.")
    elif level > 1 or title is None:
        notes.append(f"Clauses were split at the Heading {level} paragraphs.")
    return finish(title, clauses, notes)
