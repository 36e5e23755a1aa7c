"""Every shape and every SPARQL rule: a conforming fixture, a violating one, the exact result."""

from __future__ import annotations

import pytest
from rdflib import Graph

from evidencegraph.shapes import validate_graph

from conftest import HERE

SHAPES = HERE / "shapes"
EX = "http://example.org/"
PREFIXES = """PREFIX eg: <https://w3id.org/evidencegraph#> PREFIX ex: <http://example.org/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> PREFIX prov: <http://www.w3.org/ns/prov#>
"""

# (name, SPARQL update on base.ttl, expected {(focus, component or SPARQL constraint, severity)})
V, W = "Violation", "Warning"
CASES = [
    # Entity
    ("entity label missing", "DELETE WHERE { ex:be rdfs:label ?l }", {("be", "sh:MinCountConstraintComponent", V)}),
    ("entity label twice", 'INSERT DATA { ex:be rdfs:label "belgium" }', {("be", "egsh:EntityVariantNames", W)}),
    ("entity two upstream ids", 'INSERT DATA { ex:be eg:upstreamId "011611dc-d953-5ace-bd32-07d8e6d58a31" , '
     '"886ff95a-3edf-55a8-b181-2482b6e35d89" }', {("be", "sh:MaxCountConstraintComponent", V)}),
    ("entity upstream id not a uuid", 'INSERT DATA { ex:be eg:upstreamId "belgium" }', {("be", "sh:PatternConstraintComponent", V)}),
    ("entity label empty", 'DELETE WHERE { ex:be rdfs:label ?l }; INSERT DATA { ex:be rdfs:label " " }', {("be", "sh:PatternConstraintComponent", V)}),
    ("entity label typed", 'DELETE WHERE { ex:be rdfs:label ?l }; INSERT DATA { ex:be rdfs:label "B"@en }', {("be", "sh:DatatypeConstraintComponent", V)}),
    ("entity blank node", 'INSERT DATA { _:x a eg:Entity ; rdfs:label "X" }', {("_", "sh:NodeKindConstraintComponent", V)}),
    # Source
    ("source title missing", "DELETE WHERE { ex:src dcterms:title ?t }", {("src", "sh:MinCountConstraintComponent", V)}),
    ("source domain upper case", 'DELETE WHERE { ex:src eg:domain ?d }; INSERT DATA { ex:src eg:domain "ECFR.eu" }', {("src", "sh:PatternConstraintComponent", V)}),
    ("source domain with path", 'DELETE WHERE { ex:src eg:domain ?d }; INSERT DATA { ex:src eg:domain "ecfr.eu/x" }', {("src", "sh:PatternConstraintComponent", V)}),
    ("source domain twice", 'INSERT DATA { ex:src eg:domain "other.org" }', {("src", "sh:MaxCountConstraintComponent", V)}),
    ("source without domain", "DELETE WHERE { ex:src eg:domain ?d }", {("src", "sh:MinCountConstraintComponent", W)}),
    ("source publisher twice", 'INSERT DATA { ex:src eg:publisher "Other" }', {("src", "sh:MaxCountConstraintComponent", V)}),
    ("source author empty", 'DELETE WHERE { ex:src eg:author ?a }; INSERT DATA { ex:src eg:author "" }', {("src", "sh:PatternConstraintComponent", V)}),
    ("source published as date", 'DELETE WHERE { ex:src eg:published ?p }; INSERT DATA { ex:src eg:published "2024-03-01"^^xsd:date }', {("src", "sh:DatatypeConstraintComponent", V)}),
    ("source blank node", 'INSERT DATA { _:s a eg:Source ; dcterms:title "T" ; eg:domain "a.org" }', {("_", "sh:NodeKindConstraintComponent", V)}),
    # Fact
    ("fact text missing", "DELETE WHERE { ex:f2 eg:text ?t }", {("f2", "sh:MinCountConstraintComponent", V)}),
    ("fact type missing", "DELETE WHERE { ex:f2 eg:factType ?t }", {("f2", "sh:MinCountConstraintComponent", V)}),
    ("fact type unknown", "DELETE WHERE { ex:f2 eg:factType ?t }; INSERT DATA { ex:f2 eg:factType ex:rumor }", {("f2", "sh:NodeConstraintComponent", V)}),
    ("fact type literal", 'DELETE WHERE { ex:f2 eg:factType ?t }; INSERT DATA { ex:f2 eg:factType "claim" }', {("f2", "sh:NodeKindConstraintComponent", V), ("f2", "sh:NodeConstraintComponent", V)}),
    ("fact type declared new", 'DELETE WHERE { ex:f2 eg:factType ?t }; INSERT DATA { ex:f2 eg:factType ex:rumor . ex:rumor a <http://www.w3.org/2004/02/skos/core#Concept> ; <http://www.w3.org/2004/02/skos/core#inScheme> eg:FactTypes }', set()),
    ("fact source literal", 'DELETE WHERE { ex:f2 eg:fromSource ?s }; INSERT DATA { ex:f2 eg:fromSource "ecfr.eu" }', {("f2", "sh:NodeKindConstraintComponent", V), ("f2", "sh:ClassConstraintComponent", V)}),
    ("fact source not a source", "DELETE WHERE { ex:f2 eg:fromSource ?s }; INSERT DATA { ex:f2 eg:fromSource ex:be }", {("f2", "sh:ClassConstraintComponent", V)}),
    ("fact two sources", "INSERT DATA { ex:f2 eg:fromSource ex:src2 . ex:src2 a eg:Source ; dcterms:title \"T\" ; eg:domain \"a.org\" }", set()),
    ("fact source literal", 'INSERT DATA { ex:f2 eg:fromSource "ecfr.eu" }', {("f2", "sh:ClassConstraintComponent", V), ("f2", "sh:NodeKindConstraintComponent", V)}),
    ("listing stance unknown", 'INSERT DATA { ex:fl2 eg:stance "maybe" }', {("fl2", "sh:InConstraintComponent", V)}),
    ("listing two stances", 'INSERT DATA { ex:fl2 eg:stance "supports" , "challenges" }', {("fl2", "sh:MaxCountConstraintComponent", V)}),
    # Relation
    ("relation subject missing", "DELETE WHERE { ex:rel eg:subject ?s }", {("rel", "sh:MinCountConstraintComponent", V)}),
    ("relation object missing", "DELETE WHERE { ex:rel eg:object ?s }", {("rel", "sh:MinCountConstraintComponent", V)}),
    ("relation object not an entity", "DELETE WHERE { ex:rel eg:object ?s }; INSERT DATA { ex:rel eg:object ex:src }", {("rel", "sh:ClassConstraintComponent", V)}),
    ("relation kind two words", 'DELETE WHERE { ex:rel eg:kind ?k }; INSERT DATA { ex:rel eg:kind "related to" }', {("rel", "sh:PatternConstraintComponent", V)}),
    ("relation score not decimal", 'DELETE WHERE { ex:rel eg:score ?s }; INSERT DATA { ex:rel eg:score "high" }', {("rel", "sh:DatatypeConstraintComponent", V)}),
    ("relation score missing", "DELETE WHERE { ex:rel eg:score ?s }", {("rel", "sh:MinCountConstraintComponent", V)}),
    ("relation strength unknown", 'DELETE WHERE { ex:rel eg:strength ?s }; INSERT DATA { ex:rel eg:strength "strong" }', {("rel", "sh:InConstraintComponent", V), ("rel", "egsh:StrengthMatchesScore", V)}),
    ("relation strength mismatch", 'DELETE WHERE { ex:rel eg:strength ?s }; INSERT DATA { ex:rel eg:strength "supporting" }', {("rel", "egsh:StrengthMatchesScore", V)}),
    ("relation summary twice", 'INSERT DATA { ex:rel eg:summary "Another [1]." }', {("rel", "sh:MaxCountConstraintComponent", V)}),
    ("relation on two pages", "INSERT DATA { ex:page2 eg:card ex:card3 . ex:card3 a eg:Card ; eg:position 2 ; eg:states ex:rel ; "
     'eg:summaryPending false ; eg:supportResolution eg:supportFromPage }',
     {("rel", "egsh:OnePagePerRelation", V), ("page2", "egsh:RelationsHeadingCount", V)}),
    ("relation without facts", "DELETE WHERE { ex:rel2 eg:supportedBy ?f }", {("rel2", "sh:MinCountConstraintComponent", W)}),
    ("relation supported by a source", "INSERT DATA { ex:rel2 eg:supportedBy ex:src }", {("rel2", "sh:ClassConstraintComponent", V)}),
    ("relation cites an entity", "INSERT DATA { ex:rel eg:cites ex:be }", {("rel", "sh:ClassConstraintComponent", V)}),
    ("relation subject is object", "DELETE WHERE { ex:rel eg:object ?o }; INSERT DATA { ex:rel eg:object ex:be }", {("rel", "egsh:DistinctEntities", V)}),
    ("relation score drift", "DELETE WHERE { ex:rel eg:score ?s }; INSERT DATA { ex:rel eg:score 3.17 }", {("rel", "egsh:ScoreMatchesFacts", W)}),
    ("relation leftover token", 'DELETE WHERE { ex:rel eg:summary ?s }; INSERT DATA { ex:rel eg:summary "Belgium {fact:4, fact:5} [1]." }', {("rel", "egsh:LeftoverTokens", W)}),
    # Page
    ("page file name missing", "DELETE WHERE { ex:page eg:fileName ?n }", {("page", "sh:MinCountConstraintComponent", V)}),
    ("page checksum not sha256", 'DELETE WHERE { ex:page eg:checksum ?c }; INSERT DATA { ex:page eg:checksum "abc" }', {("page", "sh:PatternConstraintComponent", V)}),
    ("page title flag not boolean", 'DELETE WHERE { ex:page eg:hasTitleLine ?c }; INSERT DATA { ex:page eg:hasTitleLine "no" }', {("page", "sh:DatatypeConstraintComponent", V)}),
    ("page entity method unknown", 'DELETE WHERE { ex:page eg:entityMethod ?c }; INSERT DATA { ex:page eg:entityMethod "guess" }', {("page", "sh:InConstraintComponent", V)}),
    ("page relation count missing", "DELETE WHERE { ex:page eg:declaredRelationCount ?c }", {("page", "sh:MinCountConstraintComponent", V)}),
    ("page fact count negative", "DELETE WHERE { ex:page eg:declaredFactCount ?c }; INSERT DATA { ex:page eg:declaredFactCount -1 }", {("page", "sh:MinInclusiveConstraintComponent", V), ("page", "egsh:FactsHeadingCount", V)}),
    ("page card not a card", "INSERT DATA { ex:page eg:card ex:be }", {("page", "sh:ClassConstraintComponent", V), ("page", "egsh:RelationsHeadingCount", V)}),
    ("page source listing wrong", "INSERT DATA { ex:page eg:sourceListing ex:src }", {("page", "sh:ClassConstraintComponent", V)}),
    ("page chip wrong", "INSERT DATA { ex:page eg:domainChip ex:src }", {("page", "sh:ClassConstraintComponent", V)}),
    ("page two files", "INSERT DATA { ex:page prov:wasDerivedFrom ex:file2 }", {("page", "sh:MaxCountConstraintComponent", V)}),
    ("page activity literal", 'DELETE WHERE { ex:page prov:wasGeneratedBy ?a }; INSERT DATA { ex:page prov:wasGeneratedBy "ingest" }', {("page", "sh:NodeKindConstraintComponent", V)}),
    ("facts heading count", "DELETE WHERE { ex:page eg:declaredFactCount ?c }; INSERT DATA { ex:page eg:declaredFactCount 8 }", {("page", "egsh:FactsHeadingCount", V)}),
    ("relations heading count", "DELETE WHERE { ex:page eg:declaredRelationCount ?c }; INSERT DATA { ex:page eg:declaredRelationCount 2 }", {("page", "egsh:RelationsHeadingCount", V)}),
    # Card
    ("card position zero", "DELETE WHERE { ex:card1 eg:position ?p }; INSERT DATA { ex:card1 eg:position 0 }", {("card1", "sh:MinInclusiveConstraintComponent", V)}),
    ("card line not integer", 'DELETE WHERE { ex:card1 eg:line ?p }; INSERT DATA { ex:card1 eg:line "3" }', {("card1", "sh:DatatypeConstraintComponent", V), ("card1", "sh:MinInclusiveConstraintComponent", V)}),
    ("card states nothing", "DELETE WHERE { ex:card1 eg:states ?r }", {("card1", "sh:MinCountConstraintComponent", V)}),
    ("card pending flag missing", "DELETE WHERE { ex:card1 eg:summaryPending ?r }", {("card1", "sh:MinCountConstraintComponent", V)}),
    ("card resolution unknown", "DELETE WHERE { ex:card1 eg:supportResolution ?r }; INSERT DATA { ex:card1 eg:supportResolution eg:byPageOrder }", {("card1", "sh:InConstraintComponent", V)}),
    ("card citation wrong", "INSERT DATA { ex:card1 eg:citation ex:f1 }", {("card1", "sh:ClassConstraintComponent", V)}),
    ("card token typed", "INSERT DATA { ex:card1 eg:leftoverToken 4 }", {("card1", "sh:DatatypeConstraintComponent", V)}),
    ("card listed wrong", "INSERT DATA { ex:card2 eg:listedSupport ex:f1 }", {("card2", "sh:ClassConstraintComponent", V), ("card2", "egsh:CardListedCount", V)}),
    ("card count vs page", "DELETE WHERE { ex:card1 eg:declaredFactCount ?c }; INSERT DATA { ex:card1 eg:declaredFactCount 2 }", {("card1", "egsh:CardPageCount", V), ("rel", "egsh:ScoreMatchesFacts", W)}),
    ("card count vs listed", "DELETE WHERE { ex:card2 eg:declaredFactCount ?c }; INSERT DATA { ex:card2 eg:declaredFactCount 2 }", {("card2", "egsh:CardListedCount", V)}),
    # Citation
    ("citation marker zero", "DELETE WHERE { ex:cit1 eg:marker ?m }; INSERT DATA { ex:cit1 eg:marker 0 }", {("cit1", "sh:MinInclusiveConstraintComponent", V)}),
    ("citation position missing", "DELETE WHERE { ex:cit1 eg:position ?m }", {("cit1", "sh:MinCountConstraintComponent", V)}),
    ("citation resolution unknown", "DELETE WHERE { ex:cit1 eg:resolution ?m }; INSERT DATA { ex:cit1 eg:resolution eg:supportListed }", {("cit1", "sh:InConstraintComponent", V)}),
    ("citation two facts", "INSERT DATA { ex:cit1 eg:citedFact ex:f2 }", {("cit1", "sh:MaxCountConstraintComponent", V)}),
    ("citation beyond facts", "DELETE WHERE { ex:cit1 eg:marker ?m }; INSERT DATA { ex:cit1 eg:marker 9 }", {("cit1", "egsh:CitationResolves", V)}),
    # Listed supporting facts
    ("item position missing", "DELETE WHERE { ex:item1 eg:position ?m }", {("item1", "sh:MinCountConstraintComponent", V)}),
    ("item text missing", "DELETE WHERE { ex:item1 eg:listedText ?m }", {("item1", "sh:MinCountConstraintComponent", V)}),
    ("item lists a source", "DELETE WHERE { ex:item1 eg:listsFact ?m }; INSERT DATA { ex:item1 eg:listsFact ex:src }", {("item1", "sh:ClassConstraintComponent", V)}),
    ("item not found", "DELETE WHERE { ex:item1 eg:listsFact ?m }", {("item1", "sh:MinCountConstraintComponent", V)}),
    # Source and fact listings, chips
    ("listing source missing", "DELETE WHERE { ex:sl1 eg:listsSource ?m }", {("sl1", "sh:MinCountConstraintComponent", V)}),
    ("listing count missing", "DELETE WHERE { ex:sl1 eg:declaredFactCount ?m }", {("sl1", "sh:MinCountConstraintComponent", V)}),
    ("listing facts wrong", "INSERT DATA { ex:sl1 eg:factListing ex:f1 }", {("sl1", "sh:ClassConstraintComponent", V), ("sl1", "egsh:SourceListingCount", V),
                                                                                 ("page", "egsh:FactsHeadingCount", V), ("card1", "egsh:CardPageCount", V)}),
    ("listing count mismatch", "DELETE WHERE { ex:sl1 eg:declaredFactCount ?m }; INSERT DATA { ex:sl1 eg:declaredFactCount 5 }", {("sl1", "egsh:SourceListingCount", V)}),
    ("fact listing fact missing", "DELETE WHERE { ex:fl2 eg:listsFact ?m }", {("fl2", "sh:MinCountConstraintComponent", V)}),
    ("fact listing position missing", "DELETE WHERE { ex:fl2 eg:position ?m }", {("fl2", "sh:MinCountConstraintComponent", V)}),
    ("chip domain upper case", 'DELETE WHERE { ex:chip1 eg:domain ?m }; INSERT DATA { ex:chip1 eg:domain "ECFR.EU" }', {("chip1", "sh:PatternConstraintComponent", V)}),
    ("chip domain missing", "DELETE WHERE { ex:chip1 eg:domain ?m }", {("chip1", "sh:MinCountConstraintComponent", V)}),
    ("chip count missing", "DELETE WHERE { ex:chip1 eg:chipCount ?m }", {("chip1", "sh:MinCountConstraintComponent", V)}),
]


