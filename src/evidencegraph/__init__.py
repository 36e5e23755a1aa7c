"""evidencegraph: relation pages to linked data.

Parse relation pages into RDF, validate them with SHACL, load them into a
persistent store, query, export and serve them.

>>> import evidencegraph
>>> page = evidencegraph.parse_page("A ↔ B\\nRelations (1)\\nrelated 1.00 — strongly supporting 1 fact\\n"
...     "A and B [1].\\nFacts (1)\\nSources\\nT example.org 1 fact\\nclaimX.", "p.txt")
>>> graph, triples = evidencegraph.page_triples(page)
>>> evidencegraph.validate_triples(triples).conforms()
True
"""

from __future__ import annotations

from importlib import import_module
TYPE_CHECKING = False  # (typing is not imported at run time: `query` starts faster without it)
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.2.0"

# The public API, imported on first use so that start-up stays light.
_API = {
    "parse_page": "page",
    "parse_file": "page",
    "Page": "page",
    "PageError": "errors",
    "EvidenceGraphError": "errors",
    "page_triples": "mapping",
    "render_graph": "render",
    "validate_graph": "shapes",
    "validate_triples": "shapes",
    "Report": "shapes",
    "load_shapes": "usershapes",
    "ShapesError": "errors",
    "Store": "store",
    "open_store": "stores",
    "ask": "answers",
    "ingest": "ingestion",
    "convert": "pipeline",
    "questions": "queries",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'evidencegraph' has no attribute {name!r}")
