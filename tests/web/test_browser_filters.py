"""The search page's sort switch, date presets and range, facets and chips in headless
Chromium, with JavaScript on and off, against `vnsearch serve` over the seeds, the
faceted fixture and articles dated relative to now (for the presets)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest

from tests.web.test_browser import Server, Tab, chromium, query_of  # noqa: F401 (chromium: a fixture)
from tests.web.test_search_api import ARTICLES, FIXTURE

pytestmark = pytest.mark.browser
NOW = datetime.now().replace(microsecond=0)
RECENT = [("r-1", timedelta(hours=2)), ("r-2", timedelta(days=3)), ("r-3", timedelta(days=20)),
          ("r-4", timedelta(days=200))]


@pytest.fixture(scope="module")
def server(chromium, tmp_path_factory):
    root = tmp_path_factory.mktemp("filters")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(FIXTURE, corpus / "faceted.jsonl")
    with open(corpus / "recent.jsonl", "w", encoding="utf-8") as f:
        for doc, ago in RECENT:
            f.write(json.dumps({"id": doc, "title": f"Tin thời sự mới {doc}", "text": "Thời sự trong nước hôm nay.",
                                "date": (NOW - ago).isoformat(), "topic": "Thời sự", "source": "Báo Mới"},
                               ensure_ascii=False) + "\n")
    srv = Server(root, corpus=corpus, hits_per_page=50)
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def tab(request, chromium, server):
    t = Tab(chromium, server.url, javascript=request.param)
    yield t
    assert not t.dialogs and not t.errors, (t.dialogs, t.errors)
    t.close()


def shown(page) -> list[str]:
    hrefs = page.locator("li.result h2 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return [re.sub(r"^/articles/|\?.*$", "", h) for h in hrefs]


def dates(page) -> list[str]:
    return page.locator("li.result time").evaluate_all("ts => ts.map(t => t.getAttribute('datetime'))")


def test_sort_switch_newest_first_and_back_to_relevance(tab):
    from playwright.sync_api import expect
    page = tab.page
    page.goto("/?q=" + quote("bóng đá"))
    expect(page.locator(".sort-switch .active")).to_have_text("Liên quan")
    relevance = shown(page)
    page.locator(".sort-switch").get_by_role("link", name="Mới nhất").click()
    page.wait_for_url(re.compile(r"sort=date"))
    assert query_of(page.url) == {"q": "bóng đá", "sort": "date"}
    complete = page.locator("ol.results:not(.results-related) li.result time").evaluate_all(
        "ts => ts.map(t => t.getAttribute('datetime'))")
    assert len(complete) >= 3 and complete == sorted(complete, reverse=True)
    assert sorted(shown(page)) == sorted(relevance)
    page.locator(".sort-switch").get_by_role("link", name="Liên quan").click()
    page.wait_for_url(re.compile(r"^[^?]*\?q=[^&]*$"))
    assert shown(page) == relevance


@pytest.mark.parametrize("preset, label, expected", [
    ("24h", "24 giờ qua", {"r-1"}), ("7d", "Tuần qua", {"r-1", "r-2"}),
    ("30d", "Tháng qua", {"r-1", "r-2", "r-3"}), ("365d", "Năm qua", {"r-1", "r-2", "r-3", "r-4"}),
])
def test_date_presets_narrow_show_a_chip_and_can_be_removed(tab, preset, label, expected):
    from playwright.sync_api import expect
    page = tab.page
    page.goto("/?q=" + quote("thời sự"))
    everything = set(shown(page))
    page.locator(".date-presets").get_by_role("link", name=label).click()
    page.wait_for_url(re.compile(f"date={preset}"))
    assert set(shown(page)) == expected
    chip = page.locator(".chips .chip", has_text=label)
    expect(chip).to_be_visible()
    chip.click()
    page.wait_for_url(re.compile(r"^(?!.*date=)"))
    assert set(shown(page)) == everything


def test_custom_date_range_with_the_form(tab):
    from playwright.sync_api import expect
    page = tab.page
    page.goto("/?sort=date")
    page.locator("#from").fill("2021-01-01")
    page.locator("#to").fill("2022-12-31")
    page.get_by_role("button", name="Lọc").click()
    page.wait_for_url(re.compile(r"from=2021-01-01"))
    assert query_of(page.url) == {"sort": "date", "from": "2021-01-01", "to": "2022-12-31"}
    expected = {a["id"] for a in ARTICLES if a["date"] and "2021-01-01" <= a["date"][:10] <= "2022-12-31"}
    assert set(shown(page)) == expected
    assert dates(page) == sorted(dates(page), reverse=True)
    expect(page.locator(".chips")).to_contain_text("Từ 01/01/2021 đến 31/12/2022")


def test_topic_and_source_facets_with_counts_narrow_and_chips_remove(tab):
    from playwright.sync_api import expect
    page = tab.page
    page.goto("/?q=" + quote("bóng"))
    facet = page.locator(".facet[data-facet=topic] .facet-value", has_text="Thể thao")
    count = int(facet.locator(".count").inner_text())
    facet.click()
    page.wait_for_url(re.compile(r"topic="))
    assert query_of(page.url) == {"q": "bóng", "topic": "Thể thao"}
    assert len(shown(page)) == count and all(t == "Thể thao" for t in page.locator("li.result .topic").all_inner_texts())
    source = page.locator(".facet[data-facet=source] .facet-value").first
    name = source.inner_text().rsplit(" ", 1)[0]
    source.click()
    page.wait_for_url(re.compile(r"source="))
    assert set(page.locator("li.result .source").all_inner_texts()) == {name}
    expect(page.locator(".chips .chip")).to_have_count(3)                 # topic, source, clear all
    page.locator(".chips .chip", has_text="Chuyên mục: Thể thao").click()
    page.wait_for_url(re.compile(r"^(?!.*topic=)"))
    assert query_of(page.url) == {"q": "bóng", "source": name}


def test_browsing_without_a_query_lists_newest_first_and_says_when_there_is_no_date(tab):
    from playwright.sync_api import expect
    page = tab.page
    page.goto("/")
    page.get_by_role("link", name="Xem tất cả bài mới nhất").click()
    page.wait_for_url(re.compile(r"sort=date"))
    assert shown(page)[:2] == ["r-1", "r-2"]
    assert dates(page) == sorted(dates(page), reverse=True)
    page.goto("/?topic=" + quote("Thể thao") + "&sort=date")
    undated = page.locator("li.result", has_text="Bài không có ngày")
    expect(undated.locator(".no-date")).to_have_text("Không rõ ngày đăng")


def test_related_results_are_labelled_after_the_ones_with_every_word(tab):
    from playwright.sync_api import expect
    page = tab.page
    page.goto("/?q=" + quote("bầu cử thủ tướng"))
    expect(page.locator("#stats")).to_contain_text("kết quả liên quan khác")
    expect(page.locator("h2.related-heading")).to_have_text("Kết quả liên quan khác")
    assert "tg-2" in shown(page)[:1]
    assert page.locator("ol.results-related li.result").count() >= 2


def test_screenshot_of_the_filtered_page(chromium, server, tmp_path_factory):
    t = Tab(chromium, server.url, viewport={"width": 1000, "height": 1200})
    try:
        t.page.goto("/?q=" + quote("bóng đá") + "&topic=" + quote("Thể thao") + "&from=2019-01-01")
        path = tmp_path_factory.getbasetemp() / "filters.png"
        t.page.screenshot(path=str(path), full_page=True)
        overflow = t.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert path.stat().st_size > 10_000 and overflow <= 0
        assert not t.errors
    finally:
        t.close()
