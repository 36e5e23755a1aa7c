"""The ontology file, the vocabulary module and the JSON-LD context agree."""

from __future__ import annotations

import re

from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from evidencegraph.resources import context, context_path, ontology_path
from evidencegraph.vocab import EG, NAMESPACE

CONTRACT_TERMS = """Entity Source Fact Relation domain publisher author published text factType fromSource stance
subject object kind score strength summary supportedBy cites claim perspective FactTypes""".split()


def ontology() -> Graph:
    return Graph().parse(ontology_path(), format="turtle")


def eg_terms(g: Graph) -> set[str]:
    return {str(s)[len(NAMESPACE):] for s in g.subjects() if str(s).startswith(NAMESPACE)}


def test_vocab_module_matches_ontology():
    declared = {name for name in EG.__annotations__}
    assert declared == eg_terms(ontology())


def test_contract_terms_defined():
    assert set(CONTRACT_TERMS) <= eg_terms(ontology())


def test_every_term_has_label_and_comment():
    g = ontology()
    for name in eg_terms(g):
        term = URIRef(NAMESPACE + name)
        assert g.value(term, RDFS.label) is not None, name
        assert g.value(term, RDFS.comment) is not None, name


def test_alignments():
    g = ontology()
    schema = "https://schema.org/"
    prov = "http://www.w3.org/ns/prov#"
    assert (EG.Fact, RDFS.subClassOf, URIRef(schema + "Claim")) in g
    assert (EG.Source, RDFS.subClassOf, URIRef(schema + "CreativeWork")) in g
    assert (EG.fromSource, RDFS.subPropertyOf, URIRef(prov + "wasDerivedFrom")) in g
    assert (EG.Page, RDFS.subClassOf, URIRef(prov + "Entity")) in g


def test_fact_types_are_a_skos_scheme():
    g = ontology()
    concepts = set(g.subjects(SKOS.inScheme, EG.FactTypes))
    names = {str(c)[len(NAMESPACE):] for c in concepts}
    assert names == {"claim", "account", "measurement", "formula", "quote", "procedure", "reference", "code",
                     "image", "perspective"}
    for c in concepts:
        assert (c, RDF.type, SKOS.Concept) in g and g.value(c, SKOS.prefLabel) is not None


def test_properties_are_typed():
    g = ontology()
    for name in eg_terms(g):
        if name[0].islower() and (URIRef(NAMESPACE + name), SKOS.inScheme, None) not in g:
            kinds = set(g.objects(URIRef(NAMESPACE + name), RDF.type))
            assert kinds & {OWL.ObjectProperty, OWL.DatatypeProperty} or kinds - {OWL.ObjectProperty}, name


def test_context_terms_point_into_the_vocabulary():
    ctx = context()
    known = eg_terms(ontology())
    for key, value in ctx.items():
        iri = value if isinstance(value, str) else value["@id"]
        if iri.startswith("eg:"):
            assert iri[3:] in known, key
    assert re.search(r'"text": "eg:text"', context_path().read_text())
