"""The OpenAPI 3.1 description of vnsearch's HTTP interface, served at ``/openapi.json``.

Built in Python so the limits quoted here are the library's own constants.
The test suite validates this document (openapi-spec-validator) and checks
every API response it receives against it (openapi-core).
"""

from __future__ import annotations

from indexer import MAX_HITS_PER_PAGE, MAX_QUERY_CHARS, MAX_SUGGEST_CHARS

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
        "required": ["id", "title", "date", "source", "url", "_formatted", "_score"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "date": {**NULLABLE_STRING, "description": "ISO 8601 date (and time) of publication."},
            "source": NULLABLE_STRING,
            "url": NULLABLE_STRING,
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
        "required": ["query", "hits", "totalHits", "totalPages", "page", "hitsPerPage",
                     "processingTimeMs", "suggestion"],
        "properties": {
            "query": {"type": "string"},
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            "totalHits": {"type": "integer", "minimum": 0},
            "totalPages": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "hitsPerPage": {"type": "integer", "minimum": 1, "maximum": MAX_HITS_PER_PAGE},
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
            "source": NULLABLE_STRING,
            "url": NULLABLE_STRING,
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
        },
    },
    "ReindexReport": {
        "type": "object",
        "required": ["full", "generation", "filesAdded", "filesUpdated", "filesDeleted", "filesUnchanged",
                     "articlesIndexed", "problems", "seconds"],
        "properties": {
            "full": {"type": "boolean"},
            "generation": {"type": "string"},
            "filesAdded": {"type": "integer"},
            "filesUpdated": {"type": "integer"},
            "filesDeleted": {"type": "integer"},
            "filesUnchanged": {"type": "integer"},
            "articlesIndexed": {"type": "integer"},
            "problems": {"type": "array", "items": {
                "type": "object", "required": ["path", "reason"],
                "properties": {"path": {"type": "string"}, "reason": {"type": "string"}}}},
            "seconds": {"type": "number"},
        },
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

ADMIN_ERRORS = {
    "401": _error("Missing or wrong token."),
    "403": _error("Writing is disabled: no VNSEARCH_ADMIN_TOKEN is configured."),
    "503": _error("The index is busy (another build) or the corpus directory is missing."),
    "default": _error("Any other error, in the same shape."),
}

UNAVAILABLE = {"503": _error("No index has been built yet."),
               "default": _error("Any other error, in the same shape.")}


def spec() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "vnsearch",
            "version": "0.1.0",
            "description": "Vietnamese full-text search. Search results follow Meilisearch's shape; "
                           "highlighted fields are escaped HTML with `<mark>` around matches. "
                           "Every error is `{\"error\": {\"code\", \"message\"}}`.",
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/search": {"get": {
                "operationId": "search",
                "summary": "Ranked, highlighted results (same object as `vnsearch search --json`).",
                "parameters": [PARAMETERS["q"], PARAMETERS["page"], PARAMETERS["hitsPerPage"]],
                "responses": {"200": _json("One page of results.", "SearchResult"),
                              "400": _error("Missing or empty q, q too long, bad page or hitsPerPage."),
                              **UNAVAILABLE},
            }},
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
            "/api/articles": {"post": {
                "operationId": "addArticle",
                "summary": "Add an article: written to the corpus directory, then indexed.",
                "security": [{"adminToken": []}],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/NewArticle"}}}},
                "responses": {
                    "201": _json("Added and searchable.", "Article",
                                 {"Location": {"description": "The article's API address.",
                                               "schema": {"type": "string"}}}),
                    "400": _error("Not valid JSON, or not a valid article."),
                    "409": _error("An article with this id already exists."),
                    "413": _error("The body is too large."),
                    "415": _error("The body is not application/json."),
                    **ADMIN_ERRORS,
                },
            }},
            "/api/reindex": {"post": {
                "operationId": "reindex",
                "summary": "Bring the index up to date with the corpus directory.",
                "security": [{"adminToken": []}],
                "parameters": [{"name": "full", "in": "query", "required": False,
                                "description": "1 for a full rebuild swapped in atomically; "
                                               "default incremental.",
                                "schema": {"type": "string", "enum": ["0", "1", "true", "false"]}}],
                "responses": {"200": _json("What the build did.", "ReindexReport"),
                              "400": _error("A bad full parameter."),
                              "413": _error("The body is too large (the endpoint takes none)."),
                              **ADMIN_ERRORS},
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
                               {"name": "page", "in": "query", "required": False, "schema": {"type": "string"}}],
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
        },
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"adminToken": {
                "type": "http", "scheme": "bearer",
                "description": "The server's VNSEARCH_ADMIN_TOKEN. Without one configured, "
                               "the admin endpoints answer 403."}},
        },
    }
