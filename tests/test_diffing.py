"""Word-level diffs and their HTML rendering: reconstruction, escaping, marks, granularity."""

from __future__ import annotations

import random

import pytest

from drafting.text.diffing import diff_html, diff_ops, diff_side_by_side, tokenize

RATE = "The annual contribution of each party is 40% of the programme budget."
SPECIAL = '<script>alert(1)</script> & "q"'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;q&quot;"


def _old(ops: list[tuple[int, str]]) -> str:
    """Rebuild the old text from equalities and deletions."""
    return "".join(text for op, text in ops if op <= 0)


def _new(ops: list[tuple[int, str]]) -> str:
    """Rebuild the new text from equalities and insertions."""
    return "".join(text for op, text in ops if op >= 0)


def _scrambled(seed: int) -> tuple[str, str]:
    """Make a random text and a word-level edit of it, with paragraphs and list items."""
    rng = random.Random(seed)
    vocab = ["party", "shall", "fund", "40%", "(a)", "- data", "é", "Ωμέγα", "👍🏽", "\n\n", ",", "."]
    old = [rng.choice(vocab) for _ in range(60)]
    new = list(old)
    for _ in range(8):
        i = rng.randrange(len(new))
        if rng.random() < 0.5:
            new[i] = rng.choice(vocab)
        elif rng.random() < 0.5:
            del new[i]
        else:
            new.insert(i, rng.choice(vocab))
    return " ".join(old), " ".join(new)


RECONSTRUCT_CASES = [
    pytest.param("", "", id="both-empty"),
    pytest.param("", "Fresh text.", id="from-empty"),
    pytest.param("Old text.", "", id="to-empty"),
    pytest.param("Same text.", "Same text.", id="identical"),
    pytest.param(RATE, RATE.replace("40%", "55%"), id="one-word-changed"),
    pytest.param("First para.\n\nSecond para.", "First para.\n\nNew para.\n\nSecond para.",
                 id="paragraph-inserted"),
    pytest.param("(a) one;\n(b) two;\n- three", "(a) one;\n- three\n- four", id="list-items"),
    pytest.param("Le café près de Zürich", "Le thé près d'Athènes, Ελλάδα 🎉", id="unicode"),
    pytest.param("cafe\u0301 👨\u200d👩\u200d👧 done", "cafe\u0301 👨\u200d👩\u200d👦 done",
                 id="combining-marks-and-zwj-emoji"),
    pytest.param("alpha beta gamma", "delta epsilon zeta", id="total-rewrite"),
    pytest.param("  leading and trailing  ", "leading, and trailing\n", id="whitespace-only-edits"),
    *[pytest.param(*_scrambled(seed), id=f"random-edits-seed-{seed}") for seed in range(5)],
]


@pytest.mark.parametrize("old, new", RECONSTRUCT_CASES)
def test_ops_reconstruct_both_texts(old: str, new: str) -> None:
    ops = diff_ops(old, new)
    assert _old(ops) == old
    assert _new(ops) == new
    assert all(op in (-1, 0, 1) and text for op, text in ops)


@pytest.mark.parametrize("old, new", RECONSTRUCT_CASES)
def test_renderings_keep_all_text(old: str, new: str) -> None:
    ops = diff_ops(old, new)
    left, right = diff_side_by_side(ops)
    assert ("[inserted: " in diff_html(ops)) == any(op == 1 for op, _ in ops)
    assert ("[deleted: " in diff_html(ops)) == any(op == -1 for op, _ in ops)
    assert "<ins>" not in left and "<del>" not in right


def test_word_granularity_for_a_changed_rate() -> None:
    ops = diff_ops(RATE, RATE.replace("40%", "55%"))
    changes = [(op, text) for op, text in ops if op != 0]
    assert changes == [(-1, "40"), (1, "55")]


@pytest.mark.parametrize(
    "old, new, deleted, inserted",
    [
        pytest.param("the quick brown fox", "the quick red fox", ["brown"], ["red"],
                     id="one-word-replaced-whole"),
        pytest.param("the contract is void", "the contracts are void", ["contract is"],
                     ["contracts are"], id="word-forms-replaced-whole"),
        pytest.param("Le café est fermé", "Le café est ouvert", ["fermé"], ["ouvert"],
                     id="accented-words-whole"),
        pytest.param("Ωμέγα και άλφα", "Ωμέγα και βήτα", ["άλφα"], ["βήτα"], id="greek-words-whole"),
    ],
)
def test_changes_are_whole_words(old: str, new: str, deleted: list[str], inserted: list[str]) -> None:
    ops = diff_ops(old, new)
    assert [text for op, text in ops if op == -1] == deleted
    assert [text for op, text in ops if op == 1] == inserted


