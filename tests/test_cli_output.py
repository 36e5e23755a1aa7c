"""What the command line prints, exactly: grouped warnings, -q, JSON summaries, tables, SPARQL errors."""

from __future__ import annotations

import ast
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import PAGES, invoke

WEAK = ("Relations (1)\nrelated 1.00 — strongly supporting 1 fact\nOfficials say Alpha{n} and Beta trade [1].\n"
        "Facts (1)\nSources\nT example.org 1 fact\nclaimX{n}.\n")
GUESS = ("the entities {a} and {b} are a weak guess from the text; check them and name them with "
         "--subject/--object or {side} if wrong")


def timeless(text: str) -> str:
    return re.sub(r"in \d+\.\d+s", "in Ts", text)


@pytest.fixture
def weak_pages(tmp_path: Path) -> Path:
    folder = tmp_path / "weak"
    folder.mkdir()
    for n in "abc":
        (folder / f"{n}.txt").write_text(WEAK.format(n=n), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("out") / "store"
    result = invoke(CliRunner(), "ingest", str(PAGES), "--store", str(path), "-q")
    assert result.exit_code == 1  # quality.txt does not conform
    return path


# --- warnings ----------------------------------------------------------------------


def test_warnings_of_one_kind_are_one_line_and_counted(runner, weak_pages, tmp_path):
    result = invoke(runner, "ingest", str(weak_pages), "--store", str(tmp_path / "s"))
    assert result.exit_code == 0
    assert timeless(result.stderr) == (
        "warning: 3 × " + GUESS.format(a="…", b="…", side="PAGE.entities.json")
        + f": {weak_pages / 'a.txt'}, {weak_pages / 'b.txt'}, {weak_pages / 'c.txt'} (--verbose lists them)\n"
        f"3 loaded, 0 replaced, 0 unchanged, 0 failed; 225 quads written in Ts into {tmp_path / 's'}; "
        "0 violations, 3 warnings\n"
    )


def test_verbose_lists_every_warning(runner, weak_pages, tmp_path):
    result = invoke(runner, "ingest", str(weak_pages), "--store", str(tmp_path / "s"), "--verbose")
    lines = result.stderr.splitlines()
    assert lines[:3] == [
        f"warning: {weak_pages / n}.txt: "
        + GUESS.format(a="'Officials'", b=f"'Alpha{n}'", side=f"{weak_pages / n}.entities.json")
        for n in "abc"
    ]
    assert len(lines) == 4


def test_quiet_prints_the_summary_only(runner, weak_pages, tmp_path):
    result = invoke(runner, "ingest", str(weak_pages), "--store", str(tmp_path / "s"), "-q")
    assert timeless(result.stderr) == (
        f"3 loaded, 0 replaced, 0 unchanged, 0 failed; 225 quads written in Ts into {tmp_path / 's'}; "
        "0 violations, 3 warnings\n"
    )
    result = invoke(runner, "convert", str(weak_pages), "-q")
    assert result.stderr == "3 of 3 pages converted; 0 violations, 3 warnings\n"


def test_convert_groups_warnings_too(runner, weak_pages):
    result = invoke(runner, "convert", str(weak_pages))
    assert result.stderr.splitlines()[0].startswith("warning: 3 × the entities … and … are a weak guess")


def test_ingest_json_summary(runner, weak_pages, tmp_path):
    result = invoke(runner, "ingest", str(weak_pages), "--store", str(tmp_path / "s"), "--json", "-q")
    summary = json.loads(result.stdout)
    assert isinstance(summary.pop("seconds"), float)
    assert summary == {
        "loaded": 3, "replaced": 0, "unchanged": 0, "failed": 0, "refused": 0, "quads": 225,
        "store": str(tmp_path / "s"), "violations": 0, "warnings": 3,
        "kinds": {"warning: " + GUESS.format(a="…", b="…", side="PAGE.entities.json"): 3},
        "errors": [],
    }


def test_progress_bar_line():
    from evidencegraph.console import Progress

    bar = Progress(2000, width=80)
    bar.done = 1500
    assert bar.line(5.0) == "ingest  1,500/2,000  75% [###############     ]  300 pages/s  0:01 left"


# --- tables --------------------------------------------------------------------------


def test_table_prefixes_names_and_right_aligns_numbers(runner, store):
    q = ("SELECT ?type (COUNT(?f) AS ?facts) WHERE { ?f eg:factType ?type FILTER (STRSTARTS(STR(?type), STR(eg:))) } "
         "GROUP BY ?type ORDER BY ?type LIMIT 3")
    result = invoke(runner, "query", q, "--store", str(store))
    assert result.exit_code == 0
    assert result.stdout == (
        "type        facts\n"
        "----------  -----\n"
        "eg:account      2\n"
        "eg:claim       12\n"
        "eg:code         1\n"
    )
    assert timeless(result.stderr) == "3 rows in Ts\n"


def test_table_fits_the_terminal(runner, store):
    q = "SELECT ?relation ?kind WHERE { ?relation eg:kind ?kind } ORDER BY ?kind LIMIT 2"
    result = runner.invoke(__import__("evidencegraph.cli").cli.cli, ["query", q, "--store", str(store)],
                           env={"COLUMNS": "40"}, catch_exceptions=False)
    lines = result.stdout.splitlines()
    assert max(len(ln) for ln in lines) <= 40
    assert lines[2].startswith("<https://w3id.org/evidence") and "…" in lines[2]


def test_select_star_keeps_the_order_written(runner, store):
    result = invoke(runner, "query", "SELECT * WHERE { ?s eg:kind ?kind } LIMIT 1", "--store", str(store))
    assert result.stdout.splitlines()[0].split() == ["s", "kind"]


def test_empty_answer_says_so_and_suggests_a_label(runner, store):
    result = invoke(runner, "query", "-Q", "relations-of-entity", "-p", "entity=Belgum", "--store", str(store))
    assert result.exit_code == 0
    assert result.stdout == (
        "entity  relation  kind  score  strength  other  facts\n"
        "------  --------  ----  -----  --------  -----  -----\n"
    )
    assert timeless(result.stderr) == "0 rows in Ts\nno answer: no entity is labelled 'Belgum'; did you mean Belgium?\n"
    result = invoke(runner, "query", "SELECT ?s WHERE { ?s eg:kind 'nothing' }", "--store", str(store))
    assert timeless(result.stderr) == "0 rows in Ts\nno answer: the query matched nothing\n"


def test_stats_table_and_json(runner, store):
    result = invoke(runner, "stats", "--store", str(store))
    assert result.stdout.startswith(
        "total      count\n"
        "---------  -----\n"
        "triples      929\n"
        "quads        953\n"
        "pages          6\n"
    )
    assert "eg:Entity                   9\n" in result.stdout
    data = json.loads(invoke(runner, "stats", "-f", "json", "--store", str(store)).stdout)
    assert (data["pages"], data["classes"]["eg:Entity"], data["properties"]["eg:kind"]) == (6, 9, 9)
    assert "<http://rdfs.org/ns/void#Dataset>" in invoke(runner, "stats", "-f", "turtle", "--store", str(store)).stdout


def test_pages_formats(runner, store):
    table = invoke(runner, "pages", "--store", str(store))
    assert table.stdout.splitlines()[0].split() == ["name", "checksum", "graph"]
    assert table.stderr == "6 pages\n"
    tsv = invoke(runner, "pages", "-f", "tsv", "--store", str(store)).stdout.splitlines()
    assert tsv[0] == "name\tchecksum\tgraph" and len(tsv) == 7
    pages = json.loads(invoke(runner, "pages", "-f", "json", "--store", str(store)).stdout)
    assert [p["name"] for p in pages][:2] == ["all-types.txt", "belgium-european-union.txt"]
    assert set(pages[0]) == {"name", "checksum", "graph"}


def test_questions_json(runner):
    data = json.loads(invoke(runner, "questions", "-f", "json").stdout)
    by_name = {q["name"]: q for q in data}
    assert by_name["relations-of-entity"]["params"] == [
        {"name": "entity", "kind": "label", "help": "the entity's label, e.g. \"Belgium\""}]
    assert "SELECT" in by_name["top-entities"]["sparql"]


# --- SPARQL errors ---------------------------------------------------------------------


@pytest.mark.parametrize("query, expected", [
    ("SELEC * WHERE { ?s ?p ?o }",
     "error: SPARQL syntax error at line 1, column 1: SELEC * WHERE { ?s ?p ?o }\n"
     "                                                ^ SELEC is not a query form: did you mean SELECT? "
     "(SELECT, CONSTRUCT, ASK or DESCRIBE)\n"),
    ("INSERT DATA { <http://x/a> <http://x/b> 1 }",
     "error: SPARQL syntax error at line 1, column 1: INSERT DATA { <http://x/a> <http://x/b> 1 }\n"
     "                                                ^ INSERT is SPARQL Update, which changes data; a query only "
     "reads (SELECT, CONSTRUCT, ASK or DESCRIBE): the store changes with ingest and remove, or a server's /update "
     "with --allow-update\n"),
    ("SELECT * WHERE {\n  ?s foaf:name ?o }",
     "error: SPARQL syntax error at line 2, column 6:   ?s foaf:name ?o }\n"
     "                                                     ^ the prefix foaf: is not declared: add PREFIX foaf: <…> "
     "(declared already: eg:, rdf:, rdfs:, xsd:, skos:, dcterms:, prov:, schema:)\n"),
    ("SELECT * WHERE { ?s ?p ?o",
     "error: SPARQL syntax error at line 1, column 16: SELECT * WHERE { ?s ?p ?o\n"
     "                                                                ^ this { is never closed: the query ends before its }\n"),
])
def test_sparql_errors_are_two_lines(runner, store, query, expected):
    result = invoke(runner, "query", query, "--store", str(store))
    assert result.exit_code == 2
    assert result.stderr == expected
    assert result.stdout == ""


def test_contract_prefixes_are_predeclared(runner, store):
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?e a eg:Entity ; rdfs:label ?l FILTER (datatype(?l) = xsd:string) }"
    result = invoke(runner, "query", q, "--store", str(store), "-f", "csv")
    assert result.exit_code == 0 and result.stdout.splitlines()[1].strip() == "9"


# --- the library -----------------------------------------------------------------------


def test_ask_returns_python_values(store):
    import evidencegraph

    rows = evidencegraph.ask("relations-of-entity", store=str(store), entity="Belgium")
    assert [(r["other"], r["score"], r["facts"]) for r in rows] == [
        ("Netherlands", Decimal("3.58"), 11), ("European Union", Decimal("3.17"), 8), ("France", Decimal("1"), 1)]
    assert rows[0]["relation"].startswith("https://w3id.org/evidencegraph/id/")


# --- structure -------------------------------------------------------------------------


def test_no_import_cycles():
    """A lower floor never imports a higher one: the module graph (every relative import) has no cycle."""
    src = Path(__file__).parents[1] / "src" / "evidencegraph"
    graph: dict[str, set[str]] = {}
    for f in src.rglob("*.py"):
        parts = f.relative_to(src.parent).with_suffix("").parts
        mod = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        pkg = mod if f.name == "__init__.py" else mod.rsplit(".", 1)[0]
        deps: set[str] = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                if node.module:
                    deps.add(".".join(base + [node.module]))
        graph[mod] = {d for d in deps if d != "evidencegraph" and d != mod}

    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    assert [m for m in sorted(graph) if m in reach(m)] == []
