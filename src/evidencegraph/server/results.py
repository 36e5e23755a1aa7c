"""Running a query and serialising its answer: results as JSON, XML, CSV or
TSV, graphs in the six RDF syntaxes, cut at ``--max-rows`` with a note.

Everything here runs in the worker that ran the query (pyoxigraph results
stay in the thread that made them).
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from .negotiation import (
    BOOLEAN_TYPES,
    GRAPH_TYPES,
    RESULT_TYPES,
    RESULTS_CSV,
    RESULTS_JSON,
    RESULTS_TSV,
    RESULTS_XML,
    TRUNCATED_HEADER,
    Forced,
    choose,
    negotiate,
    rdf_format_for,
)
from .problem import Problem, QueryTimeout


@dataclass
class Answer:
    status: int
    body: bytes
    media: str
    headers: dict[str, str] = field(default_factory=dict)


def _term_json(t: Any) -> dict[str, Any]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = t.datatype.value
        return out
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {
            "subject": _term_json(t.subject), "predicate": _term_json(t.predicate), "object": _term_json(t.object)}}
    return {"type": "literal", "value": str(t)}


def failed(sparql: str, error: Exception) -> Problem:
    """A query that failed while running: 502 when a SERVICE endpoint is to blame, else 400."""
    from ..sparqlcheck import network_keywords

    if "SERVICE" in network_keywords(sparql):
        return Problem(502, f"the query failed, maybe at a SERVICE endpoint (its answer could not be used): {error}")
    return Problem(400, f"the query failed: {error}")


def _check(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise QueryTimeout()


_RESULT_FORMATS = {
    RESULTS_JSON: ox.QueryResultsFormat.JSON,
    RESULTS_XML: ox.QueryResultsFormat.XML,
    RESULTS_CSV: ox.QueryResultsFormat.CSV,
    RESULTS_TSV: ox.QueryResultsFormat.TSV,
}


def run_query(
    db: Any,
    sparql: str,
    accept: str | None,
    forced: Forced | None,
    max_rows: int,
    deadline: float,
    default_graph: list[ox.NamedNode] | None = None,
    named_graphs: list[ox.NamedNode] | None = None,
    substitutions: dict[str, Any] | None = None,
    base_iri: str | None = None,
) -> Answer:
    """Run a query and serialise its results, all in this thread.

    :raises Problem: a bad query (400), nothing acceptable (406).
    :raises QueryTimeout: past the deadline.
    """
    kwargs: dict[str, Any] = {}
    if default_graph is not None or named_graphs is not None:
        kwargs["default_graph"] = default_graph or []
        kwargs["named_graphs"] = named_graphs or []
    if substitutions:
        kwargs["substitutions"] = {ox.Variable(k): v for k, v in substitutions.items()}
    from ..errors import QueryError
    from ..sparql import typed_query

    try:
        results = typed_query(db, sparql, base_iri=base_iri, **kwargs)  # the contract's prefixes declared
    except QueryError as e:
        raise Problem(400, str(e)) from None
    except (OSError, ValueError, TypeError, RuntimeError) as e:
        raise failed(sparql, e) from None
    _check(deadline)
    return results_answer(results, sparql, accept, forced, max_rows, deadline)


def results_answer(results: Any, sparql: str, accept: str | None, forced: Forced | None, max_rows: int,
                   deadline: float) -> Answer:
    """Query results (of ``sparql``: named in an error) serialised as the client asked, cut at ``max_rows``.

    :raises Problem: nothing acceptable (406), or the results failed while read.
    :raises QueryTimeout: past the deadline.
    """
    if isinstance(results, ox.QueryBoolean):
        media = choose(accept, forced, BOOLEAN_TYPES, 0)
        return Answer(200, results.serialize(format=_RESULT_FORMATS[media]) or b"", media)
    if isinstance(results, ox.QuerySolutions):
        media = choose(accept, forced, RESULT_TYPES, 0)
        names = [v.value for v in results.variables]
        bindings: list[dict[str, Any]] = []
        truncated = False
        try:
            for row in results:
                if len(bindings) >= max_rows:
                    truncated = True
                    break
                bindings.append({n: _term_json(row[n]) for n in names if row[n] is not None})
                if len(bindings) % 256 == 0:
                    _check(deadline)
        except (OSError, ValueError, RuntimeError) as e:
            raise failed(sparql, e) from None
        _check(deadline)
        doc: dict[str, Any] = {}
        headers = {}
        note = f"results cut at {max_rows} rows (the server's --max-rows); add LIMIT/OFFSET to page through them"
        if truncated:
            doc["warning"] = note  # first: some readers (pyoxigraph) refuse keys after "results"
            headers[TRUNCATED_HEADER] = str(max_rows)
            headers["Warning"] = f'199 evidencegraph "{note}"'
        doc.update({"head": {"vars": names}, "results": {"bindings": bindings}})
        data = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        if media != RESULTS_JSON:
            data = ox.parse_query_results(data, ox.QueryResultsFormat.JSON).serialize(format=_RESULT_FORMATS[media]) or b""
            if truncated and media == RESULTS_XML:
                data = data.replace(b"?>", f"?>\n<!-- {note} -->".encode(), 1) if data.startswith(b"<?xml") else (
                    f"<!-- {note} -->\n".encode() + data)
        return Answer(200, data, media, headers)
    # CONSTRUCT / DESCRIBE
    try:
        media = choose(accept, forced, GRAPH_TYPES, 1)
    except Problem:
        if negotiate(accept, RESULT_TYPES) is None:
            raise
        media = GRAPH_TYPES[0]  # a client that asked for SPARQL results (a form's default) gets the graph in Turtle
    quads: list[ox.Quad] = []
    truncated = False
    try:
        for t in results:
            if len(quads) >= max_rows:
                truncated = True
                break
            quads.append(ox.Quad(t.subject, t.predicate, t.object))
            if len(quads) % 256 == 0:
                _check(deadline)
    except (OSError, ValueError, RuntimeError) as e:
        raise failed(sparql, e) from None
    _check(deadline)
    return graph_answer(quads, media, truncated, max_rows)


def graph_answer(quads: list[ox.Quad], media: str, truncated: bool = False, max_rows: int = 0) -> Answer:
    from ..writers import write_quads

    fmt = rdf_format_for(media)
    buf = io.BytesIO()
    headers = {}
    if truncated:
        note = f"results cut at {max_rows} triples (the server's --max-rows); add LIMIT/OFFSET to page through them"
        headers[TRUNCATED_HEADER] = str(max_rows)
        headers["Warning"] = f'199 evidencegraph "{note}"'
        if fmt.name in ("turtle", "nt", "nq", "trig"):
            buf.write(f"# {note}\n".encode())
    write_quads(quads, fmt, buf)
    data = buf.getvalue()
    if truncated and fmt.name == "xml":
        data = data.replace(b"?>", f"?>\n<!-- {note} -->".encode(), 1)
    return Answer(200, data, media, headers)

