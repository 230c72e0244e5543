"""Word-level diffs of clause text, bounded in total work, and their rendering as accessible HTML.

How a diff is found (docs/architecture.md, "Diffs and merges"):

1. The common start and end of the two texts are cut off at whitespace boundaries; this is
   string slicing in C, so a one-word change in a 100 KB clause costs microseconds.
2. What is left is compared in ever finer units: paragraphs, then sentences (and lines), then
   tokens. At paragraph and sentence level, units found exactly once on each side anchor the
   alignment (patience diff) and diff-match-patch's Myers bisection aligns what lies between
   anchors; changed units are then compared at the next level. Tokens are words, whitespace
   runs, single punctuation marks or emoji, and single characters of scripts written without
   spaces (Chinese, Japanese, Thai...), so "alpha, beta" and "東京都の" have several units.
3. All of it draws on one work budget per call, counted in steps rather than timed so that
   results never depend on machine load. Once it is spent, changed regions not yet compared
   stay whole: the diff gets coarser (whole sentences or paragraphs replaced), never wrong.

`diff_ops` is for people: it folds short unchanged stretches into the edits around them
(semantic cleanup) and bounds the number of pieces. `token_ops` is for merges: minimal edit
ranges, no cleanup, so a merge sees each edit where it really is.
"""

from __future__ import annotations

import importlib
import re
import types
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable
from html import escape

import regex
from diff_match_patch import diff_match_patch
from flask_babel import gettext as _
from markupsafe import Markup

# Compiled LCS and affix lengths (C++): the batched path for long texts (docs/architecture.md).
from rapidfuzz.distance import Indel as _Indel
from rapidfuzz.distance import Postfix as _Postfix
from rapidfuzz.distance import Prefix as _Prefix

from .reveal import reveal

# The compiled pass (_textcore.c, built by `make install` with scripts/build_textcore.py): the
# batched path's tokenising, levels and alignment in C, its character classes read from this
# `regex`. Without it (no C compiler), or built against another `regex`, the Python batched path
# serves: the same units and levels, slower.
TEXTCORE_TABLES = f"regex {regex.__version__}"


def _load_textcore() -> types.ModuleType | None:
    """The compiled pass if it is built for this `regex` (a C extension: it imports nothing of ours)."""
    try:
        module = importlib.import_module("._textcore", __package__)
    except ImportError:
        return None
    return module if getattr(module, "TABLES", None) == TEXTCORE_TABLES else None


_textcore = _load_textcore()
_CORE_STEPS = 100  # the compiled pass's steps (a token hashed, a cell of Myers' search) per budget step

DELETE, EQUAL, INSERT = -1, 0, 1
Op = tuple[int, str]

# Work one diff may spend, in steps of roughly one Python-level operation (a bisect cell, a
# unit counted or encoded, 16 characters split, a piece emitted; 0.3-0.5 us each here).
# 120,000 is some 40-60 ms; a clause of 100 KB with 5% of its words changed at random
# places needs about half of it, one with a few edited passages a few thousand.
DIFF_WORK_BUDGET = 120_000
# A diff shown to people has at most this many inserted or deleted pieces; past it, the
# shortest unchanged stretches are folded into the edits around them until it fits.
MAX_SHOWN_CHANGES = 1_500

# Scripts written without spaces between words: each character is a unit of its own.
_NO_SPACE = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Bopomofo}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
# Whitespace runs; runs of word characters (letters, digits, combining marks and joiners, so
# "café" and "नमस्ते" stay whole) outside those scripts; anything else one grapheme cluster at
# a time: a punctuation mark, an emoji with its modifiers and joiners, one ideograph.
_TOKEN_RE = regex.compile(r"(?V1)\s+|[\w--[" + _NO_SPACE + r"]]+|\X")
# The same units with the spaces after them, for merges: a minimal diff then cannot keep a
# stray shared space between two unrelated words and cut one edit into several.
_SPACED_TOKEN_RE = regex.compile(r"(?V1)\s+|(?:[\w--[" + _NO_SPACE + r"]]+|(?!\s)\X)\s*")
# A paragraph is its lines up to and with the blank lines after it; a sentence ends after
# . ! ? ; : and the spaces that follow (not inside "40.5" or "e.g."), after 。！？, at a line end.
# Plain `re`: these run over whole changed paragraphs, and it is faster than `regex` here.
_PARAGRAPH_RE = re.compile(r"[^\n]*(?:\n(?!\n)[^\n]*)*\n*")
# (Runs of ordinary characters, `[^...]+`, not one at a time: the same matches, 3-5 times faster.)
_SENTENCE_RE = re.compile(r"(?:[^.!?;:。！？\n]+|[.!?;:]+(?=[^\s.!?;:]))*(?:[.!?;:]+\s*|[。！？]+\s*|\n\s*)?")
# Below U+0300 there are no combining marks, emoji or scripts without spaces: `re`'s \w is right.
_PLAIN_TOKEN_RE = re.compile(r"\s+|\w+|[^\w\s]")
_PLAIN_SPACED_TOKEN_RE = re.compile(r"\s+|(?:\w+|[^\w\s])\s*")
_PLAIN_BELOW = "\u0300"
_NOT_PLAIN = re.compile("[^\x00-\u02ff]")  # finds what max(text) >= _PLAIN_BELOW tells, 4 times faster

