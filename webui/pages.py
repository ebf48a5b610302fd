"""Server-rendered pages (Vietnamese): the search page and the article page.

Everything works without JavaScript: the search box is a GET form and every
control is a link or a GET form, so the whole state is the URL:
``/?q=…&page=…&sort=date&date=7d&from=…&to=…&topic=…&source=…`` (``topic``
and ``source`` repeatable, OR within each). ``sort=date`` is *Mới nhất*
(newest first), its absence *Liên quan* (relevance); ``date`` is a preset
(:data:`DATE_PRESETS`, counted back from now), ``from``/``to`` a custom range
(ISO dates, both included). With filters or a sort and no query, the page
browses every matching article, newest first. Values from articles and
queries are escaped by Jinja's autoescape; only the engine's highlighted HTML
(escaped text plus ``<mark>``) is rendered with ``|safe``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask import Blueprint, current_app, render_template, request, url_for

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
#: date presets: URL value -> (label, how far back from now)
DATE_PRESETS = {"24h": ("24 giờ qua", timedelta(hours=24)), "7d": ("Tuần qua", timedelta(days=7)),
                "30d": ("Tháng qua", timedelta(days=30)), "365d": ("Năm qua", timedelta(days=365))}
FACET_LABELS = {"topic": "Chuyên mục", "source": "Nguồn"}
STATE_KEYS = ("q", "sort", "date", "from", "to", "topic", "source")


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


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"Ngày “{raw[:20]}” không hợp lệ: hãy nhập theo dạng năm-tháng-ngày (2024-01-31).") from None


class PageState:
    """The search page's state, read from the URL; ``link(**changes)`` is the URL
    of the same state with some values changed (None removes one)."""

    def __init__(self, args, now: datetime) -> None:
        self.q = args.get("q", "")
        self.sort = "date" if args.get("sort") == "date" else None
        self.preset = args.get("date") if args.get("date") in DATE_PRESETS else None
        self.start, self.end = _day(args.get("from")), _day(args.get("to"))
        self.topics = [v for v in args.getlist("topic") if v.strip()]
        self.sources = [v for v in args.getlist("source") if v.strip()]
        self.now = now

    @property
    def browsing(self) -> bool:
        """No query, but something to list."""
        return not self.q.strip() and bool(self.sort or self.preset or self.start or self.end
                                            or self.topics or self.sources)

    def values(self) -> dict:
        return {"q": self.q or None, "sort": self.sort, "date": self.preset,
                "from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None, "topic": self.topics or None,
                "source": self.sources or None}

    def link(self, **changes) -> str:
        values = {**self.values(), **{k.rstrip("_"): v for k, v in changes.items()}}
        return url_for("pages.index", **{k: v for k, v in values.items() if v})

    def filters(self) -> list[str]:
        """The state as Meilisearch filters (the array form: all hold)."""
        out = []
        if self.topics:
            out.append("topic IN [" + ", ".join(_quoted(t) for t in self.topics) + "]")
        if self.sources:
            out.append("source IN [" + ", ".join(_quoted(t) for t in self.sources) + "]")
        if self.preset:
            since = self.now - DATE_PRESETS[self.preset][1]
            out.append(f"date >= {since.replace(microsecond=0).isoformat()}")
        if self.start:
            out.append(f"date >= {self.start.isoformat()}")
        if self.end:
            out.append(f"date <= {self.end.isoformat()}")
        return out

    def chips(self) -> list[tuple[str, str]]:
        """(label, URL without it) of each active filter."""
        out = [(f"{FACET_LABELS['topic']}: {t}", self.link(topic=[x for x in self.topics if x != t]))
               for t in self.topics]
        out += [(f"{FACET_LABELS['source']}: {t}", self.link(source=[x for x in self.sources if x != t]))
                for t in self.sources]
        if self.preset:
            out.append((DATE_PRESETS[self.preset][0], self.link(date=None)))
        if self.start or self.end:
            label = "Từ " + (vn_date(self.start.isoformat()) if self.start else "…") + " đến " + \
                (vn_date(self.end.isoformat()) if self.end else "nay")
            out.append((label, self.link(from_=None, to=None)))
        return out


@bp.get("/")
def index():
    context = {"q": request.args.get("q", ""), "result": None, "error": None, "links": [], "state": None,
               "presets": DATE_PRESETS, "facet_labels": FACET_LABELS}
    try:
        state = PageState(request.args, datetime.now())
    except ValueError as e:
        context["error"] = str(e)
        return render_template("index.html", **context), 400
    context["state"] = state
    if not state.q.strip() and not state.browsing:
        return render_template("index.html", **context)
    page = _page_arg()
    if page is None:
        context["error"] = QUERY_MESSAGES["invalid_page"]
        return render_template("index.html", **context), 400
    per_page = current_app.config["HITS_PER_PAGE"]
    try:
        result = get_engine().search(state.q, page=page, hits_per_page=per_page, filter=state.filters() or None,
                                     sort=["date:desc"] if state.sort else None, facets=list(FACET_LABELS))
    except QueryError as e:
        context["error"] = QUERY_MESSAGES.get(e.code, "Câu tìm kiếm không hợp lệ.")
        return render_template("index.html", **context), 400
    context["result"] = result
    shown = result["totalHits"] + result["relatedHits"]          # related ones follow, on the pages after
    context["pages"] = (shown + per_page - 1) // per_page
    context["links"] = page_links(result["page"], context["pages"])
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
