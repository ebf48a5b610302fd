"""A real browser against a real server: headless Debian Chromium (Playwright) and `vnsearch serve`.

The server is `vnsearch serve` (gunicorn, 2 gevent workers) on a free loopback
port, over an index of a tmp copy of corpus/ plus an article full of markup.
Without /usr/bin/chromium these tests are skipped, except in CI (CI=true),
where a missing browser is a failure (.ci/run installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
HOSTILE = {
    "id": "hostile-1",
    "title": "Đảng ủy <script>alert(1)</script> thông báo",
    "text": "Nội dung của Đảng ủy <script>alert(1)</script> và <img src=x onerror=alert(2)> "
            "cùng <svg onload=alert(3)></svg> hết.",
    "date": "2024-01-02",
    "source": "<i onmouseover=alert(4)>Nguồn</i>",
}
SERVER_START_SECONDS = 60
TIMEOUT_MS = 15_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str):
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: the browser tests must run; .ci/run installs chromium)", pytrace=False)
    pytest.skip(f"{reason}: install Debian's chromium (apt-get install chromium) to run the browser tests")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _vnsearch_command() -> list[str]:
    script = Path(sys.executable).with_name("vnsearch")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "webui.cli"]     # the package not installed: run it from the checkout


class Server:
    def __init__(self, root: Path, corpus: Path | None = None, hits_per_page: int = 2) -> None:
        from indexer import build

        corpus = corpus or root / "corpus"
        corpus.mkdir(exist_ok=True)
        for page in sorted((REPO / "corpus").glob("*.txt")):
            shutil.copy(page, corpus / page.name)
        (corpus / "hostile.jsonl").write_text(json.dumps(HOSTILE, ensure_ascii=False) + "\n", encoding="utf-8")
        self.index = root / "index"
        report = build(self.index, [corpus], full=True, progress=False)
        assert not report.problems, report.problems
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / "server.log"
        env = {**os.environ, "VNSEARCH_INDEX_DIR": str(self.index), "VNSEARCH_CORPUS_DIR": str(corpus),
               "VNSEARCH_HITS_PER_PAGE": str(hits_per_page), "PYTHONUNBUFFERED": "1"}
        env.pop("VNSEARCH_ADMIN_TOKEN", None)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            _vnsearch_command() + ["--index-dir", str(self.index), "serve", "--host", "127.0.0.1",
                                   "--port", str(self.port), "--workers", "2"],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True)

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def wait_ready(self) -> None:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"vnsearch serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/search?q=dang", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"vnsearch serve not ready after {SERVER_START_SECONDS}s:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)          # gunicorn: graceful shutdown
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)   # the group this test started
                self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture(scope="module")
def chromium():
    if not os.access(CHROMIUM, os.X_OK):
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    manager = sync_playwright().start()
    try:
        browser = manager.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    except Exception as e:
        manager.stop()
        raise AssertionError(f"could not launch {CHROMIUM}: {e}") from e
    yield browser
    browser.close()
    manager.stop()


@pytest.fixture(scope="module")
def server(chromium, tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("browser"))
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


class Tab:
    """A page in a fresh context, recording dialogs (alert/confirm/prompt) and console errors."""

    def __init__(self, browser, base_url: str, javascript: bool = True, viewport=None) -> None:
        options = {"base_url": base_url, "java_script_enabled": javascript}
        if viewport:
            options["viewport"] = viewport
        self.context = browser.new_context(**options)
        self.context.set_default_timeout(TIMEOUT_MS)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.errors: list[str] = []

        def on_dialog(dialog):
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        self.page.on("dialog", on_dialog)
        self.page.on("console", lambda msg: msg.type == "error" and self.errors.append(msg.text))
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(chromium, server):
    t = Tab(chromium, server.url)
    yield t
    t.close()


def query_of(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def result_ids(page) -> list[str]:
    hrefs = page.locator("li.result h2 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return [urlsplit(h).path for h in hrefs]


# -- the tests ------------------------------------------------------------------------------
def test_search_paginate_follow_suggestion_open_article(tab):
    from playwright.sync_api import expect

    page = tab.page
    page.goto("/")
    box = page.locator("#q")
    expect(box).to_be_focused()                                   # autofocus
    box.press_sequentially("dang uy", delay=40)
    box.press("Enter")
    page.wait_for_url(re.compile(r"/\?q=dang\+uy$"))
    expect(page.locator("li.result")).to_have_count(2)
    expect(page.locator("#stats")).to_contain_text("Tìm thấy 6 kết quả")
    expect(box).to_have_value("dang uy")
    marks = page.locator("li.result mark").all_inner_texts()
    assert "Đảng" in marks and "ủy" in marks, marks
    first_page = result_ids(page)

    page.get_by_role("link", name=re.compile("Trang sau")).click()
    page.wait_for_url(re.compile(r"page=2"))
    assert query_of(page.url) == {"q": "dang uy", "page": "2"}
    expect(page.locator("li.result")).to_have_count(2)
    second_page = result_ids(page)
    assert len(second_page) == 2 and not set(first_page) & set(second_page)
    expect(page.locator("nav.pagination [aria-current=page]")).to_have_text("2")

    suggestion = page.locator("#suggestion")
    expect(suggestion).to_have_text("đảng ủy")
    suggestion.click()
    page.wait_for_url(re.compile(r"/\?q="))
    assert query_of(page.url) == {"q": "đảng ủy"}
    expect(page.locator("#q")).to_have_value("đảng ủy")
    expect(page.locator("li.result").first).to_be_visible()
    assert "Đảng" in page.locator("li.result mark").all_inner_texts()

    link = page.locator("li.result h2 a").nth(1)
    title = link.inner_text()
    link.click()
    page.wait_for_url(re.compile(r"/articles/"))
    expect(page.locator("h1.article-title")).to_have_text(title)
    body_marks = page.locator(".article-body mark").all_inner_texts()
    assert len(body_marks) >= 3 and "Đảng" in body_marks, body_marks
    assert not tab.dialogs and not tab.errors, (tab.dialogs, tab.errors)


def test_search_as_you_type_suggestions(tab):
    from playwright.sync_api import expect

    page = tab.page
    page.goto("/")
    box = page.locator("#q")
    box.press_sequentially("dang u", delay=60)
    options = page.locator("#suggestions [role=option]")
    expect(options.first).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    texts = options.all_inner_texts()
    assert texts and all(t.startswith("đảng ") for t in texts), texts
    box.press("ArrowDown")
    expect(box).to_have_value(texts[0])
    box.press("Enter")
    page.wait_for_url(re.compile(r"/\?q="))
    assert query_of(page.url) == {"q": texts[0]}
    expect(page.locator("#stats")).to_be_visible()
    box = page.locator("#q")
    box.fill("")
    box.press_sequentially("dang", delay=60)
    expect(page.locator("#suggestions [role=option]").first).to_be_visible()
    box.press("Escape")
    expect(page.locator("#suggestions")).to_be_hidden()
    expect(box).to_have_value("dang")
    assert not tab.dialogs and not tab.errors, (tab.dialogs, tab.errors)


def test_markup_in_articles_and_queries_never_executes(tab):
    from playwright.sync_api import expect

    page = tab.page
    page.goto("/?q=" + quote("thông báo alert"))
    first = page.locator("li.result h2 a").first
    expect(first).to_contain_text("<script>alert(1)</script>")       # shown as text
    expect(page.locator("li.result .snippet").first).to_contain_text("<img src=x onerror=")
    first.click()
    page.wait_for_url(re.compile(r"/articles/hostile-1"))
    expect(page.locator(".article-body")).to_contain_text("<svg onload=alert(3)></svg>")
    expect(page.locator(".meta")).to_contain_text("<i onmouseover=alert(4)>Nguồn</i>")
    page.locator(".meta").hover()

    hostile_query = '"><img src=x onerror=alert(5)><script>alert(6)</script>'
    page.goto("/?q=" + quote(hostile_query))
    expect(page.locator("#q")).to_have_value(hostile_query)
    assert page.title().startswith(hostile_query)                  # shown as text in the title too
    expect(page.locator("li.result").first).to_be_visible()
    page.goto("/articles/hostile-1?q=" + quote(hostile_query))
    box = page.locator("#q")
    box.fill("")
    box.press_sequentially("<img src=x onerror=alert(7)> dang", delay=20)   # through /api/suggest
    page.wait_for_timeout(600)

    inline = page.evaluate("document.querySelectorAll('script:not([src]), img, svg, [onerror], [onload]').length")
    assert inline == 0
    assert not tab.dialogs, tab.dialogs
    assert not tab.errors, tab.errors


def test_works_with_javascript_off(chromium, server):
    from playwright.sync_api import expect

    t = Tab(chromium, server.url, javascript=False)
    try:
        page = t.page
        page.goto("/")
        page.locator("#q").fill("dang uy")
        page.get_by_role("button", name="Tìm kiếm").click()
        page.wait_for_url(re.compile(r"/\?q=dang\+uy$"))
        expect(page.locator("li.result")).to_have_count(2)
        page.get_by_role("link", name=re.compile("Trang sau")).click()
        page.wait_for_url(re.compile(r"page=2"))
        expect(page.locator("li.result")).to_have_count(2)
        page.locator("li.result h2 a").first.click()
        page.wait_for_url(re.compile(r"/articles/"))
        expect(page.locator(".article-body mark").first).to_be_visible()
    finally:
        t.close()


def test_small_screen_has_no_horizontal_scroll(chromium, server):
    t = Tab(chromium, server.url, viewport={"width": 360, "height": 740})
    try:
        for url in ("/", "/?q=dang+uy", "/articles/002_2645165bad04b17c?q=dang+uy"):
            t.page.goto(url)
            overflow = t.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (url, overflow)
        assert not t.errors, t.errors
    finally:
        t.close()


def test_unknown_article_shows_the_404_page(tab):
    from playwright.sync_api import expect

    response = tab.page.goto("/articles/does-not-exist")
    assert response.status == 404
    expect(tab.page.locator("h1")).to_have_text("Không tìm thấy bài viết")
