"""Building: full and incremental, atomic swap, crash safety, bad files."""

import os
from pathlib import Path

import numpy as np
import pytest

import indexer.analysis.pipeline
import indexer.index.build
from indexer import build, SearchEngine
from indexer.index import generations
from tests.support import SEEDS, count_merges, make_corpus, open_engine  # noqa: F401 (fixture)


@pytest.fixture
def corpus(tmp_path):
    return make_corpus(tmp_path, extra=False)


@pytest.fixture
def index_dir(tmp_path):
    return tmp_path / "index"


def ids(engine, q):
    return {h["id"] for h in engine.search(q, hits_per_page=100)["hits"]}


@pytest.fixture
def segment_calls(monkeypatch):
    """Record every text the analyzer segments."""
    seen = []
    real = indexer.analysis.pipeline.segment

    def spy(text):
        seen.append(text)
        return real(text)

    monkeypatch.setattr(indexer.analysis.pipeline, "segment", spy)
    monkeypatch.setattr(indexer.analysis.pipeline, "_cache", indexer.analysis.pipeline._AnalysisCache())
    return seen


def test_full_build_indexes_every_seed(open_engine, corpus, index_dir):
    report = build(index_dir, [corpus])
    assert report.full and report.articles_indexed == len(SEEDS) and not report.problems
    engine = open_engine(index_dir)
    assert engine.stats()["documents"] == len(SEEDS)
    assert ids(engine, "đảng") == {p.stem for p in SEEDS}


def test_segments_are_not_compound(corpus, index_dir):
    build(index_dir, [corpus])
    gen = generations.current_generation(index_dir)
    assert not list(gen.glob("*.seg"))          # compound files get copied into the heap
    assert list(gen.glob("*.vnpost")) and not list(gen.glob("*.pst"))   # postings stored once, by the codec


def test_incremental_add_edit_delete_without_resegmenting_unchanged(open_engine, corpus, index_dir, segment_calls):
    build(index_dir, [corpus])
    engine = open_engine(index_dir)
    segment_calls.clear()

    new = corpus / "moi.txt"
    new.write_text("Lễ hội cà phê Buôn Ma Thuột\n\nLễ hội cà phê lần thứ tám khai mạc.\n", encoding="utf-8")
    report = build(index_dir, [corpus])
    assert (report.files_added, report.files_updated, report.files_deleted) == (1, 0, 0)
    assert report.files_unchanged == len(SEEDS)
    # only the new article's title and body were segmented
    assert sorted(segment_calls) == ["Lễ hội cà phê Buôn Ma Thuột", "Lễ hội cà phê lần thứ tám khai mạc."]
    assert engine.refresh() and ids(engine, '"ca phe"') == {"moi"}

    new.write_text("Lễ hội trà xanh\n\nLễ hội trà xanh Thái Nguyên.\n", encoding="utf-8")
    segment_calls.clear()
    report = build(index_dir, [corpus])
    assert report.files_updated == 1 and report.articles_indexed == 1
    assert engine.refresh()
    assert sorted(segment_calls) == ["Lễ hội trà xanh", "Lễ hội trà xanh Thái Nguyên."]
    assert ids(engine, '"ca phe"') == set() and ids(engine, '"tra xanh"') == {"moi"}

    new.unlink()
    report = build(index_dir, [corpus])
    assert report.files_deleted == 1 and report.articles_indexed == 0
    assert engine.refresh() and ids(engine, '"tra xanh"') == set()
    assert engine.stats()["documents"] == len(SEEDS)


def test_nothing_changed_is_a_no_op(corpus, index_dir, segment_calls):
    build(index_dir, [corpus])
    segment_calls.clear()
    report = build(index_dir, [corpus])
    assert not report.changed and segment_calls == []


