"""Heavy diffs and merges go to a worker process and answer exactly what the request's own thread would."""

from __future__ import annotations

import pytest

from drafting.text import offload
from drafting.text.diffing import DIFF_WORK_BUDGET, Budget, diff_ops
from drafting.text.merge import merge_texts

HEAVY_OLD, HEAVY_NEW = "a\n\n" * 16_666, "b\n\n" * 16_666
LIGHT_OLD = "The parties agree to cooperate on research.\n\nFunding is shared equally."
LIGHT_NEW = LIGHT_OLD.replace("equally", "fairly")


@pytest.fixture
def workers():
    """One worker process, as served; the setting is put back afterwards."""
    offload.configure(1)
    yield offload._POOL
    offload.configure(1)


def test_a_heavy_diff_runs_in_a_worker_and_equals_the_in_process_answer(workers):
    before = workers.jobs
    ops = offload.diff(HEAVY_OLD, HEAVY_NEW)
    assert workers.jobs == before + 1
    assert ops == diff_ops(HEAVY_OLD, HEAVY_NEW)
    assert "".join(t for op, t in ops if op <= 0) == HEAVY_OLD


def test_a_light_diff_stays_in_the_request_thread(workers):
    before = workers.jobs
    assert offload.diff(LIGHT_OLD, LIGHT_NEW) == diff_ops(LIGHT_OLD, LIGHT_NEW)
    assert workers.jobs == before


def test_a_shared_budget_is_charged_what_the_worker_spent(workers):
    shared, alone = Budget(3 * DIFF_WORK_BUDGET), Budget(3 * DIFF_WORK_BUDGET)
    assert offload.diff(HEAVY_OLD, HEAVY_NEW, shared) == diff_ops(HEAVY_OLD, HEAVY_NEW, alone)
    assert shared.remaining == alone.remaining < 3 * DIFF_WORK_BUDGET


def test_a_heavy_merge_runs_in_a_worker_and_equals_the_in_process_answer(workers):
    base = "".join(f"Sentence {i} of the clause, on data item {i * 7}. " for i in range(900))
    mine = base.replace("Sentence 10 ", "Paragraph 10 ").replace("item 35.", "record 35.")
    theirs = base.replace("Sentence 800 ", "Article 800 ")
    before = workers.jobs
    result = offload.merge(base, mine, theirs)
    assert result == merge_texts(base, mine, theirs)
    assert result.clean and "Paragraph 10 " in result.text and "Article 800 " in result.text
    # 16,666 one-letter paragraphs rewritten by both sides: past the quick budget, even compiled.
    theirs = "c\n\n" * 16_666
    rewrite = offload.merge(HEAVY_OLD, HEAVY_NEW, theirs)
    assert rewrite == merge_texts(HEAVY_OLD, HEAVY_NEW, theirs) and not rewrite.clean
    assert workers.jobs >= before + 1


def test_when_workers_are_busy_a_diff_keeps_its_quick_coarser_answer(workers):
    taken = 0
    while workers.slots.acquire(blocking=False):
        taken += 1
    try:
        before = workers.jobs
        ops = offload.diff(HEAVY_OLD, HEAVY_NEW)
        assert workers.jobs == before
        assert "".join(t for op, t in ops if op <= 0) == HEAVY_OLD
        assert "".join(t for op, t in ops if op >= 0) == HEAVY_NEW
    finally:
        for _ in range(taken):
            workers.slots.release()


def test_without_workers_everything_runs_in_the_request_thread():
    offload.configure(0)
    try:
        assert offload.diff(HEAVY_OLD, HEAVY_NEW) == diff_ops(HEAVY_OLD, HEAVY_NEW)
    finally:
        offload.configure(1)
