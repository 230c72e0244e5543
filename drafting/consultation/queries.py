"""Reading the consultation: what a clause's discussion looks like, open threads, contributions,
the summary per organisation, the deadline countdown, and the JSON of each object."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from flask import g
from flask_babel import gettext as _
from flask_babel import gettext as translate
from flask_babel import ngettext
from flask_babel.speaklater import LazyString
from markupsafe import Markup
from sqlalchemy import Row, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..i18n import N_, _l
from ..models import (
    Amendment,
    Clause,
    ClauseRevision,
    Comment,
    Contribution,
    Document,
    Notification,
    Organisation,
    Thread,
    User,
    contribution_clauses,
)
from ..models.base import iso, utcnow
from ..text import offload
from ..text.diffing import diff_html
from .operations import find_passage, fold_text

# Shown in pages, in the reader's language.
TOPIC_LABELS = {"research": _l("Research"), "patient_care": _l("Patient care"),
                "digital_solutions": _l("Digital solutions"), "fast_track": _l("Fast-track approval")}
KIND_LABELS = {"best_practice": _l("Best practice"), "bottleneck": _l("Bottleneck")}
# What became of a thread or an amendment. Threads: open, then accepted, partly accepted, not
# accepted or noted (models.consultation.DISPOSITIONS, labelled as there); "resolved" is a thread
# closed before dispositions were recorded. Amendments: open, accepted (with changes), rejected,
# withdrawn. Either: clause_deleted, closed because its clause was deleted. In English, as the
# report's downloads write them; pages show them in the reader's language (disposition_label,
# DISPOSITION_DISPLAY).
DISPOSITION_LABELS = {"open": N_("Open"), "resolved": N_("Resolved"), "accepted": N_("Accepted"),
                      "partly_accepted": N_("Partly accepted"), "not_accepted": N_("Not accepted"),
                      "noted": N_("Noted"), "clause_deleted": N_("Clause deleted"),
                      "accepted_with_changes": N_("Accepted with changes"), "rejected": N_("Rejected"),
                      "withdrawn": N_("Withdrawn")}


def disposition_label(disposition: str) -> str:
    """A disposition's label in the reader's language ("Partly accepted")."""
    return translate(DISPOSITION_LABELS[disposition]) if disposition in DISPOSITION_LABELS else disposition


# The labels for templates: looked up when shown.
DISPOSITION_DISPLAY = {key: LazyString(disposition_label, key) for key in DISPOSITION_LABELS}


# ---- one clause's discussion ---------------------------------------------------------------------

@dataclass(slots=True)
class ThreadView:
    thread: Thread
    clause: Clause
    organisation: Organisation | None  # the opening comment's
    changed: bool                      # the clause has a newer version than the thread was opened on
    outdated: bool                     # its quoted passage is no longer in the clause
    opening: Comment | Row | None      # the first comment (its body and deleted_at), for excerpts
    comment_count: int                 # deleted ones included
    replies: int                       # comments after the first, not deleted
    # None until asked for: a page showing only the discussions' summaries never needs them.
    loaded_comments: list[Comment] | None = field(default=None, repr=False)

    @property
    def comments(self) -> list[Comment]:
        """The thread's comments in order; deleted ones stay as placeholders."""
        if self.loaded_comments is None:
            self.loaded_comments = _comments_of(self.clause.document_id, self.thread.id)
        return self.loaded_comments


