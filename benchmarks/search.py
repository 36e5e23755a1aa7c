"""The search benchmark: ``search`` and ``facts-mentioning`` from the index against the SPARQL.

For each size it generates a corpus (benchmarks/generate.py, seed 1), ingests it
(with the index), then measures p50/p95 over ``--repeat`` runs of:

- ``search WORDS``: ``SearchIndex.search`` (FTS5, bm25, grouped by node), for a rare
  and a common word, and the same through the command line (one process, wall time);
- ``facts-mentioning``: the index alone (``queries.run_question``) against the shipped ``.rq`` (``CONTAINS(LCASE(…))`` over every fact), same rows;
- the index: its size on disk and the time to build it from the store (first use).

    python benchmarks/search.py --sizes 1000 10000 --repeat 10
"""

from __future__ import annotations

import argparse
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
sys.path.insert(0, str(HERE.parent / "src"))

from generate import generate  # noqa: E402

WORDS = [("an entity's name", "{entity}"), ("common", "water"), ("two common", "water treaty"), ("prefix", "coop*"),
         ("no match", "zzz")]
QUESTIONS = [("claim", "water"), ("claim", "treaty"), ("perspective", "{entity}"), ("claim", "zzz")]


def timed(fn, repeat: int) -> tuple[float, float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))], out


def run_size(n: int, work: Path, repeat: int) -> list[str]:
    from evidencegraph.ingestion import ingest
    from evidencegraph.queries import question
    from evidencegraph.queries import run_question
    from evidencegraph.search import FILE
    from evidencegraph.store import Store

    corpus, store_dir = work / f"corpus-{n}", work / f"store-{n}"
    if not corpus.exists():
        generate(n, corpus, seed=1)
    if not store_dir.exists():
        with Store(store_dir, create=True) as store:
            out = ingest([corpus], store)
        print(f"{n}: ingested {out.loaded} pages in {out.seconds:.1f}s", file=sys.stderr)
    lines = []
    with Store(store_dir, read_only=True) as store:
        index = store.search_index()
        entries = index.db.execute("SELECT COUNT(*) FROM docs").fetchone()[0]
        size = sum(f.stat().st_size for f in store_dir.glob(FILE + "*"))
        entity = index.db.execute("SELECT text FROM docs WHERE kind = 'entity' ORDER BY id LIMIT 1").fetchone()[0].split()[0]
        for label, word in WORDS:
            word = word.format(entity=entity)
            p50, p95, hits = timed(lambda: index.search(word, limit=20), repeat)
            lines.append(f"| {n:,} | search `{word}` ({label}) | {p50 * 1000:.1f} | {p95 * 1000:.1f} | | {len(hits)} hits |")  # type: ignore[arg-type]
        q = question("facts-mentioning")
        for type_word, word in QUESTIONS:
            word = word.format(entity=entity)
            subs = q.bind({"type": type_word, "word": word})
            p50, p95, rows = timed(lambda: list(run_question(store, q.name, q.sparql, subs)), repeat)
            s50, s95, srows = timed(lambda: list(store.query(q.sparql, subs)), max(1, repeat // 3))
            assert len(rows) == len(srows), (len(rows), len(srows))  # type: ignore[arg-type]
            lines.append(f"| {n:,} | facts-mentioning {type_word}/{word} | {p50 * 1000:.1f} | {p95 * 1000:.1f} | "
                         f"{s50 * 1000:.1f} | {len(rows):,} rows, {s50 / p50:.0f}× |")  # type: ignore[arg-type]
    cmd = [sys.executable, "-m", "evidencegraph", "search", "water", "--store", str(store_dir), "-f", "json"]
    p50, p95, _ = timed(lambda: subprocess.run(cmd, capture_output=True, check=True), max(1, repeat // 3))
    lines.append(f"| {n:,} | `evidencegraph search water` (the process) | {p50 * 1000:.0f} | {p95 * 1000:.0f} | | |")
    for f in store_dir.glob(FILE + "*"):
        f.unlink()
    t = time.perf_counter()
    with Store(store_dir, read_only=True) as store:
        store.search_index()
    build = time.perf_counter() - t
    lines.append(f"| {n:,} | index: {entries:,} rows, {size / 1e6:.1f} MB; built from the store in {build:.1f}s | | | | |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000])
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--work", type=Path, help="working folder, kept (default: a temporary one)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="eg-search-"))
    work.mkdir(parents=True, exist_ok=True)
    print("| pages | what | index p50 ms | p95 ms | SPARQL p50 ms | |")
    print("|---:|---|---:|---:|---:|---|")
    try:
        for n in args.sizes:
            for line in run_size(n, work, args.repeat):
                print(line, flush=True)
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n{os.cpu_count()} cores; {' '.join(sys.argv)}")


if __name__ == "__main__":
    main()
