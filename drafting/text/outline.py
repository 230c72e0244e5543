"""A document's outline as it travels in and out of files: the title and its ordered clauses.

Exports read an `ExportedText`; imports (Markdown, DOCX) produce an `ImportedText`. The rules for
splitting a file into clauses live here so both formats follow the same ones:

1. Headings split. The document's title is its first line when that is a level-1 heading (Word:
   the Title style, or the only Heading 1 at the start); every heading of the shallowest
   remaining level starts a clause. A leading clause number ("3." or "3.1") is taken off the
   heading, because the app numbers clauses by position. Deeper headings stay in the text.
   Text between the title and the first clause heading becomes a first clause without heading.
2. Without clause headings, numbered paragraphs split: every paragraph that starts with a
   decimal number ("1.", "1.1", "2)") starts a clause, and the paragraphs after it up to the next
   one belong to it; lettered items ("(a)", "b)") then stay inside the clause as its list. Only
   when there is no decimal numbering at all do lettered paragraphs start clauses. The number is
   taken off the clause text. Without any numbering, every paragraph is a clause.
3. Kinds are recognised where the file does not record them (this app's Markdown export does):
   a heading "Preamble" makes a preamble, "Article 4" / "Art. 4" an article, "Section 2" or
   "Chapter 2" a section, "Annex I" an annex (the kind's word and number are taken off the
   heading); a clause without heading that opens with "Considering", "Whereas", "Recalling",
   "Noting" or "Having regard" is a recital. Anything else takes the document's default kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from ..errors import DomainError

# "3." "3.1" "3.1." at the start of a heading: the number the export put there (taken off once).
HEADING_NUMBER = re.compile(r"^(?:\d+(?:\.\d+)+\.?|\d+\.)(?=\s|$)\s*")
# Paragraph numbering: decimal ("1. ", "1.1 ", "1.1. ", "2) ") and lettered or roman ("(a) ", "(iv) ", "b) ").
DECIMAL = re.compile(r"^(?:\d+(?:\.\d+)+\.?|\d+[.)])\s+")
LETTERED = re.compile(r"^(?:\([a-z]{1,4}\)|[a-z]\))\s+")

MAX_IMPORTED_CLAUSES = 1000


@dataclass(frozen=True)
class Signature:
    """One organisation's valid approval, as listed on an adopted text."""

    organisation: str
    country: str
    name: str
    signed_at: datetime


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
class Paragraph:
    """A paragraph of a file without clause headings; `level` is Word's automatic numbering level."""

    text: str
    level: int | None = None


class ImportFailure(DomainError):
    """A file that cannot be imported; carries the HTTP status and a message for the person."""


def heading_text(raw: str) -> str | None:
    """Return a clause heading without its leading clause number; None when nothing is left."""
    text = " ".join(HEADING_NUMBER.sub("", raw.strip(), count=1).split())
    return text or None


def choose_title(first_is_h1: bool, h1_count: int) -> bool:
    """Tell whether the file's first line (a level-1 heading) is the title rather than a clause."""
    return first_is_h1 and h1_count == 1


def _letters(n: int) -> str:
    out = ""
    while True:
        n, rest = divmod(n, 26)
        out = chr(ord("a") + rest) + out
        if n == 0:
            return out
        n -= 1


def _kind(paragraph: Paragraph) -> tuple[str | None, str]:
    if paragraph.level is not None:
        return ("decimal" if paragraph.level == 0 else "lettered"), paragraph.text
    if DECIMAL.match(paragraph.text):
        return "decimal", DECIMAL.sub("", paragraph.text, count=1)
    if LETTERED.match(paragraph.text):
        return "lettered", paragraph.text
    return None, paragraph.text


