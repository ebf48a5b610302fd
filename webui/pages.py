"""Server-rendered pages (Vietnamese): the search page and the article page.

Everything works without JavaScript: the search box is a GET form, so
``/?q=…&page=…`` is a shareable URL. Values from articles and queries are
escaped by Jinja's autoescape; only the engine's highlighted HTML (escaped
text plus ``<mark>``) is rendered with ``|safe``.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, current_app, render_template, request

from indexer import MAX_QUERY_CHARS, QueryError
from webui.errors import error_page
from webui.searcher import get_engine

bp = Blueprint("pages", __name__)

# Vietnamese messages for the engine's QueryError codes.
QUERY_MESSAGES = {
    "empty_query": "Hãy nhập từ khóa để tìm kiếm.",
    "query_too_long": f"Câu tìm kiếm quá dài: tối đa {MAX_QUERY_CHARS} ký tự.",
    "invalid_page": "Số trang không hợp lệ.",
    "invalid_hits_per_page": "Số kết quả mỗi trang không hợp lệ.",
}
PAGE_WINDOW = 2     # page links shown on each side of the current page


def _page_arg() -> int | None:
    raw = request.args.get("page", "1").strip() or "1"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9 or int(raw) < 1:
        return None
    return int(raw)


def page_links(page: int, total_pages: int) -> list[int | None]:
    """Page numbers to link, ``None`` for a gap: 1 … 4 5 [6] 7 8 … 20."""
    if total_pages <= 1:
        return []
    shown = {1, total_pages} | set(range(max(1, page - PAGE_WINDOW), min(total_pages, page + PAGE_WINDOW) + 1))
    out: list[int | None] = []
    prev = 0
    for n in sorted(shown):
        if n - prev > 1:
            out.append(None)
        out.append(n)
        prev = n
    return out


@bp.app_template_filter("vn_number")
def vn_number(n: int) -> str:
    """1234567 -> 1.234.567 (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


@bp.app_template_filter("vn_seconds")
def vn_seconds(ms: float) -> str:
    """Milliseconds as seconds with a decimal comma: 12.3 -> 0,012."""
    return f"{ms / 1000:.3f}".replace(".", ",")


_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?")


@bp.app_template_filter("vn_date")
def vn_date(value: str | None) -> str:
    """ISO date (and time) as Vietnamese readers write it: 04/08/2015 11:41."""
    if not value:
        return ""
    m = _ISO.match(value)
    if not m:
        return value
    y, mo, d, hh, mi = m.groups()
    try:
        datetime(int(y), int(mo), int(d))
    except ValueError:
        return value
    return f"{d}/{mo}/{y}" + (f" {hh}:{mi}" if hh else "")


@bp.app_template_filter("http_url")
def http_url(value: str | None) -> str | None:
    """The URL if it is http(s), else None: never a javascript: or data: link."""
    if value and re.match(r"https?://", value, re.I):
        return value
    return None


@bp.get("/")
def index():
    q = request.args.get("q", "")
    context = {"q": q, "result": None, "error": None, "links": []}
    if not q.strip():
        return render_template("index.html", **context)
    page = _page_arg()
    if page is None:
        context["error"] = QUERY_MESSAGES["invalid_page"]
        return render_template("index.html", **context), 400
    try:
        result = get_engine().search(q, page=page, hits_per_page=current_app.config["HITS_PER_PAGE"])
    except QueryError as e:
        context["error"] = QUERY_MESSAGES.get(e.code, "Câu tìm kiếm không hợp lệ.")
        return render_template("index.html", **context), 400
    context["result"] = result
    context["links"] = page_links(result["page"], result["totalPages"])
    return render_template("index.html", **context)


@bp.get("/articles/<path:article_id>")
def article(article_id: str):
    # The id is only ever a lookup key in the index, never a file path.
    q = request.args.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        q = ""
    engine = get_engine()
    found = engine.get_article(article_id)
    if found is None:
        return error_page(404, "Không tìm thấy bài viết",
                          "Không có bài viết nào với mã này. Có thể bài đã bị xóa khỏi chỉ mục.")
    marked = engine.highlight_article(article_id, q) or {"title": None, "body": None}
    return render_template("article.html", q=q, article=found, marked=marked)
