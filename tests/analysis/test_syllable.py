"""Vietnamese syllable validity: onset, rhyme and tone rules."""

import pytest

from indexer.analysis.syllable import Parsed, is_valid, parse


@pytest.mark.parametrize("syllable", [
    "đường", "tối", "việt", "người", "nghiêng", "quốc", "quý", "giá", "gì", "gìn", "giếng", "khuỷu",
    "hoà", "hòa", "uỷ", "ủy", "oẳn", "xoong", "yêu", "mát", "mạt", "ách", "học", "tiếp", "a", "y",
    "kạn", "kon",
])
def test_valid_syllables(syllable):
    assert is_valid(syllable)


@pytest.mark.parametrize("syllable", [
    "màt", "mảt", "hõc", "tiềp",         # -c -p -t -ch take only sắc or nặng
    "ghá", "nghu", "ce", "ngé",          # gh/ngh only before e ê i; c, ng never before e ê
    "bộk", "ddos", "tét1", "mix", "xyz", "qa", "đ", "", "a-b", "áà",
])
def test_invalid_syllables(syllable):
    assert not is_valid(syllable)


def test_parse_gives_onset_rhyme_and_tone():
    assert parse("tối") == Parsed("t", "ôi", "\u0301")
    assert parse("quốc") == Parsed("qu", "ôc", "\u0301")
    assert parse("giếng") == Parsed("gi", "êng", "\u0301")
    assert parse("gì") == Parsed("g", "i", "\u0300")
    assert parse("anh") == Parsed("", "anh", "")
