"""Lossless normalization, with an offset map into the original text.

:func:`normalize` only chooses one spelling among equivalent ones (the
lossless stage; folding, lossy, is :mod:`indexer.analysis.folding`): Unicode NFC,
Latin ``Ð``/``ð`` read as Vietnamese ``Đ``/``đ``, and one canonical tone
placement per Vietnamese syllable (``hòa``→``hoà``, ``ủy``→``uỷ``,
``qúy``→``quý``). It keeps the case and returns an offset map into the
original string.

Canonical tone placement ("new style", as in pyvi's dictionary and the news
corpus), for a syllable parsed as *initial + vowel cluster + final*:

1. a vowel with a quality mark (``â ă ê ô ơ ư``) takes the tone; with two of
   them (``ươ``) the last one does: ``người``, ``tuổi``, ``thuyền``;
2. a single vowel takes it;
3. with a final consonant, the last vowel of the cluster: ``hoàn``, ``toán``;
4. open three-vowel clusters, the middle vowel: ``ngoài``, ``khuỷu``, ``ngoáy``;
5. open ``oa``, ``oe``, ``uy``, the second vowel: ``hoà``, ``khoẻ``, ``uỷ``;
6. other open two-vowel clusters, the first vowel: ``ái``, ``mùa``, ``mía``.

``qu`` and ``gi`` (before a vowel) are initials, so their ``u``/``i`` never
carries the tone: ``qúy``→``quý``, ``gìa``→``già``; ``gì``, ``gìn`` keep it.

Only a maximal run of letters (``str.isalpha``) that parses as exactly one
Vietnamese syllable with exactly one tone mark is rewritten.  Everything else
(foreign words, acronyms, mixed-script tokens, runs with two tone marks such as
``ĐẮKLẮK``, runs with ``f j w z``) is left as it is.  Letter runs never cross
digits, ``_`` or combining marks, so a run is always inside one of the
``[^\\W_]+`` syllable runs the analyzer maps back through
:meth:`Normalized.original_span`.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import unicodedata
from typing import NamedTuple

__all__ = ["Normalized", "normalize", "normalize_syllable"]

_NFC = functools.partial(unicodedata.normalize, "NFC")
_ETH = str.maketrans({"\u00d0": "\u0110", "\u00f0": "\u0111"})  # Ð→Đ, ð→đ

# ---------------------------------------------------------------------------
# The result type
# ---------------------------------------------------------------------------


class Normalized(NamedTuple):
    """The normalized text and how it maps back to the original.

    ``offsets is None`` means identity: ``text`` has the same length as the
    original and character ``i`` comes from original character ``i``.
    Otherwise ``len(offsets) == len(text) + 1``; ``offsets[i]`` is the index in
    the original of the start of the source cluster (a starter and the
    combining marks that follow it, or a coarser unit where NFC composes
    across those) of normalized character ``i``, and
    ``offsets[len(text)] == len(original)``.  Offsets are non-decreasing.
    """

    text: str
    offsets: list[int] | None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalized half-open span ``[start, end)`` to the original.

        The result covers whole source clusters: it starts where the cluster
        of ``text[start]`` starts and ends where the cluster of
        ``text[end - 1]`` ends.  An empty span maps to an empty span at the
        start of the cluster of ``text[start]``.  Requires
        ``0 <= start <= end <= len(text)``.
        """
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) outside [0, {len(self.text)}]")
        offsets = self.offsets
        if offsets is None:
            return start, end
        if start == end:
            return offsets[start], offsets[start]
        last = offsets[end - 1]
        while offsets[end] == last:  # end is inside the cluster of text[end-1]
            end += 1
        return offsets[start], offsets[end]


# ---------------------------------------------------------------------------
# Vietnamese letters and syllables
# ---------------------------------------------------------------------------

_VOWELS = "aăâeêioôơuưy"
_QUALITY = frozenset("ăâêôơư")
# tone 0 = none; 1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng
_TONE_MARKS = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")
_CONSONANTS = "bcdđghklmnpqrstvx"

