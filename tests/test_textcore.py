"""The compiled pass (drafting/text/_textcore.c): the tokens of the Python patterns, exactly; exact and
minimal diffs; the display folds of diff_ops; and the Python path where a cluster is not modelled."""

from __future__ import annotations

import random

import pytest

from drafting.text import diffing
from drafting.text.diffing import (
    DIFF_WORK_BUDGET,
    MAX_SHOWN_CHANGES,
    Budget,
    _absorb_equalities,
    _bound_changes,
    _ops_of,
    diff_ops,
    token_ops,
    tokenize,
)

core = diffing._textcore

# Characters of every kind the tokens depend on: spaces (\x1c is one for `re`, not for `regex`),
# letters and digits (² is a word character for `re` only), marks, joiners, emoji with modifiers,
# flags, ideographs and kana, Thai and Khmer, Devanagari conjuncts (virama: a Linker), controls,
# a Prepend (U+0600) and Hangul jamo (clusters the compiled pass leaves to Python).
POOL = list(" \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u2028\u3000abcXYZ09_éßçñ.,;:!?'\"-()[]²³¹ªº½µ\x00\x01\x7f\u00ad"
            "\u0300\u0301\u0308\u064b東京都の会議月曜日です。、！？カタカナひらがなไทยภาษาລາວខ្មែរမြန်မာ"
            "\u200d\ufe0f\U0001F3FD\U0001F3FB\U0001F44D\U0001F468\U0001F469\U0001F1EA\U0001F1FA\U0001F1EB"
            "\u2764\u2705\U0001F9EC\u0e33\u0e31\u0903\u093e\u094d\u0915\u0937\u20e3#*\u00a9\u2122")
POOL += ["नमस्ते", "\u0600", "\u1100", "\u1161", "\uac00", "\U0001F468\u200d\U0001F469\u200d\U0001F467"]
PATTERNS = {(False, False): diffing._TOKEN_RE, (True, False): diffing._SPACED_TOKEN_RE,
            (False, True): diffing._PLAIN_TOKEN_RE, (True, True): diffing._PLAIN_SPACED_TOKEN_RE}


