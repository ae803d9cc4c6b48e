"""``kaokore web`` in a real headless browser (Debian's chromium, driven by Selenium).

The bundled sample is served on 127.0.0.1 and harvested like ``kaokore demo``; the web app
runs under uvicorn. Skipped, with the reason, when chromium or chromedriver is missing.
Set ``KAOKORE_WEB_FIGURES=docs/figures`` to keep a screenshot of each main page.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kaokore import query
from kaokore.config import Settings
from kaokore.ingest.curation import parse_curation
from kaokore.query.curation_export import canvas_region
from kaokore.query.filters import FaceFilter
from tests.web.browser import By, WebDriverWait, ec  # skips this module without chromium
from tests.web.live import harvest_sample, mirror, serve_web

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """The sample mirror (kept running, so page images load) and the web app over it."""
    with mirror() as server:
        settings = harvest_sample(server, tmp_path_factory.mktemp("web-demo"), releases=("1.0",))
        with serve_web(settings) as base:
            yield base, settings


@pytest.fixture(scope="module")
def offline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database harvested from a mirror that has since stopped: page hosts unreachable."""
    with mirror() as server:
        settings = harvest_sample(server, tmp_path_factory.mktemp("web-offline"))
    with serve_web(settings) as base:
        yield base


def _figure(driver: Any, name: str) -> None:
    folder = os.environ.get("KAOKORE_WEB_FIGURES")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, min(max(900, height), 2400))
        driver.save_screenshot(str(Path(folder) / f"web_{name}.png"))
        driver.set_window_size(1400, 1000)


def _total(driver: Any) -> int:
    return int(driver.find_element(By.ID, "total").text.replace(",", ""))


def _grid(driver: Any) -> list[int]:
    return [
        int(e.get_attribute("data-face"))
        for e in driver.find_elements(By.CSS_SELECTOR, "#grid figure.tile")
    ]


def _click_facet(driver: Any, facet: str, value: str) -> None:
    link = driver.find_element(
        By.CSS_SELECTOR, f'section[data-facet="{facet}"] a[data-value="{value}"]'
    )
    old = driver.find_element(By.ID, "total")
    link.click()
    WebDriverWait(driver, 20).until(ec.staleness_of(old))


def _facet_count(driver: Any, facet: str, value: str) -> int:
    link = driver.find_element(
        By.CSS_SELECTOR, f'section[data-facet="{facet}"] a[data-value="{value}"] .count'
    )
    return int(link.text.replace(",", ""))


def test_two_facets_change_counts_and_grid_and_back_restores(
    demo: tuple[str, Settings], browser: Any
) -> None:
    base, settings = demo
    browser.get(f"{base}/faces")
    everything = _total(browser)
    assert everything == query.count_faces(settings) == 33
    _figure(browser, "faces")
    noble_count = _facet_count(browser, "status", "貴族")
    _click_facet(browser, "status", "貴族")
    assert (
        _total(browser)
        == noble_count
        == query.count_faces(settings, where=FaceFilter(status="noble"))
    )
    male_under_noble = _facet_count(browser, "gender", "男")
    _click_facet(browser, "gender", "男")
    expected = query.face_ids(settings, where=FaceFilter(status="noble", gender="male"))
    assert _total(browser) == male_under_noble == len(expected)
    assert sorted(_grid(browser)) == sorted(expected)[: len(_grid(browser))]
    assert "status=%E8%B2%B4%E6%97%8F" in browser.current_url and "gender=" in browser.current_url
    _figure(browser, "faces_filtered")
    browser.back()
    WebDriverWait(browser, 20).until(lambda d: "gender=" not in d.current_url)
    assert _total(browser) == noble_count
    assert browser.find_element(
        By.CSS_SELECTOR, 'section[data-facet="status"] a.selected[data-value="貴族"]'
    )
    browser.back()
    WebDriverWait(browser, 20).until(lambda d: "status=" not in d.current_url)
    assert _total(browser) == everything


def test_face_page_history_and_page_image(demo: tuple[str, Settings], browser: Any) -> None:
    base, settings = demo
    face_id = query.face_ids(settings, where=FaceFilter(status="warrior"))[0]
    browser.get(f"{base}/faces/{face_id}")
    rows = browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    assert len(rows) == len(query.history(settings, face_id)) > 0
    assert "身分" in browser.find_element(By.ID, "history").text
    image = browser.find_element(By.ID, "page-image")
    WebDriverWait(browser, 20).until(
        lambda d: d.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth", image
        )
    )
    box = browser.find_element(By.CSS_SELECTOR, ".face-box")
    assert box.is_displayed() and box.size["width"] > 5 and box.size["height"] > 5
    inside = browser.execute_script(
        "var i = arguments[0].getBoundingClientRect(), b = arguments[1].getBoundingClientRect();"
        "return b.left >= i.left - 1 && b.right <= i.right + 1 && b.top >= i.top - 1 && b.bottom <= i.bottom + 1;",
        image,
        box,
    )
    assert inside
    assert not browser.find_element(By.ID, "page-unreachable").is_displayed()
    _figure(browser, "face")


