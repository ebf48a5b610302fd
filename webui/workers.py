"""vnsearch's gunicorn worker: gevent, with timeouts, answering malformed requests in the API's shape.

Why gevent and not ``gthread``: gunicorn's threaded worker hands a connection to
a thread as soon as its first byte arrives, and that thread then reads the
request's headers with a blocking socket and no deadline, so a client sending
its headers one byte a second holds a thread for as long as it likes (an idle
connection holds one for 5 s before going back to the poller). With N threads,
N such clients stall the site. A gevent worker gives each connection a
greenlet: an idle or slow client costs a few kilobytes, never a worker.

Timeouts (so that nothing holds a connection slot forever):

* the whole header block of each request, the first one included, must arrive
  within ``keepalive`` seconds (gunicorn's async worker reads it under
  ``gevent.Timeout(keepalive)``), else the connection is closed;
* every read or write on the socket (a body arriving, a reply being taken)
  waits at most ``SOCKET_TIMEOUT`` seconds.

Requests gunicorn refuses before the app sees them (a request line over
``limit_request_line``: 414; a header over ``limit_request_field_size`` or too
many: 431; any other malformed request: 400) are answered here in the API's
error shape ``{"error": {"code", "message"}}`` with the security headers,
instead of gunicorn's English HTML page.
"""

from __future__ import annotations

import json

from gunicorn.http import errors as http_errors
from gunicorn.workers.ggevent import GeventWorker

SOCKET_TIMEOUT = 30.0   # seconds a single read or write on a client socket may wait

_INTERNAL = (500, "Internal Server Error", "internal_error", "An unexpected error occurred.")

# gunicorn's exception(s) -> (status, reason, code, message)
_REFUSED = [
    # the application's own faults first: a bad header it tried to send
    ((http_errors.InvalidResponseHeader, http_errors.InvalidResponseHeaderName, http_errors.ConfigurationProblem),
     *_INTERNAL),
    (http_errors.ForbiddenProxyRequest, 403, "Forbidden", "forbidden", "Request forbidden."),
    (http_errors.LimitRequestLine, 414, "URI Too Long", "uri_too_long",
     "The request line (method, path and query) is too long."),
    (http_errors.LimitRequestHeaders, 431, "Request Header Fields Too Large", "headers_too_large",
     "A request header is too large, or there are too many."),
    (http_errors.UnsupportedTransferCoding, 501, "Not Implemented", "unsupported_transfer_coding",
     "This transfer coding is not supported."),
    (http_errors.ExpectationFailed, 417, "Expectation Failed", "expectation_failed",
     "This expectation is not supported."),
    (http_errors.ParseException, 400, "Bad Request", "bad_request",
     "The request could not be understood."),
]


def refusal(exc: BaseException) -> tuple[int, str, str, str]:
    """(status, reason, code, message) of the answer to a request gunicorn could not read."""
    for kind, status, reason, code, message in _REFUSED:
        if isinstance(exc, kind):
            return status, reason, code, message
    return _INTERNAL


def error_bytes(status: int, reason: str, code: str, message: str) -> bytes:
    """A complete HTTP/1.1 response: the JSON error shape, the security headers, ``Connection: close``."""
    from webui import SECURITY_HEADERS

    body = json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":")).encode("utf-8")
    head = [f"HTTP/1.1 {status} {reason}", "Connection: close", "Content-Type: application/json",
            f"Content-Length: {len(body)}", "Cache-Control: no-store",
            *(f"{name}: {value}" for name, value in SECURITY_HEADERS.items())]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class JsonErrorsMixin:
    """Answers what gunicorn refuses (base.Worker.handle_error) in the API's shape."""

    def handle_error(self, req, client, addr, exc):
        status, reason, code, message = refusal(exc)
        ip = (addr or ("",))[0]
        if status == 500:
            self.log.exception("Error handling request (ip=%s)", ip)
        else:
            self.log.warning("Invalid request from ip=%s: %s %s", ip, status, exc)
        try:
            client.sendall(error_bytes(status, reason, code, message))
        except Exception:
            self.log.debug("Failed to send error message.")


class VnsearchWorker(JsonErrorsMixin, GeventWorker):
    """gunicorn's gevent worker with socket timeouts and JSON error answers."""

    def handle(self, listener, client, addr):
        client.settimeout(SOCKET_TIMEOUT)
        # GeventWorker.handle puts the socket back in blocking mode: skip it, call AsyncWorker's.
        super(GeventWorker, self).handle(listener, client, addr)
