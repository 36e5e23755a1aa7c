"""Page records -> RDF.

Every page becomes one named graph, named by the page's IRI, that holds all
that was read from it: the page's structure and provenance and the
descriptions of the entities, sources, facts and relations it mentions, named by
the identity rules of identity.py (CONTRACT.md, Identity).

What one page says and another may say differently is stated with the page's
structure, not on the shared nodes: a fact's stance (on its ``eg:FactListing``),
the source a fact is listed under, the printed score, the order the page names
its entities.

Triples are built as plain tuples (``str`` for an IRI, :class:`Lit` for a
literal), the cheapest form that stays correct; :func:`to_oxigraph`,
:func:`nquads` and :func:`nquad_lines` turn them into pyoxigraph terms or
N-Quads text.

>>> from evidencegraph.page import parse_page
>>> page = parse_page("A ↔ B\\nRelations (1)\\nrelated 1.00 — strongly supporting 1 fact\\n"
...     "A and B [1].\\nFacts (1)\\nSources\\nT example.org 1 fact\\nclaimX.", "p.txt")
>>> graph, triples = page_triples(page)
>>> graph
'https://w3id.org/evidencegraph/id/page/a--b'
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Callable, Iterable, NamedTuple, Union

from . import __version__
from .identity import (
    UNDIRECTED_KINDS, agent_iri, content_hash, entity_iri, entity_key, fact_iri, fact_type_iri, normalise_label, page_iri,
    product_slug, relation_iri, source_iri, upstream_edge_id, upstream_node_id,
)
from .iris import DCTERMS_TITLE, PROV, RDF_TYPE, RDFS_LABEL, RDFS_SEE_ALSO, SCHEMA_VERSION, SKOS, STRING, XSD
from .page import FACT_TYPES, Page
from .vocab import DEFAULT_BASE, NAMESPACE

if TYPE_CHECKING:
    import pyoxigraph

INTEGER = XSD + "integer"
DECIMAL = XSD + "decimal"
BOOLEAN = XSD + "boolean"


class Lit(NamedTuple):
    """A literal: lexical form and datatype IRI."""

    value: str
    datatype: str = STRING


Term = Union[str, Lit]
Triple = tuple[str, str, Term]

_EG = NAMESPACE


def _eg(name: str) -> str:
    return _EG + name


T_ENTITY, T_SOURCE, T_FACT, T_RELATION, T_PAGE = map(_eg, ("Entity", "Source", "Fact", "Relation", "Page"))
P = {
    name: _eg(name)
    for name in """domain publisher author published text factType fromSource stance subject object kind
    score strength summary supportedBy cites fileName checksum hasTitleLine entityMethod
    declaredRelationCount declaredFactCount position line card states summaryPending supportResolution
    citation marker citedFact resolution leftoverToken listedSupport listedText sourceListing
    listsSource factListing listsFact domainChip chipCount firstEntity secondEntity scoreText upstreamId
    authorGuessed listedFactCount countsAgree scoreFactCount expectedScore scoreAgrees""".split()
}

# the figures the ingest writes for the questions (store format 3; migrate.py adds them to a format-2 store)
FIGURES = frozenset(P[n] for n in ("listedFactCount", "countsAgree", "scoreFactCount", "expectedScore", "scoreAgrees"))


def canonical_decimal(text: str) -> str:
    """The canonical lexical form of an xsd:decimal, as the store keeps it ("3.00" -> "3", "-0.00" -> "0").

    >>> [canonical_decimal(t) for t in ("3.17", "3.00", "-0.00", "10", "+2.10")]
    ['3.17', '3', '0', '10', '2.1']
    """
    d = Decimal(text)
    return "0" if d == 0 else format(d.normalize(), "f")


def page_triples(page: Page, base: str = DEFAULT_BASE, wiki: str | None = None) -> tuple[str, list[Triple]]:
    """The page's graph name and its triples; ``wiki``, the product's wiki address, adds
    ``rdfs:seeAlso`` links to its node and edge pages."""
    g = page_iri(page.subject, page.object, base)
    out: list[Triple] = []
    add = out.append

    # provenance
    file_node = f"{base}file/{page.checksum}"
    activity = f"{base}activity/{content_hash(page.checksum, __version__)}"
    agent = agent_iri(base)
    subject, object = entity_iri(page.subject, base), entity_iri(page.object, base)
    add((g, RDF_TYPE, T_PAGE))
    add((g, RDFS_LABEL, Lit(f"{normalise_label(page.subject)} ↔ {normalise_label(page.object)}")))
    add((g, P["fileName"], Lit(page.name)))
    add((g, P["checksum"], Lit(page.checksum)))
    add((g, P["hasTitleLine"], Lit("true" if page.title else "false", BOOLEAN)))
    add((g, P["entityMethod"], Lit(page.entity_method)))
    add((g, P["firstEntity"], subject))
    add((g, P["secondEntity"], object))
    add((g, P["declaredRelationCount"], Lit(str(page.declared_relations), INTEGER)))
    if page.declared_facts is not None:
        add((g, P["declaredFactCount"], Lit(str(page.declared_facts), INTEGER)))
    add((g, PROV + "wasDerivedFrom", file_node))
    add((g, PROV + "wasGeneratedBy", activity))
    add((file_node, RDF_TYPE, PROV + "Entity"))
    add((activity, RDF_TYPE, PROV + "Activity"))
    add((activity, PROV + "used", file_node))
    add((activity, PROV + "wasAssociatedWith", agent))
    add((agent, RDF_TYPE, PROV + "SoftwareAgent"))
    add((agent, RDFS_LABEL, Lit("evidencegraph")))
    add((agent, SCHEMA_VERSION, Lit(__version__)))

    # entities
    for iri, label in ((subject, page.subject), (object, page.object)):
        add((iri, RDF_TYPE, T_ENTITY))
        add((iri, RDFS_LABEL, Lit(normalise_label(label))))
        node_id = upstream_node_id(label)
        if node_id:
            add((iri, P["upstreamId"], Lit(node_id)))
        if wiki and product_slug(normalise_label(label)):
            add((iri, RDFS_SEE_ALSO, f"{wiki.rstrip('/')}/nodes/{product_slug(normalise_label(label))}"))

    # sources and facts
    source_iris: list[str] = []
    for s in page.sources:
        iri = source_iri(s.domain, s.title, base)
        source_iris.append(iri)
        listing = f"{g}#source-{s.position}"
        add((iri, RDF_TYPE, T_SOURCE))
        add((iri, DCTERMS_TITLE, Lit(s.title)))
        if s.domain:
            add((iri, P["domain"], Lit(s.domain)))
        if s.publisher:
            add((iri, P["publisher"], Lit(s.publisher)))
        if s.author:
            add((iri, P["author"], Lit(s.author)))
        if s.published:
            add((iri, P["published"], Lit(s.published)))
        add((g, P["sourceListing"], listing))
        add((listing, RDF_TYPE, _eg("SourceListing")))
        add((listing, P["listsSource"], iri))
        add((listing, P["position"], Lit(str(s.position), INTEGER)))
        add((listing, P["line"], Lit(str(s.line), INTEGER)))
        add((listing, P["declaredFactCount"], Lit(str(s.declared_facts), INTEGER)))
        if s.author_guessed:
            add((listing, P["authorGuessed"], Lit("true", BOOLEAN)))
    # figures (store format 3): what a question would otherwise count over the whole store
    listed = [0] * len(page.sources)
    for f in page.facts:
        listed[f.group] += 1
    add((g, P["listedFactCount"], Lit(str(len(page.facts)), INTEGER)))
    if page.declared_facts is not None:
        add((g, P["countsAgree"], _bool(page.declared_facts == len(page.facts))))
    for s, n in zip(page.sources, listed):
        add((f"{g}#source-{s.position}", P["listedFactCount"], Lit(str(n), INTEGER)))
        add((f"{g}#source-{s.position}", P["countsAgree"], _bool(s.declared_facts == n)))
    fact_iris: list[str] = []
    minted: set[str] = set()
    for f in page.facts:
        src = source_iris[f.group]
        iri = fact_iri(f.type, f.text, base)
        fact_iris.append(iri)
        ftype = fact_type_iri(f.type, base)
        add((iri, RDF_TYPE, T_FACT))
        add((iri, P["text"], Lit(f.text)))
        add((iri, P["factType"], ftype))
        add((iri, P["fromSource"], src))
        if f.type not in FACT_TYPES and ftype not in minted:
            minted.add(ftype)
            add((ftype, RDF_TYPE, SKOS + "Concept"))
            add((ftype, SKOS + "inScheme", _eg("FactTypes")))
            add((ftype, SKOS + "prefLabel", Lit(f.type)))
        listing = f"{g}#fact-{f.position}"
        add((f"{g}#source-{f.group + 1}", P["factListing"], listing))
        add((listing, RDF_TYPE, _eg("FactListing")))
        add((listing, P["listsFact"], iri))
        add((listing, P["position"], Lit(str(f.position), INTEGER)))
        add((listing, P["line"], Lit(str(f.line), INTEGER)))
        if f.stance:
            add((listing, P["stance"], Lit(f.stance)))

    # chips
    for ch in page.chips:
        chip = f"{g}#chip-{ch.position}"
        add((g, P["domainChip"], chip))
        add((chip, RDF_TYPE, _eg("DomainChip")))
        add((chip, P["domain"], Lit(ch.domain)))
        add((chip, P["chipCount"], Lit(str(ch.count), INTEGER)))
        add((chip, P["position"], Lit(str(ch.position), INTEGER)))
        add((chip, P["line"], Lit(str(ch.line), INTEGER)))

    # cards and relations
    by_text: dict[str, str] = {}
    for f, iri in zip(page.facts, fact_iris):
        by_text.setdefault(f.text, iri)
    support: dict[str, set[str]] = {}  # relation -> the facts this page says back it
    declared: dict[str, list[int]] = {}  # relation -> its cards' printed fact counts
    for c in page.cards:
        card = f"{g}#card-{c.position}"
        rel = relation_iri(c.kind, page.subject, page.object, base)
        add((g, P["card"], card))
        add((card, RDF_TYPE, _eg("Card")))
        add((card, P["position"], Lit(str(c.position), INTEGER)))
        add((card, P["line"], Lit(str(c.line), INTEGER)))
        add((card, P["states"], rel))
        backing = support.setdefault(rel, set())
        if c.declared_facts is not None:
            declared.setdefault(rel, []).append(c.declared_facts)
        add((card, P["scoreText"], Lit(c.score_text)))
        add((card, P["summaryPending"], Lit("true" if c.pending else "false", BOOLEAN)))
        if c.declared_facts is not None:
            add((card, P["declaredFactCount"], Lit(str(c.declared_facts), INTEGER)))
        a, b = subject, object
        if c.kind in UNDIRECTED_KINDS and entity_key(page.object) < entity_key(page.subject):
            a, b = b, a
        add((rel, RDF_TYPE, T_RELATION))
        add((rel, P["subject"], a))
        add((rel, P["object"], b))
        add((rel, P["kind"], Lit(c.kind)))
        add((rel, P["score"], Lit(canonical_decimal(c.score_text), DECIMAL)))
        add((rel, P["strength"], Lit(c.strength)))
        edge_id = upstream_edge_id(c.kind, page.subject, page.object)
        if edge_id:
            add((rel, P["upstreamId"], Lit(edge_id)))
            if wiki:
                ids = (upstream_node_id(page.subject), upstream_node_id(page.object))
                add((rel, RDFS_SEE_ALSO, f"{wiki.rstrip('/')}/edges?source={ids[0]}&target={ids[1]}"))
        if c.summary is not None:
            add((rel, P["summary"], Lit(c.summary)))
        if c.pending:
            add((card, P["supportResolution"], _eg("supportListed")))
            for k, (text, line) in enumerate(zip(c.listed, c.listed_lines), 1):
                item = f"{card}-listed-{k}"
                add((card, P["listedSupport"], item))
                add((item, RDF_TYPE, _eg("SupportItem")))
                add((item, P["position"], Lit(str(k), INTEGER)))
                add((item, P["line"], Lit(str(line), INTEGER)))
                add((item, P["listedText"], Lit(text)))
                fact = by_text.get(text)
                if fact:
                    add((item, P["listsFact"], fact))
                    add((rel, P["supportedBy"], fact))
                    backing.add(fact)
        else:
            # The export drops which facts back which card; the page's facts
            # are the best available answer.  A header without a count shows
            # a relation with no facts at all.
            add((card, P["supportResolution"], _eg("supportFromPage")))
            for fact in fact_iris if c.declared_facts is not None else ():
                add((rel, P["supportedBy"], fact))
                backing.add(fact)
        for cit in c.citations:
            node = f"{card}-citation-{cit.position}"
            add((card, P["citation"], node))
            add((node, RDF_TYPE, _eg("Citation")))
            add((node, P["marker"], Lit(str(cit.marker), INTEGER)))
            add((node, P["position"], Lit(str(cit.position), INTEGER)))
            if 1 <= cit.marker <= len(fact_iris):
                fact = fact_iris[cit.marker - 1]
                add((node, P["citedFact"], fact))
                add((node, P["resolution"], _eg("byPageOrder")))
                add((rel, P["cites"], fact))
            else:
                add((node, P["resolution"], _eg("unresolved")))
        for token in c.tokens:
            add((card, P["leftoverToken"], Lit(token)))
    for c in page.cards:
        rel = relation_iri(c.kind, page.subject, page.object, base)
        add_score_figures(add, f"{g}#card-{c.position}", c.score_text, support[rel], declared.get(rel))
    return g, out


def _bool(value: bool) -> Lit:
    return Lit("true" if value else "false", BOOLEAN)


def expected_score(facts: int) -> str:
    """The score the product gives a relation of ``facts`` supporting facts: log2(facts + 1), two decimals.

    >>> [expected_score(n) for n in (0, 1, 2, 8)]
    ['0.00', '1.00', '1.58', '3.17']
    """
    return f"{math.log2(facts + 1):.2f}"


def add_score_figures(add: "Callable[[Triple], None]", card: str, score_text: str, backing: set[str],
                      declared: list[int] | None) -> None:
    """A card's score figures: the fact count the product's score comes from (the highest count the
    page's cards of the relation print, else the facts the page says back it), the score that count
    gives, and whether the printed score agrees (to 0.005; negative scores are not checked), as the
    shape egsh:ScoreMatchesFacts checks it."""
    facts = max(declared) if declared else len(backing)
    expected = expected_score(facts)
    add((card, P["scoreFactCount"], Lit(str(facts), INTEGER)))
    add((card, P["expectedScore"], Lit(canonical_decimal(expected), DECIMAL)))
    score = Decimal(score_text)
    if score >= 0:
        add((card, P["scoreAgrees"], _bool(abs(score - Decimal(expected)) <= Decimal("0.005"))))


# --- converters ---------------------------------------------------------------


def _nt_iri(iri: str) -> str:
    return f"<{iri}>"


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
_NEEDS_ESCAPE = re.compile(r'[\\"\n\r]')


def _nt_term(term: Term) -> str:
    if isinstance(term, Lit):
        value = _NEEDS_ESCAPE.sub(lambda m: _ESCAPES[m.group()], term.value)
        if term.datatype == STRING:
            return f'"{value}"'
        return f'"{value}"^^<{term.datatype}>'
    return f"<{term}>"


def nquads(graph: str, triples: Iterable[Triple]) -> list[str]:
    """N-Quads lines (with newline), one per distinct triple, sorted."""
    g = f"<{graph}>"
    return sorted({f"<{s}> <{p}> {_nt_term(o)} {g} .\n" for s, p, o in triples})


def nquad_lines(graph: str, triples: Iterable[Triple]) -> tuple[list[str], list[str]]:
    """N-Quads lines of the page graph and N-Triples lines of the same triples (for the union)."""
    g = f" <{graph}> .\n"
    quads, plain = [], []
    seen: set[str] = set()
    for s, p, o in triples:
        head = f"<{s}> <{p}> {_nt_term(o)}"
        if head in seen:
            continue
        seen.add(head)
        quads.append(head + g)
        plain.append(head + " .\n")
    return quads, plain


def ntriple_lines(triples: Iterable[Triple]) -> list[str]:
    """The N-Triples lines of :func:`nquad_lines` alone (what an ingest worker sends)."""
    plain: list[str] = []
    seen: set[str] = set()
    for s, p, o in triples:
        line = f"<{s}> <{p}> {_nt_term(o)} .\n"
        if line not in seen:
            seen.add(line)
            plain.append(line)
    return plain


def quads_of_triples(graph: str, triples: bytes) -> bytes:
    """The N-Quads of a page graph from its N-Triples as :func:`nquad_lines` writes them (UTF-8): each line's
    " .\\n" (only at line ends: a literal's newlines are escaped, an IRI has no space) becomes " <graph> .\\n".
    The ingest workers send the triples only, and the store's writer makes the quads (half the bytes through
    the pipe)."""
    return triples.replace(b" .\n", f" <{graph}> .\n".encode("utf-8"))


def to_oxigraph(graph: str, triples: Iterable[Triple]) -> "list[pyoxigraph.Quad]":
    """pyoxigraph quads of one page graph."""
    import pyoxigraph as ox

    g = ox.NamedNode(graph)
    nodes: dict[str, ox.NamedNode] = {}

    def node(iri: str) -> ox.NamedNode:
        n = nodes.get(iri)
        if n is None:
            n = nodes[iri] = ox.NamedNode(iri)
        return n

    quads = []
    for s, p, o in triples:
        obj = ox.Literal(o.value, datatype=node(o.datatype)) if isinstance(o, Lit) else node(o)
        quads.append(ox.Quad(node(s), node(p), obj, g))
    return quads
