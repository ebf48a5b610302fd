"""Vietnamese text analysis, shared by indexing and querying.

Stages, in order (the charabia split: lossless first, lossy last):

1. **normalize** (lossless, :mod:`indexer.normalize`): NFC, ``Ð``→``Đ``, one
   canonical tone placement (``ủy``→``uỷ``, ``hòa``→``hoà``).
2. **segment** (:mod:`indexer.segment`): pyvi's syllables and words, computed on
   the normalized text *before* lowercasing (pyvi's model uses case).
3. **lowercase** (:class:`LowercaseFilter`).
4. **fold** (lossy, folded fields only, :class:`FoldFilter`): every diacritic
   removed, ``đ``→``d``.

Token stream contract (:class:`VietnameseTokenizer`):

* one token per syllable, with consecutive positions, so phrase queries work;
* one extra token per pyvi word of two or more syllables (``đảng_viên``: the
  syllables joined by ``_``), at the position of its first syllable, so words
  never shift syllable positions;
* ``startchar``/``endchar`` index the ORIGINAL text given to the analyzer (NFD
  or old-style tone placement included): ``text[t.startchar:t.endchar]`` is the
  token's source as written, for syllables and words alike;
* no stop words and no minimum length: ``Y`` in ``Bộ Y tế`` and ``ở`` are terms.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Iterator, NamedTuple

from whoosh.analysis import Composable, Filter, LowercaseFilter, Token, Tokenizer

from indexer.normalize import fold, normalize
from indexer.segment import segment

WORD_JOINER = "_"
_SYLLABLE_RUN = re.compile(r"[^\W_]+")


class Syllable(NamedTuple):
    text: str       # normalized (NFC, canonical tones), case kept
    startchar: int  # into the original text
    endchar: int


class Word(NamedTuple):
    text: str       # normalized syllables joined by WORD_JOINER, case kept
    startchar: int
    endchar: int
    first: int      # index (= position) of its first syllable


class Analysis(NamedTuple):
    syllables: tuple[Syllable, ...]
    words: tuple[Word, ...]   # only words of two or more syllables


def _analyze_uncached(text: str) -> Analysis:
    norm = normalize(text)
    ntext = norm.text
    syllables: list[Syllable] = []
    words: list[Word] = []
    for word_spans in segment(ntext):
        parts: list[Syllable] = []
        pure = True  # every span of the word is exactly one syllable run
        for start, end in word_spans:
            runs = list(_SYLLABLE_RUN.finditer(ntext, start, end))
            if len(runs) != 1 or runs[0].span() != (start, end):
                pure = False
            for run in runs:
                s, e = norm.original_span(run.start(), run.end())
                parts.append(Syllable(run.group(), s, e))
        if pure and len(parts) >= 2:
            words.append(Word(WORD_JOINER.join(p.text for p in parts),
                              parts[0].startchar, parts[-1].endchar, len(syllables)))
        syllables.extend(parts)
    return Analysis(tuple(syllables), tuple(words))


class _AnalysisCache:
    """A small LRU cache: the indexer analyzes each text once for its exact
    and folded fields, and parallel workers can hand in precomputed results."""

    def __init__(self, size: int = 64) -> None:
        self._items: OrderedDict[str, Analysis] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, text: str) -> Analysis | None:
        with self._lock:
            hit = self._items.get(text)
            if hit is not None:
                self._items.move_to_end(text)
            return hit

    def put(self, text: str, analysis: Analysis) -> None:
        with self._lock:
            self._items[text] = analysis
            self._items.move_to_end(text)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_cache = _AnalysisCache()


def analyze(text: str) -> Analysis:
    """Normalize and segment ``text``; offsets point into ``text`` itself."""
    hit = _cache.get(text)
    if hit is None:
        hit = _analyze_uncached(text)
        _cache.put(text, hit)
    return hit


def prime(text: str, analysis: Analysis) -> None:
    """Hand in an analysis computed elsewhere (e.g. in a worker process)."""
    _cache.put(text, analysis)


def exact_form(token_text: str) -> str:
    """The exact-accent term of a normalized token: lowercase."""
    return token_text.lower()


def folded_form(token_text: str) -> str:
    """The folded term of a normalized token: lowercase, no diacritics, đ→d."""
    return fold(token_text.lower())


class VietnameseTokenizer(Tokenizer):
    """Syllable and word tokens of :func:`analyze`, case kept (see module doc)."""

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True,
                 start_pos: int = 0, start_char: int = 0, mode: str = "",
                 **kwargs) -> Iterator[Token]:
        analysis = analyze(value)
        words_at: dict[int, list[Word]] = {}
        for word in analysis.words:
            words_at.setdefault(word.first, []).append(word)
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for i, syl in enumerate(analysis.syllables):
            yield self._set(t, syl.text, i, syl.startchar, syl.endchar,
                            positions, chars, keeporiginal, start_pos, start_char)
            for word in words_at.get(i, ()):
                yield self._set(t, word.text, i, word.startchar, word.endchar,
                                positions, chars, keeporiginal, start_pos, start_char)

    @staticmethod
    def _set(t: Token, text: str, pos: int, startchar: int, endchar: int,
             positions: bool, chars: bool, keeporiginal: bool,
             start_pos: int, start_char: int) -> Token:
        t.text = text
        t.boost = 1.0
        t.stopped = False
        if keeporiginal:
            t.original = text
        if positions:
            t.pos = start_pos + pos
        if chars:
            t.startchar = start_char + startchar
            t.endchar = start_char + endchar
        return t


class FoldFilter(Filter):
    """Lossy folding of token text: diacritics removed, ``đ``→``d``."""

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        for t in tokens:
            t.text = fold(t.text)
            yield t


def exact_analyzer() -> Composable:
    """Analyzer of the exact-accent fields: normalized, lowercased."""
    return VietnameseTokenizer() | LowercaseFilter()


def folded_analyzer() -> Composable:
    """Analyzer of the folded fields: normalized, lowercased, folded."""
    return VietnameseTokenizer() | LowercaseFilter() | FoldFilter()


def has_diacritics(text: str) -> bool:
    """True when folding changes ``text`` (``đ`` counts as a diacritic)."""
    return fold(text) != text
