"""Clause history, diffs between versions, restores, named versions and their comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select, tuple_

from .. import audit
from ..clauses.operations import SaveResult, save_clause
from ..documents.operations import DocumentError, document_hash
from ..errors import DomainError
from ..extensions import db
from ..models import Clause, ClauseRevision, Document, DocumentVisit, Snapshot, SnapshotClause, User
from ..models.base import is_db_int, parse_int, utcnow
from ..text import offload
from ..text.diffing import DIFF_WORK_BUDGET, Budget, longest_increasing

# Opening a document again after this long starts a new visit (reloads within a visit keep the marks).
VISIT_GAP = timedelta(minutes=30)


class HistoryError(DomainError):
    """An unknown version or snapshot (404), or a value that is no number at all (422)."""


def revisions_of(clause: Clause) -> list[ClauseRevision]:
    """Return every revision of the clause, oldest first."""
    return list(db.session.scalars(
        select(ClauseRevision).where(ClauseRevision.clause_id == clause.id).order_by(ClauseRevision.version)))


def revision(clause: Clause, version: object) -> ClauseRevision:
    """Return the revision of the clause at a version, or raise HistoryError."""
    if version is None or version == "":
        raise HistoryError(422, _("Give a version number (from and to, or version)."))
    if isinstance(version, str):
        raw, version = version, parse_int(version)
        if version is None:
            raise HistoryError(422, _("“%(value)s” is not a version number: give a whole number such as 1.",
                                      value=raw[:40]))
    found = None
    if is_db_int(version):
        found = db.session.scalar(select(ClauseRevision).where(
            ClauseRevision.clause_id == clause.id, ClauseRevision.version == version))
    if found is None:
        raise HistoryError(404, _("Version %(version)s of this clause does not exist.", version=version))
    return found


@dataclass(frozen=True)
class ClauseDiff:
    old: ClauseRevision
    new: ClauseRevision
    ops: list[tuple[int, str]]
    heading_changed: bool


def diff_versions(clause: Clause, from_version: object, to_version: object) -> ClauseDiff:
    """Diff two versions of a clause; from later than to shows the reverse change."""
    old, new = revision(clause, from_version), revision(clause, to_version)
    return ClauseDiff(old, new, offload.diff(old.text, new.text), (old.heading or "") != (new.heading or ""))


def restore_revision(clause: Clause, actor: User, version: object) -> SaveResult:
    """Make an older version the current text again, as a new revision with origin restore."""
    old = revision(clause, version)
    return save_clause(clause, actor, old.text, clause.version, heading=old.heading, origin="restore",
                       kind=old.kind, action=old.action)


# ---- named versions -------------------------------------------------------------------------

def create_snapshot(document: Document, actor: User, name: object, origin: str = "manual") -> Snapshot:
    """Record the document's current clauses and versions under a name.

    `origin` is "manual", or "signing"/"adopted" for the versions taken when signing opens and at
    adoption (each signatory's "since you signed" compares against them).
    """
    if not isinstance(name, str) or not name.strip():
        raise DocumentError(422, _("A named version needs a name."))
    if len(name) > 200:
        raise DocumentError(413, _("Names of versions are limited to 200 characters."))
    snapshot = Snapshot(document_id=document.id, name=" ".join(name.split()),
                        content_hash=document_hash(document), created_by_id=actor.id, origin=origin)
    snapshot.entries = [SnapshotClause(clause_id=c.id, position=n, version=c.version)
                        for n, c in enumerate(document.clauses, start=1)]
    db.session.add(snapshot)
    db.session.flush()
    audit.record(actor, document, "snapshot.created", "snapshot", snapshot.id, name=snapshot.name,
                 content_hash=snapshot.content_hash, **({"origin": origin} if origin != "manual" else {}))
    return snapshot


def snapshots_of(document: Document) -> list[Snapshot]:
    """Return the document's named versions, newest first."""
    return list(db.session.scalars(
        select(Snapshot).where(Snapshot.document_id == document.id).order_by(Snapshot.id.desc())))


def get_snapshot(document: Document, snapshot_id: object) -> Snapshot:
    """Return a named version of this document, or raise HistoryError."""
    if snapshot_id is None or snapshot_id == "":
        raise HistoryError(422, _("Choose a named version to compare from."))
    if isinstance(snapshot_id, str):
        raw, snapshot_id = snapshot_id, parse_int(snapshot_id)
        if snapshot_id is None:
            raise HistoryError(422, _("“%(value)s” is not the number of a named version.", value=raw[:40]))
    snapshot = db.session.get(Snapshot, snapshot_id) if is_db_int(snapshot_id) else None
    if snapshot is None or snapshot.document_id != document.id:
        raise HistoryError(404, _("Named version %(version)s does not exist for this document.", version=snapshot_id))
    return snapshot


@dataclass
class Side:
    """One side of a comparison: a named version or the current text."""

    label: str
    order: list[int]                       # clause ids in order
    versions: dict[int, int]               # clause id -> version
    content_hash: str
    snapshot_id: int | None = None
    created_at: datetime | None = None

    @property
    def shown_label(self) -> str:
        """The label as a page shows it: the current text's in the person's language (`label` stays
        English: the API answers with it), a named version's name as it was given."""
        return _("Current text") if self.snapshot_id is None else self.label


@dataclass
class Entry:
    clause_id: int
    heading: str | None
    text: str
    number: int | None = None              # on the side it belongs to
    from_number: int | None = None
    to_number: int | None = None
    from_version: int | None = None
    to_version: int | None = None
    ops: list[tuple[int, str]] = field(default_factory=list)
    old_heading: str | None = None


@dataclass
class Comparison:
    old: Side
    new: Side
    added: list[Entry]
    removed: list[Entry]
    moved: list[Entry]
    changed: list[Entry]

    @property
    def summary(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed), "moved": len(self.moved),
                "changed": len(self.changed)}


