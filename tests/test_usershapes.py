"""A user's own shapes (--shapes, --shapes-only) through validate, ingest and convert; bad shapes files."""

from __future__ import annotations

import json

import pytest

from conftest import HERE, PAGES, invoke

EXAMPLE = HERE.parent / "shapes" / "examples" / "team-rules.ttl"
SHAPES = HERE / "shapes"
TEAM = "http://example.org/team-rules#"

# Hand-written data in the contract's terms: one dated source, one undated; a relation citing two
# facts and one citing one; a fact too long to quote.
DATA = """\
@prefix eg:      <https://w3id.org/evidencegraph#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix ex:      <http://example.org/kg/> .

ex:kenya a eg:Entity ; rdfs:label "Kenya" .
ex:usa a eg:Entity ; rdfs:label "United States" .
ex:dated a eg:Source ; dcterms:title "Kenya and US sign trade pact" ; eg:domain "reuters.com" ; eg:published "2024-03-01" .
ex:undated a eg:Source ; dcterms:title "Trade notes" ; eg:domain "example.com" .
ex:f1 a eg:Fact ; eg:text "Kenya and the United States signed a trade pact in 2024." ;
    eg:factType eg:claim ; eg:fromSource ex:dated .
ex:f2 a eg:Fact ; eg:text "LONG" ; eg:factType eg:claim ; eg:fromSource ex:undated .
ex:well a eg:Relation ; eg:subject ex:kenya ; eg:object ex:usa ; eg:kind "related" ;
    eg:score 1.58 ; eg:strength "strongly supporting" ; eg:supportedBy ex:f1 , ex:f2 ; eg:cites ex:f1 , ex:f2 .
ex:thin a eg:Relation ; eg:subject ex:usa ; eg:object ex:kenya ; eg:kind "draws_from" ;
    eg:score 1.00 ; eg:strength "strongly supporting" ; eg:supportedBy ex:f1 ; eg:cites ex:f1 .
""".replace("LONG", "A statement that goes on. " * 20)


def results(stdout: str) -> list[tuple[str, str, str | None, str]]:
    doc = json.loads(stdout)
    return sorted((r["focus"].rsplit("/", 1)[-1], r["shape"], r["constraint"], r["severity"]) for r in doc["results"])


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "team.ttl"
    path.write_text(DATA, encoding="utf-8")
    return path


def test_hand_written_data_core_and_sparql_rules(runner, data):
    result = invoke(runner, "validate", data, "--shapes", EXAMPLE, "-f", "json")
    assert result.exit_code == 1
    assert results(result.stdout) == sorted([
        ("undated", TEAM + "SourcePublished", None, "Violation"),      # core: sh:minCount
        ("f2", "_", None, "Warning"),                                   # core: sh:maxLength, a blank property shape
        ("thin", TEAM + "RelationWellCited", TEAM + "CitesTwoFacts", "Violation"),  # SHACL-SPARQL
    ])
    doc = json.loads(result.stdout)
    thin = [r for r in doc["results"] if r["focus"].endswith("thin")][0]
    assert thin["message"] == "The relation cites 1 fact(s); every relation must cite at least two."
    assert thin["component"] == "sh:SPARQLConstraintComponent" and thin["file"] == str(data)
    assert result.stderr == "Error: does not conform: 2 violations, 1 warning\n"


def test_without_shapes_the_same_data_conforms(runner, data):
    result = invoke(runner, "validate", data)
    assert result.exit_code == 0, result.output


def test_pages_results_name_shape_file_and_line(runner):
    result = invoke(runner, "validate", PAGES / "crlf-bom.txt", "--shapes", EXAMPLE)
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    # the relation (card on line 4) cites one fact; its only source (line 8) has no date
    assert [ln for ln in out if not ln.startswith(" ")] == [
        ln for ln in out if ln.startswith(("crlf-bom.txt:4: ", "crlf-bom.txt:8: "))
    ]
    assert "  Violation: The relation cites 1 fact(s); every relation must cite at least two." in out[1]
    assert out[1].endswith(f"({TEAM}CitesTwoFacts)")
    assert out[3] == ("  Violation: Every source must carry a published date (eg:published): we do not cite undated "
                      f"sources. [path eg:published] ({TEAM}SourcePublished, sh:MinCountConstraintComponent)")


