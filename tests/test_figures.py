"""Store figures (figures.py): the counts the whole-store questions read, kept exact through ingest,
replace, remove, revisions and a write that died, on the embedded store and on an Oxigraph server."""

from __future__ import annotations

import shutil
import sys

import pytest

from conftest import HERE, PAGES, invoke
from evidencegraph.figures import FIGURES_GRAPH, rows_of
from evidencegraph.queries import question
from evidencegraph.store import Store
from servers import OXIGRAPH, missing, server_of

sys.path.insert(0, str(HERE.parent / "benchmarks"))
from generate import generate  # noqa: E402

EG = "https://w3id.org/evidencegraph#"
# the figures counted over the whole merged graph, the way the questions did before they read figures
COUNTED = {
    "entities": f"""PREFIX eg: <{EG}> SELECT ?e (COUNT(DISTINCT ?r) AS ?n) (COUNT(DISTINCT ?f) AS ?m) WHERE {{
        {{ ?r eg:subject ?e }} UNION {{ ?r eg:object ?e }} FILTER (isIRI(?e)) OPTIONAL {{ ?r eg:supportedBy ?f }} }}
        GROUP BY ?e""",  # (an entity is an IRI: top-entities names it by its rdfs:label)
    "types": f"""PREFIX eg: <{EG}> SELECT ?t (COUNT(DISTINCT ?f) AS ?n) WHERE {{ ?f a eg:Fact ; eg:factType ?t }} GROUP BY ?t""",
    "publishers": f"""PREFIX eg: <{EG}> SELECT ?d ?p (COUNT(DISTINCT ?s) AS ?n) (COUNT(DISTINCT ?f) AS ?m) WHERE {{
        ?f a eg:Fact ; eg:fromSource ?s . OPTIONAL {{ ?s eg:domain ?d0 }} OPTIONAL {{ ?s eg:publisher ?p0 }}
        BIND (COALESCE(?d0, "") AS ?d) BIND (COALESCE(?p0, "") AS ?p) }} GROUP BY ?d ?p""",
}


def counted(store) -> dict[str, dict]:
    out: dict[str, dict] = {}
    out["entities"] = {r[0].value: (int(r[1].value), int(r[2].value)) for r in store.query(COUNTED["entities"])}
    out["types"] = {r[0].value: int(r[1].value) for r in store.query(COUNTED["types"])}
    out["publishers"] = {(r[0].value, r[1].value): (int(r[2].value), int(r[3].value))
                         for r in store.query(COUNTED["publishers"])}
    return out


def figures_of(path) -> dict[str, dict]:
    with Store(path, read_only=True) as st:
        return rows_of(st)


def counted_of(path) -> dict[str, dict]:
    with Store(path, read_only=True) as st:
        return counted(st)


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    generate(80, folder, seed=7, reexports=0.3)
    for name in ("belgium-european-union.txt", "all-types.txt", "pending-unknown.txt"):
        shutil.copy(PAGES / name, folder / name)
    return folder


def test_figures_follow_ingest_replace_and_remove(runner, tmp_path, corpus):
    store = tmp_path / "s"
    assert invoke(runner, "ingest", str(corpus), "--store", str(store), "-q", "-j", "1").exit_code in (0, 1)
    first = figures_of(store)
    assert first == counted_of(store) and len(first["entities"]) > 20 and first["publishers"]
    # a changed page (another source's title, so another publisher's counts change too), then removals
    page = corpus / "belgium-european-union.txt"
    page.write_text(page.read_text().replace("Independence play", "Dependence play"))
    assert invoke(runner, "ingest", str(corpus), "--store", str(store), "-q").exit_code in (0, 1)
    assert figures_of(store) == counted_of(store) != first
    victims = sorted(corpus.glob("*.txt"))[:5]
    assert invoke(runner, "remove", *[str(p) for p in victims], "--store", str(store)).exit_code == 0
    after = figures_of(store)
    assert after == counted_of(store) and len(after["entities"]) < len(first["entities"]) + 5
    # everything removed: no figures left
    invoke(runner, "remove", *[str(p) for p in corpus.rglob("*.txt")], "--store", str(store))
    assert figures_of(store) == {"entities": {}, "types": {}, "publishers": {}}


