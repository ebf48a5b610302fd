"""/health, the optional search token, CORS and no-store (webui/access.py), each API
response checked against the OpenAPI document."""

from __future__ import annotations

import base64

import pytest

from tests.web.test_api import AUTH, TOKEN, ValidatingClient, assert_error
from webui.access import parse_origins

SEARCH_TOKEN = "khoa-tim-kiem-cho-test"
SEARCH_AUTH = {"Authorization": f"Bearer {SEARCH_TOKEN}"}
ORIGIN = "https://tin.example.vn"
GUARDED = ["/api/search?q=hà+nội", "/api/suggest?q=dang+v", "/api/articles/000_4120920cae5b93dc",
           "/indexes/articles/search?q=hà+nội", "/", "/?q=hà+nội", "/articles/000_4120920cae5b93dc",
           "/api/no-such-route"]


def _basic(password: str, user: str = "ai-cung-duoc") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def private(make_app):
    return ValidatingClient(make_app(SEARCH_TOKEN=SEARCH_TOKEN, ADMIN_TOKEN=TOKEN).test_client())


@pytest.fixture
def cors(make_app):
    return ValidatingClient(make_app(CORS_ORIGINS=f"{ORIGIN}, https://khac.example.vn").test_client())


# -- /health ---------------------------------------------------------------------------------------
def test_health_is_200_without_an_index_or_a_token(make_app, tmp_path):
    app = make_app(INDEX_DIR=tmp_path / "no-index-here", SEARCH_TOKEN=SEARCH_TOKEN)
    client = ValidatingClient(app.test_client())
    assert client.get("/api/search?q=a", headers=SEARCH_AUTH).status_code == 503     # no index indeed
    response = client.get("/health")
    assert response.status_code == 200 and response.get_json() == {"status": "available"}
    assert app.extensions["vnsearch_engine"]._engine is None                          # never opened


# -- the search token ----------------------------------------------------------------------------------
@pytest.mark.parametrize("path", GUARDED)
def test_without_the_search_token_a_private_server_answers_401(private, path):
    response = private.client.get(path)
    assert response.status_code == 401
    assert response.headers["Cache-Control"] == "no-store"
    if path.startswith("/api/"):
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    elif path.startswith("/indexes"):
        assert response.get_json()["code"] == "missing_authorization_header"
    else:
        assert response.mimetype == "text/html" and response.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer wrong"}, _basic("wrong"),
                                     {"Authorization": "Basic !!!"}, {"Authorization": "Token " + SEARCH_TOKEN}])
def test_a_wrong_token_is_refused(private, headers):
    assert_error(private.get("/api/search?q=a", headers=headers), 401, "unauthorized")
    meili = private.client.get("/indexes/articles/search?q=a", headers=headers)
    assert meili.status_code in (401, 403)
    assert meili.get_json()["code"] in ("invalid_api_key", "missing_authorization_header")


@pytest.mark.parametrize("headers", [SEARCH_AUTH, AUTH, _basic(SEARCH_TOKEN), _basic(TOKEN, user="")])
@pytest.mark.parametrize("path", GUARDED[:-1])
def test_the_search_or_admin_token_opens_reading(private, path, headers):
    response = private.get(path, headers=headers) if path.startswith("/api/") else private.client.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_search_token_does_not_open_writing(private):
    record = {"id": "bai-moi", "text": "Hợp tác xã nông nghiệp ở Quỳnh Lưu."}
    assert_error(private.post("/api/articles", json=record, headers=SEARCH_AUTH), 401, "unauthorized")


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/static/app.js"])
def test_health_openapi_and_static_files_stay_open(private, path):
    response = private.client.get(path)
    try:
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")
    finally:
        response.close()                   # a static file's handle


def test_meilisearch_client_style_bearer_opens_meili_routes(private):
    response = private.client.post("/indexes/articles/search", json={"q": "hà nội"},
                                   headers={**SEARCH_AUTH, "X-Meilisearch-Client": "Meilisearch Python"})
    assert response.status_code == 200 and response.get_json()["hits"]


def test_an_open_server_needs_no_token_and_caches_freely(api_client):
    response = api_client.get("/api/search?q=hà+nội")
    assert response.status_code == 200 and "Cache-Control" not in response.headers


@pytest.fixture
def api_client(client):
    return ValidatingClient(client)


# -- no-store ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("token", [None, TOKEN, "wrong"])
def test_admin_answers_are_no_store(make_app, token):
    client = ValidatingClient(make_app(ADMIN_TOKEN=TOKEN).test_client())
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.post("/api/reindex", headers=headers)
    assert response.status_code == (202 if token == TOKEN else 401)      # a reindex is a task
    assert response.headers["Cache-Control"] == "no-store"


def test_admin_disabled_answer_is_no_store(api_client):
    response = api_client.post("/api/reindex")
    assert_error(response, 403, "admin_disabled")
    assert response.headers["Cache-Control"] == "no-store"


# -- CORS --------------------------------------------------------------------------------------------------
def test_no_cors_by_default(api_client):
    response = api_client.get("/api/search?q=a", headers={"Origin": ORIGIN})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers
    preflight = api_client.client.options("/api/search", headers={"Origin": ORIGIN,
                                                                  "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in preflight.headers


@pytest.mark.parametrize("path", ["/api/search?q=hà+nội", "/indexes/articles/search?q=a", "/api/no-such-route"])
def test_an_allowed_origin_gets_its_origin_back_and_never_credentials(cors, path):
    response = cors.client.get(path, headers={"Origin": ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.headers["Vary"]


def test_another_origin_gets_no_cors_headers(cors):
    response = cors.get("/api/search?q=a", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200 and "Access-Control-Allow-Origin" not in response.headers
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("path,method", [("/api/search", "POST"), ("/indexes/articles/search", "POST"),
                                         ("/api/articles/abc", "GET")])
def test_a_preflight_is_answered_before_any_token_check(make_app, path, method):
    client = make_app(CORS_ORIGINS=ORIGIN, SEARCH_TOKEN=SEARCH_TOKEN).test_client()
    response = client.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": method,
                                             "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert method in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_star_origin_allows_any_site_without_credentials(make_app):
    client = make_app(CORS_ORIGINS="*").test_client()
    response = client.get("/api/search?q=a", headers={"Origin": "https://bat-ky.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("raw,origins", [
    ("", ()), (" ", ()), ("https://a.vn", ("https://a.vn",)),
    ("https://a.vn/, http://localhost:3000", ("https://a.vn", "http://localhost:3000")), ("*", ("*",)),
])
def test_parse_origins(raw, origins):
    assert parse_origins(raw) == origins


@pytest.mark.parametrize("raw", ["a.vn", "https://a.vn/path", "ftp://a.vn", "https://a.vn;x"])
def test_a_bad_origin_is_a_configuration_error(make_app, raw):
    with pytest.raises(ValueError, match="not an origin"):
        make_app(CORS_ORIGINS=raw)


def test_the_environment_sets_both(monkeypatch, make_app):
    monkeypatch.setenv("VNSEARCH_SEARCH_TOKEN", SEARCH_TOKEN)
    monkeypatch.setenv("VNSEARCH_CORS_ORIGINS", ORIGIN)
    from webui import create_app

    app = create_app({"INDEX_DIR": make_app().config["INDEX_DIR"]})
    try:
        assert app.config["SEARCH_TOKEN"] == SEARCH_TOKEN and app.config["CORS_ORIGINS"] == (ORIGIN,)
    finally:
        app.extensions["vnsearch_engine"].close()
