"""Word (.docx) in and out with python-docx, within the import's limits.

The export: the title in the Title style, a Subtitle line (kind and phase), each clause as a
Heading 1 "Kind label. Heading" ("Article 2.1. Scope", "Recital B.") followed by its paragraphs (blank-line separated blocks of the clause text;
single line breaks stay line breaks), then, on a new page, the record of the export in the
"Drafting Record" style (phase, content hash and, once adopted, the signatories). The import reads
the body in order and stops at that record. An exported file (marked in its properties) imports
back to the same clauses, empty paragraphs included. Any other file follows the splitting rules of
`outline.py`: Word's list numbering (the paragraph's or its style's, with the number format from
the numbering part: bullets are not numbers) counts as numbering, tables become Markdown pipe
tables and footnotes and endnotes "[^1]" references with their text at the end of the clause. A
file over the import's limits (paragraphs, XML elements, expanded size of its parts) is refused
before its text is parsed.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_decimal
from docx import Document
from docx.document import Document as WordDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.exceptions import PythonDocxError
from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
from docx.opc.exceptions import OpcError
from docx.package import Package
from docx.shared import Pt
from docx.styles.style import StyleFactory
from flask_babel import gettext as _
from flask_babel import ngettext
from lxml import etree

from .. import i18n
from ..i18n import N_, _l
from .clauses import MAX_CLAUSE_CHARS
from .numbering import labels as kind_labels
from .numbering import title as kind_title
from .outline import (
    Block,
    ExportedText,
    ImportedClause,
    ImportedText,
    ImportFailure,
    choose_title,
    exported_heading,
    finish,
    footnote_mark,
    split,
    without_footnotes,
)

RECORD_STYLE = "Drafting Record"
ACTION_COLUMNS = ("Action", "Title", "Responsible", "Start", "End", "Funding", "Indicators")
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
    if text.notice:  # the export of a translation says so first
        doc.add_paragraph(xml_safe(text.notice), style="Intense Quote")
    kinds = text.kinds or [(str(number), "", None) for number, _, _ in text.clauses]
    for index, ((number, heading, body), (label, kind, _action)) in enumerate(zip(text.clauses, kinds, strict=True)):
        # "Article 2.1", "Recital B"; a translation's in its language
        shown = text.names[index] if text.names else kind_title(kind, label) if kind else str(number)
        doc.add_heading(xml_safe(f"{shown}." + (f" {heading}" if heading else "")), level=1)
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
    actions = [(label, heading, action or {}) for (_n, heading, _b), (label, kind, action)
               in zip(text.clauses, text.kinds, strict=True) if kind == "action"] if text.kinds else []
    if actions:  # a plan's actions at a glance, in the record (the import stops before it)
        doc.add_paragraph("Table of actions", style="Heading 2")
        table = doc.add_table(rows=1, cols=7)
        table.style = "Table Grid"
        for cell, label in zip(table.rows[0].cells, ACTION_COLUMNS, strict=True):
            cell.text = label
            cell.paragraphs[0].runs[0].bold = True
        for label, heading, action in actions:
            row = table.add_row().cells
            # A list's entries one per line (an entry may hold "; "): the import reads them back.
            values = (label, heading or "", "\n".join(action.get("responsible") or []), action.get("start") or "",
                      action.get("end") or "", "\n".join(action.get("funding") or []),
                      "\n".join(action.get("indicators") or []))
            for cell, value in zip(row, values, strict=True):
                cell.text = xml_safe(value)
    doc.add_paragraph(f"Exported from drafting on {written_utc(text.exported_at)}.")
    footer = doc.sections[0].footer.paragraphs[0]
    footer.text = xml_safe(f"{text.title} · {status} · content hash {text.content_hash[:16]}…")
    return docx_bytes(doc)


# ---- import ---------------------------------------------------------------------------------
#
# python-docx opens the file: the package, its relationships (which part is the text, its styles,
# numbering and notes), the styles with their names as Word shows them, the properties and the
# body's paragraphs and tables with their style and numbering properties. lxml reads what
# python-docx has no API for: the numbering part's formats (a bullet is no number), footnotes and
# endnotes, and a paragraph's runs with its note references in place. Two of python-docx's reading
# APIs are not used, because of their cost: `Paragraph.style` looks the style up in styles.xml
# again for each paragraph (1.4 ms a paragraph: a minute for 50,000 one-letter paragraphs), so the
# styles are mapped once; and a table's cells follow merged cells recursively (3,000 merged rows
# ended in a RecursionError), so tables are walked here, row by row.
#
# python-docx parses every XML part it knows when it opens a file (styles, numbering, settings,
# headers ...). Before it does, the sizes in the zip's directory are checked, then the elements of
# the text part and of every other XML part are counted in their bytes, and a DTD anywhere is
# refused; after it, the paragraphs, the pieces of text the import walks and the table cells are
# counted. So an oversized or hostile file of any shape is refused within a second, and the work on
# an accepted one is bounded by the same limits.

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_NAMESPACES = {"w": _W[1:-1]}
DOCUMENT_PART, STYLES_PART, CORE_PART = "word/document.xml", "word/styles.xml", "docProps/core.xml"
# A paragraph of a real Word file, generously: its markup (revision ids, paragraph and run properties)
# and 300 characters of text at 2 bytes each (Cyrillic, Greek: at 20,000 paragraphs, the 5 M
# characters an import may carry); its XML elements; the pieces of text the import walks (runs split
# by formatting and revisions, tabs, line breaks, note references). A file at the paragraph limit may
# have that limit times these, no more. Every table cell holds a paragraph (Word requires one), so
# there are at most twice as many table rows and cells as paragraphs.
PARAGRAPH_XML_BYTES = 1024 + 600
PARAGRAPH_XML_ELEMENTS = 50
PARAGRAPH_PIECES = 20
PARAGRAPH_TABLE_CELLS = 2
MAX_PART_XML = 2 * 1024 * 1024  # styles or properties: Word writes ~50 KB, python-docx's template 350 KB
# The rest of the package (themes, numbering, notes, images stored as they are) of a file of at most
# 5 MB; a file that would expand far beyond this is no document to import.
OTHER_PARTS_BYTES = 16 * 1024 * 1024
MAX_TABLE_COLUMNS = 63  # Word's own limit: no row has more grid columns
MAX_PARTS = 2000  # a Word file has a few dozen parts, and one for each image
MAX_STYLE_DEPTH = 20  # styles based on styles: Word itself stops far earlier; a loop ends here
_PIECES = ("w:t", "w:tab", "w:br", "w:cr", "w:ptab", "w:noBreakHyphen", "w:footnoteReference", "w:endnoteReference")
_ANY_PIECE = " or ".join(f"self::{piece}" for piece in _PIECES)
# A paragraph's runs as Word shows them with every tracked change accepted: inserted and moved-in
# runs count, deleted ones (w:del, their text in w:delText) do not.
_RUN_CONTENT = etree.XPath(f"(w:r | w:hyperlink/w:r | w:ins/w:r | w:ins/w:hyperlink/w:r | w:moveTo/w:r)/*[{_ANY_PIECE}]",
                           namespaces=_NAMESPACES)
_COUNT_TRACKED = etree.XPath("count(w:body//w:ins[w:r] | w:body//w:del[w:r] | w:body//w:pPr/w:rPr/w:ins"
                             " | w:body//w:pPr/w:rPr/w:del)", namespaces=_NAMESPACES)
_DELETED_MARK = f"{_W}pPr/{_W}rPr/{_W}del"
_COUNT_PARAGRAPHS = etree.XPath("count(//w:p)", namespaces=_NAMESPACES)
# Every w:t, w:tab ... wherever it is (tab stops too): plain counts are three times faster than one
# that checks each is in a run.
_COUNT_PIECES = etree.XPath(" + ".join(f"count(//{piece})" for piece in _PIECES), namespaces=_NAMESPACES)
_COUNT_TABLE_CELLS = etree.XPath("count(//w:tr) + count(//w:tc)", namespaces=_NAMESPACES)
_T, _BR, _TYPE, _VAL, _ID = f"{_W}t", f"{_W}br", f"{_W}type", f"{_W}val", f"{_W}id"
_P, _TABLE, _ROW, _CELL = f"{_W}p", f"{_W}tbl", f"{_W}tr", f"{_W}tc"
_CHARACTERS = {f"{_W}tab": "\t", f"{_W}ptab": "\t", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
_NOTE_REFERENCES = {f"{_W}footnoteReference": "footnote", f"{_W}endnoteReference": "endnote"}
_NOTE_PARTS = {"footnote": RELATIONSHIP_TYPE.FOOTNOTES, "endnote": RELATIONSHIP_TYPE.ENDNOTES}
_SEPARATOR_NOTES = ("separator", "continuationSeparator", "continuationNotice")
_NOT_NUMBERS = ("bullet", "none")  # list formats that show no number
_LETTERS = ("lowerLetter", "upperLetter")
_OLD_WORD = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, RuntimeError,
               NotImplementedError, zlib.error)  # damaged, encrypted or oddly compressed members
# What python-docx raises on a damaged package: a missing part or relationship (KeyError, its
# OpcError), values it does not know, XML it cannot parse, or members the zip cannot give.
_PACKAGE_ERRORS = (OpcError, PythonDocxError, KeyError, IndexError, AttributeError, TypeError, etree.LxmlError, *_ZIP_ERRORS)
_DAMAGED = _l("This Word document (.docx) is damaged: its text could not be read.")


@dataclass(frozen=True)
class WordLimits:
    """How much of a .docx file the import reads, all following from the paragraph limit."""

    paragraphs: int
    text_bytes: int  # word/document.xml, expanded
    elements: int  # its XML elements, counted in its bytes before it is parsed (and as many in the other parts)
    pieces: int  # what the import walks: text, tabs, breaks and note references of runs
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
class ParagraphStyle:
    """A paragraph style as the import needs it: the name Word shows, its base style and its list numbering."""

    name: str
    based_on: str | None
    numbering: tuple[int | None, int | None] | None  # (list id, level) of its w:numPr; None without one


class ListFormats:
    """The number format ("decimal", "lowerLetter", "bullet" …) of each list and level of numbering.xml."""

    def __init__(self, numbering: etree._Element | None):
        self._abstract: dict[int, etree._Element] = {}
        self._lists: dict[int, tuple[int, etree._Element]] = {}  # list id -> (its abstract id, the w:num)
        self._levels: dict[int, dict[int, str]] = {}  # abstract id -> level -> format, read once each
        if numbering is None:
            return
        for element in numbering.iterchildren(f"{_W}abstractNum"):
            self._abstract.setdefault(_int_attribute(element, f"{_W}abstractNumId", -1), element)
        for element in numbering.iterchildren(f"{_W}num"):
            abstract = _int(element.find(f"{_W}abstractNumId"), -1)
            self._lists.setdefault(_int_attribute(element, f"{_W}numId", -1), (abstract, element))

    def format(self, list_id: int, level: int) -> str | None:
        """The number format of a list's level; None when numbering.xml does not say."""
        if list_id not in self._lists:
            return None
        abstract, element = self._lists[list_id]
        for override in element.iterchildren(f"{_W}lvlOverride"):
            if _int_attribute(override, f"{_W}ilvl", -1) == level and (found := _level_format(override)) is not None:
                return found
        if abstract not in self._levels:
            self._levels[abstract] = {}
            for lvl in (self._abstract[abstract].iterchildren(f"{_W}lvl") if abstract in self._abstract else ()):
                if (found := _level_format(lvl)) is not None or lvl.find(f"{_W}numFmt") is None:
                    self._levels[abstract].setdefault(_int_attribute(lvl, f"{_W}ilvl", -1), found or "decimal")
        return self._levels[abstract].get(level)


