"""``evidencegraph serve`` in a real browser: headless Chromium, driven by Selenium.

The query page is YASGUI, served from the package: a query typed into its
editor runs, a 10,000-row result pages, a CONSTRUCT shows its graph (no 406),
a named question opens as a tab; an entity page draws its neighbourhood
(one node per neighbour) and links on; ``/id/…`` answers 303 to the entity's
document.  The assertions are on the DOM the browser rendered; screenshots
are kept in ``tests/artifacts/`` (git-ignored; CI can upload them), and the
README's two (``docs/``) are made here too.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs
them); without them the tests are skipped.  Nothing is downloaded at run time:
the driver's path is given, so Selenium Manager is never asked for one.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest

from conftest import PAGES, invoke
from evidencegraph.server import Settings
from live_server import live_server

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
if CHROMIUM is None or not CHROMEDRIVER.is_file():
    pytest.skip(
        "the browser test needs Chromium and its driver (Debian: apt-get install chromium chromium-driver; "
        f"found chromium={CHROMIUM}, {CHROMEDRIVER} {'present' if CHROMEDRIVER.is_file() else 'missing'})",
        allow_module_level=True,
    )
pytest.importorskip("selenium", reason="the browser test needs selenium (pip install '.[test]')")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ARTIFACTS = Path(__file__).parent / "artifacts"
WAIT = 20  # seconds; the machine may be busy
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


DOCS = Path(__file__).parent.parent / "docs"
pytestmark = pytest.mark.skipif(not __import__("evidencegraph.webassets").webassets.has_yasgui(),
                                reason="the package was built without npm: no YASGUI to test (see hatch_build.py)")


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    from click.testing import CliRunner

    path = tmp_path_factory.mktemp("browser") / "store"
    result = invoke(CliRunner(), "ingest", str(PAGES), "--store", str(path), "-q")
    assert "6 loaded" in result.stderr, result.output
    with live_server(path, Settings()) as root:
        yield root


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("SE_OFFLINE", "true")  # should Selenium Manager ever be reached, it must not download
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,1000",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.set_page_load_timeout(WAIT)
        yield driver
    finally:
        driver.quit()  # also stops chromedriver
        mp.undo()


def screenshot(driver, name: str) -> Path:
    """Save the whole page (not only the window) as ``tests/artifacts/NAME.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.unlink(missing_ok=True)
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
    path.write_bytes(base64.b64decode(shot["data"]))
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 1000, f"{path} is not a PNG screenshot"
    return path


def readme_screenshot(driver, name: str, height: int) -> None:
    """The top of the page, at 3/4 size, for the README: ``tests/artifacts/readme-NAME``, and with
    ``EVIDENCEGRAPH_README_SCREENSHOTS=1`` the committed ``docs/NAME`` (so a test run leaves git clean)."""
    import os

    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "clip": {
        "x": 0, "y": 0, "width": 1280, "height": height, "scale": 0.75}})
    data = base64.b64decode(shot["data"])
    assert data.startswith(PNG_MAGIC)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"readme-{name}").write_bytes(data)
    if os.environ.get("EVIDENCEGRAPH_README_SCREENSHOTS"):
        DOCS.mkdir(exist_ok=True)
        (DOCS / name).write_bytes(data)


