"""What the shapes check, in words: ``evidencegraph shapes``.

One :class:`Rule` per property shape, per SHACL-SPARQL constraint and per
node shape with a node-level constraint, read from the shapes graph itself
(the shipped ``shapes/evidencegraph.ttl`` unless told otherwise), so the list
cannot drift from what validation does.

>>> rules = describe()
>>> [r for r in rules if r.rule == "egsh:SourceTitle"][0].checks
'dcterms:title: exactly one, an xsd:string, matching /\\\\S/'
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from .shapes import SH

if TYPE_CHECKING:
    from rdflib import Graph

_KINDS = {"IRI": "an IRI", "BlankNode": "a blank node", "Literal": "a literal", "BlankNodeOrIRI": "an IRI or blank node",
          "IRIOrLiteral": "an IRI or literal", "BlankNodeOrLiteral": "a blank node or literal"}


@dataclass(frozen=True)
class Rule:
    """One rule of a shapes graph: what it applies to, what it checks, how bad a failure is."""

    rule: str  # the shape or SPARQL constraint, e.g. egsh:SourceTitle
    kind: str  # property | node | sparql
    target: str  # e.g. eg:Source, or how the shape is reached
    checks: str
    severity: str  # Violation | Warning | Info
    message: str
    select: str | None = None  # the SPARQL of a SHACL-SPARQL rule

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def describe(graph: "Graph | None" = None) -> list[Rule]:
    """The rules of a shapes graph (default: the shipped shapes), in a stable order."""
    from rdflib import BNode, Literal, URIRef
    from rdflib.collection import Collection
    from rdflib.namespace import RDF

    from .shapes import shapes_graph

    g = graph if graph is not None else shapes_graph()
    sh = lambda n: URIRef(SH + n)  # noqa: E731

    def name(node: Any) -> str:
        if isinstance(node, Literal):
            return str(node)
        if isinstance(node, BNode):
            return "_"
        try:
            return g.namespace_manager.normalizeUri(node)
        except Exception:  # noqa: BLE001 - an IRI rdflib cannot shorten
            return f"<{node}>"

    def severity(node: Any) -> str:
        v = g.value(node, sh("severity"))
        return str(v).rsplit("#", 1)[-1] if v is not None else "Violation"

    def message(node: Any) -> str:
        return " ".join(str(m) for m in g.objects(node, sh("message"))) or "(none: the engine's default message)"

    def targets(node: Any, seen: frozenset[Any] = frozenset()) -> str:
        found = [name(t) for p in ("targetClass", "targetNode", "targetSubjectsOf", "targetObjectsOf")
                 for t in g.objects(node, sh(p))]
        if (node, RDF.type, sh("NodeShape")) in g and not found:
            # a class that is its own shape (an implicit class target)
            from rdflib.namespace import RDFS

            if (node, RDF.type, RDFS.Class) in g:
                found.append(name(node))
        if found:
            return ", ".join(sorted(found))
        parents = [p for p in g.subjects(sh("property"), node) if p not in seen]
        if parents:
            return ", ".join(sorted({targets(p, seen | {node}) for p in parents}))
        users = [p for p in g.subjects(sh("node"), node) if p not in seen]
        if users:
            return "the values of " + ", ".join(sorted(name(u) for u in users))
        return "(no target)"

    def words(node: Any) -> list[str]:
        out = []
        low, high = g.value(node, sh("minCount")), g.value(node, sh("maxCount"))
        if low is not None and high is not None and int(low) == int(high):
            out.append("exactly one" if int(low) == 1 else f"exactly {int(low)}")
        else:
            if low is not None:
                out.append("at least one" if int(low) == 1 else f"at least {int(low)}")
            if high is not None:
                out.append("none" if int(high) == 0 else "at most one" if int(high) == 1 else f"at most {int(high)}")
        for v in g.objects(node, sh("datatype")):
            out.append(f"an {name(v)}" if name(v).startswith("xsd:") else f"a {name(v)} literal")
        for v in g.objects(node, sh("nodeKind")):
            out.append(_KINDS.get(str(v).rsplit("#", 1)[-1], name(v)))
        for v in g.objects(node, sh("class")):
            out.append(f"an instance of {name(v)}")
        for v in g.objects(node, sh("in")):
            out.append("one of " + ", ".join(f'"{x}"' if isinstance(x, Literal) else name(x) for x in Collection(g, v)))
        for v in g.objects(node, sh("pattern")):
            out.append(f"matching /{v}/")
        for v in g.objects(node, sh("hasValue")):
            out.append(f"including {name(v)}")
        for v in g.objects(node, sh("node")):
            out.append(f"conforming to {name(v)}")
        for p, op in (("minInclusive", ">="), ("maxInclusive", "<="), ("minExclusive", ">"), ("maxExclusive", "<")):
            for v in g.objects(node, sh(p)):
                out.append(f"{op} {v}")
        for p, what in (("minLength", "at least {} characters"), ("maxLength", "at most {} characters")):
            for v in g.objects(node, sh(p)):
                out.append(what.format(v))
        known = {"minCount", "maxCount", "datatype", "nodeKind", "class", "in", "pattern", "hasValue", "node", "path",
                 "minInclusive", "maxInclusive", "minExclusive", "maxExclusive", "minLength", "maxLength",
                 "severity", "message", "property", "sparql", "targetClass", "targetNode", "targetSubjectsOf",
                 "targetObjectsOf", "name", "description", "order", "group", "deactivated", "declare", "prefixes"}
        for pred, v in sorted(g.predicate_objects(node)):
            local = str(pred)[len(SH):] if str(pred).startswith(SH) else None
            if local and local not in known:
                out.append(f"sh:{local} {name(v)}")
        return out

    rules: list[Rule] = []
    props = set(g.subjects(sh("path"), None))
    for node in props:
        path = g.value(node, sh("path"))
        checks = f"{name(path) if not isinstance(path, BNode) else 'a path'}: " + ", ".join(words(node))
        rules.append(Rule(name(node) if not isinstance(node, BNode) else _owner(g, node, name),
                          "property", targets(node), checks, severity(node), message(node)))
    for node in set(g.subjects(RDF.type, sh("NodeShape"))) | set(g.subjects(sh("sparql"), None)):
        if node in props:
            continue
        own = words(node)
        if own:
            rules.append(Rule(name(node), "node", targets(node), "the node itself: " + ", ".join(own),
                              severity(node), message(node)))
        for c in g.objects(node, sh("sparql")):
            select = g.value(c, sh("select")) or g.value(c, sh("ask"))
            from rdflib.namespace import RDFS

            comment = g.value(c, RDFS.comment) or g.value(c, sh("description"))
            checks = str(comment) if comment is not None else \
                "SHACL-SPARQL: each row its SELECT returns is a failure (the SELECT: -f json)"
            rules.append(Rule(name(c) if not isinstance(c, BNode) else f"{name(node)} (SPARQL)", "sparql",
                              targets(node), checks, severity(node),
                              message(c) if (c, sh("message"), None) in g else message(node),
                              _dedent(str(select)) if select is not None else None))
    order = {"node": 0, "property": 1, "sparql": 2}
    return sorted(rules, key=lambda r: (r.target, order[r.kind], r.rule, r.checks))


def _owner(g: "Graph", node: Any, name: Any) -> str:
    """A blank property shape is named by the shape that holds it."""
    from rdflib import URIRef

    parents = sorted(name(p) for p in g.subjects(URIRef(SH + "property"), node))
    return f"{parents[0]} (property)" if parents else "_"


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text).strip()


def format_text(rules: list[Rule]) -> str:
    """A block per rule, for people."""
    lines = []
    for r in rules:
        lines.append(f"{r.rule}  [{r.severity}]  on {r.target}")
        lines.append(f"  checks:  {r.checks}")
        lines.append(f"  message: {r.message}")
    return "\n".join(lines) + ("\n" if lines else "")


def format_json(rules: list[Rule]) -> str:
    return json.dumps([r.to_json() for r in rules], indent=2, ensure_ascii=False) + "\n"
