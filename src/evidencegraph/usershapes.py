"""Users' own SHACL shapes: read them, check them, validate data with them.

The shipped shapes run on evidencegraph's own engine (fastshacl.py), which
knows only them.  A user's shapes (``--shapes FILE``, any RDF syntax) run on
a general SHACL engine: pyshacl-turbo (Rust; its verdicts are pyshacl's,
which ``tests/test_engines.py`` checks), or pyshacl when pyshacl-turbo is not
installed or is asked for.  SHACL Core and SHACL-SPARQL are supported.  As for
the shipped shapes, the data is validated with the ontology's class and
property axioms mixed in (what pyshacl's ``ont_graph`` does), so that
``pyshacl -s FILE -e ontology/evidencegraph.ttl DATA`` gives the same verdicts.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .errors import DataError, ShapesError, UsageError
from .shapes import SH, Result, ontology_graph, results_of

if TYPE_CHECKING:
    from rdflib import Graph

log = logging.getLogger(__name__)

ENGINES = ("pyshacl-turbo", "pyshacl")
_SHAPE_MARKS = ("NodeShape", "PropertyShape", "targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf",
                "target", "path", "sparql")


@dataclass(frozen=True)
class UserShapes:
    """A user's shapes files, read and checked, ready to validate with.

    ``only``: the shipped shapes are left out (``--shapes-only``).
    """

    files: tuple[str, ...]
    only: bool = False
    engine: str = "pyshacl-turbo"
    graph: "Graph" = field(default=None, compare=False, repr=False)  # type: ignore[assignment]
    compiled: Any = field(default=None, compare=False, repr=False)

    @property
    def key(self) -> tuple[tuple[str, ...], bool, str]:
        """What a worker process needs to get the same shapes back (see :func:`load_shapes`)."""
        return self.files, self.only, self.engine


def default_engine() -> str:
    """pyshacl-turbo when installed, else pyshacl."""
    try:
        import pyshacl_turbo  # noqa: F401
    except ImportError:  # pragma: no cover - pyshacl-turbo is a dependency
        return "pyshacl"
    return "pyshacl-turbo"


def load_shapes(files: Sequence[str | Path], only: bool = False, engine: str | None = None) -> UserShapes:
    """Read and check shapes files (the format from each file's extension).

    Read once per process: a worker forked after the first call gets the same
    object back.

    :raises ShapesError: a file cannot be read, is not valid RDF, holds no
        shapes, or holds a shape the engine refuses (the message names the file
        and, where it can be told, the line).
    """
    return _load(tuple(str(f) for f in files), only, engine or default_engine())


@lru_cache(maxsize=8)
def _load(files: tuple[str, ...], only: bool, engine: str) -> UserShapes:
    from rdflib import Graph

    if engine not in ENGINES:
        raise UsageError(f"unknown SHACL engine {engine!r} for --shapes; use one of {', '.join(ENGINES)}")
    if not files:
        raise UsageError("--shapes-only needs at least one --shapes FILE")
    graph = Graph()
    for name in files:
        one = _read_file(name)
        _check_file(one, name)
        graph += one
        for prefix, ns in one.namespaces():
            graph.bind(prefix, ns, override=False)
    shapes = UserShapes(files, only, engine, graph, None)
    compiled = None
    if engine == "pyshacl-turbo":
        import pyshacl_turbo

        try:
            compiled = pyshacl_turbo.CompiledShapes(graph, advanced=True)
        except (ValueError, RuntimeError, NotImplementedError) as e:
            raise _refused(files, e) from None
    shapes = replace(shapes, compiled=compiled)
    try:  # a shape that only fails once it is used fails now, on no data
        validate_quads(shapes, [])
    except ShapesError:
        raise
    except Exception as e:  # noqa: BLE001 - pyshacl raises many kinds of errors on bad shapes
        raise _refused(files, e) from None
    return shapes


def _read_file(name: str) -> "Graph":
    from .formats import rdf_format_from_path
    from .loaders import read_rdf, to_rdflib

    path = Path(name)
    fmt = rdf_format_from_path(path)
    if fmt is None:
        raise ShapesError(f"{name}: cannot tell the RDF syntax of a shapes file from its name; "
                          "use .ttl, .nt, .nq, .trig, .jsonld or .rdf")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ShapesError(f"{name}: cannot read the shapes file ({e.strerror}); check the path") from None
    base = path.resolve().as_uri()
    try:
        quads = read_rdf(data, fmt, name, base)  # syntax errors with their line and column
    except DataError as e:
        raise ShapesError(str(e).replace("fix the syntax and try again", "fix the shapes file and try again")) from None
    import pyoxigraph as ox

    parser = ox.parse(data, getattr(ox.RdfFormat, fmt.oxigraph), base_iri=base)
    list(parser)
    graph = to_rdflib(quads)
    for prefix, ns in getattr(parser, "prefixes", {}).items():  # the file's prefixes, to name its shapes
        graph.bind(prefix, ns, override=True)
    return graph


def _check_file(graph: "Graph", name: str) -> None:
    """Shapes that engines would accept or refuse differently are refused here, with their line."""
    from rdflib import URIRef

    marks = {URIRef(SH + m) for m in _SHAPE_MARKS}
    if not any(p in marks or o in marks for _, p, o in graph):
        raise ShapesError(f"{name}: no SHACL shapes in this file (no sh:NodeShape, sh:PropertyShape, "
                          "sh:targetClass or sh:path); is it the right file?")
    text = _text(name)
    for node, query in _queries(graph):
        prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in _declared(graph, node))
        try:
            import pyoxigraph as ox

            ox.Store().query(prologue + _prebound(query))
        except SyntaxError as e:
            line = _line_of(text, query)
            where = f"{name}:{line}" if line else name
            if "prefix not found" in str(e).lower():
                why = ("it uses a prefix it does not declare (a SPARQL constraint takes its prefixes from "
                       "sh:prefixes and sh:declare, not from the file's @prefix lines)")
            else:
                why = " ".join(str(e).split())[:160]
            raise ShapesError(f"{where}: the SPARQL of {_name(graph, node)} does not parse: {why}") from None


def _queries(graph: "Graph") -> Iterable[tuple[Any, str]]:
    from rdflib import URIRef

    for p in ("select", "ask"):
        for node, q in graph.subject_objects(URIRef(SH + p)):
            yield node, str(q)


def _declared(graph: "Graph", node: Any) -> list[tuple[str, str]]:
    """The prefixes a SPARQL-based constraint may use: its sh:prefixes' sh:declare (SHACL 5.2.1)."""
    from rdflib import URIRef

    out = []
    for holder in graph.objects(node, URIRef(SH + "prefixes")):
        for d in graph.objects(holder, URIRef(SH + "declare")):
            p, ns = graph.value(d, URIRef(SH + "prefix")), graph.value(d, URIRef(SH + "namespace"))
            if p is not None and ns is not None:
                out.append((str(p), str(ns)))
    return out


def _prebound(query: str) -> str:
    """$this, $shapesGraph, $currentShape and $value are pre-bound variables: plain variables for the parser."""
    return re.sub(r"\$(this|shapesGraph|currentShape|value|PATH)\b", lambda m: "?" + m.group(1), query)


def _name(graph: "Graph", node: Any) -> str:
    from rdflib import BNode

    if isinstance(node, BNode):
        return "a SPARQL constraint"
    try:
        return graph.namespace_manager.normalizeUri(node)
    except Exception:  # noqa: BLE001 - an IRI rdflib cannot shorten
        return f"<{node}>"


def _text(name: str) -> str:
    try:
        return Path(name).read_text(encoding="utf-8", errors="replace")
    except OSError:  # pragma: no cover - read just before
        return ""


def _line_of(text: str, snippet: str) -> int | None:
    """The line of ``text`` where ``snippet``'s first non-blank line is, if it is there."""
    first = next((ln.strip() for ln in snippet.splitlines() if ln.strip()), "")
    if not first:
        return None
    for i, line in enumerate(text.splitlines(), 1):
        if first in line:
            return i
    return None


def _refused(files: tuple[str, ...], error: BaseException) -> ShapesError:
    """An engine's refusal of a shape, with the file and line of what it names, where that can be found."""
    message = " ".join(str(error).split())[:300] or type(error).__name__
    for name in files:
        text = _text(name)
        for token in re.findall(r'"[^"]+"|\bsh:\w+|<[^>\s]+>', message):
            bare = token.strip("<>")
            line = next((i for i, ln in enumerate(text.splitlines(), 1) if token in ln or bare in ln), None)
            if line and (len(files) == 1 or token.startswith('"')):
                return ShapesError(f"{name}:{line}: the SHACL engine refuses a shape: {message}")
    where = files[0] if len(files) == 1 else ", ".join(files)
    return ShapesError(f"{where}: the SHACL engine refuses a shape: {message}")


# --- validation --------------------------------------------------------------------


@lru_cache(maxsize=1)
def ontology_mix() -> list[Any]:
    """The ontology triples a SHACL processor mixes into the data (pyshacl's ``inoculate``), as quads."""
    import pyoxigraph as ox
    from rdflib import BNode, Graph, Literal
    from pyshacl.rdfutil.inoculate import inoculate

    mixed = inoculate(Graph(), ontology_graph())  # type: ignore[arg-type]

    def term(t: Any) -> Any:
        if isinstance(t, BNode):
            return ox.BlankNode("ont" + str(t))
        if isinstance(t, Literal):
            if t.language:
                return ox.Literal(str(t), language=t.language)
            return ox.Literal(str(t), datatype=ox.NamedNode(str(t.datatype))) if t.datatype else ox.Literal(str(t))
        return ox.NamedNode(str(t))

    return [ox.Quad(term(s), term(p), term(o)) for s, p, o in mixed.triples((None, None, None))]


def validate_quads(shapes: UserShapes, quads: Iterable[Any], triples: list[Any] | None = None) -> list[Result]:
    """Validate data (pyoxigraph quads; their graphs merged) with the user's shapes.

    ``triples``: the same data in mapping's form, when the caller has it (a
    page), to find each result's file and line without converting again.
    Results name their shape, and the file and line of their focus node when
    the data is a page's graph.
    """
    import pyoxigraph as ox

    from .shaclindex import BNode as FastBNode, Index
    from .mapping import Lit
    from .shapes import _where_native

    data = [ox.Triple(q.subject, q.predicate, q.object) for q in quads]
    if shapes.engine == "pyshacl-turbo":
        from pyshacl_turbo.rdf import Input

        # Handed over as N-Triples for its own parser: given text it builds an rdflib graph first (90% of
        # the time), and given a pyoxigraph Store, pyshacl-turbo 0.6 finds "supports" (an xsd:string)
        # not in ( "supports" … ) of a shape.  tests/test_engines.py checks the verdicts are pyshacl's.
        nt = (ox.serialize([*data, *(ox.Triple(q.subject, q.predicate, q.object) for q in ontology_mix())],
                           format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")
        _, report, _ = shapes.compiled.validate(Input(nt, "nt", None, {}, preserve_ids=True),
                                                allow_warnings=True, allow_infos=True)
    else:
        from pyshacl import validate

        from .loaders import to_rdflib

        _, report, _ = validate(
            to_rdflib(ox.Quad(t.subject, t.predicate, t.object) for t in data), shacl_graph=shapes.graph, ont_graph=ontology_graph(), inference="none",
            advanced=True, allow_warnings=True, allow_infos=True, abort_on_first=False,
        )
    results = results_of(report)
    if not results:
        return []
    if triples is None:
        def term(t: Any) -> Any:
            if isinstance(t, ox.Literal):
                return Lit(t.value, t.datatype.value)
            return FastBNode("_:" + t.value) if isinstance(t, ox.BlankNode) else t.value

        triples = [(term(t.subject), term(t.predicate), term(t.object)) for t in data]
    idx = Index(triples)
    located = []
    for r in results:
        label, file, line = _where_native(idx, r.focus)
        # a blank-node shape (no ":", unlike an IRI) has no name to give, and engines number them
        # differently: "_", as for the shipped shapes
        shape = r.shape if r.shape and ":" in r.shape else "_"
        located.append(replace(r, label=label, file=file, line=line, shape=shape))
    return located


def merge(shipped: list[Result], user: list[Result]) -> list[Result]:
    """Both engines' results in one list, in the report's order; a result both report is kept once."""
    seen = set(shipped)
    out = list(shipped) + [r for r in user if not (r in seen or seen.add(r))]  # type: ignore[func-returns-value]
    return sorted(out, key=lambda r: (r.file or "", r.line or 0, r.focus, r.component, r.path or "", r.value or ""))
