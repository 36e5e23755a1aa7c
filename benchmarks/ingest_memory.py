"""Where one ingest's memory is: the resident set of the main process and of each worker, over the run.

    python benchmarks/ingest_memory.py --pages 20000

One ``evidencegraph ingest`` of a generated corpus (``generate.py``, seed 1)
into a fresh store, as a user runs it (a child process).  A sampler reads
``/proc/PID/status`` of that process and of its children four times a second:
``RssAnon`` (the heap: what the process itself holds) and ``RssFile`` (pages
of files it maps -- shared libraries, and the index's memory-mapped segments:
the kernel can drop those when memory is short), and reports each one's peak,
where the peak of the whole came, and the main process's figures at each tenth
of the run.  GNU time's "maximum resident set size" is the largest of these
peaks (of one process, anonymous and file pages together), which is why it
alone cannot say what holds the memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def status(pid: int) -> dict[str, int] | None:
    """RssAnon, RssFile and VmRSS of ``pid`` in MB, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile", "VmRSS"):
            out[key] = int(value.split()[0]) // 1024
    return out


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def sample(pid: int, samples: list[dict], stop: threading.Event, every: float) -> None:
    t0 = time.perf_counter()
    while not stop.is_set():
        main = status(pid)
        if main is None:
            break
        kids = {c: s for c in children(pid) if (s := status(c)) is not None}
        samples.append({"t": round(time.perf_counter() - t0, 2), "main": main, "workers": kids})
        stop.wait(every)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=20000)
    ap.add_argument("--work", type=Path, help="where the corpus and store go (default: a temporary folder)")
    ap.add_argument("--every", type=float, default=0.25, help="seconds between samples")
    ap.add_argument("--out", type=Path, help="the figures and every sample as JSON")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="eg-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / f"corpus-{args.pages}"
    if not corpus.exists():
        from generate import generate

        generate(args.pages, corpus, seed=1)
    store = work / f"memory-store-{args.pages}"
    shutil.rmtree(store, ignore_errors=True)
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "evidencegraph", "ingest", str(corpus), "--store", str(store), "-q"],
                            cwd=HERE.parent, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[dict] = []
    stop = threading.Event()
    sampler = threading.Thread(target=sample, args=(proc.pid, samples, stop, args.every), daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"ingest failed ({proc.returncode}):\n{err[-2000:]}")
    print((out + err).strip().splitlines()[-1])

    def peak(key: str, role: str) -> tuple[int, float]:
        best = (0, 0.0)
        for s in samples:
            values = [s["main"]] if role == "main" else list(s["workers"].values())
            for v in values:
                if v.get(key, 0) > best[0]:
                    best = (v[key], s["t"])
        return best

    print(f"\n{args.pages:,} pages, {wall:.1f} s, {len(samples)} samples\n")
    print("| process | peak RssAnon MB (at s) | peak RssFile MB (at s) | peak VmRSS MB (at s) |")
    print("|---|---|---|---|")
    figures = {}
    for role in ("main", "workers"):
        row = {k: peak(k, role) for k in ("RssAnon", "RssFile", "VmRSS")}
        figures[role] = {k: {"mb": v[0], "at_s": v[1]} for k, v in row.items()}
        print(f"| {role} (each) | " + " | ".join(f"{v[0]:,} ({v[1]:.0f})" for v in row.values()) + " |")
    print("\nthe main process over the run:\n")
    print("| share of the run | RssAnon MB | RssFile MB |")
    print("|---|---|---|")
    timeline = []
    for tenth in range(1, 11):
        cut = wall * tenth / 10
        before = [s for s in samples if s["t"] <= cut]
        if before:
            s = before[-1]["main"]
            timeline.append({"share": tenth / 10, **s})
            print(f"| {tenth * 10} % | {s.get('RssAnon', 0):,} | {s.get('RssFile', 0):,} |")
    if args.out:
        args.out.write_text(json.dumps({"pages": args.pages, "wall_s": round(wall, 1), "peaks": figures,
                                        "timeline": timeline, "samples": samples}) + "\n")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