# Two characters of those scripts in a row: always two units (neither is a mark or joiner).
_SOLO = regex.compile(r"[" + _NO_SPACE + r"]{2}")

PARAGRAPHS, SENTENCES, TOKENS = 0, 1, 2


def _units_of(pattern: re.Pattern) -> Callable[[str], list[str]]:
    """Split text into the non-empty matches of a pattern that covers all of it."""
    findall = pattern.findall
    return lambda text: [unit for unit in findall(text) if unit]


def _tokens_of(plain: re.Pattern, full: regex.Pattern) -> Callable[[str], list[str]]:
    """Tokenise with the fast plain pattern when the text allows it, else the full one."""
    return lambda text: (full if _not_plain(text) else plain).findall(text)


def _not_plain(text: str) -> bool:
    """Tell whether text has a character from U+0300 on (marks, emoji, scripts without spaces...)."""
    return not text.isascii() and _NOT_PLAIN.search(text) is not None


_FULL_TOKENS = 3  # the tokens of a pair of texts of which one is not plain
_SPLITTERS = {PARAGRAPHS: _units_of(_PARAGRAPH_RE), SENTENCES: _units_of(_SENTENCE_RE),
              TOKENS: _tokens_of(_PLAIN_TOKEN_RE, _TOKEN_RE), _FULL_TOKENS: _TOKEN_RE.findall}
_SPACED_SPLITTERS = {**_SPLITTERS, TOKENS: _tokens_of(_PLAIN_SPACED_TOKEN_RE, _SPACED_TOKEN_RE),
                     _FULL_TOKENS: _SPACED_TOKEN_RE.findall}

# Code points standing for units while diffing: above ASCII, skipping the surrogates.
_FIRST_CODE = 0x100
_SURROGATES = range(0xD800, 0xE000)
_MAX_DEPTH = 12  # patience recursion; deeper gaps go to Myers directly
_CALL = 40  # work charged for each comparison or alignment begun: its calls and slicing
_SHORT = 400  # characters of both sides below which a stretch is compared in tokens directly
# Characters of both texts from which a diff takes the batched path (rapidfuzz installed): the
# same levels, each aligned by a compiled LCS, no per-unit Python work. Shorter texts keep the
# pure path (patience anchors and dmp's Myers), whose results the tests pin most closely.
_BATCHED_FROM = 2_000
_CELLS_PER_STEP = 32  # 64-unit words of rapidfuzz's bit-parallel LCS matrix (and its backtrace) in one step


class Budget:
    """Hold the work one diff or merge may still spend."""

    def __init__(self, work: int = DIFF_WORK_BUDGET):
        self.remaining = work

    def spend(self, work: int) -> bool:
        """Charge work; tell whether any budget was left before it."""
        left = self.remaining > 0
        self.remaining -= work
        return left

    @property
    def spent(self) -> bool:
        """Tell whether the budget is used up."""
        return self.remaining <= 0


