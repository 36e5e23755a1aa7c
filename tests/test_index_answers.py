"""connected-via-source answered from a store folder's search index: the same rows, in the same order, as
its SPARQL (the store folder's text and the portable one), kept so under replace, remove, a failed write and
an index of the layout before."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import HERE, PAGES, invoke
from evidencegraph.store import Store

sys.path.insert(0, str(HERE.parent / "benchmarks"))
from generate import generate  # noqa: E402

QUESTION = "connected-via-source"
ID = "https://w3id.org/evidencegraph/id/"
COLUMNS = ("entity", "other", "title", "facts")


@pytest.fixture(autouse=True)
def _collect_cycles_after_each_test():
    yield
    import gc

    gc.collect()


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    generate(150, root / "pages", seed=5)
    path = root / "store"
    result = invoke(CliRunner(), "ingest", str(root / "pages"), str(PAGES), "--store", str(path), "-q")
    assert result.exit_code in (0, 1), result.output
    return path


@pytest.fixture
def store(tmp_path):
    pages = tmp_path / "pages"
    shutil.copytree(PAGES, pages)
    path = tmp_path / "store"
    result = invoke(CliRunner(), "ingest", str(pages), "--store", str(path), "-q")
    assert "6 loaded" in result.stderr, result.output
    return path


def rows_of(results) -> list[tuple[str, ...]]:
    return [tuple(str(row[v]) for v in COLUMNS) for row in results]


def answers(opened: Store, label: str) -> tuple[list[tuple[str, ...]] | None, list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The index's own answer (None when it gives none), the store folder's SPARQL and the portable SPARQL."""
    from evidencegraph.indexanswers import question_answer
    from evidencegraph.queries import question, question_text

    q = question(QUESTION)
    subs = q.bind({"entity": label})
    alone = question_answer(opened, q.name, subs)
    embedded = rows_of(opened.query(question_text(opened, q.name, q.sparql), subs))
    portable = rows_of(opened.query(q.sparql, subs))
    return (rows_of(alone) if alone is not None else None), embedded, portable


def agree(path: Path, label: str) -> list[tuple[str, ...]]:
    with Store(path, read_only=True) as opened:
        alone, embedded, portable = answers(opened, label)
    assert alone is not None, "the index gave no answer of its own"
    assert alone == embedded == portable  # the rows, their terms (the count an xsd:integer) and their order
    return alone


def labels(path: Path) -> list[str]:
    """Entities of the corpus: the most connected, one of the least, and one from the middle."""
    with Store(path, read_only=True) as opened:
        rows = list(opened.query(
            "SELECT ?label (COUNT(?r) AS ?n) WHERE { ?e a eg:Entity ; rdfs:label ?label . "
            "{ ?r eg:subject ?e } UNION { ?r eg:object ?e } } GROUP BY ?label ORDER BY DESC(?n) ?label"))
    names = [r["label"].value for r in rows]
    return [names[0], names[len(names) // 2], names[-1]]


def test_the_index_answer_is_the_sparql_answer_on_a_corpus(corpus_store):
    chosen = labels(corpus_store)
    found = [agree(corpus_store, label) for label in chosen]
    assert len(found[0]) > 20  # the most connected entity shares sources with many others
    assert all(int(r[3].split('"')[1]) >= 1 for rows in found for r in rows)
    with Store(corpus_store, read_only=True) as opened:
        from evidencegraph.queries import question, run_question

        q = question(QUESTION)
        subs = q.bind({"entity": chosen[0]})
        assert rows_of(run_question(opened, q.name, q.sparql, subs)) == found[0]


@pytest.mark.parametrize("label", ["Belgium", "belgium", "European Union", "No such entity", ""])
def test_the_index_answer_is_the_sparql_answer_on_the_sample_pages(corpus_store, label):
    rows = agree(corpus_store, label)
    if label in ("Belgium", "European Union"):
        assert rows and all(r[0] == f'"{label}"' for r in rows)
    if label in ("belgium", "No such entity", ""):
        assert rows == []  # the label as given: the .rq matches rdfs:label exactly


def test_the_index_answer_follows_replaced_and_removed_pages(store, tmp_path):
    before = agree(store, "Belgium")
    assert before
    page = tmp_path / "pages" / "belgium-european-union.txt"
    text = page.read_text(encoding="utf-8")
    assert "Independence play" in text
    page.write_text(text.replace("Independence play", "Autonomy drive"), encoding="utf-8")
    result = invoke(CliRunner(), "ingest", str(page), "--store", str(store), "-q")
    assert "1 replaced" in result.stderr, result.output
    after = agree(store, "Belgium")
    assert after != before and any(r[2].startswith('"Autonomy drive') for r in after)
    assert not any(r[2].startswith('"Independence play') for r in after)
    result = invoke(CliRunner(), "remove", str(page), "--store", str(store))
    assert result.exit_code == 0, result.output
    gone = agree(store, "Belgium")
    assert not any("Autonomy drive" in r[2] for r in gone)


def test_a_write_that_fails_turns_the_index_answer_off_until_a_writer_rebuilds_it(store):
    from evidencegraph.indexanswers import question_answer
    from evidencegraph.queries import question, run_question

    q = question(QUESTION)
    subs = q.bind({"entity": "Belgium"})
    expected = agree(store, "Belgium")
    with Store(store) as opened:
        index = opened.search_index()
        with pytest.raises(RuntimeError):
            with index.writing():
                index.add([[("about", ID + "fact/ghost", "", ID + "entity/belgium")]])
                raise RuntimeError("the store write failed")
        assert not index.exact and question_answer(opened, q.name, subs) is None
        assert rows_of(run_question(opened, q.name, q.sparql, subs)) == expected
    with Store(store) as writer:  # the next writer builds it again
        assert writer.search_index().exact
    assert agree(store, "Belgium") == expected


def test_an_index_of_the_layout_before_is_built_again_with_the_facts_entities(store):
    """Version 3 (no table of the entities a fact is about): the first use drops it and builds it again."""
    expected = agree(store, "Belgium")
    with sqlite3.connect(store / "search.sqlite") as db:
        db.execute("UPDATE meta SET value = '3' WHERE key = 'version'")
        db.execute("DROP TABLE about")
    with Store(store, read_only=True) as opened:
        assert opened.search_index().exact
    assert agree(store, "Belgium") == expected


def test_a_label_with_a_language_tag_keeps_the_answer_in_the_store(store):
    """The index keeps a label's string: once a page states one with a language tag, the question is answered
    through the store (where the plain parameter does not match the tagged label)."""
    from evidencegraph.indexanswers import question_answer
    from evidencegraph.queries import question

    graph = ox.NamedNode(ID + "page/by-hand")
    entity = ox.NamedNode(ID + "entity/by-hand")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    quads = [ox.Quad(entity, rdf_type, ox.NamedNode("https://w3id.org/evidencegraph#Entity"), graph),
             ox.Quad(entity, label, ox.Literal("Belgium", language="en"), graph)]
    q = question(QUESTION)
    with Store(store) as opened:
        opened.replace_pages([(graph.value, quads)])
        assert question_answer(opened, q.name, q.bind({"entity": "Belgium"})) is None
