"""The OpenAPI 3.1 description of vnsearch's HTTP interface, served at ``/openapi.json``.

Built in Python so the limits quoted here are the library's own constants.
The test suite validates this document (openapi-spec-validator) and checks
every API response it receives against it (openapi-core).
"""

from __future__ import annotations

from indexer import MAX_HITS_PER_PAGE, MAX_QUERY_CHARS, MAX_SUGGEST_CHARS
from indexer.search.facets import FACETABLE
from indexer.search.filters import FILTERABLE
from indexer.search.options import HIGHLIGHTABLE, MATCHING_STRATEGIES, MAX_CROP_LENGTH
from indexer.search.sorting import SORTABLE
from indexer.index.schema import HIT_FIELDS

NULLABLE_STRING = {"type": ["string", "null"]}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _json(description: str, ref: str, headers: dict | None = None) -> dict:
    out = {"description": description,
           "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}
    if headers:
        out["headers"] = headers
    return out


def _html(description: str) -> dict:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "pattern": "^[a-z_]+$",
                             "description": "Stable machine-readable code, e.g. `empty_query`, `invalid_page`, "
                                            "`invalid_hits_per_page`, `query_too_long`, `missing_query`, "
                                            "`article_not_found`, `unauthorized`, `admin_disabled`, "
                                            "`invalid_article`, `article_exists`, `index_busy`, "
                                            "`payload_too_large`, `not_found`, `method_not_allowed`."},
                    "message": {"type": "string", "description": "Human-readable explanation."},
                },
            },
        },
    },
    "Hit": {
        "type": "object",
        "required": ["_formatted", "_score", "_related"],
        "description": "Every stored attribute (`id`, `title`, `date`, `topic`, `source`, `url`, `tags`) "
                       "unless `attributesToRetrieve` narrows them.",
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "date": {**NULLABLE_STRING, "description": "ISO 8601 date (and time) of publication."},
            "topic": {**NULLABLE_STRING, "description": "The section, as the outlet names it."},
            "source": NULLABLE_STRING,
            "url": NULLABLE_STRING,
            "tags": {"type": "array", "items": {"type": "string"}},
            "_related": {"type": "boolean",
                         "description": "True for a hit matching only some of the query's words."},
            "_formatted": {
                "type": "object",
                "required": ["title", "body"],
                "description": "Escaped HTML; the query's matches wrapped in `<mark>`.",
                "properties": {"title": {"type": "string"}, "body": {"type": "string",
                                                                       "description": "A snippet."}},
            },
            "_score": {"type": "number"},
        },
    },
    "SearchResult": {
        "type": "object",
        "required": ["query", "hits", "relatedHits", "totalHitsEstimated", "processingTimeMs", "suggestion"],
        "description": "With `page`/`hitsPerPage` (the default): `totalHits`, `totalPages`, `page`, "
                       "`hitsPerPage`; with only `offset`/`limit`: `offset`, `limit`, `estimatedTotalHits`.",
        "properties": {
            "query": {"type": "string"},
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            "totalHits": {"type": "integer", "minimum": 0,
                          "description": "The documents matching every word of a keyword query when any "
                                         "does, else every match."},
            "totalPages": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "hitsPerPage": {"type": "integer", "minimum": 0, "maximum": MAX_HITS_PER_PAGE},
            "offset": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 0, "maximum": MAX_HITS_PER_PAGE},
            "estimatedTotalHits": {"type": "integer", "minimum": 0},
            "relatedHits": {"type": "integer", "minimum": 0,
                            "description": "Further documents matching only some of the words: they follow "
                                           "the `totalHits` ones (on the pages after `totalPages`)."},
            "totalHitsEstimated": {"type": "boolean",
                                   "description": "The total was extrapolated from a sample (phrase queries)."},
            "facetDistribution": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
                "description": "Per requested facet: value -> matches holding it, most frequent first."},
            "facetStats": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["min", "max"],
                "properties": {"min": {"type": "string"}, "max": {"type": "string"}}},
                "description": "`date`: the earliest and latest date of the matches."},
            "processingTimeMs": {"type": "number", "minimum": 0},
            "suggestion": {**NULLABLE_STRING,
                           "description": "\"Did you mean\": the query as read (accents restored, Telex/VNI keys decoded, typos corrected, joined words split), spelled as the pages spell it, or null."},
        },
    },
    "Suggestions": {
        "type": "object",
        "required": ["query", "suggestions"],
        "properties": {
            "query": {"type": "string"},
            "suggestions": {"type": "array", "items": {"type": "string"},
                            "description": "Completions that occur in the index as phrases, the most frequent after what was typed first, spelled as the pages spell them."},
        },
    },
    "Article": {
        "type": "object",
        "required": ["id", "title", "text", "date", "source", "url"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "text": {"type": "string", "description": "The whole body, plain text."},
            "date": NULLABLE_STRING,
            "topic": NULLABLE_STRING,
            "source": NULLABLE_STRING,
            "url": NULLABLE_STRING,
            "tags": {"type": "array", "items": {"type": "string"}},
            "path": {**NULLABLE_STRING, "description": "The corpus file it was read from."},
        },
    },
    "NewArticle": {
        "type": "object",
        "required": ["id", "text"],
        "properties": {
            "id": {"oneOf": [{"type": "string", "minLength": 1, "maxLength": 1000}, {"type": "integer"}]},
            "title": {"type": "string", "maxLength": 10000},
            "text": {"type": "string", "minLength": 1},
            "date": {**NULLABLE_STRING, "description": "ISO 8601, e.g. 2020-07-14 or 2020-07-14T06:55:40."},
            "url": {**NULLABLE_STRING, "description": "http:// or https:// only."},
            "source": NULLABLE_STRING,
            "topic": NULLABLE_STRING,
            "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        },
    },
    "SearchRequest": {
        "type": "object",
        "additionalProperties": False,
        "description": "The body of `POST /api/search`: the parameters of `GET /api/search`, JSON-typed.",
        "properties": {
            "q": {"type": ["string", "null"], "maxLength": MAX_QUERY_CHARS},
            "page": {"type": "integer", "minimum": 1},
            "hitsPerPage": {"type": "integer", "minimum": 0, "maximum": MAX_HITS_PER_PAGE},
            "offset": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 0, "maximum": MAX_HITS_PER_PAGE},
            "filter": {"oneOf": [{"type": "string"}, {"type": "array", "items": {
                "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}}, {"type": "null"}]},
            "sort": {"type": "array", "items": {"type": "string"}},
            "facets": {"type": "array", "items": {"type": "string"}},
            "attributesToRetrieve": {"type": "array", "items": {"type": "string"}},
            "attributesToHighlight": {"type": "array", "items": {"type": "string"}},
            "highlightPreTag": {"type": "string"},
            "highlightPostTag": {"type": "string"},
            "cropLength": {"type": "integer", "minimum": 1, "maximum": MAX_CROP_LENGTH},
            "matchingStrategy": {"type": "string", "enum": list(MATCHING_STRATEGIES)},
        },
    },
    "MeiliError": {
        "type": "object",
        "required": ["message", "code", "type", "link"],
        "description": "Meilisearch's error object (the routes under `/indexes`).",
        "properties": {"message": {"type": "string"}, "code": {"type": "string"}, "type": {"type": "string"},
                       "link": {"type": "string"}},
    },
}

PARAMETERS = {
    "q": {"name": "q", "in": "query", "required": True,
          "description": "The query: words (with or without accents), \"quoted phrases\", -exclusions.",
          "schema": {"type": "string", "maxLength": MAX_QUERY_CHARS}},
    "page": {"name": "page", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "default": 1}},
    "hitsPerPage": {"name": "hitsPerPage", "in": "query", "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_HITS_PER_PAGE, "default": 10}},
    "articleId": {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
}


def _list(name: str, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description + " Comma-separated or "
            "repeated.", "style": "form", "explode": True, "schema": {"type": "array", "items": {"type": "string"}}}


SEARCH_PARAMETERS = [
    {**PARAMETERS["q"], "required": False, "allowEmptyValue": True,
     "description": "The query: words (with or without accents), \"quoted phrases\", -exclusions. Empty or "
                    "absent: every document (filtered), newest first."},
    PARAMETERS["page"],
    {**PARAMETERS["hitsPerPage"], "schema": {"type": "integer", "minimum": 0, "maximum": MAX_HITS_PER_PAGE}},
    {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0},
     "description": "With `limit` (and no `page`/`hitsPerPage`): offset pagination, `estimatedTotalHits`."},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0, "maximum": MAX_HITS_PER_PAGE, "default": 20}},
    {"name": "filter", "in": "query", "required": False, "style": "form", "explode": True,
     "schema": {"type": "array", "items": {"type": "string"}},
     "description": "A Meilisearch filter expression over " + ", ".join(f"`{a}`" for a in FILTERABLE)
                    + ", e.g. `topic = \"Thể thao\" AND date >= 2020-01-01`; repeated: all must hold."},
    _list("sort", "Sort rules: `date:desc` or `date:asc` (sortable: " + ", ".join(SORTABLE) + ")."),
    _list("facets", "Facets to count: " + ", ".join(f"`{a}`" for a in FACETABLE) + " or `*`."),
    _list("attributesToRetrieve", "Attributes of each hit: " + ", ".join(HIT_FIELDS) + " or `*`."),
    _list("attributesToHighlight", "Attributes marked in `_formatted`: " + ", ".join(HIGHLIGHTABLE) + " or `*`."),
    {"name": "highlightPreTag", "in": "query", "required": False, "schema": {"type": "string", "default": "<mark>"}},
    {"name": "highlightPostTag", "in": "query", "required": False,
     "schema": {"type": "string", "default": "</mark>"}},
    {"name": "cropLength", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_CROP_LENGTH},
     "description": "One snippet of about this many words."},
    {"name": "matchingStrategy", "in": "query", "required": False,
     "schema": {"type": "string", "enum": list(MATCHING_STRATEGIES), "default": "last"},
     "description": "`all`: only documents matching every word."},
]


