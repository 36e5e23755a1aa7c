"""A remote store that cuts answers or fails: a server with a small row cap (Virtuoso's
ResultSetMaxRows), a server killed mid-ingest, a server that answers 500, wrong credentials.

Every command either gives everything or ends with exit 1 and one line that says what happened
(the cap, how many pages were written); a re-run converges.  The ingests here use ``-j 1``: a
failed remote write in the worker pool is another change's business (the ingest hang)."""

from __future__ import annotations

import base64
import csv
import http.client
import io
import threading
import urllib.parse
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

import pytest
from click.testing import CliRunner

from conftest import PAGES, invoke
from servers import Server, missing, server_of
from test_questions import EXPECTED

KINDS = ["oxigraph", "virtuoso"]
CAP = 5  # rows: fewer than the pages (6), the quads of a page, the rows of most questions


def on(runner: CliRunner, srv: Server, *args: str):
    return invoke(runner, *args, "--store", srv.url, env=srv.env)


def export_nq(runner: CliRunner, store: str, env: dict[str, str] | None = None) -> set[str]:
    result = invoke(runner, "export", "-f", "nq", "--store", store, env=env)
    assert result.exit_code == 0, result.output
    return {ln for ln in result.stdout.splitlines() if ln}


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("failures") / "local"
    assert invoke(CliRunner(), "ingest", str(PAGES), "--store", str(folder), "-q").exit_code == 1
    return folder


# --- a server whose row cap is lower than the data --------------------------------------------


@pytest.fixture(scope="module")
def capped(tmp_path_factory) -> Iterator[Server]:
    if missing("virtuoso"):
        pytest.skip(missing("virtuoso"))
    with server_of("virtuoso", tmp_path_factory.mktemp("capped"), max_rows=CAP) as srv:
        result = on(CliRunner(), srv, "ingest", str(PAGES), "-q", "-j", "1")
        assert "6 loaded, 0 replaced, 0 unchanged, 0 failed; 953 quads written" in result.stderr, result.output
        yield srv


def whole_or_names_the_cap(a, b) -> bool:
    """The same as the embedded store, or exit 1 with a line that names the cap."""
    if b.exit_code == 1 and f"ResultSetMaxRows = {CAP}" in b.stderr and len(b.stderr.strip().splitlines()) == 1:
        return True
    assert b.exit_code == a.exit_code, b.output
    return False


def test_under_a_row_cap_pages_exports_stats_and_validate_are_whole(runner, capped, local):
    runner = CliRunner()
    for args in (["pages"], ["validate", "-f", "json"], ["export", "-f", "nq"], ["export", "-f", "nt"],
                 ["export", "-f", "nq", "--graph", "all-types.txt"]):
        a, b = invoke(runner, *args, "--store", str(local)), on(runner, capped, *args)
        assert b.exit_code == a.exit_code, b.output
        assert sorted(b.stdout.splitlines()) == sorted(a.stdout.splitlines()), args
    assert len(on(runner, capped, "pages", "-f", "tsv").stdout.splitlines()) == 7  # a header and 6 pages
    a, b = invoke(runner, "stats", "-f", "nt", "--store", str(local)), on(runner, capped, "stats", "-f", "nt")
    assert whole_or_names_the_cap(a, b) or set(a.stdout.splitlines()) == set(b.stdout.splitlines())
    result = on(runner, capped, "ingest", str(PAGES), "-j", "1")  # finds every page: all unchanged
    assert "0 loaded, 0 replaced, 6 unchanged" in result.stderr


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_under_a_row_cap_a_question_is_whole_or_names_the_cap(runner, capped, local, name):
    params, _, expected = EXPECTED[name]
    args = ["query", "-Q", name, *[a for p in params for a in ("-p", p)], "-f", "csv"]
    a, b = invoke(runner, *args, "--store", str(local)), on(runner, capped, *args)
    if whole_or_names_the_cap(a, b):
        assert len(expected) >= CAP  # refused only when the answer reaches the cap
        return
    assert len(expected) < CAP
    assert sorted(csv.reader(io.StringIO(b.stdout))) == sorted(csv.reader(io.StringIO(a.stdout)))


def test_under_a_row_cap_a_query_is_whole_or_names_the_cap(runner, capped, local):
    for q in ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
              "DESCRIBE <https://w3id.org/evidencegraph/id/entity/belgium>"):
        b = on(runner, capped, "query", q, "-f", "csv" if q.startswith("SELECT") else "nt")
        assert b.exit_code == 1 and f"at most {CAP}" in b.stderr and f"ResultSetMaxRows = {CAP}" in b.stderr, b.output
    q = "SELECT ?g WHERE { GRAPH ?g { ?g a <https://w3id.org/evidencegraph#Page> } } LIMIT 3"
    assert len(on(runner, capped, "query", q, "-f", "csv").stdout.splitlines()) == 4


