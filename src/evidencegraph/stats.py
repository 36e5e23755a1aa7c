"""A VoID description of the store: sizes, per class and per property."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pyoxigraph as ox

from . import __version__
from .figures import NODES, PREDICATES
from .vocab import DEFAULT_BASE

if TYPE_CHECKING:
    from .store import Store

VOID = "http://rdfs.org/ns/void#"
DCTERMS = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
EG = "https://w3id.org/evidencegraph#"

def _over(store: "Store", triple: str) -> str:
    """A triple pattern over the union of the page graphs, as a set.

    The embedded store's default graph is that union (and the store figures, left out here).  A server's default graph
    may count a triple once per page (Oxigraph) or hold the server's own graphs
    too (Virtuoso), so there the pattern is matched in the page graphs and made
    distinct (the store's ``page_graph_pattern`` says which graphs are pages).
    """
    pages = getattr(store, "page_graph_pattern", None)
    if pages is None:  # the default graph, less the store figures it also holds (figures.py)
        keep = [f'!STRSTARTS(STR(?s), "{NODES}")']
        if "?p" in triple:
            keep.append(f"?p NOT IN ({', '.join(f'<{p}>' for p in sorted(PREDICATES))})")
        return f"{triple} FILTER ({' && '.join(keep)})"
    names = " ".join(sorted(set(re.findall(r"\?\w+", triple))))
    return f"{{ SELECT DISTINCT {names} WHERE {{ {pages} GRAPH ?g {{ {triple} }} }} }}"


def _count(store: "Store", sparql: str) -> int:
    rows = list(store.query(sparql))
    return int(rows[0][0].value) if rows and rows[0][0] is not None else 0


def void_description(store: "Store", dataset: str | None = None) -> list[ox.Quad]:
    """VoID quads (default graph) describing the store.

    Counts: triples (distinct over the union of pages), quads, pages,
    entities, facts, sources, relations; a class partition per class and a
    property partition per property.
    """
    ds = ox.NamedNode(dataset or DEFAULT_BASE + "void")
    out: list[ox.Quad] = []

    def add(s: ox.NamedNode, p: str, o: object) -> None:
        out.append(ox.Quad(s, ox.NamedNode(p), o))  # type: ignore[arg-type]

    def integer(n: int) -> ox.Literal:
        return ox.Literal(str(n), datatype=XSD_INTEGER)

    add(ds, RDF_TYPE, ox.NamedNode(VOID + "Dataset"))
    add(ds, DCTERMS + "title", ox.Literal("evidencegraph store"))
    add(ds, DCTERMS + "creator", ox.Literal(f"evidencegraph {__version__}"))
    add(ds, VOID + "vocabulary", ox.NamedNode(EG.rstrip("#")))
    spo, typed = _over(store, "?s ?p ?o"), _over(store, "?s a ?c")
    add(ds, VOID + "triples", integer(_count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {spo} }}")))
    pages = getattr(store, "page_graph_pattern", "")
    add(ds, EG + "quads", integer(_count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {pages} GRAPH ?g {{ ?s ?p ?o }} }}")))
    add(ds, VOID + "documents", integer(len(store.pages())))
    add(ds, VOID + "entities", integer(_count(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {typed} }}")))
    add(ds, VOID + "distinctSubjects", integer(_count(store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {spo} }}")))
    classes = store.query(f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {typed} }} GROUP BY ?c ORDER BY ?c")
    for row in classes:
        part = ox.NamedNode(f"{ds.value}#class-{_local(row['c'].value)}")
        add(ds, VOID + "classPartition", part)
        add(part, VOID + "class", row["c"])
        add(part, VOID + "entities", integer(int(row["n"].value)))
    props = store.query(f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ {spo} }} GROUP BY ?p ORDER BY ?p")
    for row in props:
        part = ox.NamedNode(f"{ds.value}#property-{_local(row['p'].value)}")
        add(ds, VOID + "propertyPartition", part)
        add(part, VOID + "property", row["p"])
        add(part, VOID + "triples", integer(int(row["n"].value)))
    return out


def _local(iri: str) -> str:
    prefix = {"https://w3id.org/evidencegraph#": "eg-", "http://www.w3.org/ns/prov#": "prov-",
              "http://www.w3.org/2004/02/skos/core#": "skos-", "http://purl.org/dc/terms/": "dcterms-",
              "http://www.w3.org/2000/01/rdf-schema#": "rdfs-", "https://schema.org/": "schema-",
              "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf-"}
    for ns, short in prefix.items():
        if iri.startswith(ns):
            return short + iri[len(ns):]
    return re.sub(r"[^A-Za-z0-9_-]+", "-", iri).strip("-")


def stats_summary(quads: list[ox.Quad]) -> dict[str, object]:
    """The VoID description's figures as plain data: totals, then counts per class and per property."""
    from .console import short_iri

    totals: dict[str, int] = {}
    classes: dict[str, int] = {}
    properties: dict[str, int] = {}
    by_subject: dict[str, dict[str, ox.NamedNode | ox.Literal]] = {}
    for q in quads:
        by_subject.setdefault(str(q.subject), {})[q.predicate.value] = q.object  # type: ignore[assignment]
    names = {VOID + "triples": "triples", EG + "quads": "quads", VOID + "documents": "pages",
             VOID + "entities": "resources", VOID + "distinctSubjects": "subjects"}
    for subject, props in by_subject.items():
        if VOID + "class" in props:
            classes[short_iri(props[VOID + "class"].value)] = int(props[VOID + "entities"].value)
        elif VOID + "property" in props:
            properties[short_iri(props[VOID + "property"].value)] = int(props[VOID + "triples"].value)
        else:
            totals.update({name: int(props[p].value) for p, name in names.items() if p in props})
    return {**totals, "classes": classes, "properties": properties}


def stats_json(quads: list[ox.Quad]) -> str:
    import json

    return json.dumps(stats_summary(quads), indent=2) + "\n"


def stats_table(quads: list[ox.Quad], width: int | None = None) -> str:
    """Totals, then classes and properties by count, as tables."""
    from .console import table

    summary = stats_summary(quads)
    totals = [[k, v] for k, v in summary.items() if isinstance(v, int)]
    parts = [table(["total", "count"], totals, width)]
    for key, head in (("classes", "class"), ("properties", "property")):
        items = summary[key]
        assert isinstance(items, dict)
        rows = sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))
        parts.append(table([head, "count" if key == "properties" else "instances"], [list(r) for r in rows], width))
    return "\n".join(parts)
