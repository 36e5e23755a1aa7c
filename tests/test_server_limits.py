"""``evidencegraph serve`` facing a network: what it refuses and its limits.

Real uvicorn servers on 127.0.0.1, real HTTP clients, and a real "internal"
HTTP server (the bait) that records every request made to it, so that a
query that reaches the network is seen, not guessed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
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


# --- limits on requests ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_body(store_path, tmp_path_factory):
    copy = tmp_path_factory.mktemp("limits-body") / "store"
    shutil.copytree(store_path, copy)
    with live_server(copy, Settings(allow_update=True, token=TOKEN, max_body=100_000)) as root:
        yield root


def test_a_body_over_the_limit_is_413_with_the_limit(small_body, client):
    big = b"ASK { }" + b" " * 200_000
    r = client.post(small_body + "/sparql", content=big, headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413 and "100000 bytes" in r.text and "--max-body" in r.text

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b"#" + b"x" * 9_999

    r = client.post(small_body + "/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"})
    assert r.status_code == 413 and "100000 bytes" in r.text
    r = client.put(small_body + "/store", params={"graph": "http://example.org/g"}, content=b"#" * 150_000,
                   headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 413
    ok = client.post(small_body + "/sparql", content=b"ASK { }", headers={"Content-Type": "application/sparql-query"})
    assert ok.status_code == 200


def test_headers_over_the_limit_are_refused_and_the_server_goes_on(url, client):
    r = client.get(url + "/sparql", params={"query": "ASK {}"}, headers={"X-Big": "x" * 100_000})
    assert r.status_code in (400, 431)
    assert client.get(url + "/sparql", params={"query": "ASK {}"}).status_code == 200


# --- the Graph Store reads the whole store without building it in memory ---------------------------


def test_whole_store_read_is_streamed_whole(store_path, client):
    import pyoxigraph as ox

    from evidencegraph.stores import open_store

    with open_store(store_path, read_only=True) as store:
        expected_quads = {(q.subject, q.predicate, q.object, q.graph_name) for q in store.quads()}
        expected_default = {(q.subject, q.predicate, q.object) for q in store.db.quads_for_pattern(None, None, None, ox.DefaultGraph())}
    assert len(expected_default) > 5
    with live_server(store_path, Settings(max_rows=5)) as root:
        with client.stream("GET", root + "/store", headers={"Accept": "application/n-quads"}) as r:
            assert r.status_code == 200 and "content-length" not in r.headers
            body = r.read()
        got = {(q.subject, q.predicate, q.object, q.graph_name) for q in ox.parse(body, ox.RdfFormat.N_QUADS)}
        assert got == expected_quads
        for accept, fmt in (("application/n-triples", ox.RdfFormat.N_TRIPLES), ("text/turtle", ox.RdfFormat.TURTLE)):
            r = client.get(root + "/store?default", headers={"Accept": accept})
            assert r.status_code == 200 and "content-length" not in r.headers
            assert {(t.subject, t.predicate, t.object) for t in ox.parse(r.content, fmt)} == expected_default
        r = client.get(root + "/store", headers={"Accept": "application/ld+json"})
        assert r.status_code == 200 and json.loads(r.content)


# --- small things -----------------------------------------------------------------------------------


def test_a_javascript_iri_is_never_a_link(writable, client):
    evil = "https://w3id.org/evidencegraph/id/entity/Evil"
    turtle = (f"<{evil}> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <javascript:alert(1)> , "
              "<JavaScript:alert(2)> , <data:text/html,x> , <https://example.org/ok> .").encode()
    r = client.put(writable + "/store", params={"graph": "http://example.org/evil"}, content=turtle,
                   headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"})
    assert r.status_code in (201, 204), r.text
    page = client.get(writable + "/doc/entity/Evil", headers={"Accept": "text/html"})
    assert page.status_code == 200
    text = page.text.lower()
    assert "alert(1)" in text  # shown as text
    import re

    assert not re.search(r'<a [^>]*href="(javascript|data):', text)  # (the page's own icon may be a data: link)
    assert 'href="https://example.org/ok"' in text
    home = client.get(writable + "/", headers={"Accept": "text/html"}).text
    # the query page is YASGUI, whose result table passes every IRI link through DOMPurify (it drops
    # javascript: URLs); its vendored bundle must keep doing that
    assert "/assets/query.js" in home
    from evidencegraph.webassets import asset

    bundle = asset("vendor/yasgui.min.js")
    if bundle is not None:
        assert "getUriLinkFromBinding(e,t){let n=sanitize_default(e.value)" in bundle[0].decode("utf-8", "replace")


def raw_get(root: str, target: str, accept: str) -> int:
    """The status of a GET whose request target is sent byte for byte (no client-side escaping)."""
    import socket

    host, port = root.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n".encode())
        head = s.recv(65536).decode("latin-1")
    return int(head.split()[1])


def test_raw_angle_bracket_in_a_document_path_is_400(url):
    for accept in ("text/html", "text/turtle", "*/*"):
        for target in ("/doc/entity/a>b", "/id/entity/a>b", "/doc/entity/a<b", '/doc/entity/a"b', "/doc/entity/a{b}"):
            assert raw_get(url, target, accept) == 400, (target, accept)
        assert raw_get(url, "/doc/entity/a%3Eb", accept) == 404


def test_cors_only_for_reads(writable, client):
    origin = {"Origin": "http://evil.example"}
    pre = client.options(writable + "/update", headers={
        **origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"})
    assert "access-control-allow-origin" not in pre.headers and pre.status_code >= 400
    r = client.post(writable + "/update", content=b"INSERT DATA { GRAPH <http://g> { <http://a> <http://b> 1 } }",
                    headers={**origin, "Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"})
    assert "access-control-allow-origin" not in r.headers
    pre = client.options(writable + "/store", headers={
        **origin, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization"})
    assert "access-control-allow-origin" not in pre.headers or "PUT" not in pre.headers.get("access-control-allow-methods", "")
    pre = client.options(writable + "/sparql", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 200 and pre.headers["access-control-allow-origin"] == "*"


# --- queries past the time limit are ended, and the server stops on SIGTERM --------------------------

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
CHEAP = "ASK { ?s ?p ?o }"


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve_process(store, tmp_path, *args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("EVIDENCEGRAPH_TOKEN", None)
    log = tmp_path / f"serve-{port}.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "evidencegraph", "serve", "--store", str(store), "--port", str(port), *args],
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # listening, and the query workers loaded
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(root + "/sparql", params={"query": "ASK {}"}, timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        yield root, proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _in_thread(fn, *args):
    box: dict[str, object] = {}

    def target():
        start = time.monotonic()
        try:
            box["result"] = fn(*args)
        except Exception as e:  # reported by the test
            box["error"] = e
        box["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def test_a_query_past_the_limit_is_ended_and_cheap_ones_still_answer(store_path, tmp_path):
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads CPU times from /proc (Linux)")
    with serve_process(store_path, tmp_path, "--timeout", "2", "--workers", "2") as (root, proc), httpx.Client(timeout=60) as c:
        get = lambda q: c.get(root + "/sparql", params={"query": q})  # noqa: E731
        assert len(_children(proc.pid)) == 2  # serve starts its --workers at once
        time.sleep(1.0)  # both have loaded
        slow, slow_box = _in_thread(get, SLOW)
        time.sleep(0.8)
        busy = max(_children(proc.pid), key=_cpu_seconds)
        assert _cpu_seconds(busy) > 0.1  # the slow query is running there
        start = time.monotonic()
        assert get(CHEAP).status_code == 200
        assert time.monotonic() - start < 1.5  # answered by the other worker meanwhile, well within the limit
        slow.join(30)
        assert slow_box["result"].status_code == 503 and "time limit of 2 s" in slow_box["result"].text
        assert 1.8 < slow_box["seconds"] < 4
        time.sleep(1.0)
        assert busy not in _children(proc.pid)  # the worker was ended, not left running
        before = sum(_cpu_seconds(p) for p in _children(proc.pid)) + _cpu_seconds(proc.pid)
        time.sleep(1.0)
        after = sum(_cpu_seconds(p) for p in _children(proc.pid)) + _cpu_seconds(proc.pid)
        assert after - before < 0.3  # nothing keeps computing
        assert get(CHEAP).status_code == 200  # a new worker takes its place

        # more slow queries than workers: never more than --workers processes at once
        threads = [_in_thread(get, SLOW) for _ in range(4)]
        most = 0
        while any(t.is_alive() for t, _ in threads):
            most = max(most, len(_children(proc.pid)))
            time.sleep(0.1)
        assert most <= 2
        assert all(box["result"].status_code == 503 for _, box in threads)


def test_sigterm_stops_the_server_whatever_runs(store_path, tmp_path):
    with serve_process(store_path, tmp_path, "--timeout", "60") as (root, proc), httpx.Client(timeout=60) as c:
        slow = [_in_thread(lambda: c.get(root + "/sparql", params={"query": SLOW})) for _ in range(3)]
        time.sleep(1.5)
        workers = _children(proc.pid)
        assert workers
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        assert time.monotonic() - start < 5
        assert proc.returncode == 0
        for pid in workers:
            assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        for thread, box in slow:
            thread.join(10)
            assert "result" not in box or box["result"].status_code == 503


# --- a live view: pages ingested or removed by another process are served ----------------------------


def test_serve_sees_an_ingest_and_a_remove_in_another_process(store_path, tmp_path, client):
    copy = tmp_path / "live"
    shutil.copytree(store_path, copy)
    page = tmp_path / "late-page.txt"
    page.write_bytes("Belgium ↔ Atlantis\n".encode() + (PAGES / "belgium-european-union.txt").read_bytes())  # a new page
    count = "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    env = {**os.environ}
    with live_server(copy, Settings()) as root:
        def pages() -> int:
            return int(client.get(root + "/sparql", params={"query": count}).json()["results"]["bindings"][0]["n"]["value"])

        assert pages() == 6
        subprocess.run([sys.executable, "-m", "evidencegraph", "ingest", str(page), "--store", str(copy), "-q"],
                       check=True, env=env, capture_output=True)
        finished = time.monotonic()
        while pages() != 7:
            assert time.monotonic() - finished < 5, "the new page is not served"
            time.sleep(0.2)
        while "late-page.txt" not in client.get(root + "/doc/page/", headers={"Accept": "text/html"}).text:
            assert time.monotonic() - finished < 5, "the page list does not show the new page"
            time.sleep(0.2)
        subprocess.run([sys.executable, "-m", "evidencegraph", "remove", "late-page.txt", "--store", str(copy)],
                       check=True, env=env, capture_output=True)
        finished = time.monotonic()
        while pages() != 6:
            assert time.monotonic() - finished < 5, "the removed page is still served"
            time.sleep(0.2)