class AmendmentView:
    """An amendment as shown: its diffs are worked out when first shown, not when listed (a page
    whose discussions load on demand only counts amendments)."""

    def __init__(self, amendment: Amendment, clause: Clause):
        self.amendment, self.clause = amendment, clause
        # The clause changed since the amendment's base version.
        self.stale = amendment.status == "open" and clause.version != amendment.base_version

    @property
    def disposition(self) -> str:
        return disposition_of(self.amendment)

    @cached_property
    def base_text(self) -> str:
        return base_text_of(self.amendment, self.clause)

    @cached_property
    def diff(self) -> Markup:
        """The amendment against its base."""
        return Markup(diff_html(offload.diff(self.base_text, self.amendment.text)))

    @cached_property
    def _current(self) -> tuple[Markup | None, bool]:
        if not self.stale:
            return None, False
        merged = offload.merge(self.base_text, self.amendment.text, self.clause.text)
        result = self.amendment.text if not merged.clean else merged.text
        return Markup(diff_html(offload.diff(self.clause.text, result))), not merged.clean

    @property
    def current_diff(self) -> Markup | None:
        """When stale: what accepting would change in the current text."""
        return self._current[0]

    @property
    def conflicts(self) -> bool:
        """When stale: accepting as proposed touches the same words as the newer text."""
        return self._current[1]

    @cached_property
    def accepted_diff(self) -> Markup | None:
        """Accepted with changes: proposed -> accepted."""
        if self.disposition != "accepted_with_changes":
            return None
        return Markup(diff_html(offload.diff(self.amendment.text, self.amendment.accepted_text)))


@dataclass
class ClauseConsultation:
    threads: list[ThreadView] = field(default_factory=list)
    amendments: list[AmendmentView] = field(default_factory=list)
    contributions: int = 0

    @property
    def open_threads(self) -> int:
        return sum(1 for view in self.threads if view.thread.status == "open")

    @property
    def resolved_threads(self) -> int:
        return sum(1 for view in self.threads if view.thread.status == "resolved")

    @property
    def open_amendments(self) -> int:
        return sum(1 for view in self.amendments if view.amendment.status == "open")


def thread_disposition(thread: Thread) -> str:
    """Return a thread's disposition: open, accepted, partly_accepted, not_accepted, noted, clause_deleted
    (or resolved, for a thread closed before dispositions were recorded)."""
    if thread.status != "resolved":
        return "open"
    return thread.disposition or "resolved"


def open_items(clause: Clause) -> tuple[int, int]:
    """Count a clause's open threads and open amendments (what deleting it would close)."""
    threads = db.session.scalar(select(func.count(Thread.id)).where(Thread.clause_id == clause.id,
                                                                    Thread.status == "open")) or 0
    amendments = db.session.scalar(select(func.count(Amendment.id)).where(Amendment.clause_id == clause.id,
                                                                          Amendment.status == "open")) or 0
    return threads, amendments


def disposition_of(amendment: Amendment) -> str:
    """Return an amendment's disposition: open, accepted, accepted_with_changes, rejected, withdrawn,
    clause_deleted."""
    if amendment.status == "accepted" and amendment.accepted_text not in (None, amendment.text):
        return "accepted_with_changes"
    return amendment.status


def base_text_of(amendment: Amendment, clause: Clause) -> str:
    """Return the clause text the amendment was based on."""
    if amendment.base_version == clause.version:
        return clause.text
    revision = db.session.scalar(select(ClauseRevision).where(
        ClauseRevision.clause_id == clause.id, ClauseRevision.version == amendment.base_version))
    return revision.text if revision is not None else ""


def _view(thread: Thread, clause: Clause, comments: list, organisation: Organisation | None,
          loaded: list[Comment] | None = None) -> ThreadView:
    """A thread's view from its comments in order (Comment objects, or rows of their summaries)."""
    return ThreadView(thread, clause, organisation, clause.version > thread.clause_version,
                      _outdated(thread, clause), comments[0] if comments else None, len(comments),
                      sum(1 for c in comments[1:] if c.deleted_at is None), loaded)


def thread_view(thread: Thread, clause: Clause) -> ThreadView:
    comments = list(thread.comments)
    return _view(thread, clause, comments, comments[0].organisation if comments else None, comments)


def _outdated(thread: Thread, clause: Clause) -> bool:
    return bool(thread.quote) and find_passage(clause.text, thread.quote) is None


