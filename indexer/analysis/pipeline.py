"""The analysis of a text: normalized syllables and pyvi words, with offsets
into the original.

:func:`analyze` runs the lossless stages (:mod:`~indexer.analysis.normalization`,
then :mod:`~indexer.analysis.segment` on the normalized text, *before*
lowercasing: pyvi's model uses case) and maps every span back to the text it
was given. The lossy stages (lowercase, fold) apply to single tokens after it
(:mod:`~indexer.analysis.tokenizer`, :func:`exact_form`, :func:`folded_form`).

Offset contract: ``text[s.startchar:s.endchar]`` is the syllable (or word) as
written in ``text``, NFD and old-style tone placement included.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import NamedTuple

from indexer.analysis.folding import fold
from indexer.analysis.normalization import normalize
from indexer.analysis.segment import segment

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
    to_original = norm.original_span if norm.offsets is not None else None   # None: the identity
    whole_run, runs_in = _SYLLABLE_RUN.fullmatch, _SYLLABLE_RUN.finditer
    new = tuple.__new__              # the tuples' own constructor, without namedtuple's Python-level one
    syllables: list[Syllable] = []
    words: list[Word] = []
    for word_spans in segment(ntext):
        first = len(syllables)
        pure = True  # every span of the word is exactly one syllable run
        for start, end in word_spans:
            run = whole_run(ntext, start, end)
            if run is not None:
                found = (run,)
            else:
                pure = False
                found = runs_in(ntext, start, end)
            for run in found:
                s, e = run.span()
                if to_original is not None:
                    s, e = to_original(s, e)
                syllables.append(new(Syllable, (run.group(), s, e)))
        if pure and len(syllables) - first >= 2:
            parts = syllables[first:]
            words.append(new(Word, (WORD_JOINER.join(p.text for p in parts), parts[0].startchar,
                                    parts[-1].endchar, first)))
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


def exact_form(token_text: str) -> str:
    """The exact-accent term of a normalized token: lowercase."""
    return token_text.lower()


def folded_form(token_text: str) -> str:
    """The folded term of a normalized token: lowercase, no diacritics, đ→d."""
    return fold(token_text.lower())
