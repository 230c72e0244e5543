"""Word (.docx) with native tracked changes from one version of a document to another, and comments.

The body is what Word writes when changes are tracked: inserted text in `w:ins`, deleted text in
`w:del` (as `w:delText`), each with its author ("Name (Cluster)") and date (ISO 8601 UTC), word by
word as `diffing.diff_ops` found them; a paragraph added or removed has its paragraph mark marked
inserted or deleted (`w:pPr/w:rPr/w:ins|w:del`), so accepting every change in Word gives exactly
the later text and rejecting every change exactly the earlier one, paragraph for paragraph, as the
plain export (`word.to_docx`) would write each. Open discussions are Word comments
(python-docx's comments part) anchored to the passage they quote.

Paragraphs: a clause is a Heading 1 paragraph "N. Heading" and its text's blocks separated by a
blank line, as in the plain export. A diff sees the text as one string, so a blank line may be
half kept and half changed ("a\\n\\nb" to "a\\nb"); such a paragraph break is written as deleted
(or inserted) and the line break that remains as inserted (or deleted), which keeps both readings
exact.
"""

from __future__ import annotations

import itertools
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from docx.document import Document as WordDocument
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from lxml import etree

from .diffing import DELETE, EQUAL, INSERT, Op
from .word import add_record_heading, docx_bytes, new_document, written_utc, xml_safe

REDLINE_KEYWORD = "drafting-tracked-changes"
SEPARATOR = "\n\n"  # between the paragraphs of a clause's text, as the plain export splits it
HEADING_STYLE = "Heading1"  # the style id of Heading 1 in python-docx's template


@dataclass(frozen=True)
class Change:
    """Who made a change and when: a tracked change's w:author and w:date."""

    author: str
    date: datetime  # UTC (naive, as stored)


@dataclass(frozen=True)
class Remark:
    """An open discussion as a Word comment, anchored to `span` of the clause's later text."""

    span: tuple[int, int]
    author: str
    initials: str
    date: datetime
    text: str


@dataclass(frozen=True)
class Piece:
    """Part of a clause's heading paragraph diffed on its own (the number, the heading), with its author."""

    ops: list[Op]
    change: Change | None


@dataclass(frozen=True)
class RedlineClause:
    """One clause of the comparison: in both versions (EQUAL), added (INSERT) or removed (DELETE).

    A moved clause is two of them: removed where it was and added where it is.
    """

    status: int
    heading: list[Piece]  # "N." then " Heading", earlier to later
    body: list[Op]  # the clause's text, earlier to later
    change: Change | None  # who made the text's changes (and added or removed the clause)
    remarks: list[Remark] = field(default_factory=list)


@dataclass(frozen=True)
class Redline:
    """Everything the tracked-changes file shows."""

    title: str
    kind_label: str
    from_label: str  # "the named version “Consultation draft” (taken ...)"
    to_label: str
    from_hash: str
    to_hash: str
    exported_at: datetime
    clauses: list[RedlineClause]
    notes: list[str]  # how the changes are credited, for the record at the end


# ---- the paragraphs of a clause -------------------------------------------------------------
#
# Items: ("text", op, text, change), ("mark", op, change) ending a paragraph, ("start", id) and
# ("end", id) of a comment's range.

def _separators(text: str) -> set[int]:
    """Where text.split(SEPARATOR) cuts: the start of each separator, left to right."""
    found, at = set(), text.find(SEPARATOR)
    while at >= 0:
        found.add(at)
        at = text.find(SEPARATOR, at + 2)
    return found


def _newlines(text: str) -> Iterator[int]:
    at = text.find("\n")
    while at >= 0:
        yield at
        at = text.find("\n", at + 1)


def _anchored(ops: list[Op], anchors: list[tuple[int, int, int]]) -> list[tuple]:
    """Cut the ops where comments start and end in the later text, with ("start"/"end", id) between.

    A range starts before the first kept or inserted text at its start and ends after the last at its
    end; deleted text at either edge stays outside.
    """
    if not anchors:
        return list(ops)
    starts = sorted((a, cid) for a, _, cid in anchors)
    ends = sorted((b, cid) for _, b, cid in anchors)
    cuts = sorted({a for a, _, _ in anchors} | {b for _, b, _ in anchors})
    out: list[tuple] = []
    j = s = e = 0
    for op, text in ops:
        if op == DELETE:
            out.append((op, text))
            continue
        pos = 0
        while pos < len(text):
            while s < len(starts) and starts[s][0] <= j + pos:
                out.append(("start", starts[s][1]))
                s += 1
            following = bisect_right(cuts, j + pos)
            stop = min(cuts[following] - j, len(text)) if following < len(cuts) else len(text)
            out.append((op, text[pos:stop]))
            pos = stop
            while e < len(ends) and ends[e][0] <= j + pos:
                out.append(("end", ends[e][1]))
                e += 1
        j += len(text)
    out += [("start", cid) for _, cid in starts[s:]] + [("end", cid) for _, cid in ends[e:]]
    return out


