"""Where one ingest's CPU goes: per thread of the main process, the workers, and the store writer's parts.

    python benchmarks/ingest_cpu.py --pages 10000

One ingest of a generated corpus (``generate.py``, seed 1) into a fresh store,
in this process (Linux: it reads ``/proc/self/task``).  Each Python thread is
given its name at the OS level, so a thread a library starts from it (e.g.
Oxigraph's bulk loader's) is counted under the name of the thread that
started it; RocksDB's own threads are ``rocksdb:*``.  A sampler reads every
thread's CPU ten times a second and keeps the last figure of each (less what
it had before the ingest), so threads that end before the ingest does are
counted, less up to 0.1 s of each; what no sample saw is printed as "not
sampled" (the process's CPU less the threads').  The workers' CPU is that of
the process's children once the pool is joined.  The parts are
``time.thread_time()`` around each call, in the thread that makes it (the store
writer's; the figures at the end, the main thread's), so a library's own
threads are not in them: the bulk load's threads are the writer thread's
total less its own part.
"""

from __future__ import annotations

import argparse
import collections
import ctypes
import functools
import os
import re
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")


def _name_os_threads() -> None:
    """Every Python thread started from now on carries its name (15 bytes) at the OS level (prctl)."""
    libc = ctypes.CDLL(None)
    start = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]

    def named(self: threading.Thread) -> None:
        libc.prctl(15, self.name[:15].encode(), 0, 0, 0)  # PR_SET_NAME
        start(self)

    threading.Thread._bootstrap_inner = named  # type: ignore[attr-defined]


def _read(last: dict[int, tuple[str, float]]) -> None:
    """Each thread's name and CPU seconds so far, by thread id, into ``last``."""
    for tid in os.listdir("/proc/self/task"):
        try:
            comm = Path(f"/proc/self/task/{tid}/comm").read_text().strip()
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        last[int(tid)] = (comm, (int(fields[11]) + int(fields[12])) / _TICK)


def _sample(last: dict[int, tuple[str, float]], stop: threading.Event) -> None:
    while True:
        _read(last)
        if stop.wait(0.1):
            return


def _timed(parts: collections.Counter[str], label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        cpu = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            parts[label] += time.thread_time() - cpu

    return wrapper


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "eg-ingest-compare")
    args = ap.parse_args()
    corpus = args.work / f"corpus-{args.pages}"
    if not corpus.exists():
        generate(args.pages, corpus, seed=1)
    _name_os_threads()
    from evidencegraph import ingestion, mapping, revisions, search, storecheck
    from evidencegraph.store import Store

    parts: collections.Counter[str] = collections.Counter()
    for owner, name, label in ((Store, "write_batch", "Store.write_batch, all of it"),
                               (search.SearchIndex, "add", "the search index's rows"),
                               (Store, "_load", "Store._load (the bulk load's calling thread)"),
                               (revisions.History, "record_current", "the history"),
                               (storecheck.Checker, "check", "the store-level check"),
                               (mapping, "quads_of_triples", "N-Quads from the workers' N-Triples"),
                               (Store, "flush", "Store.flush at the end (the figures)")):
        setattr(owner, name, _timed(parts, label, getattr(owner, name)))
    last: dict[int, tuple[str, float]] = {}
    _read(last)  # one reading before: the threads' CPU so far
    before = {tid: seconds for tid, (_, seconds) in last.items()}
    stop = threading.Event()
    sampler = threading.Thread(target=_sample, args=(last, stop), name="cpu-sampler", daemon=True)
    sampler.start()
    store_dir = args.work / "store-cpu"
    shutil.rmtree(store_dir, ignore_errors=True)
    wall, cpu = time.perf_counter(), time.process_time()
    with Store(store_dir, create=True) as store:
        outcome = ingestion.ingest([corpus], store)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stop.set()
    sampler.join()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    shutil.rmtree(store_dir, ignore_errors=True)
    by_name: collections.Counter[str] = collections.Counter()
    for tid, (comm, seconds) in last.items():
        by_name[re.sub(r"\d+$", "#", comm)] += seconds - before.get(tid, 0.0)
    sampler_cpu = by_name.pop("cpu-sampler", 0.0)
    by_name["not sampled (threads that ended between samples)"] = cpu - sampler_cpu - sum(by_name.values())
    print(f"{args.pages:,} pages, {outcome.quads:,} quads: {wall:.1f} s wall; CPU {cpu:.1f} s in this process, "
          f"{children.ru_utime + children.ru_stime:.1f} s in the workers")
    print("\nthreads of this process (CPU s):")
    for name, seconds in by_name.most_common():
        if seconds >= 0.05:
            print(f"  {seconds:7.1f}  {name}")
    print("\nparts (CPU s of the thread that makes the call):")
    for label, seconds in parts.most_common():
        print(f"  {seconds:7.1f}  {label}")


if __name__ == "__main__":
    main()
