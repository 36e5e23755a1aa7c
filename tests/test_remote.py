"""--store http://…: the commands against real SPARQL servers, Oxigraph server (the `oxigraph`
package) and Virtuoso 7 (Debian's virtuoso-opensource), started by the tests (tests/servers.py)."""

from __future__ import annotations

import base64
import csv
import io
import json
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import PAGES, invoke
from servers import OXIGRAPH, Server, free_port, missing, oxigraph_server, server_of
from test_questions import EXPECTED

SAMPLE = PAGES / "belgium-european-union.txt"
EG = "https://w3id.org/evidencegraph#"
FORMATS = {"nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD,
           "nt": ox.RdfFormat.N_TRIPLES, "turtle": ox.RdfFormat.TURTLE, "xml": ox.RdfFormat.RDF_XML}
KINDS = ["oxigraph", "virtuoso"]

needs_server = pytest.mark.skipif(OXIGRAPH is None, reason=missing("oxigraph") or "")


def on(runner: CliRunner, srv: Server, *args: str, **kw):
    """A command against a server: --store its URL, with its EVIDENCEGRAPH_* settings."""
    return invoke(runner, *args, "--store", srv.url, env=srv.env, **kw)


def kind_of(request) -> str:
    kind = str(request.param)
    reason = missing(kind)
    if reason:
        pytest.skip(reason)
    return kind


@pytest.fixture(params=KINDS)
def server(request, tmp_path) -> Iterator[Server]:
    with server_of(kind_of(request), tmp_path / "server") as srv:
        yield srv


@pytest.fixture(params=["gsp", "update"])
def writes(request) -> str:
    """Writes through the Graph Store Protocol (default) or, with EVIDENCEGRAPH_GSP_URL=none, SPARQL Update."""
    return str(request.param)


def writing(srv: Server, writes: str) -> Server:
    return srv.with_env(EVIDENCEGRAPH_GSP_URL="none") if writes == "update" else srv


@pytest.fixture(scope="module", params=KINDS)
def stores(request, tmp_path_factory) -> Iterator[tuple[Server, Path]]:
    """The test pages in a server and in an embedded store: (server, folder)."""
    kind = kind_of(request)
    runner = CliRunner()
    folder = tmp_path_factory.mktemp(f"remote-{kind}")
    local = folder / "local"
    assert invoke(runner, "ingest", str(PAGES), "--store", str(local), "-q").exit_code == 1
    with server_of(kind, folder / kind) as srv:
        result = on(runner, srv, "ingest", str(PAGES), "-q")
        assert result.exit_code == 1, result.output  # quality.txt does not conform; loaded all the same
        assert "6 loaded, 0 replaced, 0 unchanged, 0 failed; 953 quads written" in result.stderr
        assert srv.url in result.stderr
        yield srv, local


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def same(runner, stores, *args: str) -> tuple[str, str]:
    srv, local = stores
    a = invoke(runner, *args, "--store", str(local))
    b = on(runner, srv, *args)
    assert a.exit_code == b.exit_code, b.output
    return a.stdout, b.stdout


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_questions_as_on_the_embedded_store(runner, stores, name):
    """Every question promises distinct rows (DISTINCT or GROUP BY), so the answers are equal as bags,
    also where the server's default graph repeats a triple once per page (Oxigraph, Virtuoso)."""
    params, columns, expected = EXPECTED[name]
    args = [a for p in params for a in ("-p", p)]
    local, remote = same(runner, stores, "query", "--question", name, *args, "-f", "csv")
    table = list(csv.DictReader(io.StringIO(remote)))
    assert sorted([r[c] for c in columns] for r in table) == sorted(list(r) for r in expected)
    assert sorted(rows(remote)) == sorted(rows(local))
    assert rows(remote)[0] == rows(local)[0]


def test_parameters_are_bound_as_terms_not_pasted(runner, stores):
    srv, _ = stores
    evil = 'Belgium" } } UNION { ?x ?y ?z } #'
    result = on(runner, srv, "query", "-Q", "relations-of-entity", "-p", f"entity={evil}", "-f", "csv")
    assert result.exit_code == 0 and result.stdout.splitlines() == ["entity,relation,kind,score,strength,other,facts"]
    result = on(runner, srv, "query", "-Q", "sources-of-entity", "-p", "entity=Côte d’Ivoire", "-f", "csv")
    assert result.exit_code == 0 and len(result.stdout.splitlines()) > 1