def _meili_error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MeiliError"}}}}


MEILI_RESPONSES = {"200": _json("One page of results (Meilisearch's fields, plus vnsearch's).", "SearchResult"),
                   "400": _meili_error("A bad parameter, in Meilisearch's error shape."),
                   "404": _meili_error("No such index: the one index is `articles`."),
                   "default": _meili_error("Any other error, in Meilisearch's error shape.")}

ADMIN_ERRORS = {
    "401": _error("Missing or wrong token."),
    "403": _error("Writing is disabled: no VNSEARCH_ADMIN_TOKEN is configured."),
    "503": _error("The index is busy (another build) or the corpus directory is missing."),
    "default": _error("Any other error, in the same shape."),
}

_UID = {"name": "indexUid", "in": "path", "required": True, "schema": {"type": "string"},
        "description": "`articles`, the one index."}


def _not_supported(operation: str, summary: str) -> dict:
    return {"operationId": operation, "summary": summary + " vnsearch serves one index, `articles`, whose "
            "settings are fixed.", "responses": {"501": _meili_error("`feature_not_supported`."),
                                                 "default": _meili_error("Meilisearch's error shape.")}}


_NOT_SUPPORTED_SETTINGS = {method: _not_supported(f"meiliSettings{method.title()}", "Index settings: not supported.")
                           for method in ("get", "put", "patch", "post", "delete")}

