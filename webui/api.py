"""The JSON API (``/api``): search, suggest, articles; the admin check.

Views only validate parameters and call the library; every error is the one
JSON shape of :mod:`webui.errors`. The writes, tasks and stats are in
:mod:`webui.writes`; they need ``Authorization: Bearer <ADMIN_TOKEN>``
(:func:`_require_admin`): 403 while no token is configured, 401 for a missing
or wrong one.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request

from indexer import MAX_HITS_PER_PAGE, MAX_SUGGEST_CHARS, QueryError
from webui import search_params
from webui.errors import ApiError
from webui.searcher import get_engine

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
