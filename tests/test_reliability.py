"""Reliability (issue 6): killed builds, searches during rebuilds, two writers, hostile
files and requests, durability.

The kill and load harnesses live in ``bench/reliability.py`` (a real ``vnsearch``
subprocess killed with SIGKILL; a real ``vnsearch serve``); these tests run small
versions. The long ones: ``pytest --runslow tests/test_reliability.py`` or
``python bench/reliability.py``. Fuzzing is in ``tests/test_fuzz.py``.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from indexer import SearchEngine, build
from indexer.index import generations
from indexer.tasks import TaskStore
from indexer.tasks import processor as tasks_processor
from tests.support import SEEDS, load_bench, make_corpus
from tests.web.test_browser import chromium, server  # noqa: F401 (fixtures: Chromium, `vnsearch serve`)

REPO = Path(__file__).resolve().parent.parent
TOKEN = "reliability-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


reliability = load_bench("reliability")


def ids(engine: SearchEngine, q: str) -> set[str]:
    return {h["id"] for h in engine.search(q, hits_per_page=100)["hits"]}


def snapshot(gen: Path) -> dict[str, tuple[int, int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_size, p.stat().st_mtime_ns) for p in gen.iterdir()}


@pytest.fixture
def synthetic(tmp_path):
    """A small synthetic corpus (seed sentences, a code word per article) and its index."""
    corpus = reliability.SyntheticCorpus(tmp_path / "corpus", random.Random(7), articles=40)
    index = tmp_path / "index"
    build(index, [corpus.dir], full=True, progress=False)
    return corpus, index


@pytest.fixture
def app_for(tmp_path):
    """create_app over a given index and corpus, admin token set; searchers closed at teardown."""
    from webui import create_app

    made = []

    def make(index: Path, corpus: Path, **config):
        app = create_app({"TESTING": True, "INDEX_DIR": index, "CORPUS_DIR": corpus, "ADMIN_TOKEN": TOKEN,
                          "HITS_PER_PAGE": 10, **config})
        made.append(app)
        return app

    yield make
    for app in made:
        app.extensions["vnsearch_engine"].close()


# =========================================================================== 1. killed builds
def test_builds_killed_at_random_moments_and_in_their_fragile_windows_lose_nothing(tmp_path):
    """SIGKILL `vnsearch index` and `vnsearch index --full` (random moments, and just before
    Whoosh renames its TOC, the manifest is replaced, the generation is fsynced, CURRENT is
    swapped, the current generation is cloned, the old one is marked retired). After each
    kill the index opens with exactly the old or the new articles, nothing searchable
    before is lost, and a plain `vnsearch index` (no --wait) finishes the work."""
    campaign = reliability.KillCampaign(tmp_path, seed=6, articles=80)
    campaign.calibrate()
    campaign.random_kills(3)
    campaign.named_crash_points({
        "full": reliability.NAMED_CRASH_POINTS["full"][::3],          # TOC rename, the swap
        "incremental": [p for p in reliability.NAMED_CRASH_POINTS["incremental"] if "remove" not in p],
    })
    figures = campaign.finish()
    print(figures.summary())
    assert figures.ok, "\n".join(figures.failures)
    assert figures.kills >= 6, figures.summary()
    assert figures.lost == figures.corrupt == 0


@pytest.mark.slow
def test_sixty_random_kills_and_every_crash_point(tmp_path):
    figures = reliability.kill_campaign(tmp_path, kills=60, crash_points=None, seed=1, articles=150)
    print(figures.summary())
    assert figures.ok, "\n".join(figures.failures)
    assert figures.kills >= 50, figures.summary()


def test_stale_locks_of_a_killed_writer_never_block_the_next_build(synthetic):
    """A writer SIGKILLed while holding the build lock and Whoosh's MAIN_WRITELOCK, with an
    unpublished generation and a temporary CURRENT link half made: the next build neither
    waits nor fails, and leaves none of it behind."""
    corpus, index = synthetic
    script = (
        "import os, signal, sys\n"
        "from indexer.index import generations\n"
        "from whoosh import index as wi\n"
        "idx = sys.argv[1]\n"
        "with generations.write_lock(idx):\n"
        "    w = wi.open_dir(str(generations.current_generation(idx))).writer()\n"
        "    generations.new_generation(idx)\n"
        "    os.symlink('gen-nowhere', os.path.join(idx, '.CURRENT.deadbeef'))\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n")
    done = subprocess.run([sys.executable, "-c", script, str(index)], env=reliability.cli_env(),
                          capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert (generations.current_generation(index) / "MAIN_WRITELOCK").exists()
    assert reliability.leftovers(index)                          # the debris is there
    corpus.add_txt()
    started = time.monotonic()
    report = build(index, [corpus.dir], lock_timeout=0)           # no waiting allowed
    assert time.monotonic() - started < 30 and report.articles_indexed == 1
    assert reliability.leftovers(index) == []
    assert build(index, [corpus.dir], full=True, lock_timeout=0).articles_indexed == len(corpus.expected)
    result = reliability.probe(index, corpus.codes)
    assert result.ids == set(corpus.expected) and not result.problems


def test_a_searcher_opened_before_an_update_keeps_answering(synthetic):
    """Whoosh opens some segment files lazily, and a commit that merges segments deletes
    files: committed in place, an open searcher then fails (TypeError) on documents of a
    merged segment. Updates go to a clone, so an engine opened before any number of
    updates answers until it refreshes."""
    corpus, index = synthetic
    engines = []
    for _ in range(6):                        # enough small commits for Whoosh to merge
        engine = SearchEngine(index)
        engines.append(engine)
        before = dict(corpus.txt)
        corpus.add_txt()
        build(index, [corpus.dir], progress=False)
        for article_id, code in before.items():
            assert ids(engine, code) == {article_id}
        assert engine.refresh()
        assert ids(engine, corpus.txt[max(corpus.txt)]) == {max(corpus.txt)}
    for engine in engines:
        engine.close()


def test_a_seeded_global_random_never_corrupts_the_index(synthetic):
    """Whoosh names segments with the global ``random``: seeded the same way before two
    builds (hypothesis does it before every example), it draws an existing segment's
    name and used to truncate that segment's files (FileFormatError on the next search)."""
    corpus, index = synthetic
    for _ in range(4):
        corpus.add_txt()
        random.seed(1234)
        build(index, [corpus.dir])
        result = reliability.probe(index, corpus.codes)
        assert result.ids == set(corpus.expected) and not result.problems, result.problems
    random.seed()


