"""The OpenAPI description of the writes, tasks and stats (:mod:`webui.writes`)
and of Meilisearch's documents and tasks routes (:mod:`webui.meili`), merged
into :func:`webui.openapi.spec`."""

from __future__ import annotations

from indexer import tasks
from webui.openapi import _error, _json, _meili_error

_TIME = {"type": ["string", "null"], "format": "date-time"}
_DETAILS = {"type": "object", "description": "documentAdditionOrUpdate: `receivedDocuments`, `indexedDocuments` "
            "(null until done); documentDeletion: `providedIds`, `deletedDocuments`; reindex/fullRebuild: `full` "
            "and, once done, what the build did (`generation`, `filesAdded`, `filesUpdated`, `filesDeleted`, "
            "`filesUnchanged`, `articlesIndexed`, `problemCount`, the first `problems`)."}


def _common(uid_name: str, error: dict) -> dict:
    return {
        "type": "object",
        "required": [uid_name, "status", "type", "enqueuedAt", "startedAt", "finishedAt", "duration", "details",
                     "error"],
        "properties": {
            uid_name: {"type": "integer", "minimum": 1},
            "status": {"type": "string", "enum": list(tasks.STATUSES)},
            "type": {"type": "string", "enum": list(tasks.TYPES)},
            "enqueuedAt": {"type": "string", "format": "date-time", "description": "RFC 3339, UTC."},
            "startedAt": _TIME,
            "finishedAt": _TIME,
            "duration": {"type": ["string", "null"], "description": "ISO 8601, e.g. `PT0.412S`."},
            "details": _DETAILS,
            "error": error,
        },
    }