def _level_format(element: etree._Element) -> str | None:
    number_format = element.find(f"{_W}lvl/{_W}numFmt" if element.tag == f"{_W}lvlOverride" else f"{_W}numFmt")
    return number_format.get(_VAL) if number_format is not None else None


@dataclass(frozen=True)
class WordFile:
    """What the import reads from a .docx: the body, its styles, list formats, notes and keywords."""

    body: etree._Element
    styles: dict[str, ParagraphStyle]  # paragraph style id -> the style
    default_style: str | None  # the id of the default paragraph style
    lists: ListFormats
    notes: dict[str, dict[str, etree._Element]]  # "footnote" / "endnote" -> its id -> the w:footnote
    keywords: str

    def paragraph_style(self, paragraph: etree._Element) -> tuple[str | None, str]:
        """The id and the name Word shows of a paragraph's style (the default style when it names none
        or one the file does not have)."""
        style_id = paragraph.style  # python-docx: the paragraph's w:pStyle
        if style_id not in self.styles:
            style_id = self.default_style
        style = self.styles.get(style_id or "")
        return style_id, style.name if style is not None else "Normal"

    def list_level(self, paragraph: etree._Element, style_id: str | None, style_name: str) -> int | None:
        """The paragraph's list level as `outline.Block` counts it: 0 a first-level number, 1 or more a
        nested or lettered one, None no number (no list, a bullet, numbering switched off)."""
        properties = paragraph.find(f"{_W}pPr")
        own = properties.find(f"{_W}numPr") if properties is not None else None
        list_id, level = _numbering(own) if own is not None else (None, None)
        if own is None and (match := _LIST_NUMBER.match(style_name)):
            return int(match.group(1)) - 1 if match.group(1) else 0  # "List Number 2": the second level
        if list_id is None or level is None:
            inherited = self._style_numbering(style_id)
            if inherited is not None:
                list_id = inherited[0] if list_id is None else list_id
                level = inherited[1] if level is None else level
        if not list_id:  # none, or 0: numbering switched off
            return None
        level = max(level or 0, 0)
        number_format = self.lists.format(list_id, level)
        if number_format in _NOT_NUMBERS:
            return None
        return max(level, 1) if number_format in _LETTERS else level

    def _style_numbering(self, style_id: str | None) -> tuple[int | None, int | None] | None:
        for _depth in range(MAX_STYLE_DEPTH):
            style = self.styles.get(style_id or "")
            if style is None:
                return None
            if style.numbering is not None:
                return style.numbering
            style_id = style.based_on
        return None


