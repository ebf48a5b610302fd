"""The task queue (indexer/tasks/store.py): durable, claimed in order, batched,
interrupted tasks retried alone and failed after MAX_ATTEMPTS."""

from __future__ import annotations

import pytest

from indexer import tasks
from indexer.tasks import store as st

ARTICLES = [{"id": "a", "title": "Hà Nội", "text": "Thủ đô Hà Nội."},
            {"id": "b", "title": "Đà Nẵng", "text": "Thành phố Đà Nẵng."}]


@pytest.fixture
def store(tmp_path):
    with tasks.TaskStore(tmp_path / "index") as s:
        yield s


def test_an_enqueued_task_is_durable_and_has_the_meilisearch_fields(store, tmp_path):
    task = tasks.enqueue_articles(store, tasks.validate_batch(ARTICLES))
    assert task.uid == 1 and task.status == "enqueued" and task.type == "documentAdditionOrUpdate"
    assert task.details == {"receivedDocuments": 2, "indexedDocuments": None}
    assert task.enqueued_at.endswith("Z") and task.started_at is None and task.duration_seconds is None
    with tasks.TaskStore(tmp_path / "index") as other:           # another process's connection
        assert other.get(1, payload=False) == task and task.payload == {}
        assert [a["id"] for a in other.get(1).payload["articles"]] == ["a", "b"]


def test_consecutive_document_tasks_form_one_batch_a_reindex_runs_alone(store):
    records = tasks.validate_batch(ARTICLES)
    adds = [tasks.enqueue_articles(store, records).uid for _ in range(3)]
    delete = tasks.enqueue_deletion(store, ["a"]).uid
    rebuild = tasks.enqueue_reindex(store, full=True).uid
    last = tasks.enqueue_articles(store, records).uid
    for expected in ([*adds, delete], [rebuild], [last]):
        batch = store.claim_batch()
        assert [t.uid for t in batch] == expected and {t.status for t in batch} == {"processing"}
        for task in batch:
            store.finish(task.uid, details={})
    assert store.claim_batch() == []
    assert store.counts() == {"enqueued": 0, "processing": 0, "succeeded": 6, "failed": 0}


def test_a_batch_is_bounded_by_its_number_of_articles(store):
    records = tasks.validate_batch(ARTICLES)
    first, second = (tasks.enqueue_articles(store, records).uid for _ in range(2))
    assert [t.uid for t in store.claim_batch(max_articles=3)] == [first]
    store.finish(first, details={})
    assert [t.uid for t in store.claim_batch(max_articles=3)] == [second]


def test_an_interrupted_task_is_retried_alone_then_failed_after_max_attempts(store, tmp_path):
    records = tasks.validate_batch(ARTICLES)
    uids = [tasks.enqueue_articles(store, records).uid for _ in range(2)]
    assert [t.uid for t in store.claim_batch()] == uids            # the processor dies here
    for attempt in range(2, st.MAX_ATTEMPTS + 1):
        with tasks.TaskStore(tmp_path / "index") as restarted:
            batch = restarted.claim_batch()
        assert [t.uid for t in batch] == [uids[0]] and batch[0].attempts == attempt
    with tasks.TaskStore(tmp_path / "index") as restarted:
        batch = restarted.claim_batch()                            # the first is given up; the second retried
        failed = restarted.get(uids[0])
    assert failed.status == "failed" and failed.error["code"] == "task_interrupted"
    assert [t.uid for t in batch] == [uids[1]] and batch[0].attempts == 2


def test_release_puts_a_batch_back_without_counting_an_attempt(store):
    uid = tasks.enqueue_deletion(store, ["a"]).uid
    store.claim_batch()
    store.release([uid])
    task = store.get(uid)
    assert task.status == "enqueued" and task.attempts == 0 and task.started_at is None


def test_finish_records_details_error_and_duration(store):
    ok = tasks.enqueue_deletion(store, ["a"]).uid
    bad = tasks.enqueue_reindex(store, full=False).uid
    store.claim_batch()
    store.finish(ok, details={"providedIds": 1, "deletedDocuments": 1})
    store.claim_batch()
    store.finish(bad, error={"code": "corpus_not_found", "message": "gone"})
    assert store.get(ok).status == "succeeded" and store.get(ok).details["deletedDocuments"] == 1
    assert store.get(ok).duration_seconds >= 0
    assert store.get(bad).status == "failed" and store.get(bad).error == {"code": "corpus_not_found",
                                                                         "message": "gone"}


def test_list_filters_newest_first_and_pages(store):
    records = tasks.validate_batch(ARTICLES)
    for _ in range(3):
        tasks.enqueue_articles(store, records)
    tasks.enqueue_deletion(store, ["a"])
    found, total, nxt = store.list(types=("documentAdditionOrUpdate",), limit=2)
    assert [t.uid for t in found] == [3, 2] and total == 3 and nxt == 1
    found, total, nxt = store.list(types=("documentAdditionOrUpdate",), limit=2, from_uid=nxt)
    assert [t.uid for t in found] == [1] and nxt is None
    assert store.list(statuses=("succeeded",))[1] == 0
    assert store.last().uid == 4 and store.last().payload == {}


def test_wait_returns_the_task_as_it_is_when_the_time_is_up(store):
    uid = tasks.enqueue_deletion(store, ["a"]).uid
    assert store.wait(uid, 0.05).status == "enqueued"
    assert store.wait(999, 0.05) is None


@pytest.mark.parametrize("records, where", [
    ([{"id": "x", "title": "Tin"}], "record 0: missing 'text'"),
    ([{"id": "x", "text": "Tin tức"}, {"id": "y", "text": "Bài", "date": "hôm qua"}], "record 1: invalid 'date'"),
    ([{"id": "x", "text": "Tin tức"}, {"id": "x", "text": "Bài khác"}], "record 1: id 'x' is also in record 0"),
])
def test_a_bad_record_names_itself_and_its_field(records, where):
    with pytest.raises(tasks.InvalidRecord) as e:
        tasks.validate_batch(records)
    assert str(e.value).startswith(where)


def test_only_one_processor_holds_an_index(tmp_path):
    with tasks.processor_lock(tmp_path):
        with pytest.raises(tasks.ProcessorRunning):
            with tasks.processor_lock(tmp_path):
                pass
    with tasks.processor_lock(tmp_path):        # released
        pass
