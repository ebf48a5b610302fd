"""bench/relevance.py on a tiny hand-written retrieval set (no shared data needed).

The fixture (tests/fixtures/retrieval/) is ten short Vietnamese news-like
passages and seven queries with judged relevant ids, written for this test.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from tests.support import load_bench

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "retrieval"


relevance = load_bench("relevance")
peers = sys.modules["peers"]


@pytest.fixture(scope="module")
def dataset():
    return relevance.load_dataset(FIXTURE)


@pytest.fixture(scope="module")
def results(dataset):
    """Every system (and one ranking variant) on both query forms, one shared index."""
    name, settings = relevance.parse_variant("flat:free_text_syllables=1,k1=0.9,body_b=0.4,exact_weight=2,word_weight=1")
    systems = list(relevance.ALL_SYSTEMS) + [name]
    out = relevance.run_dataset(dataset, systems, relevance.FORMS, {name: settings})
    return {(r.system, r.form): r for r in out}


# -- metrics, by hand -----------------------------------------------------------

def test_relevant_ranks_are_zero_based_and_cut_at_k():
    assert relevance.relevant_ranks(["a", "b", "c"], {"b"}) == [1]
    assert relevance.relevant_ranks(["a", "b", "c"], {"a", "c"}) == [0, 2]
    assert relevance.relevant_ranks([f"d{i}" for i in range(20)], {"d10"}) == []
    assert relevance.relevant_ranks([], {"a"}) == []


def test_metrics_of_one_relevant_at_rank_two():
    m = relevance.query_metrics([1], 1)
    assert m["MRR@10"] == 0.5
    assert m["R@1"] == 0.0
    assert m["R@10"] == 1.0
    assert m["nDCG@10"] == pytest.approx(1 / math.log2(3))      # 0.6309


def test_metrics_of_two_relevant_at_ranks_one_and_three():
    m = relevance.query_metrics([0, 2], 2)
    assert m["MRR@10"] == 1.0
    assert m["R@1"] == 0.5
    assert m["R@10"] == 1.0
    # DCG = 1 + 1/log2(4) = 1.5; ideal = 1 + 1/log2(3) = 1.6309
    assert m["nDCG@10"] == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    assert m["nDCG@10"] == pytest.approx(0.9197, abs=1e-4)


def test_metrics_of_a_miss_and_of_half_recall():
    assert relevance.query_metrics([], 1) == {"MRR@10": 0.0, "R@1": 0.0, "R@10": 0.0, "nDCG@10": 0.0}
    m = relevance.query_metrics([3], 2)
    assert m["MRR@10"] == 0.25
    assert m["R@10"] == 0.5
    assert m["nDCG@10"] == pytest.approx((1 / math.log2(5)) / (1 + 1 / math.log2(3)))


def test_aggregate_means_and_percentiles():
    per_query = [relevance.query_metrics([0], 1), relevance.query_metrics([1], 1),
                 relevance.query_metrics([], 1), relevance.query_metrics([3], 1)]
    agg = relevance.aggregate(per_query, [float(t) for t in range(1, 101)])
    assert agg["MRR@10"] == pytest.approx((1 + 0.5 + 0 + 0.25) / 4, abs=1e-4)
    assert agg["R@1"] == 0.25
    assert agg["R@10"] == 0.75
    assert agg["p50_ms"] == 50.5
    assert agg["p95_ms"] == 95.05


def test_plain_form_removes_every_diacritic_and_folds_d():
    assert relevance.query_form("Đảng uỷ khối", "plain") == "Dang uy khoi"
    assert relevance.query_form("Đảng uỷ khối", "accented") == "Đảng uỷ khối"
    assert peers.plain_fold("Đảng uỷ khối ĐÀ NẴNG") == "Dang uy khoi DA NANG"


# -- the systems on the fixture ---------------------------------------------------

def test_every_system_and_form_is_measured(results, dataset):
    expected = {(s, f) for s in (*relevance.ALL_SYSTEMS, "ours-flat") for f in relevance.FORMS}
    assert set(results) == expected
    for r in results.values():
        rec = r.record()
        assert rec["n_queries"] == len(dataset.queries) == 7
        assert rec["n_docs"] == 10
        for m in relevance.METRICS:
            assert 0.0 <= rec[m] <= 1.0
        assert 0.0 <= rec["p50_ms"] <= rec["p95_ms"]
        assert len(r.per_query) == 7


def test_exact_bm25_finds_every_accented_query(results):
    assert results[("bm25-exact", "accented")].metrics["MRR@10"] == 1.0
    assert results[("bm25-folded", "plain")].metrics["MRR@10"] == 1.0


def test_ours_finds_the_relevant_passages(results):
    for form in relevance.FORMS:
        r = results[("ours", form)]
        assert r.metrics["MRR@10"] == 1.0, (form, r.per_query)
        assert r.metrics["R@10"] == 1.0, (form, r.per_query)


def test_ours_accented_and_plain_queries_directly(dataset):
    ours = relevance.Ours()
    ours.index(dataset.docs, dataset.corpus_path)
    try:
        assert ours.search("kho bạc kiểm đếm tiền mặt")[0] == "p03"
        assert ours.search("kho bac kiem dem tien mat")[0] == "p03"
        assert ours.search("hoa da quy Da Lat")[0] == "p07"
        assert set(ours.search("Hà Nội")[:2]) == {"p06", "p10"}
        assert ours.search("\"\"") == []          # nothing searchable: no hit, no error
    finally:
        ours.close()


def test_fts5_does_not_fold_d_but_whoosh_accent_map_does(dataset):
    """unicode61's remove_diacritics leaves ``đ`` alone: a plain ``dang`` misses
    ``Đảng`` in FTS5; Whoosh's accent_map and the folded BM25 map ``đ``→``d``."""
    fts5 = peers.FTS5()
    fts5.index(dataset.docs)
    try:
        assert "p01" in fts5.search("Đảng uỷ")
        assert "p01" in fts5.search("Dang uỷ")              # via uỷ → uy
        assert "p01" not in fts5.search("Dang")
    finally:
        fts5.close()
    whoosh = peers.WhooshDefault()
    whoosh.index(dataset.docs)
    try:
        assert whoosh.search("Dang")[0] == "p01"
    finally:
        whoosh.close()
    folded = peers.BM25(fold=True)
    folded.index(dataset.docs)
    assert folded.search("Dang")[0] == "p01"


