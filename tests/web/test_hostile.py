"""Hostile requests refused in one place (webui/guards.py), on every route that could be hit.

The refusals gunicorn itself makes (request line, header sizes) and chunked bodies through a
real server are in test_serving.py; here the app, through Flask's test client, each response
checked against the OpenAPI document where the route is an API route.
"""

from __future__ import annotations

import io
import json

import pytest

from tests.web.test_api import AUTH, TOKEN, ValidatingClient, assert_error
from webui import SECURITY_HEADERS
from webui.guards import MAX_JSON_DEPTH, json_depth, loads_bounded, relative_location

DEEP = "[" * 100_000
ARTICLE = {"id": "bai-moi", "title": "Hợp tác xã Quỳnh Lưu", "text": "Hợp tác xã nông nghiệp ở Quỳnh Lưu."}


@pytest.fixture
def api(client):
    return ValidatingClient(client)


@pytest.fixture
def admin(make_app):
    return ValidatingClient(make_app(ADMIN_TOKEN=TOKEN).test_client())


def _meili_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["code"] == code and body["message"] and body["type"] == "invalid_request"


# -- JSON depth -----------------------------------------------------------------------------
@pytest.mark.parametrize("body", [
    DEEP,                                                    # unterminated: would be RecursionError
    "[" * 5_000 + "]" * 5_000,                               # well-formed, far too deep
    '{"q": "hà nội", "filter": ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + "}",
])
def test_a_json_body_nested_too_deep_is_400_on_the_search_api(api, body):
    response = api.post("/api/search", data=body, content_type="application/json")
    assert_error(response, 400, "invalid_json")
    assert str(MAX_JSON_DEPTH) in response.get_json()["error"]["message"]


@pytest.mark.parametrize("body", [DEEP, "{\"a\": " * 3_000 + "1" + "}" * 3_000])
def test_a_json_body_nested_too_deep_is_400_on_meilisearchs_route(client, body):
    _meili_error(client.post("/indexes/articles/search", data=body, content_type="application/json"),
                 400, "malformed_payload")


def test_a_json_body_nested_too_deep_is_400_on_the_write_api(admin):
    response = admin.post("/api/articles", data=DEEP, content_type="application/json", headers=AUTH)
    assert_error(response, 400, "invalid_json")


def test_json_nested_to_the_limit_is_read(api):
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    body = '{"q": "hà nội", "attributesToRetrieve": ["id"], "sort": []}'
    assert api.post("/api/search", data=body, content_type="application/json").status_code == 200
    assert json_depth(loads_bounded(nested)) == MAX_JSON_DEPTH - 1
    assert json_depth(loads_bounded('{"a": [{"b": [1]}], "c": 2}')) == 4
    assert json_depth(loads_bounded('"chuỗi"')) == 0


@pytest.mark.parametrize("body", ['{"q": "h\\ud800a n\\udfffi"}', '{"q": "hà nội", "sort": ["\\udcff"]}',
                                  '{"\\ud83d": "x"}', '{"q": "\\uDE00"}'])
def test_a_json_string_escaping_a_lone_surrogate_is_400_invalid_encoding(api, client, body):
    # it used to be searched, then failed as a 500 when the query was echoed back as UTF-8
    assert_error(api.post("/api/search", data=body, content_type="application/json"), 400, "invalid_encoding")
    _meili_error(client.post("/indexes/articles/search", data=body, content_type="application/json"),
                 400, "malformed_payload")


def test_a_lone_surrogate_in_an_added_article_is_400(admin):
    body = '{"id": "bai-moi", "text": "Nội dung \\ud800 lạ."}'
    response = admin.post("/api/articles", data=body, content_type="application/json", headers=AUTH)
    assert_error(response, 400, "invalid_encoding")


def test_a_surrogate_pair_is_text(api):
    response = api.post("/api/search", data='{"q": "Việt Nam \\ud83c\\uddfb\\ud83c\\uddf3"}',
                        content_type="application/json")
    assert response.status_code == 200 and response.get_json()["query"] == "Việt Nam 🇻🇳"


# -- chunked bodies ---------------------------------------------------------------------------
def _chunked(client, path: str, raw: bytes, headers: dict | None = None):
    # What gunicorn hands the app for `Transfer-Encoding: chunked`: no Content-Length, a
    # terminated stream (the test client would otherwise give an empty one).
    return client.post(path, input_stream=io.BytesIO(raw), content_type="application/json",
                       headers={"Transfer-Encoding": "chunked", **(headers or {})},
                       environ_overrides={"wsgi.input_terminated": True})


