"""The JSON API with Flask's test client: every route, every error, the shapes, auth.

Every response received through the ``api`` fixture is validated against the
OpenAPI document the app serves (openapi-core), so the document and the code
cannot drift apart.
"""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_spec_validator import validate as validate_spec

from indexer import SearchEngine, build
from indexer.index import generations
from indexer.cli import main as vnsearch_cli
from indexer.analysis import fold
from webui import create_app
from webui.openapi import spec

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ADDED = {
    "id": "bai-moi-1",
    "title": "Hợp tác xã nông nghiệp Quỳnh Lưu",
    "text": "Hợp tác xã nông nghiệp ở Quỳnh Lưu thu hoạch lúa sớm.\n\nNông dân phấn khởi.",
    "date": "2024-03-05",
    "source": "Báo Nghệ An",
    "url": "https://example.org/bai-moi-1",
}
OPENAPI = OpenAPI.from_dict(spec())


class SentRequest(WerkzeugOpenAPIRequest):
    """The request as sent; its body was consumed by the app (and is not needed to check a response)."""

    @property
    def body(self):
        return None


class ValidatingClient:
    """The test client, checking each response against the OpenAPI document."""

    def __init__(self, client) -> None:
        self.client = client

    def _check(self, response):
        OPENAPI.validate_response(SentRequest(response.request), WerkzeugOpenAPIResponse(response))
        return response

    def get(self, *args, **kwargs):
        return self._check(self.client.get(*args, **kwargs))

    def post(self, *args, **kwargs):
        return self._check(self.client.post(*args, **kwargs))

    def put(self, *args, **kwargs):
        return self._check(self.client.put(*args, **kwargs))

    def delete(self, *args, **kwargs):
        return self._check(self.client.delete(*args, **kwargs))


@pytest.fixture
def api(client):
    return ValidatingClient(client)


@pytest.fixture
def admin(make_app):
    app = make_app(ADMIN_TOKEN=TOKEN, MAX_CONTENT_LENGTH=64 * 1024)
    return ValidatingClient(app.test_client())


@pytest.fixture
def closing():
    """Closes the searcher of apps made with create_app() directly."""
    apps = []

    def track(app):
        apps.append(app)
        return app

    yield track
    for app in apps:
        app.extensions["vnsearch_engine"].close()


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]