def test_full_rebuild_swaps_atomically_and_old_searcher_keeps_working(open_engine, corpus, index_dir):
    build(index_dir, [corpus])
    first = generations.current_generation(index_dir)
    old = open_engine(index_dir)
    before = ids(old, "đảng ủy")
    (corpus / "moi.txt").write_text("Đảng ủy phường\n\nĐảng ủy phường họp.\n", encoding="utf-8")
    report = build(index_dir, [corpus], full=True)
    assert report.full and generations.current_generation(index_dir) != first
    assert ids(old, "đảng ủy") == before                # still serving the old generation
    assert old.refresh() and "moi" in ids(old, "đảng ủy")
    assert (index_dir / generations.CURRENT).is_symlink()


def test_crash_mid_full_build_leaves_previous_index_serving(open_engine, corpus, index_dir, monkeypatch):
    build(index_dir, [corpus])
    current = generations.current_generation(index_dir)
    engine = open_engine(index_dir)
    before = ids(engine, "dang uy")

    calls = {"n": 0}
    real = indexer.index.build.article_fields

    def boom(article):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed mid-build")
        return real(article)

    monkeypatch.setattr(indexer.index.build, "article_fields", boom)
    with pytest.raises(KeyboardInterrupt):
        build(index_dir, [corpus], full=True)
    assert generations.current_generation(index_dir) == current
    assert ids(open_engine(index_dir), "dang uy") == before
    monkeypatch.setattr(indexer.index.build, "article_fields", real)
    report = build(index_dir, [corpus], full=True)
    assert report.articles_indexed == len(SEEDS)
    # the abandoned generation was pruned
    gens = [p for p in index_dir.iterdir() if p.name.startswith(generations.GEN_PREFIX)]
    assert len(gens) <= generations.KEEP_GENERATIONS


def test_second_writer_gets_busy(corpus, index_dir):
    build(index_dir, [corpus])
    with generations.write_lock(index_dir):
        with pytest.raises(generations.IndexBusy):
            build(index_dir, [corpus], lock_timeout=0.2)
    assert build(index_dir, [corpus]).files_unchanged == len(SEEDS)


def test_bad_files_are_reported_and_the_rest_indexed(corpus, index_dir):
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 100)
    (corpus / "latin1.txt").write_bytes("Tiêu đề\n\nNội dung".encode("utf-16"))
    (corpus / "empty.txt").write_bytes(b"")
    report = build(index_dir, [corpus])
    reported = {p.path.split(":")[0] for p in report.problems}
    assert {"binary.txt", "latin1.txt", "empty.txt"} <= reported
    assert report.articles_indexed == len(SEEDS)


@pytest.mark.parametrize("furniture", ["news_title", "news_picture", "Thiết kế bởi VNPT", "02623.856453",
                                       "Quay lên trên", "Bài viết mới nhất"])
def test_page_furniture_is_not_searchable(open_engine, corpus, index_dir, furniture):
    build(index_dir, [corpus])
    engine = open_engine(index_dir)
    assert engine.search(f'"{furniture}"')["totalHits"] == 0


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(generations.IndexNotFound, match="vnsearch index"):
        SearchEngine(tmp_path / "nothing")


def test_a_missing_corpus_path_is_refused_not_read_as_empty(corpus, index_dir, open_engine):
    build(index_dir, [corpus])
    with pytest.raises(FileNotFoundError, match="corpus path not found"):
        build(index_dir, [corpus.parent / "typo"])
    assert open_engine(index_dir).stats()["documents"] == len(SEEDS)


# --------------------------------------------------------------------------- parallel builds
import json   # noqa: E402
import multiprocessing   # noqa: E402
import signal   # noqa: E402

import indexer.index.inverter   # noqa: E402
import indexer.index.parallel   # noqa: E402
import indexer.index.merge   # noqa: E402
from indexer.index.schema import make_schema   # noqa: E402