def megabytes(size: int) -> str:
    """A size in bytes as megabytes with one decimal, the way the person's language writes it: "5.5 MB"."""
    value = format_decimal(Decimal(size) / (1024 * 1024), format="0.0", locale=i18n.formatting_locale())
    return _("%(size)s MB", size=value)


# What a refused count says (`_refuse_above`), by what was counted: each a whole sentence.
_TOO_MANY_TEXT_ELEMENTS = N_("This Word document has %(count)s XML elements in its text (paragraphs, runs, "
                             "formatting); documents with up to %(limit)s can be imported.")
_TOO_MANY_OTHER_ELEMENTS = N_("This Word document has %(count)s XML elements in its other parts (styles, numbering, "
                              "notes, headers); documents with up to %(limit)s can be imported.")
_TOO_MANY_PARAGRAPHS = N_("This Word document has %(count)s paragraphs; documents with up to %(limit)s can be "
                          "imported.")
_TOO_MANY_PIECES = N_("This Word document has %(count)s pieces of text (runs, tabs, line breaks); documents with up "
                      "to %(limit)s can be imported.")
_TOO_MANY_CELLS = N_("This Word document has %(count)s table rows and cells; documents with up to %(limit)s can be "
                     "imported.")
# What a part too large says (`_read_part`), by the part.
_TEXT_PART_TOO_LARGE = N_("This Word document's text part expands to %(size)s; up to %(limit)s can be imported.")
_STYLES_PART_TOO_LARGE = N_("This Word document's styles part expands to %(size)s; up to %(limit)s can be imported.")
_PROPERTIES_PART_TOO_LARGE = N_("This Word document's properties part expands to %(size)s; up to %(limit)s can be "
                                "imported.")