def test_a_published_generation_is_never_modified(synthetic):
    corpus, index = synthetic
    gen = generations.current_generation(index)
    before = snapshot(gen)
    for article_id in sorted(corpus.txt)[:3]:
        corpus.edit_txt(article_id)
    corpus.delete_txt(sorted(corpus.txt)[-1])
    corpus.add_txt()
    report = build(index, [corpus.dir])
    assert report.generation != gen.name
    after = snapshot(gen)
    assert after.pop(generations.RETIRED, None) is not None
    assert after == before
    assert reliability.probe(index, corpus.codes).ids == set(corpus.expected)


def test_retired_generations_are_kept_while_readable_and_unpublished_ones_removed(synthetic, monkeypatch):
    corpus, index = synthetic
    gens = lambda: sorted(p.name for p in index.glob(f"{generations.GEN_PREFIX}*"))  # noqa: E731
    for _ in range(3):
        build(index, [corpus.dir], full=True)
    assert len(gens()) == 4                       # retired seconds ago: a searcher may still read them
    orphan = generations.new_generation(index)          # a killed build's
    monkeypatch.setattr(generations, "RETIRED_GRACE_SECONDS", 0.0)
    current = generations.current_generation(index).name
    previous = max((p for p in index.glob(f"{generations.GEN_PREFIX}*") if generations.is_retired(p)),
                   key=lambda p: (p / generations.RETIRED).stat().st_mtime).name
    generations.prune_generations(index)
    assert gens() == sorted([current, previous]) and not orphan.exists()
    # CURRENT pointing to a damaged generation: never removed by a prune
    for toc in generations.current_generation(index).glob("_MAIN_*.toc"):
        toc.unlink()
    generations.prune_generations(index)
    assert (index / current).is_dir()