def test_rewritten_sentence_is_one_block_not_fragments() -> None:
    old = "The fee is 40% of the total, paid by the agency in March."
    new = "Within the month, the ministry remits everything it owes."
    ops = diff_ops(old, new)
    # Semantic cleanup: no stray shared "the" splitting the rewrite into confetti.
    assert len([op for op, _ in ops if op != 0]) <= 2


def test_html_escapes_special_characters() -> None:
    old = f"Before {SPECIAL} after."
    new = f"Before {SPECIAL.replace('1', '2')} later."
    ops = diff_ops(old, new)
    html = diff_html(ops)
    left, right = diff_side_by_side(ops)
    for rendered in (html, left, right):
        assert "<script>" not in rendered and "</script>" not in rendered
        assert '"q"' not in rendered
        assert "&lt;script&gt;alert(" in rendered
        assert "&amp; &quot;q&quot;" in rendered


@pytest.mark.parametrize("op", [-1, 0, 1], ids=["deleted", "equal", "inserted"])
def test_every_op_kind_is_escaped(op: int) -> None:
    html = diff_html([(op, SPECIAL)])
    left, right = diff_side_by_side([(op, SPECIAL)])
    assert ESCAPED in html
    assert ESCAPED in (left if op <= 0 else right)
    assert "<script>" not in html + left + right


def test_marks_and_text_cues() -> None:
    ops = diff_ops("Pay 40% now.", "Pay 55% now.")
    html = diff_html(ops)
    assert html == (
        'Pay <del><span class="visually-hidden">[deleted: </span>40'
        '<span class="visually-hidden">]</span></del>'
        '<ins><span class="visually-hidden">[inserted: </span>55'
        '<span class="visually-hidden">]</span></ins>% now.'
    )
    left, right = diff_side_by_side(ops)
    assert left == ('Pay <del><span class="visually-hidden">[deleted: </span>40'
                    '<span class="visually-hidden">]</span></del>% now.')
    assert right == ('Pay <ins><span class="visually-hidden">[inserted: </span>55'
                     '<span class="visually-hidden">]</span></ins>% now.')


def test_newlines_are_kept_as_is() -> None:
    ops = diff_ops("One.\n\nTwo.", "One.\n\nTwo.\n\nThree.")
    html = diff_html(ops)
    left, right = diff_side_by_side(ops)
    assert "<br" not in html
    assert html.startswith("One.\n\nTwo.")
    assert left == "One.\n\nTwo."
    assert "Three." in right and right.count("\n") == 4


def test_renderers_return_plain_str() -> None:
    ops = diff_ops("a b", "a c")
    left, right = diff_side_by_side(ops)
    assert type(diff_html(ops)) is str and type(left) is str and type(right) is str


@pytest.mark.parametrize(
    "text, tokens",
    [
        pytest.param("Pay 40%, now.", ["Pay", " ", "40", "%,", " ", "now", "."], id="words-space-punctuation"),
        pytest.param("a\n\n- b", ["a", "\n\n", "-", " ", "b"], id="paragraphs-and-list-items"),
        pytest.param("cafe\u0301 e\u0301te\u0301", ["cafe\u0301", " ", "e\u0301te\u0301"],
                     id="combining-marks-stay-in-their-word"),
        pytest.param("ok 👨\u200d👩\u200d👧 👍🏽", ["ok", " ", "👨\u200d👩\u200d👧", " ", "👍🏽"],
                     id="emoji-sequences-stay-whole"),
        pytest.param("", [], id="empty"),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens
    assert "".join(tokenize(text)) == text


def test_diff_of_long_rewrite_is_deterministic() -> None:
    rng = random.Random(3)
    words = ["alpha", "beta", "gamma", "delta", "40%", "shall", "the", "of"]
    old = " ".join(rng.choice(words) for _ in range(6_000))
    new = " ".join(rng.choice(words) for _ in range(6_000))
    ops = diff_ops(old, new)
    assert ops == diff_ops(old, new)
    assert _old(ops) == old and _new(ops) == new
