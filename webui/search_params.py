"""The search parameters of an HTTP request, read as Meilisearch reads them.

``GET`` takes query parameters: lists (``sort``, ``facets``,
``attributesToRetrieve``, ``attributesToHighlight``) comma-separated or
repeated, a repeated ``filter`` as the array form (AND). ``POST`` takes a JSON
object of the same names, with JSON types. Both give the keyword arguments of
:meth:`indexer.SearchEngine.search`; an unknown name or a value of the wrong
type is a :class:`ParameterError` (the caller renders it in its error shape).
"""

from __future__ import annotations

import re

from flask import Request

# HTTP name -> (engine keyword, kind)
PARAMETERS = {
    "q": ("q", "string"),
    "page": ("page", "integer"),
    "hitsPerPage": ("hits_per_page", "integer"),
    "offset": ("offset", "integer"),
    "limit": ("limit", "integer"),
    "filter": ("filter", "filter"),
    "sort": ("sort", "list"),
    "facets": ("facets", "list"),
    "attributesToRetrieve": ("attributes_to_retrieve", "list"),
    "attributesToHighlight": ("attributes_to_highlight", "list"),
    "highlightPreTag": ("highlight_pre_tag", "string"),
    "highlightPostTag": ("highlight_post_tag", "string"),
    "cropLength": ("crop_length", "integer"),
    "matchingStrategy": ("matching_strategy", "string"),
}
#: The error code of a badly typed parameter (Meilisearch's names).
CODES = {"q": "invalid_search_q", "page": "invalid_page", "hitsPerPage": "invalid_hits_per_page",
         **{name: "invalid_search_" + "".join("_" + c.lower() if c.isupper() else c for c in name)
            for name in PARAMETERS if name not in ("q", "page", "hitsPerPage")}}


class ParameterError(ValueError):
    def __init__(self, code: str, message: str, name: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.name = code, message, name


def _unknown(names, allowed) -> None:
    for name in names:
        if name not in allowed:
            raise ParameterError("unknown_parameter", f"Unknown parameter `{name}`: expected one of "
                                 + ", ".join(f"`{n}`" for n in allowed) + ".", name)


def _integer_text(name: str, raw: str) -> int:
    raw = raw.strip()
    if not re.fullmatch(r"-?[0-9]{1,18}", raw):
        raise ParameterError(CODES[name], f"{name} must be an integer.", name)
    return int(raw)


def from_query_string(request: Request, allowed=PARAMETERS) -> dict:
    """Search keywords from a GET request's query parameters."""
    args = request.args
    _unknown(args.keys(), allowed)
    out: dict = {}
    for name in args.keys():
        if name not in PARAMETERS:
            continue                  # allowed by the caller, and not the engine's
        keyword, kind = PARAMETERS[name]
        values = args.getlist(name)
        if kind == "integer":
            out[keyword] = _integer_text(name, values[-1])
        elif kind == "list":
            out[keyword] = [part.strip() for v in values for part in v.split(",") if part.strip()]
        elif kind == "filter":
            filters = [v for v in values if v.strip()]
            out[keyword] = filters[0] if len(filters) == 1 else (filters or None)
        else:
            out[keyword] = values[-1]
    return out


def from_json(body, allowed=PARAMETERS) -> dict:
    """Search keywords from a POST request's JSON object."""
    if not isinstance(body, dict):
        raise ParameterError("bad_request", "The body must be a JSON object of search parameters.")
    _unknown(body.keys(), allowed)
    out: dict = {}
    for name, value in body.items():
        keyword, kind = PARAMETERS[name]
        if value is None:
            continue
        if kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
            raise ParameterError(CODES[name], f"{name} must be an integer.", name)
        if kind == "string" and not isinstance(value, str):
            raise ParameterError(CODES[name], f"{name} must be a string.", name)
        if kind == "list" and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
            raise ParameterError(CODES[name], f"{name} must be an array of strings.", name)
        out[keyword] = value
    return out
