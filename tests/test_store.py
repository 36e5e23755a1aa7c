"""The persistent store, ingest, query and export."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import HERE, PAGES, invoke
from evidencegraph.figures import is_figure
from evidencegraph.store import Store

sys.path.insert(0, str(HERE.parent / "benchmarks"))
from generate import generate  # noqa: E402

SAMPLE = PAGES / "belgium-european-union.txt"
CORPUS = sorted(p for p in PAGES.glob("*.txt"))
EG = "https://w3id.org/evidencegraph#"


@pytest.fixture
def store(tmp_path, runner):
    path = tmp_path / "store"
    result = invoke(runner, "ingest", str(PAGES), "--store", str(path), "-q")
    assert result.exit_code == 1  # quality.txt does not conform; it is loaded all the same
    assert "6 loaded, 0 replaced, 0 unchanged, 0 failed" in result.stderr
    return path


def nquads(runner, store, *extra) -> set[str]:
    result = invoke(runner, "export", "--store", str(store), "-f", "nq", *extra)
    assert result.exit_code == 0, result.output
    return {ln for ln in result.stdout.splitlines() if ln}


def test_export_reingest_gives_same_quads(runner, store, tmp_path):
    exported = tmp_path / "all.nq"
    invoke(runner, "export", "--store", str(store), "-o", str(exported))
    fresh = tmp_path / "fresh"
    result = invoke(runner, "ingest", str(exported), "--store", str(fresh))
    assert result.exit_code == 0, result.output
    assert nquads(runner, fresh) == nquads(runner, store)
    assert len(nquads(runner, store)) > 800


def test_reingest_is_idempotent(runner, store):
    before = nquads(runner, store)
    result = invoke(runner, "ingest", str(PAGES), "--store", str(store), "-q")
    assert "0 loaded, 0 replaced, 6 unchanged, 0 failed; 0 quads written" in result.stderr
    assert nquads(runner, store) == before


def test_changed_page_replaces_its_graph(runner, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    page = folder / "p.txt"
    page.write_bytes(SAMPLE.read_bytes())
    store = tmp_path / "store"
    invoke(runner, "ingest", str(folder), "--store", str(store))
    page.write_bytes(SAMPLE.read_bytes().replace(b"related 3.17", b"cross_type 3.17"))
    result = invoke(runner, "ingest", str(folder), "--store", str(store))
    assert "0 loaded, 1 replaced, 0 unchanged" in result.stderr
    kinds = invoke(runner, "query", "SELECT ?k WHERE { ?r <https://w3id.org/evidencegraph#kind> ?k }",
                   "--store", str(store), "-f", "csv").stdout.split()
    assert kinds == ["k", "cross_type"]


def test_replaced_pages_equal_a_fresh_load(runner, store, tmp_path):
    """The replace path (SPARQL Update) writes what the bulk path writes, escapes and all."""
    changed = tmp_path / "changed"
    changed.mkdir()
    for page in CORPUS:
        (changed / page.name).write_bytes(page.read_bytes().rstrip() + b"\n\n")
    result = invoke(runner, "ingest", str(changed), "--store", str(store), "-q")
    assert "0 loaded, 6 replaced, 0 unchanged" in result.stderr
    invoke(runner, "ingest", str(changed), "--store", str(tmp_path / "fresh"), "-q")
    assert nquads(runner, store) == nquads(runner, tmp_path / "fresh")
    union = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    counts = [invoke(runner, "query", union, "--store", str(s), "-f", "tsv").stdout for s in (store, tmp_path / "fresh")]
    assert counts[0] == counts[1]


@pytest.mark.parametrize("pages_in_batch", [1, 60])  # a transaction, or a bulk load
def test_replacement_that_fails_to_load_keeps_the_old_page(tmp_path, pages_in_batch):
    """A changed page replaces the old one in one step: if writing the new one fails, the old one stays."""
    from evidencegraph.mapping import nquad_lines, page_triples
    from evidencegraph.pipeline import PageFile, read_page
    from evidencegraph.store import Store

    page = read_page(PageFile(SAMPLE, SAMPLE.name))
    g, triples = page_triples(page)
    quads, plain = ("".join(lines).encode() for lines in nquad_lines(g, triples))
    others = []
    for i in range(pages_in_batch - 1):
        other = f"https://example.org/page/{i}"
        others.append((other, f"<https://example.org/s{i}> <https://example.org/p> \"x\" <{other}> .\n".encode(),
                       f"<https://example.org/s{i}> <https://example.org/p> \"x\" .\n".encode()))
    with Store(tmp_path / "s", create=True) as store:
        store.write_batch([(g, quads, plain)])
        before = len(store)
        with pytest.raises(Exception):
            broken = b'<https://example.org/a> <https://example.org/b> "no closing quote\n'
            store.write_batch([(g, broken, broken)] + others, replace=[g])
    with Store(tmp_path / "s") as store:
        assert store.checksum_of(g) == page.checksum
        assert len(store) == before


@pytest.mark.parametrize("pages_in_batch", [1, 60])  # a transaction, or a bulk load
def test_an_index_write_that_fails_leaves_the_store_unwritten_and_the_index_built_again(tmp_path, monkeypatch, caplog, pages_in_batch):
    """The search index's rows are written before the store's pages: when that fails, its error is raised, no
    page of the batch is in the store, the index is no longer exact, and the next writer builds it again."""
    import sqlite3

    from evidencegraph.search import SearchIndex

    batch = [(f"https://example.org/page/{i}", f"<https://example.org/s{i}> <http://www.w3.org/2000/01/rdf-schema#label> \"x{i}\" <https://example.org/page/{i}> .\n".encode(),
              f"<https://example.org/s{i}> <http://www.w3.org/2000/01/rdf-schema#label> \"x{i}\" .\n".encode()) for i in range(pages_in_batch)]

    def failing(self, rows):
        raise sqlite3.OperationalError("disk I/O error")

    with Store(tmp_path / "s", create=True) as store:
        monkeypatch.setattr(SearchIndex, "_insert", failing)
        with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
            store.write_batch(batch)
        monkeypatch.undo()
        assert not any(store.has_graph(g) for g, _, _ in batch) and len(store) == 0
        assert not store.search_index().exact
    with caplog.at_level("WARNING"), Store(tmp_path / "s") as store:
        assert store.search_index().exact and "left unfinished by an interrupted write" in caplog.text


def test_removed_page_gone_shared_nodes_stay(runner, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.txt").write_bytes(SAMPLE.read_bytes())  # Belgium - European Union
    (folder / "b.txt").write_bytes((PAGES / "crlf-bom.txt").read_bytes())  # Belgium - France
    store = tmp_path / "store"
    invoke(runner, "ingest", str(folder), "--store", str(store))
    ask = ("ASK { <https://w3id.org/evidencegraph/id/entity/belgium> "
           "<http://www.w3.org/2000/01/rdf-schema#label> 'Belgium' }")
    count_facts = f"SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{ ?f a <{EG}Fact> }}"
    result = invoke(runner, "remove", "a.txt", "--store", str(store))
    assert result.exit_code == 0 and "removed a.txt" in result.stderr
    assert invoke(runner, "query", ask, "--store", str(store)).stdout == "true\n"
    assert invoke(runner, "query", count_facts, "--store", str(store), "-f", "csv").stdout.split()[1] == "1"
    graphs = {ln.rsplit(" ", 2)[-2] for ln in nquads(runner, store)}
    assert graphs == {"<https://w3id.org/evidencegraph/id/page/belgium--france>"}
    invoke(runner, "remove", str(folder / "b.txt"), "--store", str(store))
    assert invoke(runner, "query", ask, "--store", str(store)).stdout == "false\n"
    assert invoke(runner, "query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "--store", str(store),
                  "-f", "csv").stdout.split()[1] == "0"
    result = invoke(runner, "remove", "nope.txt", "--store", str(store))
    assert result.exit_code == 1 and "nope.txt: no such page in the store" in result.stderr


def test_default_graph_is_a_set_union(runner, store):
    # Belgium is on two pages; its label is one triple of the default graph
    q = ("SELECT (COUNT(*) AS ?n) WHERE { <https://w3id.org/evidencegraph/id/entity/belgium> ?p ?o "
         "FILTER (!STRSTARTS(STR(?p), 'https://w3id.org/evidencegraph#')) }")  # not its upstreamId or store figures
    assert invoke(runner, "query", q, "--store", str(store), "-f", "csv").stdout.split()[1] == "2"  # type, label


def test_not_a_store(runner, tmp_path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file").write_text("x")
    result = invoke(runner, "query", "ASK {}", "--store", str(tmp_path / "junk"))
    assert result.exit_code == 1 and "is not an evidencegraph store" in result.stderr
    result = invoke(runner, "query", "ASK {}", "--store", str(tmp_path / "none"))
    assert result.exit_code == 1 and "no store at" in result.stderr and "evidencegraph ingest" in result.stderr


def test_store_from_environment(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("EVIDENCEGRAPH_STORE", str(tmp_path / "env-store"))
    invoke(runner, "ingest", str(SAMPLE))
    assert (tmp_path / "env-store" / "evidencegraph-store.json").exists()
    monkeypatch.delenv("EVIDENCEGRAPH_STORE")
    monkeypatch.chdir(tmp_path)
    invoke(runner, "ingest", str(SAMPLE))
    assert (tmp_path / ".evidencegraph" / "evidencegraph-store.json").exists()


def test_broken_pages_reported_rest_loaded(runner, tmp_path):
    store = tmp_path / "s"
    result = invoke(runner, "ingest", str(HERE / "broken"), str(SAMPLE), "--store", str(store), "-q")
    assert result.exit_code == 1
    assert "truncated.txt:4:" in result.stderr and "binary.txt:2:" in result.stderr
    assert "1 loaded, 0 replaced, 0 unchanged, 4 failed" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("newer", ["first", "second"])
def test_two_files_of_one_page_in_one_run_the_newer_is_current(runner, tmp_path, newer):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    first, second = tmp_path / "a" / SAMPLE.name, tmp_path / "b" / "export-2.txt"
    first.write_bytes(SAMPLE.read_bytes())
    second.write_bytes(SAMPLE.read_bytes().replace(b"related 3.17", b"related 3.20"))
    os.utime(first, (1_700_000_000, 1_700_000_000 + (100 if newer == "first" else 0)))
    os.utime(second, (1_700_000_000, 1_700_000_000 + (100 if newer == "second" else 0)))
    (tmp_path / "b" / "other.txt").write_bytes((PAGES / "title-two-cards.txt").read_bytes())
    store = tmp_path / "s"
    result = invoke(runner, "ingest", str(tmp_path / "a"), str(tmp_path / "b"), "--store", str(store), "--verbose")
    assert result.exit_code == 0, result.output
    current, old = (first, second) if newer == "first" else (second, first)
    assert (f"warning: {second}: the same page (https://w3id.org/evidencegraph/id/page/belgium--european-union) "
            f"as {first}; {current} is newer and is the current revision, {old} is kept as history") in result.stderr
    summary = ("2 loaded, 1 replaced, 0 unchanged, 0 failed" if newer == "second"
               else "2 loaded, 0 replaced, 0 unchanged, 1 kept as history, 0 failed")
    assert summary in result.stderr
    rel = "<https://w3id.org/evidencegraph/id/relation/related/belgium--european-union>"
    score = invoke(runner, "query", f"SELECT ?s WHERE {{ {rel} <{EG}score> ?s }}", "--store",
                   str(store), "-f", "tsv").stdout.split()[1:]
    assert score == ["3.2" if newer == "second" else "3.17"]
    history = invoke(runner, "history", "Belgium ↔ European Union", "--store", str(store)).stdout.splitlines()
    assert len(history) == 4 and history[-1].split("\t")[1] == "*" and history[-1].endswith(str(current))


def test_one_file_through_two_folder_arguments_is_one_page(runner, tmp_path):
    (tmp_path / "nest" / "sub").mkdir(parents=True)
    (tmp_path / "nest" / "sub" / "p.txt").write_bytes(SAMPLE.read_bytes())
    store = tmp_path / "s"
    assert "1 loaded" in invoke(runner, "ingest", str(tmp_path / "nest"), "--store", str(store), "-q").stderr
    result = invoke(runner, "ingest", str(tmp_path / "nest" / "sub"), "--store", str(store), "-q")
    assert "0 loaded, 0 replaced, 1 unchanged" in result.stderr
    assert len(json.loads(invoke(runner, "pages", "--store", str(store), "-f", "json").stdout)) == 1


def test_export_in_a_folder_loads_between_pages(runner, store, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    invoke(runner, "export", "--store", str(store), "-o", str(folder / "m.nq"))
    result = invoke(runner, "ingest", str(folder), "--glob", "*.nq", "--store", str(tmp_path / "fresh"), "-q")
    assert result.exit_code == 0, result.output
    assert nquads(runner, tmp_path / "fresh") == nquads(runner, store)


def test_any_character_in_an_entity_name_loads(runner, tmp_path):
    """U+FFFD (a replacement character left by a bad decoding) used to make an invalid IRI."""
    result = invoke(runner, "ingest", str(SAMPLE), "--subject", "Belg\ufffdium \ufffc",
                    "--object", "EU", "--store", str(tmp_path / "s"), "-q")
    assert result.exit_code == 0, result.output
    rows = invoke(runner, "query", "SELECT ?e WHERE { ?e a <%sEntity> }" % EG, "--store", str(tmp_path / "s"), "-f", "tsv")
    assert "/entity/belg-ium>" in rows.stdout and "/entity/eu>" in rows.stdout


# --- query ---------------------------------------------------------------------

def test_syntax_error_exit_2_with_position(runner, store):
    result = invoke(runner, "query", "SELECT ?s WHERE {\n  ?s ?p }", "--store", str(store))
    assert result.exit_code == 2
    assert "SPARQL syntax error at line 2, column" in result.stderr


def test_service_refused(runner, store):
    q = "SELECT * WHERE { SERVICE <http://127.0.0.1:1/sparql> { ?s ?p ?o } }"
    result = invoke(runner, "query", q, "--store", str(store))
    assert result.exit_code == 2 and "SERVICE is refused" in result.stderr


def test_query_from_file_and_stdin(runner, store, tmp_path):
    rq = tmp_path / "q.rq"
    rq.write_text(f"SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{ ?f a <{EG}Fact> }}")
    a = invoke(runner, "query", f"@{rq}", "--store", str(store), "-f", "csv").stdout
    b = invoke(runner, "query", "-", "--store", str(store), "-f", "csv", input=rq.read_text()).stdout
    assert a == b and a.split() == ["n", "32"]


SELECT = f"""SELECT ?fact ?text ?n WHERE {{ ?fact a <{EG}Fact> ; <{EG}text> ?text .
  BIND (STRLEN(?text) AS ?n) }} ORDER BY ?text"""


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_result_formats_read_back_by_rdflib(runner, store, fmt):
    from rdflib.query import Result

    reference = [(str(r["fact"].value), r["text"].value) for r in
                 ox.Store.read_only(str(store / "oxigraph")).query(SELECT)]
    out = invoke(runner, "query", SELECT, "--store", str(store), "-f", fmt).stdout_bytes
    parsed = Result.parse(io.BytesIO(out), format=fmt)
    rows = [(str(r[0]), str(r[1])) for r in parsed]
    assert rows == reference and len(rows) == 32


def test_table_output(runner, store):
    out = invoke(runner, "query", "SELECT ?label WHERE { ?e a <https://w3id.org/evidencegraph#Entity> ; "
                 "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label LIMIT 3",
                 "--store", str(store)).stdout
    assert out.splitlines() == ["label", "--------------", "Belgium", "Côte d’Ivoire", "European Union"]


@pytest.mark.parametrize("fmt", ["turtle", "nt", "xml", "jsonld"])
def test_construct_in_rdf_formats(runner, store, fmt):
    q = f"CONSTRUCT {{ ?e <http://www.w3.org/2000/01/rdf-schema#label> ?l }} WHERE {{ ?e a <{EG}Entity> ; <http://www.w3.org/2000/01/rdf-schema#label> ?l }}"
    out = invoke(runner, "query", q, "--store", str(store), "-f", fmt).stdout_bytes
    ox_fmt = {"turtle": "TURTLE", "nt": "N_TRIPLES", "xml": "RDF_XML", "jsonld": "JSON_LD"}[fmt]
    labels = {q.object.value for q in ox.parse(out, getattr(ox.RdfFormat, ox_fmt))}
    assert labels == {"Belgium", "European Union", "Ghana", "Côte d’Ivoire", "Netherlands", "Germany", "Spain",
                      "Portugal", "France"}


# --- export ----------------------------------------------------------------------

OX = {"turtle": "TURTLE", "nt": "N_TRIPLES", "nq": "N_QUADS", "trig": "TRIG", "xml": "RDF_XML", "jsonld": "JSON_LD"}


@pytest.mark.parametrize("fmt", sorted(OX))
def test_exports_parse_to_the_same_triples(runner, store, fmt):
    reference = set(ox.parse("\n".join(nquads(runner, store)).encode(), ox.RdfFormat.N_QUADS))
    out = invoke(runner, "export", "--store", str(store), "-f", fmt).stdout_bytes
    parsed = set(ox.parse(out, getattr(ox.RdfFormat, OX[fmt])))
    if fmt in ("nq", "trig", "jsonld"):
        assert parsed == reference
    else:
        assert {q.triple for q in parsed} == {q.triple for q in reference}
    if fmt == "jsonld":
        from pyld import jsonld

        nq = jsonld.to_rdf(json.loads(out), {"format": "application/n-quads"})
        assert set(ox.parse(nq.encode(), ox.RdfFormat.N_QUADS)) == reference


def test_export_one_page(runner, store):
    lines = nquads(runner, store, "--graph", "quality.txt")
    assert lines and all(ln.endswith("<https://w3id.org/evidencegraph/id/page/portugal--spain> .") for ln in lines)
    assert nquads(runner, store, "--graph", "Spain ↔ Portugal") == lines


def test_stats_is_void(runner, store):
    out = invoke(runner, "stats", "--store", str(store), "-f", "nt").stdout_bytes
    triples = list(ox.parse(out, ox.RdfFormat.N_TRIPLES))
    void = "http://rdfs.org/ns/void#"
    values = {t.predicate.value: t.object.value for t in triples if t.subject.value.endswith("/void")}
    assert values[void + "documents"] == "6"
    facts = [t for t in triples if t.predicate.value == void + "class" and t.object.value == EG + "Fact"]
    (part,) = [t.subject for t in facts]
    assert any(t.subject == part and t.predicate.value == void + "entities" and t.object.value == "32" for t in triples)


# --- a process killed or interrupted in the middle of an ingest ---------------------

def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("how", ["kill -9", "Ctrl-C"])
def test_killed_ingest_leaves_only_whole_pages(tmp_path, how):
    corpus = tmp_path / "corpus"
    generate(1500, corpus, seed=7)
    store = tmp_path / "store"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "evidencegraph", "-v", "ingest", str(corpus), "--store", str(store),
           "--batch-size", "50", "-q", "-j", "2"]
    # its own process group, as a shell gives a command: Ctrl-C goes to the whole group, workers too
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    deadline = time.time() + 120
    writes = 0
    assert proc.stderr is not None
    while time.time() < deadline:
        line = proc.stderr.readline()
        if "wrote" in line:
            writes += 1
            if writes == 3:
                time.sleep(0.05)  # most likely in the middle of the next bulk write
                break
    workers = _children(proc.pid)
    stopped = time.monotonic()
    os.killpg(proc.pid, signal.SIGKILL if how == "kill -9" else signal.SIGINT)
    try:
        _, rest = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"the ingest did not stop on {how}")
    took = time.monotonic() - stopped
    assert writes == 3, "the ingest never got going"
    if how == "Ctrl-C":
        assert took < 5, f"{took:.1f} s to stop"
        assert proc.returncode == 1
        lines = [ln for ln in rest.splitlines() if not ln.startswith("INFO")]
        assert len(lines) == 1 and "Traceback" not in rest, rest
        assert lines[0].startswith("Error: interrupted; ") and "pages written and kept whole" in lines[0], rest
    assert len(workers) == 2
    time.sleep(1)
    assert not [w for w in workers if _alive(w)], "the workers outlived the ingest"
    from evidencegraph.store import Store

    opened = Store(store)  # rolls back a batch the kill interrupted
    print("rolled back", len(opened.recovered), "pages")
    db = opened.db
    graphs = {g.value for g in db.named_graphs()}
    assert 150 <= len(graphs) < 1500 and len(graphs) % 50 == 0
    if how == "Ctrl-C":
        assert not opened.recovered  # the write in progress was finished before stopping
        assert f"{len(graphs)} pages written and kept whole" in rest
    from evidencegraph.mapping import page_triples, to_oxigraph
    from evidencegraph.pipeline import PageFile, read_page

    by_graph = {}
    for p in corpus.rglob("*.txt"):
        page = read_page(PageFile(p, p.name))
        by_graph[page_triples(page)[0]] = page
    for g in graphs:
        page = by_graph[g]
        name = page.name
        canonical = ox.Store()  # the store keeps literals in canonical form ("3.00" -> "3.0")
        canonical.extend(to_oxigraph(*page_triples(page)))
        expected = set(canonical)
        assert set(db.quads_for_pattern(None, None, None, ox.NamedNode(g))) == expected, name
    # and the default graph is exactly the union of the whole pages
    union = {q.triple for q in db.quads_for_pattern(None, None, None, None) if not isinstance(q.graph_name, ox.DefaultGraph)}
    default = {q.triple for q in db.quads_for_pattern(None, None, None, ox.DefaultGraph()) if not is_figure(q)}
    assert default == union
    # the store figures, pending when the ingest died, were counted again when the store was opened
    assert not (store / "figures-pending").exists()
    assert len(list(db.quads_for_pattern(None, ox.NamedNode(EG + "relationCount"), None, ox.DefaultGraph()))) > 0
    del db
    opened.close()
    # a re-run completes the set: the pages kept are unchanged, the others loaded
    again = subprocess.run(cmd[:3] + cmd[4:], capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode in (0, 1), again.stderr
    assert f"{1500 - len(graphs)} loaded, 0 replaced, {len(graphs)} unchanged, 0 failed" in again.stderr, again.stderr[-500:]
    with Store(store, read_only=True) as done:
        assert len(list(done.db.named_graphs())) == 1500
