"""RDF files in: bytes or files in any of the six syntaxes -> pyoxigraph quads.

Syntax errors become :class:`DataError` naming the file, line and column;
data over the limits (size, nesting depth, XML entity expansion: see
``limits``) is refused before it is parsed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import pyoxigraph as ox

from .errors import DataError
from .formats import RdfFormat, choose_rdf_format

if TYPE_CHECKING:
    from rdflib import Graph


def read_rdf(data: bytes, fmt: RdfFormat, name: str = "<stdin>", base: str | None = None) -> list[ox.Quad]:
    """Parse RDF bytes.

    :raises DataError: a syntax error, with the file, line and column; data over a limit.
    """
    from .limits import LimitError, check_rdf

    try:
        check_rdf(data, fmt.name)
    except LimitError as e:
        raise DataError(f"{name}: {e}") from None
    try:
        return list(ox.parse(data, getattr(ox.RdfFormat, fmt.oxigraph), base_iri=base, lenient=False))
    except SyntaxError as e:
        message = str(e.msg if hasattr(e, "msg") else e)
        message = message.split(": ", 1)[1] if message.startswith("Parser error at line") else message
        if "LoadDocumentCallback" in message:
            message = "the JSON-LD loads a remote @context; embed the context in the file (no network is used)"
        where = f"{name}:{e.lineno}:{e.offset}" if e.lineno else name
        raise DataError(f"{where}: not valid {fmt.name} ({message}); fix the syntax and try again") from None
    except ValueError as e:
        raise DataError(f"{name}: not valid {fmt.name} ({e}); fix the data and try again") from None


def read_rdf_file(path: str | Path, fmt: str | None = None) -> list[ox.Quad]:
    """Read an RDF file; the format from ``fmt`` or the file's extension.

    :raises DataError: the file cannot be read or parsed.
    :raises UsageError: the format cannot be told.
    """
    from .limits import LimitError, read_file

    rdf = choose_rdf_format(fmt, path)
    try:
        data = read_file(path, "MAX_RDF_BYTES")
    except OSError as e:
        raise DataError(f"{path}: cannot read the file ({e.strerror}); check the path") from None
    except LimitError as e:
        raise DataError(f"{path}: {e}") from None
    return read_rdf(data, rdf, str(path))


def to_rdflib(quads: Iterable[ox.Quad]) -> "Graph":
    """The union of the quads' triples as an rdflib Graph."""
    from rdflib import BNode, Graph, Literal, URIRef

    cache: dict[object, object] = {}

    def term(t: object) -> object:
        r = cache.get(t)
        if r is None:
            if isinstance(t, ox.NamedNode):
                r = URIRef(t.value)
            elif isinstance(t, ox.BlankNode):
                r = BNode(t.value)
            elif isinstance(t, ox.Literal):
                if t.language:
                    r = Literal(t.value, lang=t.language)
                elif t.datatype.value == "http://www.w3.org/2001/XMLSchema#string":
                    r = Literal(t.value)
                else:
                    r = Literal(t.value, datatype=URIRef(t.datatype.value))
            else:
                raise DataError(f"unsupported RDF term {t!r}")
            cache[t] = r
        return r

    g = Graph()
    for q in quads:
        g.add((term(q.subject), term(q.predicate), term(q.object)))  # type: ignore[arg-type]
    return g
