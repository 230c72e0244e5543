"""Word (.docx) in and out, with python-docx.

The export: the title in the Title style, a Subtitle line (kind and phase), each clause as a
Heading 1 "N. Heading" followed by its paragraphs (blank-line separated blocks of the clause text;
single line breaks stay line breaks), then, on a new page, the record of the export in the
"Drafting Record" style (phase, content hash and, once adopted, the signatories). The import reads
the body in order and stops at that record; it follows the splitting rules of `outline.py`, with
Word's automatic numbering counting as numbering. An exported file (marked in its properties)
imports back to the same clauses, empty paragraphs included.
"""

from __future__ import annotations

import io
import re
import zipfile

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
MAX_UNCOMPRESSED = 60 * 1024 * 1024  # a .docx is a zip: refuse one that would expand beyond this
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_HEADING = re.compile(r"^heading ([1-9])$", re.IGNORECASE)
_LIST_NUMBER = re.compile(r"^list number(?: ([2-9]))?$", re.IGNORECASE)


def _xml_safe(text: str) -> str:
    # Control characters cannot be stored in a .docx; they are shown as U+FFFD instead.
    return _NOT_XML.sub("\ufffd", text)


def _when(moment) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC")


def to_docx(text: ExportedText) -> bytes:
    """Write the document as a .docx file: numbered headed clauses, then the record of the export."""
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt

    doc = Document()
    properties = doc.core_properties
    properties.title = _xml_safe(text.title)
    properties.subject = text.kind_label
    properties.keywords = EXPORT_KEYWORD
    properties.comments = f"Content hash (SHA-256): {text.content_hash}"
    properties.author = "drafting"
    doc.add_heading(_xml_safe(text.title), level=0)
    status = "adopted" if text.adopted else f"draft, {text.phase_label.lower()} phase"
    doc.add_paragraph(f"{text.kind_label} · {status}", style="Subtitle")
    for number, heading, body in text.clauses:
        doc.add_heading(_xml_safe(f"{number}." + (f" {heading}" if heading else "")), level=1)
        for block in body.split("\n\n"):
            doc.add_paragraph(_xml_safe(block))

    style = doc.styles.add_style(RECORD_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Heading 1"]
    record = doc.add_paragraph("Adoption record" if text.adopted else "Record of this export", style=RECORD_STYLE)
    record.paragraph_format.page_break_before = True
    if text.adopted:
        when = f" on {_when(text.adopted_at)}" if text.adopted_at else ""
        doc.add_paragraph(f"This {text.kind_label} was adopted{when}: every participating organisation "
                          "approved the exact text identified by the content hash below.")
    else:
        line = f"Draft, not adopted. Phase: {text.phase_label}"
        doc.add_paragraph(line + (f" (deadline {_when(text.deadline)})." if text.deadline else "."))
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
                                         _when(signature.signed_at)), strict=True):
                cell.text = _xml_safe(value)
    doc.add_paragraph(f"Exported from drafting on {_when(text.exported_at)}.")
    footer = doc.sections[0].footer.paragraphs[0]
    footer.text = _xml_safe(f"{text.title} · {status} · content hash {text.content_hash[:16]}…")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


# ---- import ---------------------------------------------------------------------------------

def open_docx(data: bytes):
    """Open a .docx file, or raise ImportFailure with a message a person understands."""
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFailure(415, "This is an old Word 97-2003 (.doc) file. Open it in Word or LibreOffice, "
                                 "save it as a Word document (.docx) and import that.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = set(archive.namelist())
        expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportFailure(422, "This file is not a valid Word document (.docx): it could not be opened "
                                 "as one. It may be damaged or of another type.") from None
    if "word/document.xml" not in names:
        raise ImportFailure(422, "This file is not a Word document (.docx): it has no document text inside.")
    if expanded > MAX_UNCOMPRESSED:
        raise ImportFailure(413, "This Word document expands to more than "
                                 f"{MAX_UNCOMPRESSED // (1024 * 1024)} MB; it cannot be imported.")
    from docx import Document

    try:
        return Document(io.BytesIO(data))
    except Exception:  # python-docx raises many kinds of errors for damaged files
        raise ImportFailure(422, "This Word document (.docx) is damaged: its text could not be read.") from None


def _blocks(doc):
    """Yield (kind, style name, text, numbering level) for the body's paragraphs and tables, in order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph as WordParagraph

    for element in doc.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = WordParagraph(element, doc)
            style = paragraph.style.name if paragraph.style is not None else ""
            level = None
            properties = element.pPr
            if properties is not None and properties.numPr is not None:
                ilvl = properties.numPr.ilvl
                level = int(ilvl.val) if ilvl is not None else 0
            elif match := _LIST_NUMBER.match(style or ""):
                level = int(match.group(1)) - 1 if match.group(1) else 0
            yield "p", style or "", paragraph.text, level
        elif tag == "tbl":
            table = Table(element, doc)
            rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
            yield "table", "", "\n".join(row for row in rows if row.strip(" |")), None


def parse_docx(data: bytes) -> ImportedText:
    """Split a .docx file into a title and clauses (see `outline.py`)."""
    doc = open_docx(data)
    exported = EXPORT_KEYWORD in (doc.core_properties.keywords or "")
    title = None
    body: list[tuple[str, str, int | None, int | None]] = []  # (kind, text, heading level, numbering level)
    notes: list[str] = []
    for kind, style, text, level in _blocks(doc):
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
