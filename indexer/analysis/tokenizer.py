"""Whoosh analyzers over :func:`~indexer.analysis.pipeline.analyze`: the same
at index and query time, declared once (:data:`FILTERS`).

Token stream contract (:class:`VietnameseTokenizer`):

* one token per syllable, with consecutive positions, so phrase queries work;
* one extra token per pyvi word of two or more syllables (``đảng_viên``: the
  syllables joined by ``_``), at the position of its first syllable, so words
  never shift syllable positions;
* ``startchar``/``endchar`` index the ORIGINAL text given to the analyzer:
  ``text[t.startchar:t.endchar]`` is the token's source as written;
* no stop words and no minimum length: ``Y`` in ``Bộ Y tế`` and ``ở`` are terms.
"""

from __future__ import annotations

from typing import Iterator

from whoosh.analysis import Composable, Filter, LowercaseFilter, Token, Tokenizer

from indexer.analysis.folding import fold
from indexer.analysis.pipeline import Word, analyze

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


#: The filters after the tokenizer, per kind of field: the lossy stages, in order.
FILTERS: dict[str, tuple[type[Filter], ...]] = {
    "exact": (LowercaseFilter,),
    "folded": (LowercaseFilter, FoldFilter),
}


def make_analyzer(kind: str) -> Composable:
    """The analyzer of one kind of field (a key of :data:`FILTERS`)."""
    analyzer = VietnameseTokenizer()
    for stage in FILTERS[kind]:
        analyzer = analyzer | stage()
    return analyzer


def exact_analyzer() -> Composable:
    """Analyzer of the exact-accent fields: normalized, lowercased."""
    return make_analyzer("exact")


def folded_analyzer() -> Composable:
    """Analyzer of the folded fields: normalized, lowercased, folded."""
    return make_analyzer("folded")


def analyzer_kind(analyzer) -> str | None:
    """The :data:`FILTERS` key an analyzer was made from, or None for another analyzer."""
    items = getattr(analyzer, "items", None)
    if not items or type(items[0]) is not VietnameseTokenizer:
        return None
    rest = tuple(type(item) for item in items[1:])
    return next((kind for kind, stages in FILTERS.items() if stages == rest), None)
