"""Three-way merge of clause text like diff3, in word units: never text nobody wrote.

Both sides are diffed against the base with minimal, token-aligned edit ranges (no semantic
cleanup: that is for display). Their edits, as ranges of the base, are merged when anything
but whitespace of the base lies between them: a word, a punctuation mark, an emoji, one
character of a script written without spaces. Edits that overlap, insert at the same point,
or are separated only by spaces are a conflict, unless both sides wrote exactly the same there.

When that conflicts, one more alignment is tried: if one side is the other plus edits clear of
the other's own edits (a save retried after it was merged, say), that side is the merge. All
diffs of one merge draw on one work budget; a merge that cannot be proved safe within it is a
conflict.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from . import diffing
from .diffing import Budget, change_ranges, is_token_edge, tokenize

# Two diffs and, on a conflict, up to two more, all on one budget: some 100 ms at worst
# (docs/benchmarks.md, "Clause diff and merge").
MERGE_WORK_BUDGET = 150_000
_SLIDE_WORK = 100  # budget charged for each placement of an edit tried (a short tokenising)

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


def edit_hunks(base: str, other: str, budget: Budget | None = None) -> list[Hunk]:
    """List the edits turning base into other, in base order, on whole-token boundaries."""
    return _hunks(other, change_ranges(base, other, budget, spaced=True))


def _hunks(other: str, ranges: list[int]) -> list[Hunk]:
    return [Hunk(ranges[k], ranges[k + 1], other[ranges[k + 2]:ranges[k + 3]]) for k in range(0, len(ranges), 4)]


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
    """Tell whether an edit starting at start meets one ending at end: only spaces between."""
    return start < end or not base[end:start].strip()


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


def merge_texts(base: str, mine: str, theirs: str, budget: Budget | None = None) -> MergeResult:
    """Merge two concurrent edits of base like diff3; conflict when they touch the same words."""
    if mine == theirs:
        return MergeResult(mine, True, [])
    if mine == base:
        return MergeResult(theirs, True, [])
    if theirs == base:
        return MergeResult(mine, True, [])
    budget = budget or Budget(MERGE_WORK_BUDGET)
    compiled = _compiled_merge(base, mine, theirs, budget)
    if compiled is not None:
        return compiled
    mine_ranges = change_ranges(base, mine, budget, spaced=True)
    theirs_ranges = change_ranges(base, theirs, budget, spaced=True)
    core = diffing._textcore
    if core is not None:  # the same grouping in the compiled pass (_textcore.c, `merge`)
        merged = core.merge(base, mine, theirs, mine_ranges, theirs_ranges)
        if isinstance(merged, str):
            return MergeResult(merged, True, [])
        conflicts = list(zip(merged[::2], merged[1::2], strict=True))
        return _settle(base, mine, theirs, mine_ranges, theirs_ranges, conflicts, budget)
    mine_hunks, theirs_hunks = _hunks(mine, mine_ranges), _hunks(theirs, theirs_ranges)
    pieces: list[str] = []
    conflicts = []
    pos = 0
    for cluster in _clusters(base, mine_hunks, theirs_hunks):
        hunks = cluster.hunks
        if len(hunks) == 1:  # most clusters: one edit of one side
            version = hunks[0][0].replacement
        elif all(side == hunks[0][1] for _, side in hunks):
            version = apply_hunks(base, [hunk for hunk, _ in hunks], cluster.start, cluster.end)
        else:
            mine_version, theirs_version = (
                apply_hunks(base, [hunk for hunk, s in hunks if s == side], cluster.start, cluster.end)
                for side in (MINE, THEIRS))
            if mine_version != theirs_version:  # both sides edited here, and differently
                conflicts.append((cluster.start, cluster.end))
                continue
            version = mine_version
        pieces.append(base[pos:cluster.start])
        pieces.append(version)
        pos = cluster.end
    if conflicts:
        return _settle(base, mine, theirs, mine_ranges, theirs_ranges, conflicts, budget)
    pieces.append(base[pos:])
    return MergeResult("".join(pieces), True, [])


def _compiled_merge(base: str, mine: str, theirs: str, budget: Budget) -> MergeResult | None:
    """Both diffs and their grouping in one compiled call, base tokenised once (_textcore.c,
    `merge_texts`): the same ranges, budget and clusters as the calls below. None where it does not
    serve (no compiled pass, a text short enough for the Python path, a cluster it does not model)."""
    core = diffing._textcore
    if core is None or min(len(mine), len(theirs)) + len(base) < diffing._BATCHED_FROM:
        return None
    found = core.merge_texts(base, mine, theirs, budget.remaining, diffing._CORE_STEPS)
    if found is None:
        return None
    text, mine_ranges, theirs_ranges, conflicts, budget.remaining = found
    if text is not None:
        return MergeResult(text, True, [])
    conflicts = list(zip(conflicts[::2], conflicts[1::2], strict=True))
    # The ranges come as machine integers, read as the settling needs them (often a few).
    mine_ranges, theirs_ranges = memoryview(mine_ranges).cast("n"), memoryview(theirs_ranges).cast("n")
    return _settle(base, mine, theirs, mine_ranges, theirs_ranges, conflicts, budget)


def _settle(base: str, mine: str, theirs: str, mine_ranges: Sequence[int], theirs_ranges: Sequence[int],
            conflicts: list[tuple[int, int]], budget: Budget) -> MergeResult:
    """A conflict, unless one side is the other plus edits clear of the other's own."""
    if _extends(base, mine, mine_ranges, theirs, budget):
        return MergeResult(theirs, True, [])
    if _extends(base, theirs, theirs_ranges, mine, budget):
        return MergeResult(mine, True, [])
    return MergeResult(None, False, conflicts)