@pytest.mark.parametrize("path", ["/api/search", "/api/articles"])
def test_a_chunked_body_over_the_limit_is_413_not_its_truncated_start(make_app, path):
    app = make_app(ADMIN_TOKEN=TOKEN, MAX_CONTENT_LENGTH=64 * 1024)
    # valid JSON up to far past the limit: cut at the limit it would be invalid, or worse, valid
    raw = json.dumps({**ARTICLE, "q": "hà nội", "text": "Hợp tác xã. " * 20_000}).encode()
    assert_error(_chunked(app.test_client(), path, raw, AUTH), 413, "payload_too_large")


def test_a_chunked_body_over_the_limit_is_413_on_meilisearchs_route(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)
    _meili_error(_chunked(app.test_client(), "/indexes/articles/search", b'{"q": "a"}' + b" " * 5000),
                 413, "payload_too_large")


def test_a_chunked_body_within_the_limit_is_read(api):
    response = _chunked(api.client, "/api/search", json.dumps({"q": "hà nội", "hitsPerPage": 1}).encode())
    assert response.status_code == 200 and response.get_json()["query"] == "hà nội"


# -- encodings ----------------------------------------------------------------------------------
BAD_QUERIES = ["%ED%A0%80", "%ED%BF%BF", "%FF", "ha%C3", "%C0%AF", "h%E0%80%80", "%F4%90%80%80"]


@pytest.mark.parametrize("raw", BAD_QUERIES)
@pytest.mark.parametrize("path", ["/api/search?q=", "/api/suggest?q=", "/api/search?q=ha&filter="])
def test_invalid_utf8_in_the_query_string_is_400_invalid_encoding(api, path, raw):
    assert_error(api.get(path + raw), 400, "invalid_encoding")


@pytest.mark.parametrize("raw", BAD_QUERIES[:3])
def test_invalid_utf8_in_a_parameter_name_is_400_too(api, raw):
    assert_error(api.get(f"/api/search?q=a&{raw}=1"), 400, "invalid_encoding")


@pytest.mark.parametrize("raw", BAD_QUERIES[:3])
def test_invalid_utf8_on_meilisearchs_route_and_the_pages(client, raw):
    _meili_error(client.get("/indexes/articles/search?q=" + raw), 400, "bad_request")
    page = client.get("/?q=" + raw)
    assert page.status_code == 400 and page.mimetype == "text/html"


@pytest.mark.parametrize("path", ["/api/articles/\xed\xa0\x80", "/api/articles/\xff", "/articles/a\xc0\xaf"])
def test_invalid_utf8_in_the_path_is_400_invalid_encoding(client, path):
    # PATH_INFO as gunicorn gives it: percent-decoded bytes as a latin-1 string
    response = client.get("/", environ_overrides={"PATH_INFO": path})
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert_error(response, 400, "invalid_encoding")


@pytest.mark.parametrize("q", ["hà nội", "Đảng ủy", "𝐇à", "ｈａ ｎｏｉ"])
def test_valid_utf8_is_searched(api, q):
    from urllib.parse import quote

    response = api.get("/api/search?q=" + quote(q))
    assert response.status_code == 200 and response.get_json()["query"] == q


# -- Location and redirects ----------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/articles//bai", "/api//search?q=a", "//api/search?q=a", "/articles//bai"])
def test_no_path_redirects_to_another_host_or_id(client, path):
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 404 and "Location" not in response.headers


def test_the_location_of_an_added_article_is_relative(admin):
    response = admin.post("/api/articles", json=ARTICLE, headers={**AUTH, "Host": "evil.example"})
    assert response.status_code in (201, 202), response.get_data(as_text=True)
    assert response.headers["Location"].startswith("/api/") and "evil" not in response.headers["Location"]


@pytest.mark.parametrize("location,relative", [
    ("http://evil.example/api/articles/a?b=1", "/api/articles/a?b=1"),
    ("https://evil.example", "/"),
    ("//evil.example/x", "/x"),
    ("/api/articles/a", "/api/articles/a"),
    ("a/b", "a/b"),
])
def test_relative_location(location, relative):
    assert relative_location(location) == relative


def test_every_refusal_carries_the_security_headers(api):
    for response in (api.get("/api/search?q=%FF"),
                     api.post("/api/search", data=DEEP, content_type="application/json")):
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
