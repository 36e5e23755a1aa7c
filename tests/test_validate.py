"""`evidencegraph validate`: pages, hand-written data, output formats, and pyshacl's own verdicts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from rdflib import Graph

from evidencegraph.resources import ontology_path, shapes_path

from conftest import HERE, PAGES, invoke

SHAPES = HERE / "shapes"
BAD_DATA = {
    "fact-without-text.ttl": ("http://example.org/kg/fact1", "sh:MinCountConstraintComponent", "eg:text"),
    "minimal-bad-score.ttl": ("http://example.org/kg/rel", "sh:DatatypeConstraintComponent", "eg:score"),
    "one-entity.ttl": ("http://example.org/kg/rel", "sh:MinCountConstraintComponent", "eg:object"),
    "literal-source.ttl": ("http://example.org/kg/fact1", "sh:NodeKindConstraintComponent", "eg:fromSource"),
    "source-without-title.jsonld": ("http://example.org/kg/untitled", "sh:MinCountConstraintComponent", "http://purl.org/dc/terms/title"),
}


def test_clean_page_conforms(runner):
    result = invoke(runner, "validate", str(PAGES / "belgium-european-union.txt"))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == "conforms: 0 violations, 0 warnings\n"


def test_quality_page_one_result_per_problem(runner):
    result = invoke(runner, "validate", str(PAGES / "quality.txt"), "-f", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["conforms"] is False
    found = sorted((r["constraint"] or r["component"], r["focus"].rsplit("/", 1)[1], r["line"]) for r in doc["results"])
    assert found == sorted([
        ("egsh:FactsHeadingCount", "portugal--spain", None),            # Facts (7), 5 listed
        ("egsh:CardPageCount", "portugal--spain#card-1", 2),             # card says 3 facts, page lists 5
        ("egsh:CitationResolves", "portugal--spain#card-1-citation-3", 2),  # [9] of 5 facts
        ("egsh:StrengthMatchesScore", "portugal--spain", 2),        # 1.58 is "strongly supporting"
        ("egsh:ScoreMatchesFacts", "portugal--spain", 2),           # warning: log2(3 + 1) = 2.00
        ("egsh:LeftoverTokens", "portugal--spain", 2),              # warning: {fact:abc-123}
        ("egsh:SourceListingCount", "portugal--spain#source-1", 6),     # 4 declared, 2 listed
        ("egsh:SourceListingCount", "portugal--spain#source-2", 9),     # 1 declared, 3 listed
    ])
    assert all(r["file"] == "quality.txt" for r in doc["results"])
    assert result.stderr == "Error: does not conform: 6 violations, 2 warnings\n"


def test_text_output_groups_by_focus_with_label_file_and_line(runner):
    result = invoke(runner, "validate", str(PAGES / "quality.txt"))
    out = result.stdout.splitlines()
    i = out.index("quality.txt:2: https://w3id.org/evidencegraph/id/relation/related/portugal--spain ('related')")
    assert [ln.split(":")[0].strip() for ln in out[i + 1:i + 4]] == ["Warning", "Warning", "Violation"]
    assert "quality.txt:2: https://w3id.org/evidencegraph/id/page/portugal--spain#card-1-citation-3" in out
    assert "  Violation: The summary cites [9] but the page lists only 5 facts. [value '9'] (egsh:CitationResolves)" in out


def test_turtle_output_is_a_shacl_report(runner):
    result = invoke(runner, "validate", str(PAGES / "quality.txt"), "-f", "turtle")
    g = Graph().parse(data=result.stdout, format="turtle")
    rows = list(g.query("PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT ?c WHERE { ?r sh:conforms ?c }"))
    assert [str(r.c) for r in rows] == ["false"]
    results = list(g.query("PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT ?x WHERE { ?r sh:result ?x }"))
    assert len(results) == 8


def test_strict_makes_warnings_fail(runner):
    page = PAGES / "title-two-cards.txt"
    assert invoke(runner, "validate", str(page)).exit_code == 0
    result = invoke(runner, "validate", str(page), "--strict")
    assert result.exit_code == 0  # no warnings on this page either
    page = PAGES / "pending-unknown.txt"
    assert invoke(runner, "validate", str(page)).exit_code == 0
    result = invoke(runner, "validate", str(page), "--strict")
    assert result.exit_code == 1 and "does not conform (--strict)" in result.stderr


def test_minimal_contract_data_conforms(runner):
    result = invoke(runner, "validate", str(SHAPES / "minimal.ttl"))
    assert result.exit_code == 0, result.output
    assert result.stderr == "conforms: 0 violations, 0 warnings\n"


@pytest.mark.parametrize("name", sorted(BAD_DATA))
def test_bad_hand_written_data(runner, name):
    focus, component, path = BAD_DATA[name]
    result = invoke(runner, "validate", str(SHAPES / name), "-f", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    hits = [(r["focus"], r["component"], r["path"]) for r in doc["results"] if r["severity"] == "Violation"]
    assert (focus, component, path) in hits
    assert all(r["message"] for r in doc["results"])
    assert "Traceback" not in result.output


def test_syntax_error_names_file_line_column(runner):
    result = invoke(runner, "validate", str(SHAPES / "syntax-error.ttl"), str(SHAPES / "minimal.ttl"))
    assert result.exit_code == 1
    assert f"error: {SHAPES / 'syntax-error.ttl'}:4:" in result.stderr
    assert "not valid turtle" in result.stderr and "fix the syntax" in result.stderr
    assert result.stderr.splitlines()[-1] == "Error: conforms: 0 violations, 0 warnings; 1 input could not be read"
    assert "Traceback" not in result.output


def test_stdin_needs_a_format(runner):
    data = (SHAPES / "minimal.ttl").read_bytes()
    assert invoke(runner, "validate", "-", input=data).exit_code == 2
    result = invoke(runner, "validate", "-", "-i", "turtle", input=data)
    assert result.exit_code == 0


def test_missing_file(runner, tmp_path):
    result = invoke(runner, "validate", str(tmp_path / "nope.ttl"))
    assert result.exit_code == 1 and "cannot read the file" in result.stderr


def pyshacl_cli(data_file) -> tuple[int, set[tuple[str, str]]]:
    """Run pyshacl's own command line on the same data and shapes."""
    proc = subprocess.run(
        [sys.executable, "-m", "pyshacl", "-s", str(shapes_path()), "-e", str(ontology_path()), "-a",
         "-f", "turtle", str(data_file)],
        capture_output=True, text=True, timeout=300,
    )
    g = Graph().parse(data=proc.stdout, format="turtle")
    rows = g.query("""PREFIX sh: <http://www.w3.org/ns/shacl#>
        SELECT ?focus ?component WHERE { ?report sh:result ?r . ?r sh:focusNode ?focus ; sh:sourceConstraintComponent ?component }""")
    return proc.returncode, {(str(r.focus), str(r.component).rsplit("#", 1)[1]) for r in rows}