def _items(ops: list[tuple], change: Change | None, paragraphs: bool) -> list[tuple]:
    """Turn ops (and comment markers) into runs and paragraph marks, each paragraph break whole.

    A paragraph break kept in both texts is a plain mark; one only in the earlier text a deleted
    mark, one only in the later an inserted mark. A newline the diff kept but which is a paragraph
    break on one side only is written as deleted and inserted, so neither reading loses it.
    """
    texts = [entry for entry in ops if isinstance(entry[0], int)]
    earlier = "".join(text for op, text in texts if op != INSERT)
    later = "".join(text for op, text in texts if op != DELETE)
    old_breaks = _separators(earlier) if paragraphs else set()
    new_breaks = _separators(later) if paragraphs else set()
    kept: dict[int, int] = {}  # position of a kept newline in the earlier text -> in the later
    i = j = 0
    for op, text in texts:
        if op == EQUAL:
            for at in _newlines(text):
                kept[i + at] = j + at
        i += len(text) if op != INSERT else 0
        j += len(text) if op != DELETE else 0
    aligned = {at for at in old_breaks if (to := kept.get(at)) is not None and to in new_breaks
               and kept.get(at + 1) == to + 1}
    items: list[tuple] = []

    def add(op: int, text: str) -> None:
        if items and items[-1][0] == "text" and items[-1][1] == op:
            items[-1] = ("text", op, items[-1][2] + text, change)
        else:
            items.append(("text", op, text, change))

    def deleted_newline(at: int) -> None:
        if at in old_breaks:
            items.append(("mark", DELETE, change))
        elif at - 1 not in old_breaks:  # the second newline of a break is in its mark
            add(DELETE, "\n")

    def inserted_newline(at: int) -> None:
        if at in new_breaks:
            items.append(("mark", INSERT, change))
        elif at - 1 not in new_breaks:
            add(INSERT, "\n")

    i = j = 0
    for entry in ops:
        if not isinstance(entry[0], int):
            items.append(entry)
            continue
        op, text = entry
        start = 0
        for at in [*_newlines(text), len(text)]:
            if at > start:
                add(op, text[start:at])
            if at == len(text):
                break
            here_old, here_new = i + at, j + at
            if op == DELETE:
                deleted_newline(here_old)
            elif op == INSERT:
                inserted_newline(here_new)
            elif here_old in aligned:
                items.append(("mark", EQUAL, None))
            elif here_old - 1 in aligned:
                pass
            elif not ({here_old, here_old - 1} & old_breaks or {here_new, here_new - 1} & new_breaks):
                add(EQUAL, "\n")
            else:
                deleted_newline(here_old)
                inserted_newline(here_new)
            start = at + 1
        i += len(text) if op != INSERT else 0
        j += len(text) if op != DELETE else 0
    return items


def _split(items: list[tuple], last_mark: tuple) -> list[tuple[list[tuple], tuple]]:
    """Group items into paragraphs: (contents, its mark); the last paragraph ends with `last_mark`."""
    paragraphs, current = [], []
    for item in items:
        if item[0] == "mark":
            paragraphs.append((current, item))
            current = []
        else:
            current.append(item)
    paragraphs.append((current, last_mark))
    return paragraphs


# ---- writing --------------------------------------------------------------------------------