class _Clock:
    """Stand in for diff_match_patch's float deadline, expiring on spent work, not on time."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.step = 0

    def __lt__(self, now: float) -> bool:
        """Charge one bisect step (called for dmp's `time.time() > deadline`); true when spent."""
        self.budget.remaining -= 2 * self.step + 2
        self.step += 1
        return self.budget.remaining < 0


class _Differ(diff_match_patch):
    """A diff_match_patch whose bisection is bounded by a deterministic work budget."""

    def __init__(self):
        super().__init__()
        self.Diff_Timeout = 0  # no wall-clock cut-off, no half-match shortcut: deterministic

    def diff_bisect(self, text1: str, text2: str, deadline: object) -> list[Op]:
        """Run dmp's bisection with a fresh step counter drawing on the shared budget."""
        budget = deadline.budget if isinstance(deadline, _Clock) else Budget()
        return super().diff_bisect(text1, text2, _Clock(budget))


_DIFFER = _Differ()
_common_prefix = _Prefix.similarity  # the lengths of the common start and end, found in C
_common_suffix = _Postfix.similarity


def tokenize(text: str) -> list[str]:
    """Split text into the units a diff compares: words, spaces, marks, emoji, ideographs."""
    return _SPLITTERS[TOKENS](text)


def _code(index: int) -> str:
    """The character standing for the unit at this index of a table."""
    point = _FIRST_CODE + index
    if point >= _SURROGATES.start:
        point += len(_SURROGATES)
    return chr(point)


def _encode(old_units: list[str], new_units: list[str]) -> tuple[str, str, dict[str, str]]:
    """Map each distinct unit to one character (dmp's linesToChars for any unit); return both and the table."""
    codes: dict[str, str] = {}

    def encode(units: list[str]) -> str:
        chars = []
        for unit in units:
            code = codes.get(unit)
            if code is None:
                code = codes[unit] = _code(len(codes))
            chars.append(code)
        return "".join(chars)

    old_codes, new_codes = encode(old_units), encode(new_units)
    return old_codes, new_codes, {code: unit for unit, code in codes.items()}


def longest_increasing(values: list[int]) -> list[int]:
    """Return the indices of a longest strictly increasing run of values, in order (patience sorting)."""
    tails: list[int] = []  # smallest last value of an increasing run of each length
    tail_at: list[int] = []  # index of that last value
    before = [-1] * len(values)
    for k, value in enumerate(values):
        length = bisect_left(tails, value)
        if length == len(tails):
            tails.append(value)
            tail_at.append(k)
        else:
            tails[length] = value
            tail_at[length] = k
        before[k] = tail_at[length - 1] if length else -1
    run = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        run.append(k)
        k = before[k]
    run.reverse()
    return run


def _anchors(old: str, new: str) -> list[tuple[int, int]]:
    """Pair the codes found exactly once on each side, longest run in order (patience diff)."""
    once_old = Counter(old)
    once_new = Counter(new)
    where_new = {code: j for j, code in enumerate(new) if once_new[code] == 1}
    pairs = [(i, where_new[code]) for i, code in enumerate(old)
             if once_old[code] == 1 and code in where_new]
    return [pairs[k] for k in longest_increasing([j for _, j in pairs])]


class _Diff:
    """One diff between two texts, drawing on one budget."""

    def __init__(self, budget: Budget, spaced: bool = False, batched: bool = False):
        self.budget = budget
        self.spaced = spaced
        self.batched = batched
        self.splitters = _SPACED_SPLITTERS if spaced else _SPLITTERS
        self.ops: list[Op] = []

    def emit(self, op: int, text: str) -> None:
        if text:
            self.ops.append((op, text))

    def replace(self, old: str, new: str) -> None:
        self.emit(DELETE, old)
        self.emit(INSERT, new)

    def compare(self, old: str, new: str, level: int = PARAGRAPHS) -> None:
        """Append the ops turning old into new, in this level's units and finer ones while the budget lasts."""
        if old == new:
            self.emit(EQUAL, old)
            return
        if not old or not new or self.budget.spent:
            self.replace(old, new)
            return
        self.budget.spend(_CALL)
        head, old, new, tail = _trim(old, new, self.spaced)
        self.emit(EQUAL, head)
        if not old or not new:
            self.replace(old, new)
        elif self.batched:
            if level < TOKENS and len(old) + len(new) >= _SHORT:
                self._batched(old, new, level)
            else:
                self._tokens(old, new)
        else:
            # A short stretch is compared word by word at once: paragraphs and sentences
            # only pay off where there are many of them.
            self._units(old, new, TOKENS if len(old) + len(new) < _SHORT else level)
        self.emit(EQUAL, tail)

    # --- the batched path: one compiled LCS per level and group, no per-unit Python loops ---

    def _lcs(self, old: list[str], new: list[str]) -> list[tuple[int, int, int, int]] | None:
        """Equal runs (i1, i2, j1, j2) of a longest common subsequence of two unit lists; None past the budget.

        rapidfuzz compares the units' hashes; a run is kept only if its units are equal, so a
        collision can only make the diff coarser, never wrong.
        """
        n, m = len(old), len(new)
        if not self.budget.spend(_CALL + n + m):
            return None
        # The common start and end first, as dmp does: among alignments of one length, the one
        # that keeps them keeps a change to one of several repeated sentences where it is.
        head = _Prefix.similarity(old, new)
        if old[:head] != new[:head]:
            head = 0
        tail = _Postfix.similarity(old[head:], new[head:])
        if tail and old[n - tail:] != new[m - tail:]:
            tail = 0
        runs = [(0, head, 0, head)] if head else []
        if head < n - tail and head < m - tail and not set(old[head:n - tail]).isdisjoint(new[head:m - tail]):
            cost = ((n - tail - head + 63) >> 6) * (m - tail - head) // _CELLS_PER_STEP
            if cost > self.budget.remaining:  # one call that the budget cannot pay for is not begun
                self.budget.spend(cost)
                return None
            self.budget.spend(cost)
            runs += [(head + i1, head + i2, head + j1, head + j2)
                     for tag, i1, i2, j1, j2 in _Indel.opcodes(old[head:n - tail], new[head:m - tail]).as_list()
                     if tag == "equal" and old[head + i1:head + i2] == new[head + j1:head + j2]]
        if tail:
            runs.append((n - tail, n, m - tail, m))
        return runs

    def _batched(self, old: str, new: str, level: int) -> None:
        """Align paragraphs (or sentences) by LCS; compare each changed group at the next level."""
        self.budget.spend((len(old) + len(new)) >> 4)
        if self.budget.spent:
            self.replace(old, new)
            return
        split = self.splitters[level]
        old_units, new_units = split(old), split(new)
        if level == PARAGRAPHS and len(old_units) == 1 and len(new_units) == 1:
            self._batched(old, new, SENTENCES)
            return
        runs = self._lcs(old_units, new_units)
        if runs is None:
            self.replace(old, new)
            return
        i0 = j0 = 0
        for i1, i2, j1, j2 in (*runs, (len(old_units), len(old_units), len(new_units), len(new_units))):
            if i1 > i0 or j1 > j0:
                self._changed(old_units[i0:i1], new_units[j0:j1], level)
            if i2 > i1:
                self.emit(EQUAL, "".join(old_units[i1:i2]))
            i0, j0 = i2, j2

    def _tokens(self, old: str, new: str) -> None:
        """Align the tokens of two short stretches by LCS, unless the stretch was rewritten."""
        full = _not_plain(old) or _not_plain(new)  # both sides the same way, or equal words could differ
        split = (_SPACED_TOKEN_RE if self.spaced else _TOKEN_RE) if full else (
            _PLAIN_SPACED_TOKEN_RE if self.spaced else _PLAIN_TOKEN_RE)
        split = split.findall
        self.budget.spend((len(old) + len(new)) >> 4)
        if self.budget.spent:
            self.replace(old, new)
            return
        old_tokens, new_tokens = split(old), split(new)
        # Splitting costs about a step a token, two with grapheme clusters and scripts (`regex`).
        self.budget.spend((len(old_tokens) + len(new_tokens)) << full)
        if min(len(old_tokens), len(new_tokens)) > 16 and _rewritten(old_tokens, new_tokens, self.budget):
            self.replace(old, new)
            return
        runs = self._lcs(old_tokens, new_tokens)
        if runs is None:
            self.replace(old, new)
            return
        self.budget.spend(4 * len(runs))
        i0 = j0 = 0
        for i1, i2, j1, j2 in (*runs, (len(old_tokens), len(old_tokens), len(new_tokens), len(new_tokens))):
            if i1 > i0:
                self.ops.append((DELETE, "".join(old_tokens[i0:i1])))
            if j1 > j0:
                self.ops.append((INSERT, "".join(new_tokens[j0:j1])))
            if i2 > i1:
                self.ops.append((EQUAL, "".join(old_tokens[i1:i2])))
            i0, j0 = i2, j2

    def _units(self, old: str, new: str, level: int) -> None:
        split = self.splitters[level]
        if level == TOKENS and (_not_plain(old) or _not_plain(new)):
            split = self.splitters[_FULL_TOKENS]  # both sides the same way, or equal words could differ
        self.budget.spend((len(old) + len(new)) >> 4)
        if self.budget.spent:  # not even the split fits: leave it whole
            self.replace(old, new)
            return
        old_units, new_units = split(old), split(new)
        if level < TOKENS and len(old_units) == 1 and len(new_units) == 1:
            self._units(old, new, level + 1)
            return
        self.budget.spend(len(old_units) + len(new_units))
        if self.budget.spent:  # nor the units: leave it whole before encoding them all
            self.replace(old, new)
            return
        old_codes, new_codes, table = _encode(old_units, new_units)
        aligned: list[Op] = []
        self._patience(old_codes, new_codes, aligned, 0, level >= TOKENS)
        self.budget.spend(4 * len(aligned))  # each piece is decoded, emitted and compared again
        unit = table.__getitem__
        if level == TOKENS:
            for op, codes in aligned:
                self.emit(op, "".join(map(unit, codes)))
            return
        deleted: list[str] = []
        inserted: list[str] = []
        for op, codes in aligned:
            units = list(map(unit, codes))
            if op == EQUAL:
                self._changed(deleted, inserted, level)
                self.emit(EQUAL, "".join(units))
            else:
                (deleted if op == DELETE else inserted).extend(units)
        self._changed(deleted, inserted, level)

    def _changed(self, deleted: list[str], inserted: list[str], level: int) -> None:
        """Compare a changed run of units at the next level: pairwise when the counts match."""
        if not deleted and not inserted:
            return
        if deleted and inserted and len(deleted) == len(inserted):
            for k, (before, after) in enumerate(zip(deleted, inserted, strict=True)):
                if self.budget.spent:  # the rest as one replacement, not unit by unit
                    self.replace("".join(deleted[k:]), "".join(inserted[k:]))
                    break
                self.compare(before, after, level + 1)
        else:
            self.compare("".join(deleted), "".join(inserted), level + 1)
        deleted.clear()
        inserted.clear()

    def _patience(self, old: str, new: str, out: list[Op], depth: int, tokens: bool) -> None:
        """Align two code strings: unique common codes anchor, Myers between anchors."""
        head = _common_prefix(old, new)
        if head:
            out.append((EQUAL, old[:head]))
            old, new = old[head:], new[head:]
        size = _common_suffix(old, new)
        tail = old[len(old) - size:] if size else ""
        if size:
            old, new = old[:-size], new[:-size]
        if not old or not new:
            out.extend((op, codes) for op, codes in ((DELETE, old), (INSERT, new)) if codes)
        elif len(old) == 1 or len(new) == 1:
            out.extend(_one_against_many(old, new))
        elif depth >= _MAX_DEPTH or not self.budget.spend(_CALL + len(old) + len(new)):
            out.extend(_myers(old, new, self.budget, tokens))
        else:
            anchors = _anchors(old, new)
            if not anchors:
                out.extend(_myers(old, new, self.budget, tokens))
            else:
                i0 = j0 = 0
                for i, j in (*anchors, (len(old), len(new))):
                    if i > i0 and j > j0:
                        self._patience(old[i0:i], new[j0:j], out, depth + 1, tokens)
                    elif i > i0:  # most gaps between anchors are one-sided or empty
                        out.append((DELETE, old[i0:i]))
                    elif j > j0:
                        out.append((INSERT, new[j0:j]))
                    if i < len(old):
                        out.append((EQUAL, old[i]))
                    i0, j0 = i + 1, j + 1
        if tail:
            out.append((EQUAL, tail))


def _rewritten(old: list[str], new: list[str], budget: Budget) -> bool:
    """Tell whether fewer than a quarter of the tokens are shared, the commonest left aside (see _myers)."""
    budget.spend(len(old) + len(new))
    counts_old, counts_new = Counter(old), Counter(new)
    get = counts_new.get
    shared = sum(min(times, get(token, 0)) for token, times in counts_old.items())
    if not shared:
        return True
    commonest = max(counts_old, key=counts_old.__getitem__)  # the first of the commonest, as most_common
    strong = shared - min(counts_old[commonest], get(commonest, 0))
    return 4 * strong < min(len(old), len(new))


def _myers(old: str, new: str, budget: Budget, tokens: bool) -> list[Op]:
    """Align two code strings with dmp's Myers bisection, unless they are (mostly) different.

    Myers costs about the square of the differences: a rewritten passage of 20 words costs
    thousands of steps to find the odd shared "the". Where fewer than a quarter of the tokens
    (the most frequent one, a space, left aside) are shared, it is one replacement. Sentences
    and paragraphs are only replaced whole when none is shared: changed ones are compared
    again, word by word.
    """
    if min(len(old), len(new)) > 16:
        budget.spend(len(old) + len(new))
        counts_old, counts_new = Counter(old), Counter(new)
        shared = counts_old & counts_new
        if not shared:  # nothing in common: Myers would search the whole square to say so
            return [(DELETE, old), (INSERT, new)]
        if tokens:
            commonest, times = counts_old.most_common(1)[0]
            strong = shared.total() - min(times, counts_new[commonest])
            if 4 * strong < min(len(old), len(new)):
                return [(DELETE, old), (INSERT, new)]
    return _DIFFER.diff_main(old, new, False, _Clock(budget))


def _one_against_many(old: str, new: str) -> list[Op]:
    """Align a single code against several: kept where it recurs (first place), else replaced."""
    if len(old) == 1 and (at := new.find(old)) >= 0:
        return [(op, codes) for op, codes in ((INSERT, new[:at]), (EQUAL, old), (INSERT, new[at + 1:])) if codes]
    if len(new) == 1 and (at := old.find(new)) >= 0:
        return [(op, codes) for op, codes in ((DELETE, old[:at]), (EQUAL, new), (DELETE, old[at + 1:])) if codes]
    return [(DELETE, old), (INSERT, new)]


def _trim(old: str, new: str, spaced: bool = False) -> tuple[str, str, str, str]:
    """Cut the common start and end off two texts at token edges: (head, old, new, tail)."""
    edge = _spaced_edge if spaced else _edge
    head = _common_prefix(old, new)
    if head and not (edge(old, head) and edge(new, head)):
        head = _edge_before(old, head, spaced)
    old_rest, new_rest = old[head:], new[head:]
    size = _common_suffix(old_rest, new_rest)
    cut_old, cut_new = len(old_rest) - size, len(new_rest) - size
    if size and not (edge(old_rest, cut_old) and edge(new_rest, cut_new)):
        size = len(old_rest) - _edge_after(old_rest, cut_old, spaced)
    if not size:
        return old[:head], old_rest, new_rest, ""
    return old[:head], old_rest[:-size], new_rest[:-size], old_rest[-size:]


def _tokens_for(text: str, spaced: bool) -> list[str]:
    return (_SPACED_SPLITTERS if spaced else _SPLITTERS)[TOKENS](text)


def _edge_before(text: str, at: int, spaced: bool) -> int:
    """The last token edge of text before position at, found by tokenising a window behind it.

    The window's first token may be cut short by the window; every later token starts where it
    would in the whole text. (Only spaces once told edges apart: a clause in Chinese or
    Japanese, which has none, was then compared whole.)
    """
    width = 64
    while True:
        start = max(at - width, 0)
        tokens = _tokens_for(text[start:at], spaced)
        if start == 0 or len(tokens) > 1:
            return at - len(tokens[-1]) if tokens else start
        width *= 4


def _edge_after(text: str, at: int, spaced: bool) -> int:
    """The first token edge of text after position at (the end of the token that starts there)."""
    width = 64
    while True:
        end = min(at + width, len(text))
        tokens = _tokens_for(text[at:end], spaced)
        if end == len(text) or len(tokens) > 1:
            return at + len(tokens[0]) if tokens else end
        width *= 4


def is_token_edge(text: str, at: int, spaced: bool = False) -> bool:
    """Tell whether a position of text falls between two tokens (spaced: as merges cut them)."""
    return at <= 0 or at >= len(text) or _edge_after(text, _edge_before(text, at, spaced), spaced) == at


def _edge(text: str, at: int) -> bool:
    """Tell whether position at is an edge between units of text for certain (an end, space/text, two ideographs)."""
    return (at <= 0 or at >= len(text) or text[at - 1].isspace() != text[at].isspace()
            or _SOLO.fullmatch(text, at - 1, at + 1) is not None)


def _spaced_edge(text: str, at: int) -> bool:
    """Tell whether position at is an edge between spaced units for certain (an end, space then text, two ideographs)."""
    return (at <= 0 or at >= len(text) or (text[at - 1].isspace() and not text[at].isspace())
            or _SOLO.fullmatch(text, at - 1, at + 1) is not None)


def token_ops(old: str, new: str, budget: Budget | None = None, spaced: bool = False,
              batched: bool | None = None) -> list[Op]:
    """Diff two texts into minimal token-aligned ops: no cleanup, edits where they are.

    Merges pass spaced=True: words carry the spaces after them, so edits stay whole. batched
    picks the path (tests): by default texts of _BATCHED_FROM characters or more take the
    batched one.
    """
    return _coalesce(piecewise_ops(old, new, budget, spaced, batched))


def piecewise_ops(old: str, new: str, budget: Budget | None = None, spaced: bool = False,
                  batched: bool | None = None) -> list[Op]:
    """token_ops before neighbouring ops of one kind are joined: for readers that join them anyway."""
    budget = budget or Budget()
    if batched is None:
        batched = len(old) + len(new) >= _BATCHED_FROM
    ranges = _compiled_ranges(old, new, budget, spaced) if batched else None
    if ranges is not None:
        return _ops_of(old, new, ranges)
    work = _Diff(budget, spaced, batched)
    work.compare(old, new)
    return work.ops


def change_ranges(old: str, new: str, budget: Budget | None = None, spaced: bool = False,
                  batched: bool | None = None) -> list[int]:
    """token_ops' changes located: a flat [old_start, old_end, new_start, new_end, ...], in order."""
    budget = budget or Budget()
    if batched is None:
        batched = len(old) + len(new) >= _BATCHED_FROM
    ranges = _compiled_ranges(old, new, budget, spaced) if batched else None
    if ranges is not None:
        return ranges
    work = _Diff(budget, spaced, batched)
    work.compare(old, new)
    ranges = []
    at_old = at_new = 0
    changing = False
    for op, text in work.ops:
        if op == EQUAL:
            at_old += len(text)
            at_new += len(text)
            changing = False
            continue
        if not changing:
            ranges += (at_old, at_old, at_new, at_new)
            changing = True
        if op == DELETE:
            at_old += len(text)
            ranges[-3] = at_old
        else:
            at_new += len(text)
            ranges[-1] = at_new
    return ranges


def _compiled_ranges(old: str, new: str, budget: Budget, spaced: bool, shown: int = 0) -> list[int] | None:
    """The changes from the compiled pass, its work charged to budget; None where it does not serve.

    shown > 0: for people, as diff_ops (equalities folded as _absorb_equalities does, at most
    shown changed pieces as _bound_changes)."""
    if _textcore is None:
        return None
    if old == new:
        return []
    if budget.spent:  # as _Diff.compare: no budget, one replacement
        return [0, len(old), 0, len(new)]
    found = (_textcore.diff(old, new, spaced, budget.remaining * _CORE_STEPS, 0, shown) if shown
             else _textcore.diff(old, new, spaced, budget.remaining * _CORE_STEPS))
    if found is None:  # a grapheme cluster it does not model
        return None
    ranges, work = found
    budget.spend(work // _CORE_STEPS + len(ranges))
    return ranges


def _ops_of(old: str, new: str, ranges: list[int]) -> list[Op]:
    """Ops from located changes: what lies between them is equal."""
    ops: list[Op] = []
    at_old = 0
    for k in range(0, len(ranges), 4):
        old_start, old_end, new_start, new_end = ranges[k:k + 4]
        if old_start > at_old:
            ops.append((EQUAL, old[at_old:old_start]))
        if old_end > old_start:
            ops.append((DELETE, old[old_start:old_end]))
        if new_end > new_start:
            ops.append((INSERT, new[new_start:new_end]))
        at_old = old_end
    if at_old < len(old):
        ops.append((EQUAL, old[at_old:]))
    return ops


def diff_ops(old: str, new: str, budget: Budget | None = None) -> list[Op]:
    """Word-level diff of two texts for people: [(op, text)], op -1 delete, 0 equal, 1 insert.

    Short unchanged stretches inside a rewrite are folded into it (no confetti), and at most
    MAX_SHOWN_CHANGES pieces are changed: past that, the diff is shown coarser.
    """
    budget = budget or Budget()
    if len(old) + len(new) >= _BATCHED_FROM:
        ranges = _compiled_ranges(old, new, budget, False, MAX_SHOWN_CHANGES)
        if ranges is not None:  # the same folds, made in the compiled pass
            return _ops_of(old, new, ranges)
    return _bound_changes(_absorb_equalities(token_ops(old, new, budget), 0), MAX_SHOWN_CHANGES)


def _bound_changes(ops: list[Op], limit: int) -> list[Op]:
    """Fold the shortest unchanged stretches between edits into them until at most limit pieces change."""
    changes = sum(1 for op, _ in ops if op != EQUAL)
    if changes <= limit:
        return ops
    inner = [k for k in range(1, len(ops) - 1) if ops[k][0] == EQUAL]
    # Folding one stretch joins two runs of changes into one: at most two pieces fewer.
    runs = len(inner) + 1
    fold = sorted(inner, key=lambda k: (len(ops[k][1]), k))[:max(runs - limit // 2, 0)]
    ops = list(ops)
    for k in fold:
        ops[k] = (_FOLDED, ops[k][1])
    return _unfold(ops)


def _coalesce(ops: Iterable[Op]) -> list[Op]:
    """Join neighbouring ops of one kind; each run of changes becomes one delete then one insert."""
    out: list[Op] = []
    equal: list[str] = []  # at most one of equal and (deleted, inserted) holds text at a time
    deleted: list[str] = []
    inserted: list[str] = []
    for op, text in ops:
        if not text:
            continue
        if op == EQUAL:
            if deleted:
                out.append((DELETE, "".join(deleted)))
                deleted.clear()
            if inserted:
                out.append((INSERT, "".join(inserted)))
                inserted.clear()
            equal.append(text)
        else:
            if equal:
                out.append((EQUAL, "".join(equal)))
                equal.clear()
            if op == DELETE:
                deleted.append(text)
            else:
                inserted.append(text)
    if deleted:
        out.append((DELETE, "".join(deleted)))
    if inserted:
        out.append((INSERT, "".join(inserted)))
    if equal:
        out.append((EQUAL, "".join(equal)))
    return out


def _changes(deleted: list[str], inserted: list[str]) -> list[Op]:
    ops = [(op, "".join(parts)) for op, parts in ((DELETE, deleted), (INSERT, inserted)) if parts]
    deleted.clear()
    inserted.clear()
    return ops


_FOLDED = 2  # an equality folded into the edits around it: deleted and inserted again


def _absorb_equalities(ops: list[Op], floor: int) -> list[Op]:
    """Fold each equality no longer than the edits on both its sides (or than floor) into them.

    dmp's semantic cleanup rule, measured in characters on token-aligned ops, so edits keep
    whole words; a stray shared " the " inside a rewrite goes, a kept sentence stays. Folding
    one equality can make the one before it fold too; a stack makes that linear.
    """
    ops = list(ops)
    folded = False
    standing: list[tuple[int, tuple[int, int]]] = []  # (index, edits just before it)
    after = (0, 0)  # (inserted, deleted) characters since the last standing equality
    for index, (op, text) in enumerate(ops):
        if op == EQUAL:
            standing.append((index, after))
            after = (0, 0)
            continue
        size = len(text)
        after = (after[0] + size * (op == INSERT), after[1] + size * (op == DELETE))
        while standing:
            at, before = standing[-1]
            size = len(ops[at][1])
            if size > floor and (size > max(before) or size > max(after)):
                break
            ops[at] = (_FOLDED, ops[at][1])
            folded = True
            standing.pop()
            after = (before[0] + size + after[0], before[1] + size + after[1])
    return _unfold(ops) if folded else ops


def _unfold(ops: list[Op]) -> list[Op]:
    """Turn folded equalities into a deletion and an insertion, merged with the edits around them."""
    return _coalesce(piece for op, text in ops
                     for piece in (((DELETE, text), (INSERT, text)) if op == _FOLDED else ((op, text),)))


def _shown(text: str) -> str:
    """Escape text for HTML, showing hidden and direction-changing characters as badges."""
    return str(reveal(Markup(escape(text))))


def _cues() -> tuple[str, str]:
    """The visually-hidden cues of an insertion and a deletion, in the reader's language."""
    return str(escape(_("inserted"))), str(escape(_("deleted")))


def _marked(tag: str, cue: str, text: str) -> str:
    """Wrap escaped text in <ins> or <del> with a visually-hidden cue (escaped) for screen readers."""
    return (f'<{tag}><span class="visually-hidden">[{cue}: </span>{_shown(text)}'
            f'<span class="visually-hidden">]</span></{tag}>')


def diff_html(ops: Iterable[Op]) -> str:
    """Render ops as inline HTML with <ins>/<del>, every text escaped; a visually-hidden text cue for insertions and deletions."""
    parts: list[str] = []
    inserted, deleted = _cues()
    for op, text in ops:
        if op == INSERT:
            parts.append(_marked("ins", inserted, text))
        elif op == DELETE:
            parts.append(_marked("del", deleted, text))
        else:
            parts.append(_shown(text))
    return "".join(parts)


def diff_side_by_side(ops: Iterable[Op]) -> tuple[str, str]:
    """Render ops as (left_html, right_html): old text with deletions marked, new with insertions marked."""
    left: list[str] = []
    right: list[str] = []
    inserted, deleted = _cues()
    for op, text in ops:
        if op == DELETE:
            left.append(_marked("del", deleted, text))
        elif op == INSERT:
            right.append(_marked("ins", inserted, text))
        else:
            left.append(_shown(text))
            right.append(_shown(text))
    return "".join(left), "".join(right)