def _thread_views(document: Document, clauses: dict[int, Clause]) -> list[ThreadView]:
    """Build the views of the document's threads from summaries of their comments (loaded when asked)."""
    threads = [t for t in db.session.scalars(
        select(Thread).join(Clause).where(Clause.document_id == document.id, Thread.status != "deleted")
        .options(selectinload(Thread.author), selectinload(Thread.resolved_by))
        .order_by(Thread.id)) if t.clause_id in clauses]
    rows: dict[int, list[Row]] = defaultdict(list)
    for row in db.session.execute(
            select(Comment.thread_id, Comment.organisation_id, Comment.deleted_at, Comment.body)
            .join(Thread).join(Clause).where(Clause.document_id == document.id, Thread.status != "deleted")
            .order_by(Comment.id)):
        rows[row.thread_id].append(row)
    opener_ids = {r[0].organisation_id for r in rows.values() if r[0].organisation_id is not None}
    organisations = {o.id: o for o in db.session.scalars(
        select(Organisation).where(Organisation.id.in_(opener_ids)))} if opener_ids else {}
    views = []
    for thread in threads:
        comments = rows.get(thread.id, [])
        opener = organisations.get(comments[0].organisation_id) if comments else None
        views.append(_view(thread, clauses[thread.clause_id], comments, opener))
    return views


def _comments_of(document_id: int, thread_id: int) -> list[Comment]:
    """Return a thread's comments, loading those of all the document's threads the first time."""
    cache = g.setdefault("consultation_comments", {})
    if document_id not in cache:
        by_thread: dict[int, list[Comment]] = defaultdict(list)
        for comment in db.session.scalars(
                select(Comment).join(Thread).join(Clause)
                .where(Clause.document_id == document_id, Thread.status != "deleted")
                .options(selectinload(Comment.author), selectinload(Comment.organisation))
                .order_by(Comment.id)):
            by_thread[comment.thread_id].append(comment)
        cache[document_id] = by_thread
    return list(cache[document_id].get(thread_id, ()))


def amendment_view(amendment: Amendment, clause: Clause) -> AmendmentView:
    return AmendmentView(amendment, clause)


def _document_consultation(document: Document) -> dict[int, ClauseConsultation]:
    """Load the discussion of every clause of a document in a few queries (once per request)."""
    cache = g.setdefault("consultation_cache", {})
    if document.id in cache:
        return cache[document.id]
    clauses = {c.id: c for c in document.clauses}
    by_clause: dict[int, ClauseConsultation] = defaultdict(ClauseConsultation)
    for view in _thread_views(document, clauses):
        by_clause[view.clause.id].threads.append(view)
    amendments = db.session.scalars(
        select(Amendment).join(Clause).where(Clause.document_id == document.id)
        .options(selectinload(Amendment.author), selectinload(Amendment.decided_by),
                 selectinload(Amendment.organisation))
        .order_by(Amendment.id))
    for amendment in amendments:
        if amendment.clause_id in clauses:
            by_clause[amendment.clause_id].amendments.append(
                amendment_view(amendment, clauses[amendment.clause_id]))
    counts = db.session.execute(
        select(contribution_clauses.c.clause_id, func.count())
        .join(Contribution, Contribution.id == contribution_clauses.c.contribution_id)
        .where(Contribution.document_id == document.id, Contribution.withdrawn_at.is_(None))
        .group_by(contribution_clauses.c.clause_id))
    for clause_id, count in counts:
        by_clause[clause_id].contributions = count
    for view in by_clause.values():
        # Open before resolved, then oldest first: what still needs an answer comes first.
        view.threads.sort(key=lambda t: (t.thread.status != "open", t.thread.id))
        view.amendments.sort(key=lambda a: (a.amendment.status != "open", a.amendment.id))
    cache[document.id] = by_clause
    return by_clause


def clause_consultation(clause: Clause, document: Document | None = None) -> ClauseConsultation:
    """Return the threads, amendments and linked contributions of a clause (of the document, if given)."""
    return _document_consultation(document if document is not None else clause.document).get(clause.id) \
        or ClauseConsultation()


