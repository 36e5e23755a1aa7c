"""The full-text index beside the store: kept in step with every write, ranked, accent- and
case-insensitive; the search command, the /search endpoint, facts-mentioning from the index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import HERE, PAGES, invoke
from evidencegraph.server import Settings
from evidencegraph.store import Store
from live_server import live_server

sys.path.insert(0, str(HERE.parent / "benchmarks"))
from generate import generate  # noqa: E402

ID = "https://w3id.org/evidencegraph/id/"
BELGIUM = ID + "entity/belgium"
PAGE = ID + "page/belgium--european-union"
HARMONIOUS = "Belgium identifies harmonious cooperation"


def search(store: Path, *args: str) -> list[dict]:
    result = invoke(CliRunner(), "search", *args, "--store", str(store), "-f", "json", "-n", "100")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if result.stdout.strip() else []


def texts(hits: list[dict]) -> list[str]:
    return [h["text"] for h in hits]


pytestmark = pytest.mark.usefixtures("collect_cycles_after_each_test")  # see conftest


@pytest.fixture
def store(sample_store):
    return sample_store


def test_ingest_indexes_facts_sources_and_entities_with_pages_and_sources(store):
    assert (store / "search.sqlite").exists()
    hits = search(store, "harmonious")
    assert len(hits) == 1 and hits[0]["kind"] == "fact" and hits[0]["type"] == "claim"
    assert hits[0]["text"].startswith(HARMONIOUS)
    assert hits[0]["pages"] == [PAGE] and hits[0]["page_count"] == 1
    assert [s["title"] for s in hits[0]["sources"]] == ["Independence play: Europe's pursuit of strategic autonomy"]
    assert hits[0]["node"].startswith(ID + "fact/")
    entity = [h for h in search(store, "belgium", "--kind", "entity")]
    assert [h["node"] for h in entity] == [BELGIUM] and entity[0]["page_count"] == 3
    assert all(h["kind"] == "source" for h in search(store, "strategic autonomy", "--kind", "source"))
    assert "Independence play: Europe's pursuit of strategic autonomy" in texts(search(store, "pursuit", "--kind", "source"))


def test_accents_and_case_are_ignored(store):
    for word in ("côte", "COTE", "Cote", "CÔTE"):
        found = texts(search(store, word, "--kind", "entity"))
        assert found == ["Côte d’Ivoire"], word
    assert texts(search(store, "harmonious")) == texts(search(store, "HARMONIOUS"))


def test_type_filter_and_ranking(store):
    claims = search(store, "belgium", "--type", "claim")
    assert claims and all(h["kind"] == "fact" and h["type"] == "claim" for h in claims)
    everything = search(store, "belgium")
    assert {h["type"] for h in everything if h["kind"] == "fact"} > {"claim"}
    scores = [h["score"] for h in everything]
    assert scores == sorted(scores)  # bm25: lower is better, best first
    assert everything[0]["node"] == BELGIUM  # the short text that is only the word ranks first
    assert search(store, "belgium", "--type", "no-such-type") == []


def test_table_marks_the_match_and_no_match_exits_0(store):
    result = invoke(CliRunner(), "search", "harmonious", "--store", str(store))
    assert result.exit_code == 0 and "[harmonious]" in result.stdout and "Independence play" in result.stdout
    result = invoke(CliRunner(), "search", "zzzqqq", "--store", str(store))
    assert result.exit_code == 0 and result.stdout == "" and "no match" in result.stderr
    tsv = invoke(CliRunner(), "search", "harmonious", "--store", str(store), "-f", "tsv").stdout.splitlines()
    assert tsv[0].split("\t")[:3] == ["kind", "text", "node"] and len(tsv) == 2


def test_replaced_page_old_text_gone_and_revision_not_searchable(store, tmp_path):
    page = tmp_path / "pages" / "belgium-european-union.txt"
    page.write_text(page.read_text(encoding="utf-8").replace("harmonious", "zanzibarian"), encoding="utf-8")
    result = invoke(CliRunner(), "ingest", str(page), "--store", str(store), "-q")
    assert "1 replaced" in result.stderr, result.output
    assert search(store, "harmonious") == []  # the old revision is history, not searchable
    assert [h["pages"] for h in search(store, "zanzibarian")] == [[PAGE]]
    history = invoke(CliRunner(), "history", PAGE, "--store", str(store))
    assert history.exit_code == 0 and history.stdout.count("\n") >= 3, history.output


def test_removed_page_leaves_the_index(store):
    assert search(store, "harmonious")
    result = invoke(CliRunner(), "remove", PAGE, "--store", str(store))
    assert result.exit_code == 0, result.output
    assert search(store, "harmonious") == []
    belgium = search(store, "belgium", "--kind", "entity")
    assert belgium[0]["page_count"] == 2 and PAGE not in belgium[0]["pages"]


def test_rdf_file_load_is_indexed(store, tmp_path):
    export = tmp_path / "export.nq"
    assert invoke(CliRunner(), "export", "--store", str(store), "-f", "nq", "-o", str(export)).exit_code == 0
    other = tmp_path / "other"
    result = invoke(CliRunner(), "ingest", str(export), "--store", str(other), "-q")
    assert "6 loaded" in result.stderr, result.output
    assert search(other, "harmonious") == search(store, "harmonious")


def test_store_without_an_index_gets_one_on_first_use(store):
    for name in os.listdir(store):
        if name.startswith("search.sqlite"):
            os.unlink(store / name)
    cmd = [sys.executable, "-m", "evidencegraph", "search", "harmonious", "--store", str(store), "-f", "json"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and "building the search index of 6 pages" in first.stderr, first.stderr
    assert len(json.loads(first.stdout)) == 1
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and again.stderr == "" and json.loads(again.stdout) == json.loads(first.stdout)


V1_SCHEMA = """
CREATE TABLE pages (id INTEGER PRIMARY KEY, iri TEXT NOT NULL UNIQUE);
CREATE TABLE entries (id INTEGER PRIMARY KEY, page INTEGER NOT NULL, kind TEXT NOT NULL, node TEXT NOT NULL,
                      type TEXT NOT NULL, sources TEXT NOT NULL, ltext TEXT);
