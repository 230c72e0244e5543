"""Markdown in and out. An exported file imports back to exactly the same title and clauses.

The export writes `# Title`, then per clause `## Kind label. Heading` ("## Article 2.1. Scope",
"## Recital B."), a line `<!-- drafting: clause {"kind": ..., "action": ...} -->` (JSON, with `<`
and `>` escaped, invisible where Markdown is rendered) that the import reads back, a blank line,
the clause text, a blank line; then an end marker and, below it, the record of the export
(phase, content hash, signatories) that is not part of the text. Lines of clause text that start
with `#`, `\\` or `<` get a leading backslash, so no clause line can pass for a heading or the
marker; the import takes exactly one backslash off again. A file with the end marker is read line
by line, exactly, as the export wrote it.

Any other Markdown file is read by a CommonMark parser (markdown-it-py, with GFM tables), so it
imports as any Markdown viewer shows it: setext headings, lists and their nesting, code, tables,
escapes and entities are read by the specification, not by rules of ours. Its headings, list items,
paragraphs and tables become `outline.Block`s, split by the rules of `outline.py`; footnotes
("[^1]" and a "[^1]: …" paragraph) move to the end of the clause that refers to them. Link
reference definitions are not read as such (a CommonMark viewer hides them, and a footnote
definition would be one): they stay text, so nothing the file says is dropped. A file with more
lines, or paragraphs and headings, than the import allows is refused before it is parsed.
"""

from __future__ import annotations

import json
import re

from flask_babel import gettext as _
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode

from .. import i18n
from .clauses import normalise_newlines
from .numbering import title as kind_title
from .outline import (
    KIND_PREFIX,
    Block,
    ExportedText,
    ImportedClause,
    ImportedText,
    ImportFailure,
    choose_title,
    finish,
    footnote_mark,
    heading_text,
    split,
)

END_MARKER = "<!-- drafting: end of the text; what follows records the export and is not part of it -->"
_END_PREFIX = "<!-- drafting: end of the text"
ATX = re.compile(r"^(#{1,6})(?:[ \t]+(.*))?$")
_ESCAPED = ("#", "\\", "<")
_LIST_ITEM = re.compile(r"[ \t>]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")
# The characters that cost CommonMark's inline parser most (delimiters it tries to pair, brackets it
# tries as links, escapes, HTML and entities): a file has at most this many for each paragraph the
# import allows, so its parse stays within about a second whatever it holds.
MARKUP_CHARACTERS = "*_[]`<&!\\|~"
MARKUP_PER_PARAGRAPH = 10
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
    if text.notice:  # the export of a translation says so first
        out += [f"> {escape_angles(text.notice)}", ""]
    kinds = text.kinds or [(str(number), "", None) for number, _, _ in text.clauses]
    for index, ((number, heading, body), (label, kind, action)) in enumerate(zip(text.clauses, kinds, strict=True)):
        shown = text.names[index] if text.names else kind_title(kind, label) if kind else str(number)
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
    actions = [(number, heading, label, action) for (number, heading, _), (label, kind, action)
               in zip(text.clauses, text.kinds, strict=True) if kind == "action"] if text.kinds else []
    if actions:  # a plan's actions at a glance (below the end marker: not part of the text)
        out += ["### Table of actions", "", "| Action | Title | Responsible | Start | End | Funding | Indicators |",
                "|---|---|---|---|---|---|---|"]
        for _number, heading, label, action in actions:
            action = action or {}
            out.append("| " + " | ".join(escape_angles(_cell(value)) for value in (
                label, heading or "", "; ".join(action.get("responsible") or []), action.get("start") or "",
                action.get("end") or "", "; ".join(action.get("funding") or []),
                "; ".join(action.get("indicators") or []))) + " |")
        out.append("")
    out.append(f"Exported from drafting on {_when(text.exported_at)}.")
    return "\n".join(out) + "\n"


MARKER_PREFIX = "<!-- drafting: clause "


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


def _paragraphs(lines: list[str]) -> list[Block]:
    paragraphs, current = [], []
    for line in [*lines, ""]:
        if line.strip():
            current.append(unescape_line(line))
        elif current:
            paragraphs.append(Block("\n".join(current)))
            current = []
    return paragraphs


def _count_blocks(lines: list[str]) -> int:
    """Count the paragraphs and headings among lines, as the import will split them; a list item and
    a line with a "|" (a table row) count as a paragraph each, as CommonMark reads them as blocks."""
    count, inside = 0, False
    for line in lines:
        if not line.strip():
            inside = False
        elif line.startswith("#") and ATX.match(line):
            count, inside = count + 1, False
        elif not inside or "|" in line or _LIST_ITEM.match(line):
            count, inside = count + 1, True
    return count


