"""The consultation report: every thread (with its comments) and amendment with its disposition
and the reason for it, by clause (deleted clauses too) and by cluster: the disposition table a
committee publishes, as a page and as Markdown and CSV downloads."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import gettext as translate
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..i18n import DEFAULT_LANGUAGE
from ..models import Amendment, Clause, Comment, Document, Thread
from ..models.base import iso
from ..text import offload
from ..text.diffing import diff_html
from ..text.sanitise import plain_text
from .closing import CLAUSE_DELETED_REASON
from .queries import DISPOSITION_LABELS, base_text_of, disposition_label, disposition_of, thread_disposition

EXCERPT_CHARS = 200


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
    recorded_reason: str | None = None  # as stored (see `reason`)
    decided_by: str | None = None
    decided_at: datetime | None = None
    accepted_text: str | None = None
    accepted_version: int | None = None
    replies: list[Reply] = field(default_factory=list)
    diff: Markup | None = None     # amendments: proposed against their base

    # The labels below are in the language in force: the reader's on the page, English in the
    # downloads (report_markdown, report_csv and report_json write in English).

    @property
    def disposition_label(self) -> str:
        return disposition_label(self.disposition)

    @property
    def reason(self) -> str | None:
        """The reason for the disposition; the one recorded when a deleted clause closed the item is
        the app's own words, so they are translated too."""
        if self.disposition == "clause_deleted" and self.recorded_reason == CLAUSE_DELETED_REASON:
            return translate(CLAUSE_DELETED_REASON)
        return self.recorded_reason

    @property
    def kind_label(self) -> str:
        return _("Comment") if self.kind == "thread" else _("Amendment")

    @property
    def kind_title(self) -> str:
        """The word an entry's heading names it by: "Thread" or "Amendment"."""
        return _("Thread") if self.kind == "thread" else _("Amendment")

    @property
    def clause_label(self) -> str:
        heading = self.clause.heading
        if self.number is None:
            return _("Deleted clause (%(heading)s)", heading=heading) if heading else _("Deleted clause")
        if heading:
            return _("Clause %(number)s — %(heading)s", number=self.number, heading=heading)
        return _("Clause %(number)s", number=self.number)

    @property
    def clause_deleted(self) -> bool:
        return self.number is None

    @property
    def excerpt(self) -> str:
        """The start of the opening comment (or of the proposed text), on one line."""
        text = " ".join((self.text or (_("(comment deleted)") if self.kind == "thread" else "")).split())
        return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1].rstrip() + "…"

    @property
    def open(self) -> bool:
        return self.disposition == "open"


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
        """The entries by cluster (organisation), clusters by name, each in clause order."""
        groups: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            groups[entry.organisation].append(entry)
        return sorted(groups.items(), key=lambda item: (not item[0], item[0].casefold()))

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
            created_at=thread.created_at, disposition=thread_disposition(thread),
            recorded_reason=thread.reason,
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
            rationale=plain_text(amendment.rationale), recorded_reason=amendment.reason,
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


def _md_cell(text: str | None) -> str:
    """Escape text for a Markdown table cell: on one line, no pipes or markup from it."""
    return md_escape(" ".join((text or "").split())) or " "


def _md_decision(entry: Entry) -> list[str]:
    """Who decided, when and why, for the detailed entries."""
    by = f" by {md_escape(entry.decided_by)}" if entry.decided_by else ""
    when = f", {_when(entry.decided_at)}" if entry.decided_at else ""
    if entry.open:
        return []
    if entry.disposition == "withdrawn":
        return [f"Withdrawn by the proposer{when}.", ""]
    line = f"**{entry.disposition_label}**{by}{when}"
    if entry.kind == "amendment" and entry.disposition in ("accepted", "accepted_with_changes"):
        line += f", as version {entry.accepted_version}"
    lines = [line + ("." if not entry.reason else ". Reason:"), ""]
    if entry.reason:
        lines += [_md_quote(entry.reason), ""]
    if entry.disposition == "accepted_with_changes":
        lines += ["Accepted text:", "", _md_quote(entry.accepted_text or ""), ""]
    return lines


def _md_entry(entry: Entry, with_clause: bool) -> list[str]:
    where = f" on {md_escape(entry.clause_label)}" if with_clause else ""
    head = f"#### {'Thread' if entry.kind == 'thread' else 'Amendment'} {entry.id}{where}: {entry.disposition_label}"
    lines = [head, "", f"{md_escape(entry.author)}, {md_escape(entry.organisation)}, {_when(entry.created_at)}", ""]
    if entry.quote:
        lines += ["Quoted passage:", "", _md_quote(entry.quote), ""]
    if entry.kind == "thread":
        lines += [_md_quote(entry.text or "(comment deleted)"), ""]
        for reply in entry.replies:
            who = f"{md_escape(reply.author)}, {md_escape(reply.organisation)}, {_when(reply.created_at)}"
            lines += [f"Reply by {who}:", "", _md_quote(reply.text or "(comment deleted)"), ""]
    else:
        lines += ["Proposed text:", "", _md_quote(entry.text), "", "Rationale:", "", _md_quote(entry.rationale), ""]
    return lines + _md_decision(entry)