_PART_TOO_LARGE = N_("This Word document's part expands to %(size)s; up to %(limit)s can be imported.")


def _refuse_above(found: int, limit: int, message: str) -> None:
    """Refuse a count above its limit; `message` is one of the _TOO_MANY_* sentences."""
    if found > limit:
        raise ImportFailure(413, _(message, count=i18n.number(found), limit=i18n.number(limit)))


def _read_part(archive: zipfile.ZipFile, name: str, limit: int, message: str) -> bytes | None:
    """Read one part, refusing it before it is decompressed when it would expand beyond `limit`
    (with `message`, one of the *_TOO_LARGE sentences)."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        return None
    if info.file_size > limit:
        raise ImportFailure(413, _(message, size=megabytes(info.file_size), limit=megabytes(limit)))
    try:
        with archive.open(info) as stream:
            # zipfile stops at the declared size and then checks the CRC: a header that lies fails here.
            return stream.read(limit + 1)
    except _ZIP_ERRORS:
        raise ImportFailure(422, str(_DAMAGED)) from None


def _elements(xml: bytes) -> int:
    """Count the XML elements in a part's bytes: every element starts with "<" but not "</" (the few
    "<?" and "<!" count too). A DTD is refused: Word never writes one."""
    if xml.find(b"<!DOCTYPE") >= 0 or xml.find("<!DOCTYPE".encode("utf-16-le")) >= 0:
        raise ImportFailure(422, str(_DAMAGED))
    return xml.count(b"<") - xml.count(b"</")


def _is_xml(data: bytes) -> bool:
    """Tell an XML part (which python-docx may parse) from an image or other binary part."""
    return data.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")[:1] == b"<" or data[:2] in _UTF16


def _parse(xml: bytes) -> etree._Element:
    # python-docx's parser options, so whitespace reads as it does; no entity is expanded, and lxml
    # itself refuses nesting deeper than 256 and text nodes over 10 MB.
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False)
    try:
        return etree.fromstring(xml, parser)
    except (etree.LxmlError, ValueError):
        raise ImportFailure(422, str(_DAMAGED)) from None


def _int(element: etree._Element | None, default: int) -> int:
    """Return the w:val of a property element as a number; `default` when absent or not a number."""
    if element is None:
        return default
    return _int_attribute(element, _VAL, default)


def _int_attribute(element: etree._Element, name: str, default: int) -> int:
    try:
        return int(element.get(name, default))
    except ValueError:
        return default


def _numbering(numbering: etree._Element) -> tuple[int | None, int | None]:
    """The list id and level of a w:numPr, each None when it does not say."""
    list_id, level = numbering.find(f"{_W}numId"), numbering.find(f"{_W}ilvl")
    return (_int(list_id, 0) if list_id is not None else None), (_int(level, 0) if level is not None else None)


def _check_package(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], limits: WordLimits) -> None:
    """Refuse a file whose parts are too large or too many, or hold too many XML elements, before it is parsed."""
    text = _read_part(archive, DOCUMENT_PART, limits.text_bytes, _TEXT_PART_TOO_LARGE)
    _refuse_above(_elements(text), limits.elements, _TOO_MANY_TEXT_ELEMENTS)
    # Every other part python-docx may parse (styles, numbering, notes, headers ...), one at a time.
    sizes = {STYLES_PART: (MAX_PART_XML, _STYLES_PART_TOO_LARGE), CORE_PART: (MAX_PART_XML, _PROPERTIES_PART_TOO_LARGE)}
    others = 0
    for member in members:
        if member.filename == DOCUMENT_PART or member.is_dir():
            continue
        data = _read_part(archive, member.filename, *sizes.get(member.filename, (limits.package_bytes, _PART_TOO_LARGE)))
        if data and _is_xml(data):
            others += _elements(data)
    _refuse_above(others, limits.elements, _TOO_MANY_OTHER_ELEMENTS)


def _open_package(data: bytes) -> WordDocument:
    """Open the checked file with python-docx; refuse a damaged one, or one that is not a plain document."""
    try:
        part = Package.open(io.BytesIO(data)).main_document_part
    except _PACKAGE_ERRORS:
        raise ImportFailure(422, str(_DAMAGED)) from None
    if part.content_type != CONTENT_TYPE.WML_DOCUMENT_MAIN:  # a template or a document with macros
        raise ImportFailure(415, _("This Word file is a template or a document with macros, not a Word document "
                                   "(.docx). Save it in Word as a Word document and import that."))
    return part.document


def _styles(document: WordDocument) -> tuple[dict[str, ParagraphStyle], str | None]:
    """Map the paragraph styles' ids to their names (python-docx's, as Word shows them: "Heading 1"),
    bases and numbering once, and find the default paragraph style (the last one marked default)."""
    styles: dict[str, ParagraphStyle] = {}
    seen: set[str] = set()
    default = None
    for element in document.styles.element.style_lst:
        style_id = element.styleId
        if style_id is None or style_id in seen:
            continue  # the first style with an id is the one Word uses
        seen.add(style_id)
        try:
            style = StyleFactory(element)
        except (KeyError, ValueError):  # no type, or one python-docx does not know: no paragraph style
            continue
        if style.type != WD_STYLE_TYPE.PARAGRAPH:
            continue
        properties = element.pPr
        numbering = properties.numPr if properties is not None else None
        styles[style_id] = ParagraphStyle(style.name or "", element.basedOn_val,
                                          _numbering(numbering) if numbering is not None else None)
        if element.get(f"{_W}default") in ("1", "true", "on"):
            default = style_id
    return styles, default


def _notes(document: WordDocument) -> dict[str, etree._Element]:
    """The footnotes and endnotes parts, parsed (python-docx has no API for them)."""
    parts = {}
    for kind, relationship in _NOTE_PARTS.items():
        try:
            parts[kind] = _parse(document.part.part_related_by(relationship).blob)
        except (KeyError, ValueError):
            continue
    return parts


def open_docx(data: bytes, *, max_paragraphs: int) -> WordFile:
    """Open a .docx file within the import's limits, or raise ImportFailure with a message a person understands."""
    if data[:8] == _OLD_WORD:
        raise ImportFailure(415, _("This is an old Word 97-2003 (.doc) file. Open it in Word or LibreOffice, "
                                   "save it as a Word document (.docx) and import that."))
    limits = WordLimits.of(max_paragraphs)
    # Each part has an entry in the zip's directory; reading 50,000 of them would take a second.
    if (parts := data.count(b"PK\x01\x02")) > MAX_PARTS:
        raise ImportFailure(413, _("This Word document has %(count)s parts; documents with up to %(limit)s can be "
                                   "imported.", count=i18n.number(parts), limit=i18n.number(MAX_PARTS)))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except _ZIP_ERRORS:
        raise ImportFailure(422, _("This file is not a valid Word document (.docx): it could not be opened "
                                   "as one. It may be damaged or of another type.")) from None
    if DOCUMENT_PART not in {member.filename for member in members}:
        raise ImportFailure(422, _("This file is not a Word document (.docx): it has no document text inside."))
    if (expanded := sum(member.file_size for member in members)) > limits.package_bytes:
        raise ImportFailure(413, _("This Word document expands to %(size)s; documents expanding to up to %(limit)s "
                                   "can be imported.", size=megabytes(expanded), limit=megabytes(limits.package_bytes)))
    _check_package(archive, members, limits)
    document = _open_package(data)
    root = document.element
    if root.tag != f"{_W}document" or root.find(f"{_W}body") is None:
        raise ImportFailure(422, str(_DAMAGED))
    note_parts = _notes(document)
    # The paragraphs and the pieces the import will walk, counted in C, in the text and its notes.
    parts = [root, *note_parts.values()]
    _refuse_above(sum(int(_COUNT_PARAGRAPHS(part)) for part in parts), limits.paragraphs, _TOO_MANY_PARAGRAPHS)
    _refuse_above(sum(int(_COUNT_PIECES(part)) for part in parts), limits.pieces, _TOO_MANY_PIECES)
    _refuse_above(sum(int(_COUNT_TABLE_CELLS(part)) for part in parts), limits.table_cells, _TOO_MANY_CELLS)
    try:  # parts python-docx could not read as what they should be (a content type that lies) fail here
        styles, default_style = _styles(document)
        keywords = document.core_properties.keywords or ""
    except _PACKAGE_ERRORS:
        raise ImportFailure(422, str(_DAMAGED)) from None
    try:
        numbering = document.part.part_related_by(RELATIONSHIP_TYPE.NUMBERING).element
    except (KeyError, ValueError, AttributeError):
        numbering = None  # none, or none python-docx could read: list numbers then count by their level
    notes = {kind: {note.get(_ID, ""): note for note in part.iterchildren(f"{_W}{kind}")
                    if note.get(_TYPE, "normal") not in _SEPARATOR_NOTES} for kind, part in note_parts.items()}
    return WordFile(root.find(f"{_W}body"), styles, default_style, ListFormats(numbering), notes, keywords)


