"""SHACL validation (pyshacl) and its typed report.

The shapes (``shapes/evidencegraph.ttl``) are standard SHACL Core and
SHACL-SPARQL; validation runs with the ontology loaded, so the fact types of
the ``eg:FactTypes`` scheme are known without the data declaring them.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Sequence

from .resources import ontology_path, shapes_path

if TYPE_CHECKING:
    from rdflib import Graph

log = logging.getLogger(__name__)

SH = "http://www.w3.org/ns/shacl#"
EG = "https://w3id.org/evidencegraph#"
EGSH = "https://w3id.org/evidencegraph/shapes#"


@dataclass(frozen=True)
class Result:
    """One SHACL validation result, with where it came from when known."""

    focus: str
    severity: str  # Violation | Warning | Info
    component: str  # e.g. sh:MinCountConstraintComponent
    message: str
    path: str | None = None
    value: str | None = None
    shape: str | None = None
    constraint: str | None = None  # the SPARQL constraint, for sh:SPARQLConstraintComponent
    label: str | None = None  # the focus node's label, title or text
    file: str | None = None
    line: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Report:
    """The outcome of validating some data."""

    results: list[Result] = field(default_factory=list)
    graph: "Graph | None" = None  # the standard SHACL validation report
    triples: int = 0

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity != "Violation"]

    def conforms(self, strict: bool = False) -> bool:
        return not (self.results if strict else self.violations)

    def extend(self, other: "Report") -> None:
        self.results.extend(other.results)
        self.triples += other.triples
        if other.graph is not None:
            if self.graph is None:
                from rdflib import Graph

                self.graph = Graph()
            self.graph += other.graph

    def summary(self) -> str:
        verdict = "conforms" if self.conforms() else "does not conform"
        return (
            f"{verdict}: {len(self.violations)} violation{'s' if len(self.violations) != 1 else ''}, "
            f"{len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}"
        )


@lru_cache(maxsize=1)
def shapes_graph() -> "Graph":
    from rdflib import Graph

    return Graph().parse(shapes_path(), format="turtle")


@lru_cache(maxsize=1)
def ontology_graph() -> "Graph":
    from rdflib import Graph

    return Graph().parse(ontology_path(), format="turtle")


ENGINES = ("fast", "pyshacl")


def validate_graph(data: "Graph", engine: str = "fast") -> Report:
    """Validate one rdflib graph against the shapes, with the ontology loaded.

    ``engine``: ``fast`` (this project's engine, see fastshacl.py) or
    ``pyshacl`` (the reference); they give the same verdicts.

    >>> from rdflib import Graph
    >>> g = Graph().parse(data='''@prefix eg: <https://w3id.org/evidencegraph#> .
    ...     <http://example.org/e> a eg:Entity .''', format="turtle")
    >>> for engine in ENGINES:
    ...     report = validate_graph(g, engine)
    ...     print([(r.focus, r.component) for r in report.results])
    [('http://example.org/e', 'sh:MinCountConstraintComponent')]
    [('http://example.org/e', 'sh:MinCountConstraintComponent')]
    """
    if engine == "fast":
        from .fastshacl import _term

        return validate_triples([(_term(s), _term(p), _term(o)) for s, p, o in data])
    if engine != "pyshacl":
        raise ValueError(f"unknown engine {engine!r}")
    from pyshacl import validate

    _, report_graph, _ = validate(
        data,
        shacl_graph=shapes_graph(),
        ont_graph=ontology_graph(),
        inference="none",
        advanced=True,
        allow_warnings=True,
        abort_on_first=False,
    )
    return Report(results_of(report_graph, data), report_graph, len(data))


def validate_triples(triples: list[Any]) -> Report:
    """Validate triples (mapping's form: ``str`` IRIs, ``Lit`` literals) with the fast engine."""
    from .fastshacl import Engine

    engine = Engine.default()
    idx = engine.index(triples)
    found = engine.validate(triples, idx)
    if not found:
        return Report([], None, len(triples))
    results = []
    for r in found:
        label, file, line = _where_native(idx, r.focus)
        value = r.value
        if value is not None:
            value = value.value if hasattr(value, "datatype") else _short(str(value))
        results.append(
            Result(
                focus=str(r.focus),
                severity=r.severity,
                component=r.component,
                message=r.message,
                path=r.path,
                value=value,
                shape=r.shape,
                constraint=r.constraint,
                label=label,
                file=file,
                line=line,
            )
        )
    results.sort(key=lambda r: (r.file or "", r.line or 0, r.focus, r.component, r.path or "", r.value or ""))
    return Report(results, None, len(triples))


_LABELS = ("http://www.w3.org/2000/01/rdf-schema#label", "http://purl.org/dc/terms/title", EG + "text", EG + "kind",
           EG + "fileName", EG + "listedText")
_PARTS = (EG + "card", EG + "sourceListing", EG + "domainChip")


def _where_native(idx: Any, focus: Any) -> tuple[str | None, str | None, int | None]:
    """The focus node's label, and the page file and line it was read from (as _WHERE does)."""
    label = next((v.value for p in _LABELS for v in idx.values(focus, p) if hasattr(v, "datatype")), None)
    if label and len(label) > 60:
        label = label[:59] + "…"
    nodes = [focus] if idx.values(focus, EG + "line") else []
    for p in (EG + "listsFact", EG + "listsSource", EG + "states", EG + "citation"):
        nodes += idx.rev(p).get(focus, [])
    best: tuple[int, Any] | None = None
    for node in nodes:
        for line in idx.values(node, EG + "line"):
            try:
                n = int(line.value)
            except (AttributeError, ValueError):
                continue
            if best is None or n < best[0]:
                best = (n, node)
    file = None
    if best is not None:
        file = _page_file(idx, best[1])
    files = idx.values(focus, EG + "fileName")
    if file is None and files:
        file = files[0].value
    return label, file, best[0] if best else None


def _page_file(idx: Any, node: Any) -> str | None:
    todo, seen = [node], set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        for f in idx.values(n, EG + "fileName"):
            return str(f.value)
        for p in _PARTS + (EG + "factListing", EG + "listedSupport"):
            todo.extend(idx.rev(p).get(n, []))
    return None


def _short(iri: str) -> str:
    for prefix, ns in (("sh", SH), ("eg", EG), ("egsh", EGSH)):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def results_of(report_graph: "Graph", data: "Graph | None" = None) -> list[Result]:
    """Typed results from a SHACL validation report graph."""
    from rdflib import Literal, URIRef

    sh = lambda name: URIRef(SH + name)  # noqa: E731
    out = []
    # the report's own results; nested ones (sh:detail) explain them and are not counted
    for node in report_graph.objects(None, sh("result")):
        focus = report_graph.value(node, sh("focusNode"))
        path = report_graph.value(node, sh("resultPath"))
        value = report_graph.value(node, sh("value"))
        severity = report_graph.value(node, sh("resultSeverity"))
        component = report_graph.value(node, sh("sourceConstraintComponent"))
        messages = list(report_graph.objects(node, sh("resultMessage")))
        label, file, line = _where(data, focus) if data is not None and focus is not None else (None, None, None)
        out.append(
            Result(
                focus=str(focus),
                severity=str(severity).rsplit("#", 1)[-1],
                component=_short(str(component)),
                message=str(messages[0]) if messages else "",
                path=_short(str(path)) if path is not None else None,
                value=(str(value) if isinstance(value, Literal) else _short(str(value))) if value is not None else None,
                shape=_short(str(report_graph.value(node, sh("sourceShape")))),
                constraint=_short(str(constraint)) if (constraint := report_graph.value(node, sh("sourceConstraint"))) else None,
                label=label,
                file=file,
                line=line,
            )
        )
    return sorted(out, key=lambda r: (r.file or "", r.line or 0, r.focus, r.component, r.path or "", r.value or ""))


_WHERE = """
PREFIX eg: <https://w3id.org/evidencegraph#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?label ?file ?line WHERE {
  OPTIONAL { ?focus rdfs:label|dcterms:title|eg:text|eg:kind|eg:fileName|eg:listedText ?label }
  OPTIONAL {
    { ?focus eg:line ?line . BIND(?focus AS ?node) }
    UNION { ?node eg:listsFact|eg:listsSource ?focus ; eg:line ?line }
    UNION { ?node eg:states ?focus ; eg:line ?line }
    UNION { ?card eg:citation ?focus ; eg:line ?line . BIND(?card AS ?node) }
    OPTIONAL { ?page (eg:card|eg:sourceListing|eg:domainChip|eg:sourceListing/eg:factListing|eg:card/eg:listedSupport) ?node ;
               eg:fileName ?file }
  }
  OPTIONAL { ?focus eg:fileName ?file }
} ORDER BY ?line LIMIT 1
"""


def _where(data: "Graph", focus: Any) -> tuple[str | None, str | None, int | None]:
    try:
        rows = list(data.query(_WHERE, initBindings={"focus": focus}))
    except Exception:  # pragma: no cover - a focus node rdflib cannot bind
        return None, None, None
    if not rows:
        return None, None, None
    label, file, line = rows[0]  # type: ignore[misc]
    text = str(label) if label is not None else None
    if text and len(text) > 60:
        text = text[:59] + "…"
    return text, (str(file) if file is not None else None), (int(str(line)) if line is not None else None)


def format_text(report: Report, verbose: bool = True) -> str:
    """Results grouped by focus node, for people."""
    lines: list[str] = []
    groups: dict[str, list[Result]] = {}
    for r in report.results:
        groups.setdefault(r.focus, []).append(r)
    for focus, results in groups.items():
        first = results[0]
        where = f"{first.file}:{first.line}: " if first.file and first.line else (f"{first.file}: " if first.file else "")
        label = f" ({first.label!r})" if first.label else ""
        lines.append(f"{where}{focus}{label}")
        for r in results:
            detail = ", ".join(x for x in (f"path {r.path}" if r.path else "", f"value {r.value!r}" if r.value is not None else "") if x)
            rule = r.constraint or r.component
            if r.shape and ":" in r.shape and not r.shape.startswith("egsh:"):  # a user's shape: name it too
                rule = f"{r.shape}, {rule}" if not r.constraint else rule
            lines.append(f"  {r.severity}: {r.message}" + (f" [{detail}]" if detail else "") + f" ({rule})")
    return "\n".join(lines) + ("\n" if lines else "")


def format_json(report: Report, errors: Sequence[str] = ()) -> str:
    """A plain list of results for scripts: see the README for the fields.

    ``conforms`` is false when an input could not be read (``errors`` lists them).
    """
    return json.dumps(
        {
            "conforms": report.conforms() and not errors,
            "violations": len(report.violations),
            "warnings": len(report.warnings),
            "errors": list(errors),
            "results": [r.to_json() for r in report.results],
        },
        indent=2,
        ensure_ascii=False,
    ) + "\n"


def format_turtle(report: Report, errors: Sequence[str] = ()) -> str:
    """The standard SHACL validation report, in Turtle: ``sh:conforms false`` whenever there is a
    result of any severity (SHACL 3.6.1), or an input could not be read."""
    from rdflib import BNode, Graph, Literal, URIRef
    from rdflib.namespace import RDF

    g = report.graph
    if g is not None and (errors or len(set(g.objects(None, URIRef(SH + "result")))) != len(report.results)):
        g = None  # results were added (store-level rules) or inputs failed: build the report from the results
    if g is None:
        g = Graph()
        sh = lambda name: URIRef(SH + name)  # noqa: E731
        expand = lambda v: URIRef({"sh": SH, "eg": EG, "egsh": EGSH}[v.split(":", 1)[0]] + v.split(":", 1)[1]) if v.split(":", 1)[0] in ("sh", "eg", "egsh") else URIRef(v)  # noqa: E731
        node = BNode()
        g.add((node, RDF.type, sh("ValidationReport")))
        g.add((node, sh("conforms"), Literal(not report.results and not errors)))
        for r in report.results:
            res = BNode()
            g.add((node, sh("result"), res))
            g.add((res, RDF.type, sh("ValidationResult")))
            g.add((res, sh("focusNode"), URIRef(r.focus) if not r.focus.startswith("_:") else BNode(r.focus[2:])))
            g.add((res, sh("resultSeverity"), sh(r.severity)))
            g.add((res, sh("sourceConstraintComponent"), expand(r.component)))
            if r.shape and r.shape != "_":
                g.add((res, sh("sourceShape"), expand(r.shape)))
            if r.constraint:
                g.add((res, sh("sourceConstraint"), expand(r.constraint)))
            if r.path:
                g.add((res, sh("resultPath"), expand(r.path)))
            if r.value is not None:
                g.add((res, sh("value"), Literal(r.value)))
            g.add((res, sh("resultMessage"), Literal(r.message)))
    g.bind("sh", SH)
    g.bind("egsh", EGSH)
    return g.serialize(format="turtle")

