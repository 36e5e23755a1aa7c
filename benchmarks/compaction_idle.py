"""Experiment (not kept in the product): ingest_cpu.py with RocksDB's compaction threads at SCHED_IDLE.

    python benchmarks/compaction_idle.py --pages 100000          # compaction idle, full compaction at the end
    IDLE= OPTIMIZE= python benchmarks/compaction_idle.py ...     # either part off (empty: off)

The question (benchmarks/RESULTS.md, fifteenth session): on 2 cores, RocksDB's
compaction (``rocksdb:low``) rewrites each column family's base level while
the ingest runs and takes about 0.7 of a core for the whole run.  Would it do
less work in total if it ran only when a core is idle (``SCHED_IDLE``, Linux),
letting level-0 files pile up and merging them in fewer, larger rounds, with
one full compaction (``Store.optimize``) at the end?  The compaction threads
are set idle before and after each bulk load (RocksDB starts them lazily);
the optimize is timed inside the ingest, so ``ingest_cpu.py``'s totals include
it.  Linux only.
"""

from __future__ import annotations

import os
import resource
import runpy
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from evidencegraph import ingestion  # noqa: E402
from evidencegraph import store as store_module  # noqa: E402

IDLE = os.environ.get("IDLE", "1")
OPTIMIZE = os.environ.get("OPTIMIZE", "1")
_idled: set[int] = set()


def _idle_compaction() -> None:
    for tid in os.listdir("/proc/self/task"):
        t = int(tid)
        if t in _idled:
            continue
        try:
            name = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
        except OSError:
            continue
        if name.startswith("rocksdb:low"):
            os.sched_setscheduler(t, os.SCHED_IDLE, os.sched_param(0))
            _idled.add(t)


_load = store_module.Store._load
_ingest = ingestion.ingest


def load(self: store_module.Store, pages: object) -> None:
    if IDLE:
        _idle_compaction()
    _load(self, pages)  # type: ignore[arg-type]
    if IDLE:
        _idle_compaction()


def ingest(*args: object, **kwargs: object) -> object:
    outcome = _ingest(*args, **kwargs)  # type: ignore[arg-type]
    if OPTIMIZE:
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        args[1].db.optimize()  # type: ignore[attr-defined]
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        print(f"full compaction at the end: {time.perf_counter() - start:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    return outcome


store_module.Store._load = load  # type: ignore[method-assign]
ingestion.ingest = ingest  # type: ignore[assignment]

if __name__ == "__main__":
    sys.argv = [str(HERE / "ingest_cpu.py"), *sys.argv[1:]]
    runpy.run_path(sys.argv[0], run_name="__main__")
    print(f"compaction threads set idle: {len(_idled)}")
