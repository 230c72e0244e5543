"""Explain a conflicting save: both versions against the base they started from, overlaps marked.

A save conflicts when both sides changed the same words of their common base (merge.py). Here
each side's edits of the base are found again with the merge's own bounded, word-level diff and
grouped the way the merge groups them, so the regions marked as overlapping are the ones a merge
refuses. From those regions come the two versions as HTML (every change marked, the overlapping
ones strongest) and the combined text offered to edit: every change that does not overlap, from
either side, and your words where both sides changed the same ones.

Clause text is user input: every piece is escaped (and hidden characters shown as badges, as the
|reveal filter does) before any mark-up is put around it.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

from .diffing import DIFF_WORK_BUDGET, Budget
from .merge import MINE, THEIRS, Hunk, _clusters, apply_hunks, edit_hunks
from .reveal import reveal


@dataclass(frozen=True)
class Region:
    """A stretch of the base, base[start:end], that one side or both changed, and what each has there."""

    start: int
    end: int
    mine: str
    theirs: str
    mine_hunks: tuple[Hunk, ...]
    theirs_hunks: tuple[Hunk, ...]

    @property
    def overlapping(self) -> bool:
        """Tell whether both sides changed these words, and differently (a merge refuses it)."""
        return bool(self.mine_hunks and self.theirs_hunks) and self.mine != self.theirs


@dataclass(frozen=True)
class Conflict:
    """Both sides' edits of their common base, grouped into regions in base order."""

    base: str
    mine: str
    theirs: str
    regions: tuple[Region, ...]
    coarse: bool  # the work budget ran out: some regions are wider than the words really changed

    @property
    def overlaps(self) -> list[Region]:
        """The regions both sides changed differently."""
        return [region for region in self.regions if region.overlapping]


@dataclass(frozen=True)
class ConflictView:
    """What the conflict view shows and offers, ready for a template (the HTML is escaped already)."""

    theirs_html: Markup
    mine_html: Markup
    overlaps: int  # how many regions both sides changed differently
    combined: str  # every change that does not overlap, and yours where both changed the same words
    combined_heading: str | None
    first_overlap: tuple[int, int] | None  # where the first overlap sits in combined, in UTF-16 units
    coarse: bool


def conflict_view(base: str, mine: str, theirs: str, base_heading: str | None = None,
                  mine_heading: str | None = None, theirs_heading: str | None = None) -> ConflictView:
    """Compare both sides of a conflicting save with their base, for people to choose or combine."""
    conflict = find_conflict(base, mine, theirs)
    combined, spans = combined_text(conflict)
    first = tuple(utf16_offsets(combined, list(spans[0]))) if spans else None
    return ConflictView(side_html(conflict, THEIRS), side_html(conflict, MINE), len(spans), combined,
                        combined_heading(base_heading, mine_heading, theirs_heading), first, conflict.coarse)


def find_conflict(base: str, mine: str, theirs: str, work: int = DIFF_WORK_BUDGET) -> Conflict:
    """Diff both sides against the base (bounded, in words) and group their edits as a merge does.

    Each side's diff has the work budget of one diff shown to people (some 50 ms at worst): past
    it, changed stretches stay whole, so regions get wider, never wrong.
    """
    budgets = Budget(work), Budget(work)
    mine_hunks, theirs_hunks = edit_hunks(base, mine, budgets[0]), edit_hunks(base, theirs, budgets[1])
    regions = []
    # The merge's own grouping: edits that no unchanged word of the base separates are one region.
    for cluster in _clusters(base, mine_hunks, theirs_hunks):
        sides = [tuple(hunk for hunk, side in cluster.hunks if side == wanted) for wanted in (MINE, THEIRS)]
        texts = [apply_hunks(base, hunks, cluster.start, cluster.end) for hunks in sides]
        regions.append(Region(cluster.start, cluster.end, texts[0], texts[1], sides[0], sides[1]))
    return Conflict(base, mine, theirs, tuple(regions), budgets[0].spent or budgets[1].spent)


def combined_text(conflict: Conflict) -> tuple[str, list[tuple[int, int]]]:
    """Combine both sides: every change that does not overlap, and yours where both changed the same words.

    Also return where each overlapping region sits in the combined text (character offsets,
    without the spaces around it), so an editor can go straight to it.
    """
    base = conflict.base
    pieces: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = length = 0
    for region in conflict.regions:
        kept = base[pos:region.start]
        text = region.mine if region.mine_hunks else region.theirs
        pieces += [kept, text]
        length += len(kept)
        if region.overlapping:
            lead = len(text) - len(text.lstrip())
            spans.append((length + lead, length + max(len(text.rstrip()), lead)))
        length += len(text)
        pos = region.end
    pieces.append(base[pos:])
    return "".join(pieces), spans