@pytest.mark.parametrize("fmt", ["table", "json", "xml", "tsv"])
def test_select_in_every_results_format(runner, stores, fmt):
    q = f"SELECT DISTINCT ?label WHERE {{ ?e a <{EG}Entity> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label }} ORDER BY ?label"
    local, remote = same(runner, stores, "query", q, "-f", fmt)
    if fmt == "json":  # the same solutions; Virtuoso adds "link", "distinct" and "ordered" keys
        local, remote = (json.loads(t)["results"]["bindings"] for t in (local, remote))
    assert remote == local and "Belgium" in str(remote)


def test_ask_and_construct(runner, stores):
    assert same(runner, stores, "query", "ASK { ?s ?p 'Belgium' }") == ("true\n", "true\n")
    # a server's default graph is its union of every graph, the store figures' too (README, Remote stores)
    q = (f"CONSTRUCT {{ ?e ?p ?o }} WHERE {{ ?e a <{EG}Entity> ; ?p ?o "
         f"FILTER (?p NOT IN (<{EG}relationCount>, <{EG}supportingFactCount>)) }}")
    local, remote = same(runner, stores, "query", q, "-f", "nt")
    assert set(remote.splitlines()) == set(local.splitlines()) and len(local.splitlines()) > 10
    local, remote = same(runner, stores, "query", "DESCRIBE <https://w3id.org/evidencegraph/id/entity/belgium>", "-f", "nt")
    # what DESCRIBE gives is up to the server: Virtuoso adds the triples that point at the IRI, and leaves
    # out those of its graph of store figures
    pages = {ln for ln in local.splitlines() if "Count>" not in ln}
    assert pages <= set(remote.splitlines()) and pages


def test_bad_query_is_a_usage_error(runner, stores):
    srv, _ = stores
    result = on(runner, srv, "query", "SELECT * WHERE { ?s ?p")
    assert result.exit_code == 2 and "SPARQL syntax error" in result.output and "Traceback" not in result.output
    result = on(runner, srv, "query", "SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }")
    assert result.exit_code == 2 and "SERVICE is refused" in result.output


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_export_as_from_the_embedded_store(runner, stores, fmt):
    local, remote = same(runner, stores, "export", "-f", fmt)
    parsed = [set(ox.parse(text.encode("utf-8"), FORMATS[fmt])) for text in (local, remote)]
    assert parsed[0] == parsed[1] and len(parsed[0]) > 800
    local, remote = same(runner, stores, "export", "-f", fmt, "--graph", "crlf-bom.txt")
    parsed = [set(ox.parse(text.encode("utf-8"), FORMATS[fmt])) for text in (local, remote)]
    assert parsed[0] == parsed[1] and parsed[0]


def test_export_of_a_missing_page(runner, stores):
    result = on(runner, stores[0], "export", "--graph", "nope.txt")
    assert result.exit_code == 1 and "nope.txt: no such page" in result.stderr


def test_pages_validate_and_stats(runner, stores):
    local, remote = same(runner, stores, "pages", "-f", "tsv")
    assert remote == local and len(remote.splitlines()) == 7  # a header and each page once (not its file node too)
    srv, path = stores
    a, b = invoke(runner, "validate", "-f", "json", "--store", str(path)), on(runner, srv, "validate", "-f", "json")
    assert a.exit_code == b.exit_code == 1
    assert json.loads(a.stdout) == json.loads(b.stdout)
    local, remote = same(runner, stores, "stats", "-f", "nt")  # over the page graphs only, each triple once
    assert set(remote.splitlines()) == set(local.splitlines()) and "void#triples" in remote


def export_nq(runner, srv: Server) -> set[str]:
    result = on(runner, srv, "export", "-f", "nq")
    assert result.exit_code == 0, result.output
    return {ln for ln in result.stdout.splitlines() if ln}


