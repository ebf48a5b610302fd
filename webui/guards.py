"""Hostile requests, refused in one place for every route.

* A JSON body nested deeper than ``MAX_JSON_DEPTH`` (``[`` × 100,000 would
  exhaust the parser's recursion) is a 400 ``invalid_json``, one whose strings
  escape a lone surrogate (``"\\ud800"``) a 400 ``invalid_encoding``: the app's
  JSON provider parses with :func:`loads_bounded`, which :class:`Request.get_json`
  (and anything calling ``current_app.json.loads``) goes through, silent or not.
* A body without a ``Content-Length`` (``Transfer-Encoding: chunked``) longer
  than ``MAX_CONTENT_LENGTH`` is a 413: Werkzeug would cut it at the limit and
  hand the view the truncated bytes, which may still parse.
* A path or query string whose percent-decoded bytes are not UTF-8 (``%FF``,
  ``%ED%A0%80``, a lone surrogate, an overlong form) is a 400 ``invalid_encoding``,
  never searched as replacement characters.
* No ``Location`` header names a host: an absolute one (Werkzeug builds its
  redirects from the request's ``Host``) is made relative to the site root.

The refusals are :class:`Refused` exceptions: :mod:`webui.errors` renders them
in the API's shape (``/api``) or as a page, :mod:`webui.meili` in Meilisearch's.
"""

from __future__ import annotations

import json
import urllib.parse

from flask import Flask, Request as FlaskRequest, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

MAX_JSON_DEPTH = 32     # arrays and objects inside each other; a search or an article needs 3


class Refused(HTTPException):
    """A request refused before any view: ``code`` the status, ``api_code`` the error code,
    ``meili_code`` Meilisearch's code for it, ``description`` the message."""

    def __init__(self, status: int, api_code: str, message: str, meili_code: str | None = None) -> None:
        super().__init__(description=message)
        self.code, self.api_code, self.meili_code = status, api_code, meili_code or api_code


class JsonTooDeep(Refused):
    def __init__(self) -> None:
        super().__init__(400, "invalid_json", f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.",
                         "malformed_payload")


class JsonLoneSurrogate(Refused):
    def __init__(self) -> None:
        super().__init__(400, "invalid_encoding", "The JSON body holds a lone surrogate (\\ud800-\\udfff): "
                         "such a string is not Unicode text.", "malformed_payload")


def json_depth(value) -> int:
    """How deep arrays and objects nest in a parsed JSON value (a scalar: 0), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _is_text(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def holds_lone_surrogate(value) -> bool:
    """Whether any string (or key) in a parsed JSON value holds a lone surrogate, without recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not _is_text(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def loads_bounded(data, **kwargs):
    """``json.loads`` that raises :class:`JsonTooDeep` (not a ValueError: a ``silent``
    ``get_json`` does not swallow it) for values nested deeper than MAX_JSON_DEPTH;
    other malformed JSON raises ValueError as usual."""
    try:
        value = json.loads(data, **kwargs)
    except RecursionError:
        raise JsonTooDeep() from None
    if isinstance(value, (dict, list)) and json_depth(value) > MAX_JSON_DEPTH:
        raise JsonTooDeep()
    escaped = (b"\\ud", b"\\uD") if isinstance(data, (bytes, bytearray)) else ("\\ud", "\\uD")
    if any(e in data for e in escaped) and holds_lone_surrogate(value):
        raise JsonLoneSurrogate()
    return value


class BoundedJSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        return loads_bounded(s, **kwargs)


class Request(FlaskRequest):
    """Flask's request, with a streamed (chunked) body bounded like a declared one."""

    def get_data(self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False):
        limit = self.max_content_length
        if (getattr(self, "_cached_data", None) is None and not parse_form_data and limit is not None
                and self.content_length is None and "wsgi.input_terminated" in self.environ):
            raw = self.environ["wsgi.input"].read(limit + 1)
            if len(raw) > limit:
                raise RequestEntityTooLarge()
            if not cache:
                return raw.decode(errors="replace") if as_text else raw
            self._cached_data = raw
        return super().get_data(cache=cache, as_text=as_text, parse_form_data=parse_form_data)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def url_is_utf8(environ) -> bool:
    """Whether the request's path and query string, percent-decoded, are UTF-8 (WSGI gives both
    as latin-1 strings of the bytes received; the path already percent-decoded)."""
    path = environ.get("PATH_INFO", "").encode("latin-1", "replace")
    query = urllib.parse.unquote_to_bytes(environ.get("QUERY_STRING", "").encode("latin-1", "replace"))
    return _is_utf8(path) and _is_utf8(query)


def relative_location(location: str) -> str:
    """``location`` without its scheme and host (``http://evil.example/a?b`` -> ``/a?b``)."""
    parts = urllib.parse.urlsplit(location)
    if not parts.scheme and not parts.netloc:
        return location
    return urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))


def init_app(app: Flask) -> None:
    app.request_class = Request
    provider = BoundedJSONProvider(app)
    provider.ensure_ascii, provider.sort_keys = app.json.ensure_ascii, app.json.sort_keys
    app.json = provider
    app.response_class.autocorrect_location_header = False
    app.url_map.merge_slashes = False      # `//x` is the path it says, never a redirect elsewhere

    @app.before_request
    def refuse_invalid_encoding():
        if not url_is_utf8(request.environ):
            raise Refused(400, "invalid_encoding", "The path or query string is not valid percent-encoded UTF-8.",
                          "bad_request")

    @app.after_request
    def relative_locations(response):
        if "Location" in response.headers:
            response.headers["Location"] = relative_location(response.headers["Location"])
        return response