UNAVAILABLE = {"503": _error("No index has been built yet."),
               "default": _error("Any other error, in the same shape.")}


# -- serving: /health, the search token, refusals of hostile requests (webui.access, webui.guards) ------
SERVING_NOTE = ("Refused before any route, in the error shape with the security headers: a request line over "
                "8,190 bytes (414 `uri_too_long`), a header over 8,190 bytes or more than 100 headers (431 "
                "`headers_too_large`), a malformed request (400 `bad_request`); a path or query string that is "
                "not percent-encoded UTF-8, or a JSON string escaping a lone surrogate, is 400 `invalid_encoding`, a JSON body nested deeper than 32 levels "
                "400 `invalid_json`, a body over the limit, chunked or not, 413. With VNSEARCH_SEARCH_TOKEN set, "
                "every route but `/health` and `/openapi.json` needs the search or the admin token.")

HEALTH_PATH = {"/health": {"get": {
    "operationId": "health",
    "summary": "Liveness: answers without opening the index (Meilisearch's `/health`). Never needs a token.",
    "responses": {"200": {"description": "The server is up.", "content": {"application/json": {"schema": {
        "type": "object", "required": ["status"], "additionalProperties": False,
        "properties": {"status": {"const": "available"}}}}}}},
}}}

_UNGUARDED = ("/health", "/openapi.json")


