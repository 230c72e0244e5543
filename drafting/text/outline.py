"""A document's outline as it travels in and out of files: the title and its ordered clauses.

Exports read an `ExportedText`; imports (Markdown, DOCX) produce an `ImportedText`. A file that is
not this app's own export is read into `Block`s (its paragraphs, list items, tables and headings,
in order) and split here, so both formats follow the same rules:

1. Headings split. The document's title is its first line when that is a level-1 heading (Word:
   the Title style, or the only Heading 1 at the start); every heading of the shallowest
   remaining level starts a clause. A leading clause number ("3." or "3.1") is taken off the
   heading, because the app numbers clauses by position. Deeper headings stay in the text, except
   those naming an article, a section or an annex ("Article 1" as Heading 2 under "Chapter I"),
   which start clauses too; a chapter heading with no text of its own before its first article
   becomes a section whose text is its heading.
2. Numbered items under a heading split. When the text under a clause heading holds paragraphs
   opening "Article N" ("Article 3 — Scope", "ART. 4."), or at least two numbered items at its
   top level (Word's list numbering at its first level, from the paragraph's `w:numPr` or its
   style's, "List Number"; a Markdown ordered list; typed "1.", "1.1", "2)"), each of them starts
   a clause and its number is taken off; "Article N" openings win, and numbers then stay inside
   their article. So "## Commitments" over "1. …" and "2. …" gives one clause per commitment.
   The heading stays on the first clause the section makes: the text before the first item
   ("The clusters commit to:") when there is some, else the first item (when that item has a
   heading of its own, "Article 1 — Scope", the two are joined: "Commitments — Scope"; a
   "Section"/"Chapter" heading's kind needs text of its own and is then dropped). Nothing splits
   under a heading recognised as a preamble, an article or an annex (an article's numbered
   paragraphs are its own), and bulleted or lettered items never split under a heading.
3. Without clause headings, numbered paragraphs split: every paragraph opening "Article N", else
   every decimal-numbered paragraph or item ("1.", "1.1", "2)"), starts a clause, and the
   paragraphs after it up to the next one belong to it; lettered items ("(a)", "b)") then stay
   inside the clause as its list. Only when there is no such numbering do lettered paragraphs
   start clauses. The number is taken off the clause text. Without any numbering, every
   paragraph is a clause.
4. Recitals split. In the text outside clause headings and before the first numbered clause (the
   text before the first heading, or the opening of a file without headings), every paragraph
   that opens with "Considering", "Whereas", "Recalling", "Noting", "Having regard" … starts a
   clause; text before the first of them is a clause of its own.
5. Kinds are recognised where the file does not record them (this app's Markdown export does):
   a heading "Preamble" makes a preamble, "Article 4" / "Art. 4" an article, "Section 2" or
   "Chapter 2" a section, "Annex I" an annex (the kind's word and number are taken off the
   heading); a paragraph opening "Article N" makes an article, whose heading is the rest of that
   line when the line is short (up to 100 characters, no closing ".", ";", ":" or ",") and text
   follows it; a clause without heading that opens with a recital word is a recital. Anything
   else takes the document's default kind.
6. Clauses are plain text, with the file's structure written the Markdown way. Markdown list items
   are lines ("- item", "3. item", nested items indented under theirs); Word's list paragraphs stay
   paragraphs, its nested numbered items in a clause made from a numbered item are lettered
   "(a)", "(b)". Tables are GFM pipe tables: "| a | b |" lines with the "| --- | --- |" line
   after the first row, "|" in a cell written "\\|", a cell's line breaks as spaces (a Word table
   of a single row or a single column, a layout box, stays lines of text, cells joined by " | ").
   Footnotes stay footnotes: "[^1]" where the text refers to one and a "[^1]: text" line at the
   end of the clause, numbered from 1 in each clause in the order of reference (clauses are
   moved, deleted and exported one by one: document-wide numbers would go stale). Emphasis is
   dropped, code keeps its text, a link keeps its text with its address in brackets.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import ngettext

from ..errors import DomainError
from ..i18n import number
from .clauses import MAX_CLAUSE_CHARS

# "3." "3.1" "3.1." at the start of a heading: the number the export put there (taken off once).
HEADING_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)+\.?|\d+\.)(?=\s|$)\s*")
# Paragraph numbering: decimal ("1. ", "1.1 ", "1.1. ", "2) ") and lettered or roman ("(a) ", "(iv) ", "b) ").
DECIMAL = re.compile(r"^(?:\d+(?:\.\d+)+\.?|\d+[.)])\s+")
LETTERED = re.compile(r"^(?:\([a-z]{1,4}\)|[a-z]\))\s+")
# A paragraph opening an article: "Article 3", "Article 3 — Scope", "ART. 4.", "Article 5a: …", not
# "Article 5 of the Treaty …" (the number must end the line or be followed by . : ) or a dash).
_GAP = r"[ \t\u00a0]"
ARTICLE_OPENING = re.compile(rf"^(?:Article|Art\.){_GAP}+\d+[a-z]?(?:{_GAP}*(?:[.:)](?!\d)|[—–-]){_GAP}*"
                             rf"|{_GAP}*(?:\n|$))", re.IGNORECASE)
ARTICLE_HEADING_CHARS = 100
# Where a block's text refers to the file's footnote number i: "\0i\0". No imported text holds a
# NUL (a Markdown file with one is refused; XML cannot carry one), so the mark is unambiguous.
FOOTNOTE_MARK = re.compile("\x00(\\d+)\x00")

MAX_IMPORTED_CLAUSES = 1000


@dataclass(frozen=True)
class Signature:
    """One organisation's valid approval, as listed on an adopted text."""

    organisation: str
    country: str
    name: str
    signed_at: datetime