def _rich_corpus(root: Path) -> Path:
    """The seeds and extra articles, plus two JSON-lines files of articles made
    from the seeds' paragraphs (some with date, url, source), a duplicate id in
    a file and across files, and a bad file."""
    corpus = make_corpus(root, extra=True)
    paragraphs = [p.strip() for seed in SEEDS for p in seed.read_text(encoding="utf-8").split("\n")
                  if len(p.strip()) > 30]
    lines = []
    for i, p in enumerate(paragraphs):
        record = {"id": f"p{i}", "title": " ".join(p.split()[:8]), "text": p}
        if i % 3 == 0:
            record.update(date=f"2020-01-{i % 28 + 1:02d}", url=f"https://example.vn/{i}", source="Báo thử")
        lines.append(json.dumps(record, ensure_ascii=False))
    assert len(lines) >= 20
    half = len(lines) // 2
    (corpus / "a.jsonl").write_text("\n".join(lines[:half] + [lines[0]]) + "\n", encoding="utf-8")
    (corpus / "b.jsonl").write_text("\n".join(lines[half:] + [lines[1]]) + "\n", encoding="utf-8")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02PNG\x00" * 100)
    return corpus


def index_contents(index_dir: Path) -> dict:
    """Everything a search can read: stored documents, and every field's terms
    with their postings (document, weight, encoded positions/characters), and
    field lengths, by global document number; deleted documents left out."""
    ix = generations.open_current(index_dir)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        live = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
        renumber = {d: i for i, d in enumerate(live)}
        docs = [reader.stored_fields(d) for d in live]
        postings = []
        for leaf, offset in searcher.leaf_searchers():
            for fieldname, text, docnum, weight, value in leaf.reader().iter_postings():
                if docnum + offset in renumber:
                    postings.append((fieldname, text, renumber[docnum + offset], weight, value))
        fields = [n for n in ix.schema.names() if ix.schema[n].scorable]
        lengths = {(f, renumber[d]): reader.doc_field_length(d, f) for f in fields for d in live}
    return {"docs": docs, "postings": sorted(postings), "lengths": lengths}


def _field_totals(index_dir: Path) -> dict[str, int]:
    """Whoosh's token total of every scorable field (what its own BM25F averages by)."""
    ix = generations.open_current(index_dir)
    with ix.searcher() as s:
        return {n: s.reader().field_length(n) for n in ix.schema.names() if ix.schema[n].scorable}


def _segment_count(index_dir: Path) -> int:
    with generations.open_current(index_dir).searcher() as s:
        return len(s.reader().leaf_readers())


@pytest.mark.parametrize("segment_docs", [None, 7])
def test_parallel_build_writes_the_same_index_as_one_process(tmp_path, monkeypatch, open_engine, segment_docs):
    merges = count_merges(monkeypatch, tmp_path / "merged.log")
    if segment_docs:        # each worker writes several segments, each handed to the codec in many batches, then merges them
        monkeypatch.setattr(indexer.index.parallel, "SEGMENT_DOCS", segment_docs)
        monkeypatch.setattr(indexer.index.inverter, "BATCH_VALUES", 50)
        monkeypatch.setattr(indexer.index.merge, "BATCH_VALUES", 50)
    corpus = _rich_corpus(tmp_path)
    one = build(tmp_path / "one", [corpus], full=True, workers=1)
    par = build(tmp_path / "par", [corpus], full=True, workers=3, parallel_min=2)
    gen = generations.current_generation(tmp_path / "par")
    assert _segment_count(tmp_path / "par") == 3      # really the parallel path: one segment a worker
    merged = merges()
    assert len(merged) == 3 and (merged == [1, 1, 1] if segment_docs is None else max(merged) > 2)
    assert not [p for p in gen.iterdir() if p.name.endswith(".tmp")]   # worker runs removed
    assert par.articles_indexed == one.articles_indexed > 20
    assert [(p.path, p.reason) for p in par.problems] == [(p.path, p.reason) for p in one.problems]
    assert any("duplicate id 'p1'" in p.reason for p in par.problems)
    a, b = index_contents(tmp_path / "one"), index_contents(tmp_path / "par")
    assert a["docs"] == b["docs"]                       # same documents, same order
    assert len(a["postings"]) > 1000 and a["postings"] == b["postings"]
    assert a["lengths"] == b["lengths"]
    assert _field_totals(tmp_path / "one") == _field_totals(tmp_path / "par")
    assert generations.read_manifest(generations.current_generation(tmp_path / "one")) == generations.read_manifest(gen)
    engines = open_engine(tmp_path / "one"), open_engine(tmp_path / "par")
    for q in ("đảng viên", "dang vien", '"dang vien"', "kinh tế -xã", "Báo thử", "hòa bình thủy"):
        ranked = []
        for e in engines:
            docnums, scores, total = e._executor.rank(e.compile(q), 50, exact_total=True)[:3]
            ids = [e._searcher.stored_fields(int(d))["id"] for d in docnums]
            ranked.append((ids, np.round(scores, 9).tolist(), total))
        assert ranked[0][2] > 0 and ranked[0] == ranked[1], q


