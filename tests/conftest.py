from __future__ import annotations

import difflib
import gc
from pathlib import Path

import pytest
from click.testing import CliRunner

HERE = Path(__file__).parent
PAGES = HERE / "pages"
BROKEN = HERE / "broken"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str, input: bytes | str | None = None, env: dict[str, str] | None = None):
    from evidencegraph.cli import cli

    return runner.invoke(cli, [str(a) for a in args], input=input, env=env, catch_exceptions=False)


def assert_isomorphic(expected, actual, what: str = "graph") -> None:
    """Compare two rdflib graphs/datasets by isomorphism; print a readable diff when they differ."""
    from rdflib.compare import graph_diff, to_isomorphic

    iso_e, iso_a = to_isomorphic(expected), to_isomorphic(actual)
    if iso_e == iso_a:
        return
    _, only_e, only_a = graph_diff(iso_e, iso_a)
    lines = ["- " + ln for ln in sorted(only_e.serialize(format="nt").splitlines()) if ln]
    lines += ["+ " + ln for ln in sorted(only_a.serialize(format="nt").splitlines()) if ln]
    pytest.fail(f"{what} differs (- expected, + actual):\n" + "\n".join(lines), pytrace=False)


def graphs_from_nquads(data: str | bytes) -> dict[str, "object"]:
    """N-Quads -> {graph name: rdflib Graph}, read with pyoxigraph (an independent parser)."""
    import pyoxigraph as ox
    from rdflib import BNode, Graph, Literal, URIRef

    def term(t):
        if isinstance(t, ox.NamedNode):
            return URIRef(t.value)
        if isinstance(t, ox.BlankNode):
            return BNode(t.value)
        if t.language:
            return Literal(t.value, lang=t.language)
        dt = t.datatype.value
        return Literal(t.value) if dt.endswith("#string") else Literal(t.value, datatype=URIRef(dt))

    out: dict[str, Graph] = {}
    raw = data.encode() if isinstance(data, str) else data
    for q in ox.parse(raw, ox.RdfFormat.N_QUADS):
        name = "" if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        out.setdefault(name, Graph()).add((term(q.subject), term(q.predicate), term(q.object)))
    return out


def text_diff(expected: str, actual: str) -> str:
    return "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), "expected", "actual"))


@pytest.fixture(autouse=True, scope="module")
def _collect_cycles_on_the_main_thread():
    """A pyoxigraph answer may not be freed on another thread than the one that made it.  The in-process
    commands of one module leave some in reference cycles; collected later by a server's or an ingest's
    thread of another module, each is an unraisable error (a failure here).  Collect them here, before and
    after each module, on the main thread."""
    gc.collect()
    yield
    gc.collect()


# --- stores of the search modules (test_search.py, test_index_answers.py) --------------------


@pytest.fixture
def collect_cycles_after_each_test():
    """For a module whose in-process answers and servers' threads meet (``pytestmark = pytest.mark.usefixtures``):
    collect the cycles an answer is left in (a failed write's traceback, …) after each test, on the main thread."""
    yield
    gc.collect()


@pytest.fixture
def sample_store(tmp_path) -> Path:
    """A store of the sample pages (tests/pages), copied, so that a test may edit them and ingest again."""
    import shutil

    pages = tmp_path / "pages"
    shutil.copytree(PAGES, pages)
    path = tmp_path / "store"
    result = invoke(CliRunner(), "ingest", str(pages), "--store", str(path), "-q")
    assert "6 loaded" in result.stderr, result.output
    return path


@pytest.fixture(scope="module")
def corpus_store(tmp_path_factory) -> Path:
    """A store of 150 generated pages (seed 5) and the sample pages, once per module."""
    import sys

    sys.path.insert(0, str(HERE.parent / "benchmarks"))
    from generate import generate

    root = tmp_path_factory.mktemp("corpus")
    generate(150, root / "pages", seed=5)
    path = root / "store"
    result = invoke(CliRunner(), "ingest", str(root / "pages"), str(PAGES), "--store", str(path), "-q")
    assert result.exit_code in (0, 1), result.output
    return path