def yasgui(driver, url: str):
    """Open the query page and wait for YASGUI to be drawn."""
    driver.get(url + "/")
    WebDriverWait(driver, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#yasgui .CodeMirror")))
    assert not driver.find_element(By.ID, "plain").is_displayed()  # the plain editor is hidden under YASGUI
    return driver


def type_query(driver, text: str) -> None:
    """Type a query into YASGUI's editor as a person would (select all, then keys), and run it with its button."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    editor = driver.find_element(By.CSS_SELECTOR, "#yasgui .CodeMirror")
    editor.click()
    ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).send_keys(Keys.DELETE).perform()
    driver.execute_script("window.egYasgui.getTab().getYasqe().setValue('')")  # CodeMirror's own auto-close off
    ActionChains(driver).send_keys(text).perform()
    typed = driver.execute_script("return window.egYasgui.getTab().getYasqe().getValue()")
    # YASQE declares the prefixes a query uses as they are typed (from this server's list): the query follows them
    assert " ".join(typed.split()).endswith(" ".join(text.split())), typed
    [b for b in driver.find_elements(By.CSS_SELECTOR, "#yasgui .yasqe_queryButton") if b.is_displayed()][0].click()


def results_info(driver) -> str:
    """Wait for YASR's result line ("N results in T seconds") in the tab shown, and return it."""
    def shown(d):
        chips = [e.text for e in d.find_elements(By.CSS_SELECTOR, ".yasr_response_chip") if e.is_displayed()]
        return chips[0] if chips and "result" in chips[0] else None

    return str(WebDriverWait(driver, WAIT).until(shown))


def table_rows(driver) -> list[list[str]]:
    """YASR's table as text; typed literals (``"7"^^xsd:integer``) as their value."""
    import re

    return [[re.sub(r'^"(.*)"\^\^\S+$', r"\1", td.text) for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, ".yasr table.dataTable tbody tr")]


def test_query_typed_in_yasgui_runs(browser, url):
    yasgui(browser, url)
    # nothing on the page comes from another host: scripts and styles are served by the package
    sources = browser.execute_script("return [...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href)")
    assert sources and all(s.startswith(url) or s.startswith("data:") for s in sources)
    type_query(browser, "SELECT ?label WHERE { ?e a eg:Entity ; rdfs:label ?label } ORDER BY ?label")
    assert results_info(browser).startswith("9 results")
    rows = table_rows(browser)
    assert [r[1] for r in rows][:3] == ["Belgium", "Côte d’Ivoire", "European Union"]
    screenshot(browser, "yasgui-select")


def test_a_10000_row_result_pages(browser, url):
    yasgui(browser, url)
    digits = " ".join(str(i) for i in range(100))
    type_query(browser, f"SELECT ?n WHERE {{ VALUES ?a {{ {digits} }} VALUES ?b {{ {digits} }} "
                        "BIND (100 * ?a + ?b AS ?n) } ORDER BY ?n")
    assert results_info(browser).startswith("10000 results")
    assert browser.find_elements(By.CSS_SELECTOR, ".yasr table.dataTable tbody tr"), "no table drawn"
    first = table_rows(browser)
    assert first[0][1] == "0" and len(first) == 50  # YASR shows 50 rows a page
    browser.find_element(By.CSS_SELECTOR, ".yasr .dt-paging-button.next").click()
    WebDriverWait(browser, WAIT).until(lambda d: table_rows(d)[0][1] == "50")
    browser.find_element(By.CSS_SELECTOR, ".yasr .dt-paging-button.last").click()
    WebDriverWait(browser, WAIT).until(lambda d: table_rows(d)[-1][1] == "9999")
    screenshot(browser, "yasgui-paged")


def test_construct_shows_a_graph_without_406(browser, url):
    yasgui(browser, url)
    type_query(browser, "CONSTRUCT { ?e rdfs:label ?label } WHERE { ?e a eg:Entity ; rdfs:label ?label }")
    info = results_info(browser)
    assert "results" in info and "406" not in browser.find_element(By.CSS_SELECTOR, ".yasr").text
    rows = table_rows(browser)
    assert any(r[2] == "rdfs:label" and "Belgium" in r[3] for r in rows), rows[:3]
    browser.find_element(By.CSS_SELECTOR, ".yasr .select_response").click()  # the graph as the server sent it (N-Triples, YASGUI's Accept)
    WebDriverWait(browser, WAIT).until(lambda d: "Belgium" in d.find_element(By.CSS_SELECTOR, ".yasr").text)
    assert "<http://www.w3.org/2000/01/rdf-schema#label>" in browser.find_element(By.CSS_SELECTOR, ".yasr").text
    screenshot(browser, "yasgui-construct")


def test_named_question_opens_as_a_tab(browser, url):
    yasgui(browser, url)
    browser.find_element(By.XPATH, "//button[@class='example' and .='relations-of-entity']").click()
    WebDriverWait(browser, WAIT).until(
        lambda d: "relations-of-entity" in d.find_element(By.CSS_SELECTOR, "#yasgui .tabsList .active").text)
    text = browser.execute_script("return window.egYasgui.getTab().getYasqe().getValue()")
    assert 'VALUES ?entity { "Belgium" }' in text
    shown = [b for b in browser.find_elements(By.CSS_SELECTOR, "#yasgui .yasqe_queryButton") if b.is_displayed()]
    shown[0].click()  # the new tab's button (each tab has its own editor)
    WebDriverWait(browser, WAIT).until(lambda d: any(
        e.is_displayed() and e.text.startswith("3 results") for e in d.find_elements(By.CSS_SELECTOR, ".yasr_response_chip")))
    screenshot(browser, "yasgui-question")
    readme_screenshot(browser, "query-page.png", 900)


def test_entity_page_draws_its_neighbourhood(browser, url):
    browser.get(url + "/doc/entity/belgium")
    assert_entity_page(browser)
    WebDriverWait(browser, WAIT).until(lambda d: d.execute_script("return !!window.egGraph"))
    table = browser.find_element(By.XPATH, "//h2[.='Relations, ranked by score']/following-sibling::table[1]")
    neighbours = {tr.find_elements(By.TAG_NAME, "td")[3].text for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")}
    labels = browser.execute_script("return window.egGraph.nodes().map(n => n.data('label'))")
    assert sorted(labels) == sorted(neighbours | {"Belgium"})  # one node per neighbour, and the entity
    assert browser.execute_script("return window.egGraph.edges().length") == len(neighbours)
    assert browser.find_element(By.ID, "graph").is_displayed()
    screenshot(browser, "entity-belgium")
    readme_screenshot(browser, "entity-page.png", 1000)
    # a click on a neighbour's node opens its page
    browser.execute_script("window.egGraph.nodes().filter(n => n.data('label') === 'France').emit('tap')")
    WebDriverWait(browser, WAIT).until(EC.url_to_be(url + "/doc/entity/france"))


def test_pages_list_pages_and_filters(browser, url):
    browser.get(url + "/doc/page/?q=belgium")
    rows = browser.find_elements(By.CSS_SELECTOR, "table tbody tr")
    assert len(rows) == 3 and all("Belgium" in r.text for r in rows)
    browser.get(url + "/doc/entity/Atlantis")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not found"
    assert browser.find_element(By.LINK_TEXT, "the query page")


def test_id_redirects_to_the_entity_document(browser, url):
    browser.get(url + "/id/entity/belgium")  # 303 See Other, followed by the browser
    WebDriverWait(browser, WAIT).until(EC.url_to_be(url + "/doc/entity/belgium"))
    assert_entity_page(browser)
    # the relation with the European Union leads on to the relation's page
    browser.find_element(By.XPATH, "//h2[.='Relations, ranked by score']/following-sibling::table[1]"
                                   "//tr[td/a[.='European Union']]//a[.='relation']").click()
    WebDriverWait(browser, WAIT).until(EC.url_contains("/doc/relation/"))
    h1 = browser.find_element(By.TAG_NAME, "h1").text
    assert "Belgium" in h1 and "European Union" in h1
    assert browser.find_element(By.XPATH, "//h2[.='Supporting facts']/following-sibling::table[1]//tbody/tr")
    screenshot(browser, "relation-belgium")


def assert_entity_page(driver) -> None:
    assert driver.find_element(By.TAG_NAME, "h1").text == "Belgium"
    assert driver.find_element(By.CSS_SELECTOR, ".iri").text == "https://w3id.org/evidencegraph/id/entity/belgium"
    table = driver.find_element(By.XPATH, "//h2[.='Relations, ranked by score']/following-sibling::table[1]")
    headers = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers[:4] == ["score", "kind", "strength", "with"]
    rows = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")] for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert rows, "the entity page lists no relations"
    assert "European Union" in [r[3] for r in rows]
    scores = [float(r[0]) for r in rows if r[0]]
    assert scores and scores == sorted(scores, reverse=True)
