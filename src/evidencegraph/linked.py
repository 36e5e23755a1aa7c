"""Linked data for ``evidencegraph serve``: what the document of an IRI says, as RDF
(its HTML page for people: linkedhtml.py).

Every function here reads the store and must run in one worker thread from
start to end (pyoxigraph results stay in the thread that made them).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Iterable

import pyoxigraph as ox

from .resources import ontology_path

DEFAULT = ox.DefaultGraph()
MAX_INCOMING = 1000


# --- RDF descriptions -------------------------------------------------------------


def exists(db: Any, iri: str) -> bool:
    """Whether the store says anything about an IRI (as subject, object or page graph)."""
    node = ox.NamedNode(iri)
    if db.contains_named_graph(node):
        return True
    for _ in db.quads_for_pattern(node, None, None, DEFAULT):
        return True
    for _ in db.quads_for_pattern(None, None, node, DEFAULT):
        return True
    return False


def describe(db: Any, iri: str) -> list[ox.Quad]:
    """The triples about an IRI: its own, those pointing at it (up to 1000), and,
    for a page, its parts (``page#card-1``…) from the page's graph."""
    node = ox.NamedNode(iri)
    seen: set[ox.Quad] = set()
    out: list[ox.Quad] = []

    def add(quads: Iterable[ox.Quad], limit: int | None = None) -> None:
        n = 0
        for q in quads:
            plain = ox.Quad(q.subject, q.predicate, q.object)
            if plain not in seen:
                seen.add(plain)
                out.append(plain)
                n += 1
                if limit is not None and n >= limit:
                    return

    add(db.quads_for_pattern(node, None, None, DEFAULT))
    if db.contains_named_graph(node):
        prefix = iri + "#"
        parts = sorted(
            {q.subject.value for q in db.quads_for_pattern(None, None, None, node)
             if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(prefix)}
        )
        for part in parts:
            add(db.quads_for_pattern(ox.NamedNode(part), None, None, node))
    add(db.quads_for_pattern(None, None, node, DEFAULT), MAX_INCOMING)
    return out


@lru_cache(maxsize=1)
def ontology_quads() -> tuple[ox.Quad, ...]:
    return tuple(ox.parse(path=str(ontology_path()), format=ox.RdfFormat.TURTLE))