def test_reingest_changed_page_and_remove(runner, server, writes, tmp_path):
    srv = writing(server, writes)
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.txt").write_bytes(SAMPLE.read_bytes().replace(b"related 3.17", b"cross_type 3.17"))
    (folder / "b.txt").write_bytes((PAGES / "crlf-bom.txt").read_bytes())  # another page: Belgium - France
    result = on(runner, srv, "ingest", str(folder), "-j", "1")
    assert result.exit_code == 0 and "2 loaded, 0 replaced, 0 unchanged" in result.stderr
    before = export_nq(runner, srv)
    result = on(runner, srv, "ingest", str(folder))
    assert "0 loaded, 0 replaced, 2 unchanged, 0 failed; 0 quads written" in result.stderr
    assert export_nq(runner, srv) == before

    (folder / "a.txt").write_bytes(SAMPLE.read_bytes().replace(b"related 3.17", b"contradicts 3.17"))
    result = on(runner, srv, "ingest", str(folder))
    assert "0 loaded, 1 replaced, 1 unchanged" in result.stderr
    kinds = f"SELECT DISTINCT ?k WHERE {{ ?r <{EG}kind> ?k }} ORDER BY ?k"
    assert on(runner, srv, "query", kinds, "-f", "csv").stdout.split() == ["k", "contradicts", "related"]

    result = on(runner, srv, "remove", "a.txt")
    assert result.exit_code == 0 and "removed a.txt" in result.stderr
    assert on(runner, srv, "query", kinds, "-f", "csv").stdout.split() == ["k", "related"]
    assert {ln.rsplit(" ", 2)[-2] for ln in export_nq(runner, srv)} == {"<https://w3id.org/evidencegraph/id/page/belgium--france>"}
    result = on(runner, srv, "remove", str(folder / "b.txt"))
    assert result.exit_code == 0
    assert on(runner, srv, "pages").stdout == ""
    assert export_nq(runner, srv) == set()
    result = on(runner, srv, "remove", "nope.txt")
    assert result.exit_code == 1 and "nope.txt: no such page in the store" in result.stderr


def test_pages_written_before_format_3_are_written_again(runner, server, tmp_path, monkeypatch):
    """A page a format-2 version wrote lacks the figures the questions read: ingest takes it as changed."""
    from evidencegraph.mapping import FIGURES
    from evidencegraph.remote import RemoteStore

    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.txt").write_bytes(SAMPLE.read_bytes())
    assert on(runner, server, "ingest", str(folder)).exit_code == 0
    with_figures = export_nq(runner, server)
    for k, v in server.env.items():
        monkeypatch.setenv(k, v)
    RemoteStore.from_location(server.url)._update(
        " ; ".join(f"DELETE WHERE {{ GRAPH ?g {{ ?s <{p}> ?o }} }}" for p in sorted(FIGURES)))
    assert not any(f"<{p}>" in line for line in export_nq(runner, server) for p in FIGURES)
    result = on(runner, server, "ingest", str(folder))
    assert result.exit_code == 0 and "0 loaded, 1 replaced, 0 unchanged" in result.stderr, result.output
    assert export_nq(runner, server) == with_figures


def test_an_export_loads_back(runner, server, writes, tmp_path):
    srv = writing(server, writes)
    local = tmp_path / "local"
    invoke(runner, "ingest", str(PAGES), "--store", str(local), "-q")
    exported = tmp_path / "all.nq"
    invoke(runner, "export", "--store", str(local), "-o", str(exported))
    result = on(runner, srv, "ingest", str(exported))
    assert result.exit_code == 0 and "6 loaded, 0 replaced" in result.stderr
    assert export_nq(runner, srv) == set(exported.read_text().splitlines())
    result = on(runner, srv, "ingest", str(exported))
    assert result.exit_code == 0 and "0 loaded, 6 replaced" in result.stderr


def test_update_mode_writes_pages_in_requests_the_server_takes(runner, server, tmp_path):
    """Many pages in SPARQL Update mode: Virtuoso refuses a request over 10 MB, or of ~40 pages (SQ199)."""
    srv = writing(server, "update")
    folder = tmp_path / "many"
    generator = Path(__file__).parent.parent / "benchmarks" / "generate.py"
    subprocess.run([sys.executable, str(generator), "120", str(folder), "--seed", "3"], check=True, capture_output=True)
    local = tmp_path / "local"
    invoke(runner, "ingest", str(folder), "--store", str(local), "-q")
    result = on(runner, srv, "ingest", str(folder), "-q", "--batch-size", "500")
    assert result.exit_code in (0, 1) and "120 loaded, 0 replaced, 0 unchanged, 0 failed" in result.stderr, result.output
    assert export_nq(runner, srv) == set(invoke(runner, "export", "--store", str(local)).stdout.splitlines()) - {""}


@needs_server
def test_union_default_graph_asked_in_the_query_url(runner, tmp_path):
    with oxigraph_server(tmp_path / "plain", union=False) as srv:
        on(runner, srv, "ingest", str(SAMPLE))
        q = ("SELECT ?label WHERE { <https://w3id.org/evidencegraph/id/entity/belgium> "
             "<http://www.w3.org/2000/01/rdf-schema#label> ?label }")
        assert on(runner, srv, "query", q, "-f", "csv").stdout.split() == ["label"]  # no union: nothing
        srv = srv.with_env(EVIDENCEGRAPH_QUERY_URL=srv.url + "query?union-default-graph")
        assert on(runner, srv, "query", q, "-f", "csv").stdout.split() == ["label", "Belgium"]
        assert "belgium-european-union.txt" in on(runner, srv, "pages").stdout