def combined_heading(base: str | None, mine: str | None, theirs: str | None) -> str | None:
    """Combine the headings as a merge does, yours where both changed it."""
    if theirs == base:
        return mine
    if mine == base:
        return theirs
    return mine


def utf16_offsets(text: str, offsets: list[int]) -> list[int]:
    """Turn character offsets of text into the UTF-16 offsets a browser's textarea counts in."""
    out, done, units = [], 0, 0
    for offset in sorted(offsets):
        units += len(text[done:offset].encode("utf-16-le")) // 2
        done = offset
        out.append(units)
    return out


def side_html(conflict: Conflict, side: int) -> Markup:
    """Render one side's text (MINE or the other) with its changes of the base marked, all escaped.

    A change that does not overlap the other side's is shown calmly: removed words in <del>,
    added ones in <ins>. Where both sides changed the same words, that side's text there is in
    <mark class="conflict">, numbered in base order so both versions' regions can be paired.
    Each mark has a visually-hidden text cue for screen readers.
    """
    base = conflict.base
    parts: list[str] = []
    pos = number = 0
    for region in conflict.regions:
        if region.overlapping:
            number += 1
        hunks = region.mine_hunks if side == MINE else region.theirs_hunks
        if not hunks:
            continue  # this side kept the base here
        parts.append(_shown(base[pos:region.start]))
        segments = _segments(base, hunks, region.start, region.end)
        if region.overlapping:
            lead, segments, trail = _lift_spaces(segments)
            parts += [_shown(lead), f'<mark class="conflict" data-overlap="{number}">',
                      f'<span class="visually-hidden">[overlapping change {number}: </span>',
                      _render(segments), '<span class="visually-hidden">]</span></mark>', _shown(trail)]
        else:
            parts.append(_render(segments))
        pos = region.end
    parts.append(_shown(base[pos:]))
    return Markup("".join(parts))


def _segments(base: str, hunks: tuple[Hunk, ...], start: int, end: int) -> list[tuple[str, str]]:
    """Split base[start:end] with hunks applied into ("", kept), ("del", removed), ("ins", added) pieces.

    A word carries the spaces after it; those are kept outside the marks, so "each " replaced by
    "every " reads "~~each~~ __every__ " (shown as a person would write it by hand), not with the
    words run together nor a struck-through space. Removed words alone keep their spaces struck out.
    """
    segments: list[tuple[str, str]] = []
    pos = start
    for hunk in sorted(hunks, key=lambda h: (h.start, h.end)):
        segments.append(("", base[pos:hunk.start]))
        removed = base[hunk.start:hunk.end]
        if hunk.replacement.strip() and removed.strip():
            core = removed.rstrip()
            segments += [("del", core), ("", removed[len(core):] or " ")]
        else:
            segments.append(("del", removed))
        lead, core, trail = _split_spaces(hunk.replacement)
        if core:
            segments += [("", lead), ("ins", core), ("", trail)]
        else:  # only spaces or line breaks added: still a change
            segments.append(("ins", hunk.replacement))
        pos = hunk.end
    segments.append(("", base[pos:end]))
    return [(kind, text) for kind, text in segments if text]


def _split_spaces(text: str) -> tuple[str, str, str]:
    """Split text into its leading spaces, what lies between, and its trailing spaces."""
    core = text.strip()
    if not core:
        return text, "", ""
    start = len(text) - len(text.lstrip())
    return text[:start], core, text[start + len(core):]


def _lift_spaces(segments: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]], str]:
    """Take unchanged spaces off both ends of a region, so its highlight starts and ends on words."""
    lead = trail = ""
    segments = list(segments)
    if segments and segments[0][0] == "":
        text = segments[0][1]
        lead, rest = text[:len(text) - len(text.lstrip())], text.lstrip()
        segments[0:1] = [("", rest)] if rest else []
    if segments and segments[-1][0] == "":
        text = segments[-1][1]
        trail, rest = text[len(text.rstrip()):], text.rstrip()
        segments[-1:] = [("", rest)] if rest else []
    return lead, segments, trail


def _render(segments: list[tuple[str, str]]) -> str:
    cues = {"del": str(escape(_("deleted"))), "ins": str(escape(_("inserted")))}
    return "".join(
        f'<{kind}><span class="visually-hidden">[{cues[kind]}: </span>{_shown(text)}'
        f'<span class="visually-hidden">]</span></{kind}>' if kind else _shown(text)
        for kind, text in segments)


def _shown(text: str) -> str:
    """Escape text for HTML, showing hidden and direction-changing characters as badges."""
    return str(reveal(text)) if text else ""