# -- the OpenAPI document ------------------------------------------------------------
def test_openapi_document_is_valid_and_served(api):
    validate_spec(spec())
    response = api.get("/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == spec()
    documented = set(spec()["paths"])
    assert {"/api/search", "/api/suggest", "/api/articles/{id}", "/api/articles", "/api/reindex"} <= documented


def test_every_api_route_is_documented(app):
    def shape(path: str) -> str:          # /indexes/{indexUid}/search and /indexes/<index_uid>/search alike
        return re.sub(r"\{\w+\}|<(?:\w+:)?\w+>", "{}", path)

    documented = {shape(path): set(operations) for path, operations in spec()["paths"].items()}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        assert shape(rule.rule) in documented, rule.rule
        methods = {m.lower() for m in rule.methods} - {"head", "options"}
        assert methods <= documented[shape(rule.rule)], (rule.rule, methods)


# -- search ----------------------------------------------------------------------
def test_search_shape_and_highlighting(api):
    response = api.get("/api/search", query_string={"q": "dang uy"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    data = response.get_json()
    assert list(data) == ["query", "hits", "totalHits", "totalPages", "page", "hitsPerPage", "relatedHits",
                          "totalHitsEstimated", "processingTimeMs", "suggestion"]
    assert data["query"] == "dang uy" and data["page"] == 1 and data["hitsPerPage"] == 10
    assert data["totalHits"] == 5 and data["totalPages"] == 1 and len(data["hits"]) == 5
    for hit in data["hits"]:
        assert {"id", "title", "date", "source", "_formatted", "_score"} <= set(hit)
        assert set(hit["_formatted"]) == {"title", "body"}
    bodies = " ".join(h["_formatted"]["body"] for h in data["hits"])
    assert "<mark>Đảng</mark> <mark>ủy</mark>" in bodies
    assert data["suggestion"] == "đảng ủy"     # as the pages spell it, not the index's uỷ
    scores = [h["_score"] for h in data["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_search_is_the_object_of_the_cli(api, runner, index_dir):
    data = api.get("/api/search", query_string={"q": "dang uy khoi", "hitsPerPage": 3}).get_json()
    result = runner.invoke(vnsearch_cli, ["--index-dir", str(index_dir), "search", "dang uy khoi",
                                          "--json", "--limit", "3"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.output)
    data.pop("processingTimeMs"), cli.pop("processingTimeMs")
    assert data == cli


def test_search_pagination(api):
    pages = [api.get("/api/search", query_string={"q": "đảng", "page": p, "hitsPerPage": 2}).get_json()
             for p in (1, 2, 3)]
    assert [p["page"] for p in pages] == [1, 2, 3]
    assert all(p["totalHits"] == 5 and p["totalPages"] == 3 for p in pages)
    ids = [h["id"] for p in pages for h in p["hits"]]
    assert len(ids) == 5 and len(set(ids)) == 5
    beyond = api.get("/api/search", query_string={"q": "đảng", "page": 4, "hitsPerPage": 2}).get_json()
    assert beyond["hits"] == [] and beyond["totalHits"] == 5


def test_search_no_results_is_not_an_error(api):
    data = api.get("/api/search", query_string={"q": "xyzzyqqq"}).get_json()
    assert data["hits"] == [] and data["totalHits"] == 0 and data["totalPages"] == 0


def test_search_default_page_size_comes_from_config(make_app):
    app = make_app(HITS_PER_PAGE=2)
    data = ValidatingClient(app.test_client()).get("/api/search?q=dang").get_json()
    assert data["hitsPerPage"] == 2 and len(data["hits"]) == 2


@pytest.mark.parametrize("query, code", [
    ({"q": "đảng " * 300}, "query_too_long"),
    ({"q": "dang", "page": "0"}, "invalid_page"),
    ({"q": "dang", "page": "-1"}, "invalid_page"),
    ({"q": "dang", "page": "abc"}, "invalid_page"),
    ({"q": "dang", "page": "1.5"}, "invalid_page"),
    ({"q": "dang", "page": ""}, "invalid_page"),
    ({"q": "dang", "page": "9" * 5000}, "invalid_page"),
    ({"q": "dang", "hitsPerPage": "-1"}, "invalid_hits_per_page"),
    ({"q": "dang", "hitsPerPage": "10000"}, "invalid_hits_per_page"),
    ({"q": "dang", "hitsPerPage": "ten"}, "invalid_hits_per_page"),
    ({"q": "dang", "hitsPerPage": "--0"}, "invalid_hits_per_page"),
    ({"q": "dang", "offset": "-"}, "invalid_search_offset"),
    ({"q": "dang", "hitsPerPage": "101"}, "invalid_hits_per_page"),
])
def test_search_bad_parameters_are_400_in_one_shape(api, query, code):
    assert_error(api.get("/api/search", query_string=query), 400, code)


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "   "}])
def test_no_query_is_a_placeholder_search_of_every_document(api, query):
    data = api.get("/api/search", query_string=query).get_json()
    assert data["totalHits"] == 5 and len(data["hits"]) == 5 and data["suggestion"] is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=60), page=st.one_of(st.none(), st.text(max_size=6)),
       per_page=st.one_of(st.none(), st.text(alphabet="0123456789-x ", max_size=5)))
def test_search_never_fails_on_any_input(client, q, page, per_page):
    query = {"q": q}
    if page is not None:
        query["page"] = page
    if per_page is not None:
        query["hitsPerPage"] = per_page
    response = client.get("/api/search", query_string=query)   # an exception here fails the test
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert set(response.get_json()["error"]) == {"code", "message"}


# -- suggest ----------------------------------------------------------------------
def test_suggest_completes_plain_prefix_with_accents(api):
    data = api.get("/api/suggest", query_string={"q": "dang u"}).get_json()
    assert data["query"] == "dang u"
    assert data["suggestions"], data
    assert all(s.startswith("đảng ") and fold(s).startswith("dang u") for s in data["suggestions"])
    assert any(s in ("đảng uỷ", "đảng ủy") for s in data["suggestions"])


def test_suggest_dang_v_lists_dang_vien_first_and_only_phrases_with_hits(api):
    suggestions = api.get("/api/suggest", query_string={"q": "dang v"}).get_json()["suggestions"]
    assert suggestions[0] == "đảng viên"
    for s in suggestions:
        assert api.get("/api/search", query_string={"q": f'"{s}"'}).get_json()["totalHits"] > 0, s


def test_suggest_next_word_and_limit(api):
    data = api.get("/api/suggest", query_string={"q": "đảng ", "limit": 2}).get_json()
    assert 1 <= len(data["suggestions"]) <= 2
    assert all(s.startswith("đảng ") and len(s.split()) == 2 for s in data["suggestions"])


def test_suggest_empty_prefix_has_no_completions(api):
    assert api.get("/api/suggest", query_string={"q": ""}).get_json()["suggestions"] == []
    assert api.get("/api/suggest", query_string={"q": "!!"}).get_json()["suggestions"] == []


@pytest.mark.parametrize("query, code", [
    ({}, "missing_query"),
    ({"q": "a" * 201}, "query_too_long"),
    ({"q": "dang", "limit": "0"}, "invalid_limit"),
    ({"q": "dang", "limit": "21"}, "invalid_limit"),
    ({"q": "dang", "limit": "many"}, "invalid_limit"),
])
def test_suggest_bad_parameters(api, query, code):
    assert_error(api.get("/api/suggest", query_string=query), 400, code)


# -- articles ------------------------------------------------------------------------
def test_get_article(api):
    hit = api.get("/api/search?q=dang+uy&hitsPerPage=1").get_json()["hits"][0]
    response = api.get(f"/api/articles/{hit['id']}")
    assert response.status_code == 200
    article = response.get_json()
    assert article["id"] == hit["id"] and article["title"] == hit["title"]
    assert "Đảng ủy" in article["text"] and "<mark>" not in article["text"]


@pytest.mark.parametrize("article_id", ["nope", "..%2F..%2Fetc%2Fpasswd", "../corpus/000_4120920cae5b93dc",
                                        "000_4120920cae5b93dc.txt"])
def test_unknown_article_is_404(client, article_id):
    assert_error(client.get(f"/api/articles/{article_id}"), 404, "article_not_found")


# -- routing errors ----------------------------------------------------------------------
def test_unknown_api_route_and_wrong_method_are_json(client):
    # (undocumented operations: not checked against the OpenAPI document)
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    response = client.get("/api/reindex")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]
    assert_error(client.delete("/api/search?q=dang"), 405, "method_not_allowed")