def snapshot_side(snapshot: Snapshot) -> Side:
    entries = sorted(snapshot.entries, key=lambda e: e.position)
    return Side(snapshot.name, [e.clause_id for e in entries], {e.clause_id: e.version for e in entries},
                snapshot.content_hash, snapshot.id, snapshot.created_at)


COMPARE_WORK_BUDGET = 3 * DIFF_WORK_BUDGET


def current_side(document: Document) -> Side:
    clauses = document.clauses
    return Side("Current text", [c.id for c in clauses], {c.id: c.version for c in clauses},
                document_hash(document))


def _stable_ids(old: list[int], new: list[int]) -> set[int]:
    """Clause ids that keep their relative order: the longest common subsequence of both orders."""
    common = set(old) & set(new)
    a = [i for i in old if i in common]
    index_in_new = {cid: n for n, cid in enumerate(i for i in new if i in common)}
    seq = [index_in_new[i] for i in a]
    return {a[k] for k in longest_increasing(seq)}


def compare(old: Side, new: Side) -> Comparison:
    """List the clauses added, removed, moved and changed from one side to the other."""
    wanted = {(cid, v) for cid, v in old.versions.items()} | {(cid, v) for cid, v in new.versions.items()}
    texts: dict[tuple[int, int], ClauseRevision] = {}
    pairs = list(wanted)
    for start in range(0, len(pairs), 400):
        chunk = pairs[start:start + 400]
        for rev in db.session.scalars(select(ClauseRevision).where(
                tuple_(ClauseRevision.clause_id, ClauseRevision.version).in_(chunk))):
            texts[(rev.clause_id, rev.version)] = rev
    old_number = {cid: n for n, cid in enumerate(old.order, start=1)}
    new_number = {cid: n for n, cid in enumerate(new.order, start=1)}
    stable = _stable_ids(old.order, new.order)
    # One budget for the whole comparison, not one per clause: past it, the remaining changed
    # clauses show as replaced whole, so a document of many rewritten clauses stays bounded.
    budget = Budget(COMPARE_WORK_BUDGET)
    added, removed, moved, changed = [], [], [], []
    for cid in new.order:
        rev = texts[(cid, new.versions[cid])]
        if cid not in old.versions:
            added.append(Entry(cid, rev.heading, rev.text, number=new_number[cid], to_version=rev.version))
    for cid in old.order:
        rev = texts[(cid, old.versions[cid])]
        if cid not in new.versions:
            removed.append(Entry(cid, rev.heading, rev.text, number=old_number[cid], from_version=rev.version))
    for cid in new.order:
        if cid not in old.versions:
            continue
        before, after = texts[(cid, old.versions[cid])], texts[(cid, new.versions[cid])]
        entry = Entry(cid, after.heading, after.text, from_number=old_number[cid], to_number=new_number[cid],
                      from_version=before.version, to_version=after.version, old_heading=before.heading)
        if cid not in stable:
            moved.append(entry)
        if before.text != after.text or (before.heading or "") != (after.heading or ""):
            changed.append(Entry(**{**entry.__dict__, "ops": offload.diff(before.text, after.text, budget)}))
    return Comparison(old, new, added, removed, moved, changed)


# ---- changed since your last visit ----------------------------------------------------------

def record_visit(document: Document, user: User) -> DocumentVisit:
    """Note that the user opened the document; a new visit moves 'last seen' to the previous one."""
    now = utcnow()
    visit = db.session.scalar(select(DocumentVisit).where(
        DocumentVisit.document_id == document.id, DocumentVisit.user_id == user.id))
    if visit is None:
        visit = DocumentVisit(document_id=document.id, user_id=user.id, seen_at=now, opened_at=now)
        db.session.add(visit)
    elif visit.opened_at is None or now - visit.opened_at > VISIT_GAP:
        visit.seen_at = max(visit.seen_at, visit.opened_at or visit.seen_at)
        visit.opened_at = now
    else:
        visit.opened_at = now
    return visit


def mark_all_seen(document: Document, user: User) -> None:
    """Clear the 'changed since your last visit' marks."""
    visit = record_visit(document, user)
    visit.seen_at = utcnow()


def changed_since(document: Document, user: User, since: datetime) -> dict[int, int]:
    """Map each clause changed by others since a moment to the version it had then (0: new since)."""
    clause_ids = [c.id for c in document.clauses]
    if not clause_ids:
        return {}
    rows = db.session.execute(
        select(ClauseRevision.clause_id, ClauseRevision.version, ClauseRevision.created_at,
               ClauseRevision.author_id)
        .where(ClauseRevision.clause_id.in_(clause_ids)).order_by(ClauseRevision.version)).all()
    seen_version: dict[int, int] = {}
    changed: set[int] = set()
    for clause_id, version, created_at, author_id in rows:
        if created_at <= since:
            seen_version[clause_id] = version
        elif author_id != user.id:
            changed.add(clause_id)
    return {cid: seen_version.get(cid, 0) for cid in changed}