# --- a server that fails: a proxy in front of the real one -------------------------------------


@contextmanager
def proxy(upstream: str, fault: Callable[[str, int, str], int | None]) -> Iterator[str]:
    """An HTTP proxy to ``upstream``; ``fault(method, writes done so far, Authorization)`` may answer a status instead."""
    target = urllib.parse.urlsplit(upstream)
    state = {"writes": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            write = self.command in ("PUT", "DELETE") or body.startswith(b"update=")
            write = write and b"figuresPending" not in body  # a page write, not a writer's pending mark (figures)
            with lock:
                status = fault(self.command, state["writes"], self.headers.get("Authorization", "")) if write else None
            if status is not None:
                self.answer(status, {"WWW-Authenticate": 'Basic realm="proxy"'} if status == 401 else {},
                            b"injected failure")
                return
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body, headers)
                response = conn.getresponse()
                data = response.read()
                if write and response.status < 300:  # a write done (not a 401 asking for credentials)
                    with lock:
                        state["writes"] += 1
                self.answer(response.status, {k: v for k, v in response.getheaders()
                                              if k.lower() not in ("connection", "content-length", "transfer-encoding")}, data)
            except OSError:
                self.close_connection = True  # the server is gone: so is this connection
            finally:
                conn.close()

        def answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = relay

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        thread.join()
        httpd.server_close()


def through(srv: Server, front: str) -> Server:
    """The server's settings with every URL going through ``front``."""
    back = srv.url.rstrip("/")
    env = {k: v.replace(back, front) for k, v in srv.env.items()}
    return replace(srv, url=front + "/", env=env)


@pytest.fixture(params=KINDS)
def server(request, tmp_path) -> Iterator[Server]:
    if missing(request.param):
        pytest.skip(missing(request.param))
    with server_of(request.param, tmp_path / "server") as srv:
        yield srv


def converges(runner: CliRunner, srv: Server, local: Path) -> None:
    result = on(runner, srv, "ingest", str(PAGES), "-q", "-j", "1")
    assert result.exit_code == 1 and "0 failed" in result.stderr, result.output  # quality.txt does not conform
    assert export_nq(runner, srv.url, srv.env) == export_nq(runner, str(local))


def test_a_server_killed_mid_ingest(runner, server, local):
    assert server.process is not None

    def kill_at_the_third(method: str, writes: int, authorization: str) -> int | None:
        if writes == 2:
            server.process.kill()  # type: ignore[union-attr]
        return None

    with proxy(server.url, kill_at_the_third) as front:
        result = on(runner, through(server, front), "ingest", str(PAGES), "-q", "-j", "1")
    assert result.exit_code == 1 and "Traceback" not in result.output
    line = result.stderr.strip().splitlines()[-1]
    assert "2 pages written before it" in line and "run the same command again" in line, line
    server.process.start()
    assert len(on(runner, server, "pages", "-f", "tsv").stdout.splitlines()) == 3  # a header and whole pages only
    converges(runner, server, local)


def test_a_server_that_answers_500(runner, server, local):
    with proxy(server.url, lambda method, writes, authorization: 500 if writes >= 3 else None) as front:
        result = on(runner, through(server, front), "ingest", str(PAGES), "-q", "-j", "1")
    assert result.exit_code == 1 and "Traceback" not in result.output
    line = result.stderr.strip().splitlines()[-1]
    assert "failed the" in line and "500" in line and "3 pages written before it" in line, line
    assert len(on(runner, server, "pages", "-f", "tsv").stdout.splitlines()) == 4
    converges(runner, server, local)


def test_wrong_credentials(runner, server, local):
    """Virtuoso checks them itself (Digest); Oxigraph server has none, so a proxy asks for Basic ones."""
    if server.kind == "virtuoso":
        result = on(runner, server.with_env(EVIDENCEGRAPH_PASSWORD="wrong"), "ingest", str(PAGES), "-q", "-j", "1")
        assert result.exit_code == 1 and "refused the graph store write (401" in result.stderr, result.output
        assert "0 pages written before it" in result.stderr and "EVIDENCEGRAPH_PASSWORD" in result.stderr
        converges(runner, server, local)
        return
    wanted = "Basic " + base64.b64encode(b"ann:s3cret").decode()
    with proxy(server.url, lambda method, writes, authorization: None if authorization == wanted else 401) as front:
        gated = through(server, front).with_env(EVIDENCEGRAPH_USER="ann", EVIDENCEGRAPH_PASSWORD="wrong")
        result = on(runner, gated, "ingest", str(PAGES), "-q", "-j", "1")
        assert result.exit_code == 1 and "refused the graph store write (401" in result.stderr, result.output
        assert "0 pages written before it" in result.stderr
        converges(runner, gated.with_env(EVIDENCEGRAPH_PASSWORD="s3cret"), local)
