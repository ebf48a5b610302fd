"""The write API (``/api``): the documents API, reindexing, tasks and stats.

Every write is a task (:mod:`indexer.tasks`): the request validates its input,
records the task durably and answers ``202 Accepted`` with the task object and
a ``Location`` of ``/api/tasks/<uid>``; the task processor (not a web worker)
changes the corpus directory and the index. ``?wait=SECONDS`` (at most
``TASK_WAIT_MAX``) on a write or on ``GET /api/tasks/<uid>`` answers once the
task finished, or as it is when the time is up. Everything here needs the
admin token (:func:`webui.api._require_admin`).

The body helpers (:func:`read_records`, :func:`wait_seconds`) raise
:class:`BodyError`, which each blueprint renders in its own error shape.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from indexer import tasks
from webui.api import _TRUE, _FALSE, _corpus_dir, _require_admin
from webui.errors import ApiError
from webui.guards import loads_bounded
from webui.searcher import engine_or_none

bp = Blueprint("writes", __name__, url_prefix="/api")

NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
TASK_LIST_PARAMETERS = ("status", "type", "limit", "from")


class BodyError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# -- shared with webui.meili -------------------------------------------------------------
def task_store() -> tasks.TaskStore:
    """The task store of this request's index (one connection per request)."""
    if "task_store" not in g:
        g.task_store = tasks.TaskStore(current_app.config["INDEX_DIR"])
    return g.task_store


def close_task_store(exc=None) -> None:
    store = g.pop("task_store", None)
    if store is not None:
        store.close()


def _is_ndjson() -> bool:
    return (request.mimetype or "").lower() in NDJSON_TYPES


def read_records() -> tuple[list, bool, callable]:
    """The records of a documents body: ``(records, single, where)``.

    ``application/json``: one object (``single``) or an array of objects;
    NDJSON: one object per non-blank line. ``where(i)`` names record ``i`` in
    errors (``record 3``, ``line 7``: the body's line number)."""
    if _is_ndjson():
        try:
            text = request.get_data(cache=False).decode("utf-8")
        except UnicodeDecodeError:
            raise BodyError(400, "invalid_json", "The body is not valid UTF-8.") from None
        records, lines = [], []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append(loads_bounded(line))
            except (ValueError, RecursionError):
                raise BodyError(400, "invalid_json", f"line {number}: not valid JSON.") from None
            lines.append(number)
        if not records:
            raise BodyError(400, "empty_batch", "The body holds no article.")
        return records, False, lambda i: f"line {lines[i]}"
    if not request.is_json:
        raise BodyError(415, "unsupported_media_type",
                        "Send the articles as application/json (an object or an array) or application/x-ndjson.")
    try:
        body = loads_bounded(request.get_data(cache=False))
    except (ValueError, RecursionError):
        raise BodyError(400, "invalid_json", "The request body is not valid JSON.") from None
    if isinstance(body, list):
        if not body:
            raise BodyError(400, "empty_batch", "The array holds no article.")
        return body, False, lambda i: f"record {i}"
    return [body], True, lambda i: "the article"


def validated(records: list, where) -> list[dict]:
    try:
        return tasks.validate_batch(records, where)
    except tasks.InvalidRecord as e:
        raise BodyError(400, "invalid_article", str(e)) from None


def wait_seconds() -> float | None:
    """``?wait=SECONDS`` (0 to TASK_WAIT_MAX), or None when not given."""
    raw = request.args.get("wait")
    if raw is None:
        return None
    limit = current_app.config["TASK_WAIT_MAX"]
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= limit:       # also NaN
        raise BodyError(400, "invalid_wait", f"wait must be a number of seconds from 0 to {limit:g}.")
    return value


def waited(task: tasks.Task) -> tasks.Task:
    """``task`` after the request's ``?wait``, if any."""
    seconds = wait_seconds()
    if seconds is None or task.status in (tasks.SUCCEEDED, tasks.FAILED):
        return task
    return task_store().wait(task.uid, seconds) or task


def indexed_ids(ids: list[str]) -> list[str]:
    """Those of ``ids`` the index holds now."""
    engine = engine_or_none()
    if engine is None:
        return []
    return [i for i in ids if engine.get_article(i) is not None]


# -- the /api shapes ---------------------------------------------------------------------
def task_object(task: tasks.Task) -> dict:
    """A task as ``/api`` answers it (``error`` in the project's JSON error shape)."""
    return {"taskUid": task.uid, "status": task.status, "type": task.type, "enqueuedAt": task.enqueued_at,
            "startedAt": task.started_at, "finishedAt": task.finished_at,
            "duration": tasks.iso_duration(task.duration_seconds), "details": task.details,
            "error": task.error}


def _api_error(e: BodyError) -> ApiError:
    return ApiError(e.status, e.code, e.message)


def _accepted(task: tasks.Task):
    try:
        task = waited(task)
    except BodyError as e:
        raise _api_error(e) from None
    response = jsonify(task_object(task))
    response.status_code = 202
    response.headers["Location"] = f"/api/tasks/{task.uid}"
    return response


