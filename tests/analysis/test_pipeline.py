"""The analyzer: normalize → segment → lowercase → fold, and its offset contract."""

import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

from indexer.analysis import WORD_JOINER, analyze, exact_analyzer, folded_analyzer
from indexer.analysis import normalize


def tokens(analyzer, text):
    return [(t.text, t.pos, t.startchar, t.endchar)
            for t in analyzer(text, positions=True, chars=True, mode="index")]


def syllable_texts(analyzer, text):
    return [t for t, *_ in tokens(analyzer, text) if WORD_JOINER not in t]


@pytest.mark.parametrize("text, expected", [
    ("Bộ Y tế", ["bộ", "y", "tế"]),                      # no minimum length: Y stays
    ("ăn ổn ở ý", ["ăn", "ổn", "ở", "ý"]),                # no stop list
    ("Đảng uỷ Khối", ["đảng", "uỷ", "khối"]),
    ("Đảng ủy Khối", ["đảng", "uỷ", "khối"]),             # tone placement: ủy == uỷ
    ("hòa bình, thủy lợi, qúy", ["hoà", "bình", "thuỷ", "lợi", "quý"]),
    ("ÐẢNG VIÊN", ["đảng", "viên"]),                      # Latin Ð read as Đ
    ("Tp. Buôn Ma Thuột: 1.084 đảng viên!", ["tp", "buôn", "ma", "thuột", "1", "084", "đảng", "viên"]),
])
def test_exact_syllables(text, expected):
    assert syllable_texts(exact_analyzer(), text) == expected


@pytest.mark.parametrize("text, expected", [
    ("Đảng ủy Khối", ["dang", "uy", "khoi"]),
    ("ĐOÀN KẾT", ["doan", "ket"]),
    ("Nguyễn Đình Trung", ["nguyen", "dinh", "trung"]),
])
def test_folded_syllables(text, expected):
    assert syllable_texts(folded_analyzer(), text) == expected


def test_nfd_input_gives_nfc_terms_and_original_offsets():
    text = unicodedata.normalize("NFD", "Đảng ủy khối đoàn kết")
    toks = tokens(exact_analyzer(), text)
    syl = [t for t in toks if WORD_JOINER not in t[0]]
    assert [t[0] for t in syl] == ["đảng", "uỷ", "khối", "đoàn", "kết"]
    for term, _, s, e in syl:
        assert text[s:e] == unicodedata.normalize("NFD", text[s:e])   # the source as written
        assert normalize(text[s:e]).text.lower() == term


def test_multi_syllable_words_share_the_first_syllable_position():
    toks = tokens(exact_analyzer(), "Các đảng viên của chi bộ")
    by_text = {t[0]: t for t in toks}
    assert "đảng_viên" in by_text and "chi_bộ" in by_text
    assert by_text["đảng_viên"][1] == by_text["đảng"][1]
    assert by_text["viên"][1] == by_text["đảng"][1] + 1          # syllable positions unshifted
    text = "Các đảng viên của chi bộ"
    _, _, s, e = by_text["đảng_viên"]
    assert text[s:e] == "đảng viên"


@pytest.mark.parametrize("text, name", [
    ("học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh", "hồ_chí_minh"),
    ("Đồng chí Lưu Xuân Hải, Bí thư Đảng ủy khối", "lưu_xuân_hải"),
    ("Công ty Điện lực Ninh Thuận kiểm tra", "ninh_thuận"),
])
def test_segmentation_happens_before_lowercasing(text, name):
    # pyvi's model uses case: these names are one word only when cased as written,
    # so the analyzer must segment first and lowercase after.
    assert name in syllable_texts_and_words(text)
    assert name not in [w.text.lower() for w in analyze(text.lower()).words]


def syllable_texts_and_words(text):
    return [t for t, *_ in tokens(exact_analyzer(), text)]


def test_repeated_words_and_punctuation_keep_exact_offsets():
    text = "Đảng, Đảng; (Đảng) — Đảng!"
    toks = [t for t in tokens(exact_analyzer(), text) if t[0] == "đảng"]
    assert [text[s:e] for _, _, s, e in toks] == ["Đảng"] * 4
    assert len({s for _, _, s, _ in toks}) == 4
    assert [p for _, p, _, _ in toks] == [0, 1, 2, 3]


SYLLABLES = ["Đảng", "uỷ", "ủy", "hòa", "hoà", "người", "Nguyễn", "khuỷu", "qúy", "đoàn", "kết",
             "Y", "tế", "ở", "ăn", "THỦY", "1.084", "TP.", "viên", "chi", "bộ", "Ðà", "Nẵng"]
SEPARATORS = [" ", ", ", ". ", "\n", " - ", " (", ") ", "“", "” ", "…"]


@st.composite
def vietnamese_text(draw):
    parts = []
    for _ in range(draw(st.integers(1, 25))):
        word = draw(st.sampled_from(SYLLABLES))
        form = draw(st.sampled_from(["NFC", "NFD"]))
        parts.append(unicodedata.normalize(form, word))
        parts.append(draw(st.sampled_from(SEPARATORS)))
    return "".join(parts)


@settings(max_examples=150, deadline=None)
@given(vietnamese_text())
def test_offsets_slice_the_source_of_every_token(text):
    for term, _, s, e in tokens(exact_analyzer(), text):
        source = text[s:e]
        if WORD_JOINER in term:
            assert normalize(source).text.lower().split() == term.split(WORD_JOINER)
        else:
            assert normalize(source).text.lower() == term