CREATE VIRTUAL TABLE texts USING fts5 (text, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE pending (page TEXT PRIMARY KEY);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('version', '1');
INSERT INTO pages VALUES (1, 'https://w3id.org/evidencegraph/id/page/gone--page');
INSERT INTO entries VALUES (1, 1, 'fact', 'https://w3id.org/evidencegraph/id/fact/x', 'claim', '[]', 'stale words');
INSERT INTO texts (rowid, text) VALUES (1, 'stale words');
"""


def test_index_of_the_first_layout_is_built_again(store):
    """An index written by the release before (one row per page and text) is derived data: the first
    writable open drops it and builds the current layout from the store; nothing of it survives."""
    import sqlite3

    for name in os.listdir(store):
        if name.startswith("search.sqlite"):
            os.unlink(store / name)
    with sqlite3.connect(store / "search.sqlite") as db:
        db.executescript(V1_SCHEMA)
    cmd = [sys.executable, "-m", "evidencegraph", "search", "harmonious", "--store", str(store), "-f", "json"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0 and "building the search index of 6 pages" in first.stderr, first.stderr
    assert [h["text"][:len(HARMONIOUS)] for h in json.loads(first.stdout)] == [HARMONIOUS]
    assert search(store, "stale") == []
    with sqlite3.connect(store / "search.sqlite") as db:
        from evidencegraph.search import VERSION

        assert db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone() == (VERSION,)
        assert db.execute("SELECT value FROM meta WHERE key = 'exact'").fetchone() == ("1",)


def test_a_text_shared_by_pages_is_one_row_and_goes_with_its_last_page(tmp_path):
    """A text is indexed once per node: a fact on several pages is one row; removing one of its pages
    keeps it (found, on the pages left), removing the last drops it from the FTS table too."""
    import sqlite3

    corpus = tmp_path / "corpus"
    generate(40, corpus, seed=5)
    path = tmp_path / "store"
    assert invoke(CliRunner(), "ingest", str(corpus), "--store", str(path), "-q").exit_code in (0, 1)
    with Store(path) as st:
        shared = st.query(
            "SELECT ?fact ?text (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?fact a <https://w3id.org/evidencegraph#Fact> ; "
            "<https://w3id.org/evidencegraph#text> ?text } } GROUP BY ?fact ?text ORDER BY DESC(?n) ?fact LIMIT 1")
        fact, text, n = (term.value for term in next(iter(shared)))
        del shared  # a result holds the database (and its lock) open
        pages = sorted(g.value for (g,) in st.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{fact}> a ?t }} }}"))
    assert int(n) >= 2 and len(pages) == int(n)
    with sqlite3.connect(path / "search.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM docs WHERE node = ?", (fact,)).fetchone() == (1,)
        assert db.execute("SELECT COUNT(*) FROM docs").fetchone() == db.execute("SELECT COUNT(*) FROM texts").fetchone()
    words = " ".join(text.split()[:6])
    hit = [h for h in search(path, words, "--kind", "fact") if h["node"] == fact]
    assert hit and hit[0]["pages"] == pages and hit[0]["sources"]

    removed = invoke(CliRunner(), "remove", pages[0], "--store", str(path))
    assert removed.exit_code == 0, removed.output
    hit = [h for h in search(path, words, "--kind", "fact") if h["node"] == fact]
    assert hit and hit[0]["pages"] == pages[1:]
    assert invoke(CliRunner(), "remove", *pages[1:], "--store", str(path)).exit_code == 0
    assert [h for h in search(path, words, "--kind", "fact") if h["node"] == fact] == []
    with sqlite3.connect(path / "search.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM docs WHERE node = ?", (fact,)).fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM docs").fetchone() == db.execute("SELECT COUNT(*) FROM texts").fetchone()


def test_interrupted_ingest_is_rolled_back_in_the_index_too(store, tmp_path):
    """A process that dies after the bulk load, before its journal is cleared (what a kill mid-ingest
    leaves): the next open rolls the pages back, and search finds nothing of theirs (their texts, added
    to the index before the write, are passed over: no current page states them)."""
    corpus = tmp_path / "corpus"
    generate(60, corpus, seed=3)
    child = textwrap.dedent(f"""
        import json, os, sys
        from pathlib import Path
        import pyoxigraph as ox
        from evidencegraph.mapping import nquad_lines, page_triples
        from evidencegraph.pipeline import PageFile, read_page
        from evidencegraph.searchrows import rows_of_mapping
        from evidencegraph.store import JOURNAL, Store
        store = Store(Path({str(store)!r}))
        pages, rows = [], {{}}
        for p in sorted(Path({str(corpus)!r}).rglob("*.txt")):
            g, triples = page_triples(read_page(PageFile(p, p.name)))
            q, t = nquad_lines(g, triples)
            pages.append((g, "".join(q).encode(), "".join(t).encode()))
            rows[g] = rows_of_mapping(triples)
        index = store.search_index()
        index.writing().__enter__()  # what write_batch does first: the mark "exact" off,
        index.add(rows.values())     # then the new texts
        (store.path / JOURNAL).write_text(json.dumps({{"graphs": [g for g, _, _ in pages]}}))
        store.db.bulk_load(b"".join(q + t for _, q, t in pages), ox.RdfFormat.N_QUADS, lenient=True)
        store.db.flush()
        print(len(pages), flush=True)
        os._exit(9)  # killed before the journal is removed
    """)
    proc = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9 and int(proc.stdout) >= 50, proc.stderr
    any_fact = None
    for p in sorted(corpus.rglob("*.txt")):
        for line in p.read_text(encoding="utf-8").splitlines():
            if line.startswith("claim"):
                any_fact = line[len("claim"):].split()[:6]
                break
        if any_fact:
            break
    assert any_fact
    opened = Store(store)
    assert len(opened.recovered) >= 50
    index = opened.search_index()  # the writer that opens it next builds the index again: exact once more
    assert index.exact
    assert index.search(" ".join(any_fact)) == []
    assert [h.node for h in index.search("harmonious")]  # the pages from before stay
    pages = {g.value for g in opened.db.named_graphs()}
    assert {p for h in index.search("belgium", limit=100) for p in h.pages} <= pages
    index.rebuild(opened)  # a rebuild drops the texts left over
    left = index.db.execute("SELECT COUNT(*) FROM docs WHERE text LIKE ?", (" ".join(any_fact) + "%",)).fetchone()[0]
    assert left == 0
    opened.close()


# --- facts-mentioning from the index agrees with its SPARQL ------------------------------


def rows_of(results) -> list[tuple[str, ...]]:
    return [tuple(str(row[v]) for v in ("type", "word", "fact", "text", "source")) for row in results]


@pytest.mark.parametrize("type_word,word", [
    ("claim", "the"), ("claim", "THE"), ("perspective", "union"), ("claim", "belg"), ("rumor", "apple"),
    ("claim", "côte"), ("claim", ""), ("measurement", "per"), ("claim", "zzzqqq"), ("nosuchtype", "the"),
])
def test_facts_mentioning_from_the_index_agrees_with_its_sparql(corpus_store, type_word, word):
    from evidencegraph.queries import question
    from evidencegraph.indexanswers import question_query

    q = question("facts-mentioning")
    subs = q.bind({"type": type_word, "word": word})
    with Store(corpus_store, read_only=True) as store:
        fast = question_query(store, q.name, q.sparql, subs)
        assert fast != q.sparql
        expected = rows_of(store.query(q.sparql, subs))
        got = rows_of(store.query(fast, subs))
    assert sorted(got) == sorted(expected)
    assert [r[3] for r in got] == sorted(r[3] for r in got)  # ORDER BY ?text
    if type_word == "claim" and word in ("the", "THE"):
        assert len(expected) > 5


@pytest.mark.parametrize("type_word,word", [("claim", "the"), ("perspective", "union"), ("claim", "côte"),
                                             ("claim", ""), ("claim", "zzzqqq"), ("nosuchtype", "the")])
def test_facts_mentioning_from_the_index_alone_agrees_with_its_sparql(corpus_store, type_word, word):
    """The index answers on its own (the facts' sources and their titles are in it too): the .rq's rows,
    in its order, with the same terms."""
    from evidencegraph.queries import question, run_question
    from evidencegraph.indexanswers import question_answer

    q = question("facts-mentioning")
    subs = q.bind({"type": type_word, "word": word})
    with Store(corpus_store, read_only=True) as store:
        assert store.search_index().exact
        alone = question_answer(store, q.name, subs)
        assert alone is not None
        got = rows_of(alone)
        expected = rows_of(store.query(q.sparql, subs))
        assert rows_of(run_question(store, q.name, q.sparql, subs)) == got
    assert sorted(got) == sorted(expected) and len(set(got)) == len(got)
    assert [r[3] for r in got] == [r[3] for r in expected]  # ORDER BY ?text


def answers_agree(path: Path, type_word: str, word: str) -> list[tuple[str, ...]]:
    """The index's own answer of facts-mentioning is the .rq's (the index exact); returns the rows."""
    from evidencegraph.queries import question
    from evidencegraph.indexanswers import question_answer

    q = question("facts-mentioning")
    subs = q.bind({"type": type_word, "word": word})
    with Store(path, read_only=True) as opened:
        alone = question_answer(opened, q.name, subs)
        assert alone is not None, "the index is not exact"
        got, expected = sorted(rows_of(alone)), sorted(set(rows_of(opened.query(q.sparql, subs))))
    assert got == expected
    return got


def test_the_index_answer_follows_replaced_and_removed_pages(store, tmp_path):
    """A page replaced with its source retitled and a fact moved to another source, then removed: the
    index's answer drops the old links and titles with the store's default graph."""
    before = answers_agree(store, "claim", "harmonious")
    assert [r[4] for r in before] == ['"Independence play: Europe\'s pursuit of strategic autonomy"']
    page = tmp_path / "pages" / "belgium-european-union.txt"
    page.write_text(page.read_text(encoding="utf-8").replace("Independence play", "Autonomy drive"), encoding="utf-8")
    result = invoke(CliRunner(), "ingest", str(page), "--store", str(store), "-q")
    assert "1 replaced" in result.stderr, result.output
    assert [r[4] for r in answers_agree(store, "claim", "harmonious")] == ['"Autonomy drive: Europe\'s pursuit of strategic autonomy"']
    assert answers_agree(store, "claim", "belgium")
    result = invoke(CliRunner(), "remove", str(page), "--store", str(store))
    assert result.exit_code == 0, result.output
    assert answers_agree(store, "claim", "harmonious") == []
    import sqlite3

    with sqlite3.connect(store / "search.sqlite") as db:  # the removed page's nodes are numbered no more
        assert db.execute("SELECT count(*) FROM nodes").fetchone()[0] > 0
        assert db.execute("SELECT count(*) FROM nodes WHERE id NOT IN (SELECT fact FROM links UNION SELECT source FROM links "
                          "UNION SELECT fact FROM about UNION SELECT entity FROM about)").fetchone() == (0,)


def test_a_write_that_fails_turns_the_index_answer_off_until_a_writer_rebuilds_it(store, caplog):
    """Between a failed write and the next writer's open, the index may be ahead of the store: the answer is
    read through the store (question_query), not from the index alone; the next writer builds it again."""
    from evidencegraph.queries import question, run_question
    from evidencegraph.indexanswers import question_answer

    q = question("facts-mentioning")
    subs = q.bind({"type": "claim", "word": "belgium"})
    with Store(store) as opened:
        index = opened.search_index()
        with pytest.raises(RuntimeError):
            with index.writing():
                index.add([[("fact", ID + "fact/ghost", "claim", "Belgium ghost fact"), ("link", ID + "fact/ghost", "", ID + "source/x")]])
                raise RuntimeError("the store write failed")
        assert not index.exact and question_answer(opened, q.name, subs) is None
        rows = rows_of(run_question(opened, q.name, q.sparql, subs))
        assert rows and sorted(rows) == sorted(set(rows_of(opened.query(q.sparql, subs))))
        assert all("ghost" not in r[2] for r in rows)
    with Store(store, read_only=True) as reader:  # a reader leaves it as it is
        assert not reader.search_index().exact
    with caplog.at_level("WARNING"), Store(store) as writer:
        assert writer.search_index().exact
    assert "left unfinished by an interrupted write" in caplog.text
    assert all("ghost" not in r[2] for r in answers_agree(store, "claim", "belgium"))


def test_a_tagged_title_keeps_the_answer_in_the_store(store):
    """The index keeps a text's string: once a page states a title with a language tag, facts-mentioning is
    answered through the store (which keeps the tag), not from the index alone."""
    from evidencegraph.queries import question, run_question
    from evidencegraph.indexanswers import question_answer

    q = question("facts-mentioning")
    subs = q.bind({"type": "claim", "word": "harmonious"})
    graph, fact, source = ID + "page/by-hand", ID + "fact/by-hand", ID + "source/by-hand"
    eg, title = "https://w3id.org/evidencegraph#", ox.NamedNode("http://purl.org/dc/terms/title")
    g = ox.NamedNode(graph)
    with Store(store) as opened:
        claim = ox.NamedNode(eg + "claim")
        quads = [ox.Quad(ox.NamedNode(fact), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(eg + "Fact"), g),
                 ox.Quad(ox.NamedNode(fact), ox.NamedNode(eg + "factType"), claim, g),
                 ox.Quad(ox.NamedNode(fact), ox.NamedNode(eg + "text"), ox.Literal("A harmonious hand-made claim"), g),
                 ox.Quad(ox.NamedNode(fact), ox.NamedNode(eg + "fromSource"), ox.NamedNode(source), g),
                 ox.Quad(ox.NamedNode(source), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(eg + "Source"), g),
                 ox.Quad(ox.NamedNode(source), title, ox.Literal("Fait main", language="fr"), g)]
        opened.replace_pages([(graph, quads)])
        assert not opened.search_index().exact and question_answer(opened, q.name, subs) is None
        rows = list(run_question(opened, q.name, q.sparql, subs))
        assert ox.Literal("Fait main", language="fr") in [r["source"] for r in rows]


def test_an_index_of_the_layout_before_is_built_again_with_the_sources(store):
    """Version 2 (no links, no mark): the first use drops it and builds the current version, exact."""
    import sqlite3

    with sqlite3.connect(store / "search.sqlite") as db:
        db.execute("UPDATE meta SET value = '2' WHERE key = 'version'")
        db.execute("DELETE FROM meta WHERE key = 'exact'")
        db.execute("DROP TABLE links")
    with Store(store, read_only=True) as opened:
        assert opened.search_index().exact
    assert answers_agree(store, "claim", "belgium")


def test_facts_mentioning_on_the_command_line_uses_the_index(corpus_store):
    args = ["query", "-Q", "facts-mentioning", "-p", "type=claim", "-p", "word=Union", "--store", str(corpus_store),
            "-f", "csv"]
    result = invoke(CliRunner(), *args)
    assert result.exit_code == 0 and result.stdout.splitlines()[0] == "type,word,fact,text,source"
    from evidencegraph.answers import ask

    assert len(ask("facts-mentioning", corpus_store, type="claim", word="Union")) == len(result.stdout.splitlines()) - 1


# --- the /search endpoint -------------------------------------------------------------------


def test_search_endpoint_json_html_and_a_write_by_another_process(store, tmp_path):
    with live_server(store, Settings()) as root, httpx.Client(timeout=30) as client:
        r = client.get(root + "/search", params={"q": "HARMONIOUS"}, headers={"Accept": "application/json"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        hits = r.json()["hits"]
        assert [h["pages"] for h in hits] == [[PAGE]] and hits[0]["type"] == "claim"
        r = client.get(root + "/search", params={"q": "belgium", "type": "claim"})
        assert r.status_code == 200 and all(h["type"] == "claim" for h in r.json()["hits"])
        r = client.get(root + "/search", params={"q": "harmonious"}, headers={"Accept": "text/html"})
        assert r.status_code == 200 and "<mark>harmonious</mark>" in r.text and "/doc/page/belgium--european-union" in r.text
        assert client.get(root + "/search").status_code == 400
        assert client.get(root + "/search", params={"q": "x", "limit": "no"}).status_code == 400
        # another process writes: the server sees it as soon as it sees the new store (within a second or two)
        page = tmp_path / "pages" / "belgium-european-union.txt"
        page.write_text(page.read_text(encoding="utf-8").replace("harmonious", "zanzibarian"), encoding="utf-8")
        proc = subprocess.run([sys.executable, "-m", "evidencegraph", "ingest", str(page), "--store", str(store), "-q"],
                              capture_output=True, text=True, timeout=120)
        assert "1 replaced" in proc.stderr, proc.stderr
        deadline = time.monotonic() + 5
        while len(client.get(root + "/search", params={"q": "zanzibarian"}).json()["hits"]) != 1:
            assert time.monotonic() < deadline, "the server did not see the new page within 5 s"
            time.sleep(0.1)
        assert client.get(root + "/search", params={"q": "harmonious"}).json()["hits"] == []
        r = client.get(root + "/question/facts-mentioning", params={"type": "claim", "word": "zanzibarian"},
                       headers={"Accept": "application/sparql-results+json"})
        assert r.status_code == 200, r.text
        assert len(r.json()["results"]["bindings"]) == 1


def test_server_writes_keep_the_index(store):
    token = "search-token-1"
    with live_server(store, Settings(allow_update=True, token=token)) as root, httpx.Client(timeout=30) as client:
        auth = {"Authorization": f"Bearer {token}"}
        r = client.delete(root + "/store", params={"graph": PAGE}, headers=auth)
        assert r.status_code in (200, 204), r.text
        assert client.get(root + "/search", params={"q": "harmonious"}).json()["hits"] == []
        graph = ID + "page/made-by-hand"
        body = (f'<{ID}entity/wakanda> a <https://w3id.org/evidencegraph#Entity> ; '
                f'<http://www.w3.org/2000/01/rdf-schema#label> "Wakanda" .')
        r = client.put(root + "/store", params={"graph": graph}, content=body, headers={**auth, "Content-Type": "text/turtle"})
        assert r.status_code in (201, 204), r.text
        assert [h["pages"] for h in client.get(root + "/search", params={"q": "wakanda"}).json()["hits"]] == [[graph]]
        more = f'<{ID}entity/wakanda> <http://www.w3.org/2000/01/rdf-schema#label> "Wakanda Republic" .'
        r = client.post(root + "/store", params={"graph": graph}, content=more, headers={**auth, "Content-Type": "text/turtle"})
        assert r.status_code == 204, r.text
        assert texts(client.get(root + "/search", params={"q": "republic"}).json()["hits"]) == ["Wakanda Republic"]
        update = (f'INSERT DATA {{ GRAPH <{graph}> {{ <{ID}entity/wakanda> '
                  f'<http://www.w3.org/2000/01/rdf-schema#label> "Wakanda Forever" }} }}')
        r = client.post(root + "/update", content=update, headers={**auth, "Content-Type": "application/sparql-update"})
        assert r.status_code == 204, r.text
        assert texts(client.get(root + "/search", params={"q": "forever"}).json()["hits"]) == ["Wakanda Forever"]


def test_remote_store_is_told_the_index_is_for_folders(store):
    with live_server(store, Settings()) as root:
        result = invoke(CliRunner(), "search", "belgium", "--store", root + "/sparql")
    assert result.exit_code == 1 and "kept for store folders only" in result.stderr
    assert "Traceback" not in result.output


def test_the_workers_rows_are_those_read_back_from_the_store(tmp_path):
    """rows_of_mapping (the ingest workers' one-pass version) and rows_of_nquads (what a rebuild reads
    from the store) give the same rows for every page."""
    from evidencegraph.mapping import nquad_lines, page_triples
    from evidencegraph.pipeline import PageFile, read_page
    from evidencegraph.searchrows import rows_of_mapping, rows_of_nquads

    corpus = tmp_path / "corpus"
    generate(30, corpus, seed=11)
    files = sorted(corpus.rglob("*.txt")) + sorted(PAGES.glob("*.txt"))
    for path in files:
        g, triples = page_triples(read_page(PageFile(path, path.name)))
        quads, _ = nquad_lines(g, triples)
        rows = rows_of_mapping(triples)
        assert rows and sorted(rows) == sorted(rows_of_nquads("".join(quads).encode("utf-8"))), path


_BY_IRI = "JOIN nodes f ON f.id = fact JOIN nodes s ON s.id = {}"  # (a pair's numbers depend on the order of the writes)


def _index_tables(path: Path) -> dict[str, set]:
    import sqlite3

    with sqlite3.connect(path / "search.sqlite") as db:
        return {"docs": set(db.execute("SELECT node, kind, type, text FROM docs")),
                "texts": set(db.execute("SELECT text FROM texts")),
                "links": set(db.execute(f"SELECT f.iri, s.iri FROM links {_BY_IRI.format('source')}")),
                "about": set(db.execute(f"SELECT f.iri, s.iri FROM about {_BY_IRI.format('entity')}")),
                "nodes": set(db.execute("SELECT iri FROM nodes")),  # (every node a pair names, and no other)
                "marks": {key for (key,) in db.execute("SELECT key FROM meta WHERE key != 'version'")}}


def test_an_ingest_in_small_batches_leaves_the_index_a_rebuild_would_make(tmp_path):
    """Batches of three pages, each batch's texts added while the one before loads, then re-exports that
    replace pages batch after batch (whose prunes must come before the next batch's texts): the index is
    exactly what building it again from the store gives, and exact."""
    corpus = tmp_path / "corpus"
    generate(30, corpus, seed=11, reexports=0.5)
    path = tmp_path / "store"
    for folder in [corpus / "0000", corpus / "reexports"]:
        done = invoke(CliRunner(), "ingest", str(folder), "--store", str(path), "-q", "--batch-size", "3")
        assert done.exit_code in (0, 1), done.output
    with Store(path, read_only=True) as st:
        assert st.query("ASK { GRAPH ?g { ?s ?p ?o } }")  # (pages are there)
    after_ingest = _index_tables(path)
    assert "exact" in after_ingest["marks"]
    for f in path.glob("search.sqlite*"):
        f.unlink()
    with Store(path) as st:
        st.search_index()
    assert _index_tables(path) == after_ingest



def test_facts_mentioning_with_an_index_that_cannot_be_opened_is_answered_by_its_sparql(store):
    """An index that cannot be opened (here a folder where its file should be) gives no answer and binds no
    facts: the question's own SPARQL answers, with its rows, instead of an error."""
    from evidencegraph.queries import question, run_question

    q = question("facts-mentioning")
    subs = q.bind({"type": "claim", "word": "belgium"})
    expected = answers_agree(store, "claim", "belgium")
    assert expected
    for name in list(store.iterdir()):
        if name.name.startswith("search.sqlite"):
            name.unlink()
    (store / "search.sqlite").mkdir()
    with Store(store, read_only=True) as opened:
        assert sorted(set(rows_of(run_question(opened, q.name, q.sparql, subs)))) == expected


def test_threads_opening_the_index_at_once_share_one(store, monkeypatch):
    # the server's threads each ask the store for its index on their first search: one is opened (and built
    # again, when it must be, once), not one per thread with the others left open
    import threading

    from evidencegraph.search import SearchIndex

    ensured: list[object] = []
    ensure = SearchIndex.ensure

    def slow_ensure(self: SearchIndex, *args: object) -> None:
        ensured.append(self)
        time.sleep(0.05)  # (opening takes a while: long enough for the others to ask meanwhile)
        ensure(self, *args)

    monkeypatch.setattr(SearchIndex, "ensure", slow_ensure)
    for read_only in (True, False):
        ensured.clear()
        opened = Store(store, read_only=read_only)
        start = threading.Barrier(8)
        got: list[object] = []

        def first_search() -> None:
            start.wait()
            got.append(opened.search_index())

        threads = [threading.Thread(target=first_search) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(got) == 8 and len({id(i) for i in got}) == 1 and got[0] is ensured[0], read_only
        assert len(ensured) == 1, read_only  # opened and checked once
        opened.close()


def test_a_transaction_rolled_back_forgets_what_it_added(store):
    """A write of the index that fails (here inside a transaction of its own, as reindex and ensure make) leaves
    no text counted as there: the next add of the same rows writes them."""
    with Store(store) as opened:
        index = opened.search_index()
        row = ("fact", ID + "fact/rolled-back", "claim", "A rolled back claim")
        with pytest.raises(RuntimeError):
            with index.lock, index._tx():
                index._insert([row])
                raise RuntimeError("the write failed")
        index.add([[row]])
        assert index.db.execute("SELECT count(*) FROM docs WHERE node = ?", (row[1],)).fetchone() == (1,)


def test_an_index_built_again_at_another_version_answers_nothing_to_a_process_that_opened_it_before(store):
    """A server that opened the index before another process built it again at another version (whose tables
    it would misread) takes the index for not exact: the questions are answered through the store."""
    import sqlite3

    with Store(store, read_only=True) as opened:
        index = opened.search_index()
        assert index.exact and index.facts_mentioning("claim", "belgium")
        with sqlite3.connect(store / "search.sqlite") as db:
            db.execute("UPDATE meta SET value = '7' WHERE key = 'version'")
        assert not index.exact
        assert index.facts_mentioning("claim", "belgium") is None and index.connected_via_source("Belgium") is None
