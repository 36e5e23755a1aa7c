"""The server's pages for people, over real HTTP: assets from the package, questions and VoID as HTML,
404 pages, paged page lists, pictures' data, predeclared prefixes and readable SPARQL errors."""

from __future__ import annotations

import html
import json
import re

import httpx
import pytest

from conftest import PAGES, invoke
from evidencegraph.server import Settings
from evidencegraph.webassets import has_cytoscape, has_yasgui
from live_server import live_server

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}  # what Chromium sends


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("web") / "store"
    invoke(CliRunner(), "ingest", str(PAGES), "--store", str(path), "-q")
    with live_server(path, Settings()) as root:
        yield root


@pytest.fixture
def client():
    with httpx.Client(timeout=30) as c:
        yield c


def test_assets_come_from_the_package(url, client):
    r = client.get(url + "/assets/query.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    prefixes = client.get(url + "/assets/prefixes.json").json()
    assert prefixes["eg"] == "https://w3id.org/evidencegraph#" and set(prefixes) >= {"rdfs", "xsd", "skos", "dcterms", "prov", "schema"}
    assert client.get(url + "/assets/../pyproject.toml").status_code == 404
    assert client.get(url + "/assets/vendor/../../store.py").status_code == 404
    if has_yasgui():
        assert client.get(url + "/assets/vendor/yasgui.min.js").status_code == 200
        notices = client.get(url + "/assets/vendor/THIRD-PARTY-NOTICES.txt").text
        assert "@zazuko/yasgui" in notices and "cytoscape" in notices and "MIT" in notices


def test_query_page_is_yasgui_configured_for_this_server(url, client):
    page = client.get(url + "/").text
    config = json.loads(re.search(r'<script type="application/json" id="eg-config">(.*?)</script>', page, re.S).group(1))
    assert config["endpoint"] == "/sparql" and config["prefixesUrl"] == "/assets/prefixes.json"
    assert {q["name"] for q in config["questions"]} >= {"relations-of-entity", "top-entities"}
    assert config["example"].startswith("PREFIX eg: <https://w3id.org/evidencegraph#>")
    query_js = client.get(url + "/assets/query.js").text
    assert "['prefixes', 'variables']" in query_js  # no class/property completers: they call an outside service
    if has_yasgui():
        assert '<script src="/assets/vendor/yasgui.min.js">' in page
        assert "plain query editor" not in page
    assert "//cdn" not in page and "https://cdn" not in page


def test_without_the_built_assets_the_page_is_a_plain_editor_that_says_so(tmp_path, monkeypatch):
    import evidencegraph.webassets as web
    from evidencegraph.pictures import graph_block
    from evidencegraph.webpages import query_page

    monkeypatch.setattr(web, "VENDOR", tmp_path / "no-vendor")
    page = query_page(10000, 30)
    assert "plain query editor" in page and "python hatch_build.py" in page and "<textarea" in page
    assert "yasgui.min.js" not in page
    assert graph_block({"nodes": [{"id": "x"}], "edges": []}) == ""  # no picture; the tables stay


def test_server_predeclares_the_contract_prefixes(url, client):
    r = client.get(url + "/sparql", params={"query": "SELECT ?l WHERE { ?e a eg:Entity ; rdfs:label ?l } ORDER BY ?l LIMIT 1"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.json()["results"]["bindings"][0]["l"]["value"] == "Belgium"
    r = client.get(url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.json()["head"]["vars"] == ["s", "p", "o"]  # SELECT * in the order written


def test_server_sparql_errors_are_readable(url, client):
    r = client.get(url + "/sparql", params={"query": "SELEC * WHERE { ?s ?p ?o }"})
    assert r.status_code == 400 and "did you mean SELECT?" in r.text and len(r.text.strip().splitlines()) == 2
    r = client.get(url + "/sparql", params={"query": "INSERT DATA { <http://x/a> <http://x/b> 1 }"})
    assert r.status_code == 400 and "INSERT is SPARQL Update" in r.text


def test_construct_with_the_results_type_gets_a_graph_not_406(url, client):
    r = client.post(url + "/sparql", content="CONSTRUCT WHERE { ?e a eg:Entity }",
                    headers={"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    r = client.post(url + "/sparql", content="CONSTRUCT WHERE { ?e a eg:Entity }",
                    headers={"Content-Type": "application/sparql-query", "Accept": "image/png"})
    assert r.status_code == 406  # asked for something else altogether: still refused


def test_named_questions_as_html(url, client):
    listing = client.get(url + "/question/", headers=HTML)
    assert listing.headers["content-type"].startswith("text/html")
    assert 'action="/question/relations-of-entity"' in listing.text
    assert client.get(url + "/question/").json()[0]["name"]  # JSON for scripts
    r = client.get(url + "/question/relations-of-entity", params={"entity": "Belgium"}, headers=HTML)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<td>European Union</td>" in r.text and "3 rows" in r.text
    assert re.search(r'href="/doc/relation/[^"]+"[^>]*>Belgium — related — European Union</a>', r.text)
    form = client.get(url + "/question/relations-of-entity", headers=HTML)
    assert form.status_code == 200 and 'name="entity"' in form.text  # no parameters yet: the form
    data = client.get(url + "/question/relations-of-entity", params={"entity": "Belgium"},
                      headers={"Accept": "application/sparql-results+json"})
    assert data.json()["results"]["bindings"]  # RDF clients as before
    # the page shows the text the store ran: a store folder's own text of a question, where it has one
    from evidencegraph.resources import queries_dir

    page = client.get(url + "/question/sources-of-entity", params={"entity": "Belgium"}, headers=HTML)
    own = (queries_dir() / "embedded" / "sources-of-entity.rq").read_text(encoding="utf-8")
    assert page.status_code == 200 and html.escape(own) in page.text


def test_void_as_html_for_browsers_rdf_for_clients(url, client):
    html = client.get(url + "/.well-known/void", headers=HTML)
    assert html.headers["content-type"].startswith("text/html") and "The store in figures" in html.text
    assert "eg:Entity" in html.text
    ttl = client.get(url + "/.well-known/void", headers={"Accept": "text/turtle"})
    assert ttl.headers["content-type"].startswith("text/turtle") and "void" in ttl.text


def test_404_pages(url, client):
    r = client.get(url + "/doc/entity/Atlantis", headers=HTML)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in r.text and 'href="/"' in r.text
    r = client.get(url + "/no/such/path", headers=HTML)
    assert r.status_code == 404 and "<h1>Not found</h1>" in r.text
    plain = client.get(url + "/doc/entity/Atlantis", headers={"Accept": "text/turtle"})
    assert plain.status_code == 404 and plain.headers["content-type"].startswith("text/plain")


def test_entity_page_lists_pages_sources_and_carries_its_picture(url, client):
    page = client.get(url + "/doc/entity/belgium", headers=HTML).text
    assert "<h2>On pages</h2>" in page and "<h2>Sources of its facts</h2>" in page
    assert "ecfr.eu" in page
    incoming = page[page.index("What points here"):]
    assert not re.search(r">https?://", incoming)  # every IRI shown by its label
    if has_cytoscape():
        data = json.loads(re.search(r'id="eg-graph">(.*?)</script>', page, re.S).group(1))
        labels = sorted(n["label"] for n in data["nodes"])
        assert labels == ["Belgium", "European Union", "France", "Netherlands"]
        assert all(e["href"].startswith("/doc/relation/") for e in data["edges"])


def test_relation_page_pictures_its_entities_and_sources(url, client):
    entity = client.get(url + "/doc/entity/belgium", headers=HTML).text
    href = re.search(r'href="(/doc/relation/[^"]+)"[^>]*>relation</a>', entity).group(1)
    page = client.get(url + href, headers=HTML).text
    if has_cytoscape():
        data = json.loads(re.search(r'id="eg-graph">(.*?)</script>', page, re.S).group(1))
        kinds = sorted(n["kind"] for n in data["nodes"])
        assert kinds.count("entity") == 2 and "source" in kinds


def test_a_long_page_list_pages_and_filters(tmp_path, client):
    from click.testing import CliRunner

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(2000):
        (folder / f"page-{i:04d}.txt").write_text(
            f"Alpha{i} ↔ Beta{i}\nRelations (1)\nrelated 1.00 — strongly supporting 1 fact\nAlpha{i} and Beta{i} [1].\n"
            f"Facts (1)\nSources\nT example.org 1 fact\nclaimFact {i}.\n", encoding="utf-8")
    result = invoke(CliRunner(), "ingest", str(folder), "--store", str(tmp_path / "s"), "-q")
    assert "2000 loaded" in result.stderr, result.stderr
    with live_server(tmp_path / "s", Settings()) as root:
        first = client.get(root + "/doc/page/", headers=HTML)
        assert first.status_code == 200 and len(first.content) < 80_000
        assert first.text.count('<td><a href="/doc/page/') == 100 and "1–100 of 2,000" in first.text
        assert 'href="/doc/page/?start=100"' in first.text
        last = client.get(root + "/doc/page/?start=1900", headers=HTML).text
        assert "1,901–2,000 of 2,000" in last and "page-1999.txt" in last and "next →" not in last
        one = client.get(root + "/doc/page/", params={"q": "page-0042"}, headers=HTML).text
        assert one.count('<td><a href="/doc/page/') == 1 and "page-0042.txt" in one
        # the one source all 2,000 facts come from: what points at it is paged too
        source = re.search(r'href="(/doc/source/[^"]+)"', client.get(root + "/doc/page/alpha1--beta1", headers=HTML).text).group(1)
        doc = client.get(root + source, headers=HTML).text
        incoming = doc[doc.index("What points here"):]
        assert "1–100 of more" in incoming and f'href="{source}?from=100"' in incoming
        assert incoming.count("<tr><td>") == 100 and len(doc) < 400_000
        later = client.get(root + source, params={"from": "100"}, headers=HTML).text
        assert "101–200 of more" in later[later.index("What points here"):]