def parse_markdown(source: str, *, max_paragraphs: int) -> ImportedText:
    """Split Markdown into a title and clauses (see `outline.py`); exact for this app's own export."""
    text = normalise_newlines(source.removeprefix("\ufeff"))
    # Lines are counted before anything else (in C); the paragraphs and headings once the lines are
    # known to be few enough for a quick count, and before the text is parsed.
    max_lines = max_paragraphs * LINES_PER_PARAGRAPH
    if (line_count := text.count("\n") + 1) > max_lines:
        raise ImportFailure(413, _("This Markdown file has %(count)s lines; files of up to %(limit)s lines can be "
                                   "imported.", count=i18n.number(line_count), limit=i18n.number(max_lines)))
    lines = text.split("\n")
    if (blocks := _count_blocks(lines)) > max_paragraphs:
        raise ImportFailure(413, _("This Markdown file has %(count)s paragraphs and headings; files with up to "
                                   "%(limit)s can be imported.", count=i18n.number(blocks), limit=i18n.number(max_paragraphs)))
    for index, line in enumerate(lines):
        if line.startswith(_END_PREFIX):
            return _parse_export(lines[:index])
    limit = max_paragraphs * MARKUP_PER_PARAGRAPH
    if (markup := sum(text.count(character) for character in MARKUP_CHARACTERS)) > limit:
        raise ImportFailure(413, _("This Markdown file has %(count)s markup characters (%(characters)s); files with "
                                   "up to %(limit)s can be imported.", count=i18n.number(markup),
                                   characters=" ".join(MARKUP_CHARACTERS), limit=i18n.number(limit)))
    return _parse_commonmark(text)


def _parse_export(lines: list[str]) -> ImportedText:
    """Read this app's own export back exactly: its headings, kinds and action fields, and texts line for line."""
    headings = [(i, len(m.group(1)), m.group(2) or "") for i, line in enumerate(lines) if (m := ATX.match(line))]
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    title = None
    start = 0
    h1_count = sum(1 for _, level, _ in headings if level == 1)
    if headings and choose_title(headings[0][0] == first and headings[0][1] == 1, h1_count):
        title = unescape_angles(headings[0][2].strip()) or None
        start = headings[0][0] + 1
        headings = headings[1:]
    if not headings:
        return split(title, _paragraphs(lines[start:]))
    level = min(level for _, level, _ in headings)
    starts = [(i, raw) for i, lvl, raw in headings if lvl == level]
    clauses = []
    notes: list[str] = []
    preamble = _trim_blank(lines[start:starts[0][0]], exact=False)
    if preamble:
        clauses.append(ImportedClause(None, "\n".join(unescape_line(line) for line in preamble)))
        notes.append(_("The text before the first heading became a first clause without a heading."))
    bounds = [i for i, _ in starts] + [len(lines)]
    for (index, raw), end in zip(starts, bounds[1:], strict=True):
        record = _record(lines[index + 1]) if index + 1 < end else None
        body = _trim_blank(lines[index + 1 + (record is not None):end], exact=True)
        heading = heading_text(KIND_PREFIX.sub("", raw.strip(), count=1) if record else raw)
        clauses.append(ImportedClause(unescape_angles(heading) if heading else heading,
                                      "\n".join(unescape_line(line) for line in body),
                                      *(record or (None, None))))
    notes.append(_("This file was exported from drafting: its clauses import exactly as they were."))
    return finish(title, clauses, notes)


# ---- any other Markdown: CommonMark --------------------------------------------------------------

# Lists and quotes nested deeper than this are not read by markdown-it (it skips their text): such a
# file is refused rather than imported short of text. Nine lists within each other fit.
MAX_NESTING = 20
_CONTAINERS = frozenset({"blockquote_open", "bullet_list_open", "ordered_list_open", "list_item_open"})
_COMMONMARK = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).enable("table").disable("reference")
_FOOTNOTE_REFERENCE = re.compile(r"\[\^([^\]\s]+)\]")
_FOOTNOTE_DEFINITION = re.compile(r"^\[\^([^\]\s]+)\]:[ \t]*")
_ONLY_COMMENTS = re.compile(r"(?:\s*<!--(?:(?!-->).)*-->)+\s*", re.DOTALL)
_INLINE = "drafting-inline"  # where a block's inline tokens are kept, out of the syntax tree
_ALIGNMENT = {"text-align:left": ":---", "text-align:center": ":---:", "text-align:right": "---:"}


