"""Telex and VNI keys decoded into syllables, and typed back (the bench's forms)."""

import pytest

from indexer.analysis.syllable import is_valid
from indexer.analysis.telex import ORDERS, decode, decodings, encode


@pytest.mark.parametrize("keys, method, syllable", [
    ("dduwowngf", "telex", "đường"),
    ("d9u7o7ng2", "vni", "đường"),
    ("ddangr", "telex", "đảng"),
    ("d9a3ng", "vni", "đảng"),
    ("toois", "telex", "tối"),      # free key order: the mark and the tone anywhere after their vowel
    ("toosi", "telex", "tối"),
    ("toios", "telex", "tối"),
    ("vieetj", "telex", "việt"),
    ("vietje", "telex", "việt"),
    ("viejet", "telex", "việt"),
    ("nguoiwf", "telex", "người"),
    ("nguo7i2", "vni", "người"),
    ("muwa", "telex", "mưa"),
    ("muaw", "telex", "mưa"),       # ua + w after an onset is ưa
    ("nhw", "telex", "như"),        # a lone w is ư
    ("nawm", "telex", "năm"),
    ("na8m", "vni", "năm"),
    ("hoaf", "telex", "hoà"),       # the tone lands on the canonical vowel
    ("uyr", "telex", "uỷ"),
    ("quoocs", "telex", "quốc"),
    ("gieengs", "telex", "giếng"),
    ("nguyeenx", "telex", "nguyễn"),
    ("asz", "telex", "a"),          # z removes the tone
    ("a10", "vni", "a"),
])
def test_keys_decode_to_the_syllable(keys, method, syllable):
    assert decode(keys, method) == syllable


@pytest.mark.parametrize("keys, method, literal", [
    ("aaa", "telex", "aa"),         # a doubled key undoes and is kept as a letter
    ("ass", "telex", "as"),
    ("dddo", "telex", "ddo"),
    ("a66", "vni", "a6"),
])
def test_a_doubled_key_undoes(keys, method, literal):
    assert decode(keys, method) == literal


@pytest.mark.parametrize("token", ["dang", "vien", "hanoi", "2020", "", "Ddangr", "đảng", "tp.hcm"])
def test_tokens_without_acting_keys_are_not_decoded(token):
    assert decodings(token) == []


def test_english_looking_tokens_decode_but_not_always_validly():
    # the decoder replays keys; whether that was meant is the query side's call
    assert decode("ddos", "telex") == "đó"
    assert decode("mix", "telex") == "mĩ"
    assert not is_valid(decode("bookj", "telex"))


@pytest.mark.parametrize("syllable", ["đường", "tối", "việt", "người", "mưa", "nguyễn", "quốc", "giếng",
                                      "khuỷu", "hoà", "đảng", "năm", "ngoài", "chuyện", "bưởi", "tướng"])
@pytest.mark.parametrize("method", ["telex", "vni"])
@pytest.mark.parametrize("order", ORDERS)
def test_every_key_order_types_back_the_syllable(syllable, method, order):
    keys = encode(syllable, method, order)
    assert keys.isascii() and keys != syllable
    assert decode(keys, method) == syllable


def test_encode_keeps_case_and_unknown_orders_fail():
    assert encode("Đảng", "telex") == "Ddangr"
    with pytest.raises(ValueError):
        encode("đảng", "telex", "backwards")
    with pytest.raises(ValueError):
        decode("ddangr", "viqr")