def _extends(base: str, first: str, first_ranges: Sequence[int], second: str, budget: Budget) -> bool:
    """Tell whether second is first plus edits clear of first's own edits (second is then the merge).

    first's edits are located in first's own text; the edits from first to second must each
    have something other than whitespace between them and every one of first's edits, so
    they sit in text first kept from the base: second then holds both sides' edits, apart.
    They must also not put back a word first deleted, nor delete one first wrote: with
    repeated words, edits from first to second could otherwise undo one of first's edits a
    word away from it ("shall, shall" cut to "shall" by first, put back by second).
    """
    if budget.spent:
        return False
    # Where each of first's edits sits in first: its located change ranges say it. Cheap first
    # (most conflicts stop here, at one of the first edits): each of first's edits, with the
    # character on each side (which an edit clear of it cannot change), must be found in second.
    if not all(first[max(start - 1, 0):end + 1] in second
               for start, end in zip(first_ranges[2::4], first_ranges[3::4], strict=True)):
        return False
    spans = list(zip(first_ranges[2::4], first_ranges[3::4], strict=True))
    extra = edit_hunks(first, second, budget)
    if budget.spent:
        return False  # the diff was cut short: its ranges are too coarse to judge by
    first_deleted = _words(base[start:end] for start, end in zip(first_ranges[::4], first_ranges[1::4], strict=True))
    first_wrote = _words(first[start:end] for start, end in spans)
    if (_words(hunk.replacement for hunk in extra) & first_deleted
            or _words(first[hunk.start:hunk.end] for hunk in extra) & first_wrote):
        return False
    ends = [end for _, end in spans]
    for hunk in extra:
        for slid in _slides(first, hunk):
            if not budget.spend(_SLIDE_WORK):
                return False
            if _clear(first, spans, ends, slid):
                break
        else:
            return False
    return True


def _clear(first: str, spans: list[tuple[int, int]], ends: list[int], hunk: Hunk) -> bool:
    """Tell whether an edit of first has more than whitespace between it and each of first's own edits."""
    k = bisect_right(ends, hunk.start)  # only the nearest edit on each side can meet this one
    for start, end in spans[max(k - 1, 0):k + 1]:
        if start >= hunk.end:
            if _touches(first, hunk.end, start):
                return False
        elif hunk.start >= end:
            if _touches(first, end, hunk.start):
                return False
        else:
            return False  # overlapping
    return True


def _slides(text: str, hunk: Hunk, limit: int = 64) -> Iterable[Hunk]:
    """Yield a pure insertion or deletion where it is, then the same edit slid over repeated text.

    Deleting one of "康康", or one "the " of "the the ", may be placed on either copy; a diff
    picks one, and the other may be the one clear of the other side's edits.
    """
    yield hunk
    if hunk.start != hunk.end and hunk.replacement:
        return
    moved = hunk.replacement or text[hunk.start:hunk.end]
    width = hunk.end - hunk.start
    for step in (1, -1):
        piece, start = moved, hunk.start
        for _ in range(limit):
            if step > 0:
                if start + width >= len(text) or text[start + width] != piece[0]:
                    break
                piece = piece[1:] + piece[0]
            else:
                if start == 0 or text[start - 1] != piece[-1]:
                    break
                piece = piece[-1] + piece[:-1]
            start += step
            if is_token_edge(text, start, spaced=True) and is_token_edge(text, start + width, spaced=True):
                yield Hunk(start, start + width, "" if width else piece)


def _words(texts: Iterable[str]) -> set[str]:
    """The tokens of some texts other than whitespace."""
    return {token for text in texts for token in tokenize(text) if not token.isspace()}
