"""Meilisearch's official Python client (from PyPI) against a real `vnsearch serve`:
add_documents, wait_for_task, a search that finds the document, delete_document,
the task list; and the routes' errors in Meilisearch's shape."""

from __future__ import annotations

import meilisearch
import pytest
from meilisearch.errors import MeilisearchApiError

from tests.support import load_bench

TOKEN = "meili-key-for-tests"
reliability = load_bench("reliability")


@pytest.fixture
def live(tmp_path, index_dir, corpus_dir):
    with reliability.Server(index_dir, corpus_dir, tmp_path / "server.log", token=TOKEN) as server:
        yield server


def test_the_official_client_adds_waits_finds_and_deletes(live, corpus_dir):
    client = meilisearch.Client(live.url, TOKEN)
    index = client.index("articles")
    info = index.add_documents([
        {"id": "meili-1", "title": "Bánh mì Hội An", "text": "Bánh mì Phượng ở Hội An vnm0001."},
        {"id": "meili-2", "title": "Cao lầu", "text": "Cao lầu là món ăn của Hội An vnm0002."},
    ])
    assert info.status == "enqueued" and info.type == "documentAdditionOrUpdate" and info.index_uid == "articles"
    task = client.wait_for_task(info.task_uid, timeout_in_ms=60_000)
    assert task.status == "succeeded", task
    assert task.details == {"receivedDocuments": 2, "indexedDocuments": 2}
    assert task.started_at <= task.finished_at and task.duration.startswith("PT")
    assert [h["id"] for h in index.search("vnm0001")["hits"]] == ["meili-1"]
    assert [h["id"] for h in index.search("banh mi hoi an", {"limit": 1})["hits"]] == ["meili-1"]

    deletion = index.delete_document("meili-1")
    done = client.wait_for_task(deletion.task_uid, timeout_in_ms=60_000)
    assert done.status == "succeeded" and done.type == "documentDeletion"
    assert done.details == {"providedIds": 1, "deletedDocuments": 1}
    assert index.search("vnm0001")["hits"] == []
    assert [h["id"] for h in index.search("vnm0002")["hits"]] == ["meili-2"]

    listed = client.get_tasks({"types": ["documentDeletion"]})
    assert [t.uid for t in listed.results] == [deletion.task_uid]
    assert client.get_task(info.task_uid).status == "succeeded"
    assert sorted(p.name for p in corpus_dir.glob("*.jsonl")) == ["meili-2.jsonl"]


def test_the_client_sees_meilisearch_errors(live):
    with pytest.raises(MeilisearchApiError) as e:
        meilisearch.Client(live.url, "wrong-key").index("articles").add_documents([{"id": "x", "text": "Tin."}])
    assert e.value.code == "invalid_api_key" and e.value.status_code == 403
    client = meilisearch.Client(live.url, TOKEN)
    with pytest.raises(MeilisearchApiError) as e:
        client.index("articles").add_documents([{"id": "x", "title": "không có nội dung"}])
    assert e.value.code == "invalid_document_fields" and "record 0" in e.value.message
    with pytest.raises(MeilisearchApiError) as e:
        client.index("articles").add_documents([{"title": "không có id", "text": "Tin."}])
    assert e.value.code == "missing_document_id"
    with pytest.raises(MeilisearchApiError) as e:
        client.index("movies").add_documents([{"id": "x", "text": "Tin."}])
    assert e.value.code == "index_not_found"
    with pytest.raises(MeilisearchApiError) as e:
        client.get_task(9999)
    assert e.value.code == "task_not_found" and e.value.status_code == 404
    with pytest.raises(MeilisearchApiError) as e:
        client.get_tasks({"statuses": ["done"]})
    assert e.value.code == "invalid_task_statuses"


# -- the same routes in process, each answer checked against the OpenAPI document ---------------
@pytest.fixture
def meili(make_app):
    from tests.web.test_api import ValidatingClient

    return ValidatingClient(make_app(ADMIN_TOKEN=TOKEN).test_client())


KEY = {"Authorization": f"Bearer {TOKEN}"}


def test_documents_and_tasks_routes_match_the_openapi_document(meili, run_tasks):
    response = meili.post("/indexes/articles/documents?primaryKey=id", headers=KEY,
                          json=[{"id": "m-1", "title": "Sa Pa", "text": "Ruộng bậc thang Sa Pa vnm0101."}])
    assert response.status_code == 202
    summary = response.get_json()
    assert set(summary) == {"taskUid", "indexUid", "status", "type", "enqueuedAt"}
    response = meili.put("/indexes/articles/documents", headers={**KEY, "Content-Type": "application/x-ndjson"},
                         data='{"id": "m-2", "text": "Fansipan vnm0102."}\n'.encode("utf-8"))
    assert response.status_code == 202
    assert run_tasks() == 2
    task = meili.get(f"/tasks/{summary['taskUid']}", headers=KEY).get_json()
    assert task["uid"] == summary["taskUid"] and task["status"] == "succeeded" and task["error"] is None
    deletion = meili.delete("/indexes/articles/documents/m-1", headers=KEY).get_json()
    run_tasks()
    listed = meili.get("/tasks?statuses=succeeded&types=documentDeletion,documentAdditionOrUpdate&limit=2",
                       headers=KEY).get_json()
    assert [t["uid"] for t in listed["results"]] == [deletion["taskUid"], 2] and listed["next"] == 1
    assert meili.get("/tasks?indexUids=movies", headers=KEY).get_json()["results"] == []
    assert [t["uid"] for t in meili.get("/tasks?uids=1,3", headers=KEY).get_json()["results"]] == [3, 1]


@pytest.mark.parametrize("method, url, headers, status, code", [
    ("POST", "/indexes/articles/documents", {}, 401, "missing_authorization_header"),
    ("POST", "/indexes/articles/documents", {"Authorization": "Bearer nope"}, 403, "invalid_api_key"),
    ("POST", "/indexes/articles/documents?primaryKey=uid", KEY, 400, "index_primary_key_already_exists"),
    ("GET", "/tasks?bogus=1", KEY, 400, "bad_request"),
    ("GET", "/tasks?limit=x", KEY, 400, "invalid_task_limit"),
    ("GET", "/tasks?types=upsert", KEY, 400, "invalid_task_types"),
])
def test_route_errors_are_in_meilisearch_shape(meili, method, url, headers, status, code):
    response = meili.client.open(url, method=method, headers=headers, json=[{"id": "a", "text": "Tin."}])
    assert response.status_code == status
    body = response.get_json()
    assert body["code"] == code and set(body) == {"message", "code", "type", "link"}