def test_a_first_write_counts_everything_once_without_looking_each_page_up(runner, tmp_path, corpus, monkeypatch):
    """Into a store with no pages, every key a write touches is every key there is: the figures are counted
    once, at the end, and the batches' keys are not looked up page by page (3 ms a page, at ingest)."""
    import evidencegraph.figures as figures

    looked_up: list[int] = []
    real = figures.touched_by
    monkeypatch.setattr(figures, "touched_by", lambda store, graphs: looked_up.append(len(graphs)) or real(store, graphs))
    store = tmp_path / "s"
    assert invoke(runner, "ingest", str(corpus), "--store", str(store), "-q", "-j", "1", "--batch-size", "10").exit_code in (0, 1)
    assert looked_up == [] and figures_of(store) == counted_of(store)
    # a later write into that store (not empty) looks its pages up, and the figures stay exact
    page = corpus / "belgium-european-union.txt"
    page.write_text(page.read_text().replace("Independence play", "Dependence play"))
    assert invoke(runner, "ingest", str(corpus), "--store", str(store), "-q").exit_code in (0, 1)
    assert looked_up and figures_of(store) == counted_of(store)


def test_questions_read_figures_that_equal_the_old_counts(runner, tmp_path, corpus):
    store = tmp_path / "s"
    invoke(runner, "ingest", str(corpus), "--store", str(store), "-q")
    with Store(store, read_only=True) as st:
        top = {(r["entity"].value, r["label"].value, int(r["relations"].value), int(r["facts"].value))
               for r in st.query(question("top-entities").sparql)}
        labels = {(r[0].value, r[1].value) for r in st.query(f"SELECT ?e ?l WHERE {{ ?e a <{EG}Entity> ; "
                                                                  "<http://www.w3.org/2000/01/rdf-schema#label> ?l }")}
        want = counted(st)
        assert top == {(e, label, *want["entities"][e]) for e, label in labels if e in want["entities"]}
        pubs = {(r["domain"].value, r["publisher"].value, int(r["sources"].value), int(r["facts"].value))
                for r in st.query(question("publishers").sparql)}
        assert pubs == {(d, p, *v) for (d, p), v in want["publishers"].items()}
        types = {r["type"].value: int(r["facts"].value) for r in st.query(question("facts-by-type").sparql)}
        assert sum(types.values()) == sum(want["types"].values()) and types["claim"] > 0


def test_a_write_that_died_before_its_figures_is_counted_again(runner, tmp_path, corpus):
    store = tmp_path / "s"
    invoke(runner, "ingest", str(corpus), "--store", str(store), "-q")
    good = figures_of(store)
    with Store(store) as st:  # as if a write had died after its pages, before its figures
        st.db.update(f"PREFIX eg: <{EG}> DELETE WHERE {{ ?e eg:relationCount ?n }}")
        (store / "figures-pending").touch()
        st.db.flush()
        st._touched.clear()
    assert figures_of(store)["entities"] != good["entities"]  # a reader sees them stale, and does not write
    with Store(store):  # the next writer counts everything again
        pass
    assert figures_of(store) == good and not (store / "figures-pending").exists()


def test_a_count_that_fails_changes_no_figure(runner, tmp_path, corpus, monkeypatch):
    """The deletes and inserts of a count are one transaction: a reader never sees figures missing."""
    import evidencegraph.figures as figures_module

    store = tmp_path / "s"
    invoke(runner, "ingest", str(corpus), "--store", str(store), "-q")
    before = figures_of(store)
    real = figures_module.refresh
    with Store(store, read_only=True) as st:
        graph, other = sorted(st.pages())[:2]
    # the last statement fails as it runs (the graph exists), not as it is parsed
    monkeypatch.setattr(figures_module, "refresh", lambda *a: real(*a) + [f"CREATE GRAPH <{other}>"])
    with Store(store) as st:
        st.remove_pages([graph])  # its figures are counted again, and the last statement fails
        assert rows_of(st) == before  # old but whole: nothing was deleted
    assert (store / "figures-pending").exists()
    monkeypatch.setattr(figures_module, "refresh", real)
    with Store(store):  # the next writer counts everything again
        pass
    assert figures_of(store) == counted_of(store) != before


