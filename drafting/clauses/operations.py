"""Operations on clauses: save (with strict merging), add, delete, reorder. They flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit, live
from ..extensions import db
from ..models import Clause, ClauseRevision, Document, User
from ..models.base import is_db_int, utcnow
from ..text import offload
from ..text.clauses import TextError, clean_clause_text, clean_heading
from ..text.merge import MergeResult

CAS_ATTEMPTS = 20

# A save's two writes, built once: plain statements, not the unit of work (they were most of a
# save's CPU time). The compare-and-swap only matches the version the merge was computed against.
_CLAUSE = Clause.__table__
_COMPARE_AND_SWAP = (
    update(_CLAUSE).where(_CLAUSE.c.id == bindparam("clause_id"), _CLAUSE.c.version == bindparam("base"))
    .values(text=bindparam("new_text"), heading=bindparam("new_heading"), version=bindparam("new_version"),
            updated_at=bindparam("now"), updated_by_id=bindparam("author_id"))
)
_ADD_REVISION = insert(ClauseRevision.__table__)


class ClauseConflict(Exception):
    """A stale save whose edits touch the same words as a newer version; nothing was stored."""

    def __init__(self, clause: Clause, yours: str, yours_heading: str | None, base_version: int | None = None):
        super().__init__("Someone else changed the same words.")
        self.clause = clause
        self.yours = yours
        self.yours_heading = yours_heading
        self.base_version = base_version


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


def ensure_text_open(document: Document) -> None:
    """Refuse (423) a change whose transaction began before the text was frozen for signing."""
    from ..documents.operations import ensure_text_open as check  # the documents package imports this one

    check(document)


def revision_text(clause: Clause, version: int) -> ClauseRevision:
    """Return the revision of a clause at a version, or raise TextError 422."""
    revision = db.session.scalar(select(ClauseRevision).where(
        ClauseRevision.clause_id == clause.id, ClauseRevision.version == version))
    if revision is None:
        raise TextError(422, f"Version {version} of this clause does not exist.", "base_version")
    return revision


def _merge_heading(base: str | None, mine: str | None, theirs: str | None) -> tuple[str | None, bool]:
    if mine == theirs or mine == base:
        return theirs, True
    if theirs == base:
        return mine, True
    return None, False


def save_clause(clause: Clause, actor: User, text: object, base_version: object,
                heading: object = ..., origin: str = "edit", author: User | None = None) -> SaveResult:
    """Save new text based on base_version: store it, merge it, or raise ClauseConflict.

    Saves of one clause are serialised by compare-and-swap on the version: the UPDATE only
    matches the version the merge was computed against, so two saves never both become N+1.
    """
    text = clean_clause_text(text)
    if not is_db_int(base_version):
        raise TextError(422, "base_version must be a positive integer.", "base_version")
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
        current_version, current_text, current_heading = clause.version, clause.text, clause.heading
        mine_heading = current_heading if heading is ... else clean_heading(heading)
        if base_version > current_version:
            if not fresh:
                continue
            raise TextError(422, f"Version {base_version} of this clause does not exist yet.", "base_version")
        merged = base_version < current_version
        base = None
        if merged:
            base = revision_text(clause, base_version)
            result = merges.get(current_version)
            if result is None:
                result = merges[current_version] = offload.merge(base.text, text, current_text)
            new_heading, heading_clean = _merge_heading(base.heading, mine_heading, current_heading)
            if not result.clean or not heading_clean:
                if not fresh:
                    continue
                raise ClauseConflict(clause, text, mine_heading, base_version)
            new_text = result.text
        else:
            new_text, new_heading = text, mine_heading
        merge_info = (base.text, current_text) if base is not None else (None, None)
        if new_text == current_text and new_heading == current_heading:
            if not fresh:
                continue
            return SaveResult(clause, merged, False, *merge_info)
        now = utcnow()
        matched = db.session.execute(_COMPARE_AND_SWAP, {
            "clause_id": clause.id, "base": current_version, "new_version": current_version + 1,
            "new_text": new_text, "new_heading": new_heading, "now": now, "author_id": author.id,
        }).rowcount
        if matched != 1:
            continue  # someone else saved first: merge again against their version
        version = current_version + 1
        # A plain INSERT (revisions are never changed once written); any loaded list of the
        # clause's revisions is now out of date, so it is expired.
        db.session.execute(_ADD_REVISION, {
            "clause_id": clause.id, "version": version, "heading": new_heading, "text": new_text,
            "author_id": author.id, "organisation_id": author.organisation_id,
            "origin": "merge" if merged and origin == "edit" else origin, "created_at": now})
        if "revisions" in clause.__dict__:
            db.session.expire(clause, ["revisions"])
        for name, value in (("text", new_text), ("heading", new_heading), ("version", version),
                            ("updated_at", now), ("updated_by_id", author.id)):
            set_committed_value(clause, name, value)  # what the UPDATE wrote, without reloading
        live.announce(clause.document, "clause.updated", actor.id, clause_id=clause.id,
                      version=version, merged=merged)
        ensure_text_open(clause.document)
        audit.record(actor, clause.document, "clause.updated", "clause", clause.id, clause.id,
                     version=version, origin=origin, merged=merged)
        return SaveResult(clause, merged, True, *merge_info)
    raise ClauseConflict(clause, text, mine_heading, base_version)


def _live_clauses(document: Document) -> list[Clause]:
    return list(db.session.scalars(
        select(Clause).where(Clause.document_id == document.id, Clause.deleted_at.is_(None))
        .order_by(Clause.position, Clause.id)))


def _renumber(clauses: list[Clause]) -> None:
    for position, clause in enumerate(clauses, start=1):
        if clause.position != position:
            clause.position = position


def create_clause(document: Document, actor: User, text: object, heading: object = None,
                  after: Clause | None = None, origin: str = "edit") -> Clause:
    """Add a clause after another one (at the end when none is given)."""
    text = clean_clause_text(text)
    heading = clean_heading(heading)
    clauses = _live_clauses(document)
    index = clauses.index(after) + 1 if after is not None else len(clauses)
    now = utcnow()
    clause = Clause(document_id=document.id, position=0, heading=heading, text=text, version=1,
                    created_at=now, updated_at=now, updated_by_id=actor.id)
    db.session.add(clause)
    clauses.insert(index, clause)
    _renumber(clauses)
    db.session.flush()
    db.session.add(ClauseRevision(clause_id=clause.id, version=1, heading=heading, text=text,
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
    from ..consultation.operations import close_items_of_deleted_clause  # it imports this module

    document = clause.document
    close_items_of_deleted_clause(clause, actor)
    clause.deleted_at = utcnow()
    remaining = [c for c in _live_clauses(document) if c.id != clause.id]
    _renumber(remaining)
    db.session.flush()
    live.announce(document, "clause.deleted", actor.id, clause_id=clause.id)
    ensure_text_open(document)
    audit.record(actor, document, "clause.deleted", "clause", clause.id, clause.id,
                 version=clause.version)
    db.session.expire(document, ["clauses"])


def reorder_clauses(document: Document, actor: User, ids: list[int]) -> None:
    """Put the document's clauses in the given order (every clause id exactly once)."""
    clauses = _live_clauses(document)
    by_id = {c.id: c for c in clauses}
    if sorted(ids) != sorted(by_id):
        raise TextError(422, "The new order must list every clause of the document exactly once.", "order")
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
        raise TextError(422, "Direction must be 'up' or 'down'.", "direction")
    if 0 <= target < len(ids):
        ids[index], ids[target] = ids[target], ids[index]
        reorder_clauses(clause.document, actor, ids)