def _stamp(element, change: Change, ids: Iterator[int]):
    element.set(qn("w:id"), str(next(ids)))
    element.set(qn("w:author"), xml_safe(change.author))
    element.set(qn("w:date"), change.date.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return element


_PIECES = re.compile(r"[^\t\r\n]+|[\t\r\n]")
_T, _DEL_TEXT, _TAB, _BR, _SPACE = qn("w:t"), qn("w:delText"), qn("w:tab"), qn("w:br"), qn("xml:space")


def _run(text: str, deleted: bool):
    """A run of text as python-docx writes one (tabs as w:tab, line breaks as w:br), in w:delText if deleted."""
    run = OxmlElement("w:r")
    for piece in _PIECES.findall(xml_safe(text)):
        if piece == "\t":
            etree.SubElement(run, _TAB)
        elif piece in "\r\n":
            etree.SubElement(run, _BR)
        else:
            element = etree.SubElement(run, _DEL_TEXT if deleted else _T)
            element.text = piece
            if len(piece.strip()) < len(piece):
                element.set(_SPACE, "preserve")
    return run


def _paragraph(doc: WordDocument, style: str | None, contents: list[tuple], mark: tuple, ids: Iterator[int],
               fallback: Change) -> None:
    element = doc.add_paragraph()._p
    if style is not None:
        element.style = style  # the style's id, set directly: python-docx looks each name up again
    for item in contents:
        if item[0] == "text":
            _, op, text, change = item
            if op == EQUAL:
                element.append(_run(text, False))
            else:
                wrapper = _stamp(OxmlElement("w:ins" if op == INSERT else "w:del"), change or fallback, ids)
                wrapper.append(_run(text, op == DELETE))
                element.append(wrapper)
        elif item[0] == "start":
            element.append(OxmlElement("w:commentRangeStart", attrs={qn("w:id"): str(item[1])}))
        else:
            element.append(OxmlElement("w:commentRangeEnd", attrs={qn("w:id"): str(item[1])}))
            reference = OxmlElement("w:r")
            properties = OxmlElement("w:rPr")
            properties.append(OxmlElement("w:rStyle", attrs={qn("w:val"): "CommentReference"}))
            reference.append(properties)
            reference.append(OxmlElement("w:commentReference", attrs={qn("w:id"): str(item[1])}))
            element.append(reference)
    _, op, change = mark
    if op != EQUAL:
        properties = OxmlElement("w:rPr")
        properties.append(_stamp(OxmlElement("w:ins" if op == INSERT else "w:del"), change or fallback, ids))
        element.get_or_add_pPr().append(properties)


def _comment_styles(doc: WordDocument) -> None:
    """Word's own styles of comments, which python-docx's template lacks."""
    text = doc.styles.add_style("annotation text", WD_STYLE_TYPE.PARAGRAPH)
    text.style_id = "CommentText"
    text.base_style = doc.styles["Normal"]
    reference = doc.styles.add_style("annotation reference", WD_STYLE_TYPE.CHARACTER)
    reference.style_id = "CommentReference"
    for style in (text, reference):  # Word's built-in styles, not custom ones
        style.element.attrib.pop(qn("w:customStyle"), None)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def to_redline_docx(redline: Redline) -> bytes:
    """Write the comparison as a .docx whose body carries the changes as Word's tracked changes."""
    doc = new_document(redline.title, redline.kind_label,
                       f"{redline.kind_label} · changes from {redline.from_label} to {redline.to_label}",
                       REDLINE_KEYWORD, f"Tracked changes; later content hash (SHA-256): {redline.to_hash}")
    remarks = sum(len(clause.remarks) for clause in redline.clauses)
    if remarks:
        _comment_styles(doc)
    ids = itertools.count(remarks + 1)  # revision ids, clear of the comments' 0..remarks-1
    fallback = Change("drafting", redline.exported_at)
    for clause in redline.clauses:
        last = ("mark", clause.status, clause.change)
        heading: list[tuple] = []
        for piece in clause.heading:
            heading += _items(piece.ops, piece.change, paragraphs=False)
        for contents, mark in _split(heading, last):
            _paragraph(doc, HEADING_STYLE, contents, mark, ids, fallback)
        anchors = []
        for remark in clause.remarks:
            comment = doc.comments.add_comment(
                xml_safe(remark.text), author=xml_safe(remark.author), initials=xml_safe(remark.initials))
            comment._comment_elm.date = _utc(remark.date)  # python-docx stamps the time of writing
            anchors.append((*remark.span, comment.comment_id))
        body = _items(_anchored(clause.body, anchors), clause.change, paragraphs=True)
        for contents, mark in _split(body, last):
            _paragraph(doc, None, contents, mark, ids, fallback)

    add_record_heading(doc, "Record of this comparison")
    doc.add_paragraph(xml_safe(
        f"Changes from {redline.from_label} to {redline.to_label}, as tracked changes: accepting every "
        "change gives the later text, rejecting every change the earlier one."))
    for note in redline.notes:
        doc.add_paragraph(xml_safe(note))
    for label, content_hash in (("Earlier", redline.from_hash), ("Later", redline.to_hash)):
        paragraph = doc.add_paragraph(f"{label} content hash (SHA-256 of the title and the numbered clauses): ")
        paragraph.add_run(content_hash).font.name = "Courier New"
    doc.add_paragraph(f"Exported from drafting on {written_utc(redline.exported_at)}.")
    footer = doc.sections[0].footer.paragraphs[0]
    footer.text = xml_safe(f"{redline.title} · changes from {redline.from_label} to {redline.to_label}")
    return docx_bytes(doc)