def test_a_good_count_after_a_failed_one_counts_what_that_missed(runner, tmp_path, corpus, monkeypatch):
    import evidencegraph.figures as figures_module

    store = tmp_path / "s"
    invoke(runner, "ingest", str(corpus), "--store", str(store), "-q")
    real, calls = figures_module.refresh, []

    def once_failing(*a):
        calls.append(1)
        return ["INSERT DATA { <urn:x> <urn:y> }"] if len(calls) == 1 else real(*a)

    monkeypatch.setattr(figures_module, "refresh", once_failing)
    with Store(store) as st:
        first, second = sorted(st.pages())[:2]
        st.remove_pages([first])  # this count fails
        assert (store / "figures-pending").exists()
        st.remove_pages([second])  # this one counts everything, the first page's keys too
        assert not (store / "figures-pending").exists()
        assert rows_of(st) == counted(st)


def test_exports_and_pages_leave_the_figures_out(runner, tmp_path, corpus):
    store = tmp_path / "s"
    invoke(runner, "ingest", str(corpus), "--store", str(store), "-q")
    for fmt in ("nq", "nt"):
        out = invoke(runner, "export", "--store", str(store), "-f", fmt).stdout
        assert "#relationCount>" not in out and "storeFigures" not in out and "#sourceCount>" not in out
    assert "storeFigures" not in invoke(runner, "pages", "--store", str(store)).stdout


@pytest.mark.skipif(OXIGRAPH is None, reason=missing("oxigraph") or "")
def test_a_remote_store_keeps_them_in_its_own_graph(runner, tmp_path, corpus):
    with server_of("oxigraph", tmp_path / "server") as srv:
        def on(*args):
            return invoke(runner, *args, "--store", srv.url, env=srv.env)

        local = tmp_path / "local"
        invoke(runner, "ingest", str(corpus), "--store", str(local), "-q")
        on("ingest", str(corpus), "-q")
        victims = sorted(corpus.glob("*.txt"))[:4]
        on("remove", *[str(p) for p in victims])
        invoke(runner, "remove", *[str(p) for p in victims], "--store", str(local))
        for name in ("top-entities", "publishers", "facts-by-type"):
            a = on("query", "--question", name, "-f", "csv").stdout
            b = invoke(runner, "query", "--question", name, "--store", str(local), "-f", "csv").stdout
            assert a == b and len(a.splitlines()) > 2, name
        q = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{FIGURES_GRAPH}> {{ ?s ?p ?o }} }}"
        assert int(on("query", q, "-f", "csv").stdout.split()[1]) > 0


@pytest.mark.skipif(OXIGRAPH is None, reason=missing("oxigraph") or "")
def test_a_remote_write_that_died_before_its_figures_is_counted_again(runner, tmp_path, corpus, monkeypatch):
    """A remote store marks the figures pending in their graph before a write; the next write counts them all,
    even a re-run that finds every page unchanged."""
    import evidencegraph.figures as figures_module
    from evidencegraph.remote import RemoteStore

    dies = lambda *a: ["INSERT DATA { <urn:x> <urn:y> }"]  # noqa: E731  (the count fails: the process died there)
    with server_of("oxigraph", tmp_path / "server") as srv:
        def on(*args, count=True):
            with monkeypatch.context() as m:
                if not count:
                    m.setattr(figures_module, "refresh", dies)
                return invoke(runner, *args, "--store", srv.url, env=srv.env)

        def exact() -> bool:
            with monkeypatch.context() as m:
                for k, v in srv.env.items():
                    m.setenv(k, v)
                remote = RemoteStore.from_location(srv.url)
                return rows_of(remote) == counted(remote)

        pending = f"ASK {{ GRAPH <{FIGURES_GRAPH}> {{ ?s <{EG}figuresPending> ?mark }} }}"
        on("ingest", str(corpus), "-q")
        assert exact() and "false" in on("query", pending, "-f", "json").stdout
        victims = [str(p) for p in sorted(corpus.glob("*.txt"))[:3]]
        on("remove", *victims, count=False)
        assert not exact() and "true" in on("query", pending, "-f", "json").stdout
        on("ingest", str(corpus), "-q")  # the removed pages come back; everything is counted
        assert exact() and "false" in on("query", pending, "-f", "json").stdout
        on("remove", *victims)
        on("ingest", str(corpus), "-q", count=False)  # the pages come back, their figures are not counted
        assert not exact()
        on("ingest", str(corpus), "-q")  # every page unchanged: the mark alone makes it count them
        assert exact() and "false" in on("query", pending, "-f", "json").stdout