# (lowercase base without tone, tone) -> lowercase NFC letter
_COMPOSE: dict[tuple[str, int], str] = {}
# letter (either case) -> (lowercase base without tone, tone, is_upper)
_LETTER: dict[str, tuple[str, int, bool]] = {}
for _base in _VOWELS:
    for _tone, _mark in enumerate(_TONE_MARKS):
        _ch = _NFC(_base + _mark)
        assert len(_ch) == 1, _ch
        _COMPOSE[_base, _tone] = _ch
        _LETTER[_ch] = (_base, _tone, False)
        _LETTER[_ch.upper()] = (_base, _tone, True)
for _ch in _CONSONANTS:
    _COMPOSE[_ch, 0] = _ch
    _LETTER[_ch] = (_ch, 0, False)
    _LETTER[_ch.upper()] = (_ch, 0, True)

_INITIALS = (  # longest first; "qu" and "gi" are handled before these
    "ngh",
    "ch", "gh", "kh", "ng", "nh", "ph", "th", "tr",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x",
)
_FINALS = frozenset(("", "c", "ch", "m", "n", "ng", "nh", "p", "t"))

# Vowel clusters (after the initial) that may end an open syllable ...
_OPEN_CLUSTERS = frozenset("""
    a ă â e ê i o ô ơ u ư y
    ai ao au âu ay ây eo êu ia iu oa oe oi ôi ơi ua uê ui uơ uy ưa ưi ưu ươ
    iêu yêu oai oay oao oeo uây uôi ươi ươu uya uyu
""".split())
# ... and those that may be followed by a final consonant.
_CLOSED_CLUSTERS = frozenset("""
    a ă â e ê i o ô ơ u ư y
    iê yê oa oă oe oo uâ uê uô uy ươ uyê
""".split())


def _tone_index(cluster: str, closed: bool) -> int:
    """Index in ``cluster`` (lowercase, toneless) of the vowel that carries the
    tone, canonical new style; ``closed`` = a final consonant follows."""
    for k in range(len(cluster) - 1, -1, -1):
        if cluster[k] in _QUALITY:
            return k
    if len(cluster) == 1:
        return 0
    if closed:
        return len(cluster) - 1
    if len(cluster) == 3 or cluster in ("oa", "oe", "uy"):
        return 1
    return 0


def _parse(bases: str) -> tuple[int, int] | None:
    """Parse a lowercase toneless letter run as one Vietnamese syllable.

    Returns ``(start, end)``, the span of its vowel cluster; the ``u`` of
    ``qu`` and the ``i`` of ``gi`` (before another vowel) belong to the
    initial.  None if the run is not initial + cluster + final.
    """
    if bases.startswith("qu"):
        start = 2
        if bases[2:3] == "u":
            return None
    elif bases.startswith("gi") and len(bases) > 2 and bases[2] in _VOWELS:
        start = 2
        if bases[2] == "i":
            return None
    else:
        start = 0
        for initial in _INITIALS:
            if bases.startswith(initial):
                start = len(initial)
                break
    end = start
    while end < len(bases) and bases[end] in _VOWELS:
        end += 1
    final = bases[end:]
    if final not in _FINALS:
        return None
    if bases[start:end] not in (_CLOSED_CLUSTERS if final else _OPEN_CLUSTERS):
        return None
    return start, end


@functools.lru_cache(maxsize=1 << 16)
def _retone(word: str) -> str:
    """Canonical tone placement of one NFC letter run (unchanged if the run is
    not one Vietnamese syllable with exactly one tone mark)."""
    letters = []
    for ch in word:
        info = _LETTER.get(ch)
        if info is None:
            return word
        letters.append(info)
    toned = [k for k, info in enumerate(letters) if info[1]]
    if len(toned) != 1:
        return word
    bases = "".join(info[0] for info in letters)
    parsed = _parse(bases)
    if parsed is None:
        return word
    start, end = parsed
    source = toned[0]
    target = start + _tone_index(bases[start:end], end < len(bases))
    if target == source:
        return word
    tone = letters[source][1]
    out = list(word)
    for k, t in ((source, 0), (target, tone)):
        ch = _COMPOSE[bases[k], t]
        out[k] = ch.upper() if letters[k][2] else ch
    return "".join(out)


