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

The writes and tasks are Meilisearch's too (the same tasks as ``/api``'s, see
:mod:`webui.writes`): ``POST``/``PUT /indexes/articles/documents`` (a JSON
array or object, or NDJSON; both add or replace whole documents),
``DELETE /indexes/articles/documents/<id>``, ``GET /tasks/<uid>`` and
``GET /tasks`` (``statuses``, ``types``, ``indexUids``, ``uids``, ``limit``,
``from``), with its task object (``uid``, ``indexUid``, ``status``, ``type``,
``details``, ``error``, ``duration``, ``enqueuedAt``/``startedAt``/``finishedAt``)
and its key header, ``Authorization: Bearer <VNSEARCH_ADMIN_TOKEN>``.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from indexer import IndexNotFound, QueryError, tasks
from webui import search_params, writes
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


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException):
    names = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "invalid_content_type"}
    return meili_response(e.code or 500, names.get(e.code, "bad_request"), e.description or e.name)


# -- documents and tasks --------------------------------------------------------------------
def _require_key() -> None:
    token = current_app.config.get("ADMIN_TOKEN")
    if not token:
        raise MeiliError(403, "invalid_api_key",
                         "Writing is disabled on this server: set VNSEARCH_ADMIN_TOKEN to enable it.", "auth")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise MeiliError(401, "missing_authorization_header",
                         "The Authorization header is missing. It must use the bearer authorization method.", "auth")
    if not hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8")):
        raise MeiliError(403, "invalid_api_key", "The provided API key is invalid.", "auth")


def _check_index(index_uid: str) -> None:
    if index_uid != INDEX_UID:
        raise MeiliError(404, "index_not_found", f"Index `{index_uid}` not found.")


_BODY_CODES = {"invalid_json": "malformed_payload", "empty_batch": "malformed_payload",
               "unsupported_media_type": "invalid_content_type", "invalid_article": "invalid_document_fields"}


def _body_error(e: writes.BodyError) -> MeiliError:
    code = _BODY_CODES.get(e.code, "bad_request")
    if e.code == "invalid_article" and "missing 'id'" in e.message:
        code = "missing_document_id"
    return MeiliError(e.status, code, e.message)


def meili_task(task: tasks.Task) -> dict:
    """A task as Meilisearch answers it."""
    error = None
    if task.error:
        error = {"message": task.error["message"], "code": task.error["code"], "type": "internal",
                 "link": f"https://docs.meilisearch.com/errors#{task.error['code']}"}
    return {"uid": task.uid, "batchUid": None, "indexUid": INDEX_UID, "status": task.status, "type": task.type,
            "canceledBy": None, "details": task.details, "error": error,
            "duration": tasks.iso_duration(task.duration_seconds), "enqueuedAt": task.enqueued_at,
            "startedAt": task.started_at, "finishedAt": task.finished_at}


def _summary(task: tasks.Task):
    response = jsonify({"taskUid": task.uid, "indexUid": INDEX_UID, "status": task.status, "type": task.type,
                        "enqueuedAt": task.enqueued_at})
    response.status_code = 202
    return response


@bp.route("/indexes/<index_uid>/documents", methods=["POST", "PUT"])
def add_documents(index_uid: str):
    _require_key()
    _check_index(index_uid)
    primary_key = request.args.get("primaryKey")
    if primary_key not in (None, "", "id"):
        raise MeiliError(400, "index_primary_key_already_exists",
                         f"The primary key of `{INDEX_UID}` is `id`, not `{primary_key}`.")
    try:
        records, _single, where = writes.read_records()
        articles = writes.validated(records, where)
    except writes.BodyError as e:
        raise _body_error(e) from None
    if not current_app.config["CORPUS_DIR"].is_dir():
        raise MeiliError(503, "corpus_not_found", "The corpus directory is missing on the server.", "system")
    return _summary(tasks.enqueue_articles(writes.task_store(), articles))


@bp.delete("/indexes/<index_uid>/documents/<path:document_id>")
def delete_document(index_uid: str, document_id: str):
    _require_key()
    _check_index(index_uid)
    if not current_app.config["CORPUS_DIR"].is_dir():
        raise MeiliError(503, "corpus_not_found", "The corpus directory is missing on the server.", "system")
    return _summary(tasks.enqueue_deletion(writes.task_store(), [document_id]))


@bp.get("/tasks/<int:uid>")
def get_task(uid: int):
    _require_key()
    task = writes.task_store().get(uid, payload=False)
    if task is None:
        raise MeiliError(404, "task_not_found", f"Task `{uid}` not found.")
    return jsonify(meili_task(task))


TASK_PARAMETERS = ("statuses", "types", "indexUids", "uids", "limit", "from")


def _list_arg(name: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
    values = tuple(v.strip() for raw in request.args.getlist(name) for v in raw.split(",") if v.strip())
    if "*" in values:
        return ()
    if allowed is not None:
        bad = [v for v in values if v not in allowed]
        if bad:
            raise MeiliError(400, f"invalid_task_{name}",
                             f"`{bad[0]}` is not a valid task {name[:-1]}: expected one of "
                             + ", ".join(f"`{a}`" for a in allowed) + ".")
    return values


def _int_arg(name: str, default: int | None, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12 or int(raw) > high:
        raise MeiliError(400, f"invalid_task_{name}", f"`{name}` must be a positive integer of at most {high}.")
    return int(raw)


@bp.get("/tasks")
def list_tasks():
    _require_key()
    unknown = [name for name in request.args if name not in TASK_PARAMETERS]
    if unknown:
        raise MeiliError(400, "bad_request", f"Unknown parameter `{unknown[0]}`: expected one of "
                         + ", ".join(f"`{p}`" for p in TASK_PARAMETERS) + ".")
    statuses = _list_arg("statuses", tasks.STATUSES)
    types = _list_arg("types", tasks.TYPES)
    index_uids = _list_arg("indexUids")
    limit = _int_arg("limit", 20, tasks.store.MAX_LIST_LIMIT)
    start = _int_arg("from", None, 2 ** 62)
    uids = _list_arg("uids")
    if any(not u.isdigit() for u in uids):
        raise MeiliError(400, "invalid_task_uids", "`uids` must be integers.")
    if index_uids and INDEX_UID not in index_uids:
        found, total, nxt = [], 0, None
    elif uids:
        store = writes.task_store()
        found = [t for t in (store.get(int(u), payload=False) for u in sorted(set(uids), key=int, reverse=True))
                 if t is not None and (not statuses or t.status in statuses) and (not types or t.type in types)]
        total, nxt = len(found), None
        found = found[:limit]
    else:
        found, total, nxt = writes.task_store().list(statuses=statuses, types=types, limit=limit, from_uid=start)
    return jsonify({"results": [meili_task(t) for t in found], "total": total, "limit": limit,
                    "from": found[0].uid if found else None, "next": nxt})