def _check_wait() -> None:
    try:
        wait_seconds()
    except BodyError as e:
        raise _api_error(e) from None


@bp.post("/articles")
def add_articles():
    """Add articles (an object, an array, NDJSON): ids already indexed are 409 (PUT replaces)."""
    _require_admin()
    _check_wait()
    try:
        records, _single, where = read_records()
        articles = validated(records, where)
    except BodyError as e:
        raise _api_error(e) from None
    _corpus_dir()
    taken = indexed_ids([a["id"] for a in articles])
    if taken:
        i = next(n for n, a in enumerate(articles) if a["id"] == taken[0])
        raise ApiError(409, "article_exists",
                       f"{where(i)}: an article with id {taken[0]!r} is already indexed "
                       f"(PUT /api/articles/<id> replaces it).")
    return _accepted(tasks.enqueue_articles(task_store(), articles))


@bp.put("/articles/<path:article_id>")
def replace_article(article_id: str):
    """Replace (or add) one article: the body's ``id``, if any, must be the path's."""
    _require_admin()
    _check_wait()
    try:
        records, single, where = read_records()
    except BodyError as e:
        raise _api_error(e) from None
    if not single or not isinstance(records[0], dict):
        raise ApiError(400, "invalid_article", "Send one article (a JSON object) to replace it.")
    record = records[0]
    if "id" in record and str(record["id"]) != article_id:
        raise ApiError(400, "id_mismatch", f"The body's id {str(record['id'])!r} is not the path's {article_id!r}.")
    try:
        articles = validated([{**record, "id": article_id}], where)
    except BodyError as e:
        raise _api_error(e) from None
    _corpus_dir()
    return _accepted(tasks.enqueue_articles(task_store(), articles))


@bp.delete("/articles/<path:article_id>")
def delete_article(article_id: str):
    _require_admin()
    _check_wait()
    _corpus_dir()
    if not indexed_ids([article_id]):
        raise ApiError(404, "article_not_found", "No article has this id.")
    return _accepted(tasks.enqueue_deletion(task_store(), [article_id]))


@bp.post("/reindex")
def reindex():
    """Bring the index up to date with the corpus directory (``full=1``: a fresh generation), as a task."""
    _require_admin()
    raw = (request.args.get("full") or "").strip().lower()
    if raw not in _TRUE | _FALSE:
        raise ApiError(400, "invalid_full", "full must be 1 or 0.")
    _check_wait()
    _corpus_dir()
    return _accepted(tasks.enqueue_reindex(task_store(), full=raw in _TRUE))


@bp.get("/tasks/<int:uid>")
def get_task(uid: int):
    _require_admin()
    _check_wait()
    task = task_store().get(uid, payload=False)
    if task is None:
        raise ApiError(404, "task_not_found", f"There is no task {uid}.")
    return jsonify(task_object(waited(task)))


def _choices(name: str, allowed: tuple[str, ...], code: str) -> tuple[str, ...]:
    values = tuple(v.strip() for raw in request.args.getlist(name) for v in raw.split(",") if v.strip())
    bad = [v for v in values if v not in allowed]
    if bad:
        raise ApiError(400, code, f"Unknown {name} `{bad[0]}`: expected one of {', '.join(f'`{a}`' for a in allowed)}.")
    return values


def _int_param(name: str, default: int | None, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12 or not low <= int(raw) <= high:
        raise ApiError(400, f"invalid_{name}", f"{name} must be an integer from {low} to {high}.")
    return int(raw)


@bp.get("/tasks")
def list_tasks():
    """Tasks newest first: ``status``, ``type`` (comma-separated or repeated), ``limit``, ``from``."""
    _require_admin()
    unknown = [name for name in request.args if name not in TASK_LIST_PARAMETERS]
    if unknown:
        raise ApiError(400, "unknown_parameter", f"Unknown parameter `{unknown[0]}`: expected one of "
                       + ", ".join(f"`{p}`" for p in TASK_LIST_PARAMETERS) + ".")
    statuses = _choices("status", tasks.STATUSES, "invalid_task_status")
    types = _choices("type", tasks.TYPES, "invalid_task_type")
    limit = _int_param("limit", 20, 1, tasks.store.MAX_LIST_LIMIT)
    start = _int_param("from", None, 0, 2 ** 62)
    found, total, nxt = task_store().list(statuses=statuses, types=types, limit=limit, from_uid=start)
    return jsonify({"results": [task_object(t) for t in found], "total": total, "limit": limit,
                    "from": found[0].uid if found else None, "next": nxt})


@bp.get("/stats")
def stats():
    """What the index holds and what the task queue is doing."""
    _require_admin()
    engine = engine_or_none()
    index = engine.stats() if engine is not None else {}
    store = task_store()
    last = store.last()
    return jsonify({"documents": index.get("documents"), "generation": index.get("generation"),
                    "deletedPending": index.get("deletedPending"),
                    "tasks": store.counts(), "lastTask": task_object(last) if last else None})


def init_app(app) -> None:
    app.teardown_appcontext(close_task_store)
