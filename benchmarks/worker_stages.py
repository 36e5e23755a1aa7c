"""The ingest workers' job per page, stage by stage, for this checkout and another one (e.g. format 1).

    git worktree add /tmp/base ba548d6
    python benchmarks/worker_stages.py --pages 2000 --before /tmp/base --repeat 2

One process, no pool: each checkout's ``_work`` (read, parse, map, validate,
serialize; the search rows count under serialize) over the same files of the
10k corpus (``generate.py``, seed 1; made if missing), after 50 pages to warm
up.  CPU time per page (``time.process_time``) and each stage's own timing,
in milliseconds; checkouts alternate, so drift in the machine's speed falls
on both.  Each checkout runs in a child process of its own (its ``src`` first
on the path).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

_CHILD = r"""
import collections, json, sys, time
from pathlib import Path
src, corpus, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sys.path.insert(0, src)
files = sorted(str(p) for p in Path(corpus).rglob("*.txt"))[:n]
base = "https://evidencegraph.example/"
try:
    from evidencegraph import ingestion as M  # format 2 and later
    jobs = [M._Job(f, Path(f).name, base, None, None, True, index=True) for f in files]
    work = lambda j: M._work(j, frozenset())
except ImportError:
    from evidencegraph import pipeline as M  # format 1
    jobs = [M._Job(f, Path(f).name, base, None, None, True, None) for f in files]
    work = M._work
for j in jobs[:50]:
    work(j)
stages = collections.Counter()
t0 = time.process_time()
for j in jobs:
    stages.update(work(j).times)
cpu = time.process_time() - t0
print(json.dumps({"cpu_ms": cpu / len(jobs) * 1000, **{k: v / len(jobs) * 1000 for k, v in stages.items()}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=2000)
    ap.add_argument("--before", type=Path, action="append", default=[], help="another checkout (repeatable)")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "eg-ingest-compare")
    args = ap.parse_args()
    corpus = args.work / "corpus-10000"
    if not corpus.exists():
        from generate import generate

        generate(10000, corpus, seed=1)
    checkouts = [*args.before, HERE.parent]
    runs: dict[str, list[dict[str, float]]] = {str(c): [] for c in checkouts}
    for _ in range(args.repeat):
        for c in checkouts:
            out = subprocess.run([sys.executable, "-c", _CHILD, str(c / "src"), str(corpus), str(args.pages)],
                                 capture_output=True, text=True, check=True).stdout
            runs[str(c)].append(json.loads(out.splitlines()[-1]))
    for c, rs in runs.items():
        keys = rs[0].keys()
        med = {k: sorted(r[k] for r in rs)[len(rs) // 2] for k in keys}
        print(f"{c}: " + ", ".join(f"{k} {v:.3f}" for k, v in med.items()) + " (ms a page, median)")


if __name__ == "__main__":
    main()
