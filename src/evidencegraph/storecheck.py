"""Store-level validation: the rules that can only fail where pages meet.

A page graph is checked on its own on the way in (``shapes``); what no single
page can show is checked here, over the store's merged default graph: a
single-valued property (``sh:maxCount 1`` in the shipped shapes) with two
values from two current pages, an entity that pages print in two forms, a
relation stated by two current pages.  Each result is the one the shipped
shapes give on the merged graph (same focus node, path, component, shape and
severity), with the pages that disagree named in its message.

Ingest runs the rules over the nodes a batch touched, so their cost follows
the batch, not the store; ``validate --store`` runs them over every node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping, Sequence

from .shapes import Report, Result

if TYPE_CHECKING:
    from .store import Store

EG = "https://w3id.org/evidencegraph#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DCTERMS = "http://purl.org/dc/terms/"

# (class, property) -> the shipped property shape that says "at most one"
SINGLE_VALUED: dict[tuple[str, str], str] = {
    (EG + "Source", DCTERMS + "title"): "egsh:SourceTitle",
    (EG + "Source", EG + "domain"): "egsh:SourceDomain",
    (EG + "Source", EG + "publisher"): "egsh:SourcePublisher",
    (EG + "Source", EG + "author"): "egsh:SourceAuthor",
    (EG + "Source", EG + "published"): "egsh:SourcePublished",
    (EG + "Fact", EG + "text"): "egsh:FactText",
    (EG + "Fact", EG + "factType"): "egsh:FactType",
    (EG + "Entity", EG + "upstreamId"): "egsh:EntityUpstreamId",
    (EG + "Relation", EG + "subject"): "egsh:RelationSubject",
    (EG + "Relation", EG + "object"): "egsh:RelationObject",
    (EG + "Relation", EG + "kind"): "egsh:RelationKind",
    (EG + "Relation", EG + "score"): "egsh:RelationScore",
    (EG + "Relation", EG + "strength"): "egsh:RelationStrength",
    (EG + "Relation", EG + "summary"): "egsh:RelationSummary",
    (EG + "Relation", EG + "upstreamId"): "egsh:RelationUpstreamId",
}
_PREFIXES = {EG: "eg:", DCTERMS: "dcterms:", "http://www.w3.org/2000/01/rdf-schema#": "rdfs:"}
_MESSAGES = {
    "egsh:EntityVariantNames": "Pages print this entity in more than one form: {value} and {other}.",
    "egsh:OnePagePerRelation": "Two current pages state this relation: {value} and {other}; their scores and "
    "summaries would mix. Remove one of them.",
}


def _short(iri: str) -> str:
    for ns, prefix in _PREFIXES.items():
        if iri.startswith(ns):
            return prefix + iri[len(ns):]
    return iri


def _scope(graphs: Sequence[str] | None, classes: Iterable[str]) -> str:
    """The nodes to check, of these classes: those the given page graphs describe, or every one."""
    values = "VALUES ?class { " + " ".join(f"<{c}>" for c in sorted(set(classes))) + " }"
    if graphs is None:
        return f"{values} ?s a ?class ."
    inner = " ".join(f"<{g}>" for g in graphs)
    return f"{{ SELECT DISTINCT ?s ?class WHERE {{ VALUES ?g {{ {inner} }} {values} GRAPH ?g {{ ?s a ?class }} }} }}"


def check_store(store: "Store", graphs: Sequence[str] | None = None, names: Mapping[str, str] | None = None) -> Report:
    """The store-level rules over the nodes of ``graphs`` (every node when None).

    ``names`` maps page IRIs to file names, for the results' ``file``.
    """
    report = Report()
    if graphs is not None and not graphs:
        return report
    props = " ".join(sorted({f"<{p}>" for _, p in SINGLE_VALUED}))
    # Conflicting values of single-valued properties.  The default graph is the set union of the pages.
    rows = store.query(
        f"SELECT ?s ?class ?p (COUNT(DISTINCT ?o) AS ?n) WHERE {{ {_scope(graphs, (c for c, _ in SINGLE_VALUED))} "
        f"VALUES ?p {{ {props} }} ?s ?p ?o }} GROUP BY ?s ?class ?p HAVING (COUNT(DISTINCT ?o) > 1)"
    )
    for row in rows:
        s, cls, p = row["s"].value, row["class"].value, row["p"].value
        shape = SINGLE_VALUED.get((cls, p))
        if shape is None:
            continue
        said = _who_says(store, s, p)
        detail = "; ".join(f"{_page_name(g, names)} says {v!r}" for v, g in said)
        report.results.append(Result(
            focus=s, severity="Violation", component="sh:MaxCountConstraintComponent",
            message=f"{_short(p)} has {int(row['n'].value)} values where the shapes allow one: {detail}.",
            path=_short(p), shape=shape, file=_page_name(said[0][1], names) if said else None,
        ))
    # Entities printed in two forms (a warning), relations stated by two current pages.
    for rule, query in (
        ("egsh:EntityVariantNames",
         f"SELECT ?s ?value ?other WHERE {{ {_scope(graphs, [EG + 'Entity'])} "
         f"?s <{RDFS_LABEL}> ?value , ?other . FILTER (str(?value) < str(?other)) }}"),
        ("egsh:OnePagePerRelation",
         f"SELECT ?s ?value ?other WHERE {{ {_scope(graphs, [EG + 'Relation'])} "
         f"GRAPH ?value {{ ?c1 <{EG}states> ?s }} GRAPH ?other {{ ?c2 <{EG}states> ?s }} "
         f"FILTER (str(?value) < str(?other)) }}"),
    ):
        for row in store.query(query):
            value, other = row["value"].value, row["other"].value
            names_ = {"value": _page_name(value, names), "other": _page_name(other, names)}
            report.results.append(Result(
                focus=row["s"].value,
                severity="Warning" if rule == "egsh:EntityVariantNames" else "Violation",
                component="sh:SPARQLConstraintComponent",
                message=_MESSAGES[rule].format(**(names_ if rule == "egsh:OnePagePerRelation"
                                                  else {"value": repr(value), "other": repr(other)})),
                value=value, shape="egsh:EntityWarningShape" if rule == "egsh:EntityVariantNames" else "egsh:RelationShape",
                constraint=rule,
            ))
    return report


def _who_says(store: "Store", s: str, p: str) -> list[tuple[str, str]]:
    """(value, page) for each page graph that states ``s p value``."""
    found: dict[str, str] = {}
    for row in store.query(f"SELECT ?o ?g WHERE {{ GRAPH ?g {{ <{s}> <{p}> ?o }} }} ORDER BY ?g"):
        found.setdefault(str(row["o"].value), row["g"].value)
    return sorted(found.items(), key=lambda kv: kv[1])


def _page_name(graph: str, names: Mapping[str, str] | None) -> str:
    return (names or {}).get(graph) or graph