def test_unreachable_page_host_shows_the_crop_and_says_so(offline: str, browser: Any) -> None:
    browser.get(f"{offline}/faces/1")
    note = browser.find_element(By.ID, "page-unreachable")
    WebDriverWait(browser, 20).until(lambda _d: note.is_displayed())
    assert "not reachable" in note.text
    crop = browser.find_element(By.CSS_SELECTOR, "section.crop img")
    assert browser.execute_script("return arguments[0].naturalWidth", crop) > 0
    assert not browser.find_element(By.ID, "page-figure").is_displayed()


def test_board_from_two_pages_exports_a_curation(demo: tuple[str, Settings], browser: Any) -> None:
    base, settings = demo
    browser.get(f"{base}/board")
    browser.execute_script("window.localStorage.clear()")
    browser.get(f"{base}/faces")
    first_page = _grid(browser)[:2]
    for face_id in first_page:
        browser.find_element(By.CSS_SELECTOR, f'#grid button.pick[data-face="{face_id}"]').click()
    assert browser.find_element(By.ID, "board-count").text == "2"
    # the third from another page: a work's page, of a work the first two are not from
    works_seen = {r.work for r in query.faces(settings) if r.face_id in first_page}
    other = next(r for r in query.faces(settings) if r.work not in works_seen)
    browser.get(f"{base}/works")
    browser.find_element(By.LINK_TEXT, other.work).click()
    WebDriverWait(browser, 20).until(lambda d: "/works/" in d.current_url)
    third = int(
        browser.find_element(By.CSS_SELECTOR, "section.work-page figure.tile").get_attribute(
            "data-face"
        )
    )
    assert third not in first_page
    browser.find_element(By.CSS_SELECTOR, f'button.pick[data-face="{third}"]').click()
    assert browser.find_element(By.ID, "board-count").text == "3"
    browser.find_element(By.ID, "board-link").click()
    WebDriverWait(browser, 20).until(lambda d: "/board?ids=" in d.current_url)
    picked = [*first_page, third]
    tiles = [
        int(e.get_attribute("data-face"))
        for e in browser.find_elements(By.CSS_SELECTOR, "#board-grid figure.tile")
    ]
    assert tiles == picked
    _figure(browser, "board")
    href = browser.find_element(By.ID, "export-curation").get_attribute("href")
    document = json.loads(httpx.get(href).text)
    curation = parse_curation(document, href)
    rows = [r for r in query.faces(settings) if r.face_id in picked]
    assert {f.member_uri for f in curation.faces} == {
        "{}#xywh={},{},{},{}".format(r.canvas_uri, *canvas_region(r)) for r in rows
    }
    # the board survives a reload and a visit to another page
    browser.get(f"{base}/works")
    assert browser.find_element(By.ID, "board-count").text == "3"


def test_charts_render(demo: tuple[str, Settings], browser: Any) -> None:
    base, _settings = demo
    browser.get(f"{base}/charts")
    charts = browser.find_elements(By.CSS_SELECTOR, ".chart-svg svg")
    assert len(charts) == 4
    for chart in charts:
        assert chart.size["width"] > 300 and chart.size["height"] > 50
        assert chart.find_elements(By.CSS_SELECTOR, "rect")
    assert browser.find_elements(By.CSS_SELECTOR, "table.stats tbody tr")
    _figure(browser, "charts")


def test_main_pages_render(demo: tuple[str, Settings], browser: Any) -> None:
    base, _settings = demo
    browser.get(f"{base}/works")
    links = browser.find_elements(By.CSS_SELECTOR, "#works tbody a[href^='/works/']")
    assert len(links) == 3
    _figure(browser, "works")
    links[0].click()
    WebDriverWait(browser, 20).until(lambda d: "/works/" in d.current_url)
    assert browser.find_elements(By.CSS_SELECTOR, "section.work-page figure.tile")
    _figure(browser, "work")
    browser.get(f"{base}/releases")
    assert "1.0" in browser.find_element(By.ID, "releases").text
    _figure(browser, "releases")
    browser.get(f"{base}/api/docs")
    assert "GET /api/faces" in browser.find_element(By.TAG_NAME, "main").text
    _figure(browser, "api")
