"""The web view in a real headless Chromium (Debian's, driven through its chromedriver by selenium).

The store is built by the real embedded pipeline from the seed articles plus a reprint of the
press release; a rule raises alerts. Screenshots of the story and entity pages are written to
KLIPING_SCREENSHOT_DIR when it is set (outside the repository).
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.request import urlopen

import pytest

from schemas.monitor import Rule
from workers.backends.monitor_state import SqliteMonitorStore
from workers.load import expand_inputs
from workers.runtime.embedded import run
from workers.runtime.wiring import embedded_context
from workers.settings import PROJECT_ROOT, Settings
from workers.web.desk import Desk
from workers.web.server import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
PRESS_RELEASE = "004_6b6a7f8230b54375.txt"  # the SeaPRwire wire text among the seeds
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[str]:
    """The web view of a store holding the seeds, a reprint of the press release and alerts."""
    root = tmp_path_factory.mktemp("web")
    inputs = root / "inputs"
    inputs.mkdir()
    for seed in sorted((PROJECT_ROOT / "seeds").glob("*.txt")):
        shutil.copy(seed, inputs / seed.name)
    # a later pickup of the wire text: the same body under another file
    (inputs / "zz_reprint.txt").write_text(
        (PROJECT_ROOT / "seeds" / PRESS_RELEASE).read_text("utf-8"), "utf-8"
    )
    settings = Settings(data_dir=root / "data", raw_retention_days=0)
    SqliteMonitorStore(settings.db_path).add_rule(Rule(name="korut", query='"Korea Utara"'))
    ctx = embedded_context(settings)
    outcomes = [r.outcome.value for r in run(expand_inputs([str(inputs)]), ctx)]
    assert sorted(outcomes) == ["copy"] + ["indexed"] * 5
    server = make_server(Desk(ctx.index, SqliteMonitorStore(settings.db_path)), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium, or a skip saying why there is none."""
    if not (CHROMIUM and DRIVER):
        pytest.skip(
            "no chromium/chromedriver on this machine (ops/install_browser.sh installs them with apt as root)"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is a test dependency")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    driver.set_window_size(1200, 900)
    yield driver
    driver.quit()


def _shot(driver, name: str) -> None:
    folder = os.environ.get("KLIPING_SCREENSHOT_DIR")
    if folder:
        driver.save_screenshot(str(Path(folder) / name))


def _hits(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "a.hit")]


def test_pages_answer_without_a_browser(site):
    for path in ("/", "/search?q=Kursk", "/alerts", "/entity/Kim%20Jong%20Un"):
        with urlopen(site + path) as response:
            assert response.status == 200
            assert "<html" in response.read().decode()