def split_numbered(paragraphs: list[Paragraph]) -> tuple[list[ImportedClause], str]:
    """Split paragraphs without headings into clauses by their numbering; say which rule applied."""
    kinds = [_kind(p) for p in paragraphs]
    found = {kind for kind, _ in kinds}
    starter = "decimal" if "decimal" in found else "lettered" if "lettered" in found else None
    if starter is None:
        clauses = [ImportedClause(None, p.text) for p in paragraphs]
        return clauses, "No headings or numbered paragraphs were found: every paragraph became a clause."
    groups: list[list[str]] = []
    preamble: list[str] = []
    letter = 0
    for paragraph, (kind, stripped) in zip(paragraphs, kinds, strict=True):
        if kind == starter:
            groups.append([stripped if starter == "decimal" else LETTERED.sub("", stripped, count=1)])
            letter = 0
            continue
        text = paragraph.text
        if kind == "lettered" and paragraph.level is not None:
            # Word numbers nested items itself; write the letter into the text so the list survives.
            text = f"({_letters(letter)}) {text}"
            letter += 1
        (groups[-1] if groups else preamble).append(text)
    clauses = [ImportedClause(None, "\n\n".join(preamble))] if preamble else []
    clauses += [ImportedClause(None, "\n\n".join(group)) for group in groups]
    rule = ("No clause headings were found: each numbered paragraph (1., 1.1, 2) …) started a clause."
            if starter == "decimal" else
            "No clause headings were found: each lettered paragraph ((a), (b) …) started a clause.")
    return clauses, rule


KIND_HEADING = re.compile(
    r"^(?:(?P<article>Article|Art\.)\s+\d+[a-z]?|(?P<section>Section|Chapter|Part)\s+(?:\d+|[IVXLC]+)"
    r"|(?P<annex>Annex|Appendix)(?:\s+(?:\d+|[IVXLC]+|[A-Z]))?)\b[.:)]?\s*(?:[—–-]\s*)?", re.IGNORECASE)
RECITAL_OPENING = re.compile(r"^(?:considering|whereas|recalling|noting|having regard|acknowledging|recognising|"
                             r"recognizing|bearing in mind)\b", re.IGNORECASE)


def recognise_kind(clause: ImportedClause) -> ImportedClause:
    """The clause with the kind its heading or opening words show (rule 3), when it has none."""
    if clause.kind is not None:
        return clause
    heading = clause.heading or ""
    if heading.strip().lower() == "preamble":
        return ImportedClause(clause.heading, clause.text, "preamble")
    match = KIND_HEADING.match(heading)
    if match:
        kind = next(k for k in ("article", "section", "annex") if match.group(k))
        rest = heading[match.end():].strip()
        return ImportedClause(rest or None, clause.text, kind)
    if not heading and RECITAL_OPENING.match(clause.text.lstrip()):
        return ImportedClause(None, clause.text, "recital")
    return clause


def finish(title: str | None, clauses: list[ImportedClause], notes: list[str]) -> ImportedText:
    """Drop empty clauses (with a note), check there is something to import, and bound the count;
    recognise the kinds the file shows (rule 3)."""
    kept = []
    clauses = [recognise_kind(clause) for clause in clauses]
    recognised = sum(1 for clause in clauses if clause.kind is not None)
    if recognised:
        notes.append(f"{recognised} clause{'s' if recognised != 1 else ''} got {'their' if recognised != 1 else 'its'} "
                     "kind (preamble, recital, article, section, annex) from the file; the others take the "
                     "document's default kind.")
    for clause in clauses:
        if clause.text.strip():
            kept.append(clause)
        elif clause.heading:
            notes.append(f"The heading “{clause.heading}” has no text under it and was left out.")
    if not kept:
        raise ImportFailure(422, "The file contains no text to import.")
    if len(kept) > MAX_IMPORTED_CLAUSES:
        raise ImportFailure(413, f"The file would make {len(kept):,} clauses; the limit is "
                                 f"{MAX_IMPORTED_CLAUSES:,}.")
    return ImportedText(" ".join(title.split()) if title and title.strip() else None, kept, notes)
