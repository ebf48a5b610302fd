"""Vectorized execution of the common query shapes over numpy postings.

The engine compiles a query once into Whoosh query objects; this executor
runs the shapes made of terms (``Term``, ``Or`` of terms, ``AndMaybe`` word
boosts, ``AndNot`` exclusions, ``ConstantScoreQuery`` tiers are expressed by
the engine's ``required`` list) with array arithmetic instead of Whoosh's
per-posting matcher tree: one pass per term over its decoded posting list.
Quoted phrases are filters: candidates must hold every syllable of the
phrase (array intersection), and adjacency is then verified from stored
positions lazily, best candidates first, in batches, until the requested page
is filled. Positions come from the segments' positions files (one ``pread`` per
document), or from Whoosh's blocks for an index without them. The total counts
the checked candidates that match and estimates the unchecked ones' share from
an evenly spread sample of them (runs of consecutive documents when reading
Whoosh's blocks, which neighbours share), not from the best-scored ones, which
hold the phrase far more often than the rest. Shapes it does not handle
(excluded phrases) raise ``Unsupported`` and run on Whoosh.

Scoring is BM25 per (field, term) with the Robertson idf
``log(1 + (N - df + 0.5) / (df + 0.5))``, times the query's boost, summed.
"""

from __future__ import annotations

import numpy as np
from whoosh import query as Q
from whoosh.searching import Searcher

from indexer.analysis import WORD_JOINER
from indexer.highlight import Occurrences
from indexer.postings import PostingsReader

VERIFY_FIRST, VERIFY_MAX = 32, 4096   # candidates verified per round: small first, growing ×4
SAMPLE_WINDOWS, SAMPLE_SPAN = 128, 4  # the total's sample from Whoosh's blocks: 128 runs of 4 consecutive candidates
SAMPLE_EVERY = 1024                   # … from positions files (a pread per document): 1,024 evenly spaced


class Unsupported(Exception):
    """A query shape this executor does not run (the caller falls back)."""


