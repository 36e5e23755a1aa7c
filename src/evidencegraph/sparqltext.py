"""SPARQL as text on the wire: a query's form, parameters bound as a VALUES block, and what
servers do to terms on the way (Virtuoso's booleans and integral decimals).  No I/O."""

from __future__ import annotations

import re
TYPE_CHECKING = False  # (typing is not imported at run time: `query` starts faster without it)
if TYPE_CHECKING:
    from typing import Any, Iterator, Sequence

import pyoxigraph as ox

from .errors import QueryError

UPDATE_BYTES = 2_000_000  # per SPARQL Update request (Virtuoso refuses a string session over 10 MB)
UPDATE_TRIPLES = 2_000  # per request (Virtuoso: "SQ199 code vector exceeded" at ~40 pages of ~150)

_PROLOGUE = re.compile(r"\s*(?:PREFIX\s+[^\s:]*:|BASE)\s*", re.IGNORECASE)


def blanked(sparql: str) -> str:
    """The query with strings, IRIs and comments blanked out, offsets kept."""
    from .sparqlcheck import mask  # the SPARQL grammar's tokens: a comment ends at CR or LF

    return mask(sparql)


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE.

    >>> query_form("PREFIX ask: <http://x/> # CONSTRUCT\\nselect * { ?s ask:p 'ASK' }")
    'SELECT'
    """
    masked = blanked(sparql)
    pos = 0
    while m := _PROLOGUE.match(masked, pos):
        pos = m.end()
    word = re.match(r"\s*(\w+)", masked[pos:])
    return word.group(1).upper() if word else ""


def bind_values(sparql: str, substitutions: dict[str, Any]) -> str:
    """Bind variables to RDF terms with a ``VALUES`` block at the start of the query's WHERE clause.

    The terms are serialised (N-Triples syntax, escaped), never pasted as raw text.

    >>> bind_values("SELECT ?e WHERE { ?x <http://x/p> ?e }", {"e": ox.Literal('a" } #')})
    'SELECT ?e WHERE { VALUES (?e) { ("a\\\\" } #") }  ?x <http://x/p> ?e }'
    """
    names, terms = [], []
    for name, value in substitutions.items():
        if not isinstance(value, (ox.NamedNode, ox.Literal)):
            raise QueryError(f"parameter {name}: only IRIs and literals can be bound, not {value!r}")
        names.append(str(ox.Variable(name)))
        terms.append(str(value))
    block = f" VALUES ({' '.join(names)}) {{ ({' '.join(terms)}) }} "
    where = re.search(r"\bWHERE\s*\{", blanked(sparql), re.IGNORECASE)
    if where is None:
        where = re.search(r"\{", blanked(sparql))
    if where is None:
        raise QueryError("the query has no WHERE clause to bind parameters in")
    return sparql[: where.end()] + block + sparql[where.end():]


_BOOLEAN = ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")
_BOOLEANS = {"1": "true", "0": "false"}


def canonical(term: Any) -> Any:
    """A boolean literal in its canonical form (Virtuoso keeps booleans as numbers and sends "0"^^xsd:boolean).

    >>> canonical(ox.Literal("0", datatype=_BOOLEAN)).value
    'false'
    """
    if isinstance(term, ox.Literal) and term.datatype == _BOOLEAN and term.value in _BOOLEANS:
        return ox.Literal(_BOOLEANS[term.value], datatype=_BOOLEAN)
    return term


_INTEGRAL_DECIMAL = re.compile(r'(?<!\\)"(-?[0-9]+)"\^\^<http://www\.w3\.org/2001/XMLSchema#decimal>')


def decimals(ntriples: bytes) -> str:
    """N-Triples for SPARQL Update, integral decimals written ``"1.0"``: Virtuoso makes ``"1"^^xsd:decimal`` an integer.

    >>> decimals(b'<a> <b> "1"^^<http://www.w3.org/2001/XMLSchema#decimal> .')
    '<a> <b> "1.0"^^<http://www.w3.org/2001/XMLSchema#decimal> .'
    """
    return _INTEGRAL_DECIMAL.sub(r'"\1.0"^^<http://www.w3.org/2001/XMLSchema#decimal>', ntriples.decode("utf-8"))


def update_batches(graphs: Sequence[tuple[str, bytes]]) -> Iterator[Sequence[tuple[str, bytes]]]:
    """Pages in runs that one SPARQL Update request can carry (UPDATE_BYTES, UPDATE_TRIPLES); a bigger page alone."""
    run: list[tuple[str, bytes]] = []
    size = triples = 0
    for g, nt in graphs:
        n = nt.count(b"\n")
        if run and (size + len(nt) > UPDATE_BYTES or triples + n > UPDATE_TRIPLES):
            yield run
            run, size, triples = [], 0, 0
        run.append((g, nt))
        size += len(nt)
        triples += n
    if run:
        yield run
