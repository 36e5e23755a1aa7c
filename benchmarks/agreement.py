"""Whole-store validation against pyshacl on the store's export, on generated pages and their re-exports.

Generates N pages (with injected faults) plus re-exports of a share of them that
differ the way the product's exports do, ingests them, then compares
``validate --store --full`` (evidencegraph's engine on the merged graph), the
default ``validate --store`` (each page, then the store-level rules) and
pyshacl on the store's N-Quads export: the same (focus, component, shape,
SPARQL rule, severity, path) results.  Also counts the single-valued
properties with two values in the merged graph (there should be none).

    python benchmarks/agreement.py --pages 1000 --reexports 0.3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "src"))
from generate import generate  # noqa: E402


def key(r: dict) -> tuple:
    return (r["focus"], r["component"], r["shape"], r["constraint"], r["severity"], r["path"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--reexports", type=float, default=0.3)
    ap.add_argument("--faults", type=float, default=0.1)
    args = ap.parse_args()

    import pyoxigraph as ox
    from click.testing import CliRunner

    from evidencegraph.cli import cli
    from evidencegraph.loaders import to_rdflib
    from evidencegraph.shapes import validate_graph
    from evidencegraph.storecheck import SINGLE_VALUED

    def run(*a: str) -> str:
        return CliRunner().invoke(cli, list(a), catch_exceptions=False).stdout

    work = Path(tempfile.mkdtemp(prefix="eg-agreement-"))
    paths = generate(args.pages, work / "corpus", seed=2, faults=args.faults, reexports=args.reexports)
    store = str(work / "store")
    run("ingest", str(work / "corpus"), "--store", store, "-q")
    out: dict = {"files": len(paths), "pages": args.pages}
    t = time.perf_counter()
    full = json.loads(run("validate", "--store", store, "--full", "-f", "json"))
    out["full_s"] = time.perf_counter() - t
    t = time.perf_counter()
    default = json.loads(run("validate", "--store", store, "-f", "json"))
    out["default_s"] = time.perf_counter() - t
    export = CliRunner().invoke(cli, ["export", "--store", store, "-f", "nq"], catch_exceptions=False).stdout_bytes
    quads = list(ox.parse(export, ox.RdfFormat.N_QUADS))
    out["quads"] = len(quads)
    t = time.perf_counter()
    reference = validate_graph(to_rdflib(quads), "pyshacl")
    out["pyshacl_s"] = time.perf_counter() - t
    ref = {(r.focus, r.component, r.shape, r.constraint, r.severity, r.path) for r in reference.results}
    out["results"] = {"full": len({key(r) for r in full["results"]}), "default": len({key(r) for r in default["results"]}),
                      "pyshacl": len(ref)}
    out["full_equals_pyshacl"] = {key(r) for r in full["results"]} == ref
    out["default_equals_full"] = {key(r) for r in default["results"]} == {key(r) for r in full["results"]}
    props = " ".join(f"<{p}>" for p in sorted({p for _, p in SINGLE_VALUED}))
    conflicts = run("query", f"SELECT (COUNT(*) AS ?n) WHERE {{ {{ SELECT ?s ?p WHERE {{ VALUES ?p {{ {props} }} "
                             f"?s ?p ?o }} GROUP BY ?s ?p HAVING (COUNT(DISTINCT ?o) > 1) }} }}", "--store", store, "-f", "csv")
    out["single_valued_conflicts"] = int(conflicts.split()[1])
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