def test_shipped_and_user_results_merged(runner):
    shipped = json.loads(invoke(runner, "validate", PAGES / "quality.txt", "-f", "json").stdout)["results"]
    both = json.loads(invoke(runner, "validate", PAGES / "quality.txt", "-f", "json", "--shapes", EXAMPLE).stdout)
    mine = [r for r in both["results"] if r["shape"].startswith(TEAM)]
    assert [r for r in both["results"] if not r["shape"].startswith(TEAM)] == shipped
    assert sorted((r["label"], r["line"], r["file"]) for r in mine) == [
        ("Iberia today", 6, "quality.txt"), ("Ports report", 9, "quality.txt")]
    assert both["violations"] == len([r for r in shipped if r["severity"] == "Violation"]) + 2


def test_shapes_only_leaves_the_shipped_shapes_out(runner, tmp_path):
    result = invoke(runner, "validate", PAGES / "quality.txt", "-f", "json", "--shapes-only", "--shapes", EXAMPLE)
    assert {r["shape"] for r in json.loads(result.stdout)["results"]} == {TEAM + "SourcePublished"}
    # data the shipped shapes refuse (a fact without text) passes under the user's shapes alone
    bad = SHAPES / "fact-without-text.ttl"
    assert invoke(runner, "validate", bad).exit_code == 1
    only = tmp_path / "only.ttl"
    only.write_text("@prefix sh: <http://www.w3.org/ns/shacl#> .\n@prefix eg: <https://w3id.org/evidencegraph#> .\n"
                    "<urn:x:S> a sh:NodeShape ; sh:targetClass eg:Entity ; sh:property [ sh:path eg:nothing ; sh:maxCount 0 ] .\n")
    result = invoke(runner, "validate", bad, "--shapes-only", "--shapes", only)
    assert result.exit_code == 0 and result.stderr == "conforms: 0 violations, 0 warnings\n"


def test_shapes_repeatable_and_any_syntax(runner, data, tmp_path):
    from rdflib import Graph

    nt = tmp_path / "rules.nt"
    nt.write_text(Graph().parse(EXAMPLE).serialize(format="nt"), encoding="utf-8")
    extra = tmp_path / "extra.jsonld"
    extra.write_text(json.dumps({
        "@context": {"sh": "http://www.w3.org/ns/shacl#", "eg": "https://w3id.org/evidencegraph#"},
        "@id": "urn:x:EntityNamed", "@type": "sh:NodeShape", "sh:targetClass": {"@id": "eg:Entity"},
        "sh:property": {"sh:path": {"@id": "eg:upstreamName"}, "sh:minCount": 1, "sh:severity": {"@id": "sh:Info"}},
    }))
    one = results(invoke(runner, "validate", data, "--shapes", EXAMPLE, "-f", "json").stdout)
    assert results(invoke(runner, "validate", data, "--shapes", nt, "-f", "json").stdout) == one
    two = results(invoke(runner, "validate", data, "--shapes", nt, "--shapes", extra, "-f", "json").stdout)
    assert sorted(set(two) - set(one)) == [("kenya", "_", None, "Info"), ("usa", "_", None, "Info")]  # a blank shape


def test_pyshacl_engine_gives_the_same_results(runner, data):
    turbo = invoke(runner, "validate", data, PAGES / "pending-unknown.txt", "--shapes", EXAMPLE, "-f", "json")
    reference = invoke(runner, "validate", data, PAGES / "pending-unknown.txt", "--shapes", EXAMPLE, "-f", "json",
                       "--engine", "pyshacl")
    assert json.loads(turbo.stdout) == json.loads(reference.stdout)


