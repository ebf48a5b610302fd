"""bench/speed.py on a tiny corpus generated from the seed pages (no shared data needed).

Only the shape of the output is checked, never a time: the machine may be busy.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SEED_PAGES = REPO / "corpus"
PER_SHAPE = 3


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


speed = _load("bench_speed", REPO / "bench" / "speed.py")


def write_tiny_corpus(path: Path) -> int:
    """Every paragraph (12+ words) of the seed pages as one article; its first 14 words are the title."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for page in sorted(SEED_PAGES.glob("*.txt")):
            for para in re.split(r"\n\s*\n", page.read_text(encoding="utf-8")):
                words = para.split()
                if len(words) < 12:
                    continue
                record = {"id": f"{page.stem}-{n:03d}", "title": " ".join(words[:14]), "text": para.strip()}
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                n += 1
    return n


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("speed-data") / "articles.jsonl"
    assert write_tiny_corpus(path) >= 40
    return path


@pytest.fixture(scope="module")
def docs(data):
    return list(speed.iter_docs(data))


@pytest.fixture(scope="module")
def run(data, tmp_path_factory):
    """One small run of the bench's main(): build, queries and incremental at 40 articles."""
    json_out = tmp_path_factory.mktemp("speed-out") / "out.jsonl"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = speed.main(["--data", str(data), "--limit", "40", "--sections", "build,queries,incremental",
                         "--queries-per-shape", str(PER_SHAPE), "--json-out", str(json_out)])
    text = stdout.getvalue()
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    return rc, text, records, json_out


@pytest.fixture(scope="module")
def built(data, tmp_path_factory):
    """A corpus directory of 30 articles and its index (in-process build)."""
    from indexer import build
    root = tmp_path_factory.mktemp("speed-built")
    corpus = speed.prepare_corpus(data, 30, root / "corpus")
    report = build(root / "index", [corpus.dir], full=True, progress=False)
    assert report.articles_indexed == 30, report.problems
    return corpus, root / "index"


# -- helpers --------------------------------------------------------------------

def test_percentile_interpolates_like_numpy():
    assert speed.percentile([], 50) is None
    assert speed.percentile([3.0], 99) == 3.0
    assert speed.percentile([1, 2, 3, 4], 50) == 2.5
    assert speed.percentile(list(range(101)), 95) == 95
    s = speed.latency_summary([1.0, 2.0, 3.0])
    assert s == {"n": 3, "p50_ms": 2.0, "p95_ms": 2.9, "p99_ms": 2.98, "mean_ms": 2.0, "max_ms": 3.0}


def test_ratio_and_limits():
    assert speed.ratio(10, 4) == 2.5
    assert speed.ratio(1, 0) is None and speed.ratio(None, 1) is None
    assert speed.parse_limit("2000") == 2000
    assert speed.parse_limit("10k") == 10_000
    assert speed.parse_limit("all") is None
    with pytest.raises(Exception):
        speed.parse_limit("lots")


def test_fts5_expression_words_phrases_and_syntax():
    assert speed.fts5_expression("Đảng ủy khối") == '"đảng" OR "ủy" OR "khối"'
    assert speed.fts5_expression('"của các"') == '"của các"'
    assert speed.fts5_expression('dang "uy ban" dang -x (y*') == '"uy ban" OR "dang" OR "x" OR "y"'
    assert speed.fts5_expression('" ( *') == ""


def test_wrk_script_lists_every_path_once():
    paths = speed.search_paths([speed.Query("word-common", "đảng"), speed.Query("phrase", '"của các"')])
    assert paths[0] == "/api/search?q=%C4%91%E1%BA%A3ng&hitsPerPage=10"
    lua = speed.wrk_script(paths)
    assert all(lua.count(f'"{p}"') == 1 for p in paths)
    assert "WRKJSON" in lua and "function request()" in lua


