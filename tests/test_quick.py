"""`evidencegraph query` for scripts starts without click, and answers exactly as the full command line does."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import PAGES
from evidencegraph.quick import plan

FULL = "import sys; from evidencegraph.cli import main; main()"


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("quick") / "store"
    subprocess.run([sys.executable, "-m", "evidencegraph", "ingest", str(PAGES), "--store", str(path), "-q"],
                   capture_output=True, check=False, timeout=300)
    assert (path / "oxigraph").is_dir()
    return path


def both(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    run = dict(capture_output=True, timeout=120, env=env)
    quick = subprocess.run([sys.executable, "-m", "evidencegraph", *args], **run)  # type: ignore[call-overload]
    full = subprocess.run([sys.executable, "-c", FULL, *args], **run)  # type: ignore[call-overload]
    return quick, full


def test_which_command_lines_take_the_short_way():
    assert plan(["query", "ASK {}", "-f", "tsv"]) == ("ASK {}", None, "tsv", None, ())
    assert plan(["query", "--format=csv", "--store=/s", "-Q", "top-entities", "-p", "a=1", "--param", "b=2"]) == (
        None, "/s", "csv", "top-entities", ("a=1", "b=2"))
    assert plan(["query", "-f", "json", "--", "-not-an-option"]) == ("-not-an-option", None, "json", None, ())
    for argv in (["query", "ASK {}"],  # a table: the full command line
                 ["query", "ASK {}", "-f", "table"], ["query", "ASK {}", "-f", "turtle"],
                 ["query", "ASK {}", "-f", "tsv", "-o", "out.tsv"], ["query", "ASK {}", "-f", "tsv", "--allow-service"],
                 ["query", "-", "-f", "tsv"], ["query", "-h"], ["query", "ASK {}", "-f"], ["query", "a", "b", "-f", "csv"],
                 ["query", "ASK {}", "-f", "csv", "-f", "tsv"], ["-v", "query", "ASK {}", "-f", "csv"],
                 ["export", "-f", "csv"], []):
        assert plan(argv) is None, argv


def test_the_questions_answered_from_the_index_are_named_once_for_both():
    from evidencegraph.queries import INDEXED_QUESTION, INDEXED_QUESTIONS, questions
    from evidencegraph.indexanswers import FAST_QUESTION, FAST_QUESTIONS

    assert INDEXED_QUESTION == FAST_QUESTION and INDEXED_QUESTION in questions()
    assert INDEXED_QUESTIONS == FAST_QUESTIONS and set(INDEXED_QUESTIONS) <= set(questions())


def test_no_named_question_makes_the_check_parse_it_again():
    """The check for SERVICE and LOAD parses a query with rdflib (0.4-0.75 s of imports and parsing) when its text
    mentions either word anywhere, even in a comment ("loaded"): no shipped question may, or its command line
    pays that on every run (facts-mentioning did: 599 ms at 10k pages, where the answer takes 52 ms)."""
    from pathlib import Path

    import evidencegraph
    from evidencegraph.sparqlcheck import _MENTION

    texts = sorted((Path(evidencegraph.__file__).parent / "queries").rglob("*.rq"))
    assert len(texts) > 13
    assert [t.name for t in texts if _MENTION.search(t.read_text())] == []


def test_the_store_from_the_environment(monkeypatch):
    monkeypatch.setenv("EVIDENCEGRAPH_STORE", "/from/env")
    assert plan(["query", "ASK {}", "-f", "xml"]).store == "/from/env"
    assert plan(["query", "ASK {}", "-f", "xml", "--store", "/given"]).store == "/given"


@pytest.mark.parametrize("args", [
    ("SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?s", "-f", "tsv"),
    ("SELECT * WHERE { ?s a ?c } ORDER BY ?s ?c LIMIT 20", "-f", "csv"),
    ("SELECT * WHERE { ?s a ?c } ORDER BY ?s ?c LIMIT 20", "-f", "json"),
    ("SELECT * WHERE { ?s a ?c } ORDER BY ?s ?c LIMIT 20", "-f", "xml"),
    ("ASK { ?s ?p ?o }", "-f", "json"),
    ("--question", "top-entities", "-f", "csv"),
    ("-Q", "relations-of-entity", "-p", "entity=belgium", "-f", "tsv"),
    ("--question", "facts-mentioning", "-p", "word=EU", "-p", "type=claim", "-f", "json"),
])
def test_same_answer_both_ways(store, args):
    quick, full = both("query", *args, "--store", str(store))
    assert quick.returncode == full.returncode == 0, quick.stderr + full.stderr
    assert quick.stdout == full.stdout and quick.stdout.strip()
    assert quick.stderr == full.stderr


@pytest.mark.parametrize("args", [
    ("SELECT * WHERE { ?s ?p }", "-f", "tsv"),  # a syntax error
    ("--question", "no-such-question", "-f", "csv"),
    ("--question", "relations-of-entity", "-f", "csv"),  # a parameter missing
    ("--question", "relations-of-entity", "-p", "entity", "-f", "csv"),
    ("SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }", "-f", "json"),
    ("@/no/such/file.rq", "-f", "csv"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1", "-f", "tsv"),
])
def test_errors_are_the_full_command_lines(store, args):
    quick, full = both("query", *args, "--store", str(store))
    assert quick.returncode == full.returncode != 0
    assert quick.stderr == full.stderr and b"Traceback" not in quick.stderr
    assert quick.stdout == full.stdout == b""


def test_a_warning_reads_as_the_full_command_lines(store, tmp_path):
    """A store that an interrupted ingest left (a journal beside it) is read with a warning: the same line either way."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(store, copy)
    (copy / "ingest-journal.json").write_text('{"graphs": []}')
    for args in (("ASK { ?s ?p ?o }", "-f", "json"), ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1", "-f", "tsv")):
        quick, full = both("query", *args, "--store", str(copy))
        assert quick.returncode == full.returncode and quick.stdout == full.stdout
        assert quick.stderr == full.stderr and quick.stderr.count(b"interrupted ingest") == 1, quick.stderr


def test_the_search_index_warning_reads_as_the_full_command_lines(store, tmp_path):
    """facts-mentioning builds a missing search index, with a warning from search.py's logger: the same line either way."""
    import shutil

    quick_copy, full_copy = tmp_path / "quick", tmp_path / "full"
    for copy in (quick_copy, full_copy):
        shutil.copytree(store, copy)
        for f in copy.glob("search.sqlite*"):
            f.unlink()
    args = ("query", "-Q", "facts-mentioning", "-p", "type=claim", "-p", "word=EU", "-f", "json")
    run = dict(capture_output=True, timeout=120)
    quick = subprocess.run([sys.executable, "-m", "evidencegraph", *args, "--store", str(quick_copy)], **run)
    full = subprocess.run([sys.executable, "-c", FULL, *args, "--store", str(full_copy)], **run)
    assert quick.returncode == full.returncode == 0 and quick.stdout == full.stdout
    assert quick.stderr.replace(bytes(quick_copy), b"S") == full.stderr.replace(bytes(full_copy), b"S"), quick.stderr
    assert b"search index" in quick.stderr


def test_a_query_on_stdin_is_read_once(store):
    for sparql in (b"SELECT * WHERE { ?s ?p }", b"ASK { ?s ?p ?o }"):
        runs = [subprocess.run(argv + ["query", "-f", "tsv", "--store", str(store), "--", "-"], input=sparql,
                               capture_output=True, timeout=120)
                for argv in ([sys.executable, "-m", "evidencegraph"], [sys.executable, "-c", FULL])]
        assert runs[0].returncode == runs[1].returncode and runs[0].stdout == runs[1].stdout
        assert runs[0].stderr == runs[1].stderr


def test_no_store_is_the_full_command_lines_message(tmp_path):
    quick, full = both("query", "ASK {}", "-f", "json", "--store", str(tmp_path / "none"))
    assert quick.returncode == full.returncode != 0
    assert quick.stderr == full.stderr and b"Traceback" not in quick.stderr


def test_a_closed_pipe_is_quiet(store):
    """`evidencegraph query ... | head -1`: no traceback when the reader goes away."""
    sparql = "SELECT ?a ?b WHERE { ?a ?p ?o . ?b ?q ?o2 } LIMIT 200000"
    proc = subprocess.Popen([sys.executable, "-m", "evidencegraph", "query", sparql, "-f", "tsv", "--store", str(store)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert b"Traceback" not in err and b"Exception ignored" not in err


PROBE = """
import json, sys
from evidencegraph.quick import main
sys.argv = ["evidencegraph"] + json.loads(sys.argv[1])
main()
sys.stdout.flush()
print("\\nLOADED " + json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("click", "rdflib", "logging", "sqlite3",
                                                                                "typing", "dataclasses", "hashlib", "difflib")
                                     or m in ("evidencegraph.cli", "evidencegraph.search", "evidencegraph.searchrows",
                                              "evidencegraph.indexanswers", "evidencegraph.revisions"))))
"""


def test_the_short_way_loads_no_click(store):
    for args in (["ASK { ?s ?p ?o }", "-f", "json"], ["--question", "top-entities", "-f", "tsv"]):
        out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(["query", *args, "--store", str(store)])],
                             capture_output=True, text=True, timeout=120)
        line = [ln for ln in out.stdout.splitlines() if ln.startswith("LOADED ")]
        assert line and json.loads(line[-1][len("LOADED "):]) == [], out.stdout + out.stderr
