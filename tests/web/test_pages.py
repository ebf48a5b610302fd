"""The HTML pages with Flask's test client: search, results, pagination, states, articles, safety."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from webui import SECURITY_HEADERS
from webui.pages import http_url, page_links, vn_date

HOSTILE_ID = "hostile-1"
HOSTILE = {
    "id": HOSTILE_ID,
    "title": "Đảng ủy <script>alert(1)</script> thông báo",
    "text": "Nội dung của Đảng ủy <script>alert(1)</script> và <img src=x onerror=alert(2)> "
            "cùng \"ngoặc\" & 'nháy' </mark><b>đậm</b>.",
    "date": "2024-01-02",
    "source": "<i>Nguồn</i> \"lạ\"",
    "url": "https://example.org/a?x=1&y=\"2\"",
}
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def corpus_dir(corpus_dir):
    """The shipped pages plus one article full of markup."""
    (corpus_dir / "hostile.jsonl").write_text(json.dumps(HOSTILE, ensure_ascii=False) + "\n", encoding="utf-8")
    return corpus_dir


class Page(HTMLParser):
    """The parts of a page the tests look at."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.marks: list[str] = []
        self.scripts: list[dict] = []
        self.inline_script_text = ""
        self._in_mark = 0
        self._in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "mark":
            self._in_mark += 1
            self.marks.append("")
        if tag == "script":
            self.scripts.append(attrs)
            self._in_script = True

    def handle_endtag(self, tag):
        if tag == "mark":
            self._in_mark -= 1
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_mark:
            self.marks[-1] += data
        if self._in_script:
            self.inline_script_text += data

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def links(self) -> list[str]:
        return [a["href"] for t, a in self.tags if t == "a" and "href" in a]


def get(client, url, status=200, **kwargs):
    response = client.get(url, **kwargs)
    assert response.status_code == status, (url, response.status_code)
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    return html, Page(html)


