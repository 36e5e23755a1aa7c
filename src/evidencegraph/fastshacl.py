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

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

from .mapping import Lit, Triple
from .resources import ontology_path, shapes_path

SH = "http://www.w3.org/ns/shacl#"
EG = "https://w3id.org/evidencegraph#"
EGSH = "https://w3id.org/evidencegraph/shapes#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SUBCLASS = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


class BNode(str):
    """A blank node label (distinct from an IRI string)."""


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


# --- the page index ---------------------------------------------------------------


class Index:
    def __init__(self, triples: Iterable[Triple]):
        self.spo: dict[Any, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        self.types: dict[str, list[Any]] = defaultdict(list)
        self._rev: dict[str, dict[Any, list[Any]]] = {}
        self.subclass: dict[str, set[str]] = defaultdict(set)
        self.triples = []
        seen = set()
        for t in triples:
            if t in seen:
                continue
            seen.add(t)
            self.triples.append(t)
            s, p, o = t
            self.spo[s][p].append(o)
            if p == RDF_TYPE:
                self.types[str(o)].append(s)
            elif p == SUBCLASS:
                self.subclass[s].add(str(o))

    def values(self, s: Any, p: str) -> list[Any]:
        d = self.spo.get(s)
        return d.get(p, []) if d else []

    def one(self, s: Any, p: str) -> Any:
        v = self.values(s, p)
        return v[0] if v else None

    def rev(self, p: str) -> dict[Any, list[Any]]:
        r = self._rev.get(p)
        if r is None:
            r = defaultdict(list)
            for s, ps in self.spo.items():
                for o in ps.get(p, ()):
                    r[o].append(s)
            self._rev[p] = r
        return r


# --- literal helpers --------------------------------------------------------------------

_LEXICAL = {
    XSD + "integer": re.compile(r"^[+-]?\d+$"),
    XSD + "decimal": re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$"),
    XSD + "boolean": re.compile(r"^(true|false|1|0)$"),
}
_NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short", "byte",
                              "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                              "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}


def _well_formed(lit: Lit) -> bool:
    pattern = _LEXICAL.get(lit.datatype)
    return pattern is None or bool(pattern.match(lit.value))


def _number(term: Any) -> Decimal | None:
    if isinstance(term, Lit) and term.datatype in _NUMERIC and _well_formed(term):
        try:
            return Decimal(term.value)
        except InvalidOperation:
            return None
    return None


def _is_iri(term: Any) -> bool:
    return isinstance(term, str) and not isinstance(term, (BNode, Lit))


def _lexical(term: Any) -> str | None:
    if isinstance(term, Lit):
        return term.value
    if isinstance(term, BNode):
        return None
    return str(term)


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


# --- native equivalents of the shipped SHACL-SPARQL rules -------------------------------

Row = tuple[Any, Any, dict[str, Any]]
# Each returns (focus, value, bindings) rows exactly as the rule's SELECT would.

def _int(t: Any) -> int | None:
    n = _number(t)
    return int(n) if n is not None and n == int(n) else None


def _page_fact_count(idx: Index, page: Any) -> int:
    return sum(len(idx.values(sl, EG + "factListing")) for sl in idx.values(page, EG + "sourceListing"))