def _tokens(text: str, spaced: bool, plain: bool) -> list[str] | None:
    edges = core.tokenize(text, spaced, plain)
    return None if edges is None else [text[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def test_the_compiled_pass_is_built_for_this_regex():
    assert core is not None, "drafting/text/_textcore.so is missing or was built for another regex: make install"
    assert core.TABLES == diffing.TEXTCORE_TABLES


@pytest.mark.parametrize("spaced", [False, True], ids=["tokens", "spaced"])
def test_tokens_are_the_patterns_tokens_on_random_text(spaced: bool):
    rng = random.Random(f"textcore-{spaced}")
    modelled = 0
    for _ in range(4_000):
        text = "".join(rng.choice(POOL) for _ in range(rng.randint(0, 40)))
        found = _tokens(text, spaced, False)
        if found is not None:
            modelled += 1
            assert found == PATTERNS[spaced, False].findall(text), repr(text)
        if not diffing._not_plain(text):
            assert _tokens(text, spaced, True) == PATTERNS[spaced, True].findall(text), repr(text)
    assert modelled > 2_000  # most texts have no Prepend or Hangul cluster start


def test_tokens_are_the_patterns_tokens_for_every_code_point():
    """Each code point alone, after a letter, after an emoji, twice after a mark, before a joiner
    sequence: chunks of them compared whole; a chunk the compiled pass does not model is halved."""
    def check(points: list[int]) -> int:
        text = "".join(f"{chr(p)}|a{chr(p)}\U0001F44D{chr(p)}!{chr(p)}{chr(p)}\u0301\u200d\U0001F468 "
                       for p in points)
        for spaced in (False, True):
            found = _tokens(text, spaced, False)
            if found is None:
                return sum(check(half) for half in (points[:len(points) // 2], points[len(points) // 2:])) \
                    if len(points) > 1 else 0
            assert found == PATTERNS[spaced, False].findall(text), [hex(p) for p in points[:3]]
        return len(points)

    # Every assigned code point lies below U+30000 or in plane 14 (tags, variation selectors); the
    # other planes are unassigned or private use, classed alike (one of each is checked).
    points = [*range(0x30000), *range(0xE0000, 0xE1000), 0x30000 + 0x1234, 0xF0000, 0x10FFFD]
    modelled = sum(check(points[k:k + 2048]) for k in range(0, len(points), 2048))
    assert modelled > len(points) - 20_000


def test_a_cluster_it_does_not_model_takes_the_python_path():
    old = "Le montant \u0600\u0661\u0662 est dû. " * 100  # a Prepend (Arabic number sign) starts a cluster
    new = old.replace("dû", "payé", 3)
    assert core.diff(old, new, False, 10**6) is None
    ops = token_ops(old, new, batched=True)
    assert "".join(t for op, t in ops if op <= 0) == old and "".join(t for op, t in ops if op >= 0) == new
    assert sorted({t for op, t in ops if op}) == ["dû", "payé"]


def _prose(rng: random.Random, words: int, paragraphs: int) -> str:
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyzé") for _ in range(rng.randint(2, 9))) for _ in range(800)]
    vocab += ["the", "of", "and", "shall", "東京", "会議", "👍🏽", "café"]
    sentences = [" ".join(rng.choice(vocab) for _ in range(rng.randint(4, 20))).capitalize()
                 + rng.choice([".", ";", "。", "!"]) for _ in range(words // 12 + 1)]
    per = max(len(sentences) // paragraphs, 1)
    return "\n\n".join(" ".join(sentences[i:i + per]) for i in range(0, len(sentences), per))


def _edited(rng: random.Random, text: str, share: float) -> str:
    words = text.split(" ")
    for i in rng.sample(range(len(words)), max(1, int(len(words) * share))):
        roll = rng.random()
        words[i] = f"N{i}" if roll < 0.4 else ("" if roll < 0.6 else f"{words[i]} {rng.choice(words)}")
    return " ".join(words)


@pytest.mark.parametrize("spaced", [False, True], ids=["diff", "merge-tokens"])
def test_compiled_diffs_are_exact_and_as_minimal_as_the_python_paths(spaced: bool, monkeypatch):
    """Random texts with 1-20% of the words edited: the compiled changes rebuild both texts, lie
    on token edges, and change as many tokens in all as the Python paths to within 5%. Both find
    a longest common subsequence at each level; they differ where sentences are paired differently
    and a pair then shares under a quarter of its tokens (one replacement, by the same rule),
    either way: on these inputs 2-3% more tokens than the pure path, some single texts fewer."""
    rng = random.Random(f"minimal-{spaced}")
    compiled_total = pure_total = batched_total = 0
    for _ in range(80):
        old = _prose(rng, rng.choice([200, 800, 2_500]), rng.choice([1, 3, 8]))
        new = _edited(rng, old, rng.choice([0.01, 0.05, 0.2]))
        ranges = core.diff(old, new, spaced, 10**9)[0]
        ops = _ops_of(old, new, ranges)
        assert "".join(t for op, t in ops if op <= 0) == old and "".join(t for op, t in ops if op >= 0) == new
        for k in range(0, len(ranges), 4):  # changes start and end between tokens, on both sides
            for text, at in ((old, ranges[k]), (old, ranges[k + 1]), (new, ranges[k + 2]), (new, ranges[k + 3])):
                assert diffing.is_token_edge(text, at, spaced), (text[at - 5:at + 5], spaced)
        monkeypatch.setattr(diffing, "_textcore", None)
        pure = token_ops(old, new, Budget(10**9), spaced, batched=False)
        batched = token_ops(old, new, Budget(10**9), spaced, batched=True)
        monkeypatch.setattr(diffing, "_textcore", core)
        compiled_total += sum(len(tokenize(t)) for op, t in ops if op)
        pure_total += sum(len(tokenize(t)) for op, t in pure if op)
        batched_total += sum(len(tokenize(t)) for op, t in batched if op)
    assert compiled_total <= 1.05 * min(pure_total, batched_total), (compiled_total, pure_total, batched_total)


@pytest.mark.parametrize("limit", [MAX_SHOWN_CHANGES, 40, 6])
def test_the_display_folds_are_diff_ops_folds(limit: int):
    """Folding equalities no longer than the edits around them, then the shortest ones until at most
    `limit` pieces change: in C exactly as _absorb_equalities and _bound_changes do it in Python."""
    rng = random.Random(f"folds-{limit}")
    for _ in range(60):
        old = _prose(rng, rng.choice([100, 600, 2_000]), rng.choice([1, 4]))
        new = _edited(rng, old, rng.choice([0.02, 0.1, 0.3]))
        raw = _ops_of(old, new, core.diff(old, new, False, 10**9)[0])
        folded = _ops_of(old, new, core.diff(old, new, False, 10**9, 0, limit)[0])
        assert folded == _bound_changes(_absorb_equalities(raw, 0), limit)


def test_diff_ops_takes_the_compiled_pass_for_long_texts(monkeypatch):
    rng = random.Random(5)
    old = _prose(rng, 3_000, 5)
    new = _edited(rng, old, 0.05)
    calls = []
    real = core.diff
    monkeypatch.setattr(core, "diff", lambda *args: calls.append(args) or real(*args))
    ops = diff_ops(old, new)
    assert calls and ops == _ops_of(old, new, real(old, new, False, DIFF_WORK_BUDGET * diffing._CORE_STEPS,
                                                   0, MAX_SHOWN_CHANGES)[0])


def test_the_budget_bounds_the_compiled_pass_and_it_stays_exact():
    """A budget spent early leaves the rest as one replacement: coarser, never wrong."""
    rng = random.Random(9)
    old = _prose(rng, 6_000, 20)
    new = _edited(rng, old, 0.1)
    fine, coarse = Budget(10**9), Budget(300)
    fine_ops, coarse_ops = token_ops(old, new, fine), token_ops(old, new, coarse)
    for ops in (fine_ops, coarse_ops):
        assert "".join(t for op, t in ops if op <= 0) == old and "".join(t for op, t in ops if op >= 0) == new
    assert len(coarse_ops) < len(fine_ops)
    assert 300 - coarse.remaining < 2 * 300 + 100 and 10**9 - fine.remaining > 300


@pytest.mark.parametrize("spaced_words", [False, True], ids=["chinese", "english"])
def test_a_full_stop_typed_or_deleted_costs_its_sentences_not_the_paragraph(spaced_words: bool):
    """Every sentence of a long paragraph edited in its middle, and one full stop deleted (two
    sentences become one) or typed: the sentences no longer pair one to one, yet the pass cuts the
    paragraph where both sides end a sentence alike and aligns only the pieces, so its work stays
    near that of the same edits without the full stop, not an alignment of the whole paragraph
    token by token. The changes still rebuild both texts and change hardly more."""
    rng = random.Random(f"stops-{spaced_words}")
    vocabulary = (["shall", "the", "data", "space", "health", "of", "in", "member", "state", "access"] if spaced_words
                  else list("的是了在人有我他这中大来上国个到说们为子和你地出道也时年"))
    join, stop = (" ", ". ") if spaced_words else ("", "。")
    sentences = [[rng.choice(vocabulary) for _ in range(rng.randint(10, 30))] for _ in range(300)]
    edited = [words[:len(words) // 2] + ["new"] + words[len(words) // 2 + 1:] for words in sentences]
    old, new = (stop.join(join.join(words) for words in text) + stop.strip() for text in (sentences, edited))
    at = len(stop.join(join.join(words) for words in edited[:150]))
    assert new[at:at + len(stop)] == stop
    _, plain_work = core.diff(old, new, True, 10**9)
    plain_changed = sum(len(tokenize(t)) for op, t in _ops_of(old, new, core.diff(old, new, True, 10**9)[0]) if op)
    for other in (new[:at] + join + "and" + join + new[at + len(stop):],  # two sentences become one
                  new[:at] + stop + "new" + stop + new[at + len(stop):]):  # a sentence typed between two
        ranges, work = core.diff(old, other, True, 10**9)
        ops = _ops_of(old, other, ranges)
        assert "".join(t for op, t in ops if op <= 0) == old and "".join(t for op, t in ops if op >= 0) == other
        assert work < 1.5 * plain_work, (work, plain_work)
        assert sum(len(tokenize(t)) for op, t in ops if op) <= plain_changed + 10


def test_compiled_merges_are_the_python_merges(monkeypatch):
    """Long texts edited on both sides (apart, overlapping, one side a retry of the merge): given
    the same diffs, the compiled grouping gives exactly the merge, or the conflicts, of the Python
    loop; and the one compiled call (both diffs and the grouping, the base tokenised once) gives
    what the compiled diffs and grouping called one by one give, leaving the same budget."""
    from drafting.text import merge

    rng = random.Random("merges")
    found = {}
    compiled_ranges = merge.change_ranges

    def remembered(base, other, budget=None, spaced=False):  # the compiled diffs, for both runs
        if (base, other) not in found:
            found[base, other] = compiled_ranges(base, other, budget, spaced)
        return list(found[base, other])

    monkeypatch.setattr(merge, "change_ranges", remembered)
    one_call = merge._compiled_merge
    clean = conflicted = 0
    for _ in range(40):
        base = _prose(rng, rng.choice([400, 2_000, 6_000]), rng.choice([1, 4, 12]))
        mine = _edited(rng, base, rng.choice([0.01, 0.05]))
        theirs = _edited(rng, base, rng.choice([0.01, 0.05]))
        cases = [(base, mine, theirs)]
        compiled = [merge.merge_texts(*cases[0])]
        if compiled[0].clean:
            cases.append((base, mine, compiled[0].text))  # a save retried after it was merged
            compiled.append(merge.merge_texts(*cases[-1]))
        monkeypatch.setattr(merge, "_compiled_merge", lambda *args: None)
        for case, result in zip(cases, compiled, strict=True):
            monkeypatch.setattr(merge, "change_ranges", compiled_ranges)
            for remaining in (merge.MERGE_WORK_BUDGET, 2_000):
                at_once, one_by_one = Budget(remaining), Budget(remaining)
                assert one_call(*case, at_once) == merge.merge_texts(*case, one_by_one)
                assert at_once.remaining == one_by_one.remaining
            monkeypatch.setattr(merge, "change_ranges", remembered)
            assert merge.merge_texts(*case) == result
        monkeypatch.setattr(diffing, "_textcore", None)
        for case, result in zip(cases, compiled, strict=True):
            assert merge.merge_texts(*case) == result
        monkeypatch.setattr(diffing, "_textcore", core)
        monkeypatch.setattr(merge, "_compiled_merge", one_call)
        clean += compiled[0].clean
        conflicted += not compiled[0].clean
    assert clean >= 5 and conflicted >= 5, (clean, conflicted)


def test_merge_refuses_ranges_outside_the_texts():
    with pytest.raises(ValueError):
        core.merge("abc", "abd", "abc", [2, 3, 2, 9], [])


def test_diffs_and_merges_in_parallel_threads_give_what_they_give_one_at_a_time():
    """The compiled pass runs without the GIL and hands its large arrays from one call to the
    next through a shared pool: eight threads diffing and merging long texts at once get
    exactly what the same calls give one at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from drafting.text import merge

    rng = random.Random("threads")
    jobs = []
    for _ in range(24):
        base = _prose(rng, rng.choice([2_000, 6_000]), rng.choice([1, 6]))
        jobs.append((base, _edited(rng, base, 0.05), _edited(rng, base, 0.02)))

    def work(job):
        base, mine, theirs = job
        return core.diff(base, mine, True, 10**9), core.diff(base, theirs, False, 10**9), merge.merge_texts(*job)

    alone = [work(job) for job in jobs]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(work, jobs * 3))
    assert together == alone * 3