class _Footnotes:
    """The notes a text refers to, in the order of first reference, each marked where it is referred to."""

    def __init__(self, notes: dict[str, dict[str, etree._Element]]):
        self.notes = notes
        self.texts: list[str] = []
        self._seen: dict[tuple[str, str], int] = {}

    def refer(self, kind: str, note_id: str) -> str:
        """Mark a reference to a footnote or endnote; nothing for a note the file does not have."""
        key = (kind, note_id)
        if key not in self._seen:
            note = self.notes.get(kind, {}).get(note_id)
            text = " ".join(" ".join(_paragraph_text(p) for p in note.iter(_P)).split()) if note is not None else ""
            self._seen[key] = len(self.texts) if text else -1
            if text:
                self.texts.append(text)
        return footnote_mark(self._seen[key]) if self._seen[key] >= 0 else ""


def _paragraph_text(paragraph: etree._Element, notes: _Footnotes | None = None) -> str:
    """Return a paragraph's text as python-docx reads it (its runs and hyperlinks, with tabs and line
    breaks), with its note references marked when `notes` are kept."""
    parts = []
    for node in _RUN_CONTENT(paragraph):
        tag = node.tag
        if tag == _T:
            parts.append(node.text or "")
        elif tag == _BR:  # page and column breaks are no text
            parts.append("\n" if node.get(_TYPE, "textWrapping") == "textWrapping" else "")
        elif tag in _NOTE_REFERENCES:
            if notes is not None:
                parts.append(notes.refer(_NOTE_REFERENCES[tag], node.get(_ID, "")))
        else:
            parts.append(_CHARACTERS[tag])
    return "".join(parts)


