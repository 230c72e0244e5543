"""Three-way merge of clause text: clean merges, conflicts, and the never-invent-text property."""

from __future__ import annotations

import math
import random

import pytest

from drafting.text.diffing import tokenize
from drafting.text.merge import Hunk, MergeResult, apply_hunks, edit_hunks, merge_texts

P1 = "The parties agree to cooperate on research into renewable energy."
P2 = "Funding shall be shared equally between the two ministries."
P3 = "Each party may withdraw from this declaration with six months' notice."
BASE = "\n\n".join([P1, P2, P3])

RATE = "The annual contribution of each party is 40% of the programme budget, payable in March."
LISTED = "The parties will:\n- exchange data quarterly;\n- hold a joint review each year;\n- publish results."


def paras(*parts: str) -> str:
    """Join paragraphs with blank lines, as clause text stores them."""
    return "\n\n".join(parts)


CLEAN_CASES = [
    pytest.param(
        BASE,
        BASE.replace("cooperate", "collaborate"),
        BASE.replace("six months'", "ninety days'"),
        BASE.replace("cooperate", "collaborate").replace("six months'", "ninety days'"),
        id="edits-in-different-paragraphs",
    ),
    pytest.param(
        BASE,
        "Preamble: in good faith.\n\n" + BASE,
        BASE.replace("notice.", "written notice."),
        "Preamble: in good faith.\n\n" + BASE.replace("notice.", "written notice."),
        id="insertion-at-start-does-not-block-edit-at-end",
    ),
    pytest.param(
        BASE,
        BASE.replace("notice.", "written notice."),
        "Preamble: in good faith.\n\n" + BASE,
        "Preamble: in good faith.\n\n" + BASE.replace("notice.", "written notice."),
        id="edit-at-end-with-their-insertion-at-start",
    ),
    pytest.param(
        BASE,
        BASE.replace("equally", "fairly"),
        BASE.replace("equally", "fairly"),
        BASE.replace("equally", "fairly"),
        id="both-sides-make-the-identical-change",
    ),
    pytest.param(
        BASE,
        BASE.replace("equally", "fairly").replace("research", "joint research"),
        BASE.replace("equally", "fairly"),
        BASE.replace("equally", "fairly").replace("research", "joint research"),
        id="identical-change-plus-one-more-on-one-side",
    ),
    pytest.param(
        BASE,
        BASE,
        BASE.replace("two ministries", "three ministries"),
        BASE.replace("two ministries", "three ministries"),
        id="mine-unchanged-takes-theirs",
    ),
    pytest.param(
        BASE,
        BASE.replace("two ministries", "three ministries"),
        BASE,
        BASE.replace("two ministries", "three ministries"),
        id="theirs-unchanged-takes-mine",
    ),
    pytest.param(
        BASE,
        paras(P1, "A steering group meets twice a year.", P2, P3),
        paras(P1, P2, P3, "This declaration takes effect on signature."),
        paras(P1, "A steering group meets twice a year.", P2, P3,
              "This declaration takes effect on signature."),
        id="paragraphs-appended-at-different-places",
    ),
    pytest.param(
        BASE,
        paras("Scope: all energy research.", P1, P2, P3),
        paras(P1, P2, "A steering group meets twice a year.", P3),
        paras("Scope: all energy research.", P1, P2, "A steering group meets twice a year.", P3),
        id="paragraphs-inserted-at-start-and-middle",
    ),
    pytest.param(
        BASE,
        paras(P1, P3),
        BASE.replace("cooperate", "collaborate"),
        paras(P1.replace("cooperate", "collaborate"), P3),
        id="paragraph-deleted-and-other-paragraph-edited",
    ),
    pytest.param(
        "Le café près de la gare. Über alles: Ωμέγα και άλφα. Done 👍🏽 today.",
        "Le café près de la mairie. Über alles: Ωμέγα και άλφα. Done 👍🏽 today.",
        "Le café près de la gare. Über alles: Ωμέγα και βήτα. Done 👍🏽 today.",
        "Le café près de la mairie. Über alles: Ωμέγα και βήτα. Done 👍🏽 today.",
        id="unicode-accents-greek-emoji",
    ),
    pytest.param(
        "Réunion à Zürich 🎉 puis déjeuner, ensuite Ελλάδα.",
        "Réunion à Zürich 🎉🎊 puis déjeuner, ensuite Ελλάδα.",
        "Réunion à Zürich 🎉 puis déjeuner, ensuite Κύπρος.",
        "Réunion à Zürich 🎉🎊 puis déjeuner, ensuite Κύπρος.",
        id="unicode-emoji-edit-and-greek-edit",
    ),
    pytest.param(
        LISTED,
        LISTED.replace("quarterly", "monthly"),
        LISTED.replace("- publish results.", "- publish results.\n- train staff."),
        LISTED.replace("quarterly", "monthly").replace("- publish results.",
                                                     "- publish results.\n- train staff."),
        id="list-item-edited-and-list-item-appended",
    ),
    pytest.param(
        RATE,
        RATE.replace("40%", "55%"),
        RATE.replace("in March", "in April"),
        RATE.replace("40%", "55%").replace("in March", "in April"),
        id="rate-edit-and-month-edit-in-same-sentence",
    ),
    pytest.param(
        "one two three four five",
        "ONE two three four five",
        "one two THREE four five",
        "ONE two THREE four five",
        id="one-unchanged-word-between-is-enough",
    ),
    pytest.param(
        "",
        "",
        "Fresh text.",
        "Fresh text.",
        id="empty-base-one-side-writes",
    ),
]


