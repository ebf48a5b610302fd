"""Who may read, from where, and what may be cached: ``/health``, the search token, CORS, ``no-store``.

* ``GET /health`` is liveness: ``{"status": "available"}`` (Meilisearch's answer, so
  its clients' ``health()`` works) without opening the index; never guarded.
* ``SEARCH_TOKEN`` (``VNSEARCH_SEARCH_TOKEN``), when set, makes the server private:
  every route except ``/health``, ``/openapi.json`` and ``/static/`` needs the search
  token or the admin token, sent as ``Authorization: Bearer <token>`` (the JSON API,
  Meilisearch's routes and their clients) or as the password of HTTP Basic
  authentication (any user name: what a browser sends after its login prompt, so the
  pages and their own ``/api/suggest`` calls work). Missing or wrong: 401 in the
  API's shape (``/api``), in Meilisearch's (``missing_authorization_header`` 401,
  ``invalid_api_key`` 403) under its routes, a page with a Basic challenge elsewhere.
  The admin endpoints still need the admin token itself (:mod:`webui.api`).
* ``CORS_ORIGINS`` (``VNSEARCH_CORS_ORIGINS``, comma-separated origins such as
  ``https://tin.example.vn``, or ``*``; none by default) are the other sites whose
  pages may call the API: their requests get ``Access-Control-Allow-Origin`` and a
  preflight ``OPTIONS`` is answered 204 with the methods and headers allowed, before
  any token check (a browser sends none with it). No credentials are ever allowed
  (``Access-Control-Allow-Credentials`` is never sent): tokens travel in the
  ``Authorization`` header, which the allowed origins may send.
* ``Cache-Control: no-store`` on every answer to a request carrying ``Authorization``,
  every 401/403, and every guarded answer while the search token is set.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re

from flask import Flask, current_app, jsonify, request

from webui.errors import error_page, error_response, wants_json

PUBLIC_ENDPOINTS = frozenset({"health", "openapi", "static"})
CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-Meilisearch-Client"
CORS_EXPOSE_HEADERS = "Location, Retry-After, WWW-Authenticate"
CORS_MAX_AGE = "600"
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")
_MEILI_PREFIXES = ("/indexes", "/tasks", "/multi-search", "/keys", "/version", "/stats")


def parse_origins(raw) -> tuple[str, ...]:
    """``VNSEARCH_CORS_ORIGINS`` (a comma-separated string, or a list) as a tuple of origins;
    ValueError for anything that is not ``*`` or ``scheme://host[:port]``."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or ())
    origins = tuple(item.strip().rstrip("/") for item in items if item.strip())
    for origin in origins:
        if origin != "*" and not _ORIGIN.fullmatch(origin):
            raise ValueError(f"CORS_ORIGINS: {origin!r} is not an origin such as https://tin.example.vn (or *)")
    return origins


def presented_token() -> str | None:
    """The token of the request's ``Authorization`` header: Bearer's, or Basic's password."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def token_matches(given: str | None, *tokens: str | None) -> bool:
    """Whether ``given`` is one of ``tokens`` (constant-time comparisons; None never matches)."""
    if not given:
        return False
    found = False
    for token in tokens:
        if token:
            found |= hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))
    return found


def _is_meili() -> bool:
    return request.blueprint == "meili" or request.path.startswith(_MEILI_PREFIXES)


def _refuse(wrong: bool):
    if _is_meili():
        from webui.meili import meili_response

        if wrong:
            return meili_response(403, "invalid_api_key", "The provided API key is invalid.", "auth")
        return meili_response(401, "missing_authorization_header",
                              "The Authorization header is missing. It must use the bearer authorization method.",
                              "auth")
    if wants_json():
        message = ("The token is wrong." if wrong
                   else "This server is private: send `Authorization: Bearer <search token>`.")
        challenge = 'Bearer realm="vnsearch"' + (', error="invalid_token"' if wrong else "")
        return error_response(401, "unauthorized", message, {"WWW-Authenticate": challenge})
    body, status = error_page(401, "Cần đăng nhập", "Trang tìm kiếm này cần mật khẩu (khóa tìm kiếm).")
    return body, status, {"WWW-Authenticate": 'Basic realm="vnsearch", charset="UTF-8"'}


def _allowed_origin() -> str | None:
    """The value of Access-Control-Allow-Origin for this request, or None."""
    origin = request.headers.get("Origin")
    origins = current_app.config["CORS_ORIGINS"]
    if not origin or not origins:
        return None
    if "*" in origins:
        return "*"
    return origin if origin.rstrip("/") in origins else None


def init_app(app: Flask) -> None:
    app.config["CORS_ORIGINS"] = parse_origins(app.config.get("CORS_ORIGINS"))
    app.config["SEARCH_TOKEN"] = app.config.get("SEARCH_TOKEN") or None

    @app.get("/health", endpoint="health")
    def health():
        return jsonify({"status": "available"})

    @app.before_request
    def cors_preflight():
        if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
            return None
        response = current_app.make_response(("", 204))
        allowed = _allowed_origin()
        if allowed:
            methods = sorted(request.url_rule.methods) if request.url_rule is not None else ["GET", "POST"]
            response.headers["Access-Control-Allow-Methods"] = ", ".join(methods)
            response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
            response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
        return response

    @app.before_request
    def require_search_token():
        token = current_app.config["SEARCH_TOKEN"]
        if token is None or request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
            return None
        given = presented_token()
        if token_matches(given, token, current_app.config.get("ADMIN_TOKEN")):
            return None
        return _refuse(wrong=given is not None)

    @app.after_request
    def cors_and_caching(response):
        allowed = _allowed_origin()
        if allowed:
            response.headers["Access-Control-Allow-Origin"] = allowed
            response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
        if current_app.config["CORS_ORIGINS"] and allowed != "*":
            response.vary.add("Origin")
        guarded = current_app.config["SEARCH_TOKEN"] is not None and request.endpoint not in PUBLIC_ENDPOINTS
        if "Authorization" in request.headers or response.status_code in (401, 403) or guarded:
            response.headers["Cache-Control"] = "no-store"
        return response