def test_store_validation_with_shapes(runner, tmp_path):
    store = tmp_path / "store"
    assert invoke(runner, "ingest", PAGES / "crlf-bom.txt", "--store", store).exit_code == 0
    result = invoke(runner, "validate", "--store", store, "--shapes", EXAMPLE, "-f", "json")
    assert result.exit_code == 1
    assert sorted((r["shape"], r["file"], r["line"]) for r in json.loads(result.stdout)["results"]) == [
        (TEAM + "RelationWellCited", "crlf-bom.txt", 4), (TEAM + "SourcePublished", "crlf-bom.txt", 8)]


# --- on the way in ------------------------------------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ingest_with_shapes(runner, tmp_path, jobs):
    store = tmp_path / "store"
    result = invoke(runner, "ingest", PAGES / "crlf-bom.txt", PAGES / "belgium-european-union.txt", "--store", store,
                    "--shapes", EXAMPLE, "-j", jobs)
    assert result.exit_code == 1
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("violation:")]
    assert [ln.split(" [")[0] for ln in lines] == [  # page by page, in the order given
        "violation: crlf-bom.txt:4: The relation cites 1 fact(s); every relation must cite at least two.",
        "violation: crlf-bom.txt:8: Every source must carry a published date (eg:published): we do not cite undated sources.",
        "violation: belgium-european-union.txt:10: Every source must carry a published date (eg:published): we do not cite undated sources.",
    ]
    assert lines[0].endswith(f"({TEAM}RelationWellCited)")
    assert "2 loaded" in result.stderr and "3 violations, 0 warnings" in result.stderr  # kept, as for shipped rules
    # --strict leaves them out
    result = invoke(runner, "ingest", PAGES / "all-types.txt", PAGES / "crlf-bom.txt", "--store", tmp_path / "s2",
                    "--shapes", EXAMPLE, "--strict", "-j", jobs)
    assert "refused: crlf-bom.txt: does not conform (--strict)" in result.stderr
    assert "1 loaded" in result.stderr and ", 1 refused" in result.stderr


def test_ingest_shapes_only(runner, tmp_path):
    result = invoke(runner, "ingest", PAGES / "quality.txt", "--store", tmp_path / "s", "--shapes-only", "--shapes", EXAMPLE)
    assert sorted(ln.split(" [")[0] for ln in result.stderr.splitlines() if ln.startswith(("violation", "warning"))) == [
        "violation: quality.txt:6: Every source must carry a published date (eg:published): we do not cite undated sources.",
        "violation: quality.txt:9: Every source must carry a published date (eg:published): we do not cite undated sources.",
    ]


def test_convert_shapes_only(runner, tmp_path):
    result = invoke(runner, "convert", PAGES / "quality.txt", "--shapes-only", "--shapes", EXAMPLE, "-o", tmp_path / "q.nq")
    assert result.exit_code == 1
    assert [ln.split(": ")[0] for ln in result.stderr.splitlines()] == ["violation", "violation", "Error"]
    assert result.stderr.splitlines()[-1] == "Error: 1 of 1 pages converted; 1 do not conform (kept; --strict leaves them out); 2 violations, 0 warnings"


def test_convert_with_shapes(runner, tmp_path):
    out = tmp_path / "out.nq"
    result = invoke(runner, "convert", PAGES / "all-types.txt", PAGES / "crlf-bom.txt", "--shapes", EXAMPLE, "-o", out)
    assert result.exit_code == 1
    assert [ln.split(" [")[0] for ln in result.stderr.splitlines() if ln.startswith("violation")] == [
        "violation: crlf-bom.txt:4: The relation cites 1 fact(s); every relation must cite at least two.",
        "violation: crlf-bom.txt:8: Every source must carry a published date (eg:published): we do not cite undated sources.",
    ]
    assert "crlf-bom" in out.read_text()  # kept
    result = invoke(runner, "convert", PAGES / "all-types.txt", PAGES / "crlf-bom.txt", "--shapes", EXAMPLE,
                    "--strict", "-o", out)
    assert "refused: crlf-bom.txt: does not conform (--strict)" in result.stderr
    assert "crlf-bom" not in out.read_text() and "all-types" in out.read_text()


