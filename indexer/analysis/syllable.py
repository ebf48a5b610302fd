"""Is a string one valid Vietnamese syllable? Onset, rhyme and tone rules.

A syllable is *onset + rhyme* with one of six tones. :func:`parse` accepts a
lowercase syllable (any tone placement, NFC or not) and returns its parts, or
None when it breaks a rule of the writing system:

* the onset is one of :data:`ONSETS` (``qu`` and ``gi`` included: the ``u`` of
  ``quý`` and the ``i`` of ``giá`` belong to it);
* the rhyme (medial glide, nucleus and coda) is one of :data:`RHYMES`, or of
  :data:`QU_RHYMES` after ``qu``; after ``gi`` a rhyme of ``iê`` drops its ``i``
  (``giếng``);
* spelling: ``gh``, ``ngh`` only before ``e ê i y``; ``c``, ``g``, ``ng``
  never before ``e ê`` (``gi`` is an onset of its own), ``c`` never before
  ``i y``; ``k`` is allowed before any vowel, as place names write it
  (*Đắk Lắk*, *Bắc Kạn*, *Kon Tum*);
* tone: a syllable closed by ``c ch p t`` takes only sắc or nặng (``mát``,
  ``mạt``; never ``màt``).

It judges shape only, not whether a word exists: that is the index's
vocabulary's business (the Telex/VNI decoder asks both).
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

__all__ = ["Parsed", "TONES", "parse", "is_valid", "strip_tone"]

#: Combining tone marks and their names (ngang, the level tone, has none).
TONES = {"\u0301": "sắc", "\u0300": "huyền", "\u0309": "hỏi", "\u0303": "ngã", "\u0323": "nặng"}

ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
          "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")

# Rhymes without onset constraints (a standard table of Vietnamese rhymes,
# loan rhymes ``oong``, ``ooc`` included: ``xoong``, ``quần soóc``).
RHYMES = frozenset("""
    a ac ach ai am an ang anh ao ap at au ay
    ăc ăm ăn ăng ăp ăt
    âc âm ân âng âp ât âu ây
    e ec em en eng eo ep et
    ê êch êm ên ênh êp êt êu
    i ia ich im in inh ip it iu
    iêc iêm iên iêng iêp iêt iêu
    yêm yên yêng yêt yêu
    o oc oi om on ong op ot
    ô ôc ôi ôm ôn ông ôp ôt
    ơ ơi ơm ơn ơp ơt
    u ua uc ui um un ung up ut
    uôc uôi uôm uôn uông uôt
    ư ưa ưc ưi ưm ưn ưng ưt ưu
    ươc ươi ươm ươn ương ươp ươt ươu
    y
    oa oac oach oai oam oan oang oanh oao oap oat oay
    oăc oăm oăn oăng oăt
    oe oem oen oeo oet
    oong ooc
    uân uâng uât uây
    uê uêch uên uênh
    uơ
    uy uya uych uyn uynh uyp uyt uyu uyên uyêt
""".split())

# After ``qu`` (whose ``u`` is the medial glide).
QU_RHYMES = frozenset("""
    a ac ach ai am an ang anh ao ap at au ay
    ăc ăm ăn ăng ăp ăt
    âc ân âng ât ây
    e ec em en eo ep et
    ê êch ên ênh êt
    i in inh it y ya ych yn ynh yp yt yu yên yêt
    ơ ơi
    ôc
""".split())

_STOPS = ("ch", "c", "p", "t")
_FRONT = ("e", "ê", "i", "y")


class Parsed(NamedTuple):
    onset: str
    rhyme: str       # toneless
    tone: str        # "" (ngang) or a combining mark of TONES


def strip_tone(syllable: str) -> tuple[str, str]:
    """(the syllable NFC without its tone mark, the mark or ""); raises
    ValueError when it holds more than one tone mark."""
    tone = ""
    kept = []
    for ch in unicodedata.normalize("NFD", syllable):
        if ch in TONES:
            if tone:
                raise ValueError(f"{syllable!r} carries two tone marks")
            tone = ch
        else:
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)), tone


def _spelling_ok(onset: str, rhyme: str) -> bool:
    first = rhyme[:1]
    if onset in ("gh", "ngh"):
        return first in _FRONT
    if onset in ("c", "ng", "g"):
        return first not in ("e", "ê") and not (onset == "c" and first in ("i", "y"))
    return True


def _tone_ok(rhyme: str, tone: str) -> bool:
    if rhyme.endswith(_STOPS):
        return tone in ("\u0301", "\u0323")
    return True


def _readings(letters: str):
    """Every (onset, rhyme) split of a toneless syllable the tables allow."""
    for onset in ONSETS:
        if not letters.startswith(onset):
            continue
        rhyme = letters[len(onset):]
        if onset == "qu":
            if rhyme in QU_RHYMES:
                yield onset, rhyme
        elif onset == "gi":
            if rhyme in RHYMES or ("i" + rhyme) in RHYMES and rhyme[:1] == "ê":
                yield onset, rhyme
            elif rhyme == "":
                continue
        elif rhyme in RHYMES and _spelling_ok(onset, rhyme):
            yield onset, rhyme


def parse(syllable: str) -> Parsed | None:
    """The parts of a lowercase syllable, or None if it is not a valid one
    (``parse("tối") == Parsed("t", "ôi", "\\u0301")``, ``parse("màt") is None``)."""
    if not syllable or not syllable.isalpha():
        return None
    try:
        letters, tone = strip_tone(syllable)
    except ValueError:
        return None
    for onset, rhyme in _readings(letters):
        if _tone_ok(rhyme, tone):
            return Parsed(onset, rhyme, tone)
    return None


def is_valid(syllable: str) -> bool:
    """True iff :func:`parse` accepts ``syllable``."""
    return parse(syllable) is not None
