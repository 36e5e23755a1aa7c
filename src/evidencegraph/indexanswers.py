"""The named questions facts-mentioning and connected-via-source answered from a store folder's search index.

Alone, when the index is exact (:func:`question_answer`: the index's rows as SPARQL JSON results, no query
run); else facts-mentioning by the facts the index finds bound with VALUES in the question's SPARQL
(:func:`question_query`: every row read from the store), connected-via-source by its own SPARQL.  No SQLite
here: the store opens its index (search.py) for these questions only.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

FAST_QUESTION = "facts-mentioning"  # bound from the index even when it is not exact
# queries.INDEXED_QUESTIONS (this module is above queries: not imported)
FAST_QUESTIONS = (FAST_QUESTION, "connected-via-source")
_PARAMS = {FAST_QUESTION: ("type", "word"), "connected-via-source": ("entity",)}
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

_FAST_SPARQL = """PREFIX eg: <https://w3id.org/evidencegraph#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?type ?word ?fact ?text ?source
WHERE {
  VALUES (?fact ?rank) { %s }
  ?fact eg:text ?text ; eg:fromSource ?s .
  ?s dcterms:title ?source .
}
ORDER BY ?rank
"""  # ?rank: the facts' order by text, from the index (Oxigraph's ORDER BY ?text cost 2/3 of the answer)


def _indexed(store: Any, name: str, substitutions: dict[str, Any]) -> bool:
    """Whether the index can answer this question with these parameters: a store folder, and every parameter a
    plain string (the index keeps strings: another term matches no text in SPARQL)."""
    return name in _PARAMS and getattr(store, "db_is_local", False) and all(
        p in substitutions and getattr(substitutions[p], "language", "") is None
        and getattr(getattr(substitutions[p], "datatype", None), "value", None) == _XSD_STRING
        for p in _PARAMS[name])


def question_answer(store: Any, name: str, substitutions: dict[str, Any]) -> Any:
    """The answer (pyoxigraph ``QuerySolutions``) of a named question that a store folder's index gives on its
    own when it is exact (``facts-mentioning``: 0.66 s at 100k pages, where binding its facts in SPARQL took
    1.8 s; ``connected-via-source``; benchmarks/RESULTS.md), else None: run :func:`question_query`."""
    if not _indexed(store, name, substitutions):
        return None
    import pyoxigraph as ox

    from .errors import StoreError

    try:
        index = store.search_index()
    except StoreError:  # an index that cannot be opened (e.g. a read-only folder with none): the SPARQL answers
        return None
    if name == FAST_QUESTION:
        type_word, word = str(substitutions["type"].value), str(substitutions["word"].value)
        rows = index.facts_mentioning(type_word, word)
        data = None if rows is None else _results_json(type_word, word, rows)
    else:
        label = str(substitutions["entity"].value)
        connected = index.connected_via_source(label)
        data = None if connected is None else _connected_json(label, connected)
    return None if data is None else ox.parse_query_results(data, ox.QueryResultsFormat.JSON)


def _results_json(type_word: str, word: str, rows: Sequence[tuple[str, str, str]]) -> bytes:
    """The index's rows (fact, text, source title) as the SPARQL JSON results of facts-mentioning
    (``?type ?word ?fact ?text ?source``)."""
    type_term, word_term = {"type": "literal", "value": type_word}, {"type": "literal", "value": word}
    bindings = [{"type": type_term, "word": word_term, "fact": {"type": "uri", "value": fact},
                 "text": {"type": "literal", "value": text}, "source": {"type": "literal", "value": title}}
                for fact, text, title in rows]
    return json.dumps({"head": {"vars": ["type", "word", "fact", "text", "source"]},
                       "results": {"bindings": bindings}}, ensure_ascii=False).encode("utf-8")


def _connected_json(label: str, rows: Sequence[tuple[str, str, int]]) -> bytes:
    """The index's rows (other entity's label, source title, facts) as the SPARQL JSON results of
    connected-via-source (``?entity ?other ?title ?facts``, the count an xsd:integer)."""
    entity = {"type": "literal", "value": label}
    bindings = [{"entity": entity, "other": {"type": "literal", "value": other},
                 "title": {"type": "literal", "value": title},
                 "facts": {"type": "literal", "value": str(n), "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}
                for other, title, n in rows]
    return json.dumps({"head": {"vars": ["entity", "other", "title", "facts"]}, "results": {"bindings": bindings}},
                      ensure_ascii=False).encode("utf-8")


def question_query(store: Any, name: str, sparql: str, substitutions: dict[str, Any]) -> str:
    """The SPARQL to run for a named question: ``facts-mentioning`` on a store folder finds its facts in
    the index and binds them with VALUES (the columns and rows are the .rq's, and every row is read from the
    store: the index may be unfinished); every other question, and every question on a remote store, is its
    own .rq."""
    if name != FAST_QUESTION or not _indexed(store, name, substitutions):
        return sparql
    from .errors import StoreError

    try:
        index = store.search_index()
    except StoreError:  # an index that cannot be opened: the .rq answers (CONTAINS over every fact, slower)
        return sparql
    facts = index.facts_containing(str(substitutions["type"].value), str(substitutions["word"].value))
    return _FAST_SPARQL % " ".join(f"(<{f}> {rank})" for rank, f in enumerate(facts))
