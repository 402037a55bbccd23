"""The web pages in a real headless Chromium: run a SPARQL query, find Mark Rutte, click an edge.

The samples are built (rule-based pipeline) into an in-memory store, served by uvicorn on
127.0.0.1, and driven with Selenium through Debian's ``chromium`` and ``chromium-driver``.
What the page shows is checked against the JSON the server answers. The test saves a
screenshot of Rutte's page; with ``KG_UPDATE_SCREENSHOTS=1`` it also refreshes
docs/screenshots/entity-rutte.png. Without Chromium the module is skipped, unless
``KG_REQUIRE_BROWSER=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.main import create_app
from kg.build import Builder
from kg.settings import REPO_ROOT, Settings
from kg.store import open_store

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOT = REPO_ROOT / "docs" / "screenshots" / "entity-rutte.png"
RUTTE = "Q57792"
TIMEOUT_S = 20

# Person and Country in TYPE_COLOURS (web/src/common.js), as the browser reports them.
PERSON_COLOUR = "rgb(225,87,89)"
COUNTRY_COLOUR = "rgb(89,161,79)"


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if CHROMIUM is None:
        return "chromium is not installed (apt-get install chromium chromium-driver)"
    if not Path(CHROMEDRIVER).is_file():
        return f"{CHROMEDRIVER} is missing (apt-get install chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser_ready() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("KG_REQUIRE_BROWSER") == "1":
        pytest.fail(f"KG_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def server(browser_ready: None) -> Iterator[str]:
    """The sample graph served on 127.0.0.1; yields the base URL."""
    settings = Settings(pipeline_config=REPO_ROOT / "kg" / "pipeline" / "rules.cfg")
    with open_store(None) as store:
        report = Builder(store, settings=settings).build_paths([REPO_ROOT / "data" / "samples"])
        assert report.ok, report.summary()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(create_app(store=store, settings=settings), log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        try:
            deadline = time.monotonic() + 10
            while not server.started:
                assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.02)
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()


@pytest.fixture(scope="module")
def driver(browser_ready: None) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    profile = tempfile.mkdtemp(prefix="kg-chromium-")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--no-proxy-server",
        f"--user-data-dir={profile}",
        "--window-size=1400,900",
        "--lang=en",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(TIMEOUT_S)
    try:
        yield browser
    finally:
        browser.quit()
        shutil.rmtree(profile, ignore_errors=True)


def get_json(url: str, **params: str) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        f"{url}?{urllib.parse.urlencode(params)}" if params else url, headers={"Accept": "application/json"}
    )
    with opener.open(request, timeout=TIMEOUT_S) as response:
        return json.load(response)


def wait_for(driver: Any, script: str, what: str) -> Any:
    """Poll a JavaScript expression until it is truthy; fail naming `what` and the browser's log."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, TIMEOUT_S).until(lambda d: d.execute_script(f"return {script}"))
    except TimeoutException:
        log = [entry["message"] for entry in driver.get_log("browser")]
        pytest.fail(f"timed out waiting for {what} ({script}); browser log: {log}")