@pytest.mark.parametrize("base, mine, theirs, expected", CLEAN_CASES)
def test_clean_merges(base: str, mine: str, theirs: str, expected: str) -> None:
    result = merge_texts(base, mine, theirs)
    assert result == MergeResult(expected, True, [])
    # The merge is symmetric when clean.
    assert merge_texts(base, theirs, mine).text == expected


CONFLICT_CASES = [
    pytest.param(
        BASE,
        BASE.replace("equally", "fairly"),
        paras(P1, P3),
        id="edit-to-paragraph-the-other-side-deleted",
    ),
    pytest.param(
        BASE,
        paras(P1, P3),
        BASE.replace("Funding shall", "All funding shall"),
        id="paragraph-deleted-while-other-side-edits-its-first-word",
    ),
    pytest.param(
        RATE,
        RATE.replace("40%", "55%"),
        "Each party contributes a fixed sum set by the steering group, payable in March.",
        id="rate-edit-in-sentence-the-other-side-rewrote",
    ),
    pytest.param(
        RATE,
        RATE.replace("40%", "55%"),
        "Each party's annual share equals 40% of the agreed budget, paid in advance.",
        id="rate-edit-next-to-a-word-the-rewrite-changed",
    ),
    pytest.param(
        RATE,
        RATE.replace("40%", "55%"),
        "Each party's annual share is 40% of the agreed budget, paid in advance.",
        id="rate-edit-in-rewrite-that-kept-a-few-words-around-the-rate",
    ),
    pytest.param(
        BASE,
        P1,
        BASE.replace("between the two", "between the two (and later three)"),
        id="long-delete-overlapping-other-side-insert",
    ),
    pytest.param(
        BASE,
        BASE.replace("Funding shall be shared equally between", "Funding goes to"),
        BASE.replace("shared equally", "shared, in proportion to population,"),
        id="delete-of-phrase-overlapping-insert-in-it",
    ),
    pytest.param(
        BASE,
        BASE.replace("equally", "fairly"),
        BASE.replace("equally", "evenly"),
        id="same-word-changed-differently",
    ),
    pytest.param(
        RATE,
        RATE.replace("40%", "45%"),
        RATE.replace("40%", "50%"),
        id="same-number-changed-differently",
    ),
    pytest.param(
        BASE,
        BASE.replace("two ministries", "two national ministries"),
        BASE.replace("two ministries", "two federal ministries"),
        id="different-insertions-at-same-point",
    ),
    pytest.param(
        BASE,
        paras(P1, P2, P3, "Signed in Brussels."),
        paras(P1, P2, P3, "Signed in Athens."),
        id="different-paragraphs-appended-at-the-end",
    ),
    pytest.param(
        BASE,
        BASE.replace("shared", "split"),
        BASE.replace("equally", "evenly"),
        id="edits-to-adjacent-words",
    ),
    pytest.param(
        "Cats, dogs and birds.",
        "Lions, dogs and birds.",
        "Cats, wolves and birds.",
        id="adjacent-words-separated-only-by-punctuation",
    ),
    pytest.param(
        BASE,
        BASE.replace("the two ministries", "the two ministries concerned"),
        BASE.replace("ministries.", "departments."),
        id="insertion-touching-the-edge-of-a-replacement",
    ),
    pytest.param(
        "",
        "Our text.",
        "Their text.",
        id="empty-base-both-sides-write",
    ),
]


