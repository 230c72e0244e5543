"""Markdown in and out. An exported file imports back to exactly the same title and clauses.

The export writes `# Title`, then per clause `## Kind label. Heading` ("## Article 2.1. Scope",
"## Recital B."), a line `<!-- drafting: clause {"kind": ..., "action": ...} -->` (JSON, with `<`
and `>` escaped, invisible where Markdown is rendered) that the import reads back, a blank line,
the clause text, a blank line; then an end marker and, below it, the record of the export
(phase, content hash, signatories) that is not part of the text. Lines of clause text that start
with `#`, `\\` or `<` get a leading backslash, so no clause line can pass for a heading or the
marker; the import takes exactly one backslash off again. Splitting rules: see `outline.py`. A file
with more lines, or paragraphs and headings, than the import allows is refused before it is split.
"""

from __future__ import annotations

import json
import re

from .clauses import normalise_newlines
from .numbering import title as kind_title
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

END_MARKER = "<!-- drafting: end of the text; what follows records the export and is not part of it -->"
_END_PREFIX = "<!-- drafting: end of the text"
ATX = re.compile(r"^(#{1,6})(?:[ \t]+(.*))?$")
_ESCAPED = ("#", "\\", "<")
LINES_PER_PARAGRAPH = 5  # on average, at most: paragraphs with line breaks, blank lines between them


_ANGLE_RUN = re.compile(r"(\\*)<")          # a "<", with the backslashes just before it
_ESCAPED_ANGLE = re.compile(r"(\\+)<")


def escape_angles(text: str) -> str:
    """Write every "<" as "\\<" (and double the backslashes just before it), so no Markdown
    viewer reads the text's own "<img ...>" or "<script>" as HTML."""
    return _ANGLE_RUN.sub(lambda m: m.group(1) * 2 + "\\<", text)