def severe_errors(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


QUERY = """PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX wd: <http://www.wikidata.org/entity/>
SELECT ?label ?lang WHERE {
  ?entity owl:sameAs wd:Q57792 ; rdfs:label ?label .
  BIND (LANG(?label) AS ?lang)
} ORDER BY ?lang"""


def test_sparql_editor_runs_a_query(server: str, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{server}/ui/")
    wait_for(
        driver, "document.body.dataset.state === 'ready' && !!document.querySelector('.CodeMirror')", "YASGUI"
    )
    driver.execute_script("newskg.yasgui.getTab().getYasqe().setValue(arguments[0])", QUERY)
    driver.find_element(By.CSS_SELECTOR, ".yasqe_queryButton").click()
    rows = wait_for(
        driver,
        "[...document.querySelectorAll('.yasr table.dataTable tbody tr')]"
        ".map(tr => [...tr.querySelectorAll('td')].map(td => td.innerText.trim()))"
        ".filter(cells => cells.length > 1)",
        "the results table",
    )
    expected = get_json(f"{server}/sparql", query=QUERY)["results"]["bindings"]
    assert [(b["label"]["value"], b["lang"]["value"]) for b in expected] == [
        ("Mark Rutte", "de"),
        ("Mark Rutte", "en"),
    ]
    assert len(rows) == len(expected)
    for row, binding in zip(rows, expected, strict=True):
        text = " ".join(row)
        assert binding["label"]["value"] in text and binding["lang"]["value"] in text, row
    headers = driver.execute_script(
        "return [...document.querySelectorAll('.yasr table.dataTable thead th')]"
        ".map(th => th.innerText.trim())"
    )
    assert "label" in " ".join(headers) and "lang" in " ".join(headers)
    assert severe_errors(driver) == []


def test_entity_page_graph_and_statements(server: str, driver: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    # Find Rutte with the search box, as a user would.
    driver.get(f"{server}/ui/")
    wait_for(driver, "document.body.dataset.state === 'ready'", "the SPARQL page")
    search = driver.find_element(By.CSS_SELECTOR, "form.search input")
    search.send_keys("rutt")
    wait_for(
        driver,
        "[...document.querySelectorAll('.suggestions li')].some(li => li.innerText.includes('Mark Rutte'))",
        "the suggestion Mark Rutte",
    )
    search.send_keys(Keys.ENTER)
    wait_for(driver, f"location.pathname.endsWith('/ui/entity/{RUTTE}')", "the entity page")
    wait_for(driver, "document.body.dataset.state === 'ready' && !!window.newskg.cy", "the graph")

    # The graph holds what /api/entities says: Rutte, his counterparts, and what he is quoted saying.
    rutte = get_json(f"{server}/api/entities/{RUTTE}")
    links = [(g, link) for g in rutte["outgoing"] + rutte["incoming"] for link in g["links"]]
    entities = {rutte["iri"]} | {link["entity"]["iri"] for _, link in links}
    entities |= {c[end]["iri"] for c in rutte["claims"] for end in ("subject", "object")}
    assert links and rutte["claims"]
    graph = driver.execute_script(
        "const cy = newskg.cy; return {"
        "nodes: cy.nodes().map(n => n.id()),"
        "edges: cy.edges().map(e => [e.id(), e.data('label')]),"
        "centre: cy.getElementById(arguments[0]).style('background-color'),"
        "colours: Object.fromEntries(cy.nodes().map(n => [n.id(), n.style('background-color')]))}",
        rutte["iri"],
    )
    assert sorted(graph["nodes"]) == sorted(entities)
    assert len(graph["edges"]) == len(links) + len(rutte["claims"])
    assert graph["centre"].replace(" ", "") == PERSON_COLOUR
    russia = next(link["entity"] for _, link in links if link["entity"]["type"] == "Country")
    assert graph["colours"][russia["iri"]].replace(" ", "") == COUNTRY_COLOUR
    edge_labels = " ".join(label for _, label in graph["edges"])
    assert all(group["relation"] in edge_labels for group, _ in links)
    assert "Mark Rutte" in driver.find_element(By.CSS_SELECTOR, "#entity-card h1").text

    # A real click on the middle of an edge (Rutte accuses Russia) shows its statements.
    target = next(
        f"r|{g['relation']}|{rutte['iri']}|{link['entity']['iri']}"
        for g, link in links
        if g["direction"] == "outgoing"
    )
    x, y = driver.execute_script(
        "const p = newskg.cy.getElementById(arguments[0]).renderedMidpoint(); return [p.x, p.y]", target
    )
    canvas = driver.find_element(By.ID, "graph")
    size = canvas.size
    ActionChains(driver).move_to_element_with_offset(
        canvas, round(x - size["width"] / 2), round(y - size["height"] / 2)
    ).click().perform()
    clicked = wait_for(
        driver, "document.getElementById('statements').dataset.edge", "statements after the click"
    )
    assert driver.execute_script("return newskg.cy.edges(':selected').map(e => e.id())") == [clicked]
    check_statements(server, driver, clicked)

    # A claim edge: what Rutte says about two others, with him as the speaker.
    claim = rutte["claims"][0]
    claim_id = f"c|{claim['relation']}|{claim['subject']['iri']}|{claim['object']['iri']}"
    driver.execute_script(
        "newskg.cy.elements().unselect(); newskg.cy.getElementById(arguments[0]).select(); "
        "newskg.cy.getElementById(arguments[0]).emit('tap')",
        claim_id,
    )
    wait_for(
        driver, f"document.getElementById('statements').dataset.edge === {json.dumps(claim_id)}", "claim"
    )
    shown = check_statements(server, driver, claim_id)
    assert all(s["speaker"] and s["speaker"]["key"] == RUTTE for s in shown)
    assert "says Mark Rutte" in driver.find_element(By.ID, "statements").text
    assert severe_errors(driver) == []

    shot = tmp_path / "entity-rutte.png"
    assert driver.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000
    if os.environ.get("KG_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def check_statements(server: str, driver: Any, edge_id: str) -> list[dict[str, Any]]:
    """The panel lists the statements /api/statements gives for the edge, with speaker and evidence."""
    from selenium.webdriver.common.by import By

    kind, relation, subject, object_ = edge_id.split("|")
    params = {"subject": subject, "relation": relation, "object": object_}
    if kind == "c":
        params["speaker"] = RUTTE
    expected = get_json(f"{server}/api/statements", **params)
    assert expected, edge_id
    wait_for(
        driver, f"document.querySelectorAll('#statements .statement').length === {len(expected)}", "items"
    )
    items = driver.find_elements(By.CSS_SELECTOR, "#statements .statement")
    for item, statement in zip(items, expected, strict=True):
        evidence = item.find_element(By.CSS_SELECTOR, "blockquote").text
        assert " ".join(evidence.split()) == " ".join(statement["evidence"].split())
        speaker = item.find_element(By.CSS_SELECTOR, ".speaker").text
        if statement["speaker"] is None:
            assert speaker == "the article’s own voice"
        else:
            assert speaker == f"says {statement['speaker']['label']}"
        assert statement["modality"] in item.find_element(By.CSS_SELECTOR, ".badge").text.lower()
        article = statement["article"]
        assert (article["title"] or article["file_name"]) in item.find_element(
            By.CSS_SELECTOR, ".source"
        ).text
    return list(expected)