def normalize_syllable(syllable: str) -> str:
    """Canonical tone placement for one syllable, case preserved.

    The input is NFC-normalized first (so the result is NFC; for NFC input
    the result has the same length).  A string that is not exactly one
    Vietnamese syllable with one tone mark is returned NFC but otherwise
    unchanged: ``normalize_syllable("ủy") == "uỷ"``,
    ``normalize_syllable("Qúy") == "Quý"``, ``normalize_syllable("café") == "café"``.
    """
    return _retone(_NFC(syllable))


# ---------------------------------------------------------------------------
# Finding the syllables that need a tone move (fast path)
# ---------------------------------------------------------------------------


def _class(chars: str) -> str:
    """A regex character class of ``chars`` in both cases."""
    return "[" + "".join(dict.fromkeys(chars + chars.upper())) + "]"


def _toned_class(bases: str) -> str:
    return _class("".join(_COMPOSE[b, t] for b in bases for t in range(1, 6)))


def _candidate_regex() -> re.Pattern[str]:
    """A regex that matches inside every letter run :func:`_retone` changes,
    and rarely elsewhere (a dozen matches in 2000 news articles).

    It is anchored on the toned vowel (a leading character class lets ``re``
    skip to candidates in C).  A tone is misplaced when (A) it sits on a
    vowel followed by the vowel that should carry it, or (B) on a vowel
    preceded by the one that should.  From the rules in the module
    docstring, the pairs are:

    * A: ``ò+a/ă/e/o`` (oa oă oe oo, oai oay oao oeo), ``ù+y/â/ê/ô/ơ``,
      ``ừ+ơ``, ``ì+ê``, ``ỳ+ê``; any toned ``u`` after ``q`` or ``i`` after
      ``g`` (not ``ng``) before a vowel (``qúy``, ``gìa``);
    * B: ``aí oí ôí ơí ưí``, ``uí`` (not after ``q``: ``quí``); ``aó eó``;
      ``aú âú êú ưú ơú yú``, ``iú`` (not after ``gi``: ``giúp``);
      ``aý âý``; ``ưá yá``, ``uá`` (not ``quá``), ``iá`` (not ``giá``).

    Toned ``e ê â ă ô ơ`` are never misplaced.  ``test_normalize`` checks
    this table against :func:`_retone` over every syllable shape.
    """
    vowel = _class("".join(_COMPOSE[b, t] for b in _VOWELS for t in range(6)))
    gi = "(?<![nN])[gG][iI]"  # a "gi" initial
    misplaced = (  # toned vowel, conditions (lookarounds); most frequent vowel first
        ("a", f"(?<=[ưyuiƯYUI].)(?<![qQ][uU].)(?<!{gi}.)"),
        ("i", f"(?=[êÊ])|(?<=[gG].)(?<![nN]..)(?={vowel})|(?<=[aoôơưuAOÔƠƯU].)(?<![qQ][uU].)"),
        ("u", f"(?=[yâêôơYÂÊÔƠ])|(?<=[qQ].)(?={vowel})|(?<=[aâêươyiAÂÊƯƠYI].)(?<!{gi}.)"),
        ("ư", "(?=[ơƠ])"),
        ("o", "(?=[aăeoAĂEO])|(?<=[aeAE].)"),
        ("y", "(?=[êÊ])|(?<=[aâAÂ].)"),
    )
    # Each vowel's conditions are only tried when the anchor is that vowel
    # (a chain of lookbehinds on the anchor), which keeps the common failing
    # case to two or three lookarounds.
    tail = f"(?:{misplaced[-1][1]})"
    for vowel_base, conditions in reversed(misplaced[:-1]):
        anchor = _toned_class(vowel_base)
        tail = f"(?:(?<={anchor})(?:{conditions})|(?<!{anchor}){tail})"
    return re.compile(_toned_class("".join(v for v, _ in misplaced)) + tail)


