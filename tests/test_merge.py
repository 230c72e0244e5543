"""Three-way merge of clause text: clean merges, conflicts, and the never-invent-text property."""

from __future__ import annotations

import random

import pytest

from drafting.text.diffing import Budget, tokenize
from drafting.text.merge import MergeResult, merge_texts

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
    # Minimal edit ranges: an unchanged stretch between two long edits keeps them apart.
    pytest.param(
        "The Minister shall promptly publish the annual report before the end of March each year.",
        "The Secretary of State for Energy and Climate Change shall promptly publish the annual "
        "report within three months of the end of each financial year.",
        "The Minister shall promptly publish the annual audited report before the end of March each year.",
        "The Secretary of State for Energy and Climate Change shall promptly publish the annual "
        "audited report within three months of the end of each financial year.",
        id="insertion-between-two-long-edits-of-the-other-side",
    ),
    pytest.param(
        RATE,
        RATE.replace("40%", "55%"),
        "Each party's annual share is 40% of the agreed budget, paid in advance.",
        "Each party's annual share is 55% of the agreed budget, paid in advance.",
        id="rate-edit-in-rewrite-that-kept-the-words-around-the-rate",
    ),
    # Punctuation, emoji and characters of scripts without spaces separate edits.
    pytest.param(
        "Cats, dogs and birds.",
        "Lions, dogs and birds.",
        "Cats, wolves and birds.",
        "Lions, wolves and birds.",
        id="words-separated-by-a-comma",
    ),
    pytest.param("alpha,beta", "ALPHA,beta", "alpha,BETA", "ALPHA,BETA", id="comma-without-space"),
    pytest.param(
        "ok 👍 fine 🎉 done",
        "ok 👎 fine 🎉 done",
        "ok 👍 fine 🎊 done",
        "ok 👎 fine 🎊 done",
        id="emoji-edited-on-both-sides",
    ),
    pytest.param("go👍stop", "GO👍stop", "go👍STOP", "GO👍STOP", id="words-separated-by-an-emoji"),
    pytest.param(
        "東京都の会議は月曜日です。",
        "大阪都の会議は月曜日です。",
        "東京都の会議は火曜日です。",
        "大阪都の会議は火曜日です。",
        id="japanese-edits-in-one-sentence",
    ),
    pytest.param(
        "我们同意在研究方面合作，资金平均分配。",
        "我们同意在创新方面合作，资金平均分配。",
        "我们同意在研究方面合作，资金按比例分配。",
        "我们同意在创新方面合作，资金按比例分配。",
        id="chinese-edits-in-one-sentence",
    ),
    pytest.param(
        "ประเทศไทยมีความร่วมมือด้านการวิจัย",
        "ประเทศลาวมีความร่วมมือด้านการวิจัย",
        "ประเทศไทยมีความร่วมมือด้านการศึกษา",
        "ประเทศลาวมีความร่วมมือด้านการศึกษา",
        id="thai-edits-in-one-run-without-spaces",
    ),
]


