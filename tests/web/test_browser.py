"""The pages in a real browser: headless Chromium (Debian's, through chromium-driver) against a
real ``openworkshop demo`` process. Each test checks what a person sees and leaves screenshots
in its temp folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from openworkshop.testing import sample_catalog
from openworkshop_web.pages import CATALOG_PAGE_SIZE
from tests.client.gated import Gated
from tests.web.conftest import WEB_SLOW, ordinary_mods

pytestmark = pytest.mark.slow

WAIT = 60  # seconds: generous, the machine is loaded; conditions decide, never the clock


def wait(driver: Any) -> WebDriverWait:
    return WebDriverWait(driver, WAIT)


def record_phases(driver: Any) -> None:
    """Keep every text the phase shows in ``window.phases``, in order."""
    driver.execute_script(
        "window.phases = [];"
        "new MutationObserver(function () {"
        "  window.phases.push(document.getElementById('phase').textContent);"
        "}).observe(document.getElementById('phase'), {childList: true, characterData: true,"
        "  subtree: true});"
    )


def shoot(driver: Any, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000, f"{name}: an empty screenshot"
    return path


def test_catalog_lists_searches_and_filters(web_demo: str, browser: Any, tmp_path: Path) -> None:
    """The catalog shows the cached mods, 20 a page in the API's order, each with its logo,
    size, downloads and dates; the pager reaches the rest; the search and the game filter
    narrow it, from the form, as a person uses it."""
    listing = httpx.get(f"{web_demo}/list/mods/?page_size=40").json()
    assert listing["database_size"] == len(ordinary_mods()) - 1 > CATALOG_PAGE_SIZE
    browser.get(f"{web_demo}/web/")
    rows = wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "li.mod"))
    assert len(rows) == CATALOG_PAGE_SIZE
    assert browser.find_element(By.ID, "total").text == str(listing["database_size"])
    names = [r.find_element(By.CSS_SELECTOR, ".name").text for r in rows]
    browser.find_element(By.CSS_SELECTOR, ".pager a[rel=next]").click()
    wait(browser).until(lambda d: "page=2" in d.current_url)
    names += [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.mod .name")]
    assert names == [m["name"] for m in listing["results"]]  # the same order as the API's
    browser.get(f"{web_demo}/web/")
    rows = wait(browser).until(lambda d: d.find_elements(By.CSS_SELECTOR, "li.mod"))
    logos = browser.find_elements(By.CSS_SELECTOR, "li.mod .logo img")
    assert logos and all(img.get_attribute("src").startswith("https://") for img in logos)
    first = rows[0].text
    assert "Size" in first and "Downloads" in first and "Created" in first
    shoot(browser, tmp_path, "catalog")

    target = listing["results"][0]
    word = target["name"].split()[0]
    box = browser.find_element(By.NAME, "q")
    box.clear()
    box.send_keys(word)
    browser.find_element(By.CSS_SELECTOR, ".filters button[type=submit]").click()
    wait(browser).until(lambda d: "q=" in d.current_url)
    found = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "li.mod .name")]
    expected = httpx.get(f"{web_demo}/list/mods/", params={"q": word, "page_size": 50}).json()
    assert found == [m["name"] for m in expected["results"]] and target["name"] in found

    game_id = sample_catalog().items[target["id"]].details.app_id
    browser.get(f"{web_demo}/web/")
    Select(browser.find_element(By.NAME, "game")).select_by_value(str(game_id))
    browser.find_element(By.CSS_SELECTOR, ".filters button[type=submit]").click()
    wait(browser).until(lambda d: f"game={game_id}" in d.current_url)
    of_game = httpx.get(f"{web_demo}/list/mods/", params={"game": game_id}).json()
    assert browser.find_element(By.ID, "total").text == str(of_game["database_size"])
    # with one game chosen, its tags are offered as filters
    assert browser.find_elements(By.CSS_SELECTOR, "fieldset.tags input[name=tags]")
    shoot(browser, tmp_path, "catalog-game")


def test_mod_page_shows_screenshots_tags_and_description(
    web_demo: str, browser: Any, tmp_path: Path
) -> None:
    """A cached mod's page: its name, tags, screenshots, condition, the rendered BBCode
    description, and the link to its archive."""
    mod_id = httpx.get(f"{web_demo}/list/mods/?page_size=1").json()["results"][0]["id"]
    info = httpx.get(f"{web_demo}/info/mod/{mod_id}").json()["result"]
    browser.get(f"{web_demo}/web/mods/{mod_id}")
    heading = wait(browser).until(ec.visibility_of_element_located((By.TAG_NAME, "h1")))
    assert heading.text == info["name"]
    shots = browser.find_elements(By.CSS_SELECTOR, ".screenshots img")
    assert shots and all(s.get_attribute("src").startswith("https://") for s in shots)
    assert browser.find_elements(By.CSS_SELECTOR, "ul.tag-list li")
    assert browser.find_element(By.ID, "phase").text == "ready"
    link = browser.find_element(By.ID, "download-link")
    assert link.is_displayed() and link.get_attribute("href").endswith(f"/download/{mod_id}")
    description = browser.find_element(By.ID, "description")
    assert description.find_elements(By.TAG_NAME, "strong")  # [b] rendered, not shown as text
    assert "[b]" not in description.text
    shoot(browser, tmp_path, "mod")


def test_button_queues_a_new_mod_and_follows_it_to_the_download_link(
    web_demo: str, browser: Any, tmp_path: Path
) -> None:
    """The mod the demo left alone: its page says it is not here; the button queues it and
    the page follows it (queued → downloading → ready) until the download link appears, and
    the link gives the archive."""
    mod_id = ordinary_mods()[-1]
    browser.get(f"{web_demo}/web/mods/{mod_id}")
    button = wait(browser).until(ec.element_to_be_clickable((By.ID, "queue-button")))
    assert "not on the server" in browser.find_element(By.ID, "phase").text
    assert not browser.find_element(By.ID, "download-link").is_displayed()
    shoot(browser, tmp_path, "new-mod")
    # every phase the page shows, in order
    record_phases(browser)
    button.click()
    link = wait(browser).until(ec.visibility_of_element_located((By.ID, "download-link")))
    phases = browser.execute_script("return window.phases")
    assert phases[0].startswith("queued") and phases[-1].startswith("ready"), phases
    shown = [p.split(" (")[0] for p in phases[:-1]]
    assert set(shown) <= {"queued", "downloading", "packing the archive"}, phases
    assert browser.find_element(By.ID, "progress-bar").is_displayed() is False
    assert not browser.find_element(By.ID, "queue-form").is_displayed()
    shoot(browser, tmp_path, "new-mod-ready")
    archive = httpx.get(link.get_attribute("href"))
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    # the page as it is served now says the same without JavaScript's help
    browser.refresh()
    wait(browser).until(ec.visibility_of_element_located((By.ID, "download-link")))
    assert (
        browser.find_element(By.TAG_NAME, "h1").text == sample_catalog().items[mod_id].details.title
    )


def test_game_page_lists_its_mods(web_demo: str, browser: Any, tmp_path: Path) -> None:
    games = httpx.get(f"{web_demo}/list/games/?statistics=true").json()["results"]
    game = next(g for g in games if g["mods_count"])
    browser.get(f"{web_demo}/web/games")
    wait(browser).until(ec.element_to_be_clickable((By.LINK_TEXT, game["name"]))).click()
    heading = wait(browser).until(ec.visibility_of_element_located((By.TAG_NAME, "h1")))
    assert heading.text == game["name"]
    rows = browser.find_elements(By.CSS_SELECTOR, "li.mod")
    of_game = httpx.get(f"{web_demo}/list/mods/", params={"game": game["id"]}).json()
    assert len(rows) == of_game["database_size"] > 0
    shoot(browser, tmp_path, "game")


def test_statistics_page_draws_plots_in_the_browsers_language(
    web_demo: str, browser: Any, tmp_path: Path
) -> None:
    """The plots of requests per hour and per day are drawn (lines with points), labelled in
    the browser's language (en here) with the statistics types' translations; the queue size
    and delays are shown; the date picker changes the day."""
    httpx.get(f"{web_demo}/list/mods/")  # at least one counted request today
    browser.get(f"{web_demo}/web/stats")
    plot = wait(browser).until(
        ec.visibility_of_element_located((By.CSS_SELECTOR, "#hours svg.plot"))
    )
    assert plot.size["width"] > 300 and plot.size["height"] > 100
    assert plot.find_elements(By.CSS_SELECTOR, "polyline")
    assert browser.find_elements(By.CSS_SELECTOR, "#hours svg circle")  # points with counts
    legend = browser.find_element(By.CSS_SELECTOR, "#hours ul.legend").text
    assert "Requests to /list/mods/" in legend
    assert browser.find_element(By.CSS_SELECTOR, "#days svg.plot").is_displayed()
    assert browser.find_element(By.ID, "queue-size").text == "0"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    shoot(browser, tmp_path, "statistics")

    picker = browser.find_element(By.ID, "date")
    browser.execute_script("arguments[0].value = '2001-01-01'", picker)
    browser.find_element(By.CSS_SELECTOR, ".filters button[type=submit]").click()
    wait(browser).until(lambda d: "date=2001-01-01" in d.current_url)
    assert browser.find_elements(By.CSS_SELECTOR, "#hours p.empty")  # nothing counted then


def test_the_page_shows_a_slow_download_byte_by_byte(
    gated_web: Gated, browser: Any, tmp_path: Path
) -> None:
    """A large mod whose download stops halfway until the test opens its gate: the page,
    on the progress stream, shows the bar at half of Steam's size with the percentage, then
    goes on to the download link once the gate opens."""
    mod_id = WEB_SLOW
    total = gated_web.catalog.items[mod_id].content_size()
    browser.get(f"{gated_web.url}/web/mods/{mod_id}")
    button = wait(browser).until(ec.element_to_be_clickable((By.ID, "queue-button")))
    record_phases(browser)
    button.click()
    bar = browser.find_element(By.ID, "progress-bar")
    wait(browser).until(lambda _: bar.get_attribute("value") == str(total // 2))
    assert bar.get_attribute("max") == str(total)
    assert bar.is_displayed()
    percent = f"{100 * (total // 2) // total}%"
    assert f"downloading ({percent}" in browser.find_element(By.ID, "phase").text
    assert not browser.find_element(By.ID, "download-link").is_displayed()
    shoot(browser, tmp_path, "slow-half")
    gated_web.open(mod_id)
    wait(browser).until(ec.visibility_of_element_located((By.ID, "download-link")))
    phases = browser.execute_script("return window.phases")
    assert phases[0].startswith("queued") and phases[-1].startswith("ready"), phases
    assert f"downloading ({percent}" in " ".join(phases), phases
    assert not bar.is_displayed()
    shoot(browser, tmp_path, "slow-ready")
