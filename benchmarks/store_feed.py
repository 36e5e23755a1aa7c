"""The store's side of an ingest alone: the same quads bulk-loaded in batches of N pages, against one bulk load.

    python benchmarks/store_feed.py --pages 10000 --batches 500 1000 2000 --repeat 3

Issue 12 asks for an ingest within 1.5x "the store's bulk load of the same
quads".  This measures what Oxigraph itself needs to take those quads in the
way an ingest hands them over -- a bulk load per batch of pages, each batch a
page graph's quads and the same triples for the default graph, flushed after
each -- with nothing of this project's code running: no workers, no check,
no index.  If that alone is over 1.5x the one bulk load, no change to the
project's side of the ingest can meet the goal at that batch size.

The quads are those an ingest of this checkout wrote: a generated corpus
(``generate.py``, seed 1) is ingested once into ``WORK/store-N`` (or
``--store`` names an ingested store), and every page graph is written out,
in the store's order, to ``WORK/feed-N.nq`` with its triples after it, as
``Store.write_batch`` gets them from the workers.  Each load then runs in a
child process of its own, into a fresh store, in alternating order (ABC,
CBA, ...): wall time, CPU (the child's, all its threads, RocksDB's
included) and peak RSS (``ru_maxrss``, which includes the interpreter's
~40 MB).  "one" is one ``bulk_load(path=feed)`` of the whole file (what
questions.py and run.py call the store's bulk load; they parse the IRIs
again, ``--strict-one`` adds that as a row, while the ingest's and this
script's loads are lenient); a batch figure
includes reading its part of the file (from the page cache).
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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def extract(store: Path, feed: Path) -> list[int]:
    """Every page graph of ``store`` and its triples, to ``feed``; the byte offset where each page starts."""
    import pyoxigraph as ox

    db = ox.Store.read_only(str(store / "oxigraph"))
    offsets = []
    with open(feed, "wb") as out:
        for g in db.named_graphs():
            quads = list(db.quads_for_pattern(None, None, None, g))
            offsets.append(out.tell())
            out.write(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
            out.write(ox.serialize([ox.Quad(q.subject, q.predicate, q.object) for q in quads],
                                   format=ox.RdfFormat.N_QUADS))
        offsets.append(out.tell())
    return offsets


def child(feed: Path, offsets_file: Path, batch: int, target: Path, pace: float = 0.0) -> dict:
    """(In the child.) Load ``feed`` into a fresh store at ``target``: at once (batch 0) or ``batch`` pages at a time;
    with ``pace``, batch k starts no earlier than k * pace seconds after the first (as an ingest's batches come)."""
    import pyoxigraph as ox

    offsets = json.loads(offsets_file.read_text())
    shutil.rmtree(target, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_SELF)
    rss0 = before.ru_maxrss
    t = time.perf_counter()
    db = ox.Store(str(target))
    calls = 0
    if batch <= 0:  # -1: as questions.py loads its dump, IRIs parsed again
        db.bulk_load(path=str(feed), format=ox.RdfFormat.N_QUADS, lenient=batch == 0)
        db.flush()
        calls = 1
    else:
        with open(feed, "rb") as fh:
            for k, i in enumerate(range(0, len(offsets) - 1, batch)):
                if pace > 0:
                    time.sleep(max(0.0, t + k * pace - time.perf_counter()))
                end = offsets[min(i + batch, len(offsets) - 1)]
                data = fh.read(end - offsets[i])
                db.bulk_load(data, ox.RdfFormat.N_QUADS, lenient=True)
                db.flush()
                calls += 1
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_SELF)
    quads = len(db)
    del db
    shutil.rmtree(target, ignore_errors=True)
    return {"batch": batch, "pace_s": pace, "calls": calls, "quads": quads, "wall_s": round(wall, 2),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
            "peak_rss_mb": after.ru_maxrss // 1024, "rss_before_mb": rss0 // 1024}


def run_child(feed: Path, offsets_file: Path, batch: int, target: Path, pace: float = 0.0) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", str(feed), str(offsets_file), str(batch), str(target),
                           str(pace)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"load of batch {batch} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        feed, offsets_file, batch, target, pace = sys.argv[2:7]
        print(json.dumps(child(Path(feed), Path(offsets_file), int(batch), Path(target), float(pace))))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--store", type=Path, help="an ingested evidencegraph store (default: ingest WORK/corpus-N)")
    ap.add_argument("--batches", type=int, nargs="+", default=[500, 1000, 2000], help="pages per bulk load")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--strict-one", action="store_true",
                    help="also one load that parses the IRIs again (as questions.py's yardstick does)")
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "eg-store-feed")
    ap.add_argument("--pace", type=float, nargs="*", default=[],
                    help="also load 500-page batches no faster than one every PACE seconds (the ingest's cadence: "
                         "its wall time / its batches)")
    ap.add_argument("--out", type=Path, help="JSON figures to this file")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    n = args.pages
    store = args.store
    if store is None:
        store = args.work / f"store-{n}"
        if not (store / "oxigraph").exists():
            from generate import generate

            corpus = args.work / f"corpus-{n}"
            if not corpus.exists():
                generate(n, corpus, seed=1)
            subprocess.run([sys.executable, "-m", "evidencegraph", "ingest", str(corpus), "--store", str(store), "-q"],
                           check=True, cwd=HERE.parent, env={**os.environ, "PYTHONPATH": str(HERE.parent / "src")})
    feed, offsets_file = args.work / f"feed-{n}.nq", args.work / f"feed-{n}.offsets.json"
    if not offsets_file.exists():
        t = time.perf_counter()
        offsets_file.write_text(json.dumps(extract(store, feed)))
        print(f"wrote {feed} ({feed.stat().st_size / 1e6:,.0f} MB) in {time.perf_counter() - t:.0f} s", flush=True)
    pages = len(json.loads(offsets_file.read_text())) - 1
    # a run: (pages a load, pace); the paced ones are 500-page loads
    order = [(0, 0.0), *([(-1, 0.0)] if args.strict_one else []), *((b, 0.0) for b in args.batches),
             *((500, p) for p in args.pace)]
    runs: list[dict] = []
    for r in range(args.repeat):
        for batch, pace in (order if r % 2 == 0 else order[::-1]):
            fig = run_child(feed, offsets_file, batch, args.work / "target", pace)
            fig["round"] = r + 1
            runs.append(fig)
            print(json.dumps(fig), flush=True)
    one = statistics.median(f["wall_s"] for f in runs if f["batch"] == 0)
    one_cpu = statistics.median(f["cpu_s"] for f in runs if f["batch"] == 0)
    # (a paced load's wall time is mostly its waits: compare its CPU)
    print(f"\n{pages:,} pages, {runs[0]['quads']:,} quads; medians of {args.repeat}\n")
    print("| pages a bulk load | calls | wall s | ÷ one load | CPU s | ÷ one load | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for batch, pace in order:
        mine = [f for f in runs if f["batch"] == batch and f["pace_s"] == pace]
        wall = statistics.median(f["wall_s"] for f in mine)
        cpu = statistics.median(f["cpu_s"] for f in mine)
        rss = max(f["peak_rss_mb"] for f in mine)
        name = {0: "all (one load)", -1: "all (one load, IRIs parsed)"}.get(batch, str(batch))
        if pace:
            name += f", one every {pace:g} s"
        print(f"| {name} | {mine[0]['calls']} | {wall:.1f} | {wall / one:.2f}x | {cpu:.1f} | "
              f"{cpu / one_cpu:.2f}x | {rss:,} |")
    if args.out:
        args.out.write_text(json.dumps({"pages": pages, "runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    main()
