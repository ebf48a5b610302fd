"""The task processor (indexer/tasks/processor.py, corpus.py, supervisor.py):
tasks applied in order, batched into one commit, kept by a full rebuild from
the corpus, and a processor killed mid-task loses nothing and runs nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from indexer import SearchEngine, build, tasks
from indexer.tasks import processor
from indexer.tasks.corpus import DELETED_DIR
from indexer.tasks.supervisor import Supervisor, processor_command
from tests.support import SEEDS


def run(index_dir, corpus_dir) -> int:
    return processor.run(index_dir, corpus_dir, once=True, log=lambda line: None)


def search_ids(index_dir, q: str) -> list[str]:
    engine = SearchEngine(index_dir)
    try:
        return [h["id"] for h in engine.search(q, hits_per_page=100, matching_strategy="all")["hits"]]
    finally:
        engine.close()


def stored(index_dir, article_id: str) -> dict | None:
    engine = SearchEngine(index_dir)
    try:
        return engine.get_article(article_id)
    finally:
        engine.close()


def add(index_dir, *records) -> tasks.Task:
    with tasks.TaskStore(index_dir) as store:
        return tasks.enqueue_articles(store, tasks.validate_batch(list(records)))


def delete(index_dir, *ids) -> tasks.Task:
    with tasks.TaskStore(index_dir) as store:
        return tasks.enqueue_deletion(store, list(ids))


def reindex(index_dir, full: bool) -> tasks.Task:
    with tasks.TaskStore(index_dir) as store:
        return tasks.enqueue_reindex(store, full)


def task(index_dir, uid: int) -> tasks.Task:
    with tasks.TaskStore(index_dir) as store:
        return store.get(uid)


@pytest.mark.parametrize("title, text, query", [
    ("Hợp tác xã Quỳnh Lưu", "Nông dân Quỳnh Lưu thu hoạch lúa sớm.", "quynh luu"),
    ("Phở bò Nam Định", "Món phở bò của người Nam Định nổi tiếng.", "pho bo nam dinh"),
    ("Đường sắt Bắc – Nam", "Tàu Thống Nhất chạy trên đường sắt Bắc – Nam.", "đường sắt"),
])
def test_an_added_article_is_written_indexed_and_kept_by_a_full_rebuild(index_dir, corpus_dir, title, text, query):
    uid = add(index_dir, {"id": "bai-moi", "title": title, "text": text}).uid
    assert "bai-moi" not in search_ids(index_dir, query)
    assert run(index_dir, corpus_dir) == 1
    done = task(index_dir, uid)
    assert done.status == "succeeded" and done.details == {"receivedDocuments": 1, "indexedDocuments": 1}
    assert done.started_at <= done.finished_at and done.attempts == 1
    assert json.loads((corpus_dir / "bai-moi.jsonl").read_text(encoding="utf-8"))["title"] == title
    assert search_ids(index_dir, query)[0] == "bai-moi"
    build(index_dir, [corpus_dir], full=True, progress=False)
    assert search_ids(index_dir, query)[0] == "bai-moi"


def test_consecutive_additions_and_deletions_are_one_commit_applied_in_order(index_dir, corpus_dir, monkeypatch):
    builds = []
    real_build = processor.build
    monkeypatch.setattr(processor, "build", lambda *a, **k: builds.append(k) or real_build(*a, **k))
    v1 = {"id": "x", "title": "Bản một", "text": "Cầu Long Biên bản một vnt1001."}
    v2 = {"id": "x", "title": "Bản hai", "text": "Cầu Long Biên bản hai vnt1002."}
    other = {"id": "y", "title": "Bài khác", "text": "Hồ Gươm vnt1003."}
    uids = [add(index_dir, v1).uid, add(index_dir, other).uid, delete(index_dir, "x").uid,
            add(index_dir, v2).uid, delete(index_dir, "000_4120920cae5b93dc").uid]
    assert run(index_dir, corpus_dir) == 5
    assert len(builds) == 1 and builds[0]["full"] is False             # one incremental commit
    assert [task(index_dir, u).status for u in uids] == ["succeeded"] * 5
    assert task(index_dir, uids[2]).details == {"providedIds": 1, "deletedDocuments": 1}
    assert stored(index_dir, "x")["title"] == "Bản hai" and search_ids(index_dir, "vnt1001") == []
    assert search_ids(index_dir, "vnt1003") == ["y"] and stored(index_dir, "000_4120920cae5b93dc") is None
    build(index_dir, [corpus_dir], full=True, progress=False)          # the corpus says the same
    assert stored(index_dir, "x")["title"] == "Bản hai" and stored(index_dir, "000_4120920cae5b93dc") is None
    assert (corpus_dir / DELETED_DIR / "000_4120920cae5b93dc.txt").is_file()   # moved aside, not destroyed


@pytest.fixture
def corpus_dir(corpus_dir):
    """The seeds plus a .jsonl of three articles (one file, several articles)."""
    lines = [{"id": f"nhieu-{n}", "title": f"Bài số {n}", "text": f"Nội dung bài số {n} về Huế vnt200{n}."}
             for n in range(3)]
    (corpus_dir / "nhieu.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines),
                                            encoding="utf-8")
    return corpus_dir


def test_deleting_and_replacing_inside_a_multi_article_file_survive_a_full_rebuild(index_dir, corpus_dir):
    delete(index_dir, "nhieu-1")
    add(index_dir, {"id": "nhieu-2", "title": "Bài số 2 sửa", "text": "Nội dung mới về Huế vnt2999."})
    assert run(index_dir, corpus_dir) == 2
    remaining = [json.loads(line)["id"] for line in (corpus_dir / "nhieu.jsonl").read_text("utf-8").splitlines()]
    assert remaining == ["nhieu-0"]
    kept_aside = (corpus_dir / DELETED_DIR / "nhieu.jsonl.removed.jsonl").read_text("utf-8")
    assert "nhieu-1" in kept_aside or "nhieu-2" in kept_aside
    for check in range(2):
        assert search_ids(index_dir, "vnt2000") == ["nhieu-0"]
        assert search_ids(index_dir, "vnt2001") == [] and search_ids(index_dir, "vnt2002") == []
        assert search_ids(index_dir, "vnt2999") == ["nhieu-2"]
        build(index_dir, [corpus_dir], full=True, progress=False)
    engine = SearchEngine(index_dir)
    try:
        assert engine.stats()["documents"] == len(SEEDS) + 2
    finally:
        engine.close()


def test_deleting_an_unknown_id_succeeds_with_nothing_deleted(index_dir, corpus_dir):
    uid = delete(index_dir, "khong-co").uid
    assert run(index_dir, corpus_dir) == 1
    assert task(index_dir, uid).details == {"providedIds": 1, "deletedDocuments": 0}


def test_a_full_rebuild_task_reports_its_build(index_dir, corpus_dir):
    uid = reindex(index_dir, full=True).uid
    assert run(index_dir, corpus_dir) == 1
    details = task(index_dir, uid).details
    assert details["full"] is True and details["articlesIndexed"] == len(SEEDS) + 3 and details["problems"] == []


def test_a_task_fails_with_the_error_shape_when_the_corpus_is_gone(index_dir, tmp_path):
    uid = add(index_dir, {"id": "z", "text": "Tin Hải Phòng."}).uid
    assert run(index_dir, tmp_path / "gone") == 1
    failed = task(index_dir, uid)
    assert failed.status == "failed" and failed.error["code"] == "corpus_not_found"
    assert not (tmp_path / "gone").exists()


def _wait_for(predicate, seconds: float = 120.0, step: float = 0.02):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


@pytest.mark.parametrize("kill_when", ["claimed", "corpus written, building"])
def test_a_processor_killed_mid_task_loses_nothing_and_runs_nothing_twice(index_dir, corpus_dir, kill_when):
    records = [{"id": f"lo-{n}", "title": f"Bài {n} Cần Thơ", "text": f"Chợ nổi Cái Răng vnk{n:05d} ở Cần Thơ."}
               for n in range(400)]
    uid = add(index_dir, *records).uid
    child = subprocess.Popen(processor_command(index_dir, corpus_dir), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: task(index_dir, uid).status == "processing")
        if kill_when != "claimed":
            _wait_for(lambda: (corpus_dir / "lo-399.jsonl").exists(), step=0.005)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    interrupted = task(index_dir, uid)
    if interrupted.status == "processing":       # killed before the end: the index is the old one, intact
        assert (stored(index_dir, "lo-0") is None) == (stored(index_dir, "lo-399") is None)
    assert run(index_dir, corpus_dir) == (1 if interrupted.status == "processing" else 0)
    done = task(index_dir, uid)
    assert done.status == "succeeded" and done.details["indexedDocuments"] == 400
    assert done.attempts == (2 if interrupted.status == "processing" else 1)
    for n in (0, 199, 399):
        assert search_ids(index_dir, f"vnk{n:05d}") == [f"lo-{n}"]
    engine = SearchEngine(index_dir)
    try:
        assert engine.stats()["documents"] == len(SEEDS) + 3 + 400           # nothing twice
    finally:
        engine.close()


def test_sigterm_puts_the_batch_back_without_counting_an_attempt(index_dir, corpus_dir):
    records = [{"id": f"t-{n}", "text": f"Vịnh Hạ Long vnq{n:05d}."} for n in range(400)]
    uid = add(index_dir, *records).uid
    child = subprocess.Popen(processor_command(index_dir, corpus_dir), stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: task(index_dir, uid).status == "processing")
        child.terminate()
    finally:
        child.wait(timeout=60)
    put_back = task(index_dir, uid)
    assert put_back.status in ("enqueued", "succeeded")
    assert put_back.attempts == (0 if put_back.status == "enqueued" else 1)


def test_the_supervisor_restarts_a_processor_that_died(index_dir, corpus_dir):
    supervisor = Supervisor(index_dir, corpus_dir).start()
    try:
        first = _wait_for(lambda: supervisor.process)
        first.wait(timeout=0.1) if first.poll() is not None else None
        os.kill(first.pid, signal.SIGKILL)
        second = _wait_for(lambda: supervisor.process if supervisor.process is not first else None)
        uid = add(index_dir, {"id": "sau-khi-chet", "text": "Sông Hồng vnr5501."}).uid
        assert _wait_for(lambda: task(index_dir, uid).status == "succeeded")
        assert second.poll() is None and supervisor.starts == 2
    finally:
        supervisor.stop()
    assert supervisor.process.poll() is not None
    assert search_ids(index_dir, "vnr5501") == ["sau-khi-chet"]
