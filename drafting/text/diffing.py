"""Word-level diffs of clause text, and their rendering as accessible inline HTML."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from html import escape

from diff_match_patch import diff_match_patch
from markupsafe import Markup

from .reveal import reveal

DELETE, EQUAL, INSERT = -1, 0, 1

# Bisect work (roughly: cells of the edit graph visited) one diff may spend before settling
# for a coarser, still correct, answer. Counted rather than timed, so results never depend
# on machine load. A million is about 0.3 s of pure Python, reached only by near-total
# rewrites (some 700 scattered word changes in one text still diff exactly).
DIFF_WORK_BUDGET = 1_000_000

_TOKEN_RE = re.compile(r"\w+|\s+|[^\w\s]+")
_JOINERS = frozenset("\u200c\u200d")  # ZWNJ, ZWJ: bind to the character before them
# Private code points start above ASCII and skip the surrogates, one per distinct token.
_FIRST_CODE = 0x100
_SURROGATES = range(0xD800, 0xE000)


class _Budget:
    """Hold the bisect work left for one diff."""

    def __init__(self, work: int):
        self.remaining = work


class _Clock:
    """Stand in for diff_match_patch's float deadline, expiring on spent work, not on time."""

    def __init__(self, budget: _Budget):
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

    def diff_bisect(self, text1: str, text2: str, deadline: object) -> list[tuple[int, str]]:
        """Run dmp's bisection with a fresh step counter drawing on the shared budget."""
        budget = deadline.budget if isinstance(deadline, _Clock) else _Budget(DIFF_WORK_BUDGET)
        return super().diff_bisect(text1, text2, _Clock(budget))


_DIFFER = _Differ()


def _is_joiner(char: str) -> bool:
    """Tell whether a character belongs to the one before it (combining mark, ZWJ, ZWNJ)."""
    return char in _JOINERS or unicodedata.category(char).startswith("M")


def tokenize(text: str) -> list[str]:
    """Split text into runs of word characters, of whitespace and of other characters."""
    if not any(_is_joiner(char) for char in set(text) if ord(char) >= 0x300):
        return _TOKEN_RE.findall(text)
    # Slow path: keep combining marks and joiners with the character they modify.
    tokens: list[str] = []
    current: list[str] = []
    kind = ""
    for char in text:
        if current and _is_joiner(char):
            current.append(char)
            continue
        char_kind = "w" if char.isalnum() or char == "_" else "s" if char.isspace() else "p"
        if char_kind != kind and current:
            tokens.append("".join(current))
            current = []
        kind = char_kind
        current.append(char)
    if current:
        tokens.append("".join(current))
    return tokens


def _encode(texts: Iterable[str]) -> tuple[list[str], list[str]]:
    """Map each distinct token to one character (diff_linesToChars for words); return codes and table."""
    codes: dict[str, str] = {}
    table: list[str] = []
    encoded: list[str] = []
    for text in texts:
        chars: list[str] = []
        for token in tokenize(text):
            code = codes.get(token)
            if code is None:
                point = _FIRST_CODE + len(table)
                if point >= _SURROGATES.start:
                    point += len(_SURROGATES)
                code = codes[token] = chr(point)
                table.append(token)
            chars.append(code)
        encoded.append("".join(chars))
    return encoded, table


def _decode(code: str) -> int:
    """Turn a token's code character back into its index in the table."""
    point = ord(code)
    if point >= _SURROGATES.stop:
        point -= len(_SURROGATES)
    return point - _FIRST_CODE


def _absorb_equalities(diffs: list[tuple[int, str]], table: list[str]) -> None:
    """Fold each equality no longer (in characters) than the edits on both its sides into them.

    dmp's semantic cleanup, run on token codes, counts a space as much as a word; this second
    pass measures the decoded text, so a stray shared " the " inside a rewrite goes too.
    """
    def size(codes: str) -> int:
        return sum(len(table[_decode(code)]) for code in codes)

    changed = False
    equalities: list[int] = []  # indices of equalities still standing, innermost last
    before = after = (0, 0)  # (inserted, deleted) characters around the last equality
    last: str | None = None
    last_size = 0
    pointer = 0
    while pointer < len(diffs):
        op, codes = diffs[pointer]
        if op == EQUAL:
            equalities.append(pointer)
            before, after, last, last_size = after, (0, 0), codes, size(codes)
        else:
            inserted, deleted = after
            after = (inserted + size(codes), deleted) if op == INSERT else (inserted, deleted + size(codes))
            if last and last_size <= max(before) and last_size <= max(after):
                at = equalities.pop()
                diffs[at:at + 1] = [(DELETE, last), (INSERT, last)]
                if equalities:
                    equalities.pop()  # the equality before it must be looked at again
                pointer = equalities[-1] if equalities else -1
                before = after = (0, 0)
                last = None
                changed = True
        pointer += 1
    if changed:
        _DIFFER.diff_cleanupMerge(diffs)