def test_parallel_incremental_build_matches_one_process(tmp_path, open_engine):
    corpus = make_corpus(tmp_path / "c", extra=True)
    for name, workers in (("one", 1), ("par", 2)):
        build(tmp_path / name, [corpus], workers=1)
    rich = _rich_corpus(tmp_path / "r")
    for p in rich.iterdir():                            # new files, and an edited seed
        if not (corpus / p.name).exists():
            (corpus / p.name).write_bytes(p.read_bytes())
    (corpus / SEEDS[0].name).write_text("Lễ hội cà phê\n\nLễ hội cà phê Buôn Ma Thuột.\n", encoding="utf-8")
    (corpus / SEEDS[1].name).unlink()
    segments_before = _segment_count(tmp_path / "par")
    reports = {name: build(tmp_path / name, [corpus], workers=workers, parallel_min=2)
               for name, workers in (("one", 1), ("par", 2))}
    assert _segment_count(tmp_path / "par") == segments_before + 2     # really the parallel path
    assert reports["one"].articles_indexed == reports["par"].articles_indexed > 20
    a, b = index_contents(tmp_path / "one"), index_contents(tmp_path / "par")
    assert a == b
    assert open_engine(tmp_path / "par").search('"ca phe"')["totalHits"] == 1


def test_small_builds_stay_in_one_process(corpus, index_dir, monkeypatch):
    def no_fork(*args, **kwargs):
        raise AssertionError("forked for a small build")
    monkeypatch.setattr(indexer.index.parallel, "index_ranges", no_fork)
    build(index_dir, [corpus], workers=2)               # fewer than PARALLEL_MIN_ARTICLES
    (corpus / "moi.txt").write_text("Lễ hội cà phê\n\nLễ hội cà phê lần thứ tám.\n", encoding="utf-8")
    assert build(index_dir, [corpus], workers=2).articles_indexed == 1


def _gens(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith(generations.GEN_PREFIX))


@pytest.mark.parametrize("failure", ["raise", "kill"])
def test_a_failing_worker_cancels_the_build_and_the_previous_index_keeps_serving(
        tmp_path, open_engine, monkeypatch, failure):
    corpus = _rich_corpus(tmp_path)
    index_dir = tmp_path / "index"
    build(index_dir, [corpus], workers=1)
    current, before = generations.current_generation(index_dir), _gens(index_dir)
    real = indexer.index.build.article_fields

    def fail_on_p7(article):             # runs in a worker process
        if article.id == "p7":
            if failure == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            raise ValueError("worker failed on p7")
        return real(article)

    monkeypatch.setattr(indexer.index.build, "article_fields", fail_on_p7)
    expected = indexer.index.parallel.WorkerDied if failure == "kill" else ValueError
    with pytest.raises(expected):
        build(index_dir, [corpus], full=True, workers=2, parallel_min=2)
    assert generations.current_generation(index_dir) == current
    assert _gens(index_dir) == before                   # the unpublished generation is gone
    assert open_engine(index_dir).stats()["documents"] > 20
    monkeypatch.setattr(indexer.index.build, "article_fields", real)
    assert build(index_dir, [corpus], full=True, workers=2, parallel_min=2).articles_indexed > 20


