"""Identity and semantics, format 2: one node per thing however many pages and exports meet.

Pages written for the purpose: two exports of one page (facts in another order,
a shared fact under a different first source, a stance and a score changed),
one file through two folder arguments, "Belgium" and "belgium", A↔B and B↔A
of a related relation, a draws_from relation kept directed; revisions, diff,
migration from format 1, and the merged graph checked against the shapes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pyoxigraph as ox

from conftest import HERE, PAGES, invoke

sys.path.insert(0, str(HERE.parent / "benchmarks"))
from generate import generate  # noqa: E402

EG = "https://w3id.org/evidencegraph#"
ID = "https://w3id.org/evidencegraph/id/"

EXPORT_1 = """Relations (1)
related 2.00 — strongly supporting 3 facts
Ghana and Togo share a border, as noted in [1] and [2].
Facts (3)
Sources
Border report ghanaweb.com Ghana News Agency 2 facts
claimGhana and Togo share a border of 1,098 km.
accountsupportsTraders cross the border daily.
Trade figures 2024 trade.example.org 1 fact
measurement30% of Togo's imports come through Ghana.
"""

# The same page exported again: the facts in another order, the shared fact (it is in both
# sources) under its other source, one stance changed, the score drifted.
EXPORT_2 = """Relations (1)
related 2.03 — strongly supporting 3 facts
Ghana and Togo share a border, as noted in [1] and [2].
Facts (3)
Sources
Trade figures 2024 trade.example.org 2 facts
measurement30% of Togo's imports come through Ghana.
accountchallengesTraders cross the border daily.
Border report ghanaweb.com Ghana News Agency 1 fact
claimGhana and Togo share a border of 1,098 km.
"""


def q(runner, store: Path, sparql: str) -> list[list[str]]:
    result = invoke(runner, "query", sparql, "--store", str(store), "-f", "csv")
    assert result.exit_code == 0, result.output
    return [row.split(",") for row in result.stdout.strip().splitlines()[1:]]


def write(path: Path, text: str, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_two_exports_of_one_page_are_one_page_with_two_revisions(runner, tmp_path):
    store = tmp_path / "s"
    write(tmp_path / "a" / "ghana-togo.txt", EXPORT_1)
    write(tmp_path / "b" / "edge-export-17.txt", EXPORT_2)
    assert invoke(runner, "ingest", str(tmp_path / "a"), "--store", str(store), "-q").exit_code == 0
    result = invoke(runner, "ingest", str(tmp_path / "b"), "--store", str(store), "-q")
    assert result.exit_code == 0 and "0 loaded, 1 replaced" in result.stderr, result.output

    pages = json.loads(invoke(runner, "pages", "--store", str(store), "-f", "json").stdout)
    assert len(pages) == 1 and pages[0]["graph"] == ID + "page/ghana--togo"
    # one node per fact, the shared one with both its sources; the stance is the current page's
    facts = q(runner, store, f"SELECT ?f (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?f a <{EG}Fact> ; <{EG}fromSource> ?s }} GROUP BY ?f")
    assert len(facts) == 3
    assert sorted(int(n) for _, n in facts) == [1, 1, 1]  # the current revision lists each under one source
    stances = q(runner, store, f"SELECT ?stance WHERE {{ ?l <{EG}stance> ?stance }}")
    assert stances == [["challenges"]]
    assert q(runner, store, f"SELECT ?s WHERE {{ ?r <{EG}score> ?s }}") == [["2.03"]]

    history = invoke(runner, "history", "Ghana ↔ Togo", "--store", str(store), "-f", "json")
    revs = json.loads(history.stdout)["revisions"]
    assert [(r["number"], r["current"], r["file_name"]) for r in revs] == [
        (1, False, "ghana-togo.txt"), (2, True, "edge-export-17.txt")]
    assert revs[1]["file_path"] == str((tmp_path / "b" / "edge-export-17.txt").resolve())

    diff = json.loads(invoke(runner, "diff", "ghana-togo.txt", "--store", str(store), "-f", "json").stdout)
    (changes,) = [d["changes"] for d in diff]
    assert changes["facts_added"] == changes["facts_removed"] == []
    assert changes["sources_added"] == changes["sources_removed"] == []
    assert [(c["type"], c["from"], c["to"]) for c in changes["listed_under"]] == [
        ("account", "Border report", "Trade figures 2024")]
    assert [(c["from"], c["to"]) for c in changes["stances"]] == [("supports", "challenges")]
    assert [(c["field"], c["from"], c["to"]) for c in changes["relations"]] == [("score", "2.00", "2.03")]
    text = invoke(runner, "diff", "Ghana ↔ Togo", "--store", str(store)).stdout
    assert text == (
        f"# {ID}page/ghana--togo: revision 1 -> 2\n"
        "~ listed under 'Trade figures 2024' (was 'Border report'): Traders cross the border daily.\n"
        "~ stance supports -> challenges: Traders cross the border daily.\n"
        "~ related score: '2.00' -> '2.03'\n")
    # the revisions change no answer about the current corpus: no triple of revision 1 is queryable
    assert q(runner, store, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER (?g != <%s>) }"
             % (ID + "page/ghana--togo")) == [["0"]]
    # and the store's merged graph holds no contradictory single values
    assert invoke(runner, "validate", "--store", str(store)).exit_code == 0


def test_one_file_through_two_folder_arguments(runner, tmp_path):
    write(tmp_path / "nest" / "sub" / "p.txt", EXPORT_1)
    store = tmp_path / "s"
    invoke(runner, "ingest", str(tmp_path / "nest"), "--store", str(store), "-q")
    result = invoke(runner, "ingest", str(tmp_path / "nest" / "sub"), "--store", str(store), "-q")
    assert "0 loaded, 0 replaced, 1 unchanged" in result.stderr
    assert len(json.loads(invoke(runner, "pages", "--store", str(store), "-f", "json").stdout)) == 1
    result = invoke(runner, "remove", str(tmp_path / "nest"), "--store", str(store))  # a folder, written another way
    assert result.exit_code == 0 and "removed p.txt" in result.stderr


def test_belgium_and_belgium_lower_case_are_one_entity_with_a_warning(runner, tmp_path):
    text = (PAGES / "belgium-european-union.txt").read_text(encoding="utf-8")
    write(tmp_path / "p" / "a.txt", text)
    write(tmp_path / "p" / "b.txt", "belgium ↔ France\n" + (PAGES / "crlf-bom.txt").read_text(encoding="utf-8-sig").split("\n", 1)[1])
    store = tmp_path / "s"
    result = invoke(runner, "ingest", str(tmp_path / "p"), "--store", str(store))
    assert result.exit_code == 0, result.output
    assert "Pages print this entity in more than one form: 'Belgium' and 'belgium'." in result.stderr
    labels = q(runner, store, f"SELECT ?l WHERE {{ <{ID}entity/belgium> <http://www.w3.org/2000/01/rdf-schema#label> ?l }} ORDER BY ?l")
    assert labels == [["Belgium"], ["belgium"]]
    assert q(runner, store, f"SELECT (COUNT(*) AS ?n) WHERE {{ ?e a <{EG}Entity> }}") == [["3"]]
    report = json.loads(invoke(runner, "validate", "--store", str(store), "-f", "json").stdout)
    assert report["conforms"] is True and [r["constraint"] for r in report["results"]] == ["egsh:EntityVariantNames"]


def test_a_to_b_and_b_to_a_state_one_related_relation(runner, tmp_path):
    forward = "Ghana ↔ Togo\n" + EXPORT_1
    backward = "Togo ↔ Ghana\n" + EXPORT_1.replace("related 2.00", "related 2.10")
    write(tmp_path / "p" / "gt.txt", forward, 1_700_000_000)
    write(tmp_path / "p" / "tg.txt", backward, 1_700_000_100)
    store = tmp_path / "s"
    result = invoke(runner, "ingest", str(tmp_path / "p"), "--store", str(store), "-q")
    assert result.exit_code == 0, result.output
    rows = q(runner, store, f"SELECT ?r ?s ?o WHERE {{ ?r a <{EG}Relation> ; <{EG}subject> ?s ; <{EG}object> ?o }}")
    assert rows == [[ID + "relation/related/ghana--togo", ID + "entity/ghana", ID + "entity/togo"]]
    # the page keeps its own order, and renders back exactly
    out = invoke(runner, "export", "--store", str(store), "-f", "nq").stdout_bytes
    rendered = invoke(runner, "render", "-", "-f", "nq", input=out).stdout
    assert rendered.startswith("Togo ↔ Ghana\nRelations (1)\nrelated 2.10")


def test_draws_from_stays_directed(runner, tmp_path):
    page = EXPORT_1.replace("Relations (1)\n", "Relations (2)\n").replace(
        "Facts (3)", "draws_from 1.00 — strongly supporting\nComposite node draws from source node\nFacts (3)")
    write(tmp_path / "p" / "x.txt", "Togo ↔ Ghana\n" + page)
    store = tmp_path / "s"
    invoke(runner, "ingest", str(tmp_path / "p"), "--store", str(store), "-q")
    rows = q(runner, store, f"SELECT ?k ?s ?o WHERE {{ ?r <{EG}kind> ?k ; <{EG}subject> ?s ; <{EG}object> ?o }} ORDER BY ?k")
    assert rows == [["draws_from", ID + "entity/togo", ID + "entity/ghana"],
                    ["related", ID + "entity/ghana", ID + "entity/togo"]]
    ids = q(runner, store, f"SELECT ?id WHERE {{ <{ID}relation/draws_from/togo--ghana> <{EG}upstreamId> ?id }}")
    import uuid

    ns = uuid.uuid5(uuid.NAMESPACE_URL, "knowledge-tree")
    assert ids == [[str(uuid.uuid5(ns, "draws_from:togo--ghana"))]]


def test_wiki_links(runner, tmp_path):
    out = invoke(runner, "convert", str(PAGES / "belgium-european-union.txt"), "-f", "nt",
                 "--wiki-base", "https://wiki.example.org/").stdout
    assert f"<{ID}entity/belgium> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <https://wiki.example.org/nodes/belgium> ." in out
    assert ("<https://wiki.example.org/edges?source=011611dc-d953-5ace-bd32-07d8e6d58a31&target=886ff95a-3edf-55a8-b181"
            "-2482b6e35d89>") in out


def test_a_format_1_store_is_refused_then_migrated(runner, tmp_path):
    store = tmp_path / "old"
    (store / "oxigraph").mkdir(parents=True)
    (store / "evidencegraph-store.json").write_text('{"format": 1, "created_by": "evidencegraph 0.1.0"}\n')
    db = ox.Store(str(store / "oxigraph"))
    db.load((HERE / "migration" / "format1.nq").read_bytes(), ox.RdfFormat.N_QUADS)
    db.flush()
    del db
    result = invoke(runner, "pages", "--store", str(store))
    assert result.exit_code == 1 and "format-1 store" in result.stderr and "evidencegraph migrate --store" in result.stderr
    result = invoke(runner, "migrate", "--store", str(store))
    assert result.exit_code == 0, result.output
    assert f"migrated 5 pages to store format 3; the format-1 store is kept in {store.with_name('old.format1')}" in result.stderr
    # the same quads as a fresh ingest of the same pages (checksums and file names carried over)
    fresh = tmp_path / "fresh"
    folder = tmp_path / "pages"
    (folder / "sub").mkdir(parents=True)
    for name in ("belgium-european-union.txt", "all-types.txt", "title-two-cards.txt", "pending-unknown.txt"):
        shutil.copy(PAGES / name, folder / name)
    shutil.copy(PAGES / "crlf-bom.txt", folder / "sub" / "crlf-bom.txt")
    invoke(runner, "ingest", str(folder), "--store", str(fresh), "-q")
    migrated = set(invoke(runner, "export", "--store", str(store), "-f", "nq").stdout.splitlines())
    expected = set(invoke(runner, "export", "--store", str(fresh), "-f", "nq").stdout.splitlines())
    assert migrated == expected
    assert invoke(runner, "migrate", "--store", str(store)).exit_code == 1  # nothing left to migrate


def test_a_format_2_store_is_refused_then_given_its_figures_in_place(runner, tmp_path):
    """Format 3 adds figures to the page graphs; a format-2 store (the same quads without them) is
    refused with what to do, then migrated in place to exactly what a fresh ingest writes, revisions kept."""
    from evidencegraph.mapping import FIGURES

    folder = tmp_path / "pages"
    folder.mkdir()
    for name in ("belgium-european-union.txt", "all-types.txt", "title-two-cards.txt", "pending-unknown.txt"):
        shutil.copy(PAGES / name, folder / name)
    store = tmp_path / "s"
    assert invoke(runner, "ingest", str(folder), "--store", str(store), "-q").exit_code == 0
    page = folder / "belgium-european-union.txt"
    page.write_text(page.read_text().replace("related 3.17", "related 3.32"))  # a second revision
    assert invoke(runner, "ingest", str(folder), "--store", str(store), "-q").exit_code == 0
    expected = set(invoke(runner, "export", "--store", str(store), "-f", "nq").stdout.splitlines())
    assert any("#scoreAgrees>" in line for line in expected) and any("#countsAgree>" in line for line in expected)
    history = invoke(runner, "history", "belgium-european-union.txt", "--store", str(store)).stdout
    # make it the format-2 store an earlier version wrote: no figures, marker 2
    db = ox.Store(str(store / "oxigraph"))
    for q in [q for q in db if q.predicate.value in FIGURES]:
        db.remove(q)
    db.flush()
    del db
    (store / "evidencegraph-store.json").write_text('{"format": 2, "created_by": "evidencegraph 0.2.0"}\n')
    result = invoke(runner, "query", "SELECT * { ?s ?p ?o } LIMIT 1", "--store", str(store))
    assert result.exit_code == 1 and "format-2 store" in result.stderr
    assert f"evidencegraph migrate --store {store}" in result.stderr and "Traceback" not in result.output
    result = invoke(runner, "migrate", "--store", str(store))
    assert result.exit_code == 0, result.output
    assert "migrated 4 pages to store format 3 in place (figures added)" in result.stderr
    assert set(invoke(runner, "export", "--store", str(store), "-f", "nq").stdout.splitlines()) == expected
    assert invoke(runner, "history", "belgium-european-union.txt", "--store", str(store)).stdout == history
    # the default graph has them too: the questions read them there
    rows = invoke(runner, "query", "SELECT (COUNT(*) AS ?n) { ?c <https://w3id.org/evidencegraph#expectedScore> ?e }",
                  "--store", str(store), "-f", "csv").stdout.split()
    assert int(rows[1]) >= 4
    from evidencegraph.figures import rows_of
    from evidencegraph.store import Store

    with Store(store, read_only=True) as st:  # and the store figures the whole-store questions read
        assert len(rows_of(st)["entities"]) >= 6
    assert invoke(runner, "migrate", "--store", str(store)).exit_code == 1  # nothing left to migrate


def test_generated_reexports_merge_without_contradictions(runner, tmp_path):
    """Pages and their re-exports (order, first source, stance, score drift): one page each, the latest
    current; the merged graph conforms to the single-valued rules, and every page renders back exactly."""
    from evidencegraph.render import normalise_page_text

    corpus = tmp_path / "corpus"
    paths = generate(60, corpus, seed=3, reexports=0.5)
    originals = [p for p in paths if p.parent.name != "reexports"]
    again = [p for p in paths if p.parent.name == "reexports"]
    assert len(originals) == 60 and 20 <= len(again) <= 40
    store = tmp_path / "s"
    result = invoke(runner, "ingest", str(corpus), "--store", str(store), "-q")
    assert "60 loaded" in result.stderr and f"{len(again)} replaced" in result.stderr, result.stderr
    report = json.loads(invoke(runner, "validate", "--store", str(store), "-f", "json").stdout)
    store_level = [r for r in report["results"]
                   if r["component"] == "sh:MaxCountConstraintComponent" or r["constraint"] == "egsh:OnePagePerRelation"]
    assert store_level == []
    # every current page renders back exactly from the store's export
    export = invoke(runner, "export", "--store", str(store), "-f", "nq").stdout_bytes
    quads = list(ox.parse(export, ox.RdfFormat.N_QUADS))
    current = {Path(p).name: p for p in again}
    from evidencegraph.render import render_graph

    for row in json.loads(invoke(runner, "pages", "--store", str(store), "-f", "json").stdout):
        name, graph = row["name"], row["graph"]
        source = current.get(name) or next(p for p in originals if p.name == name)
        expected = normalise_page_text(source.read_text(encoding="utf-8-sig"))
        assert render_graph(quads, graph) == expected, name


def _by_graph(data: bytes, fmt: str = "N_QUADS") -> dict[str, list[ox.Quad]]:
    graphs: dict[str, list[ox.Quad]] = {}
    for quad in ox.parse(data, getattr(ox.RdfFormat, fmt)):
        if isinstance(quad.graph_name, ox.NamedNode):
            graphs.setdefault(quad.graph_name.value, []).append(quad)
    return graphs


def test_a_thousand_pages_render_back_exactly_from_an_export_and_a_multi_page_file(runner, tmp_path):
    from evidencegraph.mapping import page_triples
    from evidencegraph.pipeline import PageFile, read_page
    from evidencegraph.render import normalise_page_text, render_graph

    corpus = tmp_path / "corpus"
    paths = generate(1000, corpus, seed=5, faults=0.1)
    expected = {}
    for p in paths:
        graph = page_triples(read_page(PageFile(p, p.name)))[0]
        expected[graph] = normalise_page_text(p.read_text(encoding="utf-8-sig"))
    assert len(expected) == 1000  # every generated page is its own entity pair
    store = tmp_path / "s"
    invoke(runner, "ingest", str(corpus), "--store", str(store), "-q")
    export = invoke(runner, "export", "--store", str(store), "-f", "trig").stdout_bytes
    multi = tmp_path / "all.nq"
    invoke(runner, "convert", str(corpus), "-o", str(multi), "-q")
    for data, fmt in ((export, "TRIG"), (multi.read_bytes(), "N_QUADS")):
        graphs = _by_graph(data, fmt)
        assert graphs.keys() == expected.keys()
        bad = [g for g, quads in graphs.items() if render_graph(quads, g) != expected[g]]
        assert not bad, f"{len(bad)} pages differ, e.g. {bad[:3]}"
    # and convert gives exactly the quads the store keeps (literals in the store's canonical form)
    assert set(ox.parse(export, ox.RdfFormat.TRIG)) == set(ox.parse(multi.read_bytes(), ox.RdfFormat.N_QUADS))


def test_whole_store_validation_agrees_with_pyshacl_on_the_export(runner, tmp_path):
    """validate --store --full (the merged graph) and pyshacl on the store's export: the same results."""
    from evidencegraph.shapes import validate_graph
    from evidencegraph.loaders import to_rdflib

    corpus = tmp_path / "corpus"
    generate(30, corpus, seed=9, faults=0.5, reexports=0.5)
    (corpus / "variant.txt").write_text("ghana ↔ Mali\n" + EXPORT_1, encoding="utf-8")  # "ghana": a variant name
    (corpus / "ghana.txt").write_text("Ghana ↔ Benin\n" + EXPORT_1, encoding="utf-8")
    store = tmp_path / "s"
    invoke(runner, "ingest", str(corpus), "--store", str(store), "-q")
    full = json.loads(invoke(runner, "validate", "--store", str(store), "--full", "-f", "json").stdout)
    export = invoke(runner, "export", "--store", str(store), "-f", "nq").stdout_bytes
    reference = validate_graph(to_rdflib(ox.parse(export, ox.RdfFormat.N_QUADS)), "pyshacl")

    def key(r):
        return (r["focus"] if isinstance(r, dict) else r.focus,
                *((r[k] for k in ("component", "shape", "constraint", "severity", "path")) if isinstance(r, dict)
                  else (r.component, r.shape, r.constraint, r.severity, r.path)))

    assert {key(r) for r in full["results"]} == {key(r) for r in reference.results}
    assert any(r["constraint"] == "egsh:EntityVariantNames" for r in full["results"])
    # the per-page check plus the store-level rules find the same problems as the whole-graph check
    default = json.loads(invoke(runner, "validate", "--store", str(store), "-f", "json").stdout)
    assert {key(r) for r in default["results"]} == {key(r) for r in full["results"]}
    assert not [r for r in full["results"] if r["component"] == "sh:MaxCountConstraintComponent"]
