"""`evidencegraph convert` and `render`: formats, broken pages, independent parsers."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from conftest import BROKEN, PAGES, invoke

SAMPLE = PAGES / "belgium-european-union.txt"
ALL = sorted(str(p) for p in PAGES.glob("*.txt"))
OX = {"turtle": "TURTLE", "nt": "N_TRIPLES", "nq": "N_QUADS", "trig": "TRIG", "xml": "RDF_XML"}


def quads_of(data: bytes, fmt: str) -> set:
    return set(ox.parse(data, getattr(ox.RdfFormat, fmt)))


def triples(quads) -> set:
    return {q.triple for q in quads}


@pytest.fixture
def reference(runner):
    result = invoke(runner, "convert", *ALL, "-f", "nq", "--no-validate")
    assert result.exit_code == 0, result.output
    return quads_of(result.stdout_bytes, "N_QUADS")


@pytest.mark.parametrize("fmt", ["turtle", "nt", "trig", "xml"])
def test_exports_read_back_by_pyoxigraph(runner, reference, fmt):
    result = invoke(runner, "convert", *ALL, "-f", fmt, "--no-validate")
    assert result.exit_code == 0
    parsed = quads_of(result.stdout_bytes, OX[fmt])
    if fmt == "trig":
        assert parsed == reference
    else:
        assert triples(parsed) == triples(reference)


def test_jsonld_read_back_by_pyld_with_no_network(runner, reference):
    from pyld import jsonld

    def no_network(url, options=None):
        raise AssertionError(f"pyld tried to load {url}")

    jsonld.set_document_loader(no_network)
    result = invoke(runner, "convert", *ALL, "-f", "jsonld", "--no-validate")
    doc = json.loads(result.stdout_bytes)
    assert "text" in doc["@context"] and "fromSource" in doc["@context"]
    assert not any(k in doc["@context"] for k in ("owl", "brick", "foaf"))  # no bloated prefix list
    nq = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    assert quads_of(nq.encode(), "N_QUADS") == reference


def test_jsonld_is_compact_and_readable(runner):
    result = invoke(runner, "convert", str(SAMPLE), "-f", "jsonld")
    doc = json.loads(result.stdout_bytes)
    (page_graph,) = doc["@graph"]
    facts = [n for n in page_graph["@graph"] if n.get("type") == "Fact"]
    assert len(facts) == 8
    assert set(facts[0]) == {"@id", "type", "text", "factType", "fromSource"}
    assert facts[0]["factType"] in ("eg:claim", "eg:perspective")
    (rel,) = [n for n in page_graph["@graph"] if n.get("type") == "Relation"]
    assert rel["score"] == "3.17" and rel["kind"] == "related"


def test_turtle_uses_project_prefixes(runner):
    out = invoke(runner, "convert", str(SAMPLE), "-f", "turtle").stdout
    assert "@prefix eg: <https://w3id.org/evidencegraph#> ." in out
    assert "eg:factType eg:claim" in out


def test_output_file_and_format_from_extension(runner, tmp_path):
    target = tmp_path / "out.trig"
    result = invoke(runner, "convert", str(SAMPLE), "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert len(quads_of(target.read_bytes(), "TRIG")) > 100


def test_unknown_format_is_a_usage_error(runner):
    result = invoke(runner, "convert", str(SAMPLE), "-f", "yaml")
    assert result.exit_code == 2 and "unknown RDF format 'yaml'" in result.output


def test_broken_pages_fail_alone(runner):
    broken = sorted(str(p) for p in BROKEN.glob("*.txt"))
    result = invoke(runner, "convert", *broken, str(SAMPLE), "-f", "nq")
    assert result.exit_code == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 4
    for ln in errors:
        assert ln.startswith(f"error: {BROKEN}/") and ":" in ln.split("/")[-1]
    assert "binary.txt:2: not UTF-8" in result.stderr
    assert "truncated.txt:4: the page ends before" in result.stderr
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[-1] == "Error: 1 of 5 pages converted; 4 could not be read"
    graphs = {q.graph_name.value for q in quads_of(result.stdout_bytes, "N_QUADS")}
    assert graphs == {"https://w3id.org/evidencegraph/id/page/belgium--european-union"}


def test_folder_and_sidecar_override(runner, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "p.txt").write_bytes(SAMPLE.read_bytes())
    (tmp_path / "sub" / "p.entities.json").write_text('{"subject": "Kingdom of Belgium", "object": "EU"}')
    out = invoke(runner, "convert", str(tmp_path), "-f", "nt").stdout
    # the page is known by its entities; its file name is provenance
    assert '"Kingdom of Belgium"' in out and "/page/eu--kingdom-of-belgium>" in out and '"p.txt"' in out


def test_subject_object_options(runner):
    out = invoke(runner, "convert", str(SAMPLE), "-f", "nt", "--subject", "BE", "--object", "EU").stdout
    assert "/entity/be>" in out and "/entity/belgium>" not in out


def test_base_option(runner):
    out = invoke(runner, "convert", str(SAMPLE), "-f", "nt", "--base", "http://example.org/kg/").stdout
    assert "<http://example.org/kg/entity/belgium>" in out


@pytest.mark.parametrize("base", ["not an iri/", "http://exa mple.org/", "relative/path/"])
def test_invalid_base_is_refused(runner, base):
    result = invoke(runner, "convert", str(SAMPLE), "-f", "nt", "--base", base)
    assert result.exit_code == 2
    assert "--base" in result.output and "IRI" in result.output and "Traceback" not in result.output


def test_render_command_round_trip(runner, tmp_path):
    target = tmp_path / "p.ttl"
    invoke(runner, "convert", str(PAGES / "title-two-cards.txt"), "-o", str(target))
    result = invoke(runner, "render", str(target))
    assert result.exit_code == 0
    assert result.stdout.startswith("Ghana ↔ Côte d’Ivoire\nRelations (2)\nrelated 2.32 — strongly supporting 4 facts\n")


def test_render_without_page_is_clear(runner, tmp_path):
    target = tmp_path / "x.ttl"
    target.write_text("<http://a> <http://b> <http://c> .")
    result = invoke(runner, "render", str(target))
    assert result.exit_code == 1 and "no eg:Page in the data" in result.output


def test_convert_validates_on_the_way(runner):
    result = invoke(runner, "convert", str(SAMPLE), "-f", "nt")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1] == "1 of 1 pages converted"


def test_nonconforming_page_is_kept_and_reported(runner):
    result = invoke(runner, "convert", str(PAGES / "quality.txt"), str(SAMPLE), "-f", "nq")
    assert result.exit_code == 1
    assert "violation: quality.txt:6: The source line says 4 facts but 2 facts are listed under it." in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "Error: 2 of 2 pages converted; 1 do not conform (kept; --strict leaves them out); 6 violations, 2 warnings")
    graphs = {q.graph_name.value.rsplit("/", 1)[1] for q in quads_of(result.stdout_bytes, "N_QUADS")}
    assert graphs == {"portugal--spain", "belgium--european-union"}


def test_strict_leaves_nonconforming_pages_out(runner):
    result = invoke(runner, "convert", str(PAGES / "quality.txt"), str(SAMPLE), "-f", "nq", "--strict")
    assert result.exit_code == 1
    assert "refused: quality.txt: does not conform (--strict)" in result.stderr
    graphs = {q.graph_name.value.rsplit("/", 1)[1] for q in quads_of(result.stdout_bytes, "N_QUADS")}
    assert graphs == {"belgium--european-union"}