@pytest.mark.skipif(OXIGRAPH is None, reason=missing("oxigraph") or "")
def test_two_remote_writers_keep_their_own_marks(runner, tmp_path, corpus, monkeypatch):
    """B's full count removes the mark A set; A sets it again before its next write, so A dying then is seen."""
    import evidencegraph.figures as figures_module
    from evidencegraph.remote import RemoteStore

    with server_of("oxigraph", tmp_path / "server") as srv:
        for k, v in srv.env.items():
            monkeypatch.setenv(k, v)
        invoke(runner, "ingest", str(corpus), "--store", srv.url, "-q")
        a, b = RemoteStore.from_location(srv.url), RemoteStore.from_location(srv.url)
        pages = sorted(a.pages())
        a.remove_pages(pages[:1])  # A writes and counts
        a.figures_stale()  # A is about to write again
        b.flush()  # B finds A's mark: counts everything, removes it
        real = figures_module.refresh
        monkeypatch.setattr(figures_module, "refresh", lambda *x: ["INSERT DATA { <urn:x> <urn:y> }"])
        a.remove_pages(pages[1:3])  # A writes, and dies before its figures
        monkeypatch.setattr(figures_module, "refresh", real)
        c = RemoteStore.from_location(srv.url)
        assert rows_of(c) != counted(c)
        c.flush()  # a later writer with nothing to write finds A's mark
        assert rows_of(c) == counted(c)
        assert not c._rows(f"SELECT ?m WHERE {{ GRAPH <{FIGURES_GRAPH}> {{ ?s <{EG}figuresPending> ?m }} }}")
        d = RemoteStore.from_location(srv.url)
        assert d.remove_pages([]) == 0 and not d._rows(
            f"SELECT ?m WHERE {{ GRAPH <{FIGURES_GRAPH}> {{ ?s <{EG}figuresPending> ?m }} }}")  # no write, no mark


def test_writes_through_serve_keep_them_exact(runner, tmp_path, corpus):
    """A Graph Store PUT, POST and DELETE and a SPARQL Update through ``serve`` leave exact figures."""
    import httpx
    from evidencegraph.server import Settings
    from live_server import live_server

    store = tmp_path / "s"
    invoke(runner, "ingest", str(corpus), "--store", str(store), "-q")
    page = "<https://w3id.org/evidencegraph/id/page/zz--yy>"
    body = (f'{page} a <{EG}Page> . <https://w3id.org/evidencegraph/id/relation/related/yy--zz> <{EG}subject> '
            f'<https://w3id.org/evidencegraph/id/entity/yy> ; <{EG}object> <https://w3id.org/evidencegraph/id/entity/zz> ; '
            f'<{EG}supportedBy> <https://w3id.org/evidencegraph/id/fact/f1> .\n')
    more = (f'<https://w3id.org/evidencegraph/id/relation/related/yy--zz> <{EG}supportedBy> '
            f'<https://w3id.org/evidencegraph/id/fact/f2> .\n')
    headers = {"Authorization": "Bearer t", "Content-Type": "text/turtle"}
    with live_server(store, Settings(allow_update=True, token="t")) as root, httpx.Client(timeout=60) as client:
        gsp = root + "/store?graph=" + page.strip("<>")

        def figures() -> tuple[int, int] | None:  # asked of the server, which holds the store
            q = (f"SELECT ?n ?m WHERE {{ <https://w3id.org/evidencegraph/id/entity/yy> <{EG}relationCount> ?n ; "
                 f"<{EG}supportingFactCount> ?m }}")
            got = client.get(root + "/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"})
            rows = got.json()["results"]["bindings"]
            return (int(rows[0]["n"]["value"]), int(rows[0]["m"]["value"])) if rows else None

        assert client.put(gsp, content=body, headers=headers).status_code in (201, 204)
        assert figures() == (1, 1)
        assert client.post(gsp, content=more, headers=headers).status_code in (200, 204)
        assert figures() == (1, 2)
        update = f"DELETE DATA {{ GRAPH {page} {{ <https://w3id.org/evidencegraph/id/relation/related/yy--zz> <{EG}supportedBy> <https://w3id.org/evidencegraph/id/fact/f2> }} }}"
        r = client.post(root + "/update", data={"update": update}, headers={"Authorization": "Bearer t"})
        assert r.status_code == 204, r.text
        assert figures() == (1, 1)
        assert client.delete(gsp, headers=headers).status_code == 204
        assert figures() is None
    with Store(store, read_only=True) as st:
        assert rows_of(st) == counted(st)  # the update's resync and recount kept every other figure exact


