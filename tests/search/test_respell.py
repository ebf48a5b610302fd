"""Typing as users type: Telex/VNI keys, typos, joined words, full-width text."""

import re

import pytest

from indexer import SearchEngine, build, fold
from indexer.search.respell import candidates, deletion_index
from tests.support import make_corpus

MARKED = re.compile(r"<mark>(.*?)</mark>")

# Tokens the index holds as typed next to what their keys would spell.
HELD = {
    "held-latin.txt": ("Tấn công ddos và mix nhạc\n\nMáy chủ bị ddos. Bản mix mới, box quà và six test "
                       "đã xong.\n"),
    "held-vietnamese.txt": "Đó là mĩ thuật\n\nĐó là sĩ quan, tét bánh, bõ công.\n",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("respell")
    corpus = make_corpus(root)
    for name, text in HELD.items():
        (corpus / name).write_text(text, encoding="utf-8")
    build(root / "index", [corpus])
    with SearchEngine(root / "index") as engine:
        yield engine


def marks(result):
    return {m for h in result["hits"] for m in MARKED.findall(h["_formatted"]["title"] + h["_formatted"]["body"])}


@pytest.mark.parametrize("typed", ["ddangr", "d9a3ng", "ddarng", "d9ang3"])
def test_telex_and_vni_keys_find_the_syllable_and_suggest_it(engine, typed):
    result = engine.search(typed)
    assert result["suggestion"] == "đảng"
    assert result["totalHits"] == engine.search("đảng")["totalHits"] > 0
    assert "Đảng" in marks(result)


@pytest.mark.parametrize("typed, meant", [
    ("dduwowngf", "đường"), ("d9u7o7ng2", "đường"), ("ddangr vieen", "đảng viên"),
    ("xaay dwngj", "xây dựng"), ("ddoanf keets", "đoàn kết"),
])
def test_queries_typed_in_an_input_method_read_as_meant(engine, typed, meant):
    result = engine.search(typed)
    assert result["suggestion"] == meant
    assert [h["id"] for h in result["hits"]] == [h["id"] for h in engine.search(meant)["hits"]]


@pytest.mark.parametrize("token", ["ddos", "mix", "box", "six", "test"])
def test_a_token_the_index_holds_is_never_read_otherwise(engine, token):
    query = engine.compile(token)
    assert [t.alternatives for t in query.keywords] == [()]
    assert engine.search(token)["suggestion"] is None
    assert token in {m.lower() for m in marks(engine.search(token))}


def test_a_decoding_outside_the_vocabulary_is_not_offered(engine):
    assert engine.compile("zzqj").keywords[0].alternatives == ()


def test_a_letter_typo_is_corrected_in_context_and_suggested(engine):
    result = engine.search("dang vein")
    assert result["suggestion"] == "đảng viên"
    assert result["totalHits"] > 0
    query = engine.compile("dang vein")
    alternative = query.keywords[1].alternatives[0]
    assert alternative.kind == "corrected" and alternative.weight < 1
    assert [t.folded for t in alternative.terms] == ["vien"]


def test_typos_of_accented_queries_keep_the_typed_accents(engine):
    assert engine.search("xây dựnh")["suggestion"] == "xây dựng"
    assert engine.search("đoàn kêết")["suggestion"] == "đoàn kết"


@pytest.mark.parametrize("typed, meant", [("vietnam", "việt nam"), ("Việtnam", "việt nam"),
                                          ("xaydung", "xây dựng")])
def test_joined_words_are_split_against_the_vocabulary(engine, typed, meant):
    result = engine.search(typed)
    assert result["suggestion"] == meant
    assert result["totalHits"] > 0


def test_full_width_text_is_read_as_its_plain_form(engine):
    assert engine.search("ｄａｎｇ ｕｙ")["totalHits"] == engine.search("dang uy")["totalHits"] > 0


def test_a_quoted_phrase_is_read_in_its_decoded_form(engine):
    assert engine.search('"ddangr vieen"')["totalHits"] == engine.search('"đảng viên"')["totalHits"] > 0


@pytest.mark.parametrize("typed, found", [
    ("vein", {"vien": 1, "ven": 1}),          # transposition and deletion, one edit each
    ("bein", {"ben": 1}),                     # the first letter costs two: vein is out of reach
    ("ven", {}),                              # 3 letters: no typo allowed
    ("nghiengxx", {"nghieng": 2}),            # 8 letters: two edits
])
def test_correction_candidates_follow_the_cost_rules(typed, found):
    vocabulary = {"vien": 5, "ven": 3, "ben": 2, "nghieng": 4}
    assert candidates(typed, vocabulary, deletion_index(vocabulary)) == found


def test_the_suggestion_is_plain_query_folded_back(engine):
    # a restored suggestion folds back to what was typed, or to its reading
    for typed in ("dang uy khoi", "doan ket", "xay dung"):
        suggestion = engine.search(typed)["suggestion"]
        assert suggestion is None or fold(suggestion) == typed
