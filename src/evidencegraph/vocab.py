"""The eg: vocabulary as an rdflib DefinedNamespace.

Checked against ``ontology/evidencegraph.ttl`` by ``tests/test_ontology.py``:
every term defined there is listed here and nothing else, so a typo in a term
name fails loudly (``_fail = True``).
"""

from __future__ import annotations

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef

NAMESPACE = "https://w3id.org/evidencegraph#"
ONTOLOGY = "https://w3id.org/evidencegraph"
DEFAULT_BASE = "https://w3id.org/evidencegraph/id/"


class EG(DefinedNamespace):
    """https://w3id.org/evidencegraph#"""

    _fail = True
    _NS = Namespace(NAMESPACE)

    Card: URIRef
    Citation: URIRef
    CitationResolution: URIRef
    DomainChip: URIRef
    Entity: URIRef
    Fact: URIRef
    FactListing: URIRef
    FactTypes: URIRef
    Page: URIRef
    Relation: URIRef
    Source: URIRef
    SourceListing: URIRef
    SupportItem: URIRef
    SupportResolution: URIRef
    account: URIRef
    author: URIRef
    authorGuessed: URIRef
    upstreamId: URIRef
    scoreText: URIRef
    listedFactCount: URIRef
    countsAgree: URIRef
    scoreFactCount: URIRef
    expectedScore: URIRef
    scoreAgrees: URIRef
    relationCount: URIRef
    supportingFactCount: URIRef
    factCount: URIRef
    sourceCount: URIRef
    figureDomain: URIRef
    figurePublisher: URIRef
    PublisherFigure: URIRef
    figuresPending: URIRef
    storeFigures: URIRef
    secondEntity: URIRef
    firstEntity: URIRef
    byPageOrder: URIRef
    card: URIRef
    checksum: URIRef
    chipCount: URIRef
    citation: URIRef
    citedFact: URIRef
    cites: URIRef
    claim: URIRef
    code: URIRef
    declaredFactCount: URIRef
    declaredRelationCount: URIRef
    domain: URIRef
    domainChip: URIRef
    entityMethod: URIRef
    factListing: URIRef
    factType: URIRef
    fileName: URIRef
    formula: URIRef
    fromSource: URIRef
    hasTitleLine: URIRef
    image: URIRef
    kind: URIRef
    leftoverToken: URIRef
    line: URIRef
    listedSupport: URIRef
    listedText: URIRef
    listsFact: URIRef
    listsSource: URIRef
    marker: URIRef
    measurement: URIRef
    object: URIRef
    perspective: URIRef
    position: URIRef
    procedure: URIRef
    published: URIRef
    publisher: URIRef
    quote: URIRef
    reference: URIRef
    resolution: URIRef
    score: URIRef
    sourceListing: URIRef
    stance: URIRef
    states: URIRef
    strength: URIRef
    subject: URIRef
    summary: URIRef
    summaryPending: URIRef
    supportResolution: URIRef
    supportedBy: URIRef
    text: URIRef
    supportFromPage: URIRef
    supportListed: URIRef
    unresolved: URIRef
