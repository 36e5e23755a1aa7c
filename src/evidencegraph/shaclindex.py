"""The data a SHACL check of one page reads: its triples indexed by subject and property (``Index``),
the terms' plain forms (an IRI is a ``str``, a blank node a ``BNode``, a literal a ``mapping.Lit``),
and the literal helpers the constraints share.  No rdflib: it runs in the ingest workers, for every page."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any, Iterable

from .mapping import Lit, Triple

SH = "http://www.w3.org/ns/shacl#"
EG = "https://w3id.org/evidencegraph#"
EGSH = "https://w3id.org/evidencegraph/shapes#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


class BNode(str):
    """A blank node label (distinct from an IRI string)."""


# --- the page index ---------------------------------------------------------------


class Index:
    def __init__(self, triples: Iterable[Triple]):
        self.spo: dict[Any, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        self.types: dict[str, list[Any]] = defaultdict(list)
        self._rev: dict[str, dict[Any, list[Any]]] = {}
        self.subclass: dict[str, set[str]] = defaultdict(set)
        self.triples = []
        seen = set()
        for t in triples:
            if t in seen:
                continue
            seen.add(t)
            self.triples.append(t)
            s, p, o = t
            self.spo[s][p].append(o)
            if p == RDF_TYPE:
                self.types[str(o)].append(s)
            elif p == SUBCLASS:
                self.subclass[s].add(str(o))

    def values(self, s: Any, p: str) -> list[Any]:
        d = self.spo.get(s)
        return d.get(p, []) if d else []

    def one(self, s: Any, p: str) -> Any:
        v = self.values(s, p)
        return v[0] if v else None

    def rev(self, p: str) -> dict[Any, list[Any]]:
        r = self._rev.get(p)
        if r is None:
            r = defaultdict(list)
            for s, ps in self.spo.items():
                for o in ps.get(p, ()):
                    r[o].append(s)
            self._rev[p] = r
        return r


# --- literal helpers --------------------------------------------------------------------

_LEXICAL = {
    XSD + "integer": re.compile(r"^[+-]?\d+$"),
    XSD + "decimal": re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$"),
    XSD + "boolean": re.compile(r"^(true|false|1|0)$"),
}
_NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short", "byte",
                              "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                              "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}


def _well_formed(lit: Lit) -> bool:
    pattern = _LEXICAL.get(lit.datatype)
    return pattern is None or bool(pattern.match(lit.value))


def _number(term: Any) -> Decimal | None:
    if isinstance(term, Lit) and term.datatype in _NUMERIC and _well_formed(term):
        try:
            return Decimal(term.value)
        except InvalidOperation:
            return None
    return None


def _is_iri(term: Any) -> bool:
    return isinstance(term, str) and not isinstance(term, (BNode, Lit))


def _lexical(term: Any) -> str | None:
    if isinstance(term, Lit):
        return term.value
    if isinstance(term, BNode):
        return None
    return str(term)
