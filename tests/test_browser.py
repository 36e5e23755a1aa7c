"""``evidencegraph serve`` in a real browser: headless Chromium, driven by Selenium.

The home page runs a named question (its form, a real click, results drawn by
the page's script with fetch), a one-click question's result links lead to an
entity page, and ``/id/…`` answers 303 to the entity's document.  The
assertions are on the DOM the browser rendered; screenshots are kept in
``tests/artifacts/`` (git-ignored; CI can upload them).

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


def result_table(driver) -> tuple[list[str], list[list[str]]]:
    """Wait for the home page's script to draw the results; return (headers, rows) as rendered text."""
    table = WebDriverWait(driver, WAIT).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#out table")))
    headers = [th.text for th in table.find_elements(By.CSS_SELECTOR, "th")]
    rows = [[td.text for td in tr.find_elements(By.CSS_SELECTOR, "td")] for tr in table.find_elements(By.CSS_SELECTOR, "tr")[1:]]
    return headers, rows


def question_form(driver, name: str):
    return driver.find_element(By.CSS_SELECTOR, f'form.question[data-name="{name}"]')


def test_home_page_runs_a_named_question(browser, url):
    browser.get(url + "/")
    assert browser.title.startswith("evidencegraph")
    assert browser.find_element(By.ID, "sparql").is_displayed()
    form = question_form(browser, "relations-of-entity")
    field = form.find_element(By.NAME, "entity")
    field.send_keys("Belgium")
    form.find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    headers, rows = result_table(browser)
    assert headers[:2] == ["entity", "relation"] and "score" in headers and "other" in headers
    assert rows and all(r[headers.index("entity")] == "Belgium" for r in rows)
    assert "European Union" in [r[headers.index("other")] for r in rows]
    scores = [float(r[headers.index("score")]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    count = browser.find_element(By.CSS_SELECTOR, "#out p").text
    assert count == f"{len(rows)} rows"
    # the page stayed where it was: the question ran through fetch, not a navigation
    assert browser.current_url.rstrip("/") == url
    screenshot(browser, "home-question")


def test_named_question_links_to_an_entity_page(browser, url):
    browser.get(url + "/")
    question_form(browser, "top-entities").find_element(By.CSS_SELECTOR, 'button[type="submit"]').click()
    headers, rows = result_table(browser)
    assert {"Belgium", "European Union"} <= {r[headers.index("label")] for r in rows}
    # the entity column holds links to the server's own documents; follow Belgium's with a click
    link = next(a for a in browser.find_elements(By.CSS_SELECTOR, "#out table a") if a.text.endswith("/entity/belgium"))
    assert link.get_attribute("href") == url + "/doc/entity/belgium"
    link.click()
    WebDriverWait(browser, WAIT).until(EC.url_to_be(url + "/doc/entity/belgium"))
    assert_entity_page(browser)
    screenshot(browser, "entity-belgium")


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