def _refuse_deep(tokens: list[Token]) -> None:
    """Refuse a file whose lists or quotes reach markdown-it's nesting limit, where it skips text."""
    for token in tokens:
        if token.type in _CONTAINERS and token.level >= MAX_NESTING - 1:
            raise ImportFailure(422, _("This Markdown file nests its lists or quotes too deeply to be read whole "
                                       "(lists within lists, more than %(depth)s deep). Flatten them and import it "
                                       "again.", depth=MAX_NESTING // 2 - 1))


def _hang(marker: str, content: str) -> str:
    """Write a list item: its marker, then its text, the lines after the first indented under it."""
    pad = " " * (len(marker) + 1)
    first, *rest = content.split("\n")
    return "\n".join([f"{marker} {first}".rstrip(), *(pad + line if line.strip() else "" for line in rest)])


class _Reader:
    """Turn a CommonMark syntax tree into blocks of plain text, gathering the footnotes they refer to."""

    def __init__(self) -> None:
        self.defined: dict[str, str] = {}  # footnote label -> its text
        self.used: dict[str, int] = {}  # label -> index in `footnotes`, in the order of first reference
        self.footnotes: list[str] = []
        self.referring = False  # whether "[^label]" in text is a reference (not in a title or a definition)

    def _refer(self, match: re.Match) -> str:
        label = match.group(1)
        if label not in self.defined:
            return match.group(0)
        if label not in self.used:
            self.used[label] = len(self.footnotes)
            self.footnotes.append(self.defined[label])
        return footnote_mark(self.used[label])

    def inline(self, node: SyntaxTreeNode | None) -> str:
        """The plain text of a paragraph's, heading's or cell's inline content (see `_tokens`)."""
        return self._tokens(node.meta.get(_INLINE) or []) if node is not None else ""

    def _tokens(self, tokens: list[Token]) -> str:
        """The plain text of inline tokens: emphasis dropped, code as typed, a link's address in brackets.

        Read flat, not as a tree: emphasis may nest thousands deep ("***…a…***"), beyond recursion.
        """
        out: list[str] = []
        links: list[tuple[int, str]] = []  # where each open link's text starts, and its address
        for token in tokens:
            kind = token.type
            if kind == "text":
                out.append(_FOOTNOTE_REFERENCE.sub(self._refer, token.content) if self.referring else token.content)
            elif kind in ("softbreak", "hardbreak"):
                out.append("\n")
            elif kind in ("code_inline", "html_inline"):
                out.append(token.content)
            elif kind == "image":  # its description; images nest no deeper than the parser's nesting limit
                out.append(self._tokens(token.children or []))
            elif kind == "link_open":
                links.append((len(out), _COMMONMARK.normalizeLinkText(str(token.attrs.get("href", "")))))
            elif kind == "link_close" and links:
                start, address = links.pop()
                text = "".join(out[start:])
                if address not in ("", text, f"mailto:{text}"):
                    out.append(f" ({address})")
        return "".join(out)

    def text(self, node: SyntaxTreeNode) -> str:
        """The plain text of a block inside a clause or a list item."""
        kind = node.type
        if kind == "paragraph":
            return self.inline(node.children[0] if node.children else None)
        if kind == "heading":  # a deeper heading stays in the text, as an ATX heading ("### Deeper")
            return f"{'#' * int(node.tag[1])} {self.inline(node.children[0] if node.children else None)}".rstrip()
        if kind in ("bullet_list", "ordered_list"):
            return self.list(node)
        if kind == "table":
            return self.table(node)
        if kind == "blockquote":
            return self.container(node.children, tight=False)
        if kind in ("fence", "code_block"):
            return node.content.rstrip("\n")
        if kind == "html_block":
            return "" if _ONLY_COMMENTS.fullmatch(node.content) else node.content.rstrip("\n")
        return ""  # a thematic break

    def container(self, nodes: list[SyntaxTreeNode], tight: bool) -> str:
        texts = [text for node in nodes if (text := self.text(node)).strip()]
        return ("\n" if tight else "\n\n").join(texts)

    def item(self, node: SyntaxTreeNode, tight: bool) -> str:
        return self.container(node.children, tight)

    def list(self, node: SyntaxTreeNode) -> str:
        """A list inside a clause: an item a line ("- item", "3. item"), nested items indented under theirs."""
        tight = _tight(node)
        lines = [_hang(_marker(node, n), self.item(item, tight)) for n, item in enumerate(node.children)]
        return ("\n" if tight else "\n\n").join(lines)

    def table(self, node: SyntaxTreeNode) -> str:
        """A GFM pipe table: the header row, the line under it (with the columns' alignment), the rows."""
        rows = [row for part in node.children for row in part.children]
        if not rows:
            return ""
        header = rows[0].children
        lines = [self.row(rows[0]), "| " + " | ".join(_ALIGNMENT.get(str(cell.attrs.get("style", "")), "---")
                                                      for cell in header) + " |"]
        return "\n".join([*lines, *(self.row(row) for row in rows[1:])])

    def row(self, row: SyntaxTreeNode) -> str:
        cells = [self.inline(cell.children[0] if cell.children else None) for cell in row.children]
        return "| " + " | ".join(" ".join(cell.split("\n")).replace("|", "\\|") for cell in cells) + " |"

    def blocks(self, node: SyntaxTreeNode) -> list[Block]:
        """The blocks a top-level node makes: an ordered list one for each item, anything else one."""
        if node.type == "heading":
            level = int(node.tag[1])
            return [Block(self.inline(node.children[0] if node.children else None), heading=level,
                          shown=self.text(node))]
        if node.type == "ordered_list":
            tight = _tight(node)
            items = []
            for n, item in enumerate(node.children):
                content = self.item(item, tight)
                items.append(Block(content, level=0, shown=_hang(_marker(node, n), content), tight=tight and n > 0))
            return items
        text = self.text(node)
        return [Block(text)] if text.strip() else []


def _tight(node: SyntaxTreeNode) -> bool:
    """Tell whether a list is tight (its items' paragraphs hidden: no blank lines between the items)."""
    return not any(child.type == "paragraph" and not child.hidden for item in node.children for child in item.children)


def _marker(node: SyntaxTreeNode, n: int) -> str:
    if node.type == "bullet_list":
        return "-"
    return f"{int(node.attrs.get('start', 1)) + n}{node.markup or '.'}"


def _parse_commonmark(text: str) -> ImportedText:
    """Read a Markdown file that is not this app's export as CommonMark with GFM tables (see `outline.py`)."""
    tokens = _COMMONMARK.parse(text)
    _refuse_deep(tokens)
    for token in tokens:  # the blocks become a tree (no deeper than MAX_NESTING); their inline content stays flat
        if token.type == "inline":
            token.meta[_INLINE], token.children = token.children, None
    nodes = SyntaxTreeNode(tokens).children
    reader = _Reader()
    title = None
    h1_count = sum(1 for node in nodes if node.type == "heading" and node.tag == "h1")
    if nodes and choose_title(nodes[0].type == "heading" and nodes[0].tag == "h1", h1_count):
        title = reader.inline(nodes[0].children[0] if nodes[0].children else None).strip() or None
        nodes = nodes[1:]
    # Footnote definitions ("[^1]: text", one a line, its text going on until the next) make up
    # paragraphs of their own; read them first, as they usually come after the text that refers to them.
    definitions: dict[int, list[tuple[str, list[str]]]] = {}  # paragraph -> its definitions: label, lines
    first: dict[str, tuple[int, int]] = {}  # label -> the definition that counts: paragraph, position
    for index, node in enumerate(nodes):
        if node.type == "paragraph" and _FOOTNOTE_DEFINITION.match(plain := reader.text(node)):
            pairs = definitions[index] = []
            for line in plain.split("\n"):
                if match := _FOOTNOTE_DEFINITION.match(line):
                    pairs.append((match.group(1), [line]))
                else:
                    pairs[-1][1].append(line)
            for position, (label, lines) in enumerate(pairs):
                if label not in first:
                    first[label] = (index, position)
                    reader.defined[label] = " ".join(_FOOTNOTE_DEFINITION.sub("", " ".join(lines), count=1).split())
    reader.referring = True
    blocks: list[list[Block]] = [[] if index in definitions else reader.blocks(node)
                                 for index, node in enumerate(nodes)]
    for index, pairs in definitions.items():  # a definition never referred to (or repeated) stays, as text
        kept = [line for position, (label, lines) in enumerate(pairs)
                if label not in reader.used or first[label] != (index, position) for line in lines]
        blocks[index] = [Block("\n".join(kept))] if kept else []
    return split(title, [block for group in blocks for block in group], reader.footnotes)
