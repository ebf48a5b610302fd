"""Helpers shared by the tests: corpora in tmp dirs, built indexes."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from indexer import SearchEngine

REPO = Path(__file__).resolve().parent.parent
SEEDS = sorted((REPO / "corpus").glob("*.txt"))

# Small hand-written articles that pin ranking behaviour the seeds cannot.
EXTRA_ARTICLES = {
    "bac-ho.txt": "Học tập và làm theo Bác\n\nCán bộ học tập tấm gương đạo đức của Bác.\n",
    "kho-bac.txt": ("Kho bạc tỉnh\n\nKho bạc nhà nước giữ bạc. Tiền bạc, vàng bạc và bạc lẻ "
                    "được kho bạc kiểm đếm.\n"),
    "doan-ket.txt": "Tinh thần đoàn kết\n\nToàn dân đoàn kết xây dựng quê hương.\n",
    "doan-rieng.txt": "Đoàn thanh niên\n\nĐoàn viên tham gia. Kết quả công việc được tổng kết.\n",
    "hostile.txt": "Bài có mã độc <script>alert(1)</script>\n\nNội dung <img src=x onerror=alert(2)> & \"ký tự\".\n",
}


def load_bench(name: str):
    """A script of ``bench/`` imported as a module (``load_bench("speed")`` is
    bench/speed.py), registered as ``bench_<name>``."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def make_corpus(root: Path, extra: bool = True) -> Path:
    corpus = root / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for seed in SEEDS:
        shutil.copy(seed, corpus / seed.name)
    if extra:
        for name, text in EXTRA_ARTICLES.items():
            (corpus / name).write_text(text, encoding="utf-8")
    return corpus


@pytest.fixture
def open_engine():
    """Open SearchEngines, closed at teardown (their files are resources)."""
    opened = []

    def factory(index_dir):
        engine = SearchEngine(index_dir)
        opened.append(engine)
        return engine

    yield factory
    for engine in opened:
        engine.close()


def count_merges(monkeypatch, log: Path):
    """Record, in ``log``, how many part segments each build worker merges
    (the workers are forked: a file is what reaches the test); returns a
    function reading the counts logged so far."""
    import indexer.index.parallel
    real_merge = indexer.index.parallel.merge_segments

    def spy(storage, schema, segments):
        with open(log, "a") as f:
            f.write(f"{len(segments)}\n")
        return real_merge(storage, schema, segments)

    monkeypatch.setattr(indexer.index.parallel, "merge_segments", spy)
    log.write_text("")
    return lambda: [int(n) for n in log.read_text().split()]
