"""Property-based tests (hypothesis): real pages and RDF files, mutated, give a page (or RDF) or a
``file:line`` error; never another exception, a hang or a crash.

The mutations are those that broke things before (absurd numbers, long lines,
nesting, stray bytes), mixed with hypothesis's own bytes.
"""

from __future__ import annotations

import io
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidencegraph.errors import DataError, PageError
from evidencegraph.formats import choose_rdf_format
from evidencegraph.loaders import read_rdf
from evidencegraph.mapping import nquad_lines, ntriple_lines, page_triples, quads_of_triples
from evidencegraph.page import parse_bytes
from evidencegraph.pipeline import convert, validate_inputs, validate_page

from conftest import PAGES

SOURCES = {p.name: p.read_bytes() for p in sorted(PAGES.glob("*.txt"))}
SECONDS = 10  # per example: far more than any real page needs
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

SNIPPETS = [
    b"Facts (" + b"9" * 5000 + b")", b"Relations (" + b"1" * 4400 + b")", b"Sources",
    b"related " + b"9" * 30 + b" \xe2\x80\x94 supporting " + b"7" * 5000 + b" facts",
    b"claim" + b"x" * 3000, b"[" + b"9" * 5000 + b"]", b"ecfr.eu " + b"9" * 5000, b"A \xe2\x86\x94 B",
    b"Title example.org " + b"9" * 5000 + b" facts", b"\x00", b"\r", b"\xef\xbb\xbf", b"\xff\xfe",
    b"Justification not yet generated \xe2\x80\x94 showing supporting facts", b"a.b" * 3000 + b" x",
    b"{fact:" * 100, b"[1]" * 2000, b"\xe2\x88\x92" + b"1" * 100,
]


@st.composite
def mutated_page(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(sorted(SOURCES)))
    lines = SOURCES[data].split(b"\n")
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(lines)))
        op = draw(st.integers(0, 5))
        if op == 0:
            lines.insert(i, draw(st.sampled_from(SNIPPETS)))
        elif op == 1 and lines:
            del lines[min(i, len(lines) - 1)]
        elif op == 2 and lines:
            j = min(i, len(lines) - 1)
            cut = draw(st.integers(0, len(lines[j])))
            lines[j] = lines[j][:cut] + draw(st.binary(max_size=16)) + lines[j][cut:]
        elif op == 3 and lines:
            j = min(i, len(lines) - 1)
            lines[j] = lines[j].replace(b"8", b"8" * draw(st.integers(2, 6000)), 1)
        elif op == 4 and lines:
            lines.insert(i, lines[draw(st.integers(0, len(lines) - 1))])
        else:
            lines = lines[:i]
    return b"\n".join(lines)


@SETTINGS
@given(mutated_page(), st.booleans())
def test_a_mutated_page_is_a_page_or_a_page_error(data, named):
    started = time.monotonic()
    try:
        page = parse_bytes(data, "fuzz.txt", *(("A", "B") if named else ()))
    except PageError as e:
        assert e.path == "fuzz.txt" and e.message and (e.line is None or e.line >= 1)
        assert str(e).startswith("fuzz.txt:" if e.line else "fuzz.txt: ")
        return
    graph, triples = page_triples(page)  # a page that parses also maps, validates and serialises
    validate_page(page, triples)
    quads, plain = nquad_lines(graph, triples)
    # the ingest workers send the N-Triples only; the writer's quads made from them are the page's quads
    assert ntriple_lines(triples) == plain
    assert quads_of_triples(graph, "".join(plain).encode()) == "".join(quads).encode()
    assert time.monotonic() - started < SECONDS


@SETTINGS
@given(mutated_page())
def test_a_mutated_page_never_stops_a_conversion(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("pages")
    (folder / "a.txt").write_bytes(data)
    (folder / "b.txt").write_bytes(SOURCES["belgium-european-union.txt"])
    out = io.BytesIO()
    outcome = convert([folder], choose_rdf_format("nq", None), out)
    assert [p.name for p in outcome.pages][-1:] == ["b.txt"]  # the good page is always there
    for e in outcome.errors:
        assert isinstance(e, PageError) and "please report it" not in str(e), str(e)


def _exports() -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for fmt in ("nq", "trig", "jsonld", "turtle", "nt", "xml"):
        buffer = io.BytesIO()
        convert([PAGES / "belgium-european-union.txt", PAGES / "pending-unknown.txt"], choose_rdf_format(fmt, None),
                buffer, validate=False)
        out[fmt] = buffer.getvalue()
    return out


EXPORTS = _exports()
RDF_SNIPPETS = [b"{" * 400, b"[" * 400, b"(" * 400, b"<!DOCTYPE r [<!ENTITY a \"&b;\">]>", b"&a;" * 50,
                b'"' + b"9" * 5000 + b'"^^<http://www.w3.org/2001/XMLSchema#integer>', b"\\u0000", b"\x00", b"\xff",
                b"<rdf:Description>" * 300, b'"@context": {"@vocab": "http://x/"}', b"<javascript:alert(1)>"]


@st.composite
def mutated_rdf(draw: st.DrawFn) -> tuple[str, bytes]:
    fmt = draw(st.sampled_from(sorted(EXPORTS)))
    data = EXPORTS[fmt]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        if draw(st.booleans()):
            insert = draw(st.sampled_from(RDF_SNIPPETS))
        else:
            insert = draw(st.binary(max_size=12))
        cut = draw(st.integers(0, 40))
        data = data[:at] + insert + data[at + cut:]
    return fmt, data


@SETTINGS
@given(mutated_rdf())
def test_mutated_rdf_is_rdf_or_a_data_error(tmp_path_factory, case):
    fmt, data = case
    started = time.monotonic()
    try:
        read_rdf(data, choose_rdf_format(fmt, None), f"fuzz.{fmt}")
    except DataError as e:
        assert str(e).startswith(f"fuzz.{fmt}"), str(e)
    folder = tmp_path_factory.mktemp("rdf")
    path = folder / f"fuzz.{ {'turtle': 'ttl', 'xml': 'rdf'}.get(fmt, fmt) }"
    path.write_bytes(data)
    outcome = validate_inputs([str(path), str(PAGES / "belgium-european-union.txt")])
    for e in outcome.errors:
        assert isinstance(e, DataError) and "please report it" not in str(e), str(e)
    assert time.monotonic() - started < SECONDS


@pytest.mark.parametrize("fmt", sorted(EXPORTS))
def test_the_unmutated_exports_read_back(fmt):
    assert read_rdf(EXPORTS[fmt], choose_rdf_format(fmt, None))
