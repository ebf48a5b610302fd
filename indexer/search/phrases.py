"""Phrase checks: which candidate documents hold a phrase's syllables consecutively.

Candidates come from the postings (documents holding every syllable of the
phrase in one field); adjacency is then read from the positions of all the
candidates at once, as (document, start) pairs intersected word by word: the
folded fields' positions, or the exact ones' for an accented exclusion. A two-syllable phrase that pyvi made one
word in a document (``thanh_pho``) is adjacent there without reading
positions, which is most of the cost of a phrase query.

Exact syllables adjacent are folded syllables adjacent, so a required phrase
is checked on the folded fields alone; an accented exclusion is checked on
the exact fields, since ``-"bạc hà"`` must keep ``bác hà``.
"""

from __future__ import annotations

import numpy as np

from indexer.analysis import WORD_JOINER
from indexer.index import schema
from indexer.index.postings import PostingsReader
from indexer.search.query import Exclusion, Phrase, Term

FieldPhrase = tuple[str, tuple[str, ...]]      # (indexed field, the phrase's terms in its form)


def field_phrases(terms: tuple[Term, ...], exact: bool) -> list[FieldPhrase]:
    """The phrase as looked for in the title and in the body."""
    form = schema.EXACT if exact else schema.FOLDED
    words = tuple(t.exact if exact else t.folded for t in terms)
    return [(schema.indexed(field, form), words) for field in schema.TEXT_FIELDS]


def of_phrase(phrase: Phrase) -> list[FieldPhrase]:
    return field_phrases(phrase.terms, exact=False)


def of_exclusion(exclusion: Exclusion) -> list[FieldPhrase]:
    return field_phrases(exclusion.terms, exact=exclusion.exact)


class PhraseChecker:
    """Candidate masks and adjacency checks over one searcher's postings."""

    def __init__(self, reader: PostingsReader) -> None:
        self.reader = reader
        self.n = reader.doc_count_all

    def holders(self, alternatives: list[FieldPhrase]) -> np.ndarray:
        """Mask of documents holding every term of some alternative (not yet adjacency)."""
        mask = np.zeros(self.n, dtype=bool)
        for field, words in alternatives:
            has_all = np.ones(self.n, dtype=bool)
            for word in words:
                held = np.zeros(self.n, dtype=bool)
                held[self.reader.postings(field, word).docnums] = True
                has_all &= held
            mask |= has_all
        return mask

    def adjacent(self, alternatives: list[FieldPhrase], docnums: np.ndarray) -> np.ndarray:
        """Which of ``docnums`` hold some alternative's terms consecutively."""
        out = np.zeros(len(docnums), dtype=bool)
        for field, words in alternatives:
            if len(words) == 1:
                out |= np.isin(docnums, self.reader.postings(field, words[0]).docnums)
            elif len(words) == 2:
                out |= np.isin(docnums, self.reader.postings(field, WORD_JOINER.join(words)).docnums)
        unknown = np.flatnonzero(~out)
        if not len(unknown):
            return out
        docs = np.sort(docnums[unknown])
        for field, words in alternatives:
            if len(words) > 1:
                out[unknown] |= np.isin(docnums[unknown], self._consecutive_in(field, words, docs))
        return out

    def _consecutive_in(self, field: str, words: tuple[str, ...], docs: np.ndarray) -> np.ndarray:
        """Those of ``docs`` (sorted) holding ``words`` consecutively in ``field``:
        the (document, start) pairs where each word would have to begin a
        phrase, intersected word by word."""
        starts = None
        for k, word in enumerate(words):
            owners, where = self.reader.flat_positions(field, word, docs)
            keep = where >= k
            keys = (owners[keep] << _POSITION_BITS) | (where[keep] - k)
            starts = keys if starts is None else np.intersect1d(starts, keys, assume_unique=True)
            if not len(starts):
                break
            docs = np.unique(starts >> _POSITION_BITS)
        return np.unique(starts >> _POSITION_BITS)


_POSITION_BITS = 32     # a (document, position) pair as one int64 key: positions stay below 2**32
