"""Differential test: four SHACL engines, the same inputs, the same results.

The engines: evidencegraph's own (fastshacl.py, the shipped shapes only),
pyshacl (the reference), pyshacl-turbo (what a user's ``--shapes`` run on)
and pyrudof (an independent Rust implementation).  The shapes: the shipped
ones (read from shapes/evidencegraph.ttl, whatever it holds) and users'
(shapes/examples/team-rules.ttl and tests/usershapes/features.ttl, which
uses SHACL features the shipped shapes do not).  The inputs: the shape tests
(tests/shapes and every mutation of base.ttl in test_shapes.py), the sample
pages, the broken pages that parse, mangled (hostile) pages, and a few
hundred generated pages with injected faults.

The results compared: focus node, constraint component, shape, severity,
path and SPARQL constraint, with their counts (a multiset).  Blank nodes
(shapes, focus nodes, complex paths) are numbered differently by each
engine and compared as "_".

pyshacl checks about 6k triples/s (a page takes it ~0.5 s with the shipped
shapes), so it runs on every hand-written input and sample page, and on the
generated and hostile pages that cover every kind of result the others find
on them all (chosen greedily), which keeps this test well under a minute.
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pyoxigraph as ox
import pytest

from evidencegraph.errors import PageError
from evidencegraph.loaders import read_rdf_file
from evidencegraph.mapping import page_triples, to_oxigraph
from evidencegraph.page import parse_bytes
from evidencegraph.pipeline import PageFile, read_page
from evidencegraph.resources import shapes_path
from evidencegraph.shapes import _short, validate_triples
from evidencegraph.usershapes import load_shapes, ontology_mix, validate_quads

from conftest import BROKEN, HERE, PAGES

sys.path.insert(0, str(HERE.parent / "benchmarks"))
from generate import generate  # noqa: E402

pyrudof = pytest.importorskip("pyrudof")

USER = [HERE.parent / "shapes" / "examples" / "team-rules.ttl", HERE / "usershapes" / "features.ttl"]
Key = tuple[str, str, str, str, str, str]  # focus, component, shape, severity, path, constraint


class Input:
    def __init__(self, name: str, quads: list[Any], triples: list[Any] | None = None):
        self.name, self.quads, self.triples = name, quads, triples


def page_input(name: str, data: bytes) -> Input | None:
    try:
        page = parse_bytes(data, name)
    except PageError:
        return None
    page.name = name
    g, triples = page_triples(page)
    return Input(name, to_oxigraph(g, triples), triples)


def blank(term: str | None) -> str:
    """IRIs as the report shortens them; blank nodes (no ':' or '_:…') as '_'."""
    if term is None:
        return ""
    term = str(term)
    return "_" if term.startswith("_:") or ":" not in term else _short(term)


def keys(results: Any) -> Counter[Key]:
    return Counter((blank(r.focus), r.component, blank(r.shape), r.severity, blank(r.path), blank(r.constraint))
                   for r in results)


# --- the engines ---------------------------------------------------------------------


def fast(inp: Input) -> Counter[Key]:
    from evidencegraph.fastshacl import _term
    from evidencegraph.loaders import to_rdflib

    triples = inp.triples
    if triples is None:
        triples = [(_term(s), _term(p), _term(o)) for s, p, o in to_rdflib(inp.quads)]
    return keys(validate_triples(triples).results)


def general(engine: str, files: list[Path]) -> Callable[[Input], Counter[Key]]:
    shapes = load_shapes(files, only=True, engine=engine)
    return lambda inp: keys(validate_quads(shapes, inp.quads, inp.triples))


class Rudof:
    """pyrudof, one session per shapes graph; the data with the ontology mixed in, as the others see it."""

    def __init__(self, files: list[Path]):
        self.session = pyrudof.Rudof(pyrudof.RudofConfig())
        graph = load_shapes(files, only=True).graph  # one graph, whatever the files' syntax
        self.session.read_shacl(graph.serialize(format="turtle"))
        mix = [ox.Triple(q.subject, q.predicate, q.object) for q in ontology_mix()]
        self.session.read_data(ox.serialize(mix, format=ox.RdfFormat.N_TRIPLES).decode(), format=pyrudof.RDFFormat.NTriples)

    def __call__(self, inp: Input) -> Counter[Key]:
        # Each input is staged over the ontology and rolled back: a fresh read_data costs 130 ms, and
        # read_data(merge=False) keeps the previous input's triples (pyrudof 0.3).
        data = [ox.Triple(q.subject, q.predicate, q.object) for q in inp.quads]
        self.session.begin_staging()
        try:
            self.session.read_data(ox.serialize(data, format=ox.RdfFormat.N_TRIPLES).decode(),
                                   format=pyrudof.RDFFormat.NTriples, merge=True)
            report = list(self.session.validate_shacl())
        finally:
            self.session.rollback_staging()
        found: Counter[Key] = Counter()
        for e in report:
            severity = str(e.severity).rsplit("#", 1)[-1]
            found[(blank(_iri(e.focus_node)), _short(_iri(e.constraint_component)), blank(_iri(e.source_shape)),
                   severity, _rudof_path(e.path), "")] += 1
        return found


def _rudof_path(path: Any) -> str:
    """pyrudof writes a complex path out, e.g. ``^(…#fromSource)``; the others give a blank node."""
    if path is None:
        return ""
    text = str(path)
    return "_" if text.startswith(("(", "^", "[")) or " " in text else blank(_iri(text))


def _iri(term: Any) -> str | None:
    if term is None:
        return None
    text = str(term)
    return text[1:-1] if text.startswith("<") and text.endswith(">") else text


def rudof_comparable(found: Counter[Key], inp: Input) -> Counter[Key]:
    """What pyrudof is compared on: all but what it does not support.

    - pyrudof names a SPARQL result's shape but not its sh:sourceConstraint: compared without it.
    - pyrudof does not check sh:node on a literal value (a literal conforms to no shape with a
      property: SHACL 4.7.1; the others report it): such results are left out.
    """
    literal_values = {(blank(q.subject.value), _short(q.predicate.value)) for q in inp.quads
                      if isinstance(q.object, ox.Literal)}
    out: Counter[Key] = Counter()
    for (focus, component, shape, severity, path, _), n in found.items():
        if component == "sh:NodeConstraintComponent" and (focus, path) in literal_values:
            continue
        out[(focus, component, shape, severity, path, "")] += n
    return out


def _blank_entity(inp: Input) -> bool:
    entity = "https://w3id.org/evidencegraph#Entity"
    return any(isinstance(q.subject, ox.BlankNode) and q.object == ox.NamedNode(entity) for q in inp.quads)


# --- the inputs ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, list[Input]]:
    from test_fuzz import SOURCES, mangle
    from test_shapes import CASES, PREFIXES, base

    files = [p for p in sorted((HERE / "shapes").iterdir()) if p.suffix in (".ttl", ".jsonld") and p.name != "syntax-error.ttl"]
    hand = [Input(p.name, read_rdf_file(p)) for p in files]
    for name, update, _ in CASES:  # every shape and rule violated once
        g = base()
        g.update(PREFIXES + update)
        hand.append(Input(name, [ox.Quad(*_ox(t)) for t in g]))
    pages = {p.read_bytes(): p.name for p in sorted((HERE.parent / "data").glob("*.txt")) + sorted(PAGES.glob("*.txt"))}
    samples = [inp for data, name in sorted(pages.items(), key=lambda kv: kv[1]) if (inp := page_input(name, data))]
    broken = [inp for p in sorted(BROKEN.glob("*.txt")) if (inp := page_input(p.name, p.read_bytes()))]
    rng = random.Random(15)
    hostile = []
    while len(hostile) < 20:
        inp = page_input(f"fuzz-{len(hostile)}.txt", mangle(rng.choice(SOURCES), rng))
        if inp is not None:
            hostile.append(inp)
    folder = tmp_path_factory.mktemp("faults")
    generated = []
    for path in generate(200, folder, seed=15, faults=0.7):
        page = read_page(PageFile(path, path.name))
        g, triples = page_triples(page)
        generated.append(Input(path.name, to_oxigraph(g, triples), triples))
    return {"files": hand[:len(files)], "hand": hand, "samples": samples + broken, "hostile": hostile,
            "generated": generated}


def _ox(triple: Any) -> tuple[Any, Any, Any]:
    from rdflib import BNode, Literal

    def term(t: Any) -> Any:
        if isinstance(t, BNode):
            return ox.BlankNode(str(t))
        if isinstance(t, Literal):
            if t.language:
                return ox.Literal(str(t), language=t.language)
            return ox.Literal(str(t), datatype=ox.NamedNode(str(t.datatype))) if t.datatype else ox.Literal(str(t))
        return ox.NamedNode(str(t))

    return term(triple[0]), term(triple[1]), term(triple[2])


def covering(found: dict[str, Counter[Key]], todo: list[Input], limit: int = 8) -> list[Input]:
    """Few inputs whose results show every kind of result (component, shape, severity, path, rule) in ``found``."""
    kind = lambda k: (k[1], k[2], k[3], k[5])  # noqa: E731 - component, shape, severity, rule
    wanted = {kind(k) for c in found.values() for k in c}
    chosen: list[Input] = [next(inp for inp in todo if not found[inp.name])] if any(not found[i.name] for i in todo) else []
    while wanted and len(chosen) < limit:
        best = max(todo, key=lambda inp: len(wanted & {kind(k) for k in found[inp.name]}))
        gain = wanted & {kind(k) for k in found[best.name]}
        if not gain:
            break
        chosen.append(best)
        wanted -= gain
    return chosen


def compare(engines: dict[str, Callable[[Input], Counter[Key]]], todo: list[Input], what: str) -> dict[str, Counter[Key]]:
    """Every engine on every input: the same results as the first engine, or a failure naming the inputs."""
    first, *rest = engines
    found: dict[str, Counter[Key]] = {}
    failures = []
    for inp in todo:
        found[inp.name] = engines[first](inp)
        for name in rest:
            if name == "pyrudof" and _blank_entity(inp):
                # pyrudof writes the focus node of a SPARQL constraint into a VALUES clause, where SPARQL
                # allows no blank node ("expected UNDEF"), so it fails on a blank eg:Entity (every entity
                # has egsh:EntityVariantNames); that input is compared on the other engines only
                continue
            expected, got = found[inp.name], engines[name](inp)
            if name == "pyrudof":
                expected, got = rudof_comparable(expected, inp), rudof_comparable(got, inp)
            if got != expected:
                failures.append(f"{what}, {inp.name}: {name} differs from {first}:\n  only {name}: "
                                f"{sorted((got - expected).elements())}\n  only {first}: {sorted((expected - got).elements())}")
    assert not failures, "\n".join(failures[:5]) + f"\n({len(failures)} inputs differ)"
    return found


# --- the tests -----------------------------------------------------------------------


def test_shipped_shapes_four_engines(inputs):
    shipped = [shapes_path()]
    quick = {"evidencegraph": fast, "pyshacl-turbo": general("pyshacl-turbo", shipped), "pyrudof": Rudof(shipped)}
    reference = {"evidencegraph": fast, "pyshacl": general("pyshacl", shipped)}
    for group in ("hand", "samples"):
        compare(quick, inputs[group], group)
    # pyshacl: the hand-written files and sample pages; of the mutations of base.ttl, test_shapes.py checks
    # pyshacl's exact results; of the rest, the pages that show every kind of result the others found
    compare(reference, inputs["files"] + inputs["samples"], "hand-written files and sample pages")
    found = compare(quick, inputs["hostile"], "hostile") | compare(quick, inputs["generated"], "generated")
    compare(reference, covering(found, inputs["hostile"] + inputs["generated"]), "hostile and generated (covering)")
    # the injected faults reach the cross-record rules; the shape tests reach every rule
    every = Counter[Key]()
    for group in inputs.values():
        for inp in group:
            every += fast(inp)
    rules = {k[5] for k in every if k[5]}
    shipped_rules = {_short(str(s)) for s in load_shapes(shipped, only=True).graph.objects(
        None, __import__("rdflib").URIRef("http://www.w3.org/ns/shacl#sparql"))}
    assert shipped_rules <= rules


def test_user_shapes_three_engines(inputs):
    quick = {"pyshacl-turbo": general("pyshacl-turbo", USER), "pyrudof": Rudof(USER)}
    reference = {"pyshacl-turbo": quick["pyshacl-turbo"], "pyshacl": general("pyshacl", USER)}
    compare(reference, inputs["files"] + inputs["samples"], "hand-written files and sample pages")
    found = compare(quick, inputs["hand"], "hand-written") | compare(quick, inputs["samples"], "sample pages")
    found |= compare(quick, inputs["hostile"], "hostile") | compare(quick, inputs["generated"], "generated")
    rest = inputs["hand"] + inputs["hostile"] + inputs["generated"]
    compare(reference, covering(found, rest), "hand-written, hostile and generated (covering)")
    seen = Counter[Key]()
    for inp in inputs["generated"]:
        seen += quick["pyshacl-turbo"](inp)
    assert {"sh:SPARQLConstraintComponent", "sh:MinCountConstraintComponent", "sh:OrConstraintComponent",
            "sh:QualifiedMinCountConstraintComponent"} <= {k[1] for k in seen}