@pytest.mark.parametrize("base, mine, theirs", CONFLICT_CASES)
def test_conflicts(base: str, mine: str, theirs: str) -> None:
    for ours, others in ((mine, theirs), (theirs, mine)):
        result = merge_texts(base, ours, others)
        assert result.clean is False
        assert result.text is None
        assert result.conflicts
        for start, end in result.conflicts:
            assert 0 <= start <= end <= len(base)


def test_conflict_range_covers_the_contested_words() -> None:
    result = merge_texts(BASE, BASE.replace("equally", "fairly"), BASE.replace("equally", "evenly"))
    [(start, end)] = result.conflicts
    assert "equally" in BASE[start:end]
    assert "cooperate" not in BASE[start:end] and "withdraw" not in BASE[start:end]


def test_clean_merge_keeps_unrelated_conflicts_apart() -> None:
    mine = BASE.replace("cooperate", "collaborate").replace("equally", "fairly")
    theirs = BASE.replace("equally", "evenly").replace("six months'", "ninety days'")
    result = merge_texts(BASE, mine, theirs)
    assert not result.clean
    assert len(result.conflicts) == 1


# --- property: random word-level edit pairs --------------------------------------------------

SEPARATORS = [" ", " ", " ", " ", ", ", "; ", ".\n\n", "\n- "]


def _apply_word_edits(words: list[str], seps: list[str], edits: dict[int, tuple]) -> str:
    """Apply index-keyed edits ('sub', new) / ('del',) / ('ins', new) to words; -1 inserts at start."""
    out: list[str] = []
    if -1 in edits:
        out.append(edits[-1][1] + " ")
    for i, (word, sep) in enumerate(zip(words, seps, strict=True)):
        edit = edits.get(i)
        if edit is None or edit[0] == "ins":
            out.append(word + sep)
        elif edit[0] == "sub":
            out.append(edit[1] + sep)
        if edit is not None and edit[0] == "ins":
            out.append(edit[1] + " ")
    return "".join(out)


def _random_edits(rng: random.Random, n: int, tag: str) -> dict[int, tuple]:
    """Draw a few edits of an n-word text, new words tagged so their origin stays visible."""
    edits: dict[int, tuple] = {}
    for j in range(rng.randint(1, 4)):
        index = rng.randrange(-1, n)
        new = " ".join(f"{tag}{j}x{k}" for k in range(rng.randint(1, 3)))
        if index == -1:
            edits[index] = ("ins", new)
        else:
            edits[index] = rng.choice([("sub", new), ("del",), ("ins", new)])
    return edits


def _sequential(base: str, first: list[Hunk], second: list[Hunk]) -> str:
    """Apply first's hunks to base, then second's hunks shifted onto that text."""
    text = apply_hunks(base, first)
    pieces: list[str] = []
    pos = 0
    for hunk in second:
        if hunk in first:
            continue  # the identical edit, already made
        assert all(h.end < hunk.start or h.start > hunk.end for h in first), (hunk, first)
        shift = sum(len(h.replacement) - (h.end - h.start) for h in first if h.end < hunk.start)
        pieces.append(text[pos:hunk.start + shift])
        pieces.append(hunk.replacement)
        pos = hunk.end + shift
    pieces.append(text[pos:])
    return "".join(pieces)


def _word_position(index: int, edit: tuple) -> float:
    """Place an edit on the word axis: a word's own slot, or between two words for insertions."""
    return index + 0.5 if edit[0] == "ins" else float(index)


def _no_word_between(a: float, b: float) -> bool:
    """Tell whether no base word lies strictly between two positions on the word axis."""
    low, high = sorted((a, b))
    return not any(low < k < high for k in range(math.floor(low), math.ceil(high) + 1))