# --- bad shapes files -----------------------------------------------------------------------

HEAD = """@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix eg: <https://w3id.org/evidencegraph#> .
@prefix ex: <http://example.org/> .
"""
BAD = {
    "syntax": (HEAD + "\nex:S a sh:NodeShape ;\n  sh:targetClass eg:Source\n  sh:property ex:P .\n",
               "bad.ttl:7:3: not valid turtle (A dot is expected at the end of statements)"),
    "undeclared-prefix": ("@prefix sh: <http://www.w3.org/ns/shacl#> .\n\nx:S a sh:NodeShape .\n",
                          "bad.ttl:3:1: not valid turtle (The prefix x: has not been declared)"),
    "count": (HEAD + "ex:S a sh:NodeShape ;\n  sh:targetClass eg:Source ;\n  sh:property [\n    sh:path eg:published ;\n"
              '    sh:minCount "one" ] .\n', 'bad.ttl:8: the SHACL engine refuses a shape: Invalid integer parameter sh:minCount: "one"'),
    "sparql-prefix": (HEAD + 'ex:S a sh:NodeShape ; sh:targetClass eg:Source ;\n  sh:sparql [ sh:select """\n'
                      '    SELECT $this WHERE { $this eg:published ?d }""" ] .\n',
                      "bad.ttl:6: the SPARQL of a SPARQL constraint does not parse: it uses a prefix it does not declare"),
    "sparql-syntax": (HEAD + 'ex:C a sh:SPARQLConstraint ;\n  sh:select "SELECT $this WHERE { $this ?p }" .\n'
                      "ex:S a sh:NodeShape ; sh:targetClass eg:Source ; sh:sparql ex:C .\n",
                      "bad.ttl:5: the SPARQL of ex:C does not parse: "),
    "no-shapes": ("<urn:x:a> <urn:x:b> <urn:x:c> .\n", "bad.ttl: no SHACL shapes in this file"),
    # SHACL-JavaScript: pyshacl-turbo refuses it (pyshacl would skip it without a word)
    "javascript": (HEAD + 'ex:S a sh:NodeShape ; sh:targetClass eg:Source ;\n'
                   '  sh:js [ a sh:JSConstraint ; sh:jsFunctionName "dated" ] .\n',
                   "bad.ttl:5: the SHACL engine refuses a shape: Unsupported feature: sh:js"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_shapes_file_exits_2_with_its_line(runner, tmp_path, case):
    text, expected = BAD[case]
    bad = tmp_path / "bad.ttl"
    bad.write_text(text, encoding="utf-8")
    for command in (["validate", PAGES / "crlf-bom.txt"], ["convert", PAGES / "crlf-bom.txt"],
                    ["ingest", PAGES / "crlf-bom.txt", "--store", tmp_path / "s"]):
        result = invoke(runner, *command, "--shapes", bad)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"Error: {tmp_path}/{expected}"), result.stderr
        assert "Traceback" not in result.output and result.stdout == ""
    assert not (tmp_path / "s").exists()  # refused before the store is opened


def test_missing_shapes_file_and_option_misuse(runner, tmp_path):
    result = invoke(runner, "validate", PAGES / "crlf-bom.txt", "--shapes", tmp_path / "nope.ttl")
    assert result.exit_code == 2
    assert result.stderr == f"Error: {tmp_path}/nope.ttl: cannot read the shapes file (No such file or directory); check the path\n"
    result = invoke(runner, "validate", PAGES / "crlf-bom.txt", "--shapes", tmp_path / "rules.txt")
    assert result.exit_code == 2 and "cannot tell the RDF syntax of a shapes file" in result.stderr
    result = invoke(runner, "validate", PAGES / "crlf-bom.txt", "--shapes-only")
    assert result.exit_code == 2 and "--shapes-only needs at least one --shapes FILE" in result.stderr
    result = invoke(runner, "convert", PAGES / "crlf-bom.txt", "--shapes", EXAMPLE, "--no-validate")
    assert result.exit_code == 2 and "--shapes needs validation: drop --no-validate" in result.stderr


# --- evidencegraph shapes -----------------------------------------------------------------------


def test_shapes_lists_every_shipped_rule(runner):
    from rdflib import Graph, URIRef

    from evidencegraph.resources import shapes_path

    sh = "http://www.w3.org/ns/shacl#"
    g = Graph().parse(shapes_path())
    named_properties = {g.namespace_manager.normalizeUri(s) for s in g.subjects(URIRef(sh + "path"), None)
                        if isinstance(s, URIRef)}
    sparql = {g.namespace_manager.normalizeUri(s) for s in g.objects(None, URIRef(sh + "sparql"))}
    result = invoke(runner, "shapes", "-f", "json")
    assert result.exit_code == 0
    rules = json.loads(result.stdout)
    assert named_properties | sparql <= {r["rule"] for r in rules}
    assert {r["severity"] for r in rules} <= {"Violation", "Warning", "Info"}
    assert all(r["message"] and r["checks"] and r["target"] for r in rules)
    assert all(r["select"].startswith("SELECT") for r in rules if r["kind"] == "sparql")
    title = [r for r in rules if r["rule"] == "egsh:SourceTitle"][0]
    assert (title["target"], title["checks"], title["severity"]) == (
        "eg:Source", "dcterms:title: exactly one, an xsd:string, matching /\\S/", "Violation")
    text = invoke(runner, "shapes").stdout.splitlines()
    i = text.index("egsh:SourceTitle  [Violation]  on eg:Source")
    assert text[i + 1:i + 3] == ["  checks:  dcterms:title: exactly one, an xsd:string, matching /\\S/",
                                 f"  message: {title['message']}"]


def test_shapes_of_a_user_file(runner):
    result = invoke(runner, "shapes", EXAMPLE)
    assert result.stdout.splitlines()[:3] == [
        "ex:FactQuotable (property)  [Warning]  on eg:Fact",
        "  checks:  eg:text: at most 400 characters",
        "  message: A fact's text is over 400 characters: too long to quote in a brief.",
    ]
    assert "ex:CitesTwoFacts  [Violation]  on eg:Relation" in result.stdout
    assert "ex:SourcePublished  [Violation]  on eg:Source" in result.stdout


@pytest.mark.parametrize("engine", ["fast", "pyshacl"])
def test_turtle_report_holds_both(runner, engine):
    from rdflib import Graph, URIRef

    args = ["validate", PAGES / "quality.txt", "--shapes", EXAMPLE, "--engine", engine]
    doc = json.loads(invoke(runner, *args, "-f", "json").stdout)
    g = Graph().parse(data=invoke(runner, *args, "-f", "turtle").stdout, format="turtle")
    shapes = [str(s) for s in g.objects(None, URIRef("http://www.w3.org/ns/shacl#sourceShape"))]
    assert len(list(g.objects(None, URIRef("http://www.w3.org/ns/shacl#result")))) == len(doc["results"]) == 10
    assert shapes.count(TEAM + "SourcePublished") == 2


def test_library_api(tmp_path):
    """The README's snippet: load_shapes once, give it to convert."""
    import evidencegraph
    from evidencegraph.formats import rdf_format

    rules = evidencegraph.load_shapes([EXAMPLE])
    assert rules is evidencegraph.load_shapes([str(EXAMPLE)])  # read once per process
    with open(tmp_path / "out.nq", "wb") as out:
        outcome = evidencegraph.convert([HERE.parent / "data"], rdf_format("nq"), out, shapes=rules)
    assert [r.shape for r in outcome.report.violations] == [TEAM + "SourcePublished"]
    with pytest.raises(evidencegraph.ShapesError):
        evidencegraph.load_shapes([SHAPES / "minimal.ttl"])
