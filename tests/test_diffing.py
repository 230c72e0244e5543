"""Word-level diffs and their HTML rendering: reconstruction, escaping, marks, granularity."""

from __future__ import annotations

import random

import pytest

from drafting.text.diffing import (
    DIFF_WORK_BUDGET,
    INSERT,
    MAX_SHOWN_CHANGES,
    Budget,
    diff_html,
    diff_ops,
    diff_side_by_side,
    token_ops,
    tokenize,
)

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
        pytest.param("Pay 40%, now.", ["Pay", " ", "40", "%", ",", " ", "now", "."],
                     id="words-space-and-each-punctuation-mark"),
        pytest.param("東京都の会議。次", ["東", "京", "都", "の", "会", "議", "。", "次"],
                     id="scripts-without-spaces-one-character-each"),
        pytest.param("ภาษาไทย", ["ภ", "า", "ษ", "า", "ไ", "ท", "ย"], id="thai-one-character-each"),
        pytest.param("नमस्ते 👍👍 🇧🇪", ["नमस्ते", " ", "👍", "👍", " ", "🇧🇪"],
                     id="indic-word-whole-each-emoji-and-flag-its-own"),
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


# --- bounded work and size ---------------------------------------------------------------------

def _prose(rng: random.Random, words: int, paragraphs: int = 1) -> str:
    """Make varied prose of some words, in paragraphs."""
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyzé") for _ in range(rng.randint(2, 9)))
             for _ in range(2_000)]
    sentences = [" ".join(rng.choice(vocab) for _ in range(rng.randint(6, 20))).capitalize() + "."
                 for _ in range(words // 13 + 1)]
    per = max(len(sentences) // paragraphs, 1)
    return "\n\n".join(" ".join(sentences[i:i + per]) for i in range(0, len(sentences), per))


WORST_CASES = [
    pytest.param("a\n\n" * 16_666, "b\n\n" * 16_666, id="16666-paragraphs-all-changed"),
    pytest.param(_prose(random.Random(1), 8_000), _prose(random.Random(2), 8_000), id="rewrite-one-paragraph"),
    pytest.param(_prose(random.Random(3), 8_000, 28), _prose(random.Random(4), 8_000, 28),
                 id="rewrite-28-paragraphs"),
    pytest.param("東京都の会議。" * 7_000, "大阪府の会談。" * 7_000, id="cjk-rewrite"),
]


@pytest.mark.parametrize("old, new", WORST_CASES)
def test_total_work_is_bounded_and_the_result_still_exact(old: str, new: str) -> None:
    """One budget for the whole diff (not one per paragraph); past it the diff is coarser, never wrong."""
    budget = Budget(DIFF_WORK_BUDGET)
    ops = diff_ops(old, new, budget)
    assert DIFF_WORK_BUDGET - budget.remaining < 2 * DIFF_WORK_BUDGET  # spent at most the budget, plus one step
    assert _old(ops) == old and _new(ops) == new
    assert sum(1 for op, _ in ops if op) <= MAX_SHOWN_CHANGES


def test_a_spent_budget_gives_a_coarser_but_exact_diff() -> None:
    old = _prose(random.Random(5), 600, 6)
    new = old.replace("a", "A", 40)
    fine, coarse = diff_ops(old, new), diff_ops(old, new, Budget(50))
    assert _old(coarse) == old and _new(coarse) == new
    assert sum(len(text) for op, text in coarse if op) > sum(len(text) for op, text in fine if op)


def test_many_scattered_changes_are_shown_in_at_most_the_bounded_number_of_pieces() -> None:
    words = [f"w{i}" for i in range(2_400)]  # 800 changed words: 1,600 pieces before the bound
    changed = [f"X{i}" if i % 3 == 0 else w for i, w in enumerate(words)]
    ops = diff_ops(" ".join(words), " ".join(changed))
    assert _old(ops) == " ".join(words) and _new(ops) == " ".join(changed)
    assert 100 < sum(1 for op, _ in ops if op) <= MAX_SHOWN_CHANGES


def test_scattered_edits_in_a_long_clause_stay_word_by_word() -> None:
    rng = random.Random(6)
    old = _prose(rng, 8_000, 28)
    words = old.split(" ")
    for i in rng.sample(range(len(words)), len(words) // 20):  # 5% of the words
        words[i] = f"NEW{i}"
    new = " ".join(words)
    ops = diff_ops(old, new)
    assert _old(ops) == old and _new(ops) == new
    inserted = [text for op, text in ops if op == INSERT]
    assert sum(text.count("NEW") for text in inserted) == len(words) // 20
    assert sum(len(text) for text in inserted) < 3 * sum(len(w) + 1 for w in words if w.startswith("NEW"))


# --- the batched path against the pure one: compiled (_textcore.c), and in Python (rapidfuzz) ---

@pytest.fixture(params=["compiled", "python"])
def batched_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The batched path as shipped (the compiled pass), and in Python (what serves without it)."""
    if request.param == "python":
        from drafting.text import diffing

        monkeypatch.setattr(diffing, "_textcore", None)
    return request.param


def _edited(rng: random.Random, text: str, share: float) -> str:
    """Edit a share of the words of text: replace, delete or repeat a word beside it."""
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, int(len(words) * share))):
        roll = rng.random()
        words[i] = f"N{i}" if roll < 0.4 else ("" if roll < 0.6 else f"{words[i]} {rng.choice(words)}")
    return " ".join(words)


@pytest.mark.parametrize("spaced", [False, True], ids=["diff", "merge-tokens"])
def test_batched_path_is_exact_and_as_minimal_as_the_pure_path(spaced: bool, batched_path: str) -> None:
    """Random texts of 2-15 KB with 1-5% of words edited: both paths rebuild both texts exactly,
    and change as many tokens in all to within 1% (a piece in which fewer than a quarter of the
    tokens are shared is one replacement in the batched path, where patience anchors may keep a
    few of them in the pure one; elsewhere the compiled LCS is as small or smaller)."""
    batched_total = pure_total = same = 0
    runs = 120
    for seed in range(runs):
        rng = random.Random(seed)
        old = _prose(rng, rng.choice([300, 800, 2_000]), rng.choice([1, 3, 8]))
        new = _edited(rng, old, rng.choice([0.01, 0.05]))
        batched = token_ops(old, new, Budget(10**9), spaced, batched=True)
        pure = token_ops(old, new, Budget(10**9), spaced, batched=False)
        for ops in (batched, pure):
            assert _old(ops) == old and _new(ops) == new, seed
            assert all(text for _, text in ops)
        batched_total += sum(len(tokenize(text)) for op, text in batched if op)
        pure_total += sum(len(tokenize(text)) for op, text in pure if op)
        same += batched == pure
    assert batched_total <= pure_total * 1.01
    assert same >= runs // 3


@pytest.mark.parametrize("old, new", WORST_CASES)
def test_batched_path_is_bounded_and_exact_on_the_worst_cases(old: str, new: str, batched_path: str) -> None:
    for spaced in (False, True):
        budget = Budget(DIFF_WORK_BUDGET)
        ops = token_ops(old, new, budget, spaced, batched=True)
        assert DIFF_WORK_BUDGET - budget.remaining < 2 * DIFF_WORK_BUDGET
        assert _old(ops) == old and _new(ops) == new


def test_batched_path_keeps_grapheme_clusters_and_words_whole(batched_path: str) -> None:
    old = "".join([f"Le café {i} 👍🏽 est fermé. " for i in range(40)] + [f"東京都の会議{i}は月曜日です。" for i in range(20)])
    new = old.replace("👍🏽 est fermé. Le", "👍🏻 est ouvert. Le", 3).replace("月曜日", "火曜日", 2)
    ops = token_ops(old, new, batched=True)
    assert _old(ops) == old and _new(ops) == new
    changed = sorted({text for op, text in ops if op})
    assert changed == sorted({"👍🏽", "👍🏻", "fermé", "ouvert", "月", "火"})


def test_hash_collisions_cannot_make_a_wrong_diff(monkeypatch: pytest.MonkeyPatch) -> None:
    """rapidfuzz compares hashes: a run it calls equal is kept only if its units are equal."""
    from drafting.text import diffing

    class Liar:
        @staticmethod
        def opcodes(old, new):  # claims everything is equal
            class Ops:
                @staticmethod
                def as_list():
                    return [("equal", 0, len(old), 0, len(new))] if len(old) == len(new) else \
                        [("replace", 0, len(old), 0, len(new))]
            return Ops

    monkeypatch.setattr(diffing, "_Indel", Liar)
    monkeypatch.setattr(diffing, "_textcore", None)  # rapidfuzz is the Python batched path's aligner
    old, new = "alpha beta gamma. " * 60, "alpha delta gamma. " * 60
    ops = token_ops(old, new, batched=True)
    assert _old(ops) == old and _new(ops) == new