# Above this many comments a document page shows each clause's discussion as a summary that
# loads when opened, so a long consultation does not make every page load render all of it.
INLINE_COMMENTS = 300


def discussion_loads_on_demand(document: Document) -> bool:
    """Tell whether the document's discussion is too large to render inline on its page."""
    answers = g.setdefault("discussion_on_demand", {})
    if document.id not in answers:
        answers[document.id] = INLINE_COMMENTS < sum(
            view.comment_count for cc in _document_consultation(document).values() for view in cc.threads)
    return answers[document.id]


# ---- the document's open threads -------------------------------------------------------------

@dataclass
class OpenThread:
    view: ThreadView
    number: int


def open_threads(document: Document, organisation_id: int | None = None) -> list[OpenThread]:
    """Return the document's open threads in clause order, optionally only those an organisation opened."""
    rows = []
    by_clause = _document_consultation(document)
    for number, clause in enumerate(document.clauses, start=1):
        for view in by_clause.get(clause.id, ClauseConsultation()).threads:
            if view.thread.status != "open":
                continue
            if organisation_id is not None and (view.organisation is None or view.organisation.id != organisation_id):
                continue
            rows.append(OpenThread(view, number))
    return rows


def discussing_organisations(document: Document) -> list[Organisation]:
    """Return the participants and every other organisation that took part in the discussion."""
    ids = set(db.session.scalars(
        select(Comment.organisation_id).distinct().join(Thread).join(Clause)
        .where(Clause.document_id == document.id, Comment.organisation_id.is_not(None))))
    ids |= {o.id for o in document.participants}
    if not ids:
        return []
    return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)))


# ---- contributions ----------------------------------------------------------------------------

def contributions(document: Document, topic: str | None = None, organisation_id: int | None = None,
                  kind: str | None = None, clause_id: int | None = None) -> list[Contribution]:
    """Return the document's contributions (not withdrawn ones), newest first, filtered."""
    query = (select(Contribution).where(Contribution.document_id == document.id, Contribution.withdrawn_at.is_(None))
             .options(selectinload(Contribution.clauses), selectinload(Contribution.author),
                      selectinload(Contribution.organisation))
             .order_by(Contribution.id.desc()))
    if topic:
        query = query.where(Contribution.topic == topic)
    if organisation_id:
        query = query.where(Contribution.organisation_id == organisation_id)
    if kind:
        query = query.where(Contribution.kind == kind)
    if clause_id:
        query = query.where(Contribution.clauses.any(Clause.id == clause_id))
    return list(db.session.scalars(query))


def contributing_organisations(document: Document) -> list[Organisation]:
    ids = set(db.session.scalars(select(Contribution.organisation_id).where(
        Contribution.document_id == document.id, Contribution.withdrawn_at.is_(None))))
    ids |= {o.id for o in document.participants}
    if not ids:
        return []
    return list(db.session.scalars(select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)))


# ---- the summary per organisation -----------------------------------------------------------

SUMMARY_FIELDS = ("threads", "replies", "amendments", "accepted", "accepted_with_changes", "rejected",
                  "withdrawn", "open_amendments", "best_practices", "bottlenecks")


@dataclass
class OrganisationSummary:
    organisation: Organisation
    participant: bool
    counts: Counter

    @property
    def comments(self) -> int:
        return self.counts["threads"] + self.counts["replies"]

    @property
    def contributions(self) -> int:
        return self.counts["best_practices"] + self.counts["bottlenecks"]

    def to_json(self) -> dict:
        return {"organisation": self.organisation.name, "country": self.organisation.country,
                "participant": self.participant, "comments": self.comments,
                "contributions": self.contributions, **{name: self.counts[name] for name in SUMMARY_FIELDS}}


