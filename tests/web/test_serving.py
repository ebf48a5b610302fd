"""`vnsearch serve` itself (gunicorn and its worker, webui/workers.py): slow and idle clients never
stall the others, and what gunicorn refuses is answered in the API's shape with the security headers.

One server with ONE worker: a worker that an idle connection could hold (gunicorn's sync worker)
would make the searches below wait for its 120 s timeout and fail on theirs. Nothing here is
timed: the long, measured variant is `python bench/reliability.py --only slow`.
"""

from __future__ import annotations

import json
import socket
import urllib.parse

import pytest

from tests.support import load_bench

reliability = load_bench("reliability")
SEARCH_TIMEOUT = 30          # seconds: far below a held worker's 120 s, far above any search here


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from indexer import build

    root = tmp_path_factory.mktemp("serving")
    build(root / "index", [reliability.REPO / "corpus"], full=True, progress=False)
    with reliability.Server(root / "index", reliability.REPO / "corpus", root / "server.log", workers=1) as srv:
        yield srv


def _search_ok(server, q: str) -> dict:
    status, _headers, body = reliability.http(
        "GET", f"{server.url}/api/search?" + urllib.parse.urlencode({"q": q}), timeout=SEARCH_TIMEOUT)
    assert status == 200, body[:300]
    return json.loads(body)


def _raw(server, data: bytes) -> tuple[int, dict, bytes]:
    """Send ``data`` as is and read the reply until the server closes: (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=SEARCH_TIMEOUT) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass                         # refused before the whole request was read: the reply is there
        reply = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


@pytest.mark.parametrize("q", ["hà nội", "dang uy khoi", "cán bộ"])
def test_a_search_completes_while_connections_are_idle_or_send_headers_slowly(server, q):
    idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(8)]
    slow = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(8)]
    try:
        for s in slow:                     # a request whose headers never end
            s.sendall(b"GET /api/search?q=ha+noi HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
        found = _search_ok(server, q)
        assert found["query"] == q and found["totalHits"] > 0
        for s in slow:                     # and again on the same connections: they are still served
            s.sendall(b"b")
        assert _search_ok(server, q)["totalHits"] == found["totalHits"]
    finally:
        for s in idle + slow:
            s.close()


def test_the_server_closes_a_connection_that_never_sends_its_headers(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=SEARCH_TIMEOUT) as s:
        s.sendall(b"GET /api/search?q=ha+noi HTTP/1.1\r\nHost: 127.0.0.1\r\n")   # no blank line, ever
        assert s.recv(65536) == b""        # closed by the server's header timeout (not a TimeoutError)


def _assert_json_error(status, headers, body, want_status: int, want_code: str) -> None:
    from webui import SECURITY_HEADERS

    assert status == want_status, body[:300]
    assert headers["content-type"].startswith("application/json")
    assert json.loads(body) == {"error": {"code": want_code, "message": json.loads(body)["error"]["message"]}}
    for name, value in SECURITY_HEADERS.items():
        assert headers[name.lower()] == value, name


@pytest.mark.parametrize("path", ["/api/search?q=", "/?q=", "/articles/x?q="])
def test_an_overlong_url_is_414_in_the_json_shape_with_the_security_headers(server, path):
    target = path + urllib.parse.quote_plus("hà nội " * 20_000)            # about 260 KB
    status, headers, body = _raw(server, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    _assert_json_error(status, headers, body, 414, "uri_too_long")


@pytest.mark.parametrize("header", ["X-Big: " + "a" * 10_000, "Cookie: " + "b=" + "c" * 10_000])
def test_an_overlong_header_is_431_in_the_json_shape(server, header):
    request = f"GET /api/search?q=ha+noi HTTP/1.1\r\nHost: 127.0.0.1\r\n{header}\r\n\r\n".encode()
    status, headers, body = _raw(server, request)
    _assert_json_error(status, headers, body, 431, "headers_too_large")


def test_too_many_headers_is_431(server):
    many = "".join(f"X-H{i}: {i}\r\n" for i in range(200))
    status, headers, body = _raw(server, f"GET /api/search?q=a HTTP/1.1\r\nHost: x\r\n{many}\r\n".encode())
    _assert_json_error(status, headers, body, 431, "headers_too_large")


def test_a_malformed_request_line_is_400_in_the_json_shape(server):
    status, headers, body = _raw(server, b"GET /api/search?q=a HTTP/9.9x\r\nHost: x\r\n\r\n")
    _assert_json_error(status, headers, body, 400, "bad_request")


def test_a_chunked_body_over_the_limit_is_413(server):
    chunk = b"[" + b"1," * 500_000                       # 1 MB a chunk, 5 MB in all (the limit is 4 MiB)
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(5)) + b"0\r\n\r\n"
    request = (b"POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body)
    status, headers, reply = _raw(server, request)
    _assert_json_error(status, headers, reply, 413, "payload_too_large")


def test_a_small_chunked_body_is_read(server):
    payload = json.dumps({"q": "hà nội", "hitsPerPage": 1}).encode()
    request = (b"POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               + b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload))
    status, _headers, reply = _raw(server, request)
    assert status == 200 and json.loads(reply)["query"] == "hà nội"


@pytest.mark.parametrize("exc,status,code", [
    ("LimitRequestLine(16384, 8190)", 414, "uri_too_long"),
    ("LimitRequestHeaders('limit request headers fields size')", 431, "headers_too_large"),
    ("InvalidRequestLine('GET')", 400, "bad_request"),
    ("InvalidHeaderName('X Y')", 400, "bad_request"),
    ("InvalidResponseHeader('X\\r\\n')", 500, "internal_error"),
    ("ValueError('boom')", 500, "internal_error"),
])
def test_each_refusal_of_gunicorn_maps_to_a_status_and_code(exc, status, code):
    from gunicorn.http import errors as http_errors

    from webui.workers import error_bytes, refusal

    found = refusal(eval(exc, {**vars(http_errors), "ValueError": ValueError}))
    assert found[0] == status and found[2] == code
    raw = error_bytes(*found)
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()) and b"Connection: close" in head
    assert json.loads(body)["error"]["code"] == code
    assert f"Content-Length: {len(body)}".encode() in head


@pytest.mark.parametrize("target", ["/api/articles/%ED%A0%80", "/api/articles/a%FFb", "/api/search?q=%ED%A0%80",
                                    "/api/search?q=ha%C3"])
def test_invalid_utf8_through_gunicorn_is_400_invalid_encoding(server, target):
    status, headers, body = _raw(server, f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    _assert_json_error(status, headers, body, 400, "invalid_encoding")


def test_a_raw_non_ascii_byte_in_the_request_line_is_refused_by_gunicorn_in_the_json_shape(server):
    status, headers, body = _raw(server, b"GET /api/articles/\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    _assert_json_error(status, headers, body, 400, "bad_request")


def test_a_redirect_never_follows_the_host_header(server):
    status, headers, _body = _raw(server, b"GET /api/articles//000_4120920cae5b93dc HTTP/1.1\r\n"
                                          b"Host: evil.example\r\nConnection: close\r\n\r\n")
    assert status == 404 and "location" not in headers
