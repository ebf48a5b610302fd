"""The documents API, tasks and stats over HTTP (webui/writes.py), every response
validated against the OpenAPI document (the ``ValidatingClient`` of test_api)."""

from __future__ import annotations

import json

import pytest

from tests.web.test_api import AUTH, TOKEN, ValidatingClient, assert_error


@pytest.fixture
def admin(make_app):
    return ValidatingClient(make_app(ADMIN_TOKEN=TOKEN, MAX_CONTENT_LENGTH=4 * 1024 * 1024).test_client())


def _task(admin, uid: int) -> dict:
    response = admin.get(f"/api/tasks/{uid}", headers=AUTH)
    assert response.status_code == 200
    return response.get_json()


def _ndjson(records) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


RECORDS = [{"id": f"tin-{n}", "title": f"Tin {n} về Đà Lạt", "text": f"Thành phố Đà Lạt mùa hoa vnw{n:05d}.",
            "topic": "Du lịch"} for n in range(1000)]


@pytest.mark.parametrize("content_type, body", [
    ("application/x-ndjson", _ndjson(RECORDS)),
    ("application/json", json.dumps(RECORDS, ensure_ascii=False)),
])
def test_a_thousand_articles_in_one_request_are_one_task(admin, run_tasks, content_type, body):
    response = admin.post("/api/articles", data=body.encode("utf-8"), headers={**AUTH, "Content-Type": content_type})
    assert response.status_code == 202, response.get_json()
    task = response.get_json()
    assert task["details"] == {"receivedDocuments": 1000, "indexedDocuments": None}
    assert run_tasks() == 1
    done = _task(admin, task["taskUid"])
    assert done["status"] == "succeeded" and done["details"]["indexedDocuments"] == 1000
    assert done["duration"].startswith("PT") and done["error"] is None
    for n in (0, 517, 999):
        hits = admin.get(f"/api/search?q=vnw{n:05d}").get_json()["hits"]
        assert [h["id"] for h in hits] == [f"tin-{n}"]
    assert admin.get("/api/search?q=da+lat&hitsPerPage=0").get_json()["totalHits"] == 1000


@pytest.mark.parametrize("content_type, body, where", [
    ("application/x-ndjson", _ndjson(RECORDS[:2]) + '{"id": "x"}\n', "line 3: missing 'text'"),
    ("application/x-ndjson", _ndjson(RECORDS[:1]) + "\n\n" + '{"id": "y", "text": "a", "url": "ftp://x"}\n',
     "line 4: invalid 'url'"),
    ("application/json", json.dumps([*RECORDS[:3], {"id": "z", "text": "Huế", "date": "tháng 5"}]),
     "record 3: invalid 'date'"),
    ("application/json", json.dumps([RECORDS[0], RECORDS[0]]), "record 1: id 'tin-0' is also in record 0"),
])
def test_a_bad_record_rejects_the_whole_batch_naming_record_and_field(admin, corpus_dir, content_type, body, where):
    response = admin.post("/api/articles", data=body.encode("utf-8"), headers={**AUTH, "Content-Type": content_type})
    assert_error(response, 400, "invalid_article")
    assert response.get_json()["error"]["message"].startswith(where)
    assert admin.get("/api/tasks", headers=AUTH).get_json()["total"] == 0
    assert not list(corpus_dir.glob("*.jsonl"))


@pytest.mark.parametrize("content_type, body, code", [
    ("application/x-ndjson", '{"id": "a", "text": "b"}\n{broken\n', "invalid_json"),
    ("application/x-ndjson", "\n \n", "empty_batch"),
    ("application/json", "[]", "empty_batch"),
    ("application/x-ndjson", b"\xff\xfe", "invalid_json"),
])
def test_bad_bodies(admin, content_type, body, code):
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    assert_error(admin.post("/api/articles", data=data, headers={**AUTH, "Content-Type": content_type}), 400, code)


def test_put_replaces_a_seed_page_and_the_replacement_survives_a_full_rebuild(admin, corpus_dir, run_tasks):
    seed = "000_4120920cae5b93dc"
    record = {"title": "Trang đã sửa", "text": "Nội dung thay thế về Hội An vnx0001.", "source": "Báo Quảng Nam"}
    response = admin.put(f"/api/articles/{seed}", json=record, headers=AUTH)
    assert response.status_code == 202 and response.get_json()["type"] == "documentAdditionOrUpdate"
    assert run_tasks() == 1
    assert admin.get(f"/api/articles/{seed}").get_json()["title"] == "Trang đã sửa"
    rebuild = admin.post("/api/reindex?full=1", headers=AUTH).get_json()["taskUid"]
    assert run_tasks() == 1 and _task(admin, rebuild)["details"]["articlesIndexed"] == 5
    assert [h["id"] for h in admin.get("/api/search?q=vnx0001").get_json()["hits"]] == [seed]
    assert admin.get(f"/api/articles/{seed}").get_json()["source"] == "Báo Quảng Nam"
    assert not (corpus_dir / f"{seed}.txt").exists() and (corpus_dir / ".deleted" / f"{seed}.txt").exists()


