"""Phrase checks: which candidate documents hold a phrase's syllables consecutively.

Candidates come from the postings (documents holding every syllable of the
phrase in one field); adjacency is then read from positions: the positions
files for the folded fields, Whoosh's blocks for the exact ones (only an
accented exclusion needs those). A two-syllable phrase that pyvi made one
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
        where = {(field, word): self.reader.positions(field, word, docs)
                 for field, words in alternatives if len(words) > 1 for word in words}
        for i, doc in zip(unknown.tolist(), docnums[unknown].tolist()):
            out[i] = any(_consecutive([where[(field, w)].get(doc, ()) for w in words])
                         for field, words in alternatives if len(words) > 1)
        return out


def _consecutive(positions: list) -> bool:
    """True if some p has p in positions[0], p + 1 in positions[1], … (each increasing)."""
    starts = None
    for k, at in enumerate(positions):
        shifted = np.asarray(at, dtype=np.int64) - k
        starts = shifted if starts is None else np.intersect1d(starts, shifted, assume_unique=True)
        if not len(starts):
            return False
    return starts is not None