def _md_totals(totals: dict[str, int]) -> str:
    threads = ", ".join(f"{totals[f'thread:{key}']} {label.lower()}" for key, label in DISPOSITION_LABELS.items()
                        if totals.get(f"thread:{key}"))
    amendments = ", ".join(f"{totals[f'amendment:{key}']} {label.lower()}"
                           for key, label in DISPOSITION_LABELS.items() if totals.get(f"amendment:{key}"))
    return (f"{totals['thread']} comment threads ({threads or 'none'}); "
            f"{totals['amendment']} amendments ({amendments or 'none'}).")


def report_markdown(report: Report, generated_at: datetime) -> str:
    """Render the report as Markdown, every user text escaped: the disposition tables by clause and by
    cluster, then every thread and amendment in full (in English)."""
    with force_locale(DEFAULT_LANGUAGE):
        return _report_markdown(report, generated_at)


def _report_markdown(report: Report, generated_at: datetime) -> str:
    document = report.document
    lines = [f"# Consultation report: {md_escape(document.title)}", "",
             f"{document.kind_label}, phase {document.phase_label}. Generated {_when(generated_at)}.", "",
             _md_totals(report.totals()), "", "## Dispositions by clause", ""]
    by_clause = report.by_clause()
    for label, entries in by_clause:
        lines += [f"### {md_escape(label)}", ""]
        lines += _md_table_rows(entries)
    if not by_clause:
        lines += ["No comments or amendments yet.", ""]
    lines += ["## Dispositions by cluster", ""]
    for organisation, entries in report.by_organisation():
        lines += [f"### {md_escape(organisation or 'Unknown organisation')}", ""]
        lines += _md_table_rows(entries, by_cluster=True)
    lines += ["## By clause, in full", ""]
    for label, entries in by_clause:
        lines += [f"### {md_escape(label)}", ""]
        for entry in entries:
            lines += _md_entry(entry, with_clause=False)
    return "\n".join(lines).rstrip() + "\n"


def _md_table_rows(entries: list[Entry], by_cluster: bool = False) -> list[str]:
    """A disposition table: by clause it names the cluster, by cluster the clause."""
    where = "Clause" if by_cluster else "Cluster"
    lines = [f"| Item | {where} | Author | Date | Excerpt | Disposition | Reason |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for entry in entries:
        place = entry.clause_label if by_cluster else entry.organisation
        lines.append(f"| {entry.kind_label} {entry.id} | {_md_cell(place)} | {_md_cell(entry.author)} | "
                     f"{entry.created_at.strftime('%d %b %Y')} | {_md_cell(entry.excerpt)} | "
                     f"{entry.disposition_label} | {_md_cell(entry.reason)} |")
    return lines + [""]


# ---- CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = ("clause_number", "clause_heading", "type", "id", "cluster", "author", "date", "excerpt",
               "disposition", "disposition_label", "reason", "decided_by", "decided_at", "quote", "text",
               "rationale", "accepted_text", "accepted_version", "replies")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """Make a cell safe for spreadsheets: text starting like a formula is prefixed with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_csv(report: Report) -> str:
    """Render the report as CSV, one row per thread or amendment in clause order, formula-like cells
    neutralised. A deleted clause's number reads "deleted". In English."""
    with force_locale(DEFAULT_LANGUAGE):
        return _report_csv(report)


def _report_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in report.entries:
        replies = "\n\n".join(f"{r.author} ({r.organisation}): {r.text or '(deleted)'}" for r in entry.replies)
        writer.writerow([csv_cell(value) for value in (
            entry.number if entry.number is not None else "deleted", entry.clause.heading or "",
            entry.kind, entry.id, entry.organisation, entry.author, iso(entry.created_at), entry.excerpt,
            entry.disposition, entry.disposition_label, entry.reason or "", entry.decided_by or "",
            iso(entry.decided_at) or "", entry.quote or "", entry.text, entry.rationale, entry.accepted_text or "",
            entry.accepted_version or "", replies)])
    return out.getvalue()


def report_json(report: Report) -> list[dict]:
    """Return the report's entries for the API (labels and excerpts in English, as the downloads)."""
    with force_locale(DEFAULT_LANGUAGE):
        return _report_json(report)


def _report_json(report: Report) -> list[dict]:
    return [{"type": e.kind, "id": e.id, "clause_id": e.clause.id, "clause_number": e.number,
             "clause_heading": e.clause.heading, "clause_deleted": e.clause_deleted,
             "organisation": e.organisation, "author": e.author, "created_at": iso(e.created_at),
             "excerpt": e.excerpt, "disposition": e.disposition, "disposition_label": e.disposition_label, "decided_by": e.decided_by, "decided_at": iso(e.decided_at),
             "reason": e.reason, "quote": e.quote, "text": e.text, "rationale": e.rationale,
             "accepted_text": e.accepted_text, "accepted_version": e.accepted_version,
             "replies": [{"author": r.author, "organisation": r.organisation, "created_at": iso(r.created_at),
                          "text": r.text, "deleted": r.deleted} for r in e.replies]}
            for e in report.entries]