def test_prepare_corpus_writes_the_first_n_articles(data, tmp_path):
    corpus = speed.prepare_corpus(data, 7, tmp_path / "c")
    assert corpus.docs == 7 and corpus.label == "first 7"
    lines = (corpus.dir / "articles.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines == data.read_text(encoding="utf-8").splitlines()[:7]
    assert corpus.bytes == sum(len(x.encode()) + 1 for x in lines)
    whole = speed.prepare_corpus(data, None, tmp_path / "all")
    assert whole.label == "all" and (whole.dir / "articles.jsonl").is_symlink()
    assert [d.id for d in speed.iter_docs(whole.dir)] == [d.id for d in speed.iter_docs(data)]


# -- the query mix --------------------------------------------------------------

def test_query_mix_is_seeded_and_has_every_shape(docs):
    from indexer.analysis import fold
    mix = speed.make_query_mix(docs, 4, seed=5)
    assert mix == speed.make_query_mix(docs, 4, seed=5)
    assert mix != speed.make_query_mix(docs, 4, seed=6)
    shapes = speed.shape_order(mix)
    assert shapes == [s for b in speed.BASE_SHAPES for s in (b, f"{b}/plain")]
    for shape in shapes:
        assert sum(q.shape == shape for q in mix) == 4, shape
    accented = [q for q in mix if not q.shape.endswith("/plain")]
    plain = {q.text for q in mix if q.shape.endswith("/plain")}
    assert {fold(q.text).lower() for q in accented} <= plain
    for q in mix:
        words = q.text.strip('"').split()
        base = q.shape.split("/")[0]
        if base.startswith("word-"):
            assert len(words) == 1 and words[0].isalpha(), q
        elif base == "words-2-3":
            assert 2 <= len(words) <= 3, q
        elif base == "phrase":
            assert q.text.startswith('"') and q.text.endswith('"') and len(words) == 2, q
        else:
            assert 10 <= len(words) <= 20, q


def test_common_words_are_more_frequent_than_rare_ones(docs):
    mix = speed.make_query_mix(docs, 5, seed=1)

    def df(word):
        return sum(word in {t.lower() for t in re.findall(r"\w+", d.title + "\n" + d.text)} for d in docs)

    common = [df(q.text.lower()) for q in mix if q.shape == "word-common"]
    rare = [df(q.text.lower()) for q in mix if q.shape == "word-rare"]
    assert min(common) > max(rare)


# -- sections -------------------------------------------------------------------

def test_main_prints_one_table_per_section_and_json_lines(run):
    rc, text, records, json_out = run
    assert rc == 0
    for title in ("## Build", "## Queries", "## Incremental", "## Targets"):
        assert title in text
    assert "## Serving" not in text and "## Segmentation" not in text
    assert records[0]["section"] == "machine" and records[-1]["section"] == "end"
    for rec in records:
        assert {"section", "system", "docs"} <= rec.keys(), rec
    saved = [json.loads(line) for line in json_out.read_text(encoding="utf-8").splitlines()]
    assert saved == records


def test_build_records_both_systems(run):
    builds = [r for r in run[2] if r["section"] == "build"]
    assert [r["system"] for r in builds] == ["vnsearch", "fts5"]
    for r in builds:
        assert r["docs"] == 40 and r["corpus"] == "first 40"
        for key in ("wall_s", "docs_per_s", "mb_per_s", "cpu_s", "cores_busy", "peak_rss_mb",
                    "tree_peak_rss_mb", "index_mb"):
            assert isinstance(r[key], (int, float)), key
        assert r["index_mb"] > 0 and r["peak_rss_mb"] > 0
    assert builds[0]["skipped"] == 0 and isinstance(builds[0]["build_s"], float)


def test_queries_both_systems_find_hits_for_the_mix(run):
    qs = [r for r in run[2] if r["section"] == "queries"]
    shapes = [s for b in speed.BASE_SHAPES for s in (b, f"{b}/plain")] + ["all"]
    assert [r["shape"] for r in qs if r["system"] == "vnsearch"] == shapes
    assert [r["shape"] for r in qs if r["system"] == "fts5"] == shapes
    for r in qs:
        assert r["docs"] == 40
        assert r["n"] == (PER_SHAPE * 10 if r["shape"] == "all" else PER_SHAPE)
        for key in ("p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms"):
            assert isinstance(r[key], float), key
        if r["system"] == "vnsearch":
            assert r["hit_rate"] == 1.0, r            # every query of the mix finds something
            assert r["ratio_p95"] is not None
        elif not r["shape"].endswith("/plain") and r["shape"] != "all":
            assert r["hit_rate"] == 1.0, r            # FTS5 too (plain forms may miss đ)
        else:
            assert r["hit_rate"] > 0, r


def test_incremental_records_and_targets(run):
    inc = [r for r in run[2] if r["section"] == "incremental"]
    assert [(r["system"], r["path"]) for r in inc] == [("vnsearch", "library"), ("vnsearch", "cli"),
                                                       ("fts5", "insert+commit")]
    assert all(r["found"] for r in inc)
    assert [r["articles_indexed"] for r in inc] == [1, 1, 1]
    targets = {r["target"] for r in run[2] if r["section"] == "targets"}
    assert {"full build <= 600 s", "query p95 <= 50 ms (whole mix)", "incremental add visible <= 2 s"} <= targets
    assert all(not r["at_scale"] for r in run[2] if r["section"] == "targets")


def test_incremental_leaves_corpus_and_index_as_they_were(built):
    from indexer import SearchEngine
    corpus, index = built
    before = sorted(p.name for p in corpus.dir.iterdir())
    sample = next(speed.iter_docs(corpus.dir))
    recs = speed.incremental_bench(index, corpus.dir, 30, sample)
    assert [r["found"] for r in recs] == [True, True]
    assert sorted(p.name for p in corpus.dir.iterdir()) == before
    with SearchEngine(index) as engine:
        assert engine.stats()["documents"] == 30
        for r in recs:     # each article's unique word is gone with it
            assert engine.search(r["query"], hits_per_page=1)["totalHits"] == 0


def test_segment_section_compares_with_pyvi(data):
    recs = speed.segment_bench(data, 5, 4000)
    assert [(r["what"].split()[0], r["system"]) for r in recs] == [("articles", "pyvi"), ("articles", "vnsearch")] + [
        ("long", s) for _ in range(3) for s in ("pyvi", "vnsearch")]
    for r in recs:
        if r["system"] == "vnsearch":
            assert r["identical"] == r["compared"]
            assert r["speedup"] is not None
    assert recs[-1]["chars"] >= 4000


def test_serve_section_with_the_python_client(built, docs, tmp_path):
    corpus, index = built
    mix = speed.make_query_mix(docs[:30], 1)
    rec = speed.serve_bench(index, 30, mix, seconds=1, workers=1, connections=2, workdir=tmp_path, tool="python")
    assert rec["section"] == "serve" and rec["tool"] == "python"
    assert rec["requests"] > 0 and rec["errors"] == 0
    assert len(rec["worker_rss_mb"]) == 1 and rec["worker_rss_mb"][0] > 0


def test_index_dir_needs_its_corpus_or_one_limit(tmp_path, capsys):
    with pytest.raises(SystemExit):
        speed.main(["--index-dir", str(tmp_path / "index"), "--sections", "queries"])
    assert "--corpus" in capsys.readouterr().err


def test_phrase_totals_prints_estimate_and_exact_for_each_phrase(data, tmp_path):
    """bench/phrase_totals.py on a tiny index: the exact column is the real count."""
    import shutil
    from indexer import SearchEngine, build
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(data, corpus / "articles.jsonl")
    build(tmp_path / "index", [corpus])
    totals = _load("bench_phrase_totals", REPO / "bench" / "phrase_totals.py")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert totals.main(["--index-dir", str(tmp_path / "index"), "--queries", "3"]) == 0
    rows = [line.split() for line in out.getvalue().splitlines()[1:] if line.startswith('"')]
    assert len(rows) == 3
    with SearchEngine(tmp_path / "index") as engine:
        for row in rows:
            query = " ".join(row[:-5])
            assert int(row[-4].replace(",", "")) == engine.search(query, hits_per_page=100)["totalHits"]


# -- filtered, sorted, faceted ------------------------------------------------------

def test_generated_fields_are_fixed_by_the_id_and_spread():
    a, b = speed.generated_fields("vietnews-1"), speed.generated_fields("vietnews-1")
    assert a == b and a["topic"] in speed.GENERATED_TOPICS and a["source"] in speed.GENERATED_SOURCES
    topics = {speed.generated_fields(f"x{i}")["topic"] for i in range(500)}
    assert topics == set(speed.GENERATED_TOPICS)
    years = {speed.generated_fields(f"x{i}")["date"][:4] for i in range(500)}
    assert years == {str(y) for y in range(2015, 2025)}


def test_the_filtered_section_times_every_variant_beside_the_plain_queries(data, tmp_path):
    stdout = io.StringIO()
    json_out = tmp_path / "out.jsonl"
    with contextlib.redirect_stdout(stdout):
        rc = speed.main(["--data", str(data), "--limit", "40", "--sections", "build,filtered",
                         "--queries-per-shape", "2", "--json-out", str(json_out)])
    assert rc == 0
    records = [json.loads(line) for line in json_out.read_text().splitlines()]
    filtered = [r for r in records if r["section"] == "filtered"]
    assert {r["variant"] for r in filtered} == set(speed.FILTER_VARIANTS)
    overall = {r["variant"]: r for r in filtered if r["shape"] == "all"}
    assert overall["plain"]["ratio_p50"] == 1.0 and all(r["n"] > 0 for r in overall.values())
    assert any(f'topic = "{t}"' in overall["filter"]["options"]["filter"] for t in speed.GENERATED_TOPICS)
    corpus_line = next(iter(speed.iter_docs(data)))
    assert corpus_line.id                                 # the data itself is never rewritten
    assert "Filtered, sorted, faceted" in stdout.getvalue()
