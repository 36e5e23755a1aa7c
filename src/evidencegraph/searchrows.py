"""What a page or graph puts in the search index: its rows (kind, node, type word, text).

A fact's text and type word, the sources it is from and the entities of the relations it supports, a
source's title, an entity's every label, read from ``mapping``'s triples (in the ingest workers), pyoxigraph
quads or N-Quads; no SQLite, no index: search.py writes the rows, and reads the IRIs here to check a row
against the store.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from .iris import DCTERMS_TITLE as _TITLE, RDF_TYPE as _RDF_TYPE, RDFS_LABEL as _LABEL, SKOS, STRING as _XSD_STRING

_EG = "https://w3id.org/evidencegraph#"
_PREF = SKOS + "prefLabel"
_TEXT = _EG + "text"
_FACT_TYPE = _EG + "factType"
_FROM_SOURCE = _EG + "fromSource"
_SUPPORTED_BY = _EG + "supportedBy"
_ENDS = (_EG + "subject", _EG + "object")  # a relation's two entities
_LINKS = frozenset((_FROM_SOURCE, _SUPPORTED_BY, *_ENDS))  # IRI values a row is made of
_KIND_OF = {_EG + "Fact": "fact", _EG + "Source": "source", _EG + "Entity": "entity"}
# the property whose value a kind's row is (a "link" row: a fact and the IRI of a source it is from)
_TEXT_OF = {"fact": _TEXT, "source": _TITLE, "entity": _LABEL, "link": _FROM_SOURCE}
_TEXTS = frozenset((_LABEL, _TITLE, _PREF, _TEXT))
_NAMES = (_LABEL, _TITLE)  # what the question connected-via-source reads of a node besides its links
_COUNTED = _TEXTS | _LINKS | {_FACT_TYPE, _RDF_TYPE}  # the properties the rows are made of (a type: of a kind)

# kind, node IRI, fact type word, text (kind "link": "link", fact IRI, "", source IRI; kind "about": "about",
# fact IRI, "", the IRI of the subject or object of a relation the fact supports; kind "typed": a text or title
# with a language tag or datatype, and kind "irregular": a graph whose links the rows do not follow, each with
# the node concerned)
Row = tuple[str, str, str, str]
Spo = tuple[str, str, str, bool]  # subject, predicate, object value, whether the object is a literal


def page_rows(triples: Iterable[Spo]) -> list[Row]:
    """What one page graph puts in the index: its facts (text and type word, and the sources they are
    from), its sources (titles) and its entities (every label)."""
    kinds: dict[str, str] = {}
    typed: set[str] = set()
    odd: list[str] = []
    values: dict[tuple[str, str], list[str]] = {}
    for s, p, o, literal in triples:
        if p == _RDF_TYPE:
            typed.add(s)
            kind = _KIND_OF.get(o)
            if kind is not None:
                if kinds.setdefault(s, kind) != kind:
                    odd.append(s)
        elif p in _TEXTS and literal or p == _FACT_TYPE or p in _LINKS and not literal:
            values.setdefault((s, p), []).append(o)
        elif p in _NAMES or p in _LINKS:  # a label or title that is an IRI, a link to a literal
            odd.append(s)
    return _rows(kinds, values, typed, odd)


def rows_of_mapping(triples: Iterable[tuple[str, str, Any]]) -> list[Row]:
    """page_rows of ``mapping``'s triples (an object is an IRI ``str`` or a ``Lit``); one pass, no tuples
    made for the triples that do not count (it runs in the ingest workers, for every page)."""
    kinds: dict[str, str] = {}
    typed: set[str] = set()
    odd: list[str] = []
    values: dict[tuple[str, str], list[str]] = {}
    for s, p, o in triples:
        if p == _RDF_TYPE:
            typed.add(s)
            kind = _KIND_OF.get(o)
            if kind is not None:
                if kinds.setdefault(s, kind) != kind:
                    odd.append(s)
        elif p == _FACT_TYPE or p in _LINKS and isinstance(o, str):
            values.setdefault((s, p), []).append(o)
        elif p in _TEXTS and not isinstance(o, str):
            values.setdefault((s, p), []).append(o.value)
    return _rows(kinds, values, typed, odd)


def _rows(kinds: dict[str, str], values: dict[tuple[str, str], list[str]], typed: set[str], odd: list[str]) -> list[Row]:
    rows: list[Row] = []
    for node, kind in kinds.items():
        if kind == "entity":
            rows.extend(("entity", node, "", label) for label in values.get((node, _LABEL), ()))
        elif kind == "source":
            rows.extend(("source", node, "", title) for title in values.get((node, _TITLE), ()))
        else:
            for t in values.get((node, _FACT_TYPE), ()):
                labels = values.get((t, _PREF))
                word = labels[0] if labels else re.sub(r"^.*[#/]", "", t)
                rows.extend(("fact", node, word, text) for text in values.get((node, _TEXT), ()))
            rows.extend(("link", node, "", source) for source in values.get((node, _FROM_SOURCE), ()))
    # what a relation's facts are about: its subject and object (any node with both and eg:supportedBy, as the
    # question connected-via-source reads them, typed or not)
    about: set[tuple[str, str]] = set()
    for (node, p), facts in values.items():
        if p == _SUPPORTED_BY:
            ends = [e for end in _ENDS for e in values.get((node, end), ())]
            about.update((fact, e) for fact in facts for e in ends)
    rows.extend(("about", fact, "", e) for fact, e in about)
    irregular = odd[0] if odd else _irregular(kinds, values, typed)
    if irregular is not None:
        rows.append(("irregular", irregular, "", ""))
    return rows


def _irregular(kinds: dict[str, str], values: dict[tuple[str, str], list[str]], typed: set[str]) -> str | None:
    """A node of this graph whose links the index's rows would not follow as connected-via-source's SPARQL
    does over the union of the graphs, or None (every page ingest maps is regular): a relation's facts
    without both its ends (the ends may be in another graph), an end that is not an eg:Entity here, a source
    link from a node not an eg:Fact or to one not an eg:Source here, a label or title on a node with no type
    here.  (A relation with two subjects in two graphs breaks the contract's single value: validate reports it.)"""
    subject, object_ = _ENDS
    for (node, p), objects in values.items():
        if p == _SUPPORTED_BY:
            if (node, subject) not in values or (node, object_) not in values:
                return node
        elif p in _ENDS:
            if any(kinds.get(e) != "entity" for e in objects):
                return node
        elif p == _FROM_SOURCE:
            if kinds.get(node) != "fact" or any(kinds.get(s) != "source" for s in objects):
                return node
        elif p in _NAMES and node not in typed:
            return node
    return None


def rows_of_quads(quads: Iterable[Any]) -> list[Row]:
    """page_rows of pyoxigraph quads (or triples)."""
    import pyoxigraph as ox

    typed: list[Any] = []
    odd: list[Any] = []

    def spo() -> Iterable[Spo]:
        for q in quads:
            o, p = q.object, q.predicate.value
            literal = isinstance(o, ox.Literal)
            if literal and p in _TEXTS and p != _PREF and (o.language or o.datatype.value != _XSD_STRING):
                (odd if p == _LABEL else typed).append(q)  # a label: connected-via-source only
            elif isinstance(q.subject, ox.BlankNode) or isinstance(o, ox.BlankNode):
                if p in _COUNTED and (p != _RDF_TYPE or o.value in _KIND_OF):  # the rows keep IRIs (a blank node's
                    # id is not one): no question from the index alone
                    typed.append(q)
                continue
            yield q.subject.value, p, o.value, literal

    rows = page_rows(spo())
    if typed:  # the index keeps a text's string only: a question answered from it would drop the tag or type
        rows.append(("typed", typed[0].subject.value, "", ""))
    if odd:
        rows.append(("irregular", odd[0].subject.value, "", ""))
    return rows


def rows_of_nquads(data: bytes) -> list[Row]:
    import pyoxigraph as ox

    return rows_of_quads(ox.parse(data, format=ox.RdfFormat.N_QUADS))