SCHEMAS = {
    "TaskError": {"type": "object", "required": ["code", "message"], "additionalProperties": False,
                  "description": "Why a task failed: the inner object of the JSON error shape.",
                  "properties": {"code": {"type": "string", "pattern": "^[a-z_]+$"}, "message": {"type": "string"}}},
    "Task": {**_common("taskUid", {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/TaskError"}]}),
             "description": "A task of `/api`: `error` is the JSON error shape's inner object."},
    "TaskList": {
        "type": "object", "required": ["results", "total", "limit", "from", "next"],
        "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
                       "total": {"type": "integer"}, "limit": {"type": "integer"},
                       "from": {"type": ["integer", "null"]}, "next": {"type": ["integer", "null"]}},
    },
    "Stats": {
        "type": "object", "required": ["documents", "generation", "deletedPending", "tasks", "lastTask"],
        "properties": {
            "documents": {"type": ["integer", "null"], "description": "null while no index is built."},
            "generation": {"type": ["string", "null"]},
            "deletedPending": {"type": ["integer", "null"]},
            "tasks": {"type": "object", "description": "The number of tasks in each status.",
                      "properties": {s: {"type": "integer"} for s in tasks.STATUSES}},
            "lastTask": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Task"}]},
        },
    },
    "MeiliTask": {**_common("uid", {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/MeiliError"}]}),
                  "description": "Meilisearch's task object."},
    "MeiliTaskSummary": {
        "type": "object", "required": ["taskUid", "indexUid", "status", "type", "enqueuedAt"],
        "properties": {"taskUid": {"type": "integer"}, "indexUid": {"type": "string"},
                       "status": {"type": "string", "enum": list(tasks.STATUSES)},
                       "type": {"type": "string", "enum": list(tasks.TYPES)},
                       "enqueuedAt": {"type": "string", "format": "date-time"}},
    },
    "MeiliTaskList": {
        "type": "object", "required": ["results", "total", "limit", "from", "next"],
        "properties": {"results": {"type": "array", "items": {"$ref": "#/components/schemas/MeiliTask"}},
                       "total": {"type": "integer"}, "limit": {"type": "integer"},
                       "from": {"type": ["integer", "null"]}, "next": {"type": ["integer", "null"]}},
    },
}


ADMIN = {
    "401": _error("Missing or wrong token."),
    "403": _error("Writing is disabled: no VNSEARCH_ADMIN_TOKEN is configured."),
    "default": _error("Any other error, in the same shape."),
}
WAIT = {"name": "wait", "in": "query", "required": False,
        "schema": {"type": "number", "minimum": 0},
        "description": "Answer once the task is finished, or after this many seconds (at most TASK_WAIT_MAX, "
                       "default 60): its status says which."}
ACCEPTED = {"202": _json("The task, enqueued (or as it is after `wait`).", "Task",
                         {"Location": {"description": "`/api/tasks/<uid>`.", "schema": {"type": "string"}}}),
            "503": _error("The corpus directory is missing (`corpus_not_found`).")}
ARTICLES_BODY = {"required": True, "content": {
    "application/json": {"schema": {"oneOf": [{"$ref": "#/components/schemas/NewArticle"},
                                              {"type": "array", "items": {"$ref": "#/components/schemas/NewArticle"}}]}},
    "application/x-ndjson": {"schema": {"type": "string", "description": "One article (JSON object) per line."}}}}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_TASK_UID = {"name": "uid", "in": "path", "required": True, "schema": {"type": "integer"}}
_INDEX = {"name": "indexUid", "in": "path", "required": True, "schema": {"type": "string"},
          "description": "`articles`, the one index."}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


MEILI_AUTH = {"401": _meili_error("`missing_authorization_header`."),
              "403": _meili_error("`invalid_api_key` (or writing disabled)."),
              "default": _meili_error("Any other error, in Meilisearch's error shape.")}

PATHS = {
    "/api/articles": {"post": {
        "operationId": "addArticles",
        "summary": "Add articles (one object, an array, or NDJSON) as one task: validated now, written to the "
                   "corpus directory and indexed by the task.",
        "security": [{"adminToken": []}], "parameters": [WAIT], "requestBody": ARTICLES_BODY,
        "responses": {**ACCEPTED,
                      "400": _error("Not valid JSON, or a record not a valid article (`invalid_article`, naming "
                                    "the record or line and the field); nothing is enqueued."),
                      "409": _error("An article with one of these ids is indexed already (PUT replaces)."),
                      "413": _error("The body is too large."),
                      "415": _error("Neither application/json nor application/x-ndjson."), **ADMIN}}},
    "/api/articles/{id}": {
        "put": {"operationId": "replaceArticle", "summary": "Replace (or add) one article, as a task.",
                "security": [{"adminToken": []}], "parameters": [_ID, WAIT],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/NewArticle"}}}},
                "responses": {**ACCEPTED, "400": _error("Not a valid article, or its id is not the path's "
                                                        "(`id_mismatch`)."),
                              "413": _error("The body is too large."), "415": _error("Not application/json."),
                              **ADMIN}},
        "delete": {"operationId": "deleteArticle", "summary": "Delete one article, as a task.",
                   "security": [{"adminToken": []}], "parameters": [_ID, WAIT],
                   "responses": {**ACCEPTED, "404": _error("No article has this id."), **ADMIN}}},
    "/api/reindex": {"post": {
        "operationId": "reindex", "summary": "Bring the index up to date with the corpus directory, as a task.",
        "security": [{"adminToken": []}],
        "parameters": [{"name": "full", "in": "query", "required": False,
                        "description": "1: a full rebuild (`fullRebuild`), swapped in atomically; default "
                                       "incremental (`reindex`).",
                        "schema": {"type": "string", "enum": ["0", "1", "true", "false"]}}, WAIT],
        "responses": {**ACCEPTED, "400": _error("A bad full or wait parameter."),
                      "413": _error("The body is too large (the endpoint takes none)."), **ADMIN}}},
    "/api/tasks": {"get": {
        "operationId": "listTasks", "summary": "Tasks, newest first.", "security": [{"adminToken": []}],
        "parameters": [
            {**_query("status", "Only these statuses: " + ", ".join(tasks.STATUSES) + " (comma-separated or "
                      "repeated)."), "style": "form", "explode": True,
             "schema": {"type": "array", "items": {"type": "string"}}},
            {**_query("type", "Only these types: " + ", ".join(tasks.TYPES) + "."), "style": "form",
             "explode": True, "schema": {"type": "array", "items": {"type": "string"}}},
            _query("limit", "Tasks per answer (1-1000).", {"type": "integer", "minimum": 1, "default": 20}),
            _query("from", "The uid to start from (`next` of the previous answer).", {"type": "integer"})],
        "responses": {"200": _json("One page of tasks.", "TaskList"),
                      "400": _error("An unknown parameter, status or type, or a bad limit/from."), **ADMIN}}},
    "/api/tasks/{uid}": {"get": {
        "operationId": "getTask", "summary": "One task.", "security": [{"adminToken": []}],
        "parameters": [_TASK_UID, WAIT],
        "responses": {"200": _json("The task (after `wait`, finished unless the time ran out).", "Task"),
                      "400": _error("A bad wait."), "404": _error("No such task."), **ADMIN}}},
    "/api/stats": {"get": {
        "operationId": "stats", "summary": "Documents, generation, task counts and the last task.",
        "security": [{"adminToken": []}], "responses": {"200": _json("The stats.", "Stats"), **ADMIN}}},
    "/indexes/{indexUid}/documents": {
        "parameters": [_INDEX],
        **{method: {
            "operationId": f"meiliDocuments{method.title()}",
            "summary": "Meilisearch's add-or-replace documents route (whole documents; no partial update).",
            "security": [{"adminToken": []}],
            "parameters": [_query("primaryKey", "Only `id`.")],
            "requestBody": ARTICLES_BODY,
            "responses": {"202": _json("The summarized task.", "MeiliTaskSummary"),
                          "400": _meili_error("Bad JSON or an invalid document; nothing is enqueued."),
                          "404": _meili_error("No such index."), **MEILI_AUTH}} for method in ("post", "put")}},
    "/indexes/{indexUid}/documents/{id}": {
        "parameters": [_INDEX, _ID],
        "delete": {"operationId": "meiliDeleteDocument", "summary": "Meilisearch's delete-one-document route.",
                   "security": [{"adminToken": []}],
                   "responses": {"202": _json("The summarized task.", "MeiliTaskSummary"),
                                 "404": _meili_error("No such index."), **MEILI_AUTH}}},
    "/tasks": {"get": {
        "operationId": "meiliTasks", "summary": "Meilisearch's task list.", "security": [{"adminToken": []}],
        "parameters": [_query(n, d) for n, d in (("statuses", "Comma-separated statuses."),
                                                  ("types", "Comma-separated types."),
                                                  ("indexUids", "Comma-separated; only `articles` has tasks."),
                                                  ("uids", "Comma-separated task uids."),
                                                  ("limit", "At most 1000."), ("from", "The uid to start from."))],
        "responses": {"200": _json("One page of tasks.", "MeiliTaskList"),
                      "400": _meili_error("A bad parameter."), **MEILI_AUTH}}},
    "/tasks/{uid}": {"get": {
        "operationId": "meiliTask", "summary": "Meilisearch's task route (what `wait_for_task` polls).",
        "security": [{"adminToken": []}], "parameters": [_TASK_UID],
        "responses": {"200": _json("The task.", "MeiliTask"), "404": _meili_error("No such task."),
                      **MEILI_AUTH}}},
}
