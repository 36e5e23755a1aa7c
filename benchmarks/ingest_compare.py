"""Ingest time of this checkout against others (e.g. the release before a change), side by side.

The same generated corpus is ingested into a fresh store by each checkout in
turn (ABC… then …CBA, so drift on a noisy machine hits all of them),
``--repeat`` times; the medians of wall time and of CPU time and their ratios
to the first ``--before`` checkout are printed and, with ``--json``, saved.

    git worktree add /tmp/before ba548d6
    python benchmarks/ingest_compare.py --sizes 10000 100000 --before /tmp/before --repeat 3
    python benchmarks/ingest_compare.py --before /tmp/format1 /tmp/last-week   # three-way

Each run is a fresh ``python -m evidencegraph ingest CORPUS --store DIR -q``
with ``PYTHONPATH`` set to the checkout's ``src``: its wall time, from start to
exit, as a user sees it, and its CPU time (user + system, the process and its
workers).  On a 2-core machine the ingest keeps both cores busy, so its wall
time follows its CPU time, and CPU time drifts less from run to run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def ingest(checkout: Path, corpus: Path, store: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one ingest into a fresh store."""
    shutil.rmtree(store, ignore_errors=True)
    env = dict(os.environ, PYTHONPATH=str(checkout / "src"))
    cpu, start = _children_cpu(), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "evidencegraph", "ingest", str(corpus), "--store", str(store), "-q"],
                          env=env, cwd=checkout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
    shutil.rmtree(store, ignore_errors=True)
    if done.returncode not in (0, 1):  # (1: pages with violations, loaded all the same)
        sys.exit(f"{checkout}: the ingest failed (exit {done.returncode}):\n{done.stderr.decode(errors='replace')[-2000:]}")
    return seconds, cpu


def revision(checkout: Path) -> str:
    """The checkout's commit, with "+changes" when its files differ from it (or "?" outside git)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(checkout), *args], capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "?"
    return commit + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000])
    ap.add_argument("--before", type=Path, nargs="+", required=True,
                    help="the other checkouts (folders with src/); ratios are to the first")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "eg-ingest-compare")
    ap.add_argument("--json", type=Path, help="save the figures here")
    args = ap.parse_args()
    for c in args.before:
        if not (c / "src" / "evidencegraph" / "__init__.py").is_file():  # (else the installed one would run)
            sys.exit(f"{c}: not a checkout of evidencegraph (no src/evidencegraph)")
    checkouts = {str(c.resolve()): c for c in args.before}
    if len(checkouts) < len(args.before) or str(HERE.parent) in checkouts:
        sys.exit("give each checkout once, and not this one (it is always measured)")
    checkouts["this"] = HERE.parent
    revisions = {name: revision(c) for name, c in checkouts.items()}
    figures = []
    for n in args.sizes:
        corpus = args.work / f"corpus-{n}"
        if not corpus.exists():
            generate(n, corpus, seed=1)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in checkouts}
        for i in range(args.repeat):
            order = list(checkouts.items())
            for name, checkout in order if i % 2 == 0 else order[::-1]:
                wall, cpu = ingest(checkout, corpus, args.work / "store")
                runs[name].append((wall, cpu))
                print(f"{n} pages, {name}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
        first = statistics.median(w for w, _ in runs[str(args.before[0])]), statistics.median(c for _, c in runs[str(args.before[0])])
        for name, got in runs.items():
            wall, cpu = statistics.median(w for w, _ in got), statistics.median(c for _, c in got)
            figures.append({"pages": n, "checkout": name, "revision": revisions[name], "wall_s": [w for w, _ in got], "cpu_s": [c for _, c in got],
                            "median_wall_s": wall, "median_cpu_s": cpu,
                            "wall_ratio": wall / first[0], "cpu_ratio": cpu / first[1]})
            print(f"{n} pages, {name} ({revisions[name]}): median {wall:.1f} s wall ({wall / first[0]:.2f}x), "
                  f"{cpu:.1f} s CPU ({cpu / first[1]:.2f}x)", flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
