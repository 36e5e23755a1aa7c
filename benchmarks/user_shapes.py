"""Per-page cost of a user's shapes (--shapes) on each general SHACL engine.

    python benchmarks/user_shapes.py [--pages 200] [--shapes FILE ...]

Generates pages (with faults), then validates each page's graph with the
shapes, as ingest's workers do, on pyshacl-turbo and on pyshacl, and prints
milliseconds per page (after one warm-up page).  Default shapes: the example
in shapes/examples/ and, as a large rule set, the shipped shapes themselves.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402


def main() -> None:
    from evidencegraph.mapping import page_triples, to_oxigraph
    from evidencegraph.pipeline import PageFile, read_page
    from evidencegraph.resources import shapes_path
    from evidencegraph.shapes import validate_triples
    from evidencegraph.usershapes import load_shapes, validate_quads

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=200)
    ap.add_argument("--shapes", nargs="*", default=[str(HERE.parent / "shapes" / "examples" / "team-rules.ttl"),
                                                   str(shapes_path())])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pages = []
        for path in generate(args.pages, Path(tmp), seed=7, faults=0.3):
            g, triples = page_triples(read_page(PageFile(path, path.name)))
            pages.append((to_oxigraph(g, triples), triples))
    n = sum(len(t) for _, t in pages) / len(pages)
    print(f"{len(pages)} pages, {n:.0f} triples per page on average")
    t0 = time.perf_counter()
    for _, triples in pages:
        validate_triples(triples)
    print(f"  shipped shapes on evidencegraph's engine: {(time.perf_counter() - t0) / len(pages) * 1000:.1f} ms/page")
    for file in args.shapes:
        for engine in ("pyshacl-turbo", "pyshacl"):
            shapes = load_shapes([file], only=True, engine=engine)
            validate_quads(shapes, *pages[0])
            t0 = time.perf_counter()
            found = sum(len(validate_quads(shapes, quads, triples)) for quads, triples in pages)
            ms = (time.perf_counter() - t0) / len(pages) * 1000
            print(f"  {Path(file).name} on {engine}: {ms:.1f} ms/page ({found} results)")


if __name__ == "__main__":
    main()