def query_of(href: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


# -- the search page ---------------------------------------------------------------
def test_landing_page(client):
    html, page = get(client, "/")
    form = page.find("form", role="search")[0]
    assert form["action"] == "/" and form["method"] == "get"
    box = page.find("input", id="q")[0]
    assert box["name"] == "q" and "autofocus" in box and box["value"] == ""
    assert "Tìm kiếm" in html and 'lang="vi"' in html
    assert not page.marks and "kết quả" not in html


@pytest.mark.parametrize("q", ["", "   "])
def test_empty_query_shows_the_landing_page_without_error(client, q):
    html, page = get(client, "/", query_string={"q": q})
    assert "Không thể tìm kiếm" not in html and not page.find("ol", **{"class": "results"})


def test_results_page(client):
    html, page = get(client, "/?q=dang+uy")
    assert page.find("input", id="q")[0]["value"] == "dang uy"            # keeps the query
    assert re.search(r"Tìm thấy <strong>6</strong> kết quả", html)
    assert re.search(r"\(\d+,\d{3} giây\)", html)                          # time taken
    assert {"Đảng", "ủy"} <= set(page.marks)                                # accented words marked
    results = page.find("li", **{"class": "result"})
    assert len(results) == 6
    article_links = [h for h in page.links() if h.startswith("/articles/")]
    assert len(article_links) == 6 and all(query_of(h) == {"q": "dang uy"} for h in article_links)
    assert "04/08/2015 11:41" in html                                       # a seed's date, Vietnamese style
    assert not page.find("nav", **{"class": "pagination"})                  # one page only


def test_did_you_mean_is_a_link(client):
    html, page = get(client, "/?q=dang+uy")
    assert "Có phải bạn muốn tìm" in html
    link = page.find("a", id="suggestion")[0]
    assert query_of(link["href"]) == {"q": "đảng ủy"}
    html, page = get(client, link["href"])
    assert "Có phải bạn muốn tìm" not in html and page.marks


def test_no_results(client):
    html, page = get(client, "/?q=xyzzyqqq")
    assert "Không tìm thấy kết quả" in html and "xyzzyqqq" in html
    assert not page.find("li", **{"class": "result"})


def test_pagination(make_app):
    client = make_app(HITS_PER_PAGE=2).test_client()
    html, page = get(client, "/?q=dang+uy")
    assert "trang 1/3" in html and len(page.find("li", **{"class": "result"})) == 2
    nxt = page.find("a", rel="next")[0]
    assert query_of(nxt["href"]) == {"q": "dang uy", "page": "2"} and "Trang sau" in html
    assert not page.find("a", rel="prev")
    first_ids = {h for h in page.links() if h.startswith("/articles/")}

    html, page = get(client, nxt["href"])
    assert "trang 2/3" in html and page.find("span", **{"aria-current": "page"})
    assert query_of(page.find("a", rel="prev")[0]["href"]) == {"q": "dang uy", "page": "1"}
    assert page.find("ol", **{"class": "results"})[0]["start"] == "3"
    assert not first_ids & {h for h in page.links() if h.startswith("/articles/")}

    html, page = get(client, "/?q=dang+uy&page=3")
    assert not page.find("a", rel="next") and len(page.find("li", **{"class": "result"})) == 2


def test_page_links_window():
    assert page_links(1, 1) == []
    assert page_links(1, 3) == [1, 2, 3]
    assert page_links(6, 20) == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert page_links(20, 20) == [1, None, 18, 19, 20]


def test_page_beyond_the_last(client):
    html, page = get(client, "/?q=dang+uy&page=9")
    assert "Trang 9 không có kết quả" in html
    assert "/?q=dang+uy" in page.links()


@pytest.mark.parametrize("url, message", [
    ("/?q=dang&page=0", "Số trang không hợp lệ"),
    ("/?q=dang&page=abc", "Số trang không hợp lệ"),
    ("/?q=dang&page=-2", "Số trang không hợp lệ"),
    ("/?q=" + "dang+" * 300, "Câu tìm kiếm quá dài"),
])
def test_error_states(client, url, message):
    html, page = get(client, url, status=400)
    assert message in html and page.find("div", role="alert")
    assert page.find("input", id="q")                        # the search box is still there


def test_only_punctuation_finds_nothing_without_error(client):
    html, _ = get(client, "/?q=%22%22%22+-+%28%29")
    assert "Không tìm thấy kết quả" in html


# -- the article page ----------------------------------------------------------------
def test_article_page_highlights_the_query(client):
    _, results = get(client, "/?q=dang+uy")
    href = next(h for h in results.links() if h.startswith("/articles/002_"))
    html, page = get(client, href)
    assert "Nhìn lại kết quả công tác tổ chức xây dựng" in html
    assert "Đảng" in page.marks and "ủy" in page.marks and len(page.marks) > 10
    assert "04/08/2015 11:41" in html
    back = next(h for h in page.links() if h.startswith("/?"))
    assert query_of(back) == {"q": "dang uy"}


def test_article_page_without_query_has_no_marks(client):
    html, page = get(client, "/articles/002_2645165bad04b17c")
    assert not page.marks and "Nhìn lại kết quả" in html


@pytest.mark.parametrize("article_id", ["nope", "../../etc/passwd", "002_2645165bad04b17c.txt", "%2e%2e/corpus"])
def test_unknown_article_is_a_404_page(client, article_id):
    html, page = get(client, f"/articles/{article_id}", status=404)
    assert "Không tìm thấy bài viết" in html and "root:" not in html


def test_unknown_page_and_method(client):
    html, _ = get(client, "/no/such/page", status=404)
    assert "Không tìm thấy trang" in html
    response = client.post("/")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert "Phương thức" in response.get_data(as_text=True)


# -- safety -------------------------------------------------------------------------------
def test_article_markup_is_escaped_in_results_and_article(client):
    html, page = get(client, "/?q=alert")
    assert SCRIPT not in html and "<img src=x" not in html and "<b>đậm</b>" not in html
    assert "&lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt;" in html
    assert not page.find("img") and not page.find("b") and not page.find("i")
    assert page.scripts == [{"src": "/static/app.js", "defer": None}]

    html, page = get(client, f"/articles/{HOSTILE_ID}?q=alert")
    assert SCRIPT not in html and "<img src=x" not in html and "<i>Nguồn</i>" not in html
    assert page.scripts == [{"src": "/static/app.js", "defer": None}]
    assert not page.find("img") and not page.find("b") and not page.find("i")
    assert page.marks.count("alert") == 3
    original = page.find("a", **{"class": "original"})[0]
    assert original["href"] == HOSTILE["url"]


def test_query_markup_is_escaped(client):
    q = f'"><svg onload=alert(1)>{SCRIPT}'
    html, page = get(client, "/", query_string={"q": q})
    assert SCRIPT not in html and "<svg" not in html
    assert page.find("input", id="q")[0]["value"] == q
    assert page.scripts == [{"src": "/static/app.js", "defer": None}]
    html, page = get(client, f"/articles/{HOSTILE_ID}", query_string={"q": q})
    assert SCRIPT not in html and "<svg" not in html


def test_only_http_links_are_rendered():
    assert http_url("https://vnexpress.net/a") == "https://vnexpress.net/a"
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "//evil.example", None, ""):
        assert http_url(bad) is None


def test_vn_date():
    assert vn_date("2015-08-04T11:41") == "04/08/2015 11:41"
    assert vn_date("2024-01-02") == "02/01/2024"
    assert vn_date(None) == "" and vn_date("2024-13-45") == "2024-13-45"


def test_pages_have_no_inline_script_style_or_handlers_and_no_external_resources(client):
    for url in ("/", "/?q=dang+uy", "/?q=xyzzy", "/?q=dang&page=0", f"/articles/{HOSTILE_ID}?q=dang", "/nope"):
        response = client.get(url)
        html = response.get_data(as_text=True)
        page = Page(html)
        assert all("src" in s for s in page.scripts) and not page.inline_script_text.strip(), url
        for tag, attrs in page.tags:
            assert not any(name.startswith("on") for name in attrs), (url, tag, attrs)
            assert "style" not in attrs, (url, tag)
            if tag in ("script", "link", "img", "iframe", "object", "embed"):
                value = attrs.get("src") or attrs.get("href") or ""
                assert value.startswith("/static/"), (url, tag, value)
        assert "<style" not in html


@pytest.mark.parametrize("url", ["/", "/?q=dang", "/articles/nope", "/static/style.css", "/nope"])
def test_security_headers_on_every_page(client, url):
    with client.get(url) as response:
        pass
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, (url, name)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


def test_static_assets_are_served_from_the_package(client):
    for name, mimetype in (("style.css", "text/css"), ("app.js", "text/javascript"),
                           ("favicon.svg", "image/svg+xml")):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and response.mimetype == mimetype
        response.close()
    js = client.get("/static/app.js")
    source = js.get_data(as_text=True)
    js.close()
    assert "/api/suggest" in source or "data-suggest-url" in source
    assert "innerHTML" not in source          # suggestions go in as text