_CANDIDATE = _candidate_regex()


def _fix_tones(text: str) -> str:
    """Canonical tone placement of every syllable of an NFC ``text``
    (same length, same alignment)."""
    pieces = []
    done = 0  # text[:done] is already in pieces
    n = len(text)
    for m in _CANDIDATE.finditer(text):
        if m.start() < done:
            continue  # inside a run already handled
        i, j = m.start(), m.end()
        while i > 0 and text[i - 1].isalpha():
            i -= 1
        while j < n and text[j].isalpha():
            j += 1
        word = text[i:j]
        # A combining mark NFC could not compose would compose with the
        # run's last letter once its tone moved away: such a run is left as is.
        fixed = word if j < n and unicodedata.combining(text[j]) else _retone(word)
        if fixed != word:
            pieces.append(text[done:i])
            pieces.append(fixed)
        else:
            pieces.append(text[done:j])
        done = j
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


# ---------------------------------------------------------------------------
# NFC with offsets
# ---------------------------------------------------------------------------


def _ranges_class(codepoints: set[int]) -> str:
    """A regex character class body for a set of code points."""
    out = []
    cps = sorted(codepoints)
    k = 0
    while k < len(cps):
        lo = hi = cps[k]
        while k + 1 < len(cps) and cps[k + 1] == hi + 1:
            k += 1
            hi = cps[k]
        out.append(re.escape(chr(lo)) if lo == hi else f"{re.escape(chr(lo))}-{re.escape(chr(hi))}")
        k += 1
    return "".join(out)


@functools.cache
def _attaching() -> frozenset[int]:
    """Code points that NFC may attach to the character before them, so that
    a cluster boundary is safe exactly before every other character:

    * non-starters (ccc > 0), which canonical reordering can move;
    * characters whose decomposition begins with a non-starter (U+0F73...);
    * starters that are the second half of a primary composite (Hangul V
      and T jamo, some Indic length marks), and characters whose
      decomposition begins with one.

    Computed once, on first use (a scan of the code space, ~0.2 s).
    """
    attach = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul V, T
    decomposing = []
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        if unicodedata.combining(ch):
            attach.add(cp)
            continue
        dec = unicodedata.decomposition(ch)
        if not dec or dec.startswith("<"):
            continue
        decomposing.append(ch)
        parts = dec.split()
        if len(parts) == 2 and _NFC(ch) == ch:  # a primary composite
            attach.add(int(parts[1], 16))
    for ch in decomposing:
        if ord(unicodedata.normalize("NFD", ch)[0]) in attach:
            attach.add(ord(ch))
    return frozenset(cp for cp in attach if not 0xD800 <= cp <= 0xDFFF)


@functools.cache
def _start_mask() -> bytes:
    """``str.translate`` table indexed by code point: 0 for attaching
    characters, 1 for the others (a bytes lookup is cheaper than a dict)."""
    mask = bytearray(b"\x01") * (sys.maxunicode + 1)
    for cp in _attaching():
        mask[cp] = 0
    return bytes(mask)


@functools.cache
def _cluster_regex() -> re.Pattern[str]:
    """Matches a character followed by one or more attaching characters."""
    return re.compile(f"(?s).[{_ranges_class(set(_attaching()))}]+")


def _cluster_starts(text: str) -> list[int]:
    """Indices where a cluster begins: 0 and every non-attaching character."""
    mask = text.translate(_start_mask()).encode("latin-1")
    return list(itertools.compress(range(len(text)), b"\x01" + mask[1:]))


@functools.lru_cache(maxsize=1 << 14)
def _nfc_cluster(cluster: str) -> str:
    return _NFC(cluster)


