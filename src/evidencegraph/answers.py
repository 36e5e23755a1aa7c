"""Named questions from Python (the module behind ``evidencegraph.ask``): ``evidencegraph.ask(name, store=…, **params)``.

Rows come back as dicts of plain Python values (``str``, ``int``,
``Decimal``, ``float``, ``bool``, ``datetime.date``…), not RDF terms; IRIs
are their ``str``.  When an answer is empty because a label matches
nothing, ``suggest_labels`` finds the closest labels in the store.
"""

from __future__ import annotations

import datetime
import difflib
import os
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"

_CONVERT: dict[str, Callable[[str], Any]] = {
    **{XSD + t: int for t in ("integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
                             "negativeInteger", "nonPositiveInteger", "unsignedInt", "unsignedLong",
                             "unsignedShort", "unsignedByte")},
    XSD + "decimal": Decimal,
    XSD + "double": float,
    XSD + "float": float,
    XSD + "boolean": lambda v: v.strip() in ("true", "1"),
    XSD + "date": datetime.date.fromisoformat,
    XSD + "dateTime": lambda v: datetime.datetime.fromisoformat(v.replace("Z", "+00:00")),
}


def python_value(term: Any) -> Any:
    """An RDF term as a Python value: IRIs as ``str``, literals by datatype, unknown datatypes as their text.

    >>> python_value(ox.Literal("3.17", datatype=ox.NamedNode(XSD + "decimal")))
    Decimal('3.17')
    >>> python_value(ox.NamedNode("http://example.org/a")), python_value(ox.Literal("8", datatype=ox.NamedNode(XSD + "integer")))
    ('http://example.org/a', 8)
    """
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        convert = _CONVERT.get(term.datatype.value)
        if convert is not None:
            try:
                return convert(term.value)
            except (ValueError, InvalidOperation):
                return term.value
        return term.value
    return str(term)


def ask(question: str, store: Any = None, **params: Any) -> list[dict[str, Any]]:
    """Run the named question ``question`` with its parameters; rows as dicts of Python values.

    ``store``: an open store, a store folder or URL, or None for the default
    (``EVIDENCEGRAPH_STORE``, else ``.evidencegraph``).

    >>> import tempfile, evidencegraph
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     page = Path(d) / "a-b.txt"
    ...     _ = page.write_text("Alpha ↔ Beta\\nRelations (1)\\nrelated 2.50 — strongly supporting 1 fact\\n"
    ...         "Alpha and Beta [1].\\nFacts (1)\\nSources\\nT example.org 1 fact\\nclaimX.\\n")
    ...     with evidencegraph.open_store(Path(d) / "store", create=True) as store:
    ...         _ = evidencegraph.ingest([page], store, jobs=1)
    ...         rows = evidencegraph.ask("relations-of-entity", store=store, entity="Alpha")
    >>> [(r["entity"], r["other"], r["score"], r["facts"]) for r in rows]
    [('Alpha', 'Beta', Decimal('2.5'), 1)]

    :raises UsageError: no such question, or a missing or unknown parameter.
    :raises StoreError: the store cannot be opened.
    """
    from .queries import question as find, run_question

    q = find(question)
    bound = q.bind({k: str(v) for k, v in params.items()})
    if store is None or isinstance(store, (str, os.PathLike)):
        from .stores import open_store

        with open_store(store, read_only=True) as opened:
            return _rows(run_question(opened, q.name, q.sparql, bound))
    return _rows(run_question(store, q.name, q.sparql, bound))


def _rows(results: Any) -> list[dict[str, Any]]:
    if isinstance(results, ox.QueryBoolean):
        return [{"answer": bool(results)}]
    if isinstance(results, ox.QuerySolutions):
        names = [v.value for v in results.variables]
        return [{n: python_value(row[n]) for n in names} for row in results]
    return [{"subject": python_value(t.subject), "predicate": python_value(t.predicate), "object": python_value(t.object)}
            for t in results]


def suggest_labels(store: Any, value: str, n: int = 3) -> list[str]:
    """The labels in the store closest to ``value`` (none when ``value`` is one of them).

    Case is ignored: "belgum" finds "Belgium".
    """
    results = store.query("SELECT DISTINCT ?l WHERE { ?e a eg:Entity ; rdfs:label ?l }")
    labels = {str(row["l"].value) for row in results}
    if value in labels:
        return []
    lower: dict[str, str] = {}
    for label in sorted(labels):
        lower.setdefault(label.lower(), label)
    close = difflib.get_close_matches(value.lower(), list(lower), n=n, cutoff=0.6)
    return [lower[c] for c in close]