def test_cli_prints_table_and_json_lines(capsys):
    code = relevance.main([str(FIXTURE), "--systems", "bm25-exact,fts5", "--limit", "3", "--quiet"])
    assert code == 0
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].split()[:4] == ["dataset", "system", "form", "queries"]
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert [(r["system"], r["form"]) for r in records] == [
        ("bm25-exact", "accented"), ("bm25-exact", "plain"), ("fts5", "accented"), ("fts5", "plain")]
    assert all(r["dataset"] == "retrieval" and r["n_queries"] == 3 for r in records)


def test_cli_json_only_and_dump(tmp_path, capsys):
    dump = tmp_path / "per_query.jsonl"
    code = relevance.main([str(FIXTURE), "--systems", "bm25-folded", "--forms", "plain",
                           "--json-only", "--quiet", "--dump", str(dump)])
    assert code == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["MRR@10"] == 1.0
    rows = [json.loads(line) for line in dump.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 7 and all(r["rank"] == 1 for r in rows)
    assert rows[0]["query"] == "dang vien tong ket nam"


def test_a_variant_opens_the_engine_with_its_settings_and_no_other(dataset):
    from indexer import RankingSettings
    name, settings = relevance.parse_variant("x:exact_weight=7,PHRASES=0,k1=1.0,free_text_syllables=3")
    assert name == "ours-x" and settings == {"exact_weight": 7.0, "PHRASES": 0.0, "k1": 1.0,
                                             "free_text_syllables": 3.0}
    variant, plain = relevance.Ours(name, settings), relevance.Ours()
    variant.index(dataset.docs, dataset.corpus_path)
    plain.index(dataset.docs, dataset.corpus_path)
    try:
        assert variant.engine.settings == RankingSettings(exact_weight=7.0, k1=1.0, free_text_syllables=3)
        assert plain.engine.settings == RankingSettings()
        assert variant.search("kho bạc kiểm đếm")[0] == "p03"
        assert RankingSettings().exact_weight != 7.0       # nothing global was changed
    finally:
        variant.close()
        plain.close()


def test_query_syntax_variants(dataset):
    """PHRASES=0 reads quotes as words; PHRASES=2 puts phrase hits first."""
    plain = relevance.Ours()
    plain.index(dataset.docs, dataset.corpus_path)
    name, settings = relevance.parse_variant("syntax:PHRASES=0")
    variant = relevance.Ours(name, settings)
    variant.index(dataset.docs, dataset.corpus_path)
    try:
        assert "p06" not in plain.search('"thi lớp 10 Hà Nội"')       # no such phrase
        assert variant.search('"thi lớp 10 Hà Nội"')[0] == "p06"
        relaxed = relevance.Ours("ours-relaxed", {"PHRASES": 2.0})
        relaxed.index(dataset.docs, dataset.corpus_path)
        try:
            assert relaxed.search('"thi lớp 10 Hà Nội"')[0] == "p06"   # after the (no) phrase hits
            assert relaxed.search('"kho bạc" kiểm đếm')[0] == "p03"
        finally:
            relaxed.close()
    finally:
        plain.close()
        variant.close()


def test_bad_variant_is_rejected():
    with pytest.raises(ValueError):
        relevance.parse_variant("x:NOPE=1")
    with pytest.raises(ValueError):
        relevance.parse_variant("x:k1=lots")
    with pytest.raises(ValueError):
        relevance.parse_variant("x")


# -- the typing forms -------------------------------------------------------------

@pytest.mark.parametrize("form", ["telex", "vni", "typo", "joined"])
def test_typing_forms_are_seeded_by_the_query(form):
    text = "Đảng viên gương mẫu ở Hà Nội"
    assert relevance.query_form(text, form) == relevance.query_form(text, form)
    assert relevance.query_form(text, form) != text


def test_telex_and_vni_forms_type_every_accented_syllable_with_keys():
    from indexer.analysis.telex import decode
    for form in ("telex", "vni"):
        typed = relevance.query_form("Đảng viên gương mẫu", form)
        assert typed.isascii()
        assert [decode(w.lower(), form) for w in typed.split()] == ["đảng", "viên", "gương", "mẫu"]


def test_typo_form_edits_one_letter_of_one_long_syllable():
    text = "Đảng viên gương mẫu ở Hà Nội"
    typed = relevance.query_form(text, "typo")
    changed = [(a, b) for a, b in zip(text.split(), typed.split()) if a != b]
    assert len(typed.split()) == len(text.split()) and len(changed) == 1
    word, edited = changed[0]
    assert len(word) >= 4 and abs(len(word) - len(edited)) <= 1
    assert relevance.query_form("Hà Nội ở", "typo") == "Hà Nội ở"        # no syllable of 4 letters


def test_joined_form_removes_the_spaces_of_one_word():
    typed = relevance.query_form("Đảng viên gương mẫu", "joined")
    assert typed.replace(" ", "") == "Đảngviêngươngmẫu" and len(typed.split()) == 3


def test_meili_typo_peer_matches_one_typo_from_five_letters():
    peer = peers.MeiliTypo()
    peer.index([peers.Doc("a", "", "thanh pho lon"), peers.Doc("b", "", "tin tuc moi")])
    assert peer.search("thamh") == ["a"]           # 5 letters: one typo
    assert peer.search("tim") == []                # 3 letters: none
    assert peer.search("pho") == ["a"]
