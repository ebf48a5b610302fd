"""Meilisearch's search route, so that its official clients and the front-end kits
built on them work against vnsearch unchanged.

``GET`` and ``POST /indexes/articles/search`` answer what ``/api/search``
answers, with Meilisearch's defaults: offset/limit pagination (``limit`` 20)
unless ``page`` or ``hitsPerPage`` is given. Errors have Meilisearch's shape,
``{"message", "code", "type", "link"}``. vnsearch serves one index,
``articles``: another index is ``index_not_found``; index settings, creating or
deleting indexes and multi-search are ``feature_not_supported``, as are the
search parameters vnsearch does not implement (sent with a falsy value they
are accepted: some kits always send ``showRankingScore: false``).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from werkzeug.exceptions import RequestEntityTooLarge

from indexer import IndexNotFound, QueryError
from webui import search_params
from webui.guards import Refused
from webui.searcher import get_engine

bp = Blueprint("meili", __name__)

INDEX_UID = "articles"
DEFAULT_LIMIT = 20
UNSUPPORTED = ("distinct", "attributesToCrop", "cropMarker", "showMatchesPosition", "showRankingScore",
               "showRankingScoreDetails", "rankingScoreThreshold", "attributesToSearchOn", "hybrid", "vector",
               "retrieveVectors", "locales", "facetName", "facetQuery")
# the engine's codes for parameters Meilisearch names otherwise
_CODES = {"invalid_page": "invalid_search_page", "invalid_hits_per_page": "invalid_search_hits_per_page",
          "query_too_long": "invalid_search_q", "empty_query": "invalid_search_q",
          "unknown_parameter": "bad_request"}


class MeiliError(Exception):
    def __init__(self, status: int, code: str, message: str, kind: str = "invalid_request") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.kind = status, code, message, kind


def meili_response(status: int, code: str, message: str, kind: str = "invalid_request"):
    response = jsonify({"message": message, "code": code, "type": kind,
                        "link": f"https://docs.meilisearch.com/errors#{code}"})
    response.status_code = status
    return response


@bp.errorhandler(MeiliError)
def _meili_error(e: MeiliError):
    return meili_response(e.status, e.code, e.message, e.kind)


@bp.errorhandler(IndexNotFound)
def _no_index(e: IndexNotFound):
    return meili_response(503, "index_not_accessible", f"The index cannot be read: {e}", "system")


@bp.errorhandler(Refused)
def _refused(e: Refused):
    return meili_response(e.code, e.meili_code, e.description)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(e: RequestEntityTooLarge):
    return meili_response(413, "payload_too_large", "The request body is too large.")


def _unsupported(params: dict) -> dict:
    """``params`` without the unsupported Meilisearch parameters sent with a falsy value."""
    out = {}
    for name, value in params.items():
        if name in UNSUPPORTED:
            if value not in (None, False, "", "false", [], 0):
                raise MeiliError(400, "feature_not_supported",
                                 f"vnsearch does not support the search parameter `{name}`.")
            continue
        out[name] = value
    return out


@bp.route("/indexes/<index_uid>/search", methods=["GET", "POST"])
def search(index_uid: str):
    if index_uid != INDEX_UID:
        raise MeiliError(404, "index_not_found", f"Index `{index_uid}` not found.")
    try:
        if request.method == "POST":
            # no body at all (Content-Length 0 or absent) is no parameters; a chunked body is read
            body = request.get_json(silent=True) if request.get_data() else {}
            if body is None:
                raise MeiliError(400, "malformed_payload", "The body is not valid JSON.")
            if not isinstance(body, dict):
                raise MeiliError(400, "bad_request", "The body must be a JSON object of search parameters.")
            params = search_params.from_json(_unsupported(body))
        else:
            _unsupported({name: request.args.get(name) for name in request.args.keys()})
            params = search_params.from_query_string(request, allowed=(*search_params.PARAMETERS, *UNSUPPORTED))
    except search_params.ParameterError as e:
        raise MeiliError(400, _CODES.get(e.code, e.code), e.message) from None
    if all(params.get(k) is None for k in ("page", "hits_per_page", "offset", "limit")):
        params["limit"] = DEFAULT_LIMIT
    try:
        result = get_engine().search(**params)
    except QueryError as e:
        raise MeiliError(400, _CODES.get(e.code, e.code), e.message) from None
    return jsonify(result)


@bp.route("/indexes/<index_uid>/settings", methods=["GET", "PUT", "PATCH", "POST", "DELETE"])
@bp.route("/indexes/<index_uid>/settings/<path:setting>", methods=["GET", "PUT", "PATCH", "POST", "DELETE"])
def settings(index_uid: str, setting: str | None = None):
    raise MeiliError(501, "feature_not_supported",
                     "vnsearch's index settings are fixed: filterable attributes are date, topic, source and "
                     "tags, sortable is date, ranking is BM25F with the all-words tier first.")


@bp.route("/indexes", methods=["POST"])
@bp.route("/indexes/<index_uid>", methods=["DELETE", "PATCH"])
@bp.route("/multi-search", methods=["POST"])
def indexes(index_uid: str | None = None):
    raise MeiliError(501, "feature_not_supported",
                     f"vnsearch serves one index, `{INDEX_UID}`: indexes cannot be created, changed or deleted, "
                     "and multi-search is not available.")