def test_random_edit_pairs_merge_to_exact_union_or_conflict() -> None:
    rng = random.Random(20240611)
    clean = conflicted = 0
    for case in range(400):
        n = rng.randint(6, 40)
        words = [f"w{i}" for i in range(n)]
        seps = [rng.choice(SEPARATORS) for _ in range(n - 1)] + ["."]
        base = "".join(w + s for w, s in zip(words, seps, strict=True))
        theirs_edits = _random_edits(rng, n, f"t{case}y")
        mine_edits = _random_edits(rng, n, f"m{case}y")
        if rng.random() < 0.25:  # sometimes both sides make one identical edit
            index, edit = rng.choice(sorted(theirs_edits.items()))
            mine_edits[index] = edit
        mine = _apply_word_edits(words, seps, mine_edits)
        theirs = _apply_word_edits(words, seps, theirs_edits)

        result = merge_texts(base, mine, theirs)
        context = f"case {case}: base={base!r} mine={mine!r} theirs={theirs!r} -> {result}"

        # Edits of different sides with no base word between them must conflict.
        adjacent = any(
            _no_word_between(_word_position(i, a), _word_position(j, b)) and (i, a) != (j, b)
            for i, a in mine_edits.items() for j, b in theirs_edits.items()
        )
        if adjacent:
            assert not result.clean, context

        if not result.clean:
            conflicted += 1
            assert result.text is None and result.conflicts, context
            continue
        clean += 1
        text = result.text
        assert text is not None

        # Exactly the union: one side's hunks, then the other's, and the word-level expectation.
        assert text == _sequential(base, edit_hunks(base, theirs), edit_hunks(base, mine)), context
        union = dict(theirs_edits)
        for index, edit in mine_edits.items():
            assert union.get(index, edit) == edit, context  # same word touched differently
            union[index] = edit
        assert text == _apply_word_edits(words, seps, union), context

        # Every inserted word sequence of both sides survives.
        for edits in (mine_edits, theirs_edits):
            for edit in edits.values():
                if edit[0] != "del":
                    assert edit[1] in text, context

        # Never a token from neither side.
        known = set(tokenize(base)) | set(tokenize(mine)) | set(tokenize(theirs))
        assert set(tokenize(text)) <= known, context

    assert clean >= 80 and conflicted >= 80, (clean, conflicted)


# --- determinism and speed -------------------------------------------------------------------

def _long_text(rng: random.Random, chars: int) -> str:
    """Make clause-like prose of about the given length, in paragraphs."""
    vocab = ["party", "parties", "shall", "agree", "fund", "research", "energy", "the", "of",
             "and", "each", "year", "report", "ministry", "budget", "40%", "review", "data"]
    out: list[str] = []
    size = 0
    while size < chars:
        sentence = " ".join(rng.choice(vocab) for _ in range(rng.randint(6, 18))).capitalize()
        sep = ".\n\n" if rng.random() < 0.2 else ". "
        out.append(sentence + sep)
        size += len(sentence) + len(sep)
    return "".join(out)[:chars]


def _edit_words(rng: random.Random, text: str, count: int, start: int, stop: int, tag: str) -> str:
    """Replace count words between character offsets start and stop with tagged words."""
    head, middle, tail = text[:start], text[start:stop].split(" "), text[stop:]
    for i in rng.sample(range(1, len(middle) - 1), count):
        middle[i] = f"{tag}{i}"
    return head + " ".join(middle) + tail


# Speed is measured in bench/, never asserted here; these check determinism and correctness.
def test_merge_of_20k_texts_is_deterministic() -> None:
    rng = random.Random(7)
    base = _long_text(rng, 20_000)
    mine = _edit_words(rng, base, 15, 0, 9_000, "mine")
    theirs = _edit_words(rng, base, 15, 11_000, 20_000, "theirs")
    results = {merge_texts(base, mine, theirs).text for _ in range(3)}
    assert len(results) == 1
    [text] = results
    assert text is not None and text.count("mine") == 15 and text.count("theirs") == 15


def test_total_rewrites_of_50k_texts_stay_bounded_and_deterministic() -> None:
    rng = random.Random(11)
    base = _long_text(rng, 50_000)
    mine = _long_text(rng, 50_000)
    theirs = _long_text(rng, 50_000)
    first = merge_texts(base, mine, theirs)
    assert merge_texts(base, mine, theirs) == first
    assert not first.clean
