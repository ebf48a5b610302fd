"""vnsearch's web front end: server-rendered pages and a JSON API over the library.

``create_app(test_config=None)`` (flaskr style). Configuration, later wins:

1. defaults (below; the index and corpus default to ``indexer.config``);
2. the instance folder's ``config.py``, if there is one;
3. the environment: ``VNSEARCH_INDEX_DIR``, ``VNSEARCH_CORPUS_DIR``,
   ``VNSEARCH_ADMIN_TOKEN``, ``VNSEARCH_HITS_PER_PAGE``,
   ``VNSEARCH_MAX_CONTENT_LENGTH``, ``VNSEARCH_SEARCH_TOKEN``, ``VNSEARCH_CORS_ORIGINS``;
4. the ``test_config`` mapping.

The views hold no search logic: they validate input and call the engine
(:mod:`webui.searcher` keeps one per process, refreshed before each request).
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from indexer import MAX_HITS_PER_PAGE
from indexer import config as core_config

DEFAULTS = {
    "INDEX_DIR": None,          # None: indexer.config.index_dir() (var/index)
    "CORPUS_DIR": None,         # None: indexer.config.corpus_dir() (corpus)
    "ADMIN_TOKEN": None,        # None or "": POST /api/articles and /api/reindex are disabled
    "HITS_PER_PAGE": 10,        # results per page on the HTML pages, and the API's default
    "SUGGEST_LIMIT": 8,         # completions returned by /api/suggest by default
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,   # request bodies above this get 413
    "TASK_WAIT_MAX": 60.0,                   # the largest ?wait=SECONDS on writes and tasks
    # serving (webui.access): None: reading is open to all; "": no other site may call the API
    "SEARCH_TOKEN": None,
    "CORS_ORIGINS": "",
}

# environment variable -> (config key, parser)
ENVIRONMENT = {
    "VNSEARCH_INDEX_DIR": ("INDEX_DIR", str),
    "VNSEARCH_CORPUS_DIR": ("CORPUS_DIR", str),
    "VNSEARCH_ADMIN_TOKEN": ("ADMIN_TOKEN", str),
    "VNSEARCH_HITS_PER_PAGE": ("HITS_PER_PAGE", int),
    "VNSEARCH_MAX_CONTENT_LENGTH": ("MAX_CONTENT_LENGTH", int),
    "VNSEARCH_SEARCH_TOKEN": ("SEARCH_TOKEN", str),
    "VNSEARCH_CORS_ORIGINS": ("CORS_ORIGINS", str),
}

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def _from_environment(environ=os.environ) -> dict:
    out = {}
    for var, (key, parse) in ENVIRONMENT.items():
        raw = environ.get(var)
        if raw is None or raw == "":
            continue
        try:
            out[key] = parse(raw)
        except ValueError:
            raise ValueError(f"{var}={raw!r} is not a valid {parse.__name__}") from None
    return out


def _finish_config(app: Flask) -> None:
    cfg = app.config
    cfg["INDEX_DIR"] = Path(cfg["INDEX_DIR"] or core_config.index_dir()).absolute()
    cfg["CORPUS_DIR"] = Path(cfg["CORPUS_DIR"] or core_config.corpus_dir()).absolute()
    cfg["ADMIN_TOKEN"] = cfg["ADMIN_TOKEN"] or None
    per_page = cfg["HITS_PER_PAGE"]
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= MAX_HITS_PER_PAGE:
        raise ValueError(f"HITS_PER_PAGE must be an integer from 1 to {MAX_HITS_PER_PAGE}, not {per_page!r}")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_mapping(_from_environment())
    if test_config is not None:
        app.config.from_mapping(test_config)
    _finish_config(app)

    from webui import guards
    guards.init_app(app)     # before any route: the URL map's options apply to rules as they are added
    app.json.ensure_ascii = False      # Vietnamese stays readable in the JSON
    app.json.sort_keys = False         # keep the engine's key order (Meilisearch-like)

    from webui import access, api, errors, meili, pages, searcher, writes
    searcher.init_app(app)
    errors.init_app(app)
    access.init_app(app)     # /health, the search token, CORS, no-store (before the other hooks)
    writes.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(writes.bp)
    app.register_blueprint(meili.bp)

    from webui.openapi import spec

    @app.get("/openapi.json", endpoint="openapi")
    def openapi_document():
        return spec()

    @app.before_request
    def refuse_oversized_bodies():
        # Werkzeug enforces MAX_CONTENT_LENGTH only when a view reads the body;
        # refuse a declared oversized body on every route, read or not.
        limit = app.config.get("MAX_CONTENT_LENGTH")
        if limit is not None and (request.content_length or 0) > limit:
            raise RequestEntityTooLarge()

    @app.after_request
    def security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