def _nfc_clusters(text: str) -> tuple[str, list[int]]:
    """NFC of ``text`` cluster by cluster, with the start of each output
    character's source cluster (without the final sentinel)."""
    pieces: list[str] = []
    offsets: list[int] = []
    pos = 0
    for m in _cluster_regex().finditer(text):
        start, end = m.span()
        if start > pos:
            _nfc_plain(text, pos, start, pieces, offsets)
        out = _nfc_cluster(m.group())
        pieces.append(out)
        offsets.extend([start] * len(out))
        pos = end
    if pos < len(text):
        _nfc_plain(text, pos, len(text), pieces, offsets)
    return "".join(pieces), offsets


def _nfc_plain(text: str, start: int, end: int, pieces: list[str], offsets: list[int]) -> None:
    """NFC of a stretch with no attaching characters: each character is its
    own cluster (most are already NFC; singletons such as U+212B ANGSTROM SIGN
    change, composition exclusions such as U+0958 expand to two characters)."""
    chunk = text[start:end]
    if unicodedata.is_normalized("NFC", chunk):
        pieces.append(chunk)
        offsets.extend(range(start, end))
        return
    for k in range(start, end):
        out = _NFC(text[k])
        pieces.append(out)
        offsets.extend([k] * len(out))


_SAFE_SPLIT = re.compile(r"(?=\s)")  # whitespace never composes with anything


def _nfc_coarse(text: str) -> tuple[str, list[int]]:
    """Fallback when cluster-wise NFC differs from NFC of the whole (a
    composition :func:`_attaching` does not foresee): whitespace-delimited
    segments; a segment whose clusters still misbehave becomes one cluster."""
    pieces: list[str] = []
    offsets: list[int] = []
    pos = 0
    for segment in _SAFE_SPLIT.split(text):
        if not segment:
            continue
        out, offs = _nfc_clusters(segment)
        if out == _NFC(segment):
            offsets.extend(pos + o for o in offs)
        else:
            out = _NFC(segment)
            offsets.extend([pos] * len(out))
        pieces.append(out)
        pos += len(segment)
    return "".join(pieces), offsets


def _nfc_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """``(NFC(text), offsets)``; offsets None when NFC keeps the alignment.

    Fast path for the usual non-NFC text (NFD Vietnamese): NFC never maps a
    cluster to nothing, so when NFC(text) has exactly one character per
    cluster, character ``i`` comes from the ``i``-th cluster.  Otherwise the
    text is normalized cluster by cluster (and checked against NFC of the
    whole)."""
    full = _NFC(text)  # CPython returns text itself when quick check says NFC
    if full is text or full == text:
        return text, None
    offsets = _cluster_starts(text)
    if len(offsets) != len(full):
        out, offsets = _nfc_clusters(text)
        if out != full:
            out, offsets = _nfc_coarse(text)
            if out != full:  # whitespace is a safe split, so this cannot happen
                offsets = [0] * len(full)
    offsets.append(len(text))
    if len(full) == len(text) and offsets == list(range(len(text) + 1)):
        return full, None
    return full, offsets


# ---------------------------------------------------------------------------
# Public: normalize
# ---------------------------------------------------------------------------


def normalize(text: str) -> Normalized:
    """Lossless normalization of ``text``, with offsets into ``text``.

    ``normalize(t).text == canonical_tones(NFC(t with Ð→Đ, ð→đ))``, where
    canonical_tones applies :func:`normalize_syllable` to every maximal
    letter run that no combining mark follows.  Case is kept.  Tone placement moves a mark inside a syllable
    and keeps the NFC length, so ``offsets`` only reflect the NFC step and
    are None (identity) whenever NFC keeps the alignment, in particular for
    any text that is already NFC.  Idempotent.
    """
    if text.isascii():
        return Normalized(text, None)
    if "\u00d0" in text or "\u00f0" in text:
        text_ = text.translate(_ETH)
    else:
        text_ = text
    nfc, offsets = _nfc_with_offsets(text_)
    return Normalized(_fix_tones(nfc), offsets)