def summary(document: Document) -> list[OrganisationSummary]:
    """Count, per organisation, its comments, amendments (by outcome) and contributions."""
    counts: dict[int, Counter] = defaultdict(Counter)
    comments = db.session.execute(
        select(Comment.organisation_id, Comment.thread_id, Comment.deleted_at)
        .join(Thread, Thread.id == Comment.thread_id).join(Clause, Clause.id == Thread.clause_id)
        .where(Clause.document_id == document.id, Thread.status != "deleted")
        .order_by(Comment.id))
    seen_threads: set[int] = set()
    for organisation_id, thread_id, deleted_at in comments:
        opener = thread_id not in seen_threads  # the first comment opened the thread
        seen_threads.add(thread_id)
        if organisation_id is not None and (opener or deleted_at is None):
            counts[organisation_id]["threads" if opener else "replies"] += 1
    for amendment in db.session.scalars(select(Amendment).join(Clause).where(Clause.document_id == document.id)):
        if amendment.organisation_id is None:
            continue
        row = counts[amendment.organisation_id]
        row["amendments"] += 1
        disposition = disposition_of(amendment)
        row["open_amendments" if disposition == "open" else disposition] += 1
    for contribution in db.session.scalars(select(Contribution).where(Contribution.document_id == document.id,
                                                                      Contribution.withdrawn_at.is_(None))):
        counts[contribution.organisation_id]["best_practices" if contribution.kind == "best_practice"
                                             else "bottlenecks"] += 1
    participants = {o.id for o in document.participants}
    ids = participants | set(counts)
    organisations = db.session.scalars(select(Organisation).where(Organisation.id.in_(ids))) if ids else []
    rows = [OrganisationSummary(o, o.id in participants, counts[o.id]) for o in organisations]
    return sorted(rows, key=lambda row: (not row.participant, fold_text(row.organisation.name)))


# ---- the deadline --------------------------------------------------------------------------

def _days(count: int) -> str:
    return ngettext("%(num)s day", "%(num)s days", count)


def _hours(count: int) -> str:
    return ngettext("%(num)s hour", "%(num)s hours", count)


def _minutes(count: int) -> str:
    return ngettext("%(num)s minute", "%(num)s minutes", count)


def countdown(deadline: datetime | None, now: datetime | None = None) -> str | None:
    """Say how long until the deadline ("3 days 4 hours"), or None when it has passed or there is none."""
    if deadline is None:
        return None
    seconds = int((deadline - (now or utcnow())).total_seconds())
    if seconds <= 0:
        return None
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        return " ".join([_days(days)] + ([_hours(hours)] if hours else []))
    if hours:
        return " ".join([_hours(hours)] + ([_minutes(minutes)] if minutes else []))
    if minutes:
        return _minutes(minutes)
    return _("less than a minute")


def consultation_closed(document: Document, now: datetime | None = None) -> bool:
    """Tell whether the document's consultation deadline has passed."""
    return (document.phase == "consultation" and document.deadline is not None
            and (now or utcnow()) > document.deadline)


def contributions_close_at(document: Document) -> datetime | None:
    """When contributions close: their own deadline when set, else the consultation's (during it)."""
    if document.contributions_deadline is not None:
        return document.contributions_deadline
    return document.deadline if document.phase == "consultation" else None


# ---- notifications ---------------------------------------------------------------------------

def unread_count(user: User) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def notifications_of(user: User, limit: int = 200) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


# ---- mentions ----------------------------------------------------------------------------------

MENTION_SUGGESTIONS = 8


def mention_candidates(document: Document, query: str, me: User) -> list[dict]:
    """Up to 8 active members (not `me`) with a word of their name or e-mail starting with the query;
    accents and case do not matter. Names starting with it come first, then by name."""
    wanted = fold_text(query.lstrip("@"))[:100]
    if not wanted:
        return []
    starts_word = re.compile(r"(?:^|[\s.@_\-'’])" + re.escape(wanted))
    found = []
    for membership in document.memberships:
        user = membership.user
        if user.id == me.id or not user.is_active:
            continue
        name, email = fold_text(user.name), fold_text(user.email)
        if starts_word.search(name) or starts_word.search(email):
            found.append((not name.startswith(wanted), name, user.id, user))
    found.sort(key=lambda item: item[:3])
    return [{"name": user.name, "organisation": user.organisation.name}
            for *_rest, user in found[:MENTION_SUGGESTIONS]]


