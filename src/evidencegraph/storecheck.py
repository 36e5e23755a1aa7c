"""Store-level validation: the rules that can only fail where pages meet.

A page graph is checked on its own on the way in (``shapes``); what no single
page can show is checked here, over the store's merged default graph: a
single-valued property (``sh:maxCount 1`` in the shipped shapes) with two
values from two current pages, an entity that pages print in two forms, a
relation stated by two current pages.  Each result is the one the shipped
shapes give on the merged graph (same focus node, path, component, shape and
severity), with the pages that disagree named in its message.

Ingest runs them on what each batch's pages state (Checker: the values a
worker lists, looked up once per distinct node in a run), so their cost
follows the batch, not the store; ``validate --store`` runs them over every
node (check_store, in SPARQL: on remote stores too).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from .shapes import Report, Result

if TYPE_CHECKING:
    from .store import Store

EG = "https://w3id.org/evidencegraph#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
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

    ``names`` maps page IRIs to file names, for the results' ``file``.  An
    ingest of pages uses the cheaper Checker instead.
    """
    if graphs is not None and not graphs:
        return Report()
    return _check_sparql(store, graphs, names)


def _conflict(store: "Store", s: str, p: str, n: int, shape: str, names: Mapping[str, str] | None) -> Result:
    said = _who_says(store, s, p)
    detail = "; ".join(f"{_page_name(g, names)} says {v!r}" for v, g in said)
    return Result(
        focus=s, severity="Violation", component="sh:MaxCountConstraintComponent",
        message=f"{_short(p)} has {n} values where the shapes allow one: {detail}.",
        path=_short(p), shape=shape, file=_page_name(said[0][1], names) if said else None,
    )


def _two_pages(store: "Store", rule: str, s: str, value: str, other: str, names: Mapping[str, str] | None) -> Result:
    if rule == "egsh:EntityVariantNames":
        message = _MESSAGES[rule].format(value=repr(value), other=repr(other))
    else:
        message = _MESSAGES[rule].format(value=_page_name(value, names), other=_page_name(other, names))
    return Result(
        focus=s, severity="Warning" if rule == "egsh:EntityVariantNames" else "Violation",
        component="sh:SPARQLConstraintComponent", message=message, value=value,
        shape="egsh:EntityWarningShape" if rule == "egsh:EntityVariantNames" else "egsh:RelationShape", constraint=rule,
    )


# What one page states that another page may state differently about the same node: the values
# each worker lists for the incremental check (see Checker).  A relation cannot disagree with
# another page: it is stated by its page alone (a page is its two entities, a relation its kind
# and the same two); identity fixes a fact's type, a source's domain, an entity's upstream id.
CHECKED = {
    RDFS_LABEL: "egsh:EntityVariantNames",
    EG + "publisher": "egsh:SourcePublisher",
    EG + "author": "egsh:SourceAuthor",
    EG + "published": "egsh:SourcePublished",
    DCTERMS + "title": "egsh:SourceTitle",  # listed only when not in normal form (identity normalises it)
    EG + "text": "egsh:FactText",  # likewise
}


def values_to_check(triples: Iterable[tuple[str, str, Any]], base: str) -> list[tuple[str, str, str]]:
    """(node, property, value) of a page's triples that another page could contradict."""
    from .identity import normalise_label

    out = []
    entity = base + "entity/"
    for s, p, o in triples:
        if p in CHECKED and hasattr(o, "datatype"):
            if p == RDFS_LABEL and not s.startswith(entity):
                continue
            if p in (DCTERMS + "title", EG + "text") and o.value == normalise_label(o.value):
                continue
            out.append((s, p, o.value))
    return out


class Checker:
    """The store-level rules of an ingest, batch by batch, on what each batch's pages state.

    A value is looked up in the store (after the batch is written) only the first time its
    node and property are seen in this run, or when it differs from what was seen; so a run
    pays about one lookup per distinct entity and source, not per page.  What was seen is kept
    as 64-bit digests (Python's ``hash``, within this process), an int for the pair and one for
    its value, not the IRIs and texts: there is an entry for every fact text of the run, and
    whole strings made it several hundred MB at 100k pages.  Two pairs with the same digest only
    cost a second lookup; a value is skipped only if the pair's and the value's digests both
    match one already found in the store, which for 64-bit digests does not happen in practice.
    """

    def __init__(self, store: "Store"):
        self.store = store
        # (node, property) -> the one value found, or None when the store had several (or none)
        self.seen: dict[int, int | None] = {}
        self.reported: set[tuple[str, str, frozenset[str]]] = set()

    def check(self, items: Iterable[tuple[str, str, str]], names: Mapping[str, str] | None = None) -> Report:
        import pyoxigraph as ox

        report = Report()
        default = ox.DefaultGraph()
        for s, p, value in items:
            key = hash((s, p))
            known = self.seen.get(key)
            if known is not None and known == hash(value):
                continue
            found = frozenset(str(q.object.value) for q in self.store.db.quads_for_pattern(  # type: ignore[union-attr]
                ox.NamedNode(s), ox.NamedNode(p), None, default))
            self.seen[key] = hash(next(iter(found))) if len(found) == 1 else None
            if len(found) < 2 or (s, p, found) in self.reported:
                continue
            self.reported.add((s, p, found))
            if p == RDFS_LABEL:
                labels = sorted(found)
                for i, a in enumerate(labels):
                    for b in labels[i + 1:]:
                        report.results.append(_two_pages(self.store, "egsh:EntityVariantNames", s, a, b, names))
            else:
                report.results.append(_conflict(self.store, s, p, len(found), CHECKED[p], names))
        return report


def _check_sparql(store: "Store", graphs: Sequence[str] | None, names: Mapping[str, str] | None) -> Report:
    report = Report()
    props = " ".join(sorted({f"<{p}>" for _, p in SINGLE_VALUED}))
    # Conflicting values of single-valued properties.  The default graph is the set union of the pages.
    rows = store.query(
        f"SELECT ?s ?class ?p (COUNT(DISTINCT ?o) AS ?n) WHERE {{ {_scope(graphs, (c for c, _ in SINGLE_VALUED))} "
        f"VALUES ?p {{ {props} }} ?s ?p ?o }} GROUP BY ?s ?class ?p HAVING (COUNT(DISTINCT ?o) > 1)"
    )
    for row in rows:
        s, cls, p = row["s"].value, row["class"].value, row["p"].value
        shape = SINGLE_VALUED.get((cls, p))
        if shape is not None:
            report.results.append(_conflict(store, s, p, int(row["n"].value), shape, names))
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
            report.results.append(_two_pages(store, rule, row["s"].value, row["value"].value, row["other"].value, names))
    return report


def _who_says(store: "Store", s: str, p: str) -> list[tuple[str, str]]:
    """(value, page) for each page graph that states ``s p value``."""
    found: dict[str, str] = {}
    for row in store.query(f"SELECT ?o ?g WHERE {{ GRAPH ?g {{ <{s}> <{p}> ?o }} }} ORDER BY ?g"):
        found.setdefault(str(row["o"].value), row["g"].value)
    return sorted(found.items(), key=lambda kv: kv[1])


def _page_name(graph: str, names: Mapping[str, str] | None) -> str:
    return (names or {}).get(graph) or graph