@pytest.mark.parametrize("name", ["minimal.ttl", "fact-without-text.ttl", "one-entity.ttl", "literal-source.ttl", "quality.txt"])
def test_same_verdicts_as_pyshacl_command_line(runner, tmp_path, name):
    source = PAGES / name if name.endswith(".txt") else SHAPES / name
    data_file = source
    if name.endswith(".txt"):
        data_file = tmp_path / "page.nt"
        invoke(runner, "convert", str(source), "-o", str(data_file), "--no-validate")
    ours = invoke(runner, "validate", str(source), "-f", "json")
    doc = json.loads(ours.stdout)
    mine = {(r["focus"], r["component"].split(":", 1)[1]) for r in doc["results"]}
    code, theirs = pyshacl_cli(data_file)
    assert mine == theirs
    violations = any(r["severity"] == "Violation" for r in doc["results"])
    assert code == (1 if theirs else 0) and ours.exit_code == (1 if violations else 0)


def test_turtle_report_does_not_conform_with_warnings_only(runner):
    """SHACL 3.6.1: sh:conforms is false when there is any result, whatever its severity."""
    result = invoke(runner, "validate", str(PAGES / "pending-unknown.txt"), "-f", "turtle")
    assert result.exit_code == 0  # warnings let the exit code pass
    g = Graph().parse(data=result.stdout, format="turtle")
    rows = list(g.query("PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT ?c WHERE { ?r sh:conforms ?c }"))
    assert [str(r.c) for r in rows] == ["false"]
    assert len(list(g.query("PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT ?x WHERE { ?r sh:result ?x }"))) > 0


@pytest.mark.parametrize("fmt", ["json", "turtle"])
def test_unreadable_input_does_not_conform(runner, tmp_path, fmt):
    missing = tmp_path / "missing.ttl"
    result = invoke(runner, "validate", str(missing), "-f", fmt)
    assert result.exit_code == 1
    if fmt == "json":
        doc = json.loads(result.stdout)
        assert doc["conforms"] is False and len(doc["errors"]) == 1 and "missing.ttl" in doc["errors"][0]
    else:
        g = Graph().parse(data=result.stdout, format="turtle")
        rows = list(g.query("PREFIX sh: <http://www.w3.org/ns/shacl#> SELECT ?c WHERE { ?r sh:conforms ?c }"))
        assert [str(r.c) for r in rows] == ["false"]
