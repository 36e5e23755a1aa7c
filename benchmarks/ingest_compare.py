"""Ingest time of this checkout against another one (e.g. the release before a change), side by side.

The same generated corpus is ingested into a fresh store by each checkout in
turn (ABAB…, so drift on a noisy machine hits both), ``--repeat`` times; the
medians and their ratio are printed and, with ``--json``, saved.

    git worktree add /tmp/before ba548d6
    python benchmarks/ingest_compare.py --sizes 10000 100000 --before /tmp/before --repeat 3

Each run is a fresh ``python -m evidencegraph ingest CORPUS --store DIR -q``
with ``PYTHONPATH`` set to the checkout's ``src`` (its wall time, from start to
exit, as a user sees it), plus the stage times the ingest reports with
``--json`` when the checkout has it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402


def ingest(checkout: Path, corpus: Path, store: Path) -> float:
    shutil.rmtree(store, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(checkout / "src"))
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "evidencegraph", "ingest", str(corpus), "--store", str(store), "-q"],
                   env=env, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    shutil.rmtree(store, ignore_errors=True)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000])
    ap.add_argument("--before", type=Path, required=True, help="the other checkout (a folder with src/)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "eg-ingest-compare")
    ap.add_argument("--json", type=Path, help="save the figures here")
    args = ap.parse_args()
    this = HERE.parent
    figures = []
    for n in args.sizes:
        corpus = args.work / f"corpus-{n}"
        if not corpus.exists():
            generate(n, corpus, seed=1)
        times: dict[str, list[float]] = {"before": [], "after": []}
        for i in range(args.repeat):
            for name, checkout in (("before", args.before), ("after", this)) if i % 2 == 0 else (
                    ("after", this), ("before", args.before)):
                t = ingest(checkout, corpus, args.work / f"store-{name}")
                times[name].append(t)
                print(f"{n} pages, {name}: {t:.1f} s", flush=True)
        before, after = statistics.median(times["before"]), statistics.median(times["after"])
        row = {"pages": n, "before_s": times["before"], "after_s": times["after"], "median_before": before,
               "median_after": after, "ratio": after / before}
        figures.append(row)
        print(f"{n} pages: median {before:.1f} s before, {after:.1f} s after: {after / before:.2f}x", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
