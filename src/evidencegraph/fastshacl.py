"""A fast SHACL engine for the shapes this project ships, checked against pyshacl.

pyshacl checks about 6k triples/s, too slow for a corpus of 100k pages.  This
engine reads the same shapes file and evaluates its SHACL Core constraints
(targetClass, path, minCount, maxCount, datatype, nodeKind, class, in,
pattern, hasValue, minInclusive, node) directly over a page's triples, and
its SHACL-SPARQL rules by native Python equivalents; a rule it has no
equivalent for runs as SPARQL on pyoxigraph.  ``tests/test_fastshacl.py``
checks that it reports the same focus nodes, components, rules and
severities as pyshacl, on every shape test and on generated corpora with
injected faults.

>>> from evidencegraph.mapping import Lit
>>> engine = Engine.default()
>>> results = engine.validate([("http://x/e", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
...                             "https://w3id.org/evidencegraph#Entity")])
>>> [(r.focus, r.component) for r in results]
[('http://x/e', 'sh:MinCountConstraintComponent')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

from .mapping import Lit, Triple
from .nativerules import NATIVE
from .resources import ontology_path, shapes_path
from .shaclindex import EG, EGSH, LANG_STRING, RDF_TYPE, SH, XSD, BNode, Index, _is_iri, _lexical, _number, _well_formed

@dataclass(frozen=True)
class FastResult:
    focus: str
    component: str  # sh:...ConstraintComponent
    severity: str  # Violation | Warning | Info
    message: str
    shape: str
    path: str | None = None
    value: Any = None
    constraint: str | None = None  # egsh:... for SPARQL rules


# --- compiled shapes -------------------------------------------------------------------


@dataclass
class Constraint:
    component: str
    param: Any


@dataclass
class PropertyShape:
    id: str
    path: str
    severity: str
    message: str
    constraints: list[Constraint] = field(default_factory=list)
    short_path: str = ""


@dataclass
class SparqlRule:
    id: str  # egsh:Name
    message: str
    select: str
    prefixes: str


@dataclass
class NodeShape:
    id: str
    targets: list[str]
    severity: str
    message: str
    node_kind: str | None = None
    properties: list[PropertyShape] = field(default_factory=list)
    sparql: list[SparqlRule] = field(default_factory=list)


def _short(iri: str) -> str:
    for prefix, ns in (("sh", SH), ("eg", EG), ("egsh", EGSH)):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _term(node: Any) -> Any:
    """rdflib term -> engine term."""
    from rdflib import BNode as RBNode
    from rdflib import Literal

    if isinstance(node, Literal):
        if node.language:
            return Lit(str(node), LANG_STRING)
        return Lit(str(node), str(node.datatype) if node.datatype else XSD + "string")
    if isinstance(node, RBNode):
        return BNode("_:" + str(node))
    return str(node)


class Engine:
    """Compiled shapes plus what the ontology contributes (class axioms, fact-type concepts)."""

    def __init__(self, shapes_graph: Any, ontology_graph: Any):
        from rdflib import URIRef
        from rdflib.collection import Collection

        g = self._g = shapes_graph
        sh = lambda n: URIRef(SH + n)  # noqa: E731
        self.shapes: dict[str, NodeShape] = {}
        # ontology triples a SHACL processor mixes into the data (pyshacl copies class and
        # property axioms and owl:NamedIndividuals): the ones our checks can see.
        self.ontology: list[Triple] = []
        from rdflib.namespace import OWL, RDF, RDFS

        individuals = set(ontology_graph.subjects(RDF.type, OWL.NamedIndividual))
        for s, p, o in ontology_graph:
            if s in individuals or p in (RDFS.subClassOf,):
                self.ontology.append((_term(s), _term(p), _term(o)))
        prefixes = "".join(
            f"PREFIX {g.value(d, sh('prefix'))}: <{g.value(d, sh('namespace'))}>\n" for d in g.objects(None, sh("declare"))
        )

        def message(node: Any) -> str:
            m = g.value(node, sh("message"))
            return str(m) if m is not None else ""

        def severity(node: Any) -> str:
            v = g.value(node, sh("severity"))
            return str(v).rsplit("#", 1)[1] if v is not None else "Violation"

        def prop(node: Any) -> PropertyShape:
            path = str(g.value(node, sh("path")))
            ps = PropertyShape(_short(str(node)) if isinstance(node, URIRef) else "_", path,
                               severity(node), message(node), short_path=_short(path))
            for name in ("minCount", "maxCount", "datatype", "nodeKind", "class", "pattern", "hasValue",
                         "minInclusive", "node"):
                for v in g.objects(node, sh(name)):
                    param: Any = v.toPython() if name in ("minCount", "maxCount", "minInclusive") else str(v)
                    if name == "pattern":
                        param = re.compile(param)
                    if name == "minInclusive":
                        param = Decimal(str(param))
                    if name == "node":
                        param = self._node_shape(v, message, severity, prop, sh)
                    if name == "hasValue":
                        param = _term(v)
                    ps.constraints.append(Constraint(name, param))
            for v in g.objects(node, sh("in")):
                ps.constraints.append(Constraint("in", [_term(x) for x in Collection(g, v)]))
            return ps

        self._prop = prop
        for node in set(g.subjects(RDF.type, sh("NodeShape"))):
            shape = self._node_shape(node, message, severity, prop, sh)
            for rule_node in g.objects(node, sh("sparql")):
                shape.sparql.append(
                    SparqlRule(_short(str(rule_node)), message(rule_node), str(g.value(rule_node, sh("select"))), prefixes)
                )
            self.shapes[shape.id] = shape

    def _node_shape(
        self, node: Any, message: Callable[..., str], severity: Callable[..., str], prop: Callable[..., Any],
        sh: Callable[..., Any],
    ) -> NodeShape:
        g_targets = [str(t) for t in self._graph_objects(node, sh("targetClass"))]
        kind = self._graph_value(node, sh("nodeKind"))
        shape = NodeShape(_short(str(node)), g_targets, severity(node), message(node), str(kind) if kind else None)
        for p in self._graph_objects(node, sh("property")):
            shape.properties.append(prop(p))
        return shape

    # small indirections so _node_shape can be used while compiling
    def _graph_objects(self, node: Any, p: Any) -> list[Any]:
        return list(self._g.objects(node, p))

    def _graph_value(self, node: Any, p: Any) -> Any:
        return self._g.value(node, p)

    @classmethod
    def from_files(cls) -> "Engine":
        from rdflib import Graph

        return cls(Graph().parse(shapes_path(), format="turtle"), Graph().parse(ontology_path(), format="turtle"))

    @staticmethod
    @lru_cache(maxsize=1)
    def default() -> "Engine":
        return Engine.from_files()

    # --- validation ----------------------------------------------------------------

    def validate(self, triples: Iterable[Triple], idx: "Index | None" = None) -> list[FastResult]:
        """Results for the triples (or for an index already built over them and the ontology)."""
        idx = idx or self.index(triples)
        out: list[FastResult] = []
        for shape in self.shapes.values():
            if not shape.targets:
                continue
            focus_nodes = self._instances(idx, shape.targets)
            for focus in focus_nodes:
                self._check_node(idx, shape, focus, out)
            for rule in shape.sparql:
                self._sparql(idx, shape, rule, focus_nodes, out)
        return out

    def index(self, triples: Iterable[Triple]) -> "Index":
        """The data with the ontology triples a SHACL processor mixes in."""
        return Index([*triples, *self.ontology])

    def _instances(self, idx: Index, classes: list[str]) -> list[Any]:
        found: dict[Any, None] = {}
        for cls in classes:
            for c in self._subclasses(idx, cls):
                for s in idx.types.get(c, ()):
                    found[s] = None
        return list(found)

    def _subclasses(self, idx: Index, cls: str) -> set[str]:
        result = {cls}
        changed = True
        while changed:
            changed = False
            for sub, supers in idx.subclass.items():
                if sub not in result and supers & result:
                    result.add(sub)
                    changed = True
        return result

    def _has_class(self, idx: Index, value: Any, cls: str) -> bool:
        todo = list(idx.values(value, RDF_TYPE))
        seen: set[str] = set()
        while todo:
            t = todo.pop()
            if t == cls:
                return True
            if t in seen:
                continue
            seen.add(t)
            todo.extend(idx.subclass.get(t, ()))
        return False

    def _check_node(self, idx: Index, shape: NodeShape, focus: Any, out: list[FastResult]) -> None:
        if shape.node_kind and not self._node_kind(focus, shape.node_kind):
            out.append(FastResult(focus, "sh:NodeKindConstraintComponent", shape.severity, shape.message, shape.id,
                                  None, focus))
        for ps in shape.properties:
            self._check_property(idx, ps, focus, out)

    def _conforms(self, idx: Index, shape: NodeShape, focus: Any) -> bool:
        found: list[FastResult] = []
        self._check_node(idx, shape, focus, found)
        return not found

    @staticmethod
    def _node_kind(term: Any, kind: str) -> bool:
        if kind == SH + "IRI":
            return _is_iri(term)
        if kind == SH + "BlankNode":
            return isinstance(term, BNode)
        if kind == SH + "Literal":
            return isinstance(term, Lit)
        if kind == SH + "BlankNodeOrIRI":
            return not isinstance(term, Lit)
        if kind == SH + "IRIOrLiteral":
            return not isinstance(term, BNode)
        if kind == SH + "BlankNodeOrLiteral":
            return not _is_iri(term)
        return True

    def _check_property(self, idx: Index, ps: PropertyShape, focus: Any, out: list[FastResult]) -> None:
        values = idx.values(focus, ps.path)
        path = ps.short_path

        def fail(component: str, value: Any = None) -> None:
            out.append(FastResult(focus, f"sh:{component}ConstraintComponent", ps.severity, ps.message, ps.id, path, value))

        for c in ps.constraints:
            kind, param = c.component, c.param
            if kind == "minCount":
                if len(values) < param:
                    fail("MinCount")
            elif kind == "maxCount":
                if len(values) > param:
                    fail("MaxCount")
            elif kind == "hasValue":
                if param not in values:
                    fail("HasValue")
            else:
                for v in values:
                    if not self._value_ok(idx, kind, param, v):
                        fail({"datatype": "Datatype", "nodeKind": "NodeKind", "class": "Class", "pattern": "Pattern",
                              "minInclusive": "MinInclusive", "node": "Node", "in": "In"}[kind], v)

    def _value_ok(self, idx: Index, kind: str, param: Any, v: Any) -> bool:
        if kind == "datatype":
            if not isinstance(v, Lit):
                return False
            if param == XSD + "string":
                return bool(v.datatype == param)
            return v.datatype == param and _well_formed(v)
        if kind == "nodeKind":
            return self._node_kind(v, param)
        if kind == "class":
            return not isinstance(v, Lit) and self._has_class(idx, v, param)
        if kind == "pattern":
            text = _lexical(v)
            return text is not None and param.search(text) is not None
        if kind == "in":
            return v in param
        if kind == "minInclusive":
            n = _number(v)
            return n is not None and n >= param
        if kind == "node":
            return bool(self._conforms(idx, param, v))
        raise ValueError(f"unsupported constraint {kind}")

    # --- SHACL-SPARQL rules ----------------------------------------------------------

    def _sparql(self, idx: Index, shape: NodeShape, rule: SparqlRule, focus_nodes: list[Any], out: list[FastResult]) -> None:
        native = NATIVE.get(rule.id)
        rows = native(idx, focus_nodes) if native else _run_sparql(idx, rule, focus_nodes)
        for focus, value, bindings in rows:
            out.append(FastResult(focus, "sh:SPARQLConstraintComponent", shape.severity,
                                  _fill(rule.message, bindings), shape.id, None, value, rule.id))


def _fill(message: str, bindings: dict[str, Any]) -> str:
    return re.sub(r"\{[?$](\w+)\}", lambda m: str(_lexical(bindings.get(m.group(1))) or ""), message)


def _run_sparql(idx: Index, rule: SparqlRule, focus_nodes: Sequence[Any]) -> list[tuple[Any, Any, dict[str, Any]]]:
    """A rule with no native equivalent: run its SELECT on pyoxigraph over the page."""
    import pyoxigraph as ox

    def node(t: Any) -> Any:
        if isinstance(t, Lit):
            return ox.Literal(t.value, datatype=ox.NamedNode(t.datatype)) if t.datatype != LANG_STRING else ox.Literal(t.value)
        if isinstance(t, BNode):
            return ox.BlankNode(t[2:])
        return ox.NamedNode(t)

    def back(t: Any) -> Any:
        if isinstance(t, ox.Literal):
            return Lit(t.value, t.datatype.value)
        if isinstance(t, ox.BlankNode):
            return BNode("_:" + t.value)
        return t.value if t is not None else None

    store = ox.Store()
    store.extend(ox.Quad(node(s), node(p), node(o)) for s, p, o in idx.triples)
    wanted = set(focus_nodes)
    rows = []
    for row in store.query(rule.prefixes + rule.select):  # type: ignore[union-attr]
        this = back(row["this"])
        if this in wanted:
            b = {}
            for name in _select_vars(rule.select):
                try:
                    b[name] = back(row[name])
                except (KeyError, IndexError):
                    b[name] = None
            rows.append((this, b.get("value"), b))
    return rows


def _select_vars(select: str) -> list[str]:
    head = select.split("WHERE", 1)[0]
    return [m.group(1) for m in re.finditer(r"[?$](\w+)", head)]