@dataclass(frozen=True)
class TranslationState:
    """How complete the translation an export holds is."""

    translated: int
    stale: int
    missing: int


@dataclass(frozen=True)
class ExportedText:
    """Everything an export shows: the numbered clauses, the phase, the hash and the signatures."""

    title: str
    kind_label: str
    phase: str
    phase_label: str
    clauses: list[tuple[int, str | None, str]]
    content_hash: str
    exported_at: datetime
    deadline: datetime | None = None
    adopted_at: datetime | None = None
    signatures: list[Signature] = field(default_factory=list)
    # Per clause, in the order of `clauses`: its label, kind and action fields (text.numbering).
    kinds: list[tuple[str, str, dict | None]] = field(default_factory=list)
    # The language of this text (a code of drafting.i18n.LANGUAGES) and the document's authentic
    # one; they differ in the export of a translation, which says so (`translation` tells how
    # far it goes: clauses translated, stale and missing; a missing one shows the authentic text).
    language: str = "en"
    authentic_language: str = "en"
    translation: TranslationState | None = None
    # A translation's notice, in its language ("Translation into …: not the authentic text …"),
    # and each clause's name in that language ("Cikk 2.1"); empty: the English names.
    notice: str | None = None
    names: list[str] = field(default_factory=list)

    @property
    def adopted(self) -> bool:
        return self.phase == "adopted"


@dataclass(frozen=True)
class ImportedClause:
    heading: str | None
    text: str
    kind: str | None = None        # None: the document's default kind
    action: dict | None = None


@dataclass(frozen=True)
class ImportedText:
    """What a file yields: a title (None when the file has none) and clauses, with notes for the preview."""

    title: str | None
    clauses: list[ImportedClause]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Block:
    """A heading, paragraph, list item or table of a file, in reading order: what the rules split.

    `heading` is a heading's level. `level` is a list item's numbering level as the rules count it:
    0 for a numbered item of the first level (Word's list numbering, a Markdown ordered list), 1 or
    more for a nested or lettered one, None for anything else (bullets included). `shown` is the
    block as it reads inside a clause when that differs from `text` (a Markdown item with its
    number, "3. item"; a deeper Markdown heading, "### Deeper"); `tight` joins it to the block
    before with a line break instead of a blank line (the items of a tight Markdown list).
    """

    text: str
    heading: int | None = None
    level: int | None = None
    shown: str | None = None
    tight: bool = False

    @property
    def inside(self) -> str:
        """The block's text inside a clause."""
        return self.text if self.shown is None else self.shown


class ImportFailure(DomainError):
    """A file that cannot be imported; carries the HTTP status and a message for the person."""


# The kind and number an export writes before a heading ("Article 2.1.", "Recital B.", "Preamble.").
KIND_PREFIX = re.compile(r"^(?:Preamble|(?:Recital|Article|Action|Section|Annex|Clause) [0-9A-Z.]+?)\.(?=\s|$)\s*")


def exported_heading(raw: str) -> tuple[str | None, str | None]:
    """Read a heading this app's export wrote ("Article 2.1. Scope"): its kind (None for a plain
    "Clause 3." or a number) and the heading without the kind and number."""
    match = KIND_PREFIX.match(raw.strip())
    if not match:
        return None, heading_text(raw)
    word = match.group(0).split()[0].rstrip(".").lower()
    kind = word if word in ("preamble", "recital", "article", "action", "section", "annex") else None
    return kind, heading_text(raw.strip()[match.end():])


