"""``evidencegraph serve`` facing a network: what it refuses and its limits.

Real uvicorn servers on 127.0.0.1, real HTTP clients, and a real "internal"
HTTP server (the bait) that records every request made to it, so that a
query that reaches the network is seen, not guessed.
"""

from __future__ import annotations

import json
import shutil
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import httpx
import pytest

from conftest import PAGES, invoke
from evidencegraph.server import Settings
from live_server import live_server

TOKEN = "test-token-limits"


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("limits") / "store"
    result = invoke(CliRunner(), "ingest", str(PAGES), "--store", str(path), "-q")
    assert "6 loaded" in result.stderr, result.output
    return path


@pytest.fixture(scope="module")
def url(store_path):
    with live_server(store_path, Settings()) as root:
        yield root


@pytest.fixture(scope="module")
def writable(store_path, tmp_path_factory):
    copy = tmp_path_factory.mktemp("limits-writable") / "store"
    shutil.copytree(store_path, copy)
    with live_server(copy, Settings(allow_update=True, token=TOKEN)) as root:
        yield root


@pytest.fixture(scope="module")
def client():
    with httpx.Client(timeout=60) as c:
        yield c


@contextmanager
def bait_server(body: bytes = b"", content_type: str = "application/sparql-results+json") -> Iterator[tuple[str, list[str]]]:
    """An HTTP server that answers every request with ``body`` and records its path."""
    seen: list[str] = []
    answer = body or json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [
        {"x": {"type": "literal", "value": "internal secret"}}]}}).encode()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append(self.path)
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/internal", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


# --- SERVICE is refused from the parsed query ---------------------------------------------

BYPASSES = [
    "SELECT ?x WHERE {{ #\rSERVICE <{bait}> {{ ?x ?p ?o }} }}",
    "SELECT ?x WHERE {{ #\r\nSERVICE <{bait}> {{ ?x ?p ?o }} }}",
    "SELECT ?x WHERE {{ # a comment\rservice silent <{bait}> {{ ?x ?p ?o }} }}",
    "SELECT ?x WHERE {{ #\fx\rSERVICE <{bait}> {{ ?x ?p ?o }} }}",
    "SELECT ?x WHERE {{\fSERVICE <{bait}> {{ ?x ?p ?o }} }}",
    "SELECT ?x WHERE {{ ?s ?p '#' . #\rSERVICE <{bait}> {{ ?x ?p ?o }} }}",
    "SELECT ?x WHERE {{ ?s ?p \"\"\"a\n#\"\"\" SERVICE <{bait}> {{ ?x ?p ?o }} }}",
    "SELECT ?x WHERE {{ ?s <http://x/#> ?o SERVICE <{bait}> {{ ?x ?p ?o }} }}",
    "SELECT ?x WHERE {{ ?s ?p 'it\\'s #' SERVICE <{bait}> {{ ?x ?p ?o }} }}",
    "SELECT ?x WHERE {{ \\u0053ERVICE <{bait}> {{ ?x ?p ?o }} }}",
    "SELECT ?x WHERE {{ SERVICE\t?where {{ ?x ?p ?o }} VALUES ?where {{ <{bait}> }} }}",
]


@pytest.mark.parametrize("template", BYPASSES, ids=range(len(BYPASSES)))
def test_service_refused_whatever_the_spelling(url, client, template):
    with bait_server() as (bait, seen):
        query = template.format(bait=bait)
        r = client.get(url + "/sparql", params={"query": query})
        assert r.status_code == 400, r.text
        assert "internal secret" not in r.text
        r = client.post(url + "/sparql", content=query.encode(), headers={"Content-Type": "application/sparql-query"})
        assert r.status_code == 400 and "internal secret" not in r.text
        assert seen == []


def test_service_refused_in_query_command(runner, store_path):
    with bait_server() as (bait, seen):
        for template in BYPASSES:
            result = invoke(runner, "query", template.format(bait=bait), "--store", store_path)
            assert result.exit_code == 2, (template, result.output)
            assert "internal secret" not in result.output
        assert seen == []


def test_service_and_load_refused_in_update(writable, client):
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"}
    with bait_server(b"<http://a> <http://b> <http://c> .", "application/n-triples") as (bait, seen):
        for text in (
            f"INSERT {{ GRAPH <http://g> {{ ?x ?x ?x }} }} WHERE {{ #\rSERVICE <{bait}> {{ ?x ?p ?o }} }}",
            f"LOAD <{bait}> INTO GRAPH <http://g>",
            f"# a comment\rLOAD SILENT <{bait}>",
        ):
            r = client.post(writable + "/update", content=text.encode(), headers=auth)
            assert r.status_code == 400, (text, r.text)
        assert seen == []


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { ?s ?p 'SERVICE' }",
    "SELECT ?service WHERE { ?service ?p ?o } LIMIT 1",
    "PREFIX service: <http://example.org/> SELECT * WHERE { ?s service:p ?o }",
    "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o } # SERVICE <http://x/>\n",
    "SELECT * WHERE { ?s ?p \"\"\"#\nSERVICE <http://x/> {}\"\"\" }",
    "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:SERVICE ?o }",
])
def test_queries_that_only_mention_service_still_run(url, client, query):
    r = client.get(url + "/sparql", params={"query": query})
    assert r.status_code == 200, r.text


def test_a_bad_answer_to_an_allowed_service_is_a_clean_error(store_path, client, runner):
    with bait_server(b"this is not SPARQL results", "application/sparql-results+json") as (bait, seen):
        query = f"SELECT ?x WHERE {{ SERVICE <{bait}> {{ ?x ?p ?o }} }}"
        with live_server(store_path, Settings(allow_service=True)) as root:
            r = client.get(root + "/sparql", params={"query": query})
        assert r.status_code == 502, r.text
        assert "SERVICE" in r.text and "Traceback" not in r.text
        result = invoke(runner, "query", query, "--allow-service", "--store", store_path)
        assert result.exit_code == 1, result.output
        assert "SERVICE" in result.stderr and "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) == 1
        assert seen