def _with_serving(paths: dict) -> dict:
    """``paths`` plus /health, and on every guarded operation the answers of webui.access and
    webui.guards (401 without the search token; 400 for an invalid encoding), in its route's shape."""
    out = {**paths, **HEALTH_PATH}
    for path, item in out.items():
        if path in _UNGUARDED:
            continue
        meili = not path.startswith("/api") and path.startswith(("/indexes", "/multi-search", "/tasks"))
        page = not meili and not path.startswith("/api")
        shape = _html if page else (_meili_error if meili else _error)
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            responses.setdefault("400", shape("The path or query string is not UTF-8 (`invalid_encoding`)."))
            responses.setdefault("401", shape("VNSEARCH_SEARCH_TOKEN is set and no valid token was sent."))
            if meili:
                responses.setdefault("403", shape("The token sent is wrong (`invalid_api_key`)."))
    return out


SEARCH_TOKEN_SCHEME = {"searchToken": {
    "type": "http", "scheme": "bearer",
    "description": "The server's VNSEARCH_SEARCH_TOKEN (or the admin token), needed by every route but "
                   "`/health` and `/openapi.json` when one is configured; browsers send it as the password "
                   "of HTTP Basic authentication."}}


def spec() -> dict:
    document = _spec()
    # the writes, tasks and stats (webui/openapi_writes.py)
    from webui import openapi_writes
    for path, operations in openapi_writes.PATHS.items():
        document["paths"][path] = {**document["paths"].get(path, {}), **operations}
    document["components"]["schemas"] = {**document["components"]["schemas"], **openapi_writes.SCHEMAS}
    return document