def _nq(graph: str, body: str) -> str:
    """N-Quads of a hand-written graph (Turtle-like lines: subject predicate object)."""
    return "".join(f"{line.strip()[:-1].strip()} <{graph}> .\n" for line in body.strip().splitlines())


def test_rdf_pages_that_move_a_source_between_publishers_or_hold_odd_terms(runner, tmp_path):
    """A source's publisher is not part of its IRI: one page may print it, another not (its "no
    publisher" key must be counted again too); data from RDF may have a literal or a blank node where
    pages have IRIs: the figures skip them, and the store stays writable."""
    s, d, t = "<http://x/source/s>", f"<{EG}domain>", "<http://purl.org/dc/terms/title>"
    a = _nq("http://x/page/a", f"""
        <http://x/page/a> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EG}Page> .
        {s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EG}Source> .
        {s} {d} "d.org" .
        {s} {t} "T" .
        <http://x/fact/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EG}Fact> .
        <http://x/fact/1> <{EG}fromSource> {s} .
        <http://x/fact/1> <{EG}factType> <{EG}claim> .
        <http://x/rel/1> <{EG}subject> <http://x/e/1> .
        <http://x/rel/1> <{EG}object> "a literal" .
        <http://x/rel/1> <{EG}supportedBy> <http://x/fact/1> .""")
    b = _nq("http://x/page/b", f"""
        <http://x/page/b> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EG}Page> .
        {s} <{EG}publisher> "P" .
        _:x <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{EG}Source> .
        _:x <{EG}publisher> "Q" .""")
    (tmp_path / "a.nq").write_text(a)
    (tmp_path / "b.nq").write_text(b)
    store = tmp_path / "s"
    for name in ("a.nq", "b.nq"):
        result = invoke(runner, "ingest", str(tmp_path / name), "--store", str(store), "--no-validate")
        assert result.exit_code in (0, 1) and "Traceback" not in result.output, result.output
        assert figures_of(store) == counted_of(store), name
    assert invoke(runner, "remove", "http://x/page/b", "--store", str(store)).exit_code == 0
    assert figures_of(store) == counted_of(store)
    assert figures_of(store)["publishers"] == {("d.org", ""): (1, 1)}
    assert not (store / "figures-pending").exists()


def test_the_full_count_of_publishers_equals_counting_every_key(runner, tmp_path, corpus):
    """A first ingest counts the publisher figures in one pass (_all_publisher_rows); a later write counts the
    keys it touched one by one (_publisher_rows): both give the same rows for the same store."""
    from evidencegraph.figures import _all_publisher_rows, _every, _keys_of, _publisher_rows

    store = tmp_path / "s"
    invoke(runner, "ingest", str(corpus), "--store", str(store), "-q")
    with Store(store, read_only=True) as st:
        sources = _every(st, "s", "{ ?s a eg:Source } UNION { ?f eg:fromSource ?s } FILTER (isIRI(?s))")
        every = _all_publisher_rows(st)
        assert len(every) > 3 and any(p == "" for _, p, _, _ in every)
        assert sorted(every) == sorted(_publisher_rows(st, _keys_of(st, sources)))