def _table_rows(table: etree._Element, notes: _Footnotes | None) -> list[list[str]]:
    """Return a table's rows of cell texts; a merged cell repeats its text, as python-docx reads it."""
    rows, length = [], 0
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
                here[column] = ("\n".join(_paragraph_text(p, notes) for p in cell.iterchildren(_P)).strip(), span)
            cells.append(here[column])
            column += span
        above = here
        if not any(text for text, _ in cells):
            continue  # a row of empty cells is left out; building it could cost 63 cells a row
        texts = [text for text, width in cells for _ in range(width)]
        rows.append(texts)
        length += sum(len(text) + 3 for text in texts)
        if length > MAX_CLAUSE_CHARS:
            raise ImportFailure(413, _("A table in this Word document holds more than %(limit)s characters; a clause "
                                       "holds up to %(limit)s. Shorten it in the file and import it again.",
                                       limit=i18n.number(MAX_CLAUSE_CHARS)))
    return rows


def _gfm_cell(text: str) -> str:
    return " ".join(text.split("\n")).replace("|", "\\|")


def _table_text(table: etree._Element, notes: _Footnotes | None) -> tuple[str, bool]:
    """Return a table as a Markdown pipe table, its first row the header (True); a table of one row or
    one column, a layout box, as lines of text, cells separated by " | " (False)."""
    rows = _table_rows(table, notes)
    width = max((len(row) for row in rows), default=0)
    if len(rows) < 2 or width < 2:
        lines = [" | ".join(row) for row in rows]
        return "\n".join(line for line in lines if line.strip(" |")), False
    lines = ["| " + " | ".join(_gfm_cell(text) for text in [*row, *[""] * (width - len(row))]) + " |"
             for row in rows]
    return "\n".join([lines[0], "| " + " | ".join(["---"] * width) + " |", *lines[1:]]), True