def heading_text(raw: str) -> str | None:
    """Return a clause heading without its leading clause number; None when nothing is left."""
    text = " ".join(HEADING_NUMBER.sub("", raw.strip(), count=1).split())
    return text or None


def choose_title(first_is_h1: bool, h1_count: int) -> bool:
    """Tell whether the file's first line (a level-1 heading) is the title rather than a clause."""
    return first_is_h1 and h1_count == 1


def footnote_mark(index: int) -> str:
    """Mark where a block refers to the file's footnote `index`; `split` numbers it in its clause."""
    return f"\x00{index}\x00"


def without_footnotes(text: str) -> str:
    """Return text without footnote marks (a title has no clause to carry its footnotes)."""
    return FOOTNOTE_MARK.sub("", text)


def _letters(n: int) -> str:
    out = ""
    while True:
        n, rest = divmod(n, 26)
        out = chr(ord("a") + rest) + out
        if n == 0:
            return out
        n -= 1


def _numbering(block: Block) -> tuple[str | None, str]:
    """How a block is numbered ("article", "decimal", "lettered" or None) and its text without a decimal number."""
    if block.heading is not None:
        return None, block.text
    if block.level is not None:
        return ("decimal" if block.level == 0 else "lettered"), block.text
    if ARTICLE_OPENING.match(block.text):
        return "article", block.text
    if DECIMAL.match(block.text):
        return "decimal", DECIMAL.sub("", block.text, count=1)
    if LETTERED.match(block.text):
        return "lettered", block.text
    return None, block.text


def _join(pieces: Sequence[tuple[str, bool]]) -> str:
    """Join texts with a blank line, or a line break where the second one is tight."""
    out: list[str] = []
    for text, tight in pieces:
        if out:
            out.append("\n" if tight else "\n\n")
        out.append(text)
    return "".join(out)


def _pieces(blocks: Sequence[Block], lettering: bool) -> list[tuple[str, bool]]:
    """The blocks as they read inside a clause; with `lettering`, Word's nested items get "(a)", "(b)"."""
    pieces, letter = [], 0
    for block in blocks:
        text = block.inside
        if lettering and block.shown is None and block.level:
            # Word numbers nested items itself; write the letter into the text so the list survives.
            text = f"({_letters(letter)}) {text}"
            letter += 1
        pieces.append((text, block.tight))
    return pieces


Item = tuple[str, list[Block]]  # an item's opening text (its number taken off) and the blocks after it


def _group(blocks: Sequence[Block], starter: str) -> tuple[list[Block], list[Item]]:
    """Split blocks at those numbered as `starter`: the blocks before the first, and each item."""
    before: list[Block] = []
    items: list[Item] = []
    for block in blocks:
        kind, stripped = _numbering(block)
        if kind == starter:
            items.append((LETTERED.sub("", stripped, count=1) if starter == "lettered" else stripped, []))
        elif items:
            items[-1][1].append(block)
        else:
            before.append(block)
    return before, items


def _item_clause(item: Item, starter: str) -> ImportedClause:
    """The clause an item makes (rules 2, 3 and 5)."""
    opening, rest = item
    pieces = _pieces(rest, lettering=True)
    if starter != "article":
        return ImportedClause(None, _join([(opening, False), *pieces]))
    line = opening[ARTICLE_OPENING.match(opening).end():]
    if pieces and "\n" not in line and len(line) <= ARTICLE_HEADING_CHARS and not line.rstrip().endswith(
            (".", ";", ":", ",")):
        return ImportedClause(line.strip() or None, _join(pieces), "article")
    return ImportedClause(None, _join([(line, False), *pieces]) if line.strip() else _join(pieces), "article")


def _openings(blocks: Sequence[Block]) -> list[ImportedClause]:
    """The clauses of text outside clause headings (rule 4): one for each recital, and what comes before them."""
    groups: list[list[Block]] = []
    for block in blocks:
        if not groups or (block.heading is None and block.level is None
                          and RECITAL_OPENING.match(block.text.lstrip())):
            groups.append([block])
        else:
            groups[-1].append(block)
    return [ImportedClause(None, _join(_pieces(group, lettering=False))) for group in groups]


