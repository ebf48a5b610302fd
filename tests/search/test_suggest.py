"""Completions that exist as phrases, ranked after what was typed, spelled as the pages spell them."""

import pytest

from indexer import SearchEngine, build, fold
from indexer.search import bigrams
from tests.support import make_corpus


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("suggest")
    build(root / "index", [make_corpus(root)])
    with SearchEngine(root / "index") as engine:
        yield engine


def test_dang_v_offers_dang_vien_first(engine):
    suggestions = engine.suggest("dang v")
    assert suggestions[0] == "đảng viên"
    assert all(fold(s).startswith("dang v") for s in suggestions)


@pytest.mark.parametrize("prefix", ["dang v", "dang ", "đảng ", "xay d", "ban chap hanh t", "doan k", "tinh th",
                                    "d", "cong t", "nhiem v", "đoàn "])
def test_every_suggestion_has_hits_as_a_phrase(engine, prefix):
    suggestions = engine.suggest(prefix)
    assert suggestions, prefix
    for s in suggestions:
        assert engine.search(f'"{s}"')["totalHits"] > 0, s
        assert fold(s).startswith(fold(prefix.strip()))


def test_suggestions_are_spelled_as_the_pages_spell_them(engine):
    assert "đảng ủy" in engine.suggest("dang u")
    assert engine.search("dang uy khoi")["suggestion"] == "đảng ủy khối"


def test_typed_accents_constrain_the_completion(engine):
    assert all(s.startswith("đoàn ") for s in engine.suggest("đoàn k"))
    assert engine.suggest("zzzz q") == []


def test_the_bigram_model_counts_pairs_inside_sentences_only():
    model = bigrams.build(["Đảng viên gương mẫu. Đảng viên tốt", "Đảng ủy họp, Đảng uỷ", "Tỉnh ủy"])
    assert model.count("đảng", "viên") == 2
    assert model.count("mẫu", "đảng") == 0            # across a full stop
    assert model.count("họp", "đảng") == 0            # across a comma
    assert model.count("đảng", "uỷ") == 2             # both spellings are one canonical syllable
    assert model.spelled("uỷ") == "ủy"                # written ủy twice, uỷ once
    assert model.spelled("viên") == "viên"
    ids, counts = model.followers(model.ids["đảng"])
    assert sorted(zip([model.vocab[i] for i in ids.tolist()], counts.tolist())) == [("uỷ", 2), ("viên", 2)]
