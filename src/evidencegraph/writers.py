"""Quads -> bytes in the six RDF syntaxes, streamed.

pyoxigraph writes Turtle, N-Triples, N-Quads, TriG and RDF/XML; JSON-LD is
written here, compacted with the project's context (``ontology/context.jsonld``)
embedded, so a reader needs no network, and streamed subject by subject.
Triple formats get the union of the graphs, each triple once.
"""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any, BinaryIO, Iterable, Iterator

import pyoxigraph as ox

from .formats import RdfFormat
from .resources import PREFIXES, context

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def write_quads(quads: Iterable[ox.Quad], fmt: RdfFormat, out: BinaryIO) -> None:
    """Write quads to a binary stream in the given format."""
    if fmt.name == "jsonld":
        for chunk in jsonld_chunks(quads):
            out.write(chunk.encode("utf-8"))
        return
    target = getattr(ox.RdfFormat, fmt.oxigraph)
    if fmt.quads:
        ox.serialize(quads, out, target, prefixes=PREFIXES if fmt.name == "trig" else None)
    else:
        prefixes = PREFIXES if fmt.name in ("turtle", "xml") else None
        ox.serialize(_union(quads), out, target, prefixes=prefixes)


def _union(quads: Iterable[ox.Quad]) -> Iterator[ox.Triple]:
    seen: set[ox.Triple] = set()
    for q in quads:
        t = q.triple
        if t not in seen:
            seen.add(t)
            yield t


class _Compactor:
    def __init__(self) -> None:
        ctx = context()
        self.prefixes: dict[str, str] = {}
        self.terms: dict[str, tuple[str, str | None]] = {}  # IRI -> (term, coerced type)
        for key, value in ctx.items():
            if isinstance(value, str) and value.endswith(("#", "/")):
                self.prefixes[key] = value
        for key, value in ctx.items():
            if key.startswith("@") or key in self.prefixes:
                continue
            if isinstance(value, str):
                iri, coerce = value, None
            else:
                iri, coerce = value["@id"], value.get("@type")
            if iri.startswith("@"):
                continue
            full = self.expand(iri)
            self.terms.setdefault(full, (key, self.expand(coerce) if coerce and coerce != "@id" else coerce))

    def expand(self, value: str) -> str:
        prefix, _, local = value.partition(":")
        if prefix in self.prefixes and not local.startswith("//"):
            return self.prefixes[prefix] + local
        return value

    def compact(self, iri: str, vocab: bool) -> str:
        if vocab and iri in self.terms:
            return self.terms[iri][0]
        for prefix, ns in self.prefixes.items():
            if iri.startswith(ns) and len(iri) > len(ns):
                local = iri[len(ns) :]
                if "/" not in local and "#" not in local and ":" not in local:
                    return f"{prefix}:{local}"
        return iri

    def node(self, subject: Any, triples: list[ox.Triple]) -> dict[str, Any]:
        out: dict[str, Any] = {"@id": _node_id(subject)}
        types = sorted(self.compact(str(t.object.value), True)  # type: ignore[union-attr]
                       for t in triples if t.predicate.value == RDF_TYPE)
        if types:
            out["type"] = types[0] if len(types) == 1 else types
        props: dict[str, list[Any]] = {}
        for t in triples:
            p = t.predicate.value
            if p == RDF_TYPE and not isinstance(t.object, ox.Literal):
                continue
            term, coerce = self.terms.get(p, (self.compact(p, False), None))
            props.setdefault(term, []).append(self.value(t.object, coerce))
        for key in sorted(props):
            values = sorted(props[key], key=lambda v: json.dumps(v, sort_keys=True))
            out[key] = values[0] if len(values) == 1 else values
        return out

    def value(self, obj: Any, coerce: str | None) -> Any:
        if isinstance(obj, ox.Literal):
            dt = obj.datatype.value
            if obj.language:
                return {"@value": obj.value, "@language": obj.language}
            if coerce is None and dt == XSD_STRING:
                return obj.value
            if coerce == dt:
                return obj.value
            if dt == XSD_STRING:
                return {"@value": obj.value}
            return {"@value": obj.value, "@type": self.compact(dt, False)}
        if coerce == "@id":
            return _node_id(obj) if isinstance(obj, ox.BlankNode) else self.compact(obj.value, False)
        return {"@id": _node_id(obj)}


def _node_id(term: Any) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else str(term.value)


def jsonld_chunks(quads: Iterable[ox.Quad]) -> Iterator[str]:
    """Compact JSON-LD text, piece by piece; named graphs kept as ``@graph`` objects.

    The quads should come sorted by graph, then subject, for one object per
    subject; unsorted input still gives correct (if longer) JSON-LD.
    """
    c = _Compactor()
    yield '{\n  "@context": ' + json.dumps(context(), ensure_ascii=False) + ',\n  "@graph": ['
    first_graph = True
    for graph, in_graph in groupby(quads, key=lambda q: q.graph_name):
        nodes = (
            c.node(subject, [q.triple for q in group])
            for subject, group in groupby(in_graph, key=lambda q: q.subject)
        )
        if isinstance(graph, ox.DefaultGraph):
            for node in nodes:
                yield ("\n    " if first_graph else ",\n    ") + json.dumps(node, ensure_ascii=False)
                first_graph = False
            continue
        yield ("\n    " if first_graph else ",\n    ") + '{"@id": ' + json.dumps(_node_id(graph)) + ', "@graph": ['
        first_graph = False
        first = True
        for node in nodes:
            yield ("\n      " if first else ",\n      ") + json.dumps(node, ensure_ascii=False)
            first = False
        yield "\n    ]}"
    yield "\n  ]\n}\n"