def _spec() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vnsearch",
            "version": "0.1.0",
            "description": "Vietnamese full-text search. Search results follow Meilisearch's shape; "
                           "highlighted fields are escaped HTML with `<mark>` around matches. "
                           "Every error is `{\"error\": {\"code\", \"message\"}}`. " + SERVING_NOTE,
        },
        "servers": [{"url": "/"}],
        "paths": _with_serving({
            "/api/search": {"get": {
                "operationId": "search",
                "summary": "Ranked, highlighted results (same object as `vnsearch search --json`).",
                "parameters": SEARCH_PARAMETERS,
                "responses": {"200": _json("One page of results.", "SearchResult"),
                              "400": _error("A bad or unknown parameter (`unknown_parameter`), a malformed "
                                            "filter (`invalid_search_filter`, with its position)."),
                              **UNAVAILABLE},
            }, "post": {
                "operationId": "searchPost",
                "summary": "The same search, its parameters as a JSON body.",
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/SearchRequest"}}}},
                "responses": {"200": _json("One page of results.", "SearchResult"),
                              "400": _error("Invalid JSON, a bad or unknown parameter."),
                              "415": _error("The body is not application/json."),
                              **UNAVAILABLE},
            }},
            "/indexes/{indexUid}/search": {"parameters": [_UID],
                "get": {"operationId": "meiliSearchGet", "summary": "Meilisearch's search route.",
                        "parameters": SEARCH_PARAMETERS, "responses": MEILI_RESPONSES},
                "post": {"operationId": "meiliSearch",
                         "summary": "Meilisearch's search route: what the official clients call.",
                         "requestBody": {"required": False, "content": {
                             "application/json": {"schema": {"type": "object"}}}},
                         "responses": MEILI_RESPONSES}},
            "/indexes/{indexUid}/settings": {"parameters": [_UID], **_NOT_SUPPORTED_SETTINGS},
            "/indexes/{indexUid}/settings/{setting}": {
                "parameters": [_UID, {"name": "setting", "in": "path", "required": True, "schema": {"type": "string"}}],
                **{m: {**op, "operationId": op["operationId"] + "One"} for m, op in _NOT_SUPPORTED_SETTINGS.items()}},
            "/indexes": {"post": _not_supported("meiliCreateIndex", "Creating an index: not supported.")},
            "/indexes/{indexUid}": {"parameters": [_UID],
                                    "delete": _not_supported("meiliDeleteIndex", "Deleting an index: not supported."),
                                    "patch": _not_supported("meiliUpdateIndex", "Changing an index: not supported.")},
            "/multi-search": {"post": _not_supported("meiliMultiSearch", "Multi-search: not supported.")},
            "/api/suggest": {"get": {
                "operationId": "suggest",
                "summary": "Completions of a partly typed query (prefix, diacritic-insensitive).",
                "parameters": [
                    {**PARAMETERS["q"], "schema": {"type": "string", "maxLength": MAX_SUGGEST_CHARS},
                     "description": "What was typed so far; a trailing space asks for the next word.",
                     "allowEmptyValue": True},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 8}},
                ],
                "responses": {"200": _json("Completions, accented.", "Suggestions"),
                              "400": _error("Missing q, q too long or a bad limit."),
                              **UNAVAILABLE},
            }},
            "/api/articles/{id}": {"get": {
                "operationId": "getArticle",
                "summary": "One stored article.",
                "parameters": [PARAMETERS["articleId"]],
                "responses": {"200": _json("The article.", "Article"),
                              "404": _error("No article has this id."),
                              **UNAVAILABLE},
            }},
            "/openapi.json": {"get": {
                "operationId": "openapi",
                "summary": "This document.",
                "responses": {"200": {"description": "OpenAPI 3.1 document.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/": {"get": {
                "operationId": "searchPage",
                "summary": "The search page (HTML, Vietnamese). Works without JavaScript.",
                "parameters": [{**PARAMETERS["q"], "required": False, "schema": {"type": "string"}},
                               {"name": "page", "in": "query", "required": False, "schema": {"type": "string"}},
                               {"name": "sort", "in": "query", "required": False, "description": "`date`: newest first.",
                                "schema": {"type": "string"}},
                               {"name": "date", "in": "query", "required": False,
                                "description": "A preset: `24h`, `7d`, `30d`, `365d` (back from now).",
                                "schema": {"type": "string"}},
                               {"name": "from", "in": "query", "required": False, "schema": {"type": "string"},
                                "description": "A custom range's first day (ISO date)."},
                               {"name": "to", "in": "query", "required": False, "schema": {"type": "string"},
                                "description": "A custom range's last day (ISO date)."},
                               {"name": "topic", "in": "query", "required": False, "style": "form", "explode": True,
                                "schema": {"type": "array", "items": {"type": "string"}}},
                               {"name": "source", "in": "query", "required": False, "style": "form", "explode": True,
                                "schema": {"type": "array", "items": {"type": "string"}}}],
                "responses": {"200": _html("The search page, with results when q is given."),
                              "400": _html("The search page with an error message."),
                              "503": _html("No index yet.")},
            }},
            "/articles/{id}": {"get": {
                "operationId": "articlePage",
                "summary": "An article page (HTML) with the matches of q highlighted.",
                "parameters": [PARAMETERS["articleId"],
                               {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}}],
                "responses": {"200": _html("The article."), "404": _html("No article has this id."),
                              "503": _html("No index yet.")},
            }},
        }),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"adminToken": {
                "type": "http", "scheme": "bearer",
                "description": "The server's VNSEARCH_ADMIN_TOKEN. Without one configured, "
                               "the admin endpoints answer 403."}, **SEARCH_TOKEN_SCHEME},
        },
    }