class VectorScorer:
    def __init__(self, searcher: Searcher, k1: float, b: float) -> None:
        self.reader = PostingsReader(searcher)
        self.n = self.reader.doc_count_all
        self.live_docs = max(searcher.doc_count(), 1)
        self.k1, self.b = k1, b
        self._norms: dict[str, np.ndarray] = {}

    def _term(self, term: Q.Term, into_scores: np.ndarray, into_mask: np.ndarray | None) -> None:
        postings = self.reader.postings(term.fieldname, term.text)
        if not len(postings):
            return
        df = len(postings)
        idf = np.log1p((self.live_docs - df + 0.5) / (df + 0.5))
        tf = postings.weights
        norm = self._length_norm(term.fieldname)[postings.docnums]
        into_scores[postings.docnums] += (term.boost * idf * (self.k1 + 1.0)) * tf / (tf + norm)
        if into_mask is not None:
            into_mask[postings.docnums] = True

    def _length_norm(self, field: str) -> np.ndarray:
        """BM25's ``k1 * (1 - b + b * length / average length)`` of every document."""
        if field not in self._norms:
            average = max(self.reader.average_length(field), 1.0)
            lengths = self.reader.field_lengths(field)
            self._norms[field] = (self.k1 * ((1.0 - self.b) + self.b * lengths / average)).astype(np.float32)
        return self._norms[field]

    def _terms_of(self, q: Q.Query) -> list[Q.Term]:
        if isinstance(q, Q.Term):
            return [q]
        if isinstance(q, Q.Or) and all(isinstance(s, Q.Term) for s in q.subqueries):
            if q.boost != 1.0:
                raise Unsupported("boosted Or")
            return list(q.subqueries)
        raise Unsupported(type(q).__name__)

    def _phrases_of(self, q: Q.Query) -> list[Q.Phrase]:
        subs = q.subqueries if isinstance(q, Q.Or) else [q]
        if not all(isinstance(p, Q.Phrase) for p in subs):
            raise Unsupported(type(q).__name__)
        return list(subs)

    def _phrase_filter(self, alternatives: list[Q.Phrase], scores: np.ndarray) -> np.ndarray:
        """Documents holding every word of some alternative (not yet adjacency);
        the words' BM25 is added to ``scores``."""
        mask = np.zeros(self.n, dtype=bool)
        for phrase in alternatives:
            has_all = np.ones(self.n, dtype=bool)
            for word in phrase.words:
                word_mask = np.zeros(self.n, dtype=bool)
                self._term(Q.Term(phrase.fieldname, word, boost=phrase.boost), scores, word_mask)
                has_all &= word_mask
            mask |= has_all
        return mask

    def _adjacent(self, alternatives: list[Q.Phrase], docnums: np.ndarray) -> np.ndarray:
        """Which of ``docnums`` hold some alternative's words consecutively."""
        # Exact syllables adjacent are folded syllables adjacent: the folded
        # alternative of a field decides alone.
        folded_fields = {p.fieldname for p in alternatives if p.fieldname.endswith("_f")}
        alternatives = [p for p in alternatives if p.fieldname[:-2] + "_f" not in folded_fields
                        or p.fieldname.endswith("_f")]
        out = np.zeros(len(docnums), dtype=bool)
        for phrase in alternatives:
            # A two-syllable phrase that pyvi made one word in a document is
            # adjacent there: its word term (``thanh_pho``) decides without
            # reading positions, which is most of the cost of a phrase query.
            if len(phrase.words) == 2:
                word = self.reader.postings(phrase.fieldname, WORD_JOINER.join(phrase.words))
                out |= np.isin(docnums, word.docnums)
        unknown = np.flatnonzero(~out)
        if not len(unknown):
            return out
        where = self._positions_of(alternatives, np.sort(docnums[unknown]))
        for i, doc in zip(unknown.tolist(), docnums[unknown].tolist()):
            for phrase in alternatives:
                starts = None
                for k, word in enumerate(phrase.words):
                    at = {pos - k for pos in where(phrase.fieldname, word, doc)}
                    starts = at if starts is None else starts & at
                    if not starts:
                        break
                if starts:
                    out[i] = True
                    break
        return out

    def _positions_of(self, alternatives: list[Q.Phrase], docnums: np.ndarray):
        """``where(field, word, doc)``: the word's positions in one of
        ``docnums``: from the positions files, or Whoosh's blocks without them."""
        read: dict[tuple[str, str], dict[int, list[int]]] = {}
        for key in {(p.fieldname, word) for p in alternatives for word in p.words}:
            read[key] = self.reader.positions(*key, docnums)
            if read[key] is None:
                occurrences = Occurrences(self.reader.searcher, docnums.tolist(), positions_only=True,
                                          postings=self.reader)
                return lambda field, word, doc: [pos for pos, _, _ in occurrences.get(field, word, doc)]
        return lambda field, word, doc: read[(field, word)].get(doc, ())

    def rank(self, required: list[Q.Query], phrases: list[Q.Query], optional: list[Q.Query],
             excluded: list[Q.Query], limit: int, tiered: bool = True) -> tuple[np.ndarray, np.ndarray, int]:
        """Top ``limit`` (docnums, scores) and the number of matching documents.

        ``tiered``: documents matching every required word come first; then
        those matching some; each group by score. Untiered: by score alone.
        Every phrase must match.
        """
        clauses = [self._terms_of(q) for q in required]
        phrase_alts = [self._phrases_of(q) for q in phrases]
        extras = [t for q in optional for t in self._terms_of(q)]
        banned = [t for q in excluded for t in self._terms_of(q)]
        scores = np.zeros(self.n, dtype=np.float32)
        matched = np.zeros(self.n, dtype=np.int16)
        for terms in clauses:
            mask = np.zeros(self.n, dtype=bool)
            for term in terms:
                self._term(term, scores, mask)
            matched += mask
        candidate_mask = matched > 0 if clauses else np.ones(self.n, dtype=bool)
        for alternatives in phrase_alts:
            candidate_mask &= self._phrase_filter(alternatives, scores)
        candidates = np.flatnonzero(candidate_mask)
        for term in extras:
            self._term(term, scores, None)
        if banned:
            ban = np.zeros(self.n, dtype=bool)
            dummy = np.zeros(self.n, dtype=np.float32)
            for term in banned:
                self._term(term, dummy, ban)
            candidates = candidates[~ban[candidates]]
        if not len(candidates):
            return candidates, np.zeros(0, np.float32), 0
        key = scores[candidates].astype(np.float64)
        if tiered:
            key += (matched[candidates] == len(clauses)) * 1e9
        if phrase_alts:
            return self._verified_top(candidates, key, scores, phrase_alts, limit)
        total = len(candidates)
        order = self._top(key, limit)
        return candidates[order], scores[candidates[order]], total

    @staticmethod
    def _top(key: np.ndarray, limit: int) -> np.ndarray:
        """Indexes of the ``limit`` largest keys, best first (ties: lower index)."""
        top = np.argpartition(-key, limit - 1)[:limit] if len(key) > limit else np.arange(len(key))
        return top[np.lexsort((top, -key[top]))]

    def _verified_top(self, candidates, key, scores, phrase_alts, limit):
        order = self._top(key, len(key))
        kept: list[int] = []
        checked, size = 0, max(VERIFY_FIRST, 2 * limit)
        while checked < len(order) and len(kept) < limit:
            # A common phrase fills the page from its first few candidates;
            # a rare one needs them all, read in ever larger rounds.
            batch = candidates[order[checked:checked + size]]
            size = min(size * 4, VERIFY_MAX)
            ok = np.ones(len(batch), dtype=bool)
            for alternatives in phrase_alts:
                ok &= self._adjacent(alternatives, batch)
            kept.extend(batch[ok].tolist())
            checked += len(batch)
        # The checked candidates are known; the rest is estimated.
        total = len(kept) + self._estimated_matches(np.sort(candidates[order[checked:]]), phrase_alts)
        docnums = np.asarray(kept[:limit], dtype=np.int32)
        return docnums, scores[docnums], total

    def _estimated_matches(self, docnums: np.ndarray, phrase_alts) -> int:
        """How many of ``docnums`` (sorted) hold every phrase: exact up to the
        sample's size, beyond that extrapolated from an evenly spaced sample
        (deterministic)."""
        if not len(docnums):
            return 0
        # With positions files a document costs the same wherever it is: spread
        # the sample out. From Whoosh's blocks, neighbours share a block read.
        windows, span = (SAMPLE_EVERY, 1) if self.reader.has_positions else (SAMPLE_WINDOWS, SAMPLE_SPAN)
        if len(docnums) <= windows * span:
            sample = docnums
        else:
            starts = np.linspace(0, len(docnums) - span, windows).astype(np.int64)
            sample = np.concatenate([docnums[s:s + span] for s in starts.tolist()])
        ok = np.ones(len(sample), dtype=bool)
        for alternatives in phrase_alts:
            ok &= self._adjacent(alternatives, sample)
        return round(int(ok.sum()) * len(docnums) / len(sample))