_PARAGRAPH_RE = re.compile(r"(?<=\n\n)(?=[^\n])")


def diff_ops(old: str, new: str) -> list[tuple[int, str]]:
    """Word-level diff of two texts, semantically cleaned: [(op, text)], op -1 delete, 0 equal, 1 insert.

    Long texts are first matched paragraph by paragraph (like dmp's line mode): unchanged
    paragraphs are kept whole and a run of changed paragraphs is word-diffed pairwise when
    the paragraph count is unchanged, so scattered edits stay cheap in 20,000-character clauses.
    """
    if old == new:
        return [(EQUAL, old)] if old else []
    old_paragraphs, new_paragraphs = _PARAGRAPH_RE.split(old), _PARAGRAPH_RE.split(new)
    if len(old_paragraphs) < 3 and len(new_paragraphs) < 3:
        return _word_diff(old, new)
    (old_codes, new_codes), table = _encode_whole((old_paragraphs, new_paragraphs))
    ops: list[tuple[int, str]] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if len(deleted) == len(inserted):
            for before, after in zip(deleted, inserted, strict=True):
                ops.extend(_word_diff(before, after))
        else:
            ops.extend(_word_diff("".join(deleted), "".join(inserted)))
        deleted.clear()
        inserted.clear()

    plain = diff_match_patch()
    plain.Diff_Timeout = 0
    for op, codes in plain.diff_main(old_codes, new_codes, False):
        paragraphs = [table[ord(code) - _FIRST_CODE] for code in codes]
        if op == EQUAL:
            flush()
            ops.append((EQUAL, "".join(paragraphs)))
        else:
            (deleted if op == DELETE else inserted).extend(paragraphs)
    flush()
    merged: list[tuple[int, str]] = []
    for op, text in ops:
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1] = (op, merged[-1][1] + text)
        else:
            merged.append((op, text))
    return merged


def _encode_whole(sequences: tuple[list[str], list[str]]) -> tuple[tuple[str, str], list[str]]:
    """Map each distinct paragraph to one character; return both code strings and the table."""
    codes: dict[str, str] = {}
    table: list[str] = []
    encoded = []
    for sequence in sequences:
        chars = []
        for item in sequence:
            code = codes.get(item)
            if code is None:
                code = codes[item] = chr(_FIRST_CODE + len(table))
                table.append(item)
            chars.append(code)
        encoded.append("".join(chars))
    return (encoded[0], encoded[1]), table


def _word_diff(old: str, new: str) -> list[tuple[int, str]]:
    """Word-level diff of two texts (or paragraphs), semantically cleaned."""
    if old == new:
        return [(EQUAL, old)] if old else []
    if not old or not new:
        return [(INSERT, new)] if new else [(DELETE, old)]
    (old_codes, new_codes), table = _encode((old, new))
    diffs = _DIFFER.diff_main(old_codes, new_codes, False, _Clock(_Budget(DIFF_WORK_BUDGET)))
    # Clean up on token codes, never on characters, so edges stay on token boundaries.
    _DIFFER.diff_cleanupSemantic(diffs)
    _absorb_equalities(diffs, table)
    return [(op, "".join(table[_decode(code)] for code in codes)) for op, codes in diffs if codes]


def _shown(text: str) -> str:
    """Escape text for HTML, showing hidden and direction-changing characters as badges."""
    return str(reveal(Markup(escape(text))))


def _marked(tag: str, cue: str, text: str) -> str:
    """Wrap escaped text in <ins> or <del> with a visually-hidden cue for screen readers."""
    return (f'<{tag}><span class="visually-hidden">[{cue}: </span>{_shown(text)}'
            f'<span class="visually-hidden">]</span></{tag}>')


def diff_html(ops: Iterable[tuple[int, str]]) -> str:
    """Render ops as inline HTML with <ins>/<del>, every text escaped; a visually-hidden text cue for insertions and deletions."""
    parts: list[str] = []
    for op, text in ops:
        if op == INSERT:
            parts.append(_marked("ins", "inserted", text))
        elif op == DELETE:
            parts.append(_marked("del", "deleted", text))
        else:
            parts.append(_shown(text))
    return "".join(parts)


def diff_side_by_side(ops: Iterable[tuple[int, str]]) -> tuple[str, str]:
    """Render ops as (left_html, right_html): old text with deletions marked, new with insertions marked."""
    left: list[str] = []
    right: list[str] = []
    for op, text in ops:
        if op == DELETE:
            left.append(_marked("del", "deleted", text))
        elif op == INSERT:
            right.append(_marked("ins", "inserted", text))
        else:
            left.append(_shown(text))
            right.append(_shown(text))
    return "".join(left), "".join(right)