def test_missing_index_is_503_until_one_is_built(make_app, tmp_path, corpus_dir):
    app = make_app(INDEX_DIR=tmp_path / "no-index")
    client = ValidatingClient(app.test_client())
    assert_error(client.get("/api/search?q=dang"), 503, "index_not_found")
    page = app.test_client().get("/?q=dang")
    assert page.status_code == 503 and "Chưa có chỉ mục" in page.get_data(as_text=True)
    build(tmp_path / "no-index", [corpus_dir])          # built while the server runs: picked up
    assert client.get("/api/search?q=dang").get_json()["totalHits"] == 5


def test_security_headers_on_api_responses(client):
    for response in (client.get("/api/search?q=dang"), client.get("/api/search")):
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


# -- admin: auth ---------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, AUTH, {"Authorization": "Bearer "}])
def test_admin_disabled_without_configured_token(api, headers):
    assert_error(api.post("/api/articles", json=ADDED, headers=headers), 403, "admin_disabled")
    assert_error(api.post("/api/reindex", headers=headers), 403, "admin_disabled")


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": f"Bearer {TOKEN}x"},
    {"Authorization": f"Basic {TOKEN}"},
    {"Authorization": "Bearer"},
    {"Authorization": TOKEN},
])
def test_admin_wrong_or_missing_token_is_401(admin, corpus_dir, headers):
    response = admin.post("/api/articles", json=ADDED, headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_error(admin.post("/api/reindex", headers=headers), 401, "unauthorized")
    assert not list(corpus_dir.glob("*.jsonl"))


def test_token_from_environment(monkeypatch, index_dir, corpus_dir, closing):
    monkeypatch.setenv("VNSEARCH_ADMIN_TOKEN", "from-env")
    monkeypatch.setenv("VNSEARCH_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("VNSEARCH_CORPUS_DIR", str(corpus_dir))
    monkeypatch.setenv("VNSEARCH_HITS_PER_PAGE", "3")
    app = closing(create_app({"TESTING": True}))
    assert app.config["ADMIN_TOKEN"] == "from-env" and app.config["HITS_PER_PAGE"] == 3
    assert app.config["INDEX_DIR"] == index_dir and app.config["CORPUS_DIR"] == corpus_dir
    client = app.test_client()
    assert client.post("/api/reindex", headers={"Authorization": "Bearer from-env"}).status_code == 202
    assert create_app({"TESTING": True, "ADMIN_TOKEN": None}).config["ADMIN_TOKEN"] is None


def test_bad_page_size_in_environment_fails_at_startup(monkeypatch):
    monkeypatch.setenv("VNSEARCH_HITS_PER_PAGE", "lots")
    with pytest.raises(ValueError, match="VNSEARCH_HITS_PER_PAGE"):
        create_app()
    monkeypatch.setenv("VNSEARCH_HITS_PER_PAGE", "1000")
    with pytest.raises(ValueError, match="HITS_PER_PAGE"):
        create_app()


# -- admin: adding articles (tasks: tests/web/test_writes.py) ------------------------------
def test_add_article_is_written_to_corpus_indexed_and_survives_full_rebuild(admin, corpus_dir, run_tasks):
    assert admin.get("/api/search?q=quynh").get_json()["totalHits"] == 0
    response = admin.post("/api/articles", json=ADDED, headers=AUTH)
    assert response.status_code == 202, response.get_json()
    task = response.get_json()
    assert task["status"] == "enqueued" and task["type"] == "documentAdditionOrUpdate"
    assert response.headers["Location"] == f"/api/tasks/{task['taskUid']}"
    assert not list(corpus_dir.glob("*.jsonl"))              # the task writes it
    assert run_tasks() == 1
    done = admin.get(f"/api/tasks/{task['taskUid']}", headers=AUTH).get_json()
    assert done["status"] == "succeeded" and done["details"] == {"receivedDocuments": 1, "indexedDocuments": 1}
    stored = admin.get("/api/articles/bai-moi-1").get_json()
    assert {k: stored[k] for k in ADDED} == ADDED
    written = list(corpus_dir.glob("*.jsonl"))
    assert len(written) == 1 and json.loads(written[0].read_text(encoding="utf-8"))["id"] == "bai-moi-1"

    assert [h["id"] for h in admin.get("/api/search?q=quynh").get_json()["hits"]] == ["bai-moi-1"]
    hits = admin.get("/api/search?q=quynh+luu").get_json()["hits"]
    assert hits[0]["id"] == "bai-moi-1"
    assert "<mark>Quỳnh</mark> <mark>Lưu</mark>" in hits[0]["_formatted"]["title"]

    rebuild = admin.post("/api/reindex?full=1", headers=AUTH).get_json()
    assert rebuild["type"] == "fullRebuild" and run_tasks() == 1
    report = admin.get(f"/api/tasks/{rebuild['taskUid']}", headers=AUTH).get_json()["details"]
    assert report["full"] is True and report["articlesIndexed"] == 6
    assert [h["id"] for h in admin.get("/api/search?q=quynh").get_json()["hits"]] == ["bai-moi-1"]


def test_add_an_id_already_indexed_is_409(admin, run_tasks):
    assert admin.post("/api/articles", json=ADDED, headers=AUTH).status_code == 202
    run_tasks()
    assert_error(admin.post("/api/articles", json=ADDED, headers=AUTH), 409, "article_exists")
    seed = admin.get("/api/search?q=dang").get_json()["hits"][0]["id"]
    response = admin.post("/api/articles", json=[{**ADDED, "id": "new-one"}, {**ADDED, "id": seed}], headers=AUTH)
    assert_error(response, 409, "article_exists")
    assert response.get_json()["error"]["message"].startswith("record 1:")


@pytest.mark.parametrize("record", [
    {"title": "no id", "text": "x"},
    {"id": "x"},
    {"id": "x", "text": "   "},
    {"id": "x", "text": "ok", "date": "yesterday"},
    {"id": "x", "text": "ok", "url": "javascript:alert(1)"},
    {"id": ["x"], "text": "ok"},
    ["not", "an", "object"],
    "just a string",
])
def test_add_invalid_article_is_400(admin, corpus_dir, record, index_dir):
    assert_error(admin.post("/api/articles", json=record, headers=AUTH), 400, "invalid_article")
    assert not list(corpus_dir.glob("*.jsonl"))
    assert admin.get("/api/tasks", headers=AUTH).get_json()["total"] == 0     # nothing enqueued


def test_add_article_body_errors(admin):
    assert_error(admin.post("/api/articles", data="{not json", headers={**AUTH, "Content-Type": "application/json"}),
                 400, "invalid_json")
    assert_error(admin.post("/api/articles", data="id=1", headers={**AUTH, "Content-Type": "text/plain"}),
                 415, "unsupported_media_type")
    huge = {**ADDED, "text": "chữ " * 40_000}
    assert_error(admin.post("/api/articles", json=huge, headers=AUTH), 413, "payload_too_large")


def test_add_article_refuses_a_missing_corpus_directory(make_app, tmp_path):
    app = make_app(CORPUS_DIR=tmp_path / "gone", ADMIN_TOKEN=TOKEN)
    client = ValidatingClient(app.test_client())
    assert_error(client.post("/api/articles", json=ADDED, headers=AUTH), 503, "corpus_not_found")
    assert_error(client.post("/api/reindex", headers=AUTH), 503, "corpus_not_found")
    assert client.get("/api/search?q=dang").get_json()["totalHits"] == 5   # nothing was dropped


# -- admin: reindex ---------------------------------------------------------------------------
def _finished(admin, response, run_tasks) -> dict:
    assert response.status_code == 202, response.get_json()
    run_tasks()
    task = admin.get(f"/api/tasks/{response.get_json()['taskUid']}", headers=AUTH).get_json()
    assert task["status"] == "succeeded", task
    return task["details"]


def test_reindex_incremental_picks_up_a_new_file(admin, corpus_dir, run_tasks):
    (corpus_dir / "new.txt").write_text("Tin mới về Quỳnh Lưu\n\nNội dung về huyện Quỳnh Lưu.\n", encoding="utf-8")
    assert admin.get("/api/search?q=quynh").get_json()["totalHits"] == 0
    report = _finished(admin, admin.post("/api/reindex", headers=AUTH), run_tasks)
    assert report["full"] is False and report["filesAdded"] == 1 and report["filesUnchanged"] == 5
    assert report["articlesIndexed"] == 1 and report["problems"] == []
    assert admin.get("/api/search?q=quynh").get_json()["totalHits"] == 1
    again = _finished(admin, admin.post("/api/reindex?full=0", headers=AUTH), run_tasks)
    assert again["filesAdded"] == 0 and again["filesUnchanged"] == 6


def test_reindex_full_swaps_generation(admin, run_tasks):
    before = _finished(admin, admin.post("/api/reindex", headers=AUTH), run_tasks)["generation"]
    report = _finished(admin, admin.post("/api/reindex?full=1", headers=AUTH), run_tasks)
    assert report["full"] is True and report["generation"] != before and report["articlesIndexed"] == 5
    assert admin.get("/api/search?q=dang+uy").get_json()["totalHits"] == 5


def test_reindex_bad_full_parameter(admin):
    assert_error(admin.post("/api/reindex?full=maybe", headers=AUTH), 400, "invalid_full")


def test_reindex_while_another_build_runs_is_accepted_not_blocked(admin, index_dir, run_tasks):
    with generations.write_lock(index_dir):
        response = admin.post("/api/reindex?full=1", headers=AUTH)
        assert response.status_code == 202 and response.get_json()["status"] == "enqueued"
    assert _finished(admin, response, run_tasks)["full"] is True


# -- one searcher per process, refreshed when the index changes ------------------------------
@pytest.fixture
def opened(monkeypatch):
    """Records every SearchEngine the app creates and every refresh that reopened."""
    import webui.searcher

    log = {"engines": 0, "reopened": 0}

    class CountingEngine(SearchEngine):
        def __init__(self, *args, **kwargs):
            log["engines"] += 1
            super().__init__(*args, **kwargs)

        def refresh(self):
            changed = super().refresh()
            log["reopened"] += changed
            return changed

    monkeypatch.setattr(webui.searcher, "SearchEngine", CountingEngine)
    return log


def test_engine_is_opened_once_and_not_reopened_per_request(api, opened):
    for _ in range(5):
        assert api.get("/api/search?q=dang").status_code == 200
    assert opened == {"engines": 1, "reopened": 0}


def test_engine_follows_incremental_commit_and_full_swap(api, opened, index_dir, corpus_dir):
    assert api.get("/api/search?q=quynh").get_json()["totalHits"] == 0
    (corpus_dir / "a.txt").write_text("Quỳnh Lưu\n\nBài về Quỳnh Lưu.\n", encoding="utf-8")
    build(index_dir, [corpus_dir])                 # incremental commit, same generation
    assert api.get("/api/search?q=quynh").get_json()["totalHits"] == 1
    (corpus_dir / "b.txt").write_text("Quỳnh Lưu hai\n\nBài thứ hai về Quỳnh Lưu.\n", encoding="utf-8")
    build(index_dir, [corpus_dir], full=True)      # a new generation swapped in
    assert api.get("/api/search?q=quynh").get_json()["totalHits"] == 2
    (corpus_dir / "a.txt").unlink()
    build(index_dir, [corpus_dir], full=True)      # and again (the first generation is pruned)
    assert api.get("/api/search?q=quynh").get_json()["totalHits"] == 1
    assert opened == {"engines": 1, "reopened": 3}


def test_serve_runs_gunicorn_gevent_workers_one_per_core(monkeypatch):
    from gunicorn.workers.ggevent import GeventWorker

    from webui import serve, workers

    options = serve.gunicorn_options("127.0.0.1", 8000, None)
    assert options["worker_class"] == "webui.workers.VnsearchWorker" and options["bind"] == "127.0.0.1:8000"
    assert issubclass(workers.VnsearchWorker, GeventWorker)
    assert options["keepalive"] > 0       # gunicorn's async worker bounds header reading by it only when set
    import os
    assert options["workers"] == (os.cpu_count() or 1)
    assert options["accesslog"] == "-" and options["preload_app"] is True
    assert serve.gunicorn_options("::1", 8080, 3)["bind"] == "[::1]:8080"
    assert serve.gunicorn_options("::1", 8080, 3)["workers"] == 3


def test_pages_after_incremental_adds_neither_skip_nor_repeat(admin, run_tasks):
    # Articles added over HTTP land in new index segments; paging through the
    # results one by one must give exactly the ranking of one big page.
    added = [{"id": "dang-uy-1", "title": "Đảng ủy họp", "text": "Đảng ủy họp. Đảng ủy ra nghị quyết."},
             {"id": "dang-uy-2", "title": "Đảng ủy <b>thông báo</b>", "text": "Nội dung của Đảng ủy <i>x</i> và cùng"}]
    for record in added:       # one task each, processed one at a time: two new segments
        assert admin.post("/api/articles", json=record, headers=AUTH).status_code == 202
        assert run_tasks() == 1
    ranking = [h["id"] for h in admin.get("/api/search?q=dang+uy&hitsPerPage=100").get_json()["hits"]]
    assert len(ranking) == 7 and {"dang-uy-1", "dang-uy-2"} <= set(ranking)
    paged = [h["id"] for page in range(1, 8)
             for h in admin.get(f"/api/search?q=dang+uy&hitsPerPage=1&page={page}").get_json()["hits"]]
    assert paged == ranking
