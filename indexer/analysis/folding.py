"""Lossy folding of one token: every diacritic removed, ``đ``→``d``.

It does not lowercase and keeps no offsets (it is applied to single tokens,
whose offsets the tokenizer already holds). The lossless stage before it is
:mod:`indexer.analysis.normalization`.
"""

from __future__ import annotations

import functools
import unicodedata

__all__ = ["fold", "has_diacritics"]

_NFC = functools.partial(unicodedata.normalize, "NFC")

_FOLD_LETTERS = {"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"}


class _FoldTable(dict):
    """``str.translate`` table computed per character on first sight."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        out = _fold_char(ch)
        self[cp] = out
        return out


def _fold_char(ch: str) -> str:
    """NFD of one character without its combining marks, ``đ``→``d``.  A
    character whose decomposition has no mark (Hangul syllables, the ASCII
    letters) is kept as it is; :func:`fold` recomposes the result."""
    if ch in _FOLD_LETTERS:
        return _FOLD_LETTERS[ch]
    dec = unicodedata.normalize("NFD", ch)
    kept = "".join(c for c in dec if not unicodedata.combining(c))
    if kept == dec:
        return ch
    return "".join(_FOLD_LETTERS.get(c, c) for c in kept)


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Lossy folding: NFD, every combining mark (``unicodedata.combining``)
    removed, ``đ``/``Đ`` (and the look-alike ``ð``/``Ð``) → ``d``/``D``, NFC.
    Does not lowercase.  Characters whose decomposition has no mark (Hangul
    syllables...) come out as they went in.  Cached per character.
    ``fold("Đảng ủy") == "Dang uy"``, ``fold(nfd(t)) == fold(t)``."""
    if text.isascii():
        return text
    out = text.translate(_FOLD_TABLE)
    return out if unicodedata.is_normalized("NFC", out) else _NFC(out)


def has_diacritics(text: str) -> bool:
    """True iff ``fold(text) != text`` (``đ`` counts, so does non-NFC text
    that folding recomposes)."""
    return not text.isascii() and fold(text) != text