# =========================================================================== 2. searching during rebuilds
def test_searches_during_rebuilds_and_updates_under_load_never_fail(tmp_path):
    """`vnsearch serve --workers 2`, 4 client threads searching (code words: exactly their
    article; common words: at least the hits they had) while full rebuilds, incremental
    updates, POST /api/articles and POST /api/reindex?full=1 run."""
    figures = reliability.load_during_rebuild(tmp_path, rounds=2, threads=4, articles=50, seed=3)
    print(figures.summary())
    assert figures.ok, "\n".join(figures.failures)
    assert figures.requests >= 100 and figures.full_rebuilds == 4 and figures.incremental_updates == 8


@pytest.mark.slow
def test_searches_during_many_rebuilds(tmp_path):
    figures = reliability.load_during_rebuild(tmp_path, rounds=6, threads=6, articles=150, seed=4)
    print(figures.summary())
    assert figures.ok, "\n".join(figures.failures)


# =========================================================================== 3. two writers
def test_two_writers_one_is_busy_one_waits_nothing_lost(synthetic, app_for, tmp_path):
    """A `vnsearch index --full` held inside the build lock (paused just before it swaps
    CURRENT): a second CLI gets a clear "busy"; POST /api/articles answers 202 at once
    (a task), while a CLI with --wait and the task processor wait for the lock and
    finish after it. Nothing is lost or duplicated."""
    corpus, index = synthetic
    for _ in range(3):
        corpus.add_txt()
    held = reliability.PausedWriter(index, ["index", "--full", corpus.dir], r"^symlink \.CURRENT\.", tmp_path)
    try:
        held.wait_paused()
        busy = reliability.run_cli(index, ["index", corpus.dir])
        assert busy.returncode == 1 and "busy" in busy.stderr, busy.stderr

        # The web answers at once (202: a task), writes nothing itself, and the task
        # processor waits for the lock instead of failing.
        client = app_for(index, corpus.dir).test_client()
        article = {"id": "them-vao", "title": "Bài thêm vnr99001", "text": "Nội dung bài thêm vnr99001."}
        response = client.post("/api/articles", json=article, headers=AUTH)
        assert response.status_code == 202 and response.get_json()["status"] == "enqueued"
        uid = response.get_json()["taskUid"]
        assert not list(corpus.dir.glob("them-vao*"))           # the task writes it, not the request

        waiting = subprocess.Popen(reliability.vnsearch_command() + ["--index-dir", str(index), "index",
                                                                    "--wait", "60", str(corpus.dir)],
                                   env=reliability.cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        processor = threading.Thread(target=lambda: tasks_processor.run(index, corpus.dir, once=True,
                                                                         log=lambda line: None))
        processor.start()
        time.sleep(1.0)
        assert waiting.poll() is None and processor.is_alive()   # both waiting, not failed
        with TaskStore(index) as store:
            assert store.get(uid).status == "processing"
        assert reliability.probe(index, corpus.codes).ids != set(corpus.expected)   # not swapped yet
    finally:
        held.release()
    assert held.finish().returncode == 0
    out, err = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, err
    processor.join(timeout=120)
    with TaskStore(index) as store:
        task = store.get(uid)
    assert task.status == "succeeded" and task.details["indexedDocuments"] == 1, task
    corpus.codes["vnr99001"] = "them-vao"
    expected = set(corpus.expected) | {"them-vao"}
    result = reliability.probe(index, corpus.codes)
    assert result.ids == expected and result.documents == len(expected) and not result.problems
    assert reliability.leftovers(index) == []


def test_articles_whose_ids_map_to_one_file_name_are_all_kept(index_dir, corpus_dir, app_for, run_tasks):
    """`a/b`, `a_b`, `.a_b`, `a:b` all become the file name `a_b`: each addition must get
    its own file, not overwrite another's (which silently dropped an acknowledged article)."""
    client = app_for(index_dir, corpus_dir).test_client()
    colliding = ["a_b", "a/b", ".a_b", "a:b", "a?b"]
    for n, article_id in enumerate(colliding):
        record = {"id": article_id, "title": f"Bài {n} vnr8800{n}", "text": f"Nội dung riêng vnr8800{n}."}
        response = client.post("/api/articles", json=record, headers=AUTH)
        assert response.status_code == 202, response.get_json()
    assert run_tasks() == len(colliding)                 # one batch, one commit
    for n, article_id in enumerate(colliding):
        hits = client.get("/api/search", query_string={"q": f"vnr8800{n}"}).get_json()["hits"]
        assert [h["id"] for h in hits] == [article_id]
    files = sorted(p.name for p in corpus_dir.glob("*.jsonl"))
    assert len(files) == len(colliding) and all(not f.startswith(".") for f in files)
    uid = client.post("/api/reindex?full=1", headers=AUTH).get_json()["taskUid"]
    assert run_tasks() == 1
    report = client.get(f"/api/tasks/{uid}", headers=AUTH).get_json()["details"]
    assert report["articlesIndexed"] == len(SEEDS) + len(colliding) and report["problems"] == []


def test_long_vietnamese_ids_get_a_file_name_the_file_system_accepts(index_dir, corpus_dir, app_for, run_tasks):
    client = app_for(index_dir, corpus_dir).test_client()
    article_id = ("đường-" * 34)[:200]                 # 200 characters (the most an id has), 333 UTF-8 bytes
    response = client.post("/api/articles", json={"id": article_id, "text": "Đường làng vnr77001."},
                           headers=AUTH)
    assert response.status_code == 202, response.get_json()
    assert run_tasks() == 1
    assert client.get(f"/api/articles/{article_id}").status_code == 200


def test_concurrent_additions_of_one_id_are_all_accepted_and_the_last_task_wins(index_dir, corpus_dir, app_for,
                                                                               run_tasks):
    """Four requests adding one new id at once: each is a task (202, distinct uids);
    processed in order, the last task's version is the one kept, in the index and in
    the corpus (one line, never two copies)."""
    app = app_for(index_dir, corpus_dir)
    results: dict[int, object] = {}

    def add(n: int) -> None:
        record = {"id": "cung-ma", "title": f"Phiên bản {n}", "text": f"Nội dung phiên bản vnr6600{n}."}
        results[n] = app.test_client().post("/api/articles", json=record, headers=AUTH)

    threads = [threading.Thread(target=add, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(r.status_code for r in results.values()) == [202] * 4
    uids = {n: r.get_json()["taskUid"] for n, r in results.items()}
    assert len(set(uids.values())) == 4
    assert run_tasks() == 4
    last = max(uids, key=uids.get)
    stored = app.test_client().get("/api/articles/cung-ma").get_json()
    assert stored["title"] == f"Phiên bản {last}"
    assert [json.loads(line)["title"] for p in corpus_dir.glob("*.jsonl")
            for line in p.read_text(encoding="utf-8").splitlines()] == [f"Phiên bản {last}"]


# =========================================================================== 5. hostile files
def _drop_dac_capabilities() -> list[str]:
    """A command prefix that makes permissions apply to root too (tests often run as root)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    probe = subprocess.run([setpriv, "--bounding-set", "-dac_override,-dac_read_search", "true"],
                           capture_output=True)
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search"] if probe.returncode == 0 else None


def test_hostile_files_are_reported_by_name_and_everything_else_indexed(tmp_path):
    corpus = make_corpus(tmp_path, extra=False)
    prefix = _drop_dac_capabilities()
    good = lambda i, **kw: json.dumps({"id": f"tot-{i}", "title": f"Bài tốt {i}",  # noqa: E731
                                       "text": f"Nội dung tốt vnr5500{i}.", **kw}, ensure_ascii=False)
    (corpus / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    (corpus / "invalid-utf8.txt").write_bytes("Tiêu đề\n\nNội dung ".encode() + b"\xff\xfe\xc3\x28 h\xe0nh")
    (corpus / "utf16.txt").write_bytes("Tiêu đề\n\nNội dung".encode("utf-16"))
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blank.txt").write_text(" \n\t\n", encoding="utf-8")
    with open(corpus / "huge.txt", "wb") as f:                      # 50 MB
        f.write("Tiêu đề rất dài\n\n".encode())
        f.truncate(50 * 1024 * 1024)
    with open(corpus / "huge-line.jsonl", "w", encoding="utf-8") as f:
        f.write(good(1) + "\n")
        f.write('{"id": "khong-lo", "title": "x", "text": "' + "chu " * (13 * 1024 * 1024) + '"}\n')  # 52 MB
        f.write(good(2) + "\n")
    (corpus / "broken.jsonl").write_bytes(b"\n".join([
        good(3).encode(),                                               # 1
        b"{not json",                                                   # 2
        b'{"id": "thieu-text"}',                                        # 3
        good(4, url="javascript:alert(1)").encode(),                    # 4
        b"[1, 2]",                                                      # 5
        b"[" * 100_000 + b"]" * 100_000,                                # 6
        good(3).encode(),                                               # 7 (id of line 1 again)
        good(5).encode(),                                               # 8
        b'{"id": "bad-bytes", "text": "\xff\xfe"}',                      # 9
    ]) + b"\n")
    (corpus / "truncated.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 40)
    (corpus / "sub").mkdir()
    os.symlink("..", corpus / "sub" / "back")                      # a directory loop
    os.symlink("self.txt", corpus / "self.txt")                     # a link to itself
    os.symlink(corpus / "missing.txt", corpus / "dangling.txt")
    os.mkfifo(corpus / "fifo.txt")                                  # would block a naive reader
    expected = {
        "binary.txt": "binary file", "invalid-utf8.txt": "invalid UTF-8", "utf16.txt": "UTF-16",
        "empty.txt": "empty", "blank.txt": "empty", "huge.txt": "too large",
        "huge-line.jsonl:2": "too large", "broken.jsonl:2": "invalid JSON", "broken.jsonl:3": "missing 'text'",
        "broken.jsonl:4": "url", "broken.jsonl:5": "not a JSON object", "broken.jsonl:6": "nested too deeply",
        "broken.jsonl:7": "duplicate id", "broken.jsonl:9": "invalid UTF-8",
        "truncated.jsonl.gz": "gzip", "sub/back": "symlink loop", "self.txt": "symlink loop",
        "dangling.txt": "broken symlink", "fifo.txt": "not a regular file",
    }
    if prefix is not None:
        (corpus / "secret.txt").write_text("Bí mật\n\nNội dung bí mật.", encoding="utf-8")
        (corpus / "secret.txt").chmod(0)
        (corpus / "locked").mkdir()
        (corpus / "locked" / "a.txt").write_text("Khoá\n\nNội dung khoá.", encoding="utf-8")
        (corpus / "locked").chmod(0)
        expected.update({"secret.txt": "permission denied", "locked": "permission denied"})
    index = tmp_path / "index"
    try:
        done = subprocess.run((prefix or []) + reliability.vnsearch_command()
                              + ["--index-dir", str(index), "index", str(corpus)],
                              env=reliability.cli_env(), capture_output=True, text=True, timeout=300)
    finally:
        if prefix is not None:
            (corpus / "secret.txt").chmod(0o644)
            (corpus / "locked").chmod(0o755)
    assert done.returncode == 0, done.stderr
    reported = dict(re.findall(r"^skipped (\S+): (.*)$", done.stderr, re.M))
    for name, reason in expected.items():
        assert name in reported and reason in reported[name], (name, reported.get(name), done.stderr)
    assert "kept without its 'url'" in reported["broken.jsonl:4"]        # a bad optional field: indexed without it
    good_ids = {p.stem for p in SEEDS} | {f"tot-{i}" for i in (1, 2, 3, 4, 5)}
    assert f"{len(good_ids)} articles indexed" in done.stdout, done.stdout
    with SearchEngine(index) as engine:
        assert engine.stats()["documents"] == len(good_ids)
        for i in (1, 2, 3, 4, 5):
            assert ids(engine, f"vnr5500{i}") == {f"tot-{i}"}
        assert engine.get_article("tot-4")["url"] is None           # the javascript: URL was refused
    if prefix is None and os.geteuid() == 0:
        pytest.skip("unreadable files not checked: running as root without setpriv")


# =========================================================================== 6. hostile requests
@pytest.mark.parametrize("url", [
    "/static/../__init__.py", "/static/%2e%2e/__init__.py", "/static/..%2f__init__.py",
    "/static/%2e%2e%2fapi.py", "/static/..%5c__init__.py", "/static/%252e%252e/__init__.py",
    "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/static/..;/__init__.py",
    "/articles/..%2f..%2f..%2fetc%2fpasswd", "/articles/%2e%2e/%2e%2e/pyproject.toml",
    "/api/articles/..%2F..%2Fpyproject.toml", "/api/articles/%00", "/articles/..%00/x",
])
def test_path_traversal_never_reads_a_file(client, url):
    response = client.get(url, follow_redirects=True)
    body = response.get_data()
    response.close()
    assert response.status_code in (400, 404), (url, response.status_code)
    for secret in (b"root:", b"import ", b"[project]", b"def "):
        assert secret not in body, (url, secret)


@pytest.mark.parametrize("article_id", ["../../evil", "/etc/cron.d/x", "..", "../corpus/000_4120920cae5b93dc",
                                        "....//x", "a/./b", "tin-tuc/"])
def test_path_like_article_ids_are_refused_and_write_nothing(index_dir, corpus_dir, app_for, article_id):
    client = app_for(index_dir, corpus_dir).test_client()
    before = {p for p in corpus_dir.parent.rglob("*")}
    response = client.post("/api/articles", json={"id": article_id, "text": "Nội dung vnr44001."}, headers=AUTH)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "invalid_article"
    assert "'id'" in response.get_json()["error"]["message"]
    assert {p for p in corpus_dir.parent.rglob("*")} == before


@pytest.mark.parametrize("article_id", [".hidden", "a\\..\\..\\b", "~root/.ssh/authorized_keys", "....",
                                        "tin-tuc/thoi-su/bai", "a..b/c"])
def test_added_article_ids_never_escape_the_corpus_directory(index_dir, corpus_dir, app_for, article_id, run_tasks):
    client = app_for(index_dir, corpus_dir).test_client()
    before = {p for p in corpus_dir.parent.rglob("*")}
    response = client.post("/api/articles", json={"id": article_id, "text": "Nội dung vnr44001."}, headers=AUTH)
    assert response.status_code == 202, response.get_json()
    assert run_tasks() == 1
    new = {p for p in corpus_dir.parent.rglob("*")} - before
    new_files = [p for p in new if p.parent == corpus_dir]
    assert len(new_files) == 1 and not new_files[0].name.startswith("."), new
    assert all(p.is_relative_to(corpus_dir) or p.is_relative_to(index_dir) for p in new), new
    hits = client.get("/api/search", query_string={"q": "vnr44001"}).get_json()["hits"]
    assert [h["id"] for h in hits] == [article_id]


@pytest.mark.parametrize("method, url", [
    ("POST", "/api/reindex"), ("POST", "/api/articles"), ("GET", "/api/search?q=dang"), ("GET", "/"),
    ("POST", "/api/search?q=dang"),
])
def test_oversized_bodies_are_413_on_every_route(app_for, index_dir, corpus_dir, method, url):
    """Werkzeug only enforces MAX_CONTENT_LENGTH when a view reads the body: POST
    /api/reindex with a 64 KB body (limit 1 KB) used to run a reindex."""
    client = app_for(index_dir, corpus_dir, MAX_CONTENT_LENGTH=1024).test_client()
    generation = generations.current_generation(index_dir)
    response = client.open(url, method=method, data=b"x" * 65536, headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 413
    if url.startswith("/api/"):
        assert response.get_json() == {"error": {"code": "payload_too_large", "message": "The request body is too large."}}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert generations.current_generation(index_dir) == generation                     # nothing was rebuilt


def test_an_unexpected_error_is_a_500_in_the_error_shape_with_headers_and_no_traceback(
        index_dir, corpus_dir, app_for, monkeypatch):
    client = app_for(index_dir, corpus_dir, TESTING=False).test_client()     # no exception propagation

    def boom(*args, **kwargs):
        raise RuntimeError("secret internal detail /work/main")

    monkeypatch.setattr(SearchEngine, "search", boom)
    for url, json_api in (("/api/search?q=dang", True), ("/?q=dang", False)):
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "secret internal detail" not in body and "Traceback" not in body
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        if json_api:
            assert response.get_json()["error"]["code"] == "internal_error"


def test_json_consumers_get_markup_escaped_in_formatted_fields_and_a_nosniff_json_type(tmp_path, app_for):
    corpus = make_corpus(tmp_path, extra=False)
    hostile = {"id": "doc-hai", "title": "<script>alert(1)</script> tiêu đề", "url": "https://example.org/\"><x",
               "text": "Thân bài <img src=x onerror=alert(2)> <a href=\"javascript:alert(3)\">bấm</a> tiêu đề."}
    (corpus / "hai.jsonl").write_text(json.dumps(hostile, ensure_ascii=False) + "\n", encoding="utf-8")
    build(tmp_path / "index", [corpus])
    client = app_for(tmp_path / "index", corpus).test_client()
    response = client.get("/api/search", query_string={"q": "tieu de"})
    assert response.mimetype == "application/json" and response.headers["X-Content-Type-Options"] == "nosniff"
    hit = next(h for h in response.get_json()["hits"] if h["id"] == "doc-hai")
    assert hit["title"] == hostile["title"]                          # the data as stored, for the consumer
    for formatted in hit["_formatted"].values():                     # HTML: only <mark> is markup
        assert not re.sub(r"</?mark>", "", formatted).count("<"), formatted
    assert hit["_formatted"]["title"].startswith("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert "&lt;a href=&quot;javascript:alert(3)&quot;&gt;" in hit["_formatted"]["body"]


@pytest.mark.browser
def test_hostile_urls_and_json_never_run_script_in_chromium(chromium, server):
    """Stored and reflected markup opened straight in the browser: JSON documents (served
    as application/json with nosniff), error pages reflecting the path or the query, the
    article page with a query closing <mark>. A dialog listener catches any alert()."""
    from tests.web.test_browser import Tab

    tab = Tab(chromium, server.url)
    try:
        for url in ("/api/search?q=" + quote("<script>alert(1)</script> dang"),
                    "/api/articles/hostile-1", "/api/suggest?q=" + quote("<img src=x onerror=alert(2)> d"),
                    "/api/" + quote("<script>alert(3)</script>"), "/openapi.json",
                    "/khong-co/" + quote("<script>alert(4)</script>"),
                    "/articles/" + quote("<svg onload=alert(5)>", safe=""),
                    "/?q=" + quote("<script>alert(6)</script>") + "&page=" + quote("<b>x"),
                    "/articles/hostile-1?q=" + quote("</mark><script>alert(7)</script><mark>"),
                    "/?q=" + quote("javascript:alert(8)")):
            response = tab.page.goto(url)
            assert response.status < 500, (url, response.status)
            assert response.headers["x-content-type-options"] == "nosniff"
            assert tab.page.evaluate(
                "document.querySelectorAll('script:not([src]), [onerror], [onload], a[href^=javascript]').length"
            ) == 0, url
        tab.page.wait_for_timeout(300)
        assert not tab.dialogs, tab.dialogs
    finally:
        tab.close()


# =========================================================================== 7. durability
@pytest.fixture
def fsyncs(monkeypatch):
    """Record fsync (by path) and rename/replace/symlink, in call order."""
    events: list[tuple] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.path.realpath(os.readlink(f"/proc/self/fd/{fd}"))))
        return real_fsync(fd)

    def where(path) -> str:     # the directory resolved, not the name (CURRENT is a symlink)
        path = os.path.abspath(os.fspath(path))
        return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))

    def replace(src, dst, *a, **k):
        events.append(("replace", where(src), where(dst)))
        return real_replace(src, dst, *a, **k)

    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc/self/fd to name fsynced descriptors")
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


def _assert_published_durably(events: list[tuple], index: Path) -> None:
    gen = generations.current_generation(index)
    swap = next(i for i, e in enumerate(events) if e[0] == "replace" and e[2].endswith(f"/{generations.CURRENT}"))
    synced_before = {e[1] for e in events[:swap] if e[0] == "fsync"}
    for p in gen.iterdir():
        assert str(p.resolve()) in synced_before, f"{p.name} not fsynced before CURRENT pointed to it"
    assert str(gen.resolve()) in synced_before, "the generation directory was not fsynced before the swap"
    assert ("fsync", str(index.resolve())) in events[swap + 1:], "the index directory not fsynced after the swap"


def test_a_finished_build_is_on_disk_before_it_returns(tmp_path, fsyncs):
    corpus = make_corpus(tmp_path / "c", extra=False)
    index = tmp_path / "new" / "index"
    build(index, [corpus], full=True)
    _assert_published_durably(fsyncs, index)
    assert ("fsync", str((tmp_path / "new").resolve())) in fsyncs     # the new index directory's entry
    assert ("fsync", str(tmp_path.resolve())) in fsyncs
    fsyncs.clear()
    (corpus / "moi.txt").write_text("Tin mới\n\nNội dung tin mới.", encoding="utf-8")
    build(index, [corpus])                                             # incremental
    _assert_published_durably(fsyncs, index)


def test_an_added_article_is_on_disk_before_its_task_is_indexed(index_dir, corpus_dir, app_for, fsyncs, run_tasks):
    client = app_for(index_dir, corpus_dir).test_client()
    response = client.post("/api/articles", json={"id": "ben-vung", "text": "Bền vững vnr33001."}, headers=AUTH)
    assert response.status_code == 202
    assert run_tasks() == 1
    target = str((corpus_dir / "ben-vung.jsonl").resolve())
    write = next(i for i, e in enumerate(fsyncs) if e[0] == "replace" and e[2] == target)
    tmp = fsyncs[write][1]
    assert ("fsync", tmp) in fsyncs[:write], "the article's bytes were not fsynced before the rename"
    assert ("fsync", str(corpus_dir.resolve())) in fsyncs[write + 1:], "the corpus directory was not fsynced"
    _assert_published_durably(fsyncs[write + 1:], index_dir)