def test_interrupting_a_parallel_build_stops_its_workers(tmp_path, monkeypatch):
    corpus = _rich_corpus(tmp_path)
    index_dir = tmp_path / "index"
    build(index_dir, [corpus], workers=1)
    current, before = generations.current_generation(index_dir), _gens(index_dir)
    started = []
    real_wait = indexer.index.parallel.multiprocessing.connection.wait

    def interrupted(objects, timeout=None):
        started.extend(multiprocessing.active_children())
        raise KeyboardInterrupt

    monkeypatch.setattr(indexer.index.parallel.multiprocessing.connection, "wait", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(index_dir, [corpus], full=True, workers=2, parallel_min=2)
    monkeypatch.setattr(indexer.index.parallel.multiprocessing.connection, "wait", real_wait)
    assert len(started) == 2 and not any(p.is_alive() for p in started)
    assert generations.current_generation(index_dir) == current and _gens(index_dir) == before


def test_split_ranges_are_contiguous_and_balanced():
    split = indexer.index.parallel.split_ranges
    assert split([1] * 10, 2) == [(0, 5), (5, 10)]
    assert split([1] * 3, 5) == [(0, 1), (1, 2), (2, 3)]
    assert split([100, 1, 1, 1, 1], 2) == [(0, 1), (1, 5)]
    assert split([1, 1, 1, 1, 100], 2) == [(0, 4), (4, 5)]
    for sizes in ([5, 3, 8, 1, 1, 9, 2], [1] * 7, [3, 1]):
        for parts in (1, 2, 3):
            ranges = split(sizes, parts)
            assert ranges[0][0] == 0 and ranges[-1][1] == len(sizes)
            assert all(lo < hi for lo, hi in ranges) and all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))


@pytest.mark.parametrize("text", [
    "Đảng ủy phường họp. Đảng viên tham gia đầy đủ!",
    "Thủ tướng Nguyễn Xuân Phúc: “Hoà bình” và hòa bình, thuỷ/thủy — ĐẢNG VIÊN; Bộ Y tế 2020-01-02",
    "Hoa\u0300 bi\u0300nh o\u031bi\u0309 Ha\u0300 No\u0323i",             # NFD, old-style tone placement
    "", "   ", "a", "COVID-19 e-mail U23 Việt Nam vô địch SEA Games 30",
])
def test_the_workers_term_positions_match_whooshs_analyzer(text):
    """The inverter's terms and positions are what the fields' Whoosh analyzers yield."""
    from indexer.index.inverter import term_positions
    schema = make_schema()

    def whooshs(name, value):
        out: dict[str, list[int]] = {}
        for t in schema[name].analyzer(value, positions=True):
            out.setdefault(t.text, []).append(t.pos)
        return out
    for name, folded in (("title_x", False), ("title_f", True), ("body_x", False), ("body_f", True)):
        assert term_positions(text, folded) == whooshs(name, text)
    for seed in SEEDS:
        body = seed.read_text(encoding="utf-8")
        for name, folded in (("body_x", False), ("body_f", True)):
            assert term_positions(body, folded) == whooshs(name, body)


@pytest.mark.parametrize("counts, freqs, limit", [([1, 2, 3], [1, 1, 1, 1, 1, 1], 4), ([5], [9, 9, 9, 9, 9], 3),
                                                  ([2, 2, 2, 2], None, 4), ([3, 1, 1], [4, 4, 4, 1, 1], 100)])
def test_the_inverters_batches_cover_every_term_once_within_the_limit(monkeypatch, counts, freqs, limit):
    monkeypatch.setattr(indexer.index.inverter, "BATCH_VALUES", limit)
    counts = np.asarray(counts)
    batches = indexer.index.inverter._batches(counts, None if freqs is None else np.asarray(freqs))
    assert [lo for lo, _ in batches] == [0] + [hi for _, hi in batches[:-1]] and batches[-1][1] == len(counts)
    values = counts + (np.add.reduceat(freqs, np.cumsum(counts) - counts) if freqs is not None else 0)
    assert all(hi - lo == 1 or values[lo:hi].sum() <= limit for lo, hi in batches)
