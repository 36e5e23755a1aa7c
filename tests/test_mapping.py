"""Pages -> RDF: expected graphs, the sample's must-haves, stable IRIs, determinism, round trip."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from evidencegraph.identity import entity_iri
from evidencegraph.mapping import nquads, page_triples
from evidencegraph.pipeline import PageFile, read_page
from evidencegraph.formats import rdf_format
from evidencegraph.loaders import read_rdf
from evidencegraph.render import normalise_page_text, render_graph

from conftest import PAGES, assert_isomorphic, graphs_from_nquads, text_diff

PAGE_FILES = sorted(PAGES.glob("*.txt"))
EG = "https://w3id.org/evidencegraph#"


def page_nquads(path: Path) -> str:
    page = read_page(PageFile(path, path.name))
    return "".join(nquads(*page_triples(page)))


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_expected_graph(path: Path):
    """Each test page against its reviewed expected graph (``*.expected.nq``).

    Set EVIDENCEGRAPH_REGEN=1 to rewrite them after a deliberate change, then
    review the diff.
    """
    expected_file = path.with_suffix(".expected.nq")
    actual = page_nquads(path)
    if os.environ.get("EVIDENCEGRAPH_REGEN"):
        expected_file.write_text(actual, encoding="utf-8")
    expected_graphs = graphs_from_nquads(expected_file.read_text(encoding="utf-8"))
    actual_graphs = graphs_from_nquads(actual)
    assert sorted(expected_graphs) == sorted(actual_graphs)
    for name in sorted(expected_graphs):
        assert_isomorphic(expected_graphs[name], actual_graphs[name], f"graph {name}")


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_render_round_trip(path: Path):
    quads = read_rdf(page_nquads(path).encode(), rdf_format("nq"))
    expected = normalise_page_text(path.read_text(encoding="utf-8-sig"))
    actual = render_graph(quads)
    assert actual == expected, text_diff(expected, actual)


def test_byte_identical_every_time():
    path = PAGES / "title-two-cards.txt"
    assert page_nquads(path) == page_nquads(path)


def sample_graph() -> Graph:
    (g,) = graphs_from_nquads(page_nquads(PAGES / "belgium-european-union.txt")).values()
    return g


def test_sample_page_graph():
    g = sample_graph()
    q = """PREFIX eg: <https://w3id.org/evidencegraph#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
    PREFIX dcterms: <http://purl.org/dc/terms/>"""
    facts = list(g.query(q + "SELECT ?f ?t WHERE { ?f a eg:Fact ; eg:factType ?t }"))
    assert len(facts) == 8
    types = sorted(str(t).rsplit("#", 1)[1] for _, t in facts)
    assert types == ["claim"] * 4 + ["perspective"] * 4
    (src,) = list(g.query(q + "SELECT ?s ?title ?d ?org WHERE { ?s a eg:Source ; dcterms:title ?title ; eg:domain ?d ; eg:publisher ?org }"))
    assert str(src.d) == "ecfr.eu" and str(src.org) == "European Council on Foreign Relations"
    assert str(src.title).startswith("Independence play")
    assert len(set(g.objects(None, URIRef(EG + "fromSource")))) == 1
    (rel,) = list(g.query(q + """SELECT ?r ?score ?kind ?sl ?ol WHERE { ?r a eg:Relation ; eg:kind ?kind ; eg:score ?score ;
        eg:subject/rdfs:label ?sl ; eg:object/rdfs:label ?ol }"""))
    assert rel.score == Literal("3.17", datatype=XSD.decimal) and rel.score.toPython() == Decimal("3.17")
    assert (str(rel.kind), str(rel.sl), str(rel.ol)) == ("related", "Belgium", "European Union")
    supported = set(g.objects(rel.r, URIRef(EG + "supportedBy")))
    assert supported == {f for f, _ in facts}
    cited = set(g.objects(rel.r, URIRef(EG + "cites")))
    first_four = {r.f for r in g.query(q + "SELECT ?f WHERE { ?l eg:listsFact ?f ; eg:position ?p FILTER(?p <= 4) }")}
    assert len(cited) == 4 and cited == first_four


def test_same_things_from_two_pages_are_one_node(tmp_path):
    text = (PAGES / "belgium-european-union.txt").read_bytes()
    (tmp_path / "a.txt").write_bytes(text)
    (tmp_path / "b.txt").write_bytes(text.replace(b"related 3.17", b"cross_type 3.17"))
    union = Graph()
    for n in ("a.txt", "b.txt"):
        for g in graphs_from_nquads(page_nquads(tmp_path / n)).values():
            union += g
    from rdflib.namespace import RDF
    assert len(set(union.subjects(RDF.type, URIRef(EG + "Fact")))) == 8
    assert len(set(union.subjects(RDF.type, URIRef(EG + "Source")))) == 1
    assert len(set(union.subjects(RDF.type, URIRef(EG + "Entity")))) == 2
    assert len(set(union.subjects(RDF.type, URIRef(EG + "Relation")))) == 2
    # one page: a page is its two entities, whatever its file is called
    assert len(set(union.subjects(RDF.type, URIRef(EG + "Page")))) == 1


