"""CPython's multiprocessing.Pool: the parent's CPU while large results come in, with the stock pool and
with one whose worker-keeping thread does not wait on the results pipe (benchmarks/RESULTS.md, twelfth
session: 1.4-1.8 s against 0.3-0.45 s for 3,000 results of 300 KB; the ingest's wall time did not change).

    python benchmarks/pool_spin.py
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import resource
import time
from typing import Any


def work(i: int) -> bytes:
    return b"x" * 300_000


class QuietPool(multiprocessing.pool.Pool):
    def _get_sentinels(self) -> list[Any]:
        return [self._change_notifier._reader]  # type: ignore[attr-defined]


def run(cls: type[multiprocessing.pool.Pool]) -> tuple[float, float]:
    """Wall time and the parent's CPU (s) for the results of 3,000 tasks on two workers."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    with cls(2, context=multiprocessing.get_context("fork")) as pool:
        sum(len(x) for x in pool.imap(work, range(3000), chunksize=8))
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return round(time.perf_counter() - start, 2), round(cpu, 2)


if __name__ == "__main__":
    for cls in (multiprocessing.pool.Pool, QuietPool, multiprocessing.pool.Pool, QuietPool):
        wall, cpu = run(cls)
        print(f"{cls.__name__:10} wall {wall:5.2f} s, parent CPU {cpu:5.2f} s")
