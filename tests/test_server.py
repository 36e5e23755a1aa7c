"""``evidencegraph serve``: a real uvicorn server on 127.0.0.1, real clients.

SPARQL 1.1 Protocol (SPARQLWrapper, rdflib's SPARQLStore, plain httpx),
content negotiation, errors, CORS, limits, updates with a token, the Graph
Store Protocol, linked data and the command line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import RDFS

from conftest import PAGES, invoke
from evidencegraph.mapping import page_triples
from evidencegraph.pipeline import PageFile, read_page
from evidencegraph.server import Settings
from live_server import live_server

EG = "https://w3id.org/evidencegraph#"
ID = "https://w3id.org/evidencegraph/id/"
BELGIUM = ID + "entity/belgium"
RELATION = ID + "relation/related/belgium--european-union"
PAGE = ID + "page/belgium--european-union"
TOKEN = "test-token-5f1c"
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
RELATIONS = f"""PREFIX eg: <{EG}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?r ?label ?score WHERE {{ ?r eg:subject ?e ; eg:score ?score . ?e rdfs:label ?label }} ORDER BY ?r"""


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("serve") / "store"
    result = invoke(CliRunner(), "ingest", str(PAGES), "--store", str(path), "-q")
    assert "6 loaded" in result.stderr, result.output
    return path


@pytest.fixture(scope="module")
def url(store_path):
    with live_server(store_path, Settings()) as root:
        yield root


@pytest.fixture(scope="module")
def limited(store_path, tmp_path_factory):
    copy = tmp_path_factory.mktemp("limited") / "store"
    shutil.copytree(store_path, copy)
    with live_server(copy, Settings(max_rows=5, workers=2)) as root:
        yield root


@pytest.fixture(scope="module")
def writable(store_path, tmp_path_factory):
    copy = tmp_path_factory.mktemp("writable") / "store"
    shutil.copytree(store_path, copy)
    with live_server(copy, Settings(allow_update=True, token=TOKEN)) as root:
        yield root


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=30) as c:
        yield c


def count(client, url, query=COUNT_ALL, **params):
    r = client.get(url + "/sparql", params={"query": query, **params}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


# --- SPARQL Protocol with real clients ----------------------------------------------


def sparqlwrapper(url, query, fmt, method="GET"):
    from SPARQLWrapper import SPARQLWrapper

    sw = SPARQLWrapper(url + "/sparql")
    sw.setQuery(query)
    sw.setReturnFormat(fmt)
    sw.setMethod(method)
    return sw.query()


def test_sparqlwrapper_json_csv_tsv_xml_agree(url):
    from SPARQLWrapper import CSV, JSON, TSV, XML

    rows = sparqlwrapper(url, RELATIONS, JSON).convert()["results"]["bindings"]
    as_json = [(b["r"]["value"], b["label"]["value"], b["score"]["value"]) for b in rows]
    assert (RELATION, "Belgium", "3.17") in as_json
    assert len(as_json) >= 6

    text = sparqlwrapper(url, RELATIONS, CSV, method="POST").convert().decode("utf-8")
    as_csv = [tuple(r) for r in list(csv.reader(io.StringIO(text)))[1:]]
    assert as_csv == as_json

    text = sparqlwrapper(url, RELATIONS, TSV).convert().decode("utf-8")
    lines = text.splitlines()
    assert lines[0].split("\t") == ["?r", "?label", "?score"]
    assert [ln.split("\t")[0] for ln in lines[1:]] == [f"<{r}>" for r, _, _ in as_json]

    doc = sparqlwrapper(url, RELATIONS, XML).convert()  # a DOM
    uris = [n.firstChild.data for n in doc.getElementsByTagName("uri")]
    assert uris == [r for r, _, _ in as_json]


def test_sparqlwrapper_construct_and_ask(url):
    from SPARQLWrapper import JSON, TURTLE, XML

    query = f"CONSTRUCT {{ <{BELGIUM}> ?p ?o }} WHERE {{ <{BELGIUM}> ?p ?o }}"
    g = rdflib.Graph().parse(data=sparqlwrapper(url, query, TURTLE).convert(), format="turtle")
    assert (URIRef(BELGIUM), RDFS.label, Literal("Belgium")) in g
    # type, label, upstreamId, and its two store figures (eg:relationCount, eg:supportingFactCount)
    assert len(g) == 5 and (URIRef(BELGIUM), URIRef(EG + "relationCount"), None) in g
    # (SPARQLWrapper's own RDF conversion uses rdflib's deprecated ConjunctiveGraph: parse the body here)
    g2 = rdflib.Graph().parse(data=sparqlwrapper(url, query, XML).response.read(), format="xml")
    assert set(g2) == set(g)
    assert sparqlwrapper(url, f"ASK {{ <{BELGIUM}> ?p ?o }}", JSON).convert()["boolean"] is True


def test_rdflib_sparqlstore(url, client):
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    store = SPARQLStore(url + "/sparql", returnFormat="json")
    g = rdflib.Graph(store=store)
    try:
        labels = {str(row.label) for row in g.query(f"SELECT ?label WHERE {{ ?e a <{EG}Entity> ; <{RDFS.label}> ?label }}")}
        assert {"Belgium", "European Union", "Côte d’Ivoire"} <= labels
        triples = set(g.triples((URIRef(BELGIUM), None, None)))
        assert (URIRef(BELGIUM), RDFS.label, Literal("Belgium")) in triples
        assert len(g) == count(client, url)
    finally:
        store.close()


def test_protocol_dataset_parameters(url, client):
    total = count(client, url)
    in_page = count(client, url, **{"default-graph-uri": PAGE})
    assert 0 < in_page < total
    r = client.get(url + "/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
                                            "named-graph-uri": PAGE}, headers={"Accept": "text/csv"})
    assert r.text.split() == ["g", PAGE]
    form = client.post(url + "/sparql", data={"query": COUNT_ALL, "default-graph-uri": PAGE},
                       headers={"Accept": "application/sparql-results+json"})
    assert form.json()["results"]["bindings"][0]["n"]["value"] == str(in_page)


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("application/json", "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("text/*;q=0.3, application/sparql-results+json;q=0.1", "text/csv"),
        ("", "application/sparql-results+json"),
    ],
)
def test_results_negotiation(url, client, accept, expected):
    r = client.get(url + "/sparql", params={"query": RELATIONS}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == expected
    assert "Accept" in r.headers["vary"]


@pytest.mark.parametrize(
    "accept, expected",
    [
        ("application/ld+json", "application/ld+json"),
        ("application/n-triples;q=0.9, text/turtle;q=0.8", "application/n-triples"),
        ("application/rdf+xml", "application/rdf+xml"),
        ("application/n-quads", "application/n-quads"),
        ("application/trig", "application/trig"),
        ("*/*", "text/turtle"),
    ],
)
def test_graph_negotiation(url, client, accept, expected):
    query = f"CONSTRUCT {{ <{BELGIUM}> ?p ?o }} WHERE {{ <{BELGIUM}> ?p ?o }}"
    r = client.post(url + "/sparql", content=query, headers={"Content-Type": "application/sparql-query", "Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == expected
    fmt = {"application/ld+json": "json-ld", "application/n-triples": "nt", "application/rdf+xml": "xml",
           "application/n-quads": "nquads", "application/trig": "trig", "text/turtle": "turtle"}[expected]
    if fmt in ("nquads", "trig", "json-ld"):  # read with pyoxigraph (rdflib's readers of these warn of deprecations)
        import pyoxigraph as ox

        name = {"nquads": "N_QUADS", "trig": "TRIG", "json-ld": "JSON_LD"}[fmt]
        quads = list(ox.parse(r.content, getattr(ox.RdfFormat, name)))
        assert any(q.subject.value == BELGIUM and q.object.value == "Belgium" for q in quads)
        return
    g = rdflib.Graph().parse(data=r.text, format=fmt)
    assert (URIRef(BELGIUM), RDFS.label, Literal("Belgium")) in g


def test_errors(url, client):
    r = client.get(url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p "})
    assert r.status_code == 400 and "syntax" in r.text and "line 1, column" in r.text and "Traceback" not in r.text
    r = client.get(url + "/sparql", params={"query": "ASK {}"}, headers={"Accept": "image/png"})
    assert r.status_code == 406 and "application/sparql-results+json" in r.text
    r = client.post(url + "/sparql", content="ASK {}", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and "application/sparql-query" in r.text
    r = client.post(url + "/sparql", content=b"ASK {}")
    assert r.status_code == 400
    r = client.post(url + "/sparql", content="ASK {}".encode("utf-16"),
                    headers={"Content-Type": "application/sparql-query; charset=UTF-16"})
    assert r.status_code == 415
    r = client.put(url + "/sparql", params={"query": "ASK {}"})
    assert r.status_code == 405
    r = client.get(url + "/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert r.status_code == 400 and "exactly one" in r.text


def test_service_refused(url, client):
    r = client.get(url + "/sparql", params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"})
    assert r.status_code == 400 and "SERVICE is refused" in r.text
    ok = client.get(url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p 'SERVICE' }"})
    assert ok.status_code == 200


def test_cors(url, client):
    r = client.get(url + "/sparql", params={"query": "ASK {}"}, headers={"Origin": "http://example.org"})
    assert r.headers["access-control-allow-origin"] == "*"
    pre = client.options(url + "/sparql", headers={
        "Origin": "http://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "content-type" in pre.headers["access-control-allow-headers"].lower()


def test_service_description(url, client):
    r = client.get(url + "/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    endpoint = URIRef(url + "/sparql")
    assert (endpoint, rdflib.RDF.type, sd.Service) in g
    assert (endpoint, sd.supportedLanguage, sd.SPARQL11Query) in g
    assert (endpoint, sd.supportedLanguage, sd.SPARQL11Update) not in g
    browser = client.get(url + "/sparql", headers={"Accept": "text/html,*/*;q=0.8"}, follow_redirects=True)
    assert browser.status_code == 200 and "<textarea" in browser.text  # redirected to the query page


# --- limits --------------------------------------------------------------------------------


def test_max_rows_cuts_with_a_warning(limited, client):
    r = client.get(limited + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 50"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200
    assert len(r.json()["results"]["bindings"]) == 5
    assert r.headers["x-evidencegraph-truncated"] == "5"
    assert "max-rows" in r.json()["warning"] and "max-rows" in r.headers["warning"]
    r = client.get(limited + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 50"}, headers={"Accept": "text/csv"})
    assert len(r.text.strip().splitlines()) == 6
    r = client.get(limited + "/sparql", params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"}, headers={"Accept": "application/n-triples"})
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("# results cut at 5 triples") and len(lines) == 6
    small = client.get(limited + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"})
    assert "x-evidencegraph-truncated" not in small.headers and len(small.json()["results"]["bindings"]) == 3


def test_time_limit_gives_503_and_server_lives_on(store_path, client, tmp_path):
    copy = tmp_path / "store"
    shutil.copytree(store_path, copy)
    # A cross product streams rows for far longer than 1 s; the worker notices the time limit between
    # rows and stops (rows are empty: ?none is never bound, so little memory is used meanwhile).
    slow = "SELECT ?none WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with live_server(copy, Settings(timeout=1.0, max_rows=10**9, workers=1)) as root:
        started = time.monotonic()
        r = client.get(root + "/sparql", params={"query": slow})
        assert r.status_code == 503, r.text[:200]
        assert "time limit of 1 s" in r.text and "--timeout" in r.text
        assert time.monotonic() - started < 10
        # the single worker is free again: the stopped query did not keep it
        assert client.get(root + "/sparql", params={"query": "ASK {}"}).json()["boolean"] is True


# --- updates and the Graph Store Protocol ---------------------------------------------------


def test_read_only_server_refuses_writes(url, client):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post(url + "/update", content="CLEAR ALL", headers={"Content-Type": "application/sparql-update", **auth})
    assert r.status_code == 403 and "--allow-update" in r.text
    r = client.put(url + "/store", params={"graph": "http://example.org/g"}, content="<a:b> <a:c> <a:d> .",
                   headers={"Content-Type": "application/n-triples", **auth})
    assert r.status_code == 403
    assert count(client, url) > 800


def test_update_needs_the_token(writable, client):
    graph = "http://example.org/updated"
    update = f"INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/x> <{RDFS.label}> 'added' }} }}"
    headers = {"Content-Type": "application/sparql-update"}
    r = client.post(writable + "/update", content=update, headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = client.post(writable + "/update", content=update, headers={**headers, "Authorization": "Bearer wrong"})
    assert r.status_code == 401
    ask = f"ASK {{ <http://example.org/x> <{RDFS.label}> 'added' }}"
    assert client.get(writable + "/sparql", params={"query": ask}).json()["boolean"] is False

    r = client.post(writable + "/update", content=update, headers={**headers, "Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 204, r.text
    # the default graph (the union of the named graphs) follows
    assert client.get(writable + "/sparql", params={"query": ask}).json()["boolean"] is True
    r = client.get(writable + "/store", params={"graph": graph}, headers={"Accept": "application/n-triples"})
    assert r.status_code == 200 and '"added"' in r.text

    bad = client.post(writable + "/update", data={"update": "CLEAR XYZ"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 400 and "syntax" in bad.text

    r = client.delete(writable + "/store", params={"graph": graph}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 204
    assert client.get(writable + "/sparql", params={"query": ask}).json()["boolean"] is False
    assert client.get(writable + "/store", params={"graph": graph}).status_code == 404


def test_graph_store_put_get_post(writable, client):
    graph = "http://example.org/gsp"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    one = '<http://example.org/a> <http://example.org/p> "one" .\n'
    two = '<http://example.org/a> <http://example.org/p> "two" .\n'
    r = client.put(writable + "/store", params={"graph": graph}, content=one,
                   headers={"Content-Type": "application/n-triples", **auth})
    assert r.status_code == 201
    r = client.post(writable + "/store", params={"graph": graph}, content=two,
                    headers={"Content-Type": "application/n-triples", **auth})
    assert r.status_code == 204
    r = client.get(writable + "/store", params={"graph": graph}, headers={"Accept": "application/n-triples"})
    assert sorted(r.text.strip().splitlines()) == sorted((one + two).strip().splitlines())
    r = client.put(writable + "/store", params={"graph": graph}, content=two,
                   headers={"Content-Type": "application/n-triples", **auth})
    assert r.status_code == 204
    head = client.head(writable + "/store", params={"graph": graph})
    assert head.status_code == 200
    assert client.get(writable + "/sparql", params={"query": "ASK { ?s ?p 'one' }"}).json()["boolean"] is False
    r = client.put(writable + "/store", params={"default": ""}, content=one,
                   headers={"Content-Type": "application/n-triples", **auth})
    assert r.status_code == 405 and "union" in r.text
    r = client.put(writable + "/store", params={"graph": graph}, content="not turtle <",
                   headers={"Content-Type": "text/turtle", **auth})
    assert r.status_code == 400
    r = client.put(writable + "/store", params={"graph": graph}, content=one, headers={"Content-Type": "image/png", **auth})
    assert r.status_code == 415


# --- linked data ----------------------------------------------------------------------------


def test_entity_303_then_html_and_turtle(url, client):
    r = client.get(url + "/id/entity/belgium", headers={"Accept": "text/html"})
    assert r.status_code == 303 and r.headers["location"] == "/doc/entity/belgium"
    page = client.get(url + r.headers["location"], headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Accept" in page.headers["vary"]
    assert "Relations, ranked by score" in page.text
    assert page.text.index("3.58") < page.text.index("3.17")  # ranked by score
    assert 'href="/doc/relation/related/belgium--european-union"' in page.text
    ttl = client.get(url + "/doc/entity/belgium", headers={"Accept": "text/turtle"})
    assert ttl.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=ttl.text, format="turtle")
    assert (URIRef(BELGIUM), RDFS.label, Literal("Belgium")) in g
    assert (URIRef(RELATION), URIRef(EG + "subject"), URIRef(BELGIUM)) in g  # what points here
    js = client.get(url + "/doc/entity/belgium", headers={"Accept": "application/ld+json"})
    assert json.loads(js.text)["@context"]
    nt = client.get(url + "/doc/entity/belgium?format=nt")
    assert nt.headers["content-type"].startswith("application/n-triples")


def test_non_ascii_iri(url, client):
    path = "/id/entity/" + quote("côte-d-ivoire")
    r = client.get(url + path)
    assert r.status_code == 303
    ttl = client.get(url + r.headers["location"], headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=ttl.text, format="turtle")
    assert (URIRef(ID + "entity/côte-d-ivoire"), RDFS.label, Literal("Côte d’Ivoire")) in g


def test_relation_fact_source_page_html(url, client):
    html = client.get(url + "/doc/relation/related/belgium--european-union", headers={"Accept": "text/html"}).text
    assert "Summary" in html and '<a href="/doc/fact/4005d908c70cebd6"' in html and ">[1]</a>" in html
    assert "Supporting facts" in html
    fact = client.get(url + "/doc/fact/4005d908c70cebd6", headers={"Accept": "text/html"}).text
    assert "harmonious cooperation" in fact and 'href="/doc/source/9f953611cde4e2a6"' in fact
    source = client.get(url + "/doc/source/9f953611cde4e2a6", headers={"Accept": "text/html"}).text
    assert "Facts from this source" in source and "ecfr.eu" in source and source.count('href="/doc/fact/') >= 8
    page = client.get(url + "/doc/page/belgium--european-union", headers={"Accept": "text/html"}).text
    assert "Provenance" in page and "prov:wasDerivedFrom" in page and 'id="card-1"' in page
    ttl = client.get(url + "/doc/page/belgium--european-union", headers={"Accept": "text/turtle"}).text
    g = rdflib.Graph().parse(data=ttl, format="turtle")
    assert (URIRef(PAGE + "#card-1"), URIRef(EG + "states"), URIRef(RELATION)) in g
    listing = client.get(url + "/doc/page/", headers={"Accept": "text/html"}).text
    for p in PAGES.glob("*.txt"):
        page_of = read_page(PageFile(p, p.name))
        key = page_triples(page_of)[0].rsplit("/page/", 1)[1]
        assert f'href="/doc/page/{quote(key)}"' in listing or f'href="/doc/page/{key}"' in listing


def test_unknown_iri_404(url, client):
    assert client.get(url + "/id/entity/Atlantis").status_code == 404
    assert client.get(url + "/doc/entity/Atlantis", headers={"Accept": "text/turtle"}).status_code == 404


def test_ontology_void_home_questions(url, client):
    ttl = client.get(url + "/ontology", headers={"Accept": "text/turtle"})
    g = rdflib.Graph().parse(data=ttl.text, format="turtle")
    assert (URIRef(EG + "Fact"), rdflib.RDF.type, rdflib.OWL.Class) in g
    assert 'id="Fact"' in client.get(url + "/ontology", headers={"Accept": "text/html"}).text
    void = rdflib.Graph().parse(data=client.get(url + "/.well-known/void").text, format="turtle")
    triples = next(void.objects(None, URIRef("http://rdfs.org/ns/void#triples")))
    # VoID counts the pages' triples: the default graph less the store figures (figures.py)
    pages_only = ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER (!STRSTARTS(STR(?s), STR(eg:storeFigures)) && ?p NOT IN "
                  "(eg:relationCount, eg:supportingFactCount, eg:factCount, eg:sourceCount, eg:figureDomain, eg:figurePublisher)) }")
    assert int(triples) == count(client, url, f"PREFIX eg: <{EG}> " + pages_only)
    home = client.get(url + "/").text
    from evidencegraph.queries import questions

    assert "<textarea" in home and all(f'href="/question/{name}"' in home for name in questions())
    r = client.get(url + "/question/relations-of-entity", params={"entity": "Belgium"})
    rows = r.json()["results"]["bindings"]
    assert rows and all(b["entity"]["value"] == "Belgium" for b in rows)
    assert client.get(url + "/question/relations-of-entity").status_code == 400
    assert client.get(url + "/question/nope").status_code == 404


# --- the command line -----------------------------------------------------------------------


def test_allow_update_without_token_refused(runner, store_path, monkeypatch):
    monkeypatch.delenv("EVIDENCEGRAPH_TOKEN", raising=False)
    result = invoke(runner, "serve", "--store", str(store_path), "--allow-update", "--port", "1")
    assert result.exit_code == 2
    assert "EVIDENCEGRAPH_TOKEN" in result.output and "Traceback" not in result.output


def test_port_in_use_is_a_clear_error(runner, store_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        result = invoke(runner, "serve", "--store", str(store_path), "--port", str(s.getsockname()[1]))
    assert result.exit_code == 2 and "choose another --port" in result.output


def _listening_addresses(port: int) -> set[str]:
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            addr, _, hexport = local.partition(":")
            if state == "0A" and int(hexport, 16) == port:
                found.add(addr)
    return found


def test_serve_command_binds_loopback_by_default(store_path, tmp_path):
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs /proc/net/tcp (Linux) to see which address the server listens on")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("EVIDENCEGRAPH_TOKEN", None)
    log = tmp_path / "serve.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "evidencegraph", "serve", "--store", str(store_path), "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            deadline = time.monotonic() + 20
            while "serving on" not in log.read_text() or not _listening_addresses(port):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only
            with httpx.Client(timeout=10) as c:
                r = c.get(f"http://127.0.0.1:{port}/sparql", params={"query": "ASK { ?s ?p ?o }"})
                assert r.json()["boolean"] is True
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
    assert proc.returncode == 0, log.read_text()
    assert f"serving on http://127.0.0.1:{port}/" in log.read_text()