def _unheaded(blocks: Sequence[Block], notes: list[str]) -> list[ImportedClause]:
    """Split blocks without clause headings by their numbering (rule 3)."""
    found = {_numbering(block)[0] for block in blocks}
    starter = next((kind for kind in ("article", "decimal", "lettered") if kind in found), None)
    if starter is None:
        notes.append(_("No headings or numbered paragraphs were found: every paragraph became a clause."))
        return [ImportedClause(None, block.inside) for block in blocks]
    before, items = _group(blocks, starter)
    if starter == "article":
        notes.append(_("No clause headings were found: each paragraph opening “Article N” started a clause."))
    elif starter == "decimal":
        notes.append(_("No clause headings were found: each numbered paragraph (1., 1.1, 2) …) started a clause."))
    else:
        notes.append(_("No clause headings were found: each lettered paragraph ((a), (b) …) started a clause."))
    return [*_openings(before), *(_item_clause(item, starter) for item in items)]


def _section(heading: str | None, body: Sequence[Block]) -> tuple[list[ImportedClause], bool]:
    """The clauses a clause heading and the text under it make (rule 2); say whether its items split."""
    kind, rest = heading_kind(heading)
    starter = None
    if kind not in ("preamble", "article", "annex"):
        counts: dict[str | None, int] = {}
        for block in body:
            numbering = _numbering(block)[0]
            counts[numbering] = counts.get(numbering, 0) + 1
        starter = "article" if counts.get("article") else "decimal" if counts.get("decimal", 0) >= 2 else None
    if starter is None:
        return [ImportedClause(heading, _join(_pieces(body, lettering=False)))], False
    before, items = _group(body, starter)
    clauses = [_item_clause(item, starter) for item in items]
    if before:
        return [ImportedClause(heading, _join(_pieces(before, lettering=False))), *clauses], True
    first = clauses[0]
    joined = " — ".join(part for part in (rest, first.heading) if part) or None
    return [ImportedClause(joined, first.text, first.kind), *clauses[1:]], True


def _footnoted(clause: ImportedClause, footnotes: Sequence[str]) -> ImportedClause:
    """Number the clause's footnotes from 1 ("[^1]") and write their texts at its end ("[^1]: text")."""
    numbers: dict[int, int] = {}

    def number(match: re.Match) -> str:
        index = int(match.group(1))
        if index >= len(footnotes):
            return ""
        return f"[^{numbers.setdefault(index, len(numbers) + 1)}]"

    heading = FOOTNOTE_MARK.sub(number, clause.heading) if clause.heading else clause.heading
    text = FOOTNOTE_MARK.sub(number, clause.text)
    if not numbers:
        return clause
    notes = "\n".join(f"[^{n}]: {footnotes[index]}" for index, n in numbers.items())
    if len(text) + len(notes) > MAX_CLAUSE_CHARS:  # refused now: a long note repeated in every clause adds up
        raise ImportFailure(413, _("A clause with its footnotes holds more than %(limit)s characters; a clause holds "
                                   "up to %(limit)s. Shorten it in the file and import it again.",
                                   limit=number(MAX_CLAUSE_CHARS)))
    return ImportedClause(heading, f"{text}\n\n{notes}" if text.strip() else notes, clause.kind, clause.action)


def split(title: str | None, blocks: Sequence[Block], footnotes: Sequence[str] = (), *,
          word_styles: bool = False, notes: list[str] | None = None) -> ImportedText:
    """Split a file's blocks into clauses by the rules above and finish the import.

    `footnotes` are the texts `footnote_mark` refers to; `word_styles` names the headings in a note
    as Word's paragraph styles ("Heading 2 paragraphs", else "level-2 headings").
    """
    notes = [] if notes is None else notes
    starts = [i for i, block in enumerate(blocks) if block.heading is not None]
    if not starts:
        clauses = _unheaded(blocks, notes)
    else:
        level = min(blocks[i].heading for i in starts)
        # Deeper headings stay in the text, except those naming an article, a section or an annex
        # ("Article 1" as Heading 2 under "Chapter I"): they start clauses of their own.
        starts = [i for i in starts if blocks[i].heading == level
                  or heading_kind(heading_text(blocks[i].text))[0] in ("article", "section", "annex")]
        clauses = _openings(blocks[:starts[0]])
        if len(clauses) == 1:
            notes.append(_("The text before the first heading became a first clause without a heading."))
        elif clauses:
            notes.append(ngettext("The text before the first heading became %(num)s clause without a heading, "
                                  "one for each recital (Considering, Whereas …).",
                                  "The text before the first heading became %(num)s clauses without a heading, "
                                  "one for each recital (Considering, Whereas …).", len(clauses)))
        split_under = []
        for start, end in zip(starts, [*starts[1:], len(blocks)], strict=True):
            heading = heading_text(blocks[start].text)
            made, items = _section(heading, blocks[start + 1:end])
            clauses += made
            if items:
                split_under.append(_("“%(heading)s”", heading=without_footnotes(heading)) if heading
                                   else _("a heading without text"))
        if split_under:
            shown = ", ".join(split_under[:5])
            if len(split_under) > 5:
                shown = ngettext("%(headings)s and %(num)s more", "%(headings)s and %(num)s more",
                                 len(split_under) - 5, headings=shown)
            notes.append(_("The numbered items (or “Article N” paragraphs) under %(headings)s became clauses of "
                           "their own; each heading stays on the first clause of its section.", headings=shown))
        if level > 1 or title is None:
            notes.append(_("Clauses were split at the Heading %(level)s paragraphs.", level=level) if word_styles
                         else _("Clauses were split at the level-%(level)s headings.", level=level))
    clauses = [_footnoted(clause, footnotes) for clause in clauses]
    if footnotes:
        notes.append(ngettext("%(num)s footnote kept as footnote: “[^1]” in the text and “[^1]: …” at the end of "
                              "its clause, numbered from 1 in each clause.",
                              "%(num)s footnotes kept as footnotes: “[^1]” in the text and “[^1]: …” at the end of "
                              "its clause, numbered from 1 in each clause.", len(footnotes)))
    return finish(title, clauses, notes)


