"""Building: full and incremental, atomic swap, crash safety, bad files."""

import os
from pathlib import Path

import pytest

import indexer.analysis
import indexer.indexing
from indexer import build, SearchEngine
from indexer import store
from tests.support import SEEDS, make_corpus, open_engine  # noqa: F401 (fixture)


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
    real = indexer.analysis.segment

    def spy(text):
        seen.append(text)
        return real(text)

    monkeypatch.setattr(indexer.analysis, "segment", spy)
    indexer.analysis._cache = indexer.analysis._AnalysisCache()
    return seen


def test_full_build_indexes_every_seed(open_engine, corpus, index_dir):
    report = build(index_dir, [corpus])
    assert report.full and report.articles_indexed == len(SEEDS) and not report.problems
    engine = open_engine(index_dir)
    assert engine.stats()["documents"] == len(SEEDS)
    assert ids(engine, "đảng") == {p.stem for p in SEEDS}


def test_segments_are_not_compound(corpus, index_dir):
    build(index_dir, [corpus])
    gen = store.current_generation(index_dir)
    assert not list(gen.glob("*.seg"))          # compound files get copied into the heap
    assert list(gen.glob("*.pst"))


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
    first = store.current_generation(index_dir)
    old = open_engine(index_dir)
    before = ids(old, "đảng ủy")
    (corpus / "moi.txt").write_text("Đảng ủy phường\n\nĐảng ủy phường họp.\n", encoding="utf-8")
    report = build(index_dir, [corpus], full=True)
    assert report.full and store.current_generation(index_dir) != first
    assert ids(old, "đảng ủy") == before                # still serving the old generation
    assert old.refresh() and "moi" in ids(old, "đảng ủy")
    assert (index_dir / store.CURRENT).is_symlink()


def test_crash_mid_full_build_leaves_previous_index_serving(open_engine, corpus, index_dir, monkeypatch):
    build(index_dir, [corpus])
    current = store.current_generation(index_dir)
    engine = open_engine(index_dir)
    before = ids(engine, "dang uy")

    calls = {"n": 0}
    real = indexer.indexing.article_fields

    def boom(article):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed mid-build")
        return real(article)

    monkeypatch.setattr(indexer.indexing, "article_fields", boom)
    with pytest.raises(KeyboardInterrupt):
        build(index_dir, [corpus], full=True)
    assert store.current_generation(index_dir) == current
    assert ids(open_engine(index_dir), "dang uy") == before
    monkeypatch.setattr(indexer.indexing, "article_fields", real)
    report = build(index_dir, [corpus], full=True)
    assert report.articles_indexed == len(SEEDS)
    # the abandoned generation was pruned
    gens = [p for p in index_dir.iterdir() if p.name.startswith(store.GEN_PREFIX)]
    assert len(gens) <= store.KEEP_GENERATIONS


def test_second_writer_gets_busy(corpus, index_dir):
    build(index_dir, [corpus])
    with store.write_lock(index_dir):
        with pytest.raises(store.IndexBusy):
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
    with pytest.raises(store.IndexNotFound, match="vnsearch index"):
        SearchEngine(tmp_path / "nothing")


def test_a_missing_corpus_path_is_refused_not_read_as_empty(corpus, index_dir, open_engine):
    build(index_dir, [corpus])
    with pytest.raises(FileNotFoundError, match="corpus path not found"):
        build(index_dir, [corpus.parent / "typo"])
    assert open_engine(index_dir).stats()["documents"] == len(SEEDS)
