"""The named question facts-mentioning answered from a store folder's search index.

Alone, when the index is exact (:func:`question_answer`: the index's rows as SPARQL JSON results, no query
run), or by the facts it finds bound with VALUES in the question's SPARQL (:func:`question_query`: every
row read from the store).  No SQLite here: the store opens its index (search.py) for this question only.
"""

from __future__ import annotations

import json
from typing import Any, Sequence

FAST_QUESTION = "facts-mentioning"  # queries.INDEXED_QUESTION (this module is above queries: not imported)

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
    return name == FAST_QUESTION and getattr(store, "db_is_local", False) and "type" in substitutions \
        and "word" in substitutions


def question_answer(store: Any, name: str, substitutions: dict[str, Any]) -> Any:
    """The answer (pyoxigraph ``QuerySolutions``) of a named question that a store folder's index gives on its
    own (``facts-mentioning``, when the index is exact: 0.66 s at 100k pages, where binding its facts in
    SPARQL took 1.8 s; benchmarks/RESULTS.md), else None: run :func:`question_query`."""
    if not _indexed(store, name, substitutions):
        return None
    type_word, word = str(substitutions["type"].value), str(substitutions["word"].value)
    rows = store.search_index().facts_mentioning(type_word, word)
    if rows is None:
        return None
    import pyoxigraph as ox

    return ox.parse_query_results(_results_json(type_word, word, rows), ox.QueryResultsFormat.JSON)


def _results_json(type_word: str, word: str, rows: Sequence[tuple[str, str, str]]) -> bytes:
    """The index's rows (fact, text, source title) as the SPARQL JSON results of facts-mentioning
    (``?type ?word ?fact ?text ?source``)."""
    type_term, word_term = {"type": "literal", "value": type_word}, {"type": "literal", "value": word}
    bindings = [{"type": type_term, "word": word_term, "fact": {"type": "uri", "value": fact},
                 "text": {"type": "literal", "value": text}, "source": {"type": "literal", "value": title}}
                for fact, text, title in rows]
    return json.dumps({"head": {"vars": ["type", "word", "fact", "text", "source"]},
                       "results": {"bindings": bindings}}, ensure_ascii=False).encode("utf-8")


def question_query(store: Any, name: str, sparql: str, substitutions: dict[str, Any]) -> str:
    """The SPARQL to run for a named question: ``facts-mentioning`` on a store folder finds its facts in
    the index and binds them with VALUES (the columns and rows are the .rq's, and every row is read from the
    store: the index may be unfinished); every other question, and every question on a remote store, is its
    own .rq."""
    if not _indexed(store, name, substitutions):
        return sparql
    facts = store.search_index().facts_containing(str(substitutions["type"].value), str(substitutions["word"].value))
    return _FAST_SPARQL % " ".join(f"(<{f}> {rank})" for rank, f in enumerate(facts))
