"""Heavy diffs and merges run in worker processes, so they never hold the server's GIL for long.

A diff or merge first runs in the request's own thread with a small budget (QUICK_WORK, a few
milliseconds): nearly all finish within it. One that does not is run again in a worker process
with its full budget while the request's thread waits without the GIL, so every other request
and broadcast of the process goes on. Budgets are counted, not timed, so the answer is the same
as running it here with the full budget.

Measured (docs/benchmarks.md, "Heavy diffs beside ordinary reads"): two clients looping the
worst diff in the server's own interpreter took an ordinary GET's p95 from 23 ms to 1.3 s,
because each database call gives up the GIL and waits a switch interval to get it back.

TEXT_WORK_PROCESSES (default 1) worker processes are started on first need, per server process;
0 runs everything in the request's thread. At most PENDING_PER_PROCESS jobs per worker wait: past
that a diff keeps its quick, coarser result (still exact) instead of queueing, and a merge waits
its turn.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context

from .diffing import DIFF_WORK_BUDGET, Budget, Op, diff_ops
from .merge import MERGE_WORK_BUDGET, MergeResult, merge_texts

QUICK_WORK = 8_000  # 2-4 ms: what may run in the request's thread
PENDING_PER_PROCESS = 4
WAIT_SECONDS = 30  # a job is bounded to well under a second; past this the worker is broken

log = logging.getLogger(__name__)


class _Pool:
    """The worker processes of one server process, started on first need."""

    def __init__(self):
        self.processes = 1
        self.lock = threading.Lock()
        self.executor: ProcessPoolExecutor | None = None
        self.pid = 0
        self.slots = threading.BoundedSemaphore(PENDING_PER_PROCESS)
        self.jobs = 0  # jobs a worker answered, for the tests and the curious

    def configure(self, processes: int) -> None:
        with self.lock:
            if max(processes, 0) == self.processes and self.executor is not None:
                return  # already so (every app created in a process configures it)
            self._shut()
            self.processes = max(processes, 0)
            self.slots = threading.BoundedSemaphore(max(self.processes, 1) * PENDING_PER_PROCESS)

    def run(self, job: Callable, *args, wait: bool) -> object | None:
        """Run job(*args) in a worker; None if none runs, too many wait (unless wait), or it failed."""
        slots = self.slots  # released to the same one, even if configure() replaced it meanwhile
        if self.processes == 0:
            return None
        if not (slots.acquire(timeout=WAIT_SECONDS) if wait else slots.acquire(blocking=False)):
            return None
        try:
            outcome = self._executor().submit(job, *args).result(timeout=WAIT_SECONDS)
            self.jobs += 1
            return outcome
        except (BrokenProcessPool, TimeoutError, OSError) as error:
            log.warning("text worker failed (%r); answering from this process", error)
            with self.lock:
                self._shut()
            return None
        finally:
            slots.release()

    def warm(self) -> None:
        """Start the workers now (a new interpreter takes a second or two), not on the first heavy request."""
        if self.processes and (self.executor is None or self.pid != os.getpid()):
            self._executor().submit(int)

    def _executor(self) -> ProcessPoolExecutor:
        with self.lock:
            if self.executor is None or self.pid != os.getpid():  # none yet, or inherited by a fork
                # spawn: a fresh interpreter, never a fork of a process running threads.
                self.executor = ProcessPoolExecutor(self.processes, mp_context=get_context("spawn"))
                self.pid = os.getpid()
            return self.executor

    def _shut(self) -> None:
        if self.executor is not None and self.pid == os.getpid():
            self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = None


_POOL = _Pool()
atexit.register(lambda: _POOL.configure(-1))


def configure(processes: int) -> None:
    """Set how many worker processes heavy text work may use (0: none, all in the request's thread)."""
    _POOL.configure(processes)


def warm() -> None:
    """Start the worker processes of this server process in the background, if it has any."""
    _POOL.warm()


def _diff_job(old: str, new: str, work: int) -> tuple[list[Op], int]:
    budget = Budget(work)
    return diff_ops(old, new, budget), budget.remaining


def _merge_job(base: str, mine: str, theirs: str, work: int) -> MergeResult:
    return merge_texts(base, mine, theirs, Budget(work))


def diff(old: str, new: str, budget: Budget | None = None) -> list[Op]:
    """diff_ops, with heavy ones in a worker process; a shared budget is charged what was spent."""
    total = budget.remaining if budget is not None else DIFF_WORK_BUDGET
    quick = Budget(min(QUICK_WORK, max(total, 0)))
    ops = diff_ops(old, new, quick)
    remaining = total - (min(QUICK_WORK, max(total, 0)) - quick.remaining)
    if quick.spent and total > QUICK_WORK:
        outcome = _POOL.run(_diff_job, old, new, total, wait=False)
        if outcome is not None:
            ops, remaining = outcome
        elif _POOL.processes == 0:
            full = Budget(total)
            ops, remaining = diff_ops(old, new, full), full.remaining
    if budget is not None:
        budget.remaining = remaining
    return ops


def merge(base: str, mine: str, theirs: str) -> MergeResult:
    """merge_texts, with heavy ones in a worker process (waiting for a turn rather than conflicting)."""
    quick = Budget(QUICK_WORK)
    result = merge_texts(base, mine, theirs, quick)
    if not quick.spent:
        return result
    outcome = _POOL.run(_merge_job, base, mine, theirs, MERGE_WORK_BUDGET, wait=True)
    return outcome if outcome is not None else merge_texts(base, mine, theirs)
