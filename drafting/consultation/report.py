"""The consultation report: every thread and amendment with its disposition, by clause and by
organisation, as a page and as Markdown and CSV downloads."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Amendment, Clause, Comment, Document, Thread
from ..models.base import iso
from ..text import offload
from ..text.diffing import diff_html
from ..text.sanitise import plain_text
from .queries import DISPOSITION_LABELS, base_text_of, disposition_of


@dataclass
class Reply:
    author: str
    organisation: str
    created_at: datetime
    text: str
    deleted: bool


@dataclass
class Entry:
    """One thread or amendment of the consultation, with what became of it."""

    kind: str                      # "thread" | "amendment"
    id: int
    clause: Clause
    number: int | None             # None: the clause was deleted since
    author: str
    organisation: str
    created_at: datetime
    disposition: str
    text: str                      # opening comment (plain) or proposed clause text
    quote: str | None = None
    rationale: str = ""
    reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    accepted_text: str | None = None
    accepted_version: int | None = None
    replies: list[Reply] = field(default_factory=list)
    diff: Markup | None = None     # amendments: proposed against their base

    @property
    def disposition_label(self) -> str:
        return DISPOSITION_LABELS[self.disposition]

    @property
    def clause_label(self) -> str:
        if self.number is None:
            return "Deleted clause" + (f" ({self.clause.heading})" if self.clause.heading else "")
        return f"Clause {self.number}" + (f" — {self.clause.heading}" if self.clause.heading else "")


@dataclass
class Report:
    document: Document
    entries: list[Entry]

    def by_clause(self) -> list[tuple[str, list[Entry]]]:
        groups: dict[int, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            groups[entry.clause.id].append(entry)
        ordered = sorted(groups.values(), key=lambda es: (es[0].number is None, es[0].number or 0, es[0].clause.id))
        return [(entries[0].clause_label, entries) for entries in ordered]

    def by_organisation(self) -> list[tuple[str, list[Entry]]]:
        groups: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            groups[entry.organisation].append(entry)
        return sorted(groups.items())

    def totals(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for entry in self.entries:
            totals[f"{entry.kind}:{entry.disposition}"] += 1
            totals[entry.kind] += 1
        return totals


def _name(user) -> str:
    return user.name if user is not None else "Unknown"


def build_report(document: Document) -> Report:
    """Collect every thread and amendment of the document with its disposition."""
    clauses = list(db.session.scalars(select(Clause).where(Clause.document_id == document.id)))
    numbers = {c.id: n for n, c in enumerate(document.clauses, start=1)}
    by_id = {c.id: c for c in clauses}
    entries: list[Entry] = []
    threads = db.session.scalars(
        select(Thread).where(Thread.clause_id.in_(by_id), Thread.status != "deleted")
        .options(selectinload(Thread.comments).selectinload(Comment.author),
                 selectinload(Thread.comments).selectinload(Comment.organisation),
                 selectinload(Thread.resolved_by)).order_by(Thread.id)) if by_id else []
    for thread in threads:
        opener, *others = thread.comments
        entries.append(Entry(
            kind="thread", id=thread.id, clause=by_id[thread.clause_id], number=numbers.get(thread.clause_id),
            author=_name(opener.author), organisation=opener.organisation.name if opener.organisation else "",
            created_at=thread.created_at, disposition=thread.status,
            text="" if opener.deleted_at else plain_text(opener.body), quote=thread.quote,
            decided_by=_name(thread.resolved_by) if thread.resolved_by else None, decided_at=thread.resolved_at,
            replies=[Reply(_name(c.author), c.organisation.name if c.organisation else "", c.created_at,
                           "" if c.deleted_at else plain_text(c.body), c.deleted_at is not None)
                     for c in others]))
    amendments = db.session.scalars(
        select(Amendment).where(Amendment.clause_id.in_(by_id))
        .options(selectinload(Amendment.author), selectinload(Amendment.decided_by),
                 selectinload(Amendment.organisation)).order_by(Amendment.id)) if by_id else []
    for amendment in amendments:
        clause = by_id[amendment.clause_id]
        entries.append(Entry(
            kind="amendment", id=amendment.id, clause=clause, number=numbers.get(clause.id),
            author=_name(amendment.author),
            organisation=amendment.organisation.name if amendment.organisation else "",
            created_at=amendment.created_at, disposition=disposition_of(amendment), text=amendment.text,
            rationale=plain_text(amendment.rationale), reason=amendment.reason,
            decided_by=_name(amendment.decided_by) if amendment.decided_by else None,
            decided_at=amendment.decided_at, accepted_text=amendment.accepted_text,
            accepted_version=amendment.accepted_version,
            diff=Markup(diff_html(offload.diff(base_text_of(amendment, clause), amendment.text)))))
    entries.sort(key=lambda e: (e.number is None, e.number or 0, e.kind != "amendment", e.created_at, e.id))
    return Report(document, entries)


# ---- Markdown -------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|~#!])")
_MD_ENTITY = re.compile(r"&(?=#?\w+;)")
_MD_LINE_START = re.compile(r"^(\s*)([-+=]|\d+[.)])", re.MULTILINE)


def md_escape(text: str) -> str:
    """Escape text so Markdown shows it as written: no emphasis, links, HTML or headings from it."""
    text = _MD_SPECIAL.sub(r"\\\1", text)
    text = _MD_ENTITY.sub("&amp;", text)  # "&lt;" stays as typed instead of becoming "<"
    return _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def _md_quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in md_escape(text).split("\n"))


def _when(moment: datetime | None) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else ""


def _md_entry(entry: Entry, with_clause: bool) -> list[str]:
    where = f" on {md_escape(entry.clause_label)}" if with_clause else ""
    if entry.kind == "thread":
        head = f"#### Thread {entry.id}{where}: {entry.disposition_label}"
    else:
        head = f"#### Amendment {entry.id}{where}: {entry.disposition_label}"
    lines = [head, "", f"{md_escape(entry.author)}, {md_escape(entry.organisation)}, {_when(entry.created_at)}", ""]
    if entry.quote:
        lines += ["Quoted passage:", "", _md_quote(entry.quote), ""]
    if entry.kind == "thread":
        lines += [_md_quote(entry.text or "(comment deleted)"), ""]
        for reply in entry.replies:
            who = f"{md_escape(reply.author)}, {md_escape(reply.organisation)}, {_when(reply.created_at)}"
            lines += [f"Reply by {who}:", "", _md_quote(reply.text or "(comment deleted)"), ""]
        if entry.disposition == "resolved":
            lines += [f"Resolved by {md_escape(entry.decided_by or '')}, {_when(entry.decided_at)}.", ""]
        return lines
    lines += ["Proposed text:", "", _md_quote(entry.text), "", "Rationale:", "", _md_quote(entry.rationale), ""]
    if entry.disposition in ("accepted", "accepted_with_changes"):
        lines.append(f"Accepted by {md_escape(entry.decided_by or '')}, {_when(entry.decided_at)}, "
                     f"as version {entry.accepted_version}.")
        lines.append("")
        if entry.disposition == "accepted_with_changes":
            lines += ["Accepted text:", "", _md_quote(entry.accepted_text or ""), ""]
    elif entry.disposition == "rejected":
        lines += [f"Rejected by {md_escape(entry.decided_by or '')}, {_when(entry.decided_at)}. Reason:", "",
                  _md_quote(entry.reason or ""), ""]
    elif entry.disposition == "withdrawn":
        lines += [f"Withdrawn by the proposer, {_when(entry.decided_at)}.", ""]
    return lines


def report_markdown(report: Report, generated_at: datetime) -> str:
    """Render the report as Markdown, every user text escaped."""
    document = report.document
    totals = report.totals()
    lines = [f"# Consultation report: {md_escape(document.title)}", "",
             f"{document.kind_label}, phase {document.phase_label}. Generated {_when(generated_at)}.", "",
             f"{totals['thread']} threads ({totals['thread:open']} open, {totals['thread:resolved']} resolved); "
             f"{totals['amendment']} amendments ({totals['amendment:accepted']} accepted, "
             f"{totals['amendment:accepted_with_changes']} accepted with changes, "
             f"{totals['amendment:rejected']} rejected, {totals['amendment:withdrawn']} withdrawn, "
             f"{totals['amendment:open']} open).", "", "## By clause", ""]
    for label, entries in report.by_clause():
        lines += [f"### {md_escape(label)}", ""]
        for entry in entries:
            lines += _md_entry(entry, with_clause=False)
    lines += ["## By organisation", ""]
    for organisation, entries in report.by_organisation():
        lines += [f"### {md_escape(organisation or 'Unknown organisation')}", "",
                  "| item | clause | disposition |", "| --- | --- | --- |"]
        for entry in entries:
            lines.append(f"| {entry.kind.capitalize()} {entry.id} | {md_escape(entry.clause_label)} | "
                         f"{entry.disposition_label} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ---- CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = ("type", "id", "clause_number", "clause_heading", "organisation", "author", "created_at",
               "disposition", "decided_by", "decided_at", "reason", "quote", "text", "rationale",
               "accepted_text", "accepted_version", "replies")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """Make a cell safe for spreadsheets: text starting like a formula is prefixed with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_csv(report: Report) -> str:
    """Render the report as CSV, one row per thread or amendment, formula-like cells neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in report.entries:
        replies = "\n\n".join(f"{r.author} ({r.organisation}): {r.text or '(deleted)'}" for r in entry.replies)
        writer.writerow([csv_cell(value) for value in (
            entry.kind, entry.id, entry.number if entry.number is not None else "deleted",
            entry.clause.heading or "", entry.organisation, entry.author, iso(entry.created_at),
            entry.disposition, entry.decided_by or "", iso(entry.decided_at) or "", entry.reason or "",
            entry.quote or "", entry.text, entry.rationale, entry.accepted_text or "",
            entry.accepted_version or "", replies)])
    return out.getvalue()


def report_json(report: Report) -> list[dict]:
    """Return the report's entries for the API."""
    return [{"type": e.kind, "id": e.id, "clause_id": e.clause.id, "clause_number": e.number,
             "organisation": e.organisation, "author": e.author, "created_at": iso(e.created_at),
             "disposition": e.disposition, "decided_by": e.decided_by, "decided_at": iso(e.decided_at),
             "reason": e.reason, "quote": e.quote, "text": e.text, "rationale": e.rationale,
             "accepted_text": e.accepted_text, "accepted_version": e.accepted_version,
             "replies": [{"author": r.author, "organisation": r.organisation, "created_at": iso(r.created_at),
                          "text": r.text, "deleted": r.deleted} for r in e.replies]}
            for e in report.entries]
