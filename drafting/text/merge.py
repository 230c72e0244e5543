"""Three-way merge of clause text like diff3, at word granularity: never text nobody wrote.

Both sides are diffed against the base word by word. Their edits, as ranges of the base,
are merged when at least one unchanged word of the base lies between them; edits that
overlap, insert at the same point, or sit on adjacent words (only spaces or punctuation
between) are a conflict, unless both sides wrote exactly the same text there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from .diffing import DELETE, EQUAL, diff_ops

_WORD_CHAR = re.compile(r"\w")

MINE, THEIRS = 0, 1


@dataclass(frozen=True)
class MergeResult:
    """The outcome of a merge: the merged text when clean, else the contested base ranges."""

    text: str | None  # merged text when clean, else None
    clean: bool
    conflicts: list[tuple[int, int]]  # base character ranges both sides touched (empty when clean)


class Hunk(NamedTuple):
    """One edit of the base: replace base[start:end] with replacement (start == end inserts)."""

    start: int
    end: int
    replacement: str


@dataclass
class _Cluster:
    """Edits from either side that no unchanged base word separates."""

    start: int
    end: int
    hunks: list[tuple[Hunk, int]]


def edit_hunks(base: str, other: str) -> list[Hunk]:
    """List the edits turning base into other, in base order, on whole-token boundaries."""
    hunks: list[Hunk] = []
    pos = 0
    start: int | None = None
    inserted: list[str] = []
    for op, text in diff_ops(base, other):
        if op == EQUAL:
            if start is not None:
                hunks.append(Hunk(start, pos, "".join(inserted)))
                start, inserted = None, []
            pos += len(text)
            continue
        if start is None:
            start = pos
        if op == DELETE:
            pos += len(text)
        else:
            inserted.append(text)
    if start is not None:
        hunks.append(Hunk(start, pos, "".join(inserted)))
    return hunks


def apply_hunks(base: str, hunks: Iterable[Hunk], start: int = 0, end: int | None = None) -> str:
    """Apply disjoint hunks to base[start:end] and return that stretch of text."""
    end = len(base) if end is None else end
    pieces: list[str] = []
    pos = start
    for hunk in sorted(hunks, key=lambda h: (h.start, h.end)):
        pieces.append(base[pos:hunk.start])
        pieces.append(hunk.replacement)
        pos = hunk.end
    pieces.append(base[pos:end])
    return "".join(pieces)


def _touches(base: str, end: int, start: int) -> bool:
    """Tell whether an edit starting at start meets one ending at end: no base word between."""
    return start < end or _WORD_CHAR.search(base, end, start) is None


def _clusters(base: str, mine: list[Hunk], theirs: list[Hunk]) -> list[_Cluster]:
    """Group both sides' hunks into runs that touch one another, in base order."""
    tagged = [(hunk, MINE) for hunk in mine] + [(hunk, THEIRS) for hunk in theirs]
    tagged.sort(key=lambda item: (item[0].start, item[0].end, item[1]))
    clusters: list[_Cluster] = []
    for hunk, side in tagged:
        if clusters and _touches(base, clusters[-1].end, hunk.start):
            cluster = clusters[-1]
            cluster.end = max(cluster.end, hunk.end)
            cluster.hunks.append((hunk, side))
        else:
            clusters.append(_Cluster(hunk.start, hunk.end, [(hunk, side)]))
    return clusters


def merge_texts(base: str, mine: str, theirs: str) -> MergeResult:
    """Merge two concurrent edits of base like diff3; conflict when they touch the same words."""
    if mine == theirs:
        return MergeResult(mine, True, [])
    if mine == base:
        return MergeResult(theirs, True, [])
    if theirs == base:
        return MergeResult(mine, True, [])

    pieces: list[str] = []
    conflicts: list[tuple[int, int]] = []
    pos = 0
    for cluster in _clusters(base, edit_hunks(base, mine), edit_hunks(base, theirs)):
        sides = {side for _, side in cluster.hunks}
        versions = {
            apply_hunks(base, [hunk for hunk, s in cluster.hunks if s == side], cluster.start, cluster.end)
            for side in sides
        }
        if len(versions) > 1:  # both sides edited here, and differently
            conflicts.append((cluster.start, cluster.end))
            continue
        pieces.append(base[pos:cluster.start])
        pieces.append(versions.pop())
        pos = cluster.end
    if conflicts:
        return MergeResult(None, False, conflicts)
    pieces.append(base[pos:])
    return MergeResult("".join(pieces), True, [])
