"""SPARQL queries: the named questions shipped with the package, their
parameters, and the formatting of results.

A named question is a ``queries/NAME.rq`` file whose header says what it asks
and which parameters it takes::

    # Relations of an entity, ranked by score.
    # param entity: label  the entity's label, e.g. "Belgium"

Parameters are bound as RDF terms (SPARQL SEP-0007 substitutions), never
pasted into the query text; a question selects its parameters (SEP-0007
substitutes only projected variables), so they appear as columns too.  Kinds: ``label`` and ``string`` (a plain
literal), ``iri``, ``integer``, ``decimal``.
"""

from __future__ import annotations

import functools
import io
import re
from collections import namedtuple
from pathlib import Path
TYPE_CHECKING = False  # (typing and dataclasses are not imported at run time: `query` starts faster)
if TYPE_CHECKING:
    from typing import Any, BinaryIO, NamedTuple

import pyoxigraph as ox

from .errors import UsageError
from .resources import queries_dir

XSD = "http://www.w3.org/2001/XMLSchema#"
RESULT_FORMATS = ("table", "json", "xml", "csv", "tsv")


if TYPE_CHECKING:
    class Param(NamedTuple):
        name: str
        kind: str
        help: str
else:
    Param = namedtuple("Param", "name kind help")


class Question:
    def __init__(self, name: str, description: str, sparql: str, params: list[Param] | None = None) -> None:
        self.name, self.description, self.sparql = name, description, sparql
        self.params: list[Param] = params if params is not None else []

    def __repr__(self) -> str:
        return f"Question({self.name!r}, params={[p.name for p in self.params]})"

    def bind(self, values: dict[str, str]) -> dict[str, Any]:
        """Parameter values (strings from the command line) -> RDF terms.

        :raises UsageError: a missing, unknown or malformed parameter.
        """
        known = {p.name: p for p in self.params}
        unknown = set(values) - set(known)
        if unknown:
            raise UsageError(
                f"question {self.name!r} has no parameter {sorted(unknown)[0]!r}; "
                f"it takes: {', '.join(known) or 'none'}"
            )
        missing = [p.name for p in self.params if p.name not in values]
        if missing:
            raise UsageError(f"question {self.name!r} needs -p {missing[0]}=VALUE ({known[missing[0]].help})")
        return {name: term(known[name].kind, value, name) for name, value in values.items()}


def term(kind: str, value: str, name: str = "value") -> Any:
    """A command-line value as an RDF term of the given kind."""
    try:
        if kind == "iri":
            return ox.NamedNode(value.strip("<>"))
        if kind == "integer":
            return ox.Literal(str(int(value)), datatype=ox.NamedNode(XSD + "integer"))
        if kind == "decimal":
            from decimal import Decimal

            return ox.Literal(str(Decimal(value)), datatype=ox.NamedNode(XSD + "decimal"))
    except (ValueError, ArithmeticError):
        raise UsageError(f"parameter {name}: {value!r} is not a valid {kind}") from None
    return ox.Literal(value)


_PARAM = re.compile(r"^#\s*param\s+(\w+)\s*:\s*(\w+)\s*(.*)$")


def load_question(path: Path) -> Question:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    description = lines[0].lstrip("# ").strip() if lines and lines[0].startswith("#") else ""
    params = [Param(m.group(1), m.group(2), m.group(3).strip()) for ln in lines if (m := _PARAM.match(ln))]
    return Question(path.stem, description, text, params)


def questions() -> dict[str, Question]:
    """The named questions shipped with the package, by name."""
    return {q.name: q for q in (load_question(p) for p in sorted(queries_dir().glob("*.rq")))}


def question(name: str) -> Question:
    found = questions()
    if name not in found:
        raise UsageError(f"no question named {name!r}; list them with: evidencegraph questions")
    return found[name]


def parse_params(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"-p takes key=value, not {pair!r}")
        out[key.strip()] = value
    return out


def read_query(text: str) -> str:
    """``@file.rq`` reads the query from a file; ``-`` from stdin; else the text itself."""
    if text.startswith("@"):
        try:
            return Path(text[1:]).read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"cannot read the query file {text[1:]} ({e.strerror})") from None
    if text == "-":
        import sys

        return sys.stdin.read()
    return text