def test_entity_iris_are_keys_of_the_name():
    """Case, composition, spacing and punctuation do not matter; letters, digits and accents do."""
    assert entity_iri("European  Union").endswith("/entity/european-union")
    assert entity_iri("European Union") == entity_iri("european union") == entity_iri("European-Union")
    assert entity_iri("Côte d’Ivoire") == entity_iri("Co\u0302te d'Ivoire")  # decomposed accent
    assert entity_iri("Côte d’Ivoire") != entity_iri("Cote d'Ivoire")
    assert entity_iri("C++ / C#").endswith("/entity/c-c") and entity_iri("C++") == entity_iri("C")  # as the product
    assert entity_iri("Belgium", "http://example.org/") == "http://example.org/entity/belgium"
    # a name with no letter or digit still has an IRI of its own
    assert entity_iri("—") != entity_iri("…") and "/entity/_" in entity_iri("—")


def test_upstream_ids_as_the_product_computes_them():
    """uuid5(uuid5(NAMESPACE_URL, "knowledge-tree"), slug), the edge key sorted for related only."""
    import uuid

    from evidencegraph.identity import edge_key, product_slug, upstream_edge_id, upstream_node_id

    assert upstream_node_id("Belgium") == "011611dc-d953-5ace-bd32-07d8e6d58a31"
    assert product_slug("Côte d’Ivoire") == "c-te-d-ivoire" and product_slug("日本") == ""
    assert upstream_node_id("日本") is None
    assert product_slug("x" * 300) == "x" * 200
    assert edge_key("related", "European Union", "Belgium") == "related:belgium--european-union"
    assert edge_key("draws_from", "European Union", "Belgium") == "draws_from:european-union--belgium"
    ns = uuid.uuid5(uuid.NAMESPACE_URL, "knowledge-tree")
    assert upstream_edge_id("related", "European Union", "Belgium") == str(uuid.uuid5(ns, "related:belgium--european-union"))


def test_minted_iris_are_valid_for_any_character():
    """Every character a page may hold gives a valid IRI (the store loads them without re-checking)."""
    import pyoxigraph as ox

    from evidencegraph.identity import page_iri

    chars = [chr(c) for c in range(0x20, 0x30000) if not 0xD800 <= c <= 0xDFFF]
    bad = []
    for i in range(0, len(chars), 64):
        chunk = "".join(chars[i:i + 64])
        for iri in (entity_iri(chunk), page_iri(chunk, "x")):
            try:
                ox.NamedNode(iri)
            except ValueError:
                bad.extend(ch for ch in chunk if _invalid(entity_iri(ch)))
    assert not bad, f"characters that make invalid IRIs: {[hex(ord(c)) for c in bad[:20]]}"


def _invalid(iri: str) -> bool:
    import pyoxigraph as ox

    try:
        ox.NamedNode(iri)
        return False
    except ValueError:
        return True


def test_quads_made_from_the_workers_triples_are_the_pages_quads():
    """The ingest workers send a page's N-Triples only; the writer's N-Quads made from them must parse, with
    pyoxigraph, to the same triples in the page's graph, whatever the literals hold (" .", newlines, quotes)."""
    import pyoxigraph as ox

    from evidencegraph.mapping import Lit, STRING, nquad_lines, ntriple_lines, quads_of_triples

    g = "https://example.org/page/a"
    awkward = ['ends with a dot .', 'a " .\n" inside', 'line\r\nbreaks .\n', ' .', 'back\\slash .\\n', "é .\n ü"]
    triples = [(f"https://example.org/s{i}", "https://example.org/p", Lit(text, STRING)) for i, text in enumerate(awkward)]
    triples.append(("https://example.org/s0", "https://example.org/q", "https://example.org/o"))
    plain = "".join(ntriple_lines(triples)).encode()
    made = quads_of_triples(g, plain)
    assert made == "".join(nquad_lines(g, triples)[0]).encode()
    quads = list(ox.parse(made, format=ox.RdfFormat.N_QUADS))
    assert {q.graph_name.value for q in quads} == {g} and len(quads) == len(triples)
    assert sorted(q.object.value for q in quads if isinstance(q.object, ox.Literal)) == sorted(awkward)
