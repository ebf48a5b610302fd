"""The JSON API (``/api``): search, suggest, articles, and two admin endpoints.

Views only validate parameters and call the library; every error is the one
JSON shape of :mod:`webui.errors`. The admin endpoints (``POST /api/articles``,
``POST /api/reindex``) need ``Authorization: Bearer <ADMIN_TOKEN>``: 403 while
no token is configured, 401 for a missing or wrong one.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request, url_for

from indexer import (MAX_HITS_PER_PAGE, MAX_SUGGEST_CHARS, ArticleExists, IndexBusy, QueryError, add_article,
                     build, validate_article)
from webui import search_params
from webui.errors import ApiError
from webui.searcher import engine_or_none, fresh_engine, get_engine

bp = Blueprint("api", __name__, url_prefix="/api")

MAX_SUGGEST_LIMIT = 20
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


# -- parameters -------------------------------------------------------------
def _int_arg(name: str, default: int, code: str, message: str) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    raw = raw.strip()
    if not raw.isascii() or not raw.lstrip("-").isdigit() or len(raw) > 20:
        raise ApiError(400, code, message)
    return int(raw)


def _query_arg() -> str:
    q = request.args.get("q")
    if q is None:
        raise ApiError(400, "missing_query", "The parameter q is required.")
    return q


def _query_error(e: QueryError) -> ApiError:
    return ApiError(400, e.code, e.message)


# -- public endpoints ---------------------------------------------------------
@bp.route("/search", methods=["GET", "POST"])
def search():
    """GET with query parameters or POST with a JSON body: the same answer."""
    try:
        if request.method == "POST":
            if not request.is_json:
                raise ApiError(415, "unsupported_media_type", "Send the search parameters as application/json.")
            body = request.get_json(silent=True)
            if body is None:
                raise ApiError(400, "invalid_json", "The request body is not valid JSON.")
            params = search_params.from_json(body)
        else:
            params = search_params.from_query_string(request)
    except search_params.ParameterError as e:
        raise ApiError(400, e.code, e.message) from None
    if params.get("hits_per_page") is None and params.get("offset") is None and params.get("limit") is None:
        params["hits_per_page"] = current_app.config["HITS_PER_PAGE"]
    try:
        result = get_engine().search(**params)
    except QueryError as e:
        raise _query_error(e) from None
    return jsonify(result)


@bp.get("/suggest")
def suggest():
    q = _query_arg()
    limit = _int_arg("limit", current_app.config["SUGGEST_LIMIT"], "invalid_limit",
                     f"limit must be an integer from 1 to {MAX_SUGGEST_LIMIT}.")
    if not 1 <= limit <= MAX_SUGGEST_LIMIT:
        raise ApiError(400, "invalid_limit", f"limit must be an integer from 1 to {MAX_SUGGEST_LIMIT}.")
    if len(q) > MAX_SUGGEST_CHARS:
        raise ApiError(400, "query_too_long", f"q must be at most {MAX_SUGGEST_CHARS} characters.")
    try:
        suggestions = get_engine().suggest(q, limit=limit)
    except QueryError:
        suggestions = []    # nothing searchable typed yet: no completions
    return jsonify({"query": q, "suggestions": suggestions})


@bp.get("/articles/<path:article_id>")
def article(article_id: str):
    # The id is only ever a lookup key in the index, never a file path.
    found = get_engine().get_article(article_id)
    if found is None:
        raise ApiError(404, "article_not_found", "No article has this id.")
    return jsonify(found)


# -- admin endpoints ------------------------------------------------------------
def _require_admin() -> None:
    token = current_app.config.get("ADMIN_TOKEN")
    if not token:
        raise ApiError(403, "admin_disabled",
                       "Writing is disabled on this server: set VNSEARCH_ADMIN_TOKEN to enable it.")
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="vnsearch"'}
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "unauthorized", "Send the admin token as `Authorization: Bearer <token>`.",
                       challenge)
    if not hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8")):
        raise ApiError(401, "unauthorized", "The admin token is wrong.",
                       {"WWW-Authenticate": 'Bearer realm="vnsearch", error="invalid_token"'})


def _corpus_dir():
    corpus = current_app.config["CORPUS_DIR"]
    if not corpus.is_dir():
        # Never index an empty path: an incremental build would drop every article.
        raise ApiError(503, "corpus_not_found",
                       f"The corpus directory is missing on the server ({corpus.name}): check VNSEARCH_CORPUS_DIR.")
    return corpus


def _busy(e: IndexBusy) -> ApiError:
    return ApiError(503, "index_busy", "Another build is writing the index; try again shortly.",
                    {"Retry-After": "5"})


@bp.post("/articles")
def create_article():
    _require_admin()
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Send the article as application/json.")
    record = request.get_json(silent=True)
    if record is None:
        raise ApiError(400, "invalid_json", "The request body is not valid JSON.")
    try:
        article = validate_article(record, relpath="")
    except ValueError as e:
        raise ApiError(400, "invalid_article", str(e)) from None
    corpus = _corpus_dir()
    engine = engine_or_none()
    exists = ApiError(409, "article_exists", "An article with this id is already indexed.")
    if engine is not None and engine.get_article(article.id) is not None:
        raise exists
    try:
        article, _path = add_article(current_app.config["INDEX_DIR"], corpus, record,
                                     lock_timeout=current_app.config["ADD_LOCK_TIMEOUT"])
    except IndexBusy as e:
        raise _busy(e) from None
    except ArticleExists:         # added by a concurrent request since the check above
        raise exists from None
    except ValueError as e:
        raise ApiError(400, "invalid_article", str(e)) from None
    stored = fresh_engine().get_article(article.id)
    response = jsonify(stored)
    response.status_code = 201
    response.headers["Location"] = url_for("api.article", article_id=article.id)
    return response


@bp.post("/reindex")
def reindex():
    _require_admin()
    raw = (request.args.get("full") or "").strip().lower()
    if raw not in _TRUE | _FALSE:
        raise ApiError(400, "invalid_full", "full must be 1 or 0.")
    full = raw in _TRUE
    corpus = _corpus_dir()
    try:
        report = build(current_app.config["INDEX_DIR"], [corpus], full=full, progress=False,
                       lock_timeout=current_app.config["REINDEX_LOCK_TIMEOUT"])
    except IndexBusy as e:
        raise _busy(e) from None
    return jsonify({
        "full": report.full,
        "generation": report.generation,
        "filesAdded": report.files_added,
        "filesUpdated": report.files_updated,
        "filesDeleted": report.files_deleted,
        "filesUnchanged": report.files_unchanged,
        "articlesIndexed": report.articles_indexed,
        "problems": [{"path": p.path, "reason": p.reason} for p in report.problems],
        "seconds": round(report.seconds, 3),
    })