# --- result formatting -----------------------------------------------------------


def write_results(results: Any, fmt: str, out: BinaryIO, width: int | None = None) -> int:
    """Write SELECT/ASK results in a W3C results format or as an aligned table (``width``: fit it).

    Returns the number of rows (1 for ASK; -1 when not counted, in the W3C formats).
    """
    if isinstance(results, ox.QueryBoolean):
        if fmt == "table":
            out.write(b"true\n" if bool(results) else b"false\n")
        else:
            results.serialize(out, _results_format(fmt))
        return 1
    if not isinstance(results, ox.QuerySolutions):
        raise UsageError(f"-f {fmt} is for SELECT and ASK; a CONSTRUCT or DESCRIBE query needs an RDF format")
    if fmt == "table":
        from .console import table

        names = [v.value for v in results.variables]
        rows = [[row[n] for n in names] for row in results]
        if names:
            out.write(table(names, rows, width).encode("utf-8"))
        return len(rows)
    buffer = io.BytesIO()
    results.serialize(buffer, _results_format(fmt))
    data = buffer.getvalue()
    out.write(data if data.endswith(b"\n") else data + b"\n")
    return -1


def _results_format(fmt: str) -> Any:
    table = {
        "json": ox.QueryResultsFormat.JSON,
        "xml": ox.QueryResultsFormat.XML,
        "csv": ox.QueryResultsFormat.CSV,
        "tsv": ox.QueryResultsFormat.TSV,
    }
    if fmt not in table:
        raise UsageError(f"unknown results format {fmt!r}; use one of {', '.join(RESULT_FORMATS)}")
    return table[fmt]


def questions_json() -> list[dict[str, Any]]:
    """The named questions for scripts (and the web query page): name, description, parameters, SPARQL."""
    return [
        {"name": q.name, "description": q.description,
         "params": [{"name": p.name, "kind": p.kind, "help": p.help} for p in q.params], "sparql": q.sparql}
        for q in questions().values()
    ]


INDEXED_QUESTION = "facts-mentioning"  # bound from the search index on a store folder (indexanswers.question_query)
# answered from the search index alone on a store folder, when it is exact (indexanswers.question_answer)
INDEXED_QUESTIONS = (INDEXED_QUESTION, "connected-via-source")


def question_text(store: Any, name: str, sparql: str) -> str:
    """The text of a named question that this store runs: on a store folder ``queries/embedded/NAME.rq``
    when there is one (its default graph holds each triple once, where a server's union default graph repeats
    a triple per page: a text can be fast on one and hopeless on the other); else, and on every remote store,
    the question's own .rq (``sparql``)."""
    if getattr(store, "db_is_local", False):
        own = _embedded_text(name)
        if own is not None:
            return own
    return sparql


@functools.lru_cache(maxsize=None)
def _embedded_text(name: str) -> str | None:
    """``queries/embedded/NAME.rq``, read once per process (the server asks for it at every question)."""
    variant = queries_dir() / "embedded" / f"{name}.rq"
    return variant.read_text(encoding="utf-8") if variant.is_file() else None


def question_sparql(store: Any, name: str, sparql: str, substitutions: dict[str, Any]) -> str:
    """The SPARQL to run for a named question on this store: its :func:`question_text`, and on a store folder
    facts-mentioning from the search index (opened only for that question)."""
    if name != INDEXED_QUESTION:
        return question_text(store, name, sparql)
    from .indexanswers import question_query

    return question_query(store, name, sparql, substitutions)


def run_question(store: Any, name: str, sparql: str, substitutions: dict[str, Any]) -> Any:
    """The answer of a named question on this store: from the search index when it gives it on its own
    (facts-mentioning and connected-via-source on a store folder: indexanswers.question_answer), else the
    store's answer to :func:`question_sparql`.

    :raises QueryError: a bad query; :raises StoreError: the store failed.
    """
    if name in INDEXED_QUESTIONS:
        from .indexanswers import question_answer

        answer = question_answer(store, name, substitutions)
        if answer is not None:
            return answer
    return store.query(question_sparql(store, name, sparql, substitutions), substitutions)


def is_graph_result(results: Any) -> bool:
    return isinstance(results, ox.QueryTriples)