def test_a_dead_server_is_a_clear_error(runner):
    url = f"http://127.0.0.1:{free_port()}/"
    for args in (["ingest", str(SAMPLE)], ["pages"], ["query", "ASK {}"], ["export"], ["stats"], ["validate"],
                 ["remove", "x.txt"]):
        result = invoke(runner, *args, "--store", url)
        assert result.exit_code == 1, args
        assert "cannot reach the SPARQL server at" in result.stderr and "start it" in result.stderr
        assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_serve_needs_a_store_folder(runner, stores):
    result = on(runner, stores[0], "serve", "--port", str(free_port()))
    assert result.exit_code == 1 and "is a SPARQL server, not a store folder" in result.stderr


def test_a_wrong_endpoint_is_a_clear_error(runner, stores):
    srv = stores[0].with_env(EVIDENCEGRAPH_QUERY_URL=stores[0].url + "nope")
    result = on(runner, srv, "pages")
    assert result.exit_code == 1 and "not a SPARQL query endpoint (404" in result.stderr
    assert "EVIDENCEGRAPH_QUERY_URL" in result.stderr


# --- credentials -----------------------------------------------------------------


@contextmanager
def guarded_endpoint(authorization: str) -> Iterator[str]:
    """A stand-in SPARQL endpoint: an empty SELECT result for the right Authorization header, else 401."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Authorization") != authorization:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="sparql"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b'{"head":{"vars":["g","checksum","name"]},"results":{"bindings":[]}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()


def test_basic_credentials_and_bearer_token(runner, monkeypatch):
    basic = "Basic " + base64.b64encode("ann:s3cret".encode()).decode()
    with guarded_endpoint(basic) as url:
        result = invoke(runner, "pages", "--store", url)
        assert result.exit_code == 1 and "refused the query (401" in result.stderr
        assert "EVIDENCEGRAPH_USER" in result.stderr and "EVIDENCEGRAPH_TOKEN" in result.stderr
        monkeypatch.setenv("EVIDENCEGRAPH_USER", "ann")
        monkeypatch.setenv("EVIDENCEGRAPH_PASSWORD", "s3cret")
        result = invoke(runner, "pages", "--store", url)
        assert result.exit_code == 0, result.output
    monkeypatch.delenv("EVIDENCEGRAPH_USER")
    with guarded_endpoint("Bearer t0ken") as url:
        monkeypatch.setenv("EVIDENCEGRAPH_TOKEN", "t0ken")
        assert invoke(runner, "pages", "--store", url).exit_code == 0


def test_against_evidencegraph_serve_with_a_token(runner, tmp_path, monkeypatch):
    """Our own server as the remote store: /sparql, /update, /store; writes need the bearer token."""
    from evidencegraph.server import Settings
    from live_server import live_server

    local = tmp_path / "served"
    invoke(runner, "ingest", str(SAMPLE), "--store", str(local))
    with live_server(local, Settings(allow_update=True, token="t0ken")) as root:
        for name, path in (("QUERY", "sparql"), ("UPDATE", "update"), ("GSP", "store")):
            monkeypatch.setenv(f"EVIDENCEGRAPH_{name}_URL", f"{root}/{path}")
        page = tmp_path / "other.txt"
        page.write_bytes((PAGES / "crlf-bom.txt").read_bytes())
        result = invoke(runner, "ingest", str(page), "--store", root)
        assert result.exit_code == 1 and "refused the graph store write (401" in result.stderr
        monkeypatch.setenv("EVIDENCEGRAPH_TOKEN", "t0ken")
        result = invoke(runner, "ingest", str(page), "--store", root)
        assert result.exit_code == 0 and "1 loaded" in result.stderr, result.output
        names = invoke(runner, "pages", "--store", root).stdout
        assert "other.txt" in names and "belgium-european-union.txt" in names
        # this server's default graph is the union as a set
        q = ("SELECT (COUNT(*) AS ?n) WHERE { <https://w3id.org/evidencegraph/id/entity/belgium> ?p ?o "
             "FILTER (!STRSTARTS(STR(?p), 'https://w3id.org/evidencegraph#')) }")  # not its upstreamId or figures
        assert invoke(runner, "query", q, "--store", root, "-f", "csv").stdout.split()[1] == "2"