# ---- JSON ------------------------------------------------------------------------------------

def person(user: User | None) -> dict | None:
    return None if user is None else {"id": user.id, "name": user.name, "organisation": user.organisation.name}


def comment_json(comment: Comment) -> dict:
    deleted = comment.deleted_at is not None
    return {"id": comment.id, "thread_id": comment.thread_id, "author": person(comment.author),
            "organisation": comment.organisation.name if comment.organisation else None,
            "body": "" if deleted else comment.body, "created_at": iso(comment.created_at),
            "edited_at": iso(comment.edited_at), "deleted": deleted}


def thread_json(thread: Thread) -> dict:
    clause = thread.clause
    view = thread_view(thread, clause)
    return {"id": thread.id, "clause_id": thread.clause_id, "document_id": clause.document_id,
            "quote": thread.quote, "clause_version": thread.clause_version, "status": thread.status,
            "author": person(thread.author),
            "organisation": view.organisation.name if view.organisation else None,
            "created_at": iso(thread.created_at), "resolved_by": person(thread.resolved_by),
            "resolved_at": iso(thread.resolved_at), "disposition": thread.disposition, "reason": thread.reason,
            "clause_changed": view.changed, "outdated": view.outdated,
            "comments": [comment_json(c) for c in thread.comments]}


def amendment_json(amendment: Amendment) -> dict:
    return {"id": amendment.id, "clause_id": amendment.clause_id, "document_id": amendment.clause.document_id,
            "base_version": amendment.base_version, "text": amendment.text, "rationale": amendment.rationale,
            "status": amendment.status, "disposition": disposition_of(amendment), "reason": amendment.reason,
            "author": person(amendment.author),
            "organisation": amendment.organisation.name if amendment.organisation else None,
            "created_at": iso(amendment.created_at), "decided_by": person(amendment.decided_by),
            "decided_at": iso(amendment.decided_at), "accepted_text": amendment.accepted_text,
            "accepted_version": amendment.accepted_version}


def contribution_json(contribution: Contribution) -> dict:
    return {"id": contribution.id, "document_id": contribution.document_id,
            "organisation": contribution.organisation.name, "author": person(contribution.author),
            "kind": contribution.kind, "topic": contribution.topic, "title": contribution.title,
            "body": contribution.body, "proposal": contribution.proposal,
            "clause_ids": sorted(c.id for c in contribution.clauses if c.deleted_at is None),
            "created_at": iso(contribution.created_at), "updated_at": iso(contribution.updated_at)}


def notification_json(notification: Notification) -> dict:
    return {"id": notification.id, "document_id": notification.document_id, "message": notification.message,
            "excerpt": notification.excerpt, "url": notification.url, "created_at": iso(notification.created_at),
            "read": notification.read_at is not None}


# ---- the proposed changes, in the text ------------------------------------------------------------

MAX_PROPOSED_SHOWN = 200  # one page's worth of diffs: each is bounded, their number is too


def open_amendments_in_order(document: Document) -> tuple[list[AmendmentView], int]:
    """The document's open amendments in reading order (clause, then first proposed), as views;
    and how many there are in all (only the first MAX_PROPOSED_SHOWN are returned)."""
    query = (select(Amendment, Clause).join(Clause, Amendment.clause_id == Clause.id)
             .where(Clause.document_id == document.id, Clause.deleted_at.is_(None), Amendment.status == "open"))
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.options(selectinload(Amendment.author), selectinload(Amendment.organisation))
        .order_by(Clause.position, Amendment.created_at, Amendment.id).limit(MAX_PROPOSED_SHOWN)
    ).all()
    return [AmendmentView(amendment, clause) for amendment, clause in rows], total