KIND_HEADING = re.compile(
    r"^(?:(?P<article>Article|Art\.)\s+\d+[a-z]?|(?P<section>Section|Chapter|Part)\s+(?:\d+|[IVXLC]+)"
    r"|(?P<annex>Annex|Appendix)(?:\s+(?:\d+|[IVXLC]+|[A-Z]))?)\b[.:)]?\s*(?:[—–-]\s*)?", re.IGNORECASE)
RECITAL_OPENING = re.compile(r"^(?:considering|whereas|recalling|noting|having regard|acknowledging|recognising|"
                             r"recognizing|bearing in mind)\b", re.IGNORECASE)


def heading_kind(heading: str | None) -> tuple[str | None, str | None]:
    """The kind a heading shows (rule 5), or None, and the heading without the kind's word and number."""
    heading = heading or ""
    if heading.strip().lower() == "preamble":
        return "preamble", heading
    match = KIND_HEADING.match(heading)
    if match:
        kind = next(k for k in ("article", "section", "annex") if match.group(k))
        return kind, heading[match.end():].strip() or None
    return None, heading or None


def recognise_kind(clause: ImportedClause) -> ImportedClause:
    """The clause with the kind its heading or opening words show (rule 5), when it has none."""
    if clause.kind is not None:
        return clause
    kind, rest = heading_kind(clause.heading)
    if kind is not None:
        return ImportedClause(rest, clause.text, kind)
    if not clause.heading and RECITAL_OPENING.match(clause.text.lstrip()):
        return ImportedClause(None, clause.text, "recital")
    return clause


def finish(title: str | None, clauses: list[ImportedClause], notes: list[str]) -> ImportedText:
    """Drop empty clauses (with a note), check there is something to import, and bound the count;
    recognise the kinds the file shows (rule 5)."""
    kept = []
    clauses = [recognise_kind(clause) for clause in clauses]
    recognised = sum(1 for clause in clauses if clause.kind is not None)
    if recognised:
        notes.append(ngettext("%(num)s clause got its kind (preamble, recital, article, section, annex) from the "
                              "file; the others take the document's default kind.",
                              "%(num)s clauses got their kind (preamble, recital, article, section, annex) from the "
                              "file; the others take the document's default kind.", recognised))
    for clause in clauses:
        if clause.text.strip():
            kept.append(clause)
        elif clause.kind == "section" and clause.heading:
            # A chapter heading straight over its articles: the section keeps its place (it
            # numbers them), its heading becomes its text (a clause has text).
            kept.append(ImportedClause(None, clause.heading, "section"))
        elif clause.heading:
            notes.append(_("The heading “%(heading)s” has no text under it and was left out.", heading=clause.heading))
    if not kept:
        raise ImportFailure(422, _("The file contains no text to import."))
    if len(kept) > MAX_IMPORTED_CLAUSES:
        raise ImportFailure(413, _("The file would make %(count)s clauses; the limit is %(limit)s.",
                                   count=number(len(kept)), limit=number(MAX_IMPORTED_CLAUSES)))
    return ImportedText(" ".join(title.split()) if title and title.strip() else None, kept, notes)