def unescape_angles(text: str) -> str:
    """Undo `escape_angles`: 2k+1 backslashes before "<" were k backslashes and a "<"."""
    def one(m: re.Match) -> str:
        run = len(m.group(1))
        return "\\" * ((run - 1) // 2) + "<" if run % 2 else m.group(0)
    return _ESCAPED_ANGLE.sub(one, text)


def _leading_escape_is_an_angle(line: str) -> bool:
    """Tell whether the line's leading backslashes are those escaping a "<" (left to `unescape_angles`)."""
    return line[len(line) - len(line.lstrip("\\")):][:1] == "<"


def escape_line(line: str) -> str:
    """Escape a line of clause text that Markdown (or the import) would read as structure or HTML."""
    out = escape_angles(line)
    if line.startswith("#") or (line.startswith("\\") and not _leading_escape_is_an_angle(line)):
        out = "\\" + out
    return out


def unescape_line(line: str) -> str:
    """Undo `escape_line` (and read the earlier exports, which escaped only a leading #, \\ or <)."""
    if len(line) > 1 and line[0] == "\\" and line[1] in "#\\" and not _leading_escape_is_an_angle(line):
        line = line[1:]
    return unescape_angles(line)


def _cell(value: str) -> str:
    return value.replace("\\", "\\\\").replace("|", "\\|")


def _when(moment) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC")


def to_markdown(text: ExportedText) -> str:
    """Write the document as Markdown: numbered headed clauses, then the record of the export."""
    out = [f"# {escape_angles(text.title)}", ""]
    kinds = text.kinds or [(str(number), "", None) for number, _, _ in text.clauses]
    for (number, heading, body), (label, kind, action) in zip(text.clauses, kinds, strict=True):
        shown = kind_title(kind, label) if kind else str(number)
        out += [f"## {shown}." + (f" {escape_angles(heading)}" if heading else "")]
        if kind:  # what the import of this file reads back; invisible where Markdown is rendered
            record = {"kind": kind, **({"action": action} if action else {})}
            data = json.dumps(record, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c").replace(">", "\\u003e")
            out.append(MARKER_PREFIX + data + " -->")
        out.append("")
        out += [escape_line(line) for line in body.split("\n")]
        out.append("")
    out += [END_MARKER, "", "---", ""]
    if text.adopted:
        out.append(f"**{text.kind_label}, adopted** on {_when(text.adopted_at)} by every participating "
                   "organisation." if text.adopted_at else f"**{text.kind_label}, adopted.**")
    else:
        status = f"**{text.kind_label}: draft, not adopted.** Phase: {text.phase_label}"
        if text.deadline:
            status += f" (deadline {_when(text.deadline)})"
        out.append(status + ".")
    out += ["", f"Content hash (SHA-256 of the title and the numbered clauses): `{text.content_hash}`", ""]
    if text.adopted:
        out += ["### Signatories", "", "| Organisation | Country | Signed by | Signed at |", "|---|---|---|---|"]
        out += [f"| {_cell(s.organisation)} | {s.country} | {_cell(s.name)} | {_when(s.signed_at)} |"
                for s in text.signatures]
        out.append("")
    out.append(f"Exported from drafting on {_when(text.exported_at)}.")
    return "\n".join(out) + "\n"


MARKER_PREFIX = "<!-- drafting: clause "
# The kind and number an export writes before a heading ("Article 2.1.", "Recital B.", "Preamble.").
KIND_PREFIX = re.compile(r"^(?:Preamble|(?:Recital|Article|Action|Section|Annex|Clause) [0-9A-Z.]+?)\.(?=\s|$)\s*")


def _record(line: str) -> tuple[str, dict | None] | None:
    """The kind and action fields an export wrote under a clause heading, or None."""
    if not line.startswith(MARKER_PREFIX) or not line.endswith(" -->"):
        return None
    try:
        record = json.loads(line[len(MARKER_PREFIX):-4])
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("kind"), str):
        return None
    action = record.get("action")
    return record["kind"], action if isinstance(action, dict) else None


def _trim_blank(lines: list[str], exact: bool) -> list[str]:
    """Take the blank lines around a clause body off: exactly the export's one each, or all of them."""
    if exact:
        start = 1 if lines and lines[0] == "" else 0
        end = len(lines) - 1 if len(lines) > start and lines[-1] == "" else len(lines)
        return lines[start:end]
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _paragraphs(lines: list[str]) -> list[Paragraph]:
    paragraphs, current = [], []
    for line in [*lines, ""]:
        if line.strip():
            current.append(unescape_line(line))
        elif current:
            paragraphs.append(Paragraph("\n".join(current)))
            current = []
    return paragraphs


def _count_blocks(lines: list[str]) -> int:
    """Count the paragraphs and headings among lines, as the import will split them."""
    count, inside = 0, False
    for line in lines:
        if not line.strip():
            inside = False
        elif line.startswith("#") and ATX.match(line):
            count, inside = count + 1, False
        elif not inside:
            count, inside = count + 1, True
    return count


def parse_markdown(source: str, *, max_paragraphs: int) -> ImportedText:
    """Split Markdown into a title and clauses (see `outline.py`); exact for this app's own export."""
    text = normalise_newlines(source.removeprefix("\ufeff"))
    # Lines are counted before anything else (in C); the paragraphs and headings once the lines are
    # known to be few enough for a quick count, and before the text is split into clauses.
    max_lines = max_paragraphs * LINES_PER_PARAGRAPH
    if (line_count := text.count("\n") + 1) > max_lines:
        raise ImportFailure(413, f"This Markdown file has {line_count:,} lines; files of up to {max_lines:,} "
                                 "lines can be imported.")
    lines = text.split("\n")
    if (blocks := _count_blocks(lines)) > max_paragraphs:
        raise ImportFailure(413, f"This Markdown file has {blocks:,} paragraphs and headings; files with up to "
                                 f"{max_paragraphs:,} can be imported.")
    exported = False
    for index, line in enumerate(lines):
        if line.startswith(_END_PREFIX):
            lines, exported = lines[:index], True
            break
    headings = [(i, len(m.group(1)), m.group(2) or "") for i, line in enumerate(lines) if (m := ATX.match(line))]
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    title = None
    start = 0
    h1_count = sum(1 for _, level, _ in headings if level == 1)
    if headings and choose_title(headings[0][0] == first and headings[0][1] == 1, h1_count):
        title = unescape_angles(headings[0][2].strip()) or None
        start = headings[0][0] + 1
        headings = headings[1:]
    notes: list[str] = []
    if not headings:
        clauses, rule = split_numbered(_paragraphs(lines[start:]))
        notes.append(rule)
        return finish(title, clauses, notes)
    level = min(level for _, level, _ in headings)
    starts = [(i, raw) for i, lvl, raw in headings if lvl == level]
    clauses = []
    preamble = _trim_blank(lines[start:starts[0][0]], exact=False)
    if preamble:
        clauses.append(ImportedClause(None, "\n".join(unescape_line(line) for line in preamble)))
        notes.append("The text before the first heading became a first clause without a heading.")
    bounds = [i for i, _ in starts] + [len(lines)]
    for (index, raw), end in zip(starts, bounds[1:], strict=True):
        record = _record(lines[index + 1]) if exported and index + 1 < end else None
        body = _trim_blank(lines[index + 1 + (record is not None):end], exact=exported)
        heading = heading_text(KIND_PREFIX.sub("", raw.strip(), count=1) if record else raw)
        clauses.append(ImportedClause(unescape_angles(heading) if heading else heading,
                                      "\n".join(unescape_line(line) for line in body),
                                      *(record or (None, None))))
    if exported:
        notes.append("This file was exported from drafting: its clauses import exactly as they were.")
    elif level > 1 or title is None:
        notes.append(f"Clauses were split at the level-{level} headings.")
    return finish(title, clauses, notes)