def test_put_with_another_id_in_the_body_is_400(admin):
    response = admin.put("/api/articles/a-1", json={"id": "a-2", "text": "Nội dung."}, headers=AUTH)
    assert_error(response, 400, "id_mismatch")
    assert_error(admin.put("/api/articles/a-1", json=[{"text": "x"}], headers=AUTH), 400, "invalid_article")


def test_delete_removes_and_an_unknown_id_is_404(admin, run_tasks):
    seed = "001_ff60be7de418aa3a"
    assert_error(admin.delete("/api/articles/khong-co-bai-nay", headers=AUTH), 404, "article_not_found")
    response = admin.delete(f"/api/articles/{seed}?wait=0", headers=AUTH)
    assert response.status_code == 202 and response.get_json()["type"] == "documentDeletion"
    assert run_tasks() == 1
    assert _task(admin, response.get_json()["taskUid"])["details"] == {"providedIds": 1, "deletedDocuments": 1}
    assert_error(admin.get(f"/api/articles/{seed}"), 404, "article_not_found")
    assert admin.get("/api/search?q=&hitsPerPage=0").get_json()["totalHits"] == 4


def test_task_list_filters_and_its_errors(admin, run_tasks):
    admin.post("/api/articles", json=RECORDS[0], headers=AUTH)
    admin.post("/api/reindex", headers=AUTH)
    run_tasks()
    admin.post("/api/articles", json=RECORDS[1], headers=AUTH)
    listed = admin.get("/api/tasks", headers=AUTH).get_json()
    assert [t["taskUid"] for t in listed["results"]] == [3, 2, 1] and listed["total"] == 3
    assert [t["status"] for t in listed["results"]] == ["enqueued", "succeeded", "succeeded"]
    only = admin.get("/api/tasks?status=succeeded&type=documentAdditionOrUpdate", headers=AUTH).get_json()
    assert [t["taskUid"] for t in only["results"]] == [1]
    page = admin.get("/api/tasks?limit=1&from=2", headers=AUTH).get_json()
    assert [t["taskUid"] for t in page["results"]] == [2] and page["next"] == 1
    assert_error(admin.get("/api/tasks?status=done", headers=AUTH), 400, "invalid_task_status")
    assert_error(admin.get("/api/tasks?type=upsert", headers=AUTH), 400, "invalid_task_type")
    assert_error(admin.get("/api/tasks?statuses=enqueued", headers=AUTH), 400, "unknown_parameter")
    assert_error(admin.get("/api/tasks?limit=0", headers=AUTH), 400, "invalid_limit")
    assert_error(admin.get("/api/tasks/99", headers=AUTH), 404, "task_not_found")


@pytest.mark.parametrize("wait", ["abc", "-1", "61", "nan", "inf"])
def test_wait_is_bounded(admin, wait):
    assert_error(admin.get(f"/api/tasks/1?wait={wait}", headers=AUTH), 400, "invalid_wait")
    assert_error(admin.post(f"/api/articles?wait={wait}", json=RECORDS[0], headers=AUTH), 400, "invalid_wait")
    assert admin.get("/api/tasks", headers=AUTH).get_json()["total"] == 0


def test_wait_answers_the_task_as_it_is_when_no_processor_ran(admin):
    uid = admin.post("/api/articles?wait=0.1", json=RECORDS[0], headers=AUTH).get_json()["taskUid"]
    assert admin.get(f"/api/tasks/{uid}?wait=0.1", headers=AUTH).get_json()["status"] == "enqueued"


def test_stats_documents_generation_and_last_task(admin, run_tasks, index_dir):
    from indexer import current_generation

    stats = admin.get("/api/stats", headers=AUTH).get_json()
    assert stats["documents"] == 5 and stats["generation"] == current_generation(index_dir).name
    assert stats["lastTask"] is None and stats["tasks"]["enqueued"] == 0
    admin.post("/api/articles", json=RECORDS[0], headers=AUTH)
    assert admin.get("/api/stats", headers=AUTH).get_json()["tasks"]["enqueued"] == 1
    run_tasks()
    stats = admin.get("/api/stats", headers=AUTH).get_json()
    assert stats["documents"] == 6 and stats["lastTask"]["status"] == "succeeded"
    assert stats["generation"] == current_generation(index_dir).name


@pytest.mark.parametrize("method, url", [("GET", "/api/tasks"), ("GET", "/api/tasks/1"), ("GET", "/api/stats"),
                                         ("DELETE", "/api/articles/x"), ("PUT", "/api/articles/x")])
def test_tasks_and_stats_need_the_admin_token(make_app, method, url):
    open_client = make_app().test_client()
    assert_error(open_client.open(url, method=method, json={"text": "x"}), 403, "admin_disabled")
    locked = make_app(ADMIN_TOKEN=TOKEN).test_client()
    assert_error(locked.open(url, method=method, json={"text": "x"}), 401, "unauthorized")