def _blocks(word: WordFile, notes: _Footnotes | None):
    """Yield (kind, style name, text, list level) for the body's paragraphs and tables, in order; a
    table's kind says whether it stayed a table ("table") or became lines ("lines")."""
    carried = ""  # the text of paragraphs whose mark is a tracked deletion: accepted, they join the next
    for element in word.body.inner_content_elements:  # python-docx: the body's w:p and w:tbl, in order
        if element.tag == _TABLE:
            if carried:
                yield "p", "", carried, None
                carried = ""
            text, kept = _table_text(element, notes)
            yield ("table" if kept else "lines"), "", text, None
            continue
        if element.find(_DELETED_MARK) is not None:
            carried += _paragraph_text(element, notes)
            continue
        style_id, style = word.paragraph_style(element)
        yield "p", style, carried + _paragraph_text(element, notes), word.list_level(element, style_id, style)
        carried = ""
    if carried:
        yield "p", "", carried, None


def _tracked_note(word: WordFile) -> list[str]:
    """Say that the file's tracked changes were read as accepted, when it has any."""
    count = int(_COUNT_TRACKED(word.body.getparent()))
    if not count:
        return []
    return [ngettext("The file has %(count)s tracked change: the text was imported with every change accepted, as "
                     "Word shows it with “No Markup”.",
                     "The file has %(count)s tracked changes: the text was imported with every change accepted, as "
                     "Word shows it with “No Markup”.", count, count=i18n.number(count))]


