"""connected-via-source answered from a store folder's search index: the same rows, in the same order, as
its SPARQL (the store folder's text and the portable one), kept so under replace, remove, a failed write and
an index of the layout before."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import invoke
from evidencegraph.store import Store


QUESTION = "connected-via-source"
ID = "https://w3id.org/evidencegraph/id/"
COLUMNS = ("entity", "other", "title", "facts")


pytestmark = pytest.mark.usefixtures("collect_cycles_after_each_test")  # see conftest


@pytest.fixture
def store(sample_store):
    return sample_store


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


def test_an_index_of_version_5_with_iris_in_its_pairs_is_built_again_with_node_numbers(store):
    """Version 5 kept each pair of links and about as two IRIs: the first open drops it and builds version 6,
    whose pairs are node numbers (nodes), with the same answers."""
    from evidencegraph.search import VERSION

    expected = agree(store, "Belgium")
    with sqlite3.connect(store / "search.sqlite") as db:
        links = db.execute("SELECT f.iri, s.iri FROM links JOIN nodes f ON f.id = fact JOIN nodes s ON s.id = source").fetchall()
        about = db.execute("SELECT f.iri, e.iri FROM about JOIN nodes f ON f.id = fact JOIN nodes e ON e.id = entity").fetchall()
        db.executescript("DROP TABLE links; DROP TABLE about; DROP TABLE nodes;"
                         "CREATE TABLE links (fact TEXT NOT NULL, source TEXT NOT NULL, PRIMARY KEY (fact, source)) WITHOUT ROWID;"
                         "CREATE TABLE about (fact TEXT NOT NULL, entity TEXT NOT NULL, PRIMARY KEY (entity, fact)) WITHOUT ROWID;"
                         "UPDATE meta SET value = '5' WHERE key = 'version'")
        db.executemany("INSERT INTO links VALUES (?, ?)", links)
        db.executemany("INSERT INTO about VALUES (?, ?)", about)
        # (a store of many pages: the old pairs take most of the file)
        db.executemany("INSERT INTO about VALUES (?, ?)", ((f"https://example.org/fact/{i:08d}" * 3, f"https://example.org/e/{i}" * 3)
                                                           for i in range(20000)))
    assert links and about
    size = (store / "search.sqlite").stat().st_size
    with Store(store, read_only=True) as opened:  # (a reader builds it too: the one there is of no use)
        assert opened.search_index().exact
    with sqlite3.connect(store / "search.sqlite") as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() == (VERSION,) == ("6",)
        assert {type(v) for row in db.execute("SELECT * FROM links UNION ALL SELECT * FROM about") for v in row} == {int}
        assert sorted(db.execute("SELECT f.iri, s.iri FROM links JOIN nodes f ON f.id = fact JOIN nodes s ON s.id = source")) == sorted(links)
    assert (store / "search.sqlite").stat().st_size * 4 < size  # the old tables' pages given back (VACUUM)
    assert agree(store, "Belgium") == expected
    with Store(store) as writer:  # and the ranking follows it still (tantivy's ids are the docs' ids)
        index = writer.search_index()
        assert index.ranker is None or index.ranker.generation == index._generation()
        assert [h.node for h in index.search("Belgium")] == [h.node for h in index.search("Belgium")] != []


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
    facts = question("facts-mentioning")
    with Store(store) as opened:
        opened.replace_pages([(graph.value, quads)])
        subs = q.bind({"entity": "Belgium"})
        assert question_answer(opened, q.name, subs) is None
        from evidencegraph.queries import run_question

        assert rows_of(run_question(opened, q.name, q.sparql, subs)) == rows_of(opened.query(q.sparql, subs))
        # facts-mentioning reads no label: still from the index alone
        assert question_answer(opened, facts.name, facts.bind({"type": "claim", "word": "belgium"})) is not None


EG = "https://w3id.org/evidencegraph#"
_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
_TITLE = "http://purl.org/dc/terms/title"


def _quads(graph: str, triples: list[tuple[str, str, object]]) -> tuple[str, list[ox.Quad]]:
    """A graph from (subject, predicate, object) strings: "_:x" a blank node, an IRI, else a literal given as ox.Literal."""
    def node(v):
        if isinstance(v, ox.Literal):
            return v
        return ox.BlankNode(v[2:]) if v.startswith("_:") else ox.NamedNode(v)
    g = ox.NamedNode(ID + "page/" + graph)
    return g.value, [ox.Quad(node(s), ox.NamedNode(p), node(o), g) for s, p, o in triples]


def _relation(r: str, a: str, b: str, fact: str, source: str, title: str = "By hand") -> list[tuple[str, str, object]]:
    return [(r, EG + "subject", a), (r, EG + "object", b), (r, EG + "supportedBy", fact),
            (fact, _TYPE, EG + "Fact"), (fact, EG + "fromSource", source),
            (source, _TYPE, EG + "Source"), (source, _TITLE, ox.Literal(title))]


def _entity(e: str, label: str) -> list[tuple[str, str, object]]:
    return [(e, _TYPE, EG + "Entity"), (e, _LABEL, ox.Literal(label))]


BEL, EU, X = ID + "entity/belgium", ID + "entity/european-union", ID + "entity/by-hand"
R, F, S = ID + "relation/related/by-hand", ID + "fact/by-hand", ID + "source/by-hand"

def _regular(end: str = X) -> list[tuple[str, str, object]]:
    """A graph as a page's: a relation of Belgium, its fact and source, both entities typed and labelled."""
    return _relation(R, BEL, end, F, S) + _entity(end, "By hand") + _entity(BEL, "Belgium")


