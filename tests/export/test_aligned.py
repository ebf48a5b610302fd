"""Aligned token strings: read back by (a port of) Lucene's char filter and
whitespace tokenizer, they give exactly the index analyzer's tokens, and their
offsets slice the original text."""

from __future__ import annotations

import re
import unicodedata

import pytest

from indexer.analysis import exact_analyzer, folded_analyzer
from indexer.export.aligned import (MAX_TOKEN_UNITS, PAD, AlignmentError, Expansions, Token, align,
                                    utf16_offsets)
from indexer.export.opensearch import SYLLABLES, WORDS, analysis_tokens
from indexer.analysis import analyze, exact_form, folded_form, normalize
from indexer.index import schema
from tests.export.lucene import whitespace_tokens

NFD = lambda s: unicodedata.normalize("NFD", s)   # noqa: E731

CASES = {
    "nfc": "Đảng bộ Khối các cơ quan và doanh nghiệp tỉnh: phát huy tinh thần đoàn kết.",
    "nfd": NFD("Đảng ủy Khối kết nạp 2.096 đảng viên mới, đạt 104,8% chỉ tiêu."),
    "old tone placement": "Hòa bình, thủy lợi và quý vị ở Thanh Hóa",
    "nfd and old tones": NFD("Ủy ban nhân dân tỉnh Khánh Hòa họp bàn về thủy điện"),
    "latin eth": "Ðà Nẵng và ÐẮK LẮK",
    "units touching numbers": "Diện tích 4,71km2, cao 2,5m, nặng 23,5kg và 12.300km/h.",
    "upper case": "ĐẢNG ỦY KHỐI CÁC CƠ QUAN TỈNH",
    "astral characters": "Chữ Nôm 𠀧 và 𡨸 cùng biểu tượng 🇻🇳 Việt Nam 😀 đẹp",
    "lowercase longer than the source": "İstanbul và Hà Nội",
    "many spaces and newlines": "Tiếp tục\n\n  đổi mới,\tsáng tạo\u00a0nâng cao\u2003năng lực",
    "punctuation only between": "đoàn-kết/thống_nhất…(dân chủ)",
}

ANALYZERS = {schema.EXACT: exact_analyzer(), schema.FOLDED: folded_analyzer()}


def index_tokens(text: str, unit: str, form: str) -> list[tuple[str, int, int]]:
    """The index's own analyzer (what the Whoosh fields hold): syllables are the
    tokens without ``_``, pyvi words those with it."""
    out = []
    for t in ANALYZERS[form](text, positions=True, chars=True):
        if ("_" in t.text) == (unit == WORDS):
            out.append((t.text, t.startchar, t.endchar))
    return out


def cluster_tokens(text: str, aligned: str, expansions: Expansions) -> list[tuple[str, int, int]]:
    """What OpenSearch would index from ``aligned``, offsets back in code points of ``text``."""
    units = utf16_offsets(text)
    back = {u: k for k, u in enumerate(units)} if units else None
    out = []
    for term, start, end in whitespace_tokens(aligned, expansions.rules(), MAX_TOKEN_UNITS):
        out.append((term, back[start], back[end]) if back else (term, start, end))
    return out


@pytest.mark.parametrize("unit", [SYLLABLES, WORDS])
@pytest.mark.parametrize("form", [schema.EXACT, schema.FOLDED])
@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_the_cluster_reads_back_the_index_tokens_at_their_offsets(text, unit, form):
    expected = index_tokens(text, unit, form)
    if unit == SYLLABLES:
        assert expected, "the case has no syllables: it tests nothing"
    expansions = Expansions()
    aligned, dropped = align(text, analysis_tokens(analyze(text), unit, form), expansions)
    assert dropped == 0
    assert len(aligned.encode("utf-16-le")) == len(text.encode("utf-16-le"))
    got = cluster_tokens(text, aligned, expansions)
    assert got == expected
    term = exact_form if form == schema.EXACT else folded_form
    for token, start, end in got:       # each offset pair slices the token's source as written
        source = normalize(text[start:end]).text
        assert term(source if unit == SYLLABLES else re.sub(r"\s+", "_", source)) == token


@pytest.mark.parametrize("text, markers, padded", [
    ("Diện tích 4,71km2", 1, True),          # "km2" touches "71": a marker (and its padding)
    ("İstanbul", 1, True),                   # "i̇stanbul" is one code point longer than its source
    (NFD("Đảng ủy"), 0, True),               # shorter tokens are padded, not expanded
    ("đoàn kết", 0, False),                  # NFC text: every token written as it is
])
def test_markers_only_where_a_token_cannot_be_written_in_place(text, markers, padded):
    expansions = Expansions()
    aligned, _ = align(text, analysis_tokens(analyze(text), SYLLABLES, schema.EXACT), expansions)
    assert len(expansions) == markers
    assert (PAD in aligned) is padded


def test_markers_are_shared_across_documents_and_escaped_in_rules():
    expansions = Expansions()
    for text in ("cao 2,5m", "dài 7,5m rộng 3m", "sâu 1,5m"):
        align(text, analysis_tokens(analyze(text), SYLLABLES, schema.EXACT), expansions)
    assert len(expansions) == 1                       # " m" once, whatever the document
    rules = expansions.rules()
    assert rules == ["\\uE000 => ", "\\uE001 => \\u0020\\u006D"]
    assert all(rule.isascii() for rule in rules)


def test_a_token_longer_than_lucene_takes_is_left_out_and_counted():
    long_run = "a" * (MAX_TOKEN_UNITS + 1)
    text = f"trước {long_run} sau"
    expansions = Expansions()
    aligned, dropped = align(text, analysis_tokens(analyze(text), SYLLABLES, schema.EXACT), expansions)
    assert dropped == 1
    assert [t for t, _, _ in cluster_tokens(text, aligned, expansions)] == ["trước", "sau"]


@pytest.mark.parametrize("tokens", [
    [Token("ab", 0, 2), Token("bc", 1, 3)],      # overlapping
    [Token("bc", 2, 4), Token("ab", 0, 2)],      # out of order
    [Token("ab", 0, 9)],                          # past the end
    [Token("ab", 1, 1)],                          # empty span
])
def test_bad_token_spans_are_refused(tokens):
    with pytest.raises(AlignmentError):
        align("abcd", tokens, Expansions())