@pytest.mark.parametrize("base, mine, theirs, expected", CLEAN_CASES)
def test_clean_merges(base: str, mine: str, theirs: str, expected: str, diff_path: str) -> None:
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
        "Cats dogs and birds.",
        "Lions dogs and birds.",
        "Cats wolves and birds.",
        id="adjacent-words-separated-only-by-a-space",
    ),
    pytest.param(
        "สวัสดีครับ ผม",
        "สวัสดีค่ะ ผม",
        "สวัสดีครับ เรา",
        id="thai-edits-separated-only-by-a-space",
    ),
    pytest.param(
        "東京都の会議は月曜日です。",
        "東京都の会談は月曜日です。",
        "東京都の会議が月曜日です。",
        id="cjk-edits-on-neighbouring-characters",
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
def test_conflicts(base: str, mine: str, theirs: str, diff_path: str) -> None:
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
HAN = "研究合作资金平均分配国家政府部门数据健康创新集群宣言行动计划年度报告会议周期"
EMOJI = ["👍", "🎉", "👍🏽", "👨\u200d👩\u200d👧", "🇧🇪", "✅"]


class Script:
    """How the random texts of one script are built: units, separators, new text of each side."""

    def __init__(self, name: str, pad: str):
        self.name, self.pad = name, pad

    def units(self, rng: random.Random, n: int) -> tuple[list[str], list[str]]:
        if self.name == "cjk":
            words = [rng.choice(HAN) for _ in range(n)]
            seps = [rng.choice(["", "", "", "", "，", "。"]) for _ in range(n - 1)] + ["。"]
        else:
            words = [f"w{i}" if self.name == "latin" or rng.random() < 0.6 else rng.choice(EMOJI)
                     for i in range(n)]
            words = [rng.choice(["the", "of", "shall"]) if rng.random() < 0.15 else w for w in words]
            seps = [rng.choice(SEPARATORS + (["", " 🎉 "] if self.name == "emoji" else []))
                    for _ in range(n - 1)] + ["."]
            # Two words with nothing between would be one word: keep a space there.
            seps = [sep if sep or not (w[0].isalnum() and v[0].isalnum()) else " "
                    for sep, w, v in zip(seps, words, words[1:] + ["."], strict=True)]
        # The same unit twice in a row makes edits ambiguous: deleting either copy is one
        # textual change, which the merge rightly treats as one; the oracle below could not.
        words = [w if k == 0 or w != words[k - 1] else f"u{k}" for k, w in enumerate(words)]
        return words, seps

    def new_text(self, rng: random.Random, tag: str, j: int) -> str:
        if self.name == "cjk":
            letters = "アイウエオカキクケコ" if tag.startswith("m") else "あいうえおかきくけこ"
            return "".join(rng.choice(letters) for _ in range(rng.randint(1, 3)))
        return " ".join(f"{tag}{j}x{k}" for k in range(rng.randint(1, 3)))


SCRIPTS = [Script("latin", " "), Script("cjk", ""), Script("emoji", " ")]


def _apply_word_edits(words: list[str], seps: list[str], edits: dict[int, tuple], pad: str = " ") -> str:
    """Apply index-keyed edits ('sub', new) / ('del',) / ('ins', new) to words; -1 inserts at start."""
    out: list[str] = []
    if -1 in edits:
        out.append(edits[-1][1] + pad)
    for i, (word, sep) in enumerate(zip(words, seps, strict=True)):
        edit = edits.get(i)
        if edit is None or edit[0] == "ins":
            out.append(word + sep)
        elif edit[0] == "sub":
            out.append(edit[1] + sep)
        if edit is not None and edit[0] == "ins":
            out.append(edit[1] + pad)
    return "".join(out)


def _random_edits(rng: random.Random, n: int, tag: str, script: Script | None = None) -> dict[int, tuple]:
    """Draw a few edits of an n-word text, new words tagged so their origin stays visible."""
    script = script or SCRIPTS[0]
    edits: dict[int, tuple] = {}
    for j in range(rng.randint(1, 4)):
        index = rng.randrange(-1, n)
        new = script.new_text(rng, tag, j)
        if index == -1:
            edits[index] = ("ins", new)
        else:
            edits[index] = rng.choice([("sub", new), ("del",), ("ins", new)])
    return edits


def _slots(edits: dict[int, tuple]) -> dict[tuple[int, str], tuple]:
    """Key edits by what they change: word i itself, or the point after word i and its separator."""
    return {(index, "after" if edit[0] == "ins" else "word"): edit for index, edit in edits.items()}


def _apply_slots(words: list[str], seps: list[str], slots: dict[tuple[int, str], tuple], pad: str) -> str:
    """Apply edits keyed by _slots: a word may be replaced and text inserted after it at once."""
    out = [slots[(-1, "after")][1] + pad] if (-1, "after") in slots else []
    for i, (word, sep) in enumerate(zip(words, seps, strict=True)):
        edit = slots.get((i, "word"))
        if edit is None:
            out.append(word + sep)
        elif edit[0] == "sub":
            out.append(edit[1] + sep)
        if (i, "after") in slots:
            out.append(slots[(i, "after")][1] + pad)
    return "".join(out)


def _must_conflict(seps: list[str], one: tuple[int, tuple], other: tuple[int, tuple]) -> bool:
    """Tell whether two edits of different sides touch however a diff aligns them.

    Both change the same word or insert at the same point; or a replaced word meets the other
    side's replaced word or insertion across nothing but spaces. (A deletion takes a separator
    with it, and which one is up to the diff, so deletions count only on their own word.)
    """
    (i, a), (j, b) = sorted((one, other), key=lambda item: (item[0], item[1][0] != "ins"))
    if a == b and i == j:
        return False  # the identical edit
    if i == j and (a[0] == "ins") == (b[0] == "ins"):
        return True
    if "del" in (a[0], b[0]):
        return False
    # i <= j: a replaced word i or inserted after it; b is further on.
    spaces_after_i = not seps[i].strip() if i >= 0 else True
    if a[0] == "sub" and b[0] == "sub":
        return j == i + 1 and spaces_after_i
    if a[0] == "ins":  # the point just before word i + 1
        return b[0] == "sub" and j == i + 1
    return b[0] == "ins" and j == i and spaces_after_i


def _merge_checked(base: str, mine: str, theirs: str, context: str):
    """Merge both ways round; the answer must not depend on which side is mine."""
    result = merge_texts(base, mine, theirs)
    assert merge_texts(base, theirs, mine) == result, context
    return result


@pytest.fixture(params=["auto", "batched", "batched-python"])
def diff_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run as shipped (these short texts take the pure path), then with every diff on the batched
    path: compiled (drafting/text/_textcore.c), and in Python (what serves without it)."""
    if request.param != "auto":
        from drafting.text import diffing

        monkeypatch.setattr(diffing, "_BATCHED_FROM", 0)
        if request.param == "batched-python":
            monkeypatch.setattr(diffing, "_textcore", None)
    return request.param


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda script: script.name)
def test_random_edit_pairs_merge_to_exact_union_or_conflict(script: Script, diff_path: str) -> None:
    """No lost, duplicated or misplaced change; symmetric; re-merging a side into a clean merge keeps it."""
    rng = random.Random(f"20240611-{script.name}")
    clean = conflicted = 0
    for case in range(1000):
        n = rng.randint(6, 40)
        words, seps = script.units(rng, n)
        base = "".join(w + s for w, s in zip(words, seps, strict=True))
        theirs_edits = _random_edits(rng, n, f"t{case}y", script)
        mine_edits = _random_edits(rng, n, f"m{case}y", script)
        if rng.random() < 0.25:  # sometimes both sides make one identical edit
            index, edit = rng.choice(sorted(theirs_edits.items()))
            mine_edits[index] = edit
        mine = _apply_word_edits(words, seps, mine_edits, script.pad)
        theirs = _apply_word_edits(words, seps, theirs_edits, script.pad)
        context = f"case {case}: base={base!r} mine={mine!r} theirs={theirs!r}"
        result = _merge_checked(base, mine, theirs, context)
        context += f" -> {result}"

        # Edits of different sides with only spaces (or nothing) between them must conflict.
        if any(_must_conflict(seps, (i, a), (j, b))
               for i, a in mine_edits.items() for j, b in theirs_edits.items()):
            assert not result.clean, context

        if not result.clean:
            conflicted += 1
            assert result.text is None and result.conflicts, context
            continue
        clean += 1
        text = result.text
        assert text is not None

        # Exactly the union of both sides' word-level edits (an identical edit made once).
        union = _slots(theirs_edits)
        for slot, edit in _slots(mine_edits).items():
            assert union.get(slot, edit) == edit, context  # same word touched differently
            union[slot] = edit
        assert text == _apply_slots(words, seps, union, script.pad), context

        # Every inserted word sequence of both sides survives.
        for edits in (mine_edits, theirs_edits):
            for edit in edits.values():
                if edit[0] != "del":
                    assert edit[1] in text, context

        # Never a token from neither side.
        known = set(tokenize(base)) | set(tokenize(mine)) | set(tokenize(theirs))
        assert set(tokenize(text)) <= known, context

        # Idempotent: merging either side again into the merge gives the merge.
        for side in (mine, theirs):
            assert _merge_checked(base, side, text, context) == MergeResult(text, True, []), context

    assert clean >= 250 and conflicted >= 150, (clean, conflicted)


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


# --- the cases of issue 12 -------------------------------------------------------------------

def test_re_merging_one_side_into_a_clean_merge_gives_that_merge() -> None:
    """A save retried after it was merged must not conflict with its own merge."""
    base = "The Minister shall publish the report in March."
    mine = "The Secretary of State for Energy shall publish the report in March."
    theirs = "The Minister shall publish the independently audited annual report in March."
    merged = merge_texts(base, mine, theirs)
    assert merged == MergeResult(
        "The Secretary of State for Energy shall publish the independently audited annual report in March.", True, [])
    for side in (mine, theirs):
        assert merge_texts(base, side, merged.text) == merged
        assert merge_texts(base, merged.text, side) == merged


def test_a_merge_that_cannot_be_proved_safe_within_its_budget_is_a_conflict() -> None:
    mine = BASE.replace("cooperate", "collaborate")
    theirs = BASE.replace("six months'", "ninety days'")
    assert merge_texts(BASE, mine, theirs).clean
    starved = merge_texts(BASE, mine, theirs, Budget(10))
    assert not starved.clean and starved.text is None


def test_one_side_repeating_the_other_plus_an_undo_is_not_taken_for_an_extension() -> None:
    """Edits from one side to the other must not put back, a word away, what one side deleted."""
    base = "w0 w1; w2; w3\n- w4\n- w5 w6; shall, shall w9.\n\nw10."
    mine = "w0 w1; w2; w3\n- w4\n- w5 w6; shall w9.\n\nw10."  # one "shall, " deleted
    theirs = "T0 w0 w1; w2; w4\n- w5 w6; shall, shall w10."
    merged = MergeResult("T0 w0 w1; w2; w4\n- w5 w6; shall w10.", True, [])
    assert merge_texts(base, mine, theirs) == merged
    # Re-merging theirs (which still has both "shall") into the merge keeps mine's deletion.
    assert merge_texts(base, merged.text, theirs) == merged
    assert merge_texts(base, theirs, merged.text) == merged
