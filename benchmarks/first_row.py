"""Time to the first row: ``evidencegraph query`` against a bare pyoxigraph script, side by side.

Each round runs, in turn: the console script with ``-f tsv`` (the short way, quick.py), the same
query through the click command line (cli.main), the console script's table, and a bare script
that opens the store read-only with pyoxigraph and prints the first row.  Medians of the rounds;
bytecode is written (PYTHONDONTWRITEBYTECODE is dropped, or every run compiles our modules).

    python benchmarks/first_row.py STORE_FOLDER [--rounds 11]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

QUERY = "SELECT ?l WHERE { ?e <http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 1"
BARE = "import sys, pyoxigraph as ox; s = ox.Store.read_only(sys.argv[1]); print(next(iter(s.query(sys.argv[2])))['l'])"
FULL = "import sys; from evidencegraph.cli import main; sys.argv[0] = 'evidencegraph'; main()"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("store")
    ap.add_argument("--rounds", type=int, default=11)
    args = ap.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    script = shutil.which("evidencegraph") or os.path.join(os.path.dirname(sys.executable), "evidencegraph")
    runs = {
        "evidencegraph query -f tsv": [script, "query", QUERY, "--store", args.store, "-f", "tsv"],
        "through click (cli.main) -f tsv": [sys.executable, "-c", FULL, "query", QUERY, "--store", args.store, "-f", "tsv"],
        "a table (click)": [script, "query", QUERY, "--store", args.store],
        "bare pyoxigraph": [sys.executable, "-c", BARE, os.path.join(args.store, "oxigraph"), QUERY],
    }
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, argv in runs.items():
            t = time.perf_counter()
            out = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
            times[name].append(time.perf_counter() - t)
            assert out.returncode == 0 and out.stdout, (name, out.returncode)
    bare = statistics.median(times["bare pyoxigraph"])
    for name, ts in times.items():
        m = statistics.median(ts)
        print(f"{name:34s} {m * 1000:7.1f} ms  {m / bare:5.2f}x")


if __name__ == "__main__":
    main()
