"""Errors: one JSON shape for the API, Vietnamese pages for people.

Every API error is ``{"error": {"code": "...", "message": "..."}}`` with a
fitting HTTP status; anything under ``/api/`` (and ``/openapi.json``) answers
in that shape, including routing errors (404, 405), oversized bodies (413) and
unexpected failures (500). Other paths get an HTML page.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from indexer import IndexFormatError, IndexNotFound
from webui.guards import Refused

# HTTP status -> (API code, API message, Vietnamese page title, Vietnamese page text)
_HTTP = {
    400: ("bad_request", "The request could not be understood.",
          "Yêu cầu không hợp lệ", "Yêu cầu không hợp lệ."),
    404: ("not_found", "There is nothing at this address.",
          "Không tìm thấy trang", "Không có trang nào ở địa chỉ này."),
    405: ("method_not_allowed", "This method is not allowed here.",
          "Phương thức không được hỗ trợ", "Phương thức này không được hỗ trợ ở địa chỉ này."),
    413: ("payload_too_large", "The request body is too large.",
          "Dữ liệu quá lớn", "Dữ liệu gửi lên quá lớn."),
    415: ("unsupported_media_type", "Unsupported media type.",
          "Kiểu dữ liệu không được hỗ trợ", "Kiểu dữ liệu không được hỗ trợ."),
    500: ("internal_error", "An unexpected error occurred.",
          "Lỗi máy chủ", "Đã có lỗi bất ngờ. Vui lòng thử lại sau."),
}


class ApiError(Exception):
    """Raised by API views; rendered as the JSON error shape."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def wants_json() -> bool:
    path = request.path
    return path.startswith("/api/") or path == "/api" or path == "/openapi.json"


def error_page(status: int, title: str, message: str):
    return render_template("error.html", title=title, message=message, status=status), status


def _http_error(e: HTTPException):
    status = e.code or 500
    code, message, title, text = _HTTP.get(status, (None, None, None, None))
    if isinstance(e, Refused):              # a hostile request (webui.guards): its own code and message
        code, message = e.api_code, e.description
    if wants_json():
        if code is None:
            code = (e.name or "error").lower().replace(" ", "_")
            message = e.description or e.name
        headers = {}
        if status == 405 and getattr(e, "valid_methods", None):
            headers["Allow"] = ", ".join(e.valid_methods)
        return error_response(status, code, message, headers)
    response = error_page(status, title or e.name, text or e.description)
    if status == 405 and getattr(e, "valid_methods", None):
        return (*response, {"Allow": ", ".join(e.valid_methods)})
    return response


def _index_missing(e: IndexNotFound):
    current_app.logger.warning("%s", e)
    if isinstance(e, IndexFormatError):
        if wants_json():
            return error_response(503, "index_format", str(e), {"Retry-After": "30"})
        return error_page(503, "Cần xây dựng lại chỉ mục",
                          "Chỉ mục được tạo bởi một phiên bản vnsearch khác. "
                          "Hãy chạy lệnh “vnsearch index --full” rồi thử lại.")
    if wants_json():
        return error_response(503, "index_not_found",
                              "No index has been built yet: run `vnsearch index` (or POST /api/reindex).",
                              {"Retry-After": "30"})
    return error_page(503, "Chưa có chỉ mục",
                      "Chỉ mục tìm kiếm chưa được xây dựng. Hãy chạy lệnh “vnsearch index” rồi thử lại.")


def _internal(e: InternalServerError):
    original = getattr(e, "original_exception", None)
    if original is not None:
        current_app.logger.error("unhandled error on %s", request.path, exc_info=original)
    return _http_error(e)


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, lambda e: error_response(e.status, e.code, e.message, e.headers))
    app.register_error_handler(IndexNotFound, _index_missing)
    app.register_error_handler(InternalServerError, _internal)
    app.register_error_handler(HTTPException, _http_error)