def parse_docx(data: bytes, *, max_paragraphs: int) -> ImportedText:
    """Split a .docx file into a title and clauses (see `outline.py`); refuse one over `max_paragraphs`."""
    word = open_docx(data, max_paragraphs=max_paragraphs)
    if EXPORT_KEYWORD in word.keywords:
        return _parse_export(word)
    title = None
    blocks: list[Block] = []
    notes = _Footnotes(word.notes)
    tables = lines = 0
    for kind, style, text, level in _blocks(word, notes):
        if style == RECORD_STYLE:
            break
        if style == "Title":
            title = title or without_footnotes(text).strip() or None
            continue
        if style == "Subtitle" or not text.strip():  # empty paragraphs are spacing in ordinary files
            continue
        tables, lines = tables + (kind == "table"), lines + (kind == "lines")
        heading = _HEADING.match(style)
        blocks.append(Block(text, heading=int(heading.group(1)) if heading else None,
                            level=None if heading or kind != "p" else level))
    h1_count = sum(1 for block in blocks if block.heading == 1)
    if title is None and blocks and choose_title(blocks[0].heading == 1, h1_count):
        title = without_footnotes(blocks[0].text).strip() or None
        blocks = blocks[1:]
    messages = _tracked_note(word)
    if tables:
        messages.append(ngettext("%(num)s table stayed a table, written as Markdown pipe tables (| a | b |), the "
                                 "first row as the header.",
                                 "%(num)s tables stayed tables, written as Markdown pipe tables (| a | b |), the "
                                 "first row as the header.", tables))
    if lines:
        messages.append(ngettext("%(num)s table of a single row or column became lines of text, cells separated "
                                 "by |.",
                                 "%(num)s tables of a single row or column became lines of text, cells separated "
                                 "by |.", lines))
    return split(title, blocks, notes.texts, word_styles=True, notes=messages)


def _parse_export(word: WordFile) -> ImportedText:
    """Read this app's own export back exactly: a clause for each Heading 1, every paragraph of it kept."""
    title = None
    body: list[tuple[str, str, int | None]] = []  # (kind, text, heading level)
    for kind, style, text, _level in _blocks(word, None):
        if style == RECORD_STYLE:
            break
        if style == "Title":
            title = title or text.strip() or None
            continue
        if style == "Subtitle":
            continue
        if kind != "p":
            if text:
                body.append(("p", text, None))
            continue
        heading = _HEADING.match(style)
        body.append(("h" if heading else "p", text, int(heading.group(1)) if heading else None))
    headings = [i for i, b in enumerate(body) if b[0] == "h"]
    h1_count = sum(1 for i in headings if body[i][2] == 1)
    if title is None and headings and choose_title(headings[0] == 0 and body[0][2] == 1, h1_count):
        title = body[0][1].strip() or None
        body = body[1:]
        headings = [i - 1 for i in headings[1:]]
    if not headings:
        return split(title, [Block(text) for _, text, _ in body if text.strip()])
    level = min(body[i][2] for i in headings)
    starts = [i for i in headings if body[i][2] == level]
    clauses = []
    notes: list[str] = []
    preamble = [b[1] for b in body[:starts[0]] if b[1].strip()]
    if preamble:
        clauses.append(ImportedClause(None, "\n\n".join(preamble)))
        notes.append(_("The text before the first heading became a first clause without a heading."))
    read = [exported_heading(body[start][1]) for start in starts]
    kinds = [kind for kind, _ in read]
    # The kinds come back from the headings ("Article 2.1."), an action's fields from the table of
    # actions in the record, by the action's label; a file without kinds (an older export, or one
    # with a clause before the first heading) takes the document's default kind.
    typed = all(kinds) and not clauses
    actions = _exported_actions(word) if typed and "action" in kinds else {}
    labels = kind_labels(kinds) if typed else [""] * len(kinds)
    for start, end, (kind, heading), label in zip(starts, [*starts[1:], len(body)], read, labels, strict=True):
        texts = [b[1] for b in body[start + 1:end]]
        clauses.append(ImportedClause(heading, "\n\n".join(texts), kind if typed else None,
                                      actions.get(label) if kind == "action" else None))
    notes.append(_("This file was exported from drafting: its clauses import exactly as they were."))
    notes += _tracked_note(word)
    return finish(title, clauses, notes)


def _exported_actions(word: WordFile) -> dict[str, dict]:
    """The fields of each action, by its label, from the table of actions an export writes in its record."""
    for table in word.body.iterchildren(_TABLE):
        rows = _table_rows(table, None)
        if not rows or tuple(rows[0][:len(ACTION_COLUMNS)]) != ACTION_COLUMNS:
            continue
        found = {}
        for row in rows[1:]:
            label, _title, responsible, start, end, funding, indicators = [*row, *[""] * 7][:7]
            found[label] = {"responsible": _entries(responsible), "start": start or None, "end": end or None,
                            "funding": _entries(funding), "indicators": _entries(indicators)}
        return found
    return {}


def _entries(cell: str) -> list[str]:
    return [line for line in cell.split("\n") if line.strip()]
