"""The W3C SPARQL 1.1 Protocol and Graph Store Protocol tests, against the live server.

The manifests (tests/conformance/, copied unchanged from W3C rdf-tests)
describe each test as HTTP requests and the expected responses.  Each test
runs on a server started with --allow-update and a token, over a store that
is emptied before the test; the fixture graphs a test names (ut:graphData)
are then loaded with Graph Store PUTs — through the server itself, as named
graphs; the default graph is their union, as in every evidencegraph store.

Mapping of the manifests' paths: ``/sparql/`` is ``/sparql`` for query tests
and ``/update`` for update tests (the manifest allows separate endpoints);
``/gsp`` is ``/store``.  Requests to /update and Graph Store writes carry the
bearer token (the server refuses writes without it, tested elsewhere).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic

from evidencegraph.server import Settings
from evidencegraph.store import Store
from live_server import live_server

HERE = Path(__file__).parent / "conformance"
PROTOCOL = HERE / "sparql11-protocol"
GSP = HERE / "sparql11-graph-store-protocol"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
TOKEN = "w3c-protocol-token"

STATUS = {"OK": {200}, "Created": {201}, "NoContent": {204}, "NotFound": {404},
          "StatusCode2xx": set(range(200, 300)), "StatusCode3xx": set(range(300, 400)),
          "StatusCode4xx": set(range(400, 500))}
RESULT_TYPES = {"application/sparql-results+json": ox.QueryResultsFormat.JSON,
                "application/sparql-results+xml": ox.QueryResultsFormat.XML,
                "text/csv": ox.QueryResultsFormat.CSV, "text/tab-separated-values": ox.QueryResultsFormat.TSV}
RDF_TYPES = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
             "application/rdf+xml": ox.RdfFormat.RDF_XML, "application/ld+json": ox.RdfFormat.JSON_LD}

SKIPS = {
    "put_get_default": "the default graph of an evidencegraph store is the union of its named graphs (pages); "
                       "the server refuses to write it directly (405) rather than let it drift from the pages",
}


def _load(manifest: Path) -> list[tuple[str, rdflib.Graph, URIRef]]:
    g = rdflib.Graph().parse(manifest, format="turtle")
    out = []
    for m in g.subjects(RDF.type, MF.Manifest):
        entries = g.value(m, MF.entries)
        if entries is None:
            continue
        for test in Collection(g, entries):
            out.append((str(test).rpartition("#")[2], g, test))
    return out


PROTOCOL_TESTS = _load(PROTOCOL / "manifest.ttl")
GSP_TESTS = _load(GSP / "manifest-direct.ttl") + _load(GSP / "manifest-indirect.ttl")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("w3c") / "store"
    Store(path, create=True).close()
    with live_server(path, Settings(allow_update=True, token=TOKEN)) as root, httpx.Client(timeout=30) as client:
        yield root, client


def _reset(root: str, client: httpx.Client, g: rdflib.Graph, test: URIRef, base: Path) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = client.post(root + "/update", content="DROP ALL", headers={"Content-Type": "application/sparql-update", **auth})
    assert r.status_code == 204, r.text
    for data in g.objects(test, UT.graphData):
        name, label = g.value(data, UT.graph), g.value(data, rdflib.RDFS.label)
        body = (base / str(name).rpartition("/")[2]).read_bytes()
        r = client.put(root + "/store", params={"graph": str(label)}, content=body,
                       headers={"Content-Type": "application/n-triples", **auth})
        assert r.status_code in (201, 204), r.text


def _headers(g: rdflib.Graph, node) -> dict[str, str]:
    found = g.value(node, HT.headers)
    return {str(g.value(h, HT.fieldName)).lower(): str(g.value(h, HT.fieldValue)) for h in Collection(g, found)} if found else {}


def _is_update(name: str, content_type: str, body: bytes, path: str) -> bool:
    """Whether a request of a protocol test is an update (for /update) or a query (for /sparql)."""
    media = content_type.split(";")[0].strip()
    if media == "application/sparql-update" or body.startswith(b"update=") or "?update=" in path:
        return True
    if media == "application/sparql-query" or body.startswith(b"query=") or "?query=" in path:
        return False
    return "update" in name  # bodies of unknown type: by the test's name (bad_update_wrong_media_type…)


def _run(root: str, client: httpx.Client, name: str, g: rdflib.Graph, test: URIRef, kind: str) -> None:
    action = g.value(test, MF.action)
    variables: dict[str, str] = {}
    for req in Collection(g, g.value(action, HT.requests)):
        method = str(g.value(req, HT.methodName))
        path = str(g.value(req, HT.absolutePath))
        headers = _headers(g, req)
        body_node = g.value(req, HT.body)
        body = None
        if body_node is not None:
            text = str(g.value(body_node, CNT.chars))
            for k, v in variables.items():
                text = text.replace(k, v)
            body = text.encode(str(g.value(body_node, CNT.characterEncoding) or "UTF-8").lower())
        for k, v in variables.items():
            path = path.replace(k, v)
        is_update = _is_update(name, headers.get("content-type", ""), body or b"", path)
        if kind == "protocol":
            path = ("/update" if is_update else "/sparql") + path[len("/sparql/"):]
        else:
            path = "/store" + path[len("/gsp"):]
        if kind == "protocol" and is_update or kind == "gsp" and method in ("PUT", "POST", "DELETE"):
            headers["authorization"] = f"Bearer {TOKEN}"
        r = client.request(method, httpx.URL(root + path), content=body, headers=headers)
        resp = g.value(req, HT.resp)
        expected = set().union(*(STATUS[str(s).rpartition("#")[2]] for s in g.objects(resp, MF.expectedStatus)))
        assert r.status_code in expected, f"{method} {path}: {r.status_code} {r.text[:300]}"
        media = r.headers.get("content-type", "").split(";")[0].strip()
        fmt = g.value(resp, MF.expectedFormat)
        if fmt is not None and str(fmt) in ("boolean", "tabular"):
            assert media in RESULT_TYPES, f"{media} is not a SPARQL results type"
            results = ox.parse_query_results(r.content, RESULT_TYPES[media])
            boolean = g.value(resp, MF.expectedBoolean)
            if str(fmt) == "boolean":
                assert isinstance(results, ox.QueryBoolean)
                if boolean is not None:
                    assert bool(results) == boolean.toPython()
            else:
                assert isinstance(results, ox.QuerySolutions) and [v.value for v in results.variables] == ["value"]
        elif fmt is not None and str(fmt) == "RDF":
            assert media in RDF_TYPES, f"{media} is not an RDF type"
            list(ox.parse(r.content, RDF_TYPES[media]))
        location = g.value(resp, MF.expectedLocation)
        if location is not None:
            assert "location" in r.headers
            variables[str(location)] = r.headers["location"]
        want = _headers(g, resp)
        if "content-type" in want:
            assert r.headers["content-type"].replace(" ", "").lower() == want["content-type"].replace(" ", "").lower()
        expected_body = g.value(resp, HT.body)
        if expected_body is not None and method != "HEAD":
            exp = rdflib.Graph().parse(data=str(g.value(expected_body, CNT.chars)), format="turtle")
            got = rdflib.Graph().parse(data=r.text, format="turtle")
            assert isomorphic(exp, got), f"{method} {path}: the graph differs:\n{r.text}"


@pytest.mark.parametrize("name, g, test", PROTOCOL_TESTS, ids=[t[0] for t in PROTOCOL_TESTS])
def test_sparql11_protocol(server, name, g, test):
    if name in SKIPS:
        pytest.skip(SKIPS[name])
    root, client = server
    _reset(root, client, g, test, PROTOCOL)
    _run(root, client, name, g, test, "protocol")


@pytest.mark.parametrize("name, g, test", GSP_TESTS, ids=[t[0] for t in GSP_TESTS])
def test_graph_store_protocol(server, name, g, test):
    if name in SKIPS:
        pytest.skip(SKIPS[name])
    root, client = server
    _reset(root, client, g, test, GSP)
    _run(root, client, name, g, test, "gsp")


def test_manifests_read():
    assert len(PROTOCOL_TESTS) == 34
    assert len(GSP_TESTS) == 13
