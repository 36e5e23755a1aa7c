"""--store http://…: the commands against a real SPARQL server (Oxigraph server, the `oxigraph` package)."""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from conftest import PAGES, invoke
from test_questions import EXPECTED

SAMPLE = PAGES / "belgium-european-union.txt"
EG = "https://w3id.org/evidencegraph#"
OXIGRAPH = shutil.which("oxigraph") or shutil.which("oxigraph", path=str(Path(sys.executable).parent))
FORMATS = {"nq": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "jsonld": ox.RdfFormat.JSON_LD,
           "nt": ox.RdfFormat.N_TRIPLES, "turtle": ox.RdfFormat.TURTLE, "xml": ox.RdfFormat.RDF_XML}

needs_server = pytest.mark.skipif(OXIGRAPH is None, reason="the oxigraph server is not installed (pip install oxigraph)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def oxigraph_server(folder: Path, union: bool = True) -> Iterator[str]:
    """`oxigraph serve` on a free port (with the union default graph); yields its base URL."""
    assert OXIGRAPH is not None
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "server.log", "wb") as log:
        proc = subprocess.Popen(
            [OXIGRAPH, "serve", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"]
            + (["--union-default-graph"] if union else []),
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(url + "query?query=ASK%7B%7D", timeout=2):
                        break
                except urllib.error.HTTPError as e:
                    e.close()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"oxigraph did not start: {(folder / 'server.log').read_text()}")
                    time.sleep(0.05)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def server(tmp_path) -> Iterator[str]:
    with oxigraph_server(tmp_path / "oxigraph") as url:
        yield url


@pytest.fixture(params=["gsp", "update"])
def writes(request, monkeypatch) -> str:
    """Writes through the Graph Store Protocol (default) or, with EVIDENCEGRAPH_GSP_URL=none, SPARQL Update."""
    if request.param == "update":
        monkeypatch.setenv("EVIDENCEGRAPH_GSP_URL", "none")
    return str(request.param)


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """The test pages in a server and in an embedded store: (URL, folder)."""
    if OXIGRAPH is None:
        pytest.skip("the oxigraph server is not installed (pip install oxigraph)")
    runner = CliRunner()
    folder = tmp_path_factory.mktemp("remote")
    local = folder / "local"
    assert invoke(runner, "ingest", str(PAGES), "--store", str(local), "-q").exit_code == 1
    with oxigraph_server(folder / "oxigraph") as url:
        result = invoke(runner, "ingest", str(PAGES), "--store", url, "-q")
        assert result.exit_code == 1, result.output  # quality.txt does not conform; loaded all the same
        assert f"6 loaded, 0 replaced, 0 unchanged, 0 failed; 893 quads written" in result.stderr
        assert url in result.stderr
        yield url, local


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def distinct(table: list[list[str]]) -> list[list[str]]:
    """Rows once each, in order: Oxigraph's union default graph repeats a triple once per page
    graph that states it (bag semantics), so a question without DISTINCT can repeat rows."""
    return list(dict.fromkeys(tuple(r) for r in table).keys())  # type: ignore[arg-type]


def same(runner, stores, *args: str) -> tuple[str, str]:
    url, local = stores
    a = invoke(runner, *args, "--store", str(local))
    b = invoke(runner, *args, "--store", url)
    assert a.exit_code == b.exit_code, b.output
    return a.stdout, b.stdout


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_questions_as_on_the_embedded_store(runner, stores, name):
    params, columns, expected = EXPECTED[name]
    args = [a for p in params for a in ("-p", p)]
    local, remote = same(runner, stores, "query", "--question", name, *args, "-f", "csv")
    table = list(csv.DictReader(io.StringIO(remote)))
    assert distinct([[r[c] for c in columns] for r in table]) == [tuple(r) for r in expected]
    assert distinct(rows(remote)) == distinct(rows(local))


def test_parameters_are_bound_as_terms_not_pasted(runner, stores):
    url, _ = stores
    evil = 'Belgium" } } UNION { ?x ?y ?z } #'
    result = invoke(runner, "query", "-Q", "relations-of-entity", "-p", f"entity={evil}", "--store", url, "-f", "csv")
    assert result.exit_code == 0 and result.stdout.splitlines() == ["entity,relation,kind,score,strength,other,facts"]
    result = invoke(runner, "query", "-Q", "sources-of-entity", "-p", "entity=Côte d’Ivoire", "--store", url, "-f", "csv")
    assert result.exit_code == 0 and len(result.stdout.splitlines()) > 1


@pytest.mark.parametrize("fmt", ["table", "json", "xml", "tsv"])
def test_select_in_every_results_format(runner, stores, fmt):
    q = f"SELECT ?label WHERE {{ ?e a <{EG}Entity> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label }} ORDER BY ?label"
    local, remote = same(runner, stores, "query", q.replace("?label WHERE", "DISTINCT ?label WHERE"), "-f", fmt)
    assert remote == local and "Belgium" in remote


def test_ask_and_construct(runner, stores):
    assert same(runner, stores, "query", "ASK { ?s ?p 'Belgium' }") == ("true\n", "true\n")
    q = f"CONSTRUCT {{ ?e ?p ?o }} WHERE {{ ?e a <{EG}Entity> ; ?p ?o }}"
    local, remote = same(runner, stores, "query", q, "-f", "nt")
    assert set(remote.splitlines()) == set(local.splitlines()) and len(local.splitlines()) > 10
    local, remote = same(runner, stores, "query", "DESCRIBE <https://w3id.org/evidencegraph/id/entity/belgium>", "-f", "nt")
    assert set(remote.splitlines()) == set(local.splitlines()) and local


def test_bad_query_is_a_usage_error(runner, stores):
    url, _ = stores
    result = invoke(runner, "query", "SELECT * WHERE { ?s ?p", "--store", url)
    assert result.exit_code == 2 and "SPARQL syntax error" in result.output and "Traceback" not in result.output
    result = invoke(runner, "query", "SELECT * WHERE { SERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }", "--store", url)
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
    result = invoke(runner, "export", "--graph", "nope.txt", "--store", stores[0])
    assert result.exit_code == 1 and "nope.txt: no such page" in result.stderr


def test_pages_validate_and_stats(runner, stores):
    local, remote = same(runner, stores, "pages", "-f", "tsv")
    assert remote == local and len(remote.splitlines()) == 7  # a header and 6 pages
    url, path = stores
    a, b = (invoke(runner, "validate", "-f", "json", "--store", s) for s in (str(path), url))
    assert a.exit_code == b.exit_code == 1
    assert json.loads(a.stdout) == json.loads(b.stdout)
    local, remote = same(runner, stores, "stats", "-f", "nt")
    void = "http://rdfs.org/ns/void#"
    for what in ("documents", "entities", "distinctSubjects"):  # void:triples counts per page graph on Oxigraph
        line = f"<https://w3id.org/evidencegraph/id/void> <{void}{what}> "
        assert [ln for ln in remote.splitlines() if ln.startswith(line)] == [ln for ln in local.splitlines() if ln.startswith(line)]


def export_nq(runner, url: str) -> set[str]:
    result = invoke(runner, "export", "--store", url, "-f", "nq")
    assert result.exit_code == 0, result.output
    return {ln for ln in result.stdout.splitlines() if ln}


@needs_server
def test_reingest_changed_page_and_remove(runner, server, writes, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "a.txt").write_bytes(SAMPLE.read_bytes().replace(b"related 3.17", b"cross_type 3.17"))
    (folder / "b.txt").write_bytes((PAGES / "crlf-bom.txt").read_bytes())  # another page: Belgium - France
    result = invoke(runner, "ingest", str(folder), "--store", server, "-j", "1")
    assert result.exit_code == 0 and "2 loaded, 0 replaced, 0 unchanged" in result.stderr
    before = export_nq(runner, server)
    result = invoke(runner, "ingest", str(folder), "--store", server)
    assert "0 loaded, 0 replaced, 2 unchanged, 0 failed; 0 quads written" in result.stderr
    assert export_nq(runner, server) == before

    (folder / "a.txt").write_bytes(SAMPLE.read_bytes().replace(b"related 3.17", b"contradicts 3.17"))
    result = invoke(runner, "ingest", str(folder), "--store", server)
    assert "0 loaded, 1 replaced, 1 unchanged" in result.stderr
    kinds = f"SELECT DISTINCT ?k WHERE {{ ?r <{EG}kind> ?k }} ORDER BY ?k"
    assert invoke(runner, "query", kinds, "--store", server, "-f", "csv").stdout.split() == ["k", "contradicts", "related"]

    result = invoke(runner, "remove", "a.txt", "--store", server)
    assert result.exit_code == 0 and "removed a.txt" in result.stderr
    assert invoke(runner, "query", kinds, "--store", server, "-f", "csv").stdout.split() == ["k", "related"]
    assert {ln.rsplit(" ", 2)[-2] for ln in export_nq(runner, server)} == {"<https://w3id.org/evidencegraph/id/page/belgium--france>"}
    result = invoke(runner, "remove", str(folder / "b.txt"), "--store", server)
    assert result.exit_code == 0
    assert invoke(runner, "pages", "--store", server).stdout == ""
    assert invoke(runner, "query", "ASK { ?s ?p ?o }", "--store", server).stdout == "false\n"
    result = invoke(runner, "remove", "nope.txt", "--store", server)
    assert result.exit_code == 1 and "nope.txt: no such page in the store" in result.stderr


@needs_server
def test_an_export_loads_back(runner, server, writes, tmp_path):
    local = tmp_path / "local"
    invoke(runner, "ingest", str(PAGES), "--store", str(local), "-q")
    exported = tmp_path / "all.nq"
    invoke(runner, "export", "--store", str(local), "-o", str(exported))
    result = invoke(runner, "ingest", str(exported), "--store", server)
    assert result.exit_code == 0 and "6 loaded, 0 replaced" in result.stderr
    assert export_nq(runner, server) == set(exported.read_text().splitlines())
    result = invoke(runner, "ingest", str(exported), "--store", server)
    assert result.exit_code == 0 and "0 loaded, 6 replaced" in result.stderr


@needs_server
def test_union_default_graph_asked_in_the_query_url(runner, tmp_path, monkeypatch):
    with oxigraph_server(tmp_path / "plain", union=False) as url:
        invoke(runner, "ingest", str(SAMPLE), "--store", url)
        q = ("SELECT ?label WHERE { <https://w3id.org/evidencegraph/id/entity/belgium> "
             "<http://www.w3.org/2000/01/rdf-schema#label> ?label }")
        assert invoke(runner, "query", q, "--store", url, "-f", "csv").stdout.split() == ["label"]  # no union: nothing
        monkeypatch.setenv("EVIDENCEGRAPH_QUERY_URL", url + "query?union-default-graph")
        assert invoke(runner, "query", q, "--store", url, "-f", "csv").stdout.split() == ["label", "Belgium"]
        assert "belgium-european-union.txt" in invoke(runner, "pages", "--store", url).stdout


def test_a_dead_server_is_a_clear_error(runner):
    url = f"http://127.0.0.1:{free_port()}/"
    for args in (["ingest", str(SAMPLE)], ["pages"], ["query", "ASK {}"], ["export"], ["stats"], ["validate"],
                 ["remove", "x.txt"]):
        result = invoke(runner, *args, "--store", url)
        assert result.exit_code == 1, args
        assert "cannot reach the SPARQL server at" in result.stderr and "start it" in result.stderr
        assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) == 1


def test_serve_needs_a_store_folder(runner, stores):
    result = invoke(runner, "serve", "--store", stores[0], "--port", str(free_port()))
    assert result.exit_code == 1 and "is a SPARQL server, not a store folder" in result.stderr


def test_a_wrong_endpoint_is_a_clear_error(runner, stores, monkeypatch):
    url, _ = stores
    monkeypatch.setenv("EVIDENCEGRAPH_QUERY_URL", url + "nope")
    result = invoke(runner, "pages", "--store", url)
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
        q = "SELECT (COUNT(*) AS ?n) WHERE { <https://w3id.org/evidencegraph/id/entity/belgium> ?p ?o }"
        assert invoke(runner, "query", q, "--store", root, "-f", "csv").stdout.split()[1] == "3"