def base() -> Graph:
    return Graph().parse(SHAPES / "base.ttl", format="turtle")


ENGINES = ["fast", "pyshacl"]


def outcome(g: Graph, engine: str = "fast") -> set[tuple[str, str, str]]:
    found = set()
    for r in validate_graph(g, engine).results:
        focus = r.focus[len(EX):] if r.focus.startswith(EX) else "_"
        found.add((focus, r.constraint or r.component, r.severity))
    return found


@pytest.mark.parametrize("engine", ENGINES)
def test_base_fixture_conforms(engine):
    assert outcome(base(), engine) == set()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name, update, expected", CASES, ids=[c[0] for c in CASES])
def test_shape(name, update, expected, engine):
    """Both engines: evidencegraph's fast one and pyshacl, the reference."""
    g = base()
    g.update(PREFIXES + update)
    assert outcome(g, engine) == expected


def test_every_shape_and_rule_is_exercised():
    shapes = Graph().parse(HERE.parent / "shapes" / "evidencegraph.ttl")
    sh = "http://www.w3.org/ns/shacl#"
    rules = {str(s).rsplit("#", 1)[1] for s in shapes.subjects(predicate=None, object=None)
             if (s, None, None) in shapes and str(s).startswith("https://w3id.org/evidencegraph/shapes#")
             and any(str(o) == sh + "SPARQLConstraint" for o in shapes.objects(s))}
    tested = {c for _, _, exp in CASES for _, c, _ in exp if c.startswith("egsh:")}
    assert {f"egsh:{r}" for r in rules} == tested
