"""How much slower this machine runs Python after a pause (the slow idle case of issue 19).

    taskset -c 0 .venv/bin/python -m bench.coldcache

A fixed pure-Python workload (JSON and sorting, about 2.5 ms on a warm core) is timed back to
back and after pauses of 10 ms to 2 s. On the VM of docs/benchmarks.md it took 4-6 times longer
after 0.5-2 s of idleness: a save after a pause pays the same, whatever the app does.
"""

from __future__ import annotations

import json
import statistics
import time

DATA = [{"id": i, "name": f"user {i}", "tags": list(range(10))} for i in range(300)]
GAPS = (0.0, 0.01, 0.1, 0.5, 2.0)
RUNS = 12


def work() -> int:
    total = 0
    for _ in range(3):
        again = json.loads(json.dumps(DATA))
        total += sum(len(d["name"]) for d in again)
        total += len(sorted(str(d) for d in again[:100]))
    return total


def main() -> None:
    for gap in GAPS:
        times = []
        for _ in range(RUNS):
            began = time.perf_counter()
            work()
            times.append((time.perf_counter() - began) * 1000)
            time.sleep(gap)
        print(f"after a pause of {gap:4} s: p50 {statistics.median(times):.2f} ms, min {min(times):.2f} ms")


if __name__ == "__main__":
    main()
