"""Operations on clauses: save (with strict merging), add, delete, restore, reorder. They flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit, live
from ..consultation.closing import (
    close_items_of_deleted_clause,
    closed_by_deletion,
    reopen_items_of_restored_clause,
)
from ..extensions import db
from ..models import Amendment, AuditEvent, Clause, ClauseRevision, Document, Thread, User
from ..models.base import is_db_int, utcnow
from ..permissions import ensure_text_open
from ..text import offload
from ..text.actions import clean_action
from ..text.clauses import TextError, clean_clause_text, clean_heading
from ..text.merge import MergeResult
from ..text.numbering import clean_kind, default_kind

CAS_ATTEMPTS = 20

# A save's two writes, built once: plain statements, not the unit of work (they were most of a
# save's CPU time). The compare-and-swap only matches the version the merge was computed against.
_CLAUSE = Clause.__table__
_COMPARE_AND_SWAP = (
    update(_CLAUSE).where(_CLAUSE.c.id == bindparam("clause_id"), _CLAUSE.c.version == bindparam("base"),
                          _CLAUSE.c.deleted_at.is_(None))
    .values(text=bindparam("new_text"), heading=bindparam("new_heading"), kind=bindparam("new_kind"),
            action=bindparam("new_action", type_=_CLAUSE.c.action.type), version=bindparam("new_version"),
            updated_at=bindparam("now"), updated_by_id=bindparam("author_id"))
)
_ADD_REVISION = insert(ClauseRevision.__table__)


class ClauseConflict(Exception):
    """A stale save whose edits touch the same words as a newer version; nothing was stored."""

    def __init__(self, clause: Clause, yours: str, yours_heading: str | None, base_version: int | None = None,
                 base: ClauseRevision | None = None, yours_kind: str | None = None, yours_action: dict | None = None):
        super().__init__("Someone else changed the same words.")
        self.clause = clause
        self.yours = yours
        self.yours_heading = yours_heading
        self.yours_kind = yours_kind if yours_kind is not None else clause.kind
        self.yours_action = yours_action if yours_kind is not None else clause.action
        self.base_version = base_version
        # The version both sides started from, read now (a rollback follows): the conflict view shows it.
        self.base_text = base.text if base is not None else None
        self.base_heading = base.heading if base is not None else None
        self.base_kind = base.kind if base is not None else clause.kind
        self.base_action = base.action if base is not None else clause.action


# How many newer versions `conflicting_authors` merges one by one to find the first that overlaps.
MAX_CONFLICT_STEPS = 12


def conflicting_authors(clause: Clause, base_version: int | None, yours: str) -> list[User]:
    """Name who wrote the change a stale save overlaps: the author of the first version after the
    save's base that cannot be merged with it (not simply whoever saved last). Past
    MAX_CONFLICT_STEPS newer versions, everyone who saved since the base is named."""
    if not is_db_int(base_version):
        return [clause.updated_by] if clause.updated_by else []
    newer = list(db.session.scalars(select(ClauseRevision).where(
        ClauseRevision.clause_id == clause.id, ClauseRevision.version > base_version)
        .order_by(ClauseRevision.version)))
    base = revision_text(clause, base_version) if newer else None
    if base is not None and len(newer) <= MAX_CONFLICT_STEPS:
        for rev in newer:
            if not offload.merge(base.text, yours, rev.text).clean:
                return [rev.author] if rev.author else []
    authors: dict[int, User] = {}
    for rev in newer:
        if rev.author is not None:
            authors.setdefault(rev.author.id, rev.author)
    return list(authors.values())


@dataclass(frozen=True)
class SaveResult:
    clause: Clause
    merged: bool
    changed: bool
    # When merged: the text the save started from and the newer text it was merged into.
    base_text: str | None = None
    theirs_text: str | None = None


def merged_with(clause: Clause, base_version: int | None, actor: User) -> str:
    """Name the people a save was merged with: the authors of the versions between its base and
    itself ("someone" when unknown)."""
    names: list[str] = []
    if is_db_int(base_version):
        names = list(db.session.scalars(
            select(User.name).join(ClauseRevision, ClauseRevision.author_id == User.id)
            .where(ClauseRevision.clause_id == clause.id, ClauseRevision.version > base_version,
                   ClauseRevision.version < clause.version, User.id != actor.id)
            .distinct().limit(4)))
    if not names:
        return _("someone")
    joined = names[0]
    for name in names[1:3]:
        joined = _("%(first)s and %(second)s", first=joined, second=name)
    return _("%(names)s and others", names=joined) if len(names) > 3 else joined


def revision_text(clause: Clause, version: int) -> ClauseRevision:
    """Return the revision of a clause at a version, or raise TextError 422."""
    revision = db.session.scalar(select(ClauseRevision).where(
        ClauseRevision.clause_id == clause.id, ClauseRevision.version == version))
    if revision is None:
        raise TextError(422, _("Version %(version)s of this clause does not exist.", version=version), "base_version")
    return revision


def _merge_value(base, mine, theirs) -> tuple[object, bool]:
    """Three-way merge of one value (a heading, a kind, an action's fields): (result, clean)."""
    if mine == theirs or mine == base:
        return theirs, True
    if theirs == base:
        return mine, True
    return None, False


def save_clause(clause: Clause, actor: User, text: object, base_version: object,
                heading: object = ..., origin: str = "edit", author: User | None = None, *,
                kind: object = ..., action: object = ...) -> SaveResult:
    """Save new text based on base_version: store it, merge it, or raise ClauseConflict.

    Saves of one clause are serialised by compare-and-swap on the version: the UPDATE only
    matches the version the merge was computed against, so two saves never both become N+1.
    """
    text = clean_clause_text(text)
    kind = ... if kind is ... else clean_kind(kind)
    if not is_db_int(base_version):
        raise TextError(422, _("base_version must be a positive integer."), "base_version")
    author = author or actor
    # The first attempt trusts the clause as loaded in this request (one SELECT less per save):
    # if that copy is stale, the compare-and-swap matches nothing and the next attempt re-reads
    # it. An answer a stale copy could get wrong (a version "from the future", a conflict,
    # "nothing changed") is only given after a re-read.
    merges: dict[int, MergeResult] = {}  # by the version merged against: a re-read of the same one merges once
    for attempt in range(CAS_ATTEMPTS + 1):
        fresh = attempt > 0
        if fresh:
            db.session.refresh(clause)
        if clause.deleted_at is not None:  # deleted meanwhile: an edit of it would be acknowledged and lost
            raise TextError(410, _("This clause was deleted while you were editing it; your text was not saved. "
                                   "Copy it, or restore the clause from the Deleted clauses and save again."), "clause")
        current_version, current_text, current_heading = clause.version, clause.text, clause.heading
        current_kind, current_action = clause.kind, clause.action
        mine_heading = current_heading if heading is ... else clean_heading(heading)
        mine_kind = current_kind if kind is ... else kind
        mine_action = current_action if action is ... else clean_action(action, mine_kind, clause.document)
        if mine_kind != "action":
            mine_action = None
        if base_version > current_version:
            if not fresh:
                continue
            raise TextError(422, _("Version %(version)s of this clause does not exist yet.", version=base_version),
                            "base_version")
        merged = base_version < current_version
        base = None
        if merged:
            base = revision_text(clause, base_version)
            result = merges.get(current_version)
            if result is None:
                result = merges[current_version] = offload.merge(base.text, text, current_text)
            new_heading, heading_clean = _merge_value(base.heading, mine_heading, current_heading)
            new_kind, kind_clean = _merge_value(base.kind, mine_kind, current_kind)
            new_action, action_clean = _merge_value(base.action, mine_action, current_action)
            if not result.clean or not heading_clean or not kind_clean or not action_clean:
                if not fresh:
                    continue
                raise ClauseConflict(clause, text, mine_heading, base_version, base, mine_kind, mine_action)
            new_text = result.text
        else:
            new_text, new_heading, new_kind, new_action = text, mine_heading, mine_kind, mine_action
        if new_kind != "action":
            new_action = None
        merge_info = (base.text, current_text) if base is not None else (None, None)
        if (new_text, new_heading, new_kind, new_action) == (current_text, current_heading, current_kind,
                                                             current_action):
            if not fresh:
                continue
            return SaveResult(clause, merged, False, *merge_info)
        now = utcnow()
        # The document's row first, then the clause's: the order every change of the clause list
        # takes them in (a delete racing this save would otherwise deadlock on PostgreSQL).
        live.locked_row(clause.document)
        matched = db.session.execute(_COMPARE_AND_SWAP, {
            "clause_id": clause.id, "base": current_version, "new_version": current_version + 1,
            "new_text": new_text, "new_heading": new_heading, "new_kind": new_kind, "new_action": new_action,
            "now": now, "author_id": author.id,
        }).rowcount
        if matched != 1:
            continue  # someone else saved first: merge again against their version
        version = current_version + 1
        # A plain INSERT (revisions are never changed once written); any loaded list of the
        # clause's revisions is now out of date, so it is expired.
        db.session.execute(_ADD_REVISION, {
            "clause_id": clause.id, "version": version, "heading": new_heading, "text": new_text,
            "kind": new_kind, "action": new_action,
            "author_id": author.id, "organisation_id": author.organisation_id,
            "origin": "merge" if merged and origin == "edit" else origin, "created_at": now})
        if "revisions" in clause.__dict__:
            db.session.expire(clause, ["revisions"])
        for name, value in (("text", new_text), ("heading", new_heading), ("kind", new_kind),
                            ("action", new_action), ("version", version),
                            ("updated_at", now), ("updated_by_id", author.id)):
            set_committed_value(clause, name, value)  # what the UPDATE wrote, without reloading
        # A new kind renumbers the clauses after it: pages refresh their list, not just this clause.
        live.announce(clause.document, "clause.updated", actor.id, clause_id=clause.id,
                      version=version, merged=merged, **({"renumbered": True} if new_kind != current_kind else {}))
        ensure_text_open(clause.document)
        audit.record(actor, clause.document, "clause.updated", "clause", clause.id, clause.id,
                     version=version, origin=origin, merged=merged)
        return SaveResult(clause, merged, True, *merge_info)
    raise ClauseConflict(clause, text, mine_heading, base_version, base, mine_kind, mine_action)


def _live_clauses(document: Document) -> list[Clause]:
    """The document's clauses in order, read under its row lock (taken first, held to commit).

    Every change of the list (create, delete, move, reorder, restore) reads it through here, so
    two of them never renumber from the same stale reading; positions are re-read from the
    database, not from objects this request loaded before the lock.
    """
    live.locked_row(document)
    return list(db.session.scalars(
        select(Clause).where(Clause.document_id == document.id, Clause.deleted_at.is_(None))
        .order_by(Clause.position, Clause.id).execution_options(populate_existing=True)))


def _renumber(clauses: list[Clause]) -> None:
    """Number the live clauses 1..n. Live positions are unique (a partial unique index), so the
    clauses that move first step aside to negative places, then take their new ones."""
    moving = [(position, c) for position, c in enumerate(clauses, start=1) if c.position != position]
    if not moving:
        return
    for _position, clause in moving:
        clause.position = -clause.id if clause.id is not None else 0
    db.session.flush()
    for position, clause in moving:
        clause.position = position


def create_clause(document: Document, actor: User, text: object, heading: object = None,
                  after: Clause | None = None, origin: str = "edit", kind: object = None,
                  action: object = None) -> Clause:
    """Add a clause after another one (at the end when none is given); its kind defaults to an
    action in a plan, an article otherwise."""
    text = clean_clause_text(text)
    heading = clean_heading(heading)
    kind = default_kind(document.kind) if kind in (None, "") else clean_kind(kind)
    action = clean_action(action, kind, document) if kind == "action" else None
    clauses = _live_clauses(document)
    if after is not None and after not in clauses:
        raise TextError(409, _("The clause to add after was deleted meanwhile; choose another place."), "after")
    index = clauses.index(after) + 1 if after is not None else len(clauses)
    now = utcnow()
    clause = Clause(document_id=document.id, position=0, heading=heading, text=text, kind=kind, action=action,
                    version=1,
                    created_at=now, updated_at=now, updated_by_id=actor.id)
    db.session.add(clause)
    clauses.insert(index, clause)
    _renumber(clauses)
    db.session.flush()
    db.session.add(ClauseRevision(clause_id=clause.id, version=1, heading=heading, text=text, kind=kind,
                                  action=action,
                                  author_id=actor.id, organisation_id=actor.organisation_id,
                                  origin=origin, created_at=now))
    live.announce(document, "clause.created", actor.id, clause_id=clause.id)
    ensure_text_open(document)
    audit.record(actor, document, "clause.created", "clause", clause.id, clause.id,
                 position=clause.position)
    db.session.expire(document, ["clauses"])
    return clause


def delete_clause(clause: Clause, actor: User) -> None:
    """Remove a clause from the document; its history is kept.

    Its open threads and amendments are closed first ("clause deleted"), their authors told; they
    stay in the consultation report.
    """
    document = clause.document
    remaining = [c for c in _live_clauses(document) if c.id != clause.id]
    db.session.refresh(clause, ["deleted_at"])
    if clause.deleted_at is not None:  # re-read under the lock: deleted meanwhile
        raise TextError(409, _("This clause was already deleted by someone else."), "clause")
    close_items_of_deleted_clause(clause, actor)
    clause.deleted_at = utcnow()
    _renumber(remaining)
    db.session.flush()
    live.announce(document, "clause.deleted", actor.id, clause_id=clause.id)
    ensure_text_open(document)
    audit.record(actor, document, "clause.deleted", "clause", clause.id, clause.id,
                 version=clause.version)
    db.session.expire(document, ["clauses"])


def restore_clause(clause: Clause, actor: User, position: object = None) -> Clause:
    """Put a deleted clause back at its former place (or at `position`, clamped), with its history.

    The threads and amendments its deletion closed ("clause deleted") are open again, their
    authors told: the deletion is undone, and so is what it did to them.
    """
    if position is not None and not is_db_int(position):
        raise TextError(422, _("position must be a positive integer."), "position")
    document = clause.document
    # Hold the document's row before reading the list, as every change of the list ends up
    # holding it: two restores (or a restore and a delete) are numbered one after the other.
    live.locked_row(document)
    ensure_text_open(document)
    db.session.refresh(clause, ["deleted_at", "position"])
    if clause.deleted_at is None:
        raise TextError(409, _("This clause is not deleted: someone may have restored it already."), "clause")
    threads, amendments = closed_by_deletion(clause)
    clauses = _live_clauses(document)
    index = min(max((position or clause.position) - 1, 0), len(clauses))
    clause.position = -clause.id  # out of the live clauses' way until renumbered (unique positions)
    clause.deleted_at = None
    clauses.insert(index, clause)
    _renumber(clauses)
    db.session.flush()
    live.announce(document, "clause.restored", actor.id, clause_id=clause.id)
    reopened = {"reopened_threads": len(threads), "reopened_amendments": len(amendments)} if threads or amendments \
        else {}
    audit.record(actor, document, "clause.restored", "clause", clause.id, clause.id,
                 position=clause.position, version=clause.version, **reopened)
    reopen_items_of_restored_clause(clause, actor, threads, amendments)
    db.session.expire(document, ["clauses"])
    return clause


@dataclass(frozen=True)
class DeletedClause:
    """A deleted clause as the page lists it: who deleted it, when, and what its deletion closed."""

    clause: Clause
    deleted_at: datetime
    deleted_by: User | None
    closed_threads: int = 0
    closed_amendments: int = 0

    @property
    def label(self) -> str:
        """Its heading, or the first words of its text."""
        if self.clause.heading:
            return self.clause.heading
        words = self.clause.text.split()
        return " ".join(words[:FIRST_WORDS]) + ("…" if len(words) > FIRST_WORDS else "")


FIRST_WORDS = 10


def _closed_counts(ids: list[int]) -> tuple[dict[int, int], dict[int, int]]:
    threads = dict(db.session.execute(
        select(Thread.clause_id, func.count()).where(Thread.clause_id.in_(ids), Thread.disposition == "clause_deleted")
        .group_by(Thread.clause_id)).all())
    amendments = dict(db.session.execute(
        select(Amendment.clause_id, func.count()).where(Amendment.clause_id.in_(ids),
                                                        Amendment.status == "clause_deleted")
        .group_by(Amendment.clause_id)).all())
    return threads, amendments


def closed_at_deletion(clause: Clause) -> tuple[int, int]:
    """Count the deleted clause's threads and amendments that its deletion closed (what restoring it reopens)."""
    threads, amendments = closed_by_deletion(clause)
    return len(threads), len(amendments)


def deleted_clause_count(document: Document) -> int:
    """Count the document's deleted clauses."""
    return db.session.scalar(select(func.count()).select_from(Clause).where(
        Clause.document_id == document.id, Clause.deleted_at.is_not(None)))


def deleted_clauses(document: Document) -> list[DeletedClause]:
    """Return the document's deleted clauses, most recently deleted first (who deleted them: the audit trail)."""
    clauses = list(db.session.scalars(
        select(Clause).where(Clause.document_id == document.id, Clause.deleted_at.is_not(None))
        .order_by(Clause.deleted_at.desc(), Clause.id.desc())))
    if not clauses:
        return []
    ids = [c.id for c in clauses]
    deleters: dict[int, User | None] = {}
    for event in db.session.scalars(select(AuditEvent).where(
            AuditEvent.document_id == document.id, AuditEvent.action == "clause.deleted",
            AuditEvent.clause_id.in_(ids)).order_by(AuditEvent.id)):
        deleters[event.clause_id] = event.actor  # the latest deletion wins
    threads, amendments = _closed_counts(ids)
    return [DeletedClause(c, c.deleted_at, deleters.get(c.id), threads.get(c.id, 0), amendments.get(c.id, 0))
            for c in clauses]


def reorder_clauses(document: Document, actor: User, ids: list[int]) -> None:
    """Put the document's clauses in the given order (every clause id exactly once)."""
    clauses = _live_clauses(document)
    by_id = {c.id: c for c in clauses}
    if sorted(ids) != sorted(by_id):
        raise TextError(422, _("The new order must list every clause of the document exactly once."), "order")
    before = [c.id for c in clauses]
    ordered = [by_id[i] for i in ids]
    _renumber(ordered)
    db.session.flush()
    moved = [cid for old, cid in zip(before, ids, strict=True) if old != cid]
    for clause_id in moved:
        live.announce(document, "clause.moved", actor.id, clause_id=clause_id)
    if moved:
        ensure_text_open(document)
        audit.record(actor, document, "clauses.reordered", "document", document.id, order=ids)
    db.session.expire(document, ["clauses"])


def move_clause(clause: Clause, actor: User, direction: str) -> None:
    """Move a clause one place up or down (the keyboard alternative to dragging)."""
    ids = [c.id for c in _live_clauses(clause.document)]
    index = ids.index(clause.id)
    target = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down"):
        raise TextError(422, _("Direction must be 'up' or 'down'."), "direction")
    if 0 <= target < len(ids):
        ids[index], ids[target] = ids[target], ids[index]
        reorder_clauses(clause.document, actor, ids)
