"""A phrase-level model of the index: which syllable follows which, how often,
and how the pages spell each syllable.

Built from the stored text of the index's documents (up to
:data:`MAX_DOCUMENTS` of them, evenly spread), normalised as the analyzer
normalises it (:func:`indexer.analysis.normalize`: one canonical tone
placement), its syllables the analyzer's (``[^\\W_]+`` runs), lowercase:

* **bigrams**: two syllables separated only by white space (not across a
  comma or a full stop), counted per occurrence; the completions of
  ``/api/suggest`` come from them, so ``dang v`` offers what follows a
  *dang* in the pages (*đảng viên*), not any frequent syllable in *v*;
* **spellings**: for each canonical syllable, the spelling the pages use
  most (*ủy* where the pages write *ủy*, although the index holds *uỷ*):
  what suggestions and "did you mean" show.

Arrays, not dicts of pairs: a bigram is ``first_id << 32 | second_id`` in one
sorted int64 array with its counts beside it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Iterable

import numpy as np

from indexer.analysis import fold, normalize

MAX_DOCUMENTS = 5000
_RUN = re.compile(r"[^\W_]+")
_SHIFT = 32


class PhraseModel:
    def __init__(self, vocab: list[str], counts: np.ndarray, keys: np.ndarray, pair_counts: np.ndarray,
                 spellings: dict[str, str]) -> None:
        self.vocab = vocab                 # id -> exact (canonical, lowercase) syllable
        self.ids = {s: i for i, s in enumerate(vocab)}
        self.counts = counts               # occurrences of each syllable
        self.keys = keys                   # sorted bigram keys
        self.pair_counts = pair_counts     # occurrences of each bigram
        self.spellings = spellings         # canonical -> the pages' most used spelling, where they differ
        self.by_folded: dict[str, list[int]] = {}
        for i, s in enumerate(vocab):
            self.by_folded.setdefault(fold(s), []).append(i)

    def forms(self, folded: str) -> list[int]:
        """Ids of the exact syllables of a folded one."""
        return self.by_folded.get(folded, [])

    def followers(self, first: int) -> tuple[np.ndarray, np.ndarray]:
        """(ids of the syllables seen right after ``first``, their counts)."""
        lo = np.searchsorted(self.keys, np.int64(first) << _SHIFT)
        hi = np.searchsorted(self.keys, np.int64(first + 1) << _SHIFT)
        return (self.keys[lo:hi] & 0xFFFFFFFF).astype(np.int64), self.pair_counts[lo:hi]

    def count(self, first: str, second: str) -> int:
        """Occurrences of the exact bigram ``first second``."""
        a, b = self.ids.get(first), self.ids.get(second)
        if a is None or b is None:
            return 0
        key = np.int64(a) << _SHIFT | np.int64(b)
        at = int(np.searchsorted(self.keys, key))
        return int(self.pair_counts[at]) if at < len(self.keys) and self.keys[at] == key else 0

    def spelled(self, syllable: str) -> str:
        """How the pages spell a canonical syllable most often."""
        return self.spellings.get(syllable, syllable)


def build(texts: Iterable[str]) -> PhraseModel:
    """The model of some texts (each a title or a body)."""
    ids: dict[str, int] = {}
    unigrams: list[int] = []
    chunks: list[np.ndarray] = []
    pending: list[int] = []
    variants: Counter[tuple[str, str]] = Counter()
    for text in texts:
        norm = normalize(text)
        ntext = norm.text
        prev, prev_end = -1, 0
        for m in _RUN.finditer(ntext):
            exact = m.group().lower()
            i = ids.get(exact)
            if i is None:
                i = ids[exact] = len(ids)
                unigrams.append(0)
            unigrams[i] += 1
            if norm.offsets is None:
                written = text[m.start():m.end()].lower()
            else:
                s, e = norm.original_span(m.start(), m.end())
                written = unicodedata.normalize("NFC", text[s:e]).lower()
            if written != exact:
                variants[exact, written] += 1
            if prev >= 0 and ntext[prev_end:m.start()].isspace():
                pending.append(prev << _SHIFT | i)
            prev, prev_end = i, m.end()
        if len(pending) > 1 << 20:
            chunks.append(np.asarray(pending, dtype=np.int64))
            pending = []
    chunks.append(np.asarray(pending, dtype=np.int64))
    keys, counts = np.unique(np.concatenate(chunks), return_counts=True)
    vocab = [""] * len(ids)
    for s, i in ids.items():
        vocab[i] = s
    spellings = _spellings(variants, ids, unigrams)
    return PhraseModel(vocab, np.asarray(unigrams, dtype=np.int64), keys, counts.astype(np.int64), spellings)


def _spellings(variants: Counter, ids: dict[str, int], unigrams: list[int]) -> dict[str, str]:
    """canonical -> its most used written form, where that is not the canonical one."""
    best: dict[str, tuple[int, str]] = {}
    other: Counter[str] = Counter()
    for (canonical, written), n in variants.items():
        other[canonical] += n
        if n > best.get(canonical, (0, ""))[0] or n == best[canonical][0] and written < best[canonical][1]:
            best[canonical] = (n, written)
    out = {}
    for canonical, (n, written) in best.items():
        as_is = unigrams[ids[canonical]] - other[canonical]
        # Only a different spelling of the same letters and tone (uỷ/ủy), never case
        if n > as_is and fold(written) == fold(canonical) and normalize(written).text == canonical:
            out[canonical] = written
    return out


def model_of(reader) -> PhraseModel:
    """The phrase model of an open index (its stored titles and bodies)."""
    from indexer.index import postings, schema
    return build(postings.stored_texts(reader, (schema.TITLE, schema.BODY), MAX_DOCUMENTS))
