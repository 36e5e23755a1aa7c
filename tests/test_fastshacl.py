"""Differential test: the fast engine and pyshacl agree on generated corpora with injected faults."""

from __future__ import annotations

import sys

import pytest

from evidencegraph.loaders import to_rdflib
from evidencegraph.mapping import page_triples, to_oxigraph
from evidencegraph.pipeline import PageFile, read_page
from evidencegraph.shapes import validate_graph, validate_triples

from conftest import HERE, PAGES

sys.path.insert(0, str(HERE.parent / "benchmarks"))
from generate import generate  # noqa: E402


def key(results) -> set:
    return {(r.focus, r.component, r.constraint, r.severity, r.path) for r in results}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    return generate(40, folder, seed=11, faults=0.7) + sorted(PAGES.glob("*.txt"))


def test_same_focus_nodes_and_components_as_pyshacl(corpus):
    seen_rules = set()
    total = 0
    for path in corpus:
        page = read_page(PageFile(path, path.name))
        g, triples = page_triples(page)
        fast = validate_triples(triples)
        reference = validate_graph(to_rdflib(to_oxigraph(g, triples)), "pyshacl")
        assert key(fast.results) == key(reference.results), path.name
        seen_rules |= {r.constraint for r in reference.results if r.constraint}
        total += len(reference.results)
    # the injected faults exercise the cross-record rules
    assert {"egsh:FactsHeadingCount", "egsh:CitationResolves", "egsh:SourceListingCount",
            "egsh:ScoreMatchesFacts", "egsh:LeftoverTokens", "egsh:StrengthMatchesScore"} <= seen_rules
    assert total > 40


def test_whole_corpus_as_one_graph(corpus):
    """Merged into one graph (as `validate` of an export sees it), the verdicts still agree."""
    from rdflib import Graph

    merged = Graph()
    for path in corpus[:15]:
        page = read_page(PageFile(path, path.name))
        g, triples = page_triples(page)
        merged += to_rdflib(to_oxigraph(g, triples))
    assert key(validate_graph(merged, "fast").results) == key(validate_graph(merged, "pyshacl").results)
