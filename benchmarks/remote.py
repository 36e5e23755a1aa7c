"""Ingest into remote stores against the embedded one, in the same run: one corpus
(benchmarks/generate.py, fixed seed), ingested with ``evidencegraph ingest`` (a fresh process each)
into the embedded store, an Oxigraph server and Virtuoso 7, each started empty on 127.0.0.1 by
tests/servers.py (Virtuoso written to through the Graph Store with Digest, as the README says).
Then ``export -f nq`` from each, checked equal.  Not part of the test suite.

    python benchmarks/remote.py --pages 10000 [--jobs 2] [--update]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from servers import missing, server_of  # noqa: E402

EG = str(Path(sys.executable).with_name("evidencegraph"))


def timed(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([EG, *args], capture_output=True, text=True, env={**os.environ, **env})
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr[-2000:]}")
    return seconds, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else ""


def export_lines(store: str, env: dict[str, str], out: Path) -> tuple[float, int]:
    start = time.perf_counter()
    with open(out, "wb") as fh:
        subprocess.run([EG, "export", "-f", "nq", "--store", store], stdout=fh, check=True, env={**os.environ, **env})
    seconds = time.perf_counter() - start
    return seconds, sum(1 for _ in open(out, "rb"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--jobs", default=str(len(os.sched_getaffinity(0))))
    ap.add_argument("--update", action="store_true", help="also Virtuoso in SPARQL Update mode (slow)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="evidencegraph-remote-bench-") as tmp:
        work = Path(tmp)
        corpus = work / "corpus"
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(args.pages), str(corpus), "--seed", "1"],
                       check=True, capture_output=True)
        rows = []
        targets = [("embedded", None, {})] + [(k, k, {}) for k in ("oxigraph", "virtuoso") if not missing(k)]
        if args.update and not missing("virtuoso"):
            targets.append(("virtuoso, Update", "virtuoso", {"EVIDENCEGRAPH_GSP_URL": "none"}))
        sizes = set()
        for name, kind, extra in targets:
            ingest = ["ingest", str(corpus), "-q", "-j", args.jobs, "--store"]
            if kind is None:
                store = str(work / "embedded")
                seconds, line = timed(ingest + [store], {})
                export_s, quads = export_lines(store, {}, work / f"{name}.nq")
            else:
                with server_of(kind, work / name.replace(", ", "-")) as srv:
                    env = {**srv.env, **extra}
                    seconds, line = timed(ingest + [srv.url], env)
                    export_s, quads = export_lines(srv.url, env, work / f"{name}.nq")
            sizes.add(quads)
            rows.append({"store": name, "ingest_s": round(seconds, 1), "pages_per_s": round(args.pages / seconds),
                         "export_s": round(export_s, 1), "quads": quads, "summary": line})
            print(json.dumps(rows[-1]), flush=True)
        digests = {subprocess.run(f"sort '{work / (r['store'] + '.nq')}' | md5sum", shell=True, capture_output=True,
                                  text=True, env={**os.environ, "LC_ALL": "C"}).stdout for r in rows}
        same = len(digests) == 1 and len(sizes) == 1
        print(f"\n{args.pages} pages, -j {args.jobs}, {platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} cores; the exports are the same quads everywhere: {same}\n")
        print("| store | ingest | pages/s | export -f nq | quads |")
        print("|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['store']} | {r['ingest_s']} s | {r['pages_per_s']} | {r['export_s']} s | {r['quads']:,} |")


if __name__ == "__main__":
    main()