def _distinct_entities(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    for f in focus:
        objects = idx.values(f, EG + "object")
        for v in dict.fromkeys(idx.values(f, EG + "subject")):
            if v in objects:
                rows.append((f, v, {"this": f, "value": v}))
    return rows


def _band(score: Decimal) -> str:
    if score >= Decimal("0.5"):
        return "strongly supporting"
    if score >= Decimal("0.1"):
        return "supporting"
    if score > Decimal("-0.1"):
        return "neutral"
    if score > Decimal("-0.5"):
        return "opposing"
    return "strongly opposing"


def _strength_matches(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    for f in focus:
        for score in idx.values(f, EG + "score"):
            if not (isinstance(score, Lit) and score.datatype == XSD + "decimal"):
                continue
            n = _number(score)
            if n is None:
                continue
            expected = _band(n)
            for value in idx.values(f, EG + "strength"):
                if _lexical(value) != expected:
                    rows.append((f, value, {"this": f, "value": value, "score": score, "expected": Lit(expected)}))
    return rows


def _score_matches(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    states = idx.rev(EG + "states")
    for f in focus:
        supported = len(set(idx.values(f, EG + "supportedBy")))
        declared = [n for card in states.get(f, ()) for c in idx.values(card, EG + "declaredFactCount")
                    if (n := _number(c)) is not None]
        facts = int(max(declared)) if declared else supported
        if not 0 <= facts <= 500:
            continue
        expected = Decimal(f"{math.log2(facts + 1):.2f}")
        for value in idx.values(f, EG + "score"):
            if not (isinstance(value, Lit) and value.datatype == XSD + "decimal"):
                continue
            n = _number(value)
            if n is None or n < 0:
                continue
            if abs(n - expected) > Decimal("0.005"):
                rows.append((f, value, {"this": f, "value": value, "facts": Lit(str(facts)), "expected": Lit(str(expected))}))
    return rows


_TOKEN = re.compile(r"\{fact:[^{}]*\}")


def _leftover_tokens(idx: Index, focus: Sequence[Any]) -> list[Row]:
    return [(f, v, {"this": f, "value": v}) for f in focus for v in idx.values(f, EG + "summary")
            if _lexical(v) is not None and _TOKEN.search(_lexical(v) or "")]


def _facts_heading(idx: Index, focus: Sequence[Any]) -> list[Row]:
    return [row for f in focus for row in _miscounted(idx, f, _page_fact_count(idx, f))]


def _differs(value: Any, count: int) -> bool:
    """``FILTER (?value != ?count)`` for a numeric ?value (other values: no row)."""
    n = _number(value)
    return n is not None and n != count


def _miscounted(idx: Index, f: Any, count: int, declared: str = EG + "declaredFactCount", name: str = "listed") -> list[Row]:
    """The rows of a rule "the declared count is what was counted": one per declared value that differs."""
    return [(f, value, {"this": f, "value": value, name: Lit(str(count))})
            for value in idx.values(f, declared) if _differs(value, count)]


def _relations_heading(idx: Index, focus: Sequence[Any]) -> list[Row]:
    return [row for f in focus
            for row in _miscounted(idx, f, len(idx.values(f, EG + "card")), EG + "declaredRelationCount", "cards")]


def _card_listed(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    for f in focus:
        if EG + "supportListed" not in idx.values(f, EG + "supportResolution"):
            continue
        listed = len(idx.values(f, EG + "listedSupport"))
        declared = idx.values(f, EG + "declaredFactCount") or [None]
        for d in declared:
            value = d if d is not None else Lit("0", XSD + "integer")
            if _differs(value, listed):
                rows.append((f, value, {"this": f, "value": value, "listed": Lit(str(listed))}))
    return rows


def _card_page(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    pages_of = idx.rev(EG + "card")
    for f in focus:
        if EG + "supportFromPage" not in idx.values(f, EG + "supportResolution"):
            continue
        pages = pages_of.get(f, [])
        if not pages:
            continue
        listed = sum(_page_fact_count(idx, p) for p in pages)
        for page in pages:
            if all(c == f for c in idx.values(page, EG + "card")):
                rows += _miscounted(idx, f, listed)
    return rows


def _citation_resolves(idx: Index, focus: Sequence[Any]) -> list[Row]:
    rows = []
    cards_of = idx.rev(EG + "citation")
    pages_of = idx.rev(EG + "card")
    for f in focus:
        pages = [p for card in cards_of.get(f, ()) for p in pages_of.get(card, ())]
        if not pages:
            continue
        listed = sum(_page_fact_count(idx, p) for p in pages)
        for value in idx.values(f, EG + "marker"):
            n = _number(value)
            if n is not None and n > listed:
                rows.append((f, value, {"this": f, "value": value, "listed": Lit(str(listed))}))
    return rows


def _source_listing(idx: Index, focus: Sequence[Any]) -> list[Row]:
    return [row for f in focus for row in _miscounted(idx, f, len(idx.values(f, EG + "factListing")))]


def _pairs(focus: Sequence[Any], values_of: Callable[[Any], Iterable[Any]]) -> list[Row]:
    """(focus, value, other) for each two values of a focus node, value < other by their text:
    what the store-level rules report (two labels of an entity, two pages of a relation)."""
    rows = []
    for f in focus:
        values = sorted(set(values_of(f)), key=lambda v: v.value if isinstance(v, Lit) else str(v))
        for i, value in enumerate(values):
            for other in values[i + 1 :]:
                rows.append((f, value, {"this": f, "value": value, "other": other}))
    return rows


def _variant_names(idx: Index, focus: Sequence[Any]) -> list[Row]:
    return _pairs(focus, lambda f: idx.values(f, RDFS + "label"))


def _one_page_per_relation(idx: Index, focus: Sequence[Any]) -> list[Row]:
    cards_of = idx.rev(EG + "states")
    pages_of = idx.rev(EG + "card")
    return _pairs(focus, lambda f: [p for c in cards_of.get(f, ()) for p in pages_of.get(c, ())])


NATIVE: dict[str, Callable[[Index, Sequence[Any]], list[Row]]] = {
    "egsh:EntityVariantNames": _variant_names,
    "egsh:OnePagePerRelation": _one_page_per_relation,
    "egsh:DistinctEntities": _distinct_entities,
    "egsh:StrengthMatchesScore": _strength_matches,
    "egsh:ScoreMatchesFacts": _score_matches,
    "egsh:LeftoverTokens": _leftover_tokens,
    "egsh:FactsHeadingCount": _facts_heading,
    "egsh:RelationsHeadingCount": _relations_heading,
    "egsh:CardListedCount": _card_listed,
    "egsh:CardPageCount": _card_page,
    "egsh:CitationResolves": _citation_resolves,
    "egsh:SourceListingCount": _source_listing,
}