IRREGULAR = {  # each one regular but for what its name says
    # the relation's facts in one graph, its ends in another: the union links them, one graph alone does not
    "ends in another graph": [("a", _regular()),
                              ("b", [(R, EG + "supportedBy", ID + "fact/other"), (ID + "fact/other", _TYPE, EG + "Fact"),
                                     (ID + "fact/other", EG + "fromSource", S)])],
    "an end not typed": [("a", [t for t in _regular() if t != (X, _TYPE, EG + "Entity")])],
    "a source not typed": [("a", [t for t in _regular() if t != (S, _TYPE, EG + "Source")])],
    "a fact not typed": [("a", [t for t in _regular() if t != (F, _TYPE, EG + "Fact")])],
    "a label on a node typed elsewhere": [("a", _regular()), ("b", [(X, _LABEL, ox.Literal("Also by hand"))])],
    "a blank-node end": [("a", _regular("_:x"))],
    "a node both entity and source": [("a", _regular() + [(X, _TYPE, EG + "Source")])],
    "an IRI as a label": [("a", _regular() + [(X, _LABEL, ID + "entity/iri-label")])],
}


@pytest.mark.parametrize("case", sorted(IRREGULAR))
def test_graphs_the_rows_do_not_follow_keep_the_answer_in_the_store(store, case):
    """RDF that no page maps to (a Graph Store write, an RDF file): where the index's rows of one graph would
    not give the SPARQL's rows over the union of all, the question is answered through the store, and still
    after those graphs are removed (the mark stays until the index is built again)."""
    from evidencegraph.indexanswers import question_answer
    from evidencegraph.queries import question, question_text, run_question

    q = question(QUESTION)
    subs = q.bind({"entity": "Belgium"})
    facts = question("facts-mentioning")
    with Store(store) as opened:
        graphs = [_quads(name, triples) for name, triples in IRREGULAR[case]]
        opened.replace_pages(graphs)
        assert question_answer(opened, q.name, subs) is None
        expected = rows_of(opened.query(question_text(opened, q.name, q.sparql), subs))
        assert rows_of(run_question(opened, q.name, q.sparql, subs)) == expected == rows_of(opened.query(q.sparql, subs))
        if "blank" not in case:  # facts-mentioning does not read these links: still from the index alone
            assert question_answer(opened, facts.name, facts.bind({"type": "claim", "word": "belgium"})) is not None
        opened.remove_pages([g for g, _ in graphs])
        assert question_answer(opened, q.name, subs) is None
        assert rows_of(run_question(opened, q.name, q.sparql, subs)) == rows_of(opened.query(q.sparql, subs))
    with Store(store) as opened:  # built again on purpose: regular again
        opened.search_index().rebuild(opened)
    agree(store, "Belgium")


def test_a_regular_graph_by_hand_is_answered_from_the_index(store):
    from evidencegraph.indexanswers import question_answer
    from evidencegraph.queries import question

    q = question(QUESTION)
    with Store(store) as opened:
        opened.replace_pages([_quads("a", _regular())])
        assert question_answer(opened, q.name, q.bind({"entity": "Belgium"})) is not None
    rows = agree(store, "Belgium")
    assert ('"Belgium"', '"By hand"', '"By hand"', '"1"^^<http://www.w3.org/2001/XMLSchema#integer>') in rows


def test_an_index_that_cannot_be_opened_leaves_the_answer_to_the_sparql(store):
    from evidencegraph.indexanswers import question_answer
    from evidencegraph.queries import question, run_question

    q = question(QUESTION)
    subs = q.bind({"entity": "Belgium"})
    expected = agree(store, "Belgium")
    for name in list((store).iterdir()):
        if name.name.startswith("search.sqlite"):
            name.unlink()
    (store / "search.sqlite").mkdir()
    with Store(store, read_only=True) as opened:
        assert question_answer(opened, q.name, subs) is None
        assert rows_of(run_question(opened, q.name, q.sparql, subs)) == expected
