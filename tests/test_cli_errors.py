"""No traceback reaches a user: output that cannot be written, a damaged store, an error nobody planned
for; and the store's pages as the user sees them (graphs loaded from foreign N-Quads, remove FOLDER)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from conftest import PAGES, invoke
from test_remote import needs_server, oxigraph_server

SAMPLE = PAGES / "belgium-european-union.txt"


def cli(*args: str | Path, cwd: Path | None = None, stdout: int | None = subprocess.PIPE,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "evidencegraph", *map(str, args)], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, timeout=120, cwd=cwd, env=env)


@pytest.fixture
def store(tmp_path, runner) -> Path:
    path = tmp_path / "store"
    assert invoke(runner, "ingest", SAMPLE, "--store", path, "-q").exit_code == 0
    return path


def test_output_into_a_missing_folder(runner, store, tmp_path):
    target = tmp_path / "no" / "such" / "folder" / "out.nq"
    for args in (["export", "--store", store], ["convert", SAMPLE], ["stats", "--store", store],
                 ["query", "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "--store", store]):
        result = invoke(runner, *args, "-o", target)
        assert result.exit_code == 1, result.output
        assert result.stderr == f"Error: {target}: cannot write the file (No such file or directory); " \
                                "the folder does not exist\n", result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk(store, tmp_path):
    # through a link, so that code which renames a file over its target (as it once did) cannot replace
    # the device itself when the tests run as root
    full = tmp_path / "full.nq"
    full.symlink_to("/dev/full")
    result = cli("export", "--store", store, "-o", full)
    assert full.is_symlink()  # written through, not replaced
    assert result.returncode == 1
    assert result.stderr == "Error: cannot write: No space left on device; free some space and try again\n"
    with open("/dev/full", "w") as full:  # stdout on a full disk
        result = cli("export", "--store", store, stdout=full.fileno())
    assert result.returncode == 1
    assert result.stderr == "Error: cannot write: No space left on device; free some space and try again\n"


def test_a_damaged_store(store):
    for f in (store / "oxigraph").iterdir():
        if f.name.endswith(".sst") or f.name == "CURRENT":
            f.write_bytes(b"\x00garbage" * 16)
    for args in (["pages"], ["query", "ASK { ?s ?p ?o }"], ["export"], ["ingest", SAMPLE]):
        result = cli(*args, "--store", store)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"Error: the store at {store} is damaged (Corruption: "), line
        assert line.endswith("restore it from a backup, or start a new store and ingest the pages (or an export) again")


def test_a_damaged_store_marker(runner, store):
    (store / "evidencegraph-store.json").write_text("[]")
    result = invoke(runner, "pages", "--store", store)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {store / 'evidencegraph-store.json'} is damaged (not a JSON object); " \
                            "restore it or start a new store\n"


def test_an_unexpected_error_is_one_line_and_a_log(capsys):
    """What no one planned for: one line naming the error and the file with its traceback."""
    from evidencegraph.clioptions import handle_errors

    @handle_errors
    def command() -> None:
        {}["missing"]

    with pytest.raises(click.ClickException) as caught:
        command()
    message = caught.value.format_message()
    assert message.startswith("unexpected KeyError: 'missing'; the details are in ")
    log = Path(message.split("the details are in ")[1].split(" (please report it)")[0])
    try:
        assert "Traceback (most recent call last)" in log.read_text() and "KeyError: 'missing'" in log.read_text()
    finally:
        log.unlink()


def test_a_library_traceback_in_the_log_is_left_out(tmp_path):
    """rdflib logs a traceback for a 5,000-digit integer; the user sees its one-line message only."""
    data = tmp_path / "big.ttl"
    data.write_text(f'<http://example.org/a> <http://example.org/p> "{"9" * 5000}"'
                    "^^<http://www.w3.org/2001/XMLSchema#integer> .\n")
    result = cli("validate", data)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr and "conforms" in result.stderr


def test_graphs_without_a_checksum_are_listed_and_removed(runner, store, tmp_path):
    foreign = tmp_path / "foreign.nq"
    foreign.write_text('<http://example.org/a> <http://example.org/p> "x" <http://example.org/graph/1> .\n'
                       '<http://example.org/b> <http://example.org/p> "y" <http://example.org/graph/2> .\n')
    result = invoke(runner, "ingest", foreign, "--store", store, "-q")
    assert "2 loaded" in result.stderr
    listed = invoke(runner, "pages", "--store", store, "-f", "tsv").stdout.splitlines()[1:]
    assert "-\t-\thttp://example.org/graph/1" in listed and "-\t-\thttp://example.org/graph/2" in listed
    assert len(listed) == 3
    again = invoke(runner, "ingest", foreign, "--store", store, "-q")
    assert "0 loaded, 2 replaced" in again.stderr  # the same graphs, not a second copy
    result = invoke(runner, "remove", "http://example.org/graph/1", "--store", store)
    assert result.exit_code == 0 and "1 removed" in result.stderr
    listed = invoke(runner, "pages", "--store", store, "-f", "tsv").stdout.splitlines()[1:]
    assert [ln.split("\t")[2] for ln in listed] == [
        "http://example.org/graph/2", "https://w3id.org/evidencegraph/id/page/belgium--european-union"]
    assert invoke(runner, "query", 'ASK { ?s ?p "x" }', "--store", store).stdout == "false\n"


@pytest.mark.parametrize("ingested, removed", [
    ("data", "data/sub"),  # the pages are named sub/…: the folder below the one ingested
    ("data/sub", "data"),  # the pages are named by file name: the folder above
    ("data/sub", "data/sub/"),
    ("data", "./data/../data/sub"),
])
def test_remove_a_folder_however_it_was_ingested(runner, tmp_path, monkeypatch, ingested, removed):
    sub = tmp_path / "data" / "sub"
    sub.mkdir(parents=True)
    # three pages (a page is its two entities): two under sub/, one beside it
    (sub / "a.txt").write_bytes(SAMPLE.read_bytes())
    (sub / "b.txt").write_bytes((PAGES / "crlf-bom.txt").read_bytes())
    (tmp_path / "data" / "c.txt").write_bytes((PAGES / "title-two-cards.txt").read_bytes())
    store = tmp_path / "store"
    monkeypatch.chdir(tmp_path)
    invoke(runner, "ingest", ingested, "--store", store, "-q")
    before = len(invoke(runner, "pages", "--store", store, "-f", "tsv").stdout.splitlines())
    result = invoke(runner, "remove", removed, "--store", store)
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "2 removed"
    after = invoke(runner, "pages", "--store", store, "-f", "tsv").stdout.splitlines()
    assert len(after) == before - 2 and not any("a.txt" in ln or "b.txt" in ln for ln in after)


def test_remove_a_file_by_its_path_when_ingested_from_a_folder(runner, tmp_path):
    sub = tmp_path / "data" / "sub"
    sub.mkdir(parents=True)
    (sub / "a.txt").write_bytes(SAMPLE.read_bytes())
    store = tmp_path / "store"
    invoke(runner, "ingest", tmp_path / "data", "--store", store, "-q")
    assert invoke(runner, "pages", "--store", store, "-f", "tsv").stdout.splitlines()[1].startswith("a.txt\t")
    result = invoke(runner, "remove", sub / "a.txt", "--store", store)
    assert result.exit_code == 0 and "removed a.txt" in result.stderr


def test_an_allowed_service_that_answers_garbage(store):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Garbage(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.end_headers()
            self.wfile.write(b"{garbage")

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Garbage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/sparql"
        result = cli("query", f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}", "--allow-service",
                     "--store", store)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: the query failed (Parser error at line 1 column 1"), line
    assert line.endswith("if it uses SERVICE, the service sent an answer that cannot be read: check it")


@needs_server
def test_graphs_without_a_checksum_on_a_remote_store(runner, tmp_path):
    foreign = tmp_path / "foreign.nq"
    foreign.write_text('<http://example.org/a> <http://example.org/p> "x" <http://example.org/graph/1> .\n')
    with oxigraph_server(tmp_path / "server") as srv:
        url, env = srv.url, srv.env
        assert "2 loaded" in invoke(runner, "ingest", SAMPLE, foreign, "--store", url, "-q", env=env).stderr
        # a server's pages are the graphs named by an eg:Page (a server has graphs of its own, e.g.
        # Virtuoso's system graphs, that are not pages); a foreign graph is removed by its IRI
        listed = invoke(runner, "pages", "--store", url, "-f", "tsv", env=env).stdout.splitlines()[1:]
        assert len(listed) == 1 and listed[0].endswith("/page/belgium--european-union"), listed
        result = invoke(runner, "remove", "http://example.org/graph/1", "--store", url, env=env)
        assert result.exit_code == 0 and "1 removed" in result.stderr, result.output
        assert invoke(runner, "query", 'ASK { GRAPH ?g { ?s ?p "x" } }', "--store", url, env=env).stdout == "false\n"


def test_an_installation_without_its_shipped_files(tmp_path):
    # the package copied somewhere without the ontology and shapes beside it (a broken install, a copy
    # of src/ alone): one clear error naming what is missing, before any page is read, not one
    # "please report it" per page
    import shutil

    import evidencegraph

    copy = tmp_path / "copy"
    shutil.copytree(Path(evidencegraph.__file__).parent, copy / "evidencegraph",
                    ignore=shutil.ignore_patterns("_data", "__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(copy)}
    for args in (["ingest", SAMPLE, "--store", tmp_path / "store"], ["convert", SAMPLE], ["validate", SAMPLE]):
        result = cli(*args, cwd=tmp_path, env=env)
        assert result.returncode == 1, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("Error: this installation of evidencegraph is missing its shipped files: "), lines
        assert str(tmp_path / "shapes" / "evidencegraph.ttl") in lines[0]  # where a checkout keeps them
        assert "reinstall it" in lines[0]
        assert "please report" not in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "store").exists()  # nothing half made
    # the Python API: one EvidenceGraphError naming the files, from each entry point
    script = f"""
import io, sys
from pathlib import Path
from evidencegraph.errors import EvidenceGraphError
from evidencegraph.formats import RDF_FORMATS
from evidencegraph.ingestion import ingest
from evidencegraph.pipeline import convert, validate_inputs
from evidencegraph.store import Store
page = {str(SAMPLE)!r}
calls = [lambda: ingest([page], Store(Path({str(tmp_path / "api-store")!r}), create=True)),
         lambda: convert([page], RDF_FORMATS["turtle"], io.BytesIO()), lambda: validate_inputs([page])]
for call in calls:
    try:
        call()
    except EvidenceGraphError as e:
        print(str(e).startswith("this installation of evidencegraph is missing its shipped files"))
    else:
        print("no error")
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path, env=env)
    assert result.stdout.split() == ["True"] * 3, result.stdout + result.stderr
    help_ = cli("ingest", "--help", cwd=tmp_path, env=env)
    assert help_.returncode == 0 and "Usage:" in help_.stdout, help_.stderr  # help needs none of them