def test_search_by_keyboard_returns_the_seeds(site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(site + "/")
    assert browser.title.endswith("Kliping")
    assert browser.find_element(By.ID, "count").text.startswith("6 articles")
    body = browser.find_element(By.TAG_NAME, "body")
    body.click()
    body.send_keys("/")  # focuses the search box
    box = browser.switch_to.active_element
    assert box.get_attribute("id") == "q"
    box.clear()
    box.send_keys('"Korea Utara"', Keys.ENTER)
    assert "Search:" in browser.find_element(By.TAG_NAME, "h1").text
    titles = _hits(browser)
    assert any("Korut Akui Terlibat" in t for t in titles)
    assert any("Pasukan Korea Utara Turut Membantu" in t for t in titles)
    browser.find_element(By.TAG_NAME, "h1").click()
    browser.switch_to.active_element.send_keys("j")  # j moves to the first result
    assert browser.switch_to.active_element.get_attribute("class") == "hit"


def test_a_query_the_language_refuses_is_explained(site, browser):
    from selenium.webdriver.common.by import By

    browser.get(site + "/search?q=%22Korea+Utara%22~3")
    assert "proximity" in browser.find_element(By.CSS_SELECTOR, ".error").text


def test_the_story_page_lists_the_reprint_as_a_copy(site, browser):
    from selenium.webdriver.common.by import By

    browser.get(site + "/search?source=SeaPRwire")
    links = browser.find_elements(By.CSS_SELECTOR, "a.hit")
    original = next(a for a in links if a.find_element(By.XPATH, "..").text.endswith("· 1 copy"))
    original.click()
    heading = browser.find_element(By.ID, "copies").text
    assert heading.startswith("Copies (who picked it up")
    rows = browser.find_elements(By.CSS_SELECTOR, "table tr")
    assert len(rows) == 2  # the header and the one reprint
    assert "after the original" in rows[0].text
    _shot(browser, "web-story.png")
    rows[1].find_element(By.CSS_SELECTOR, "a").click()
    assert "This article is a copy of" in browser.find_element(By.TAG_NAME, "main").text


def test_the_entity_page_charts_mentions_and_tone(site, browser):
    from selenium.webdriver.common.by import By

    browser.get(site + "/search?q=Kursk")
    browser.find_elements(By.CSS_SELECTOR, "a.hit")[0].click()
    browser.find_element(By.CSS_SELECTOR, 'a[href="/entity/Kim%20Jong%20Un"]').click()
    assert browser.find_element(By.TAG_NAME, "h1").text == "Kim Jong Un"
    assert "mentions" in browser.find_element(By.ID, "count").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.chart svg")) == 2
    assert _hits(browser)
    _shot(browser, "web-entity.png")


def test_alerts_show_their_delivery_state(site, browser):
    from selenium.webdriver.common.by import By

    browser.get(site + "/alerts")
    rows = browser.find_elements(By.CSS_SELECTOR, "table tr")[1:]
    assert rows and all("korut" in row.text for row in rows)
    assert all(
        any(s in row.text for s in ("no webhook", "pending", "delivered", "failed", "sending"))
        for row in rows
    )


def test_pages_fit_a_phone_screen(site, browser):
    browser.set_window_size(390, 844)
    try:
        for path in ("/alerts", "/entity/Kim%20Jong%20Un", "/"):
            browser.get(site + path)
            overflow = browser.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, path
        _shot(browser, "web-phone-search.png")
    finally:
        browser.set_window_size(1200, 900)


def test_an_english_article_shows_entities_as_it_writes_them():
    from schemas import Entity, EntityType
    from workers.web.desk import display_name

    text = "Officials in the United States said the White House agreed."
    usa = Entity(
        name="Amerika Serikat", type=EntityType.LOCATION, aliases=["United States", "AS"], positions=[17]
    )
    assert display_name(usa, text) == "United States"
    assert display_name(usa, "Pejabat Amerika Serikat berkata.") == "Amerika Serikat"  # no position found
    copy = usa.model_copy(update={"positions": []})  # copies carry no positions
    assert display_name(copy, text) == "United States"
    named = usa.model_copy(update={"display_name": "the United States"})
    assert display_name(named, "Pejabat Amerika Serikat berkata.") == "the United States"  # the recogniser's


def test_the_search_form_filters_on_the_articles_dates():
    from workers.web.server import search_query

    query = search_query({"q": "Kursk", "since": "2025-01-01", "until": "2025-04-30"})
    assert query.since == datetime(2025, 1, 1, tzinfo=UTC)
    assert query.until == datetime(2025, 5, 1, tzinfo=UTC)  # the whole of the last day
    assert search_query({"until": "2025-04-30T12:00"}).until == datetime(2025, 4, 30, 12, tzinfo=UTC)
    with pytest.raises(ValueError, match="not an ISO date"):
        search_query({"until": "kemarin"})
    assert search_query({"since": "2025-04-30", "until": "2025-04-30"}).since is not None  # one day
    with pytest.raises(ValueError, match="'since' is not before 'until'"):
        search_query({"since": "2025-05-01", "until": "2025-04-30"})
