"""Vectorized execution of the common query shapes over numpy postings.

The engine compiles a query once into Whoosh query objects; this executor
runs the shapes made of terms (``Term``, ``Or`` of terms, ``AndMaybe`` word
boosts, ``AndNot`` exclusions, ``ConstantScoreQuery`` tiers are expressed by
the engine's ``required`` list) with array arithmetic instead of Whoosh's
per-posting matcher tree: one pass per term over its decoded posting list.
Shapes it does not handle (phrases) return ``None`` and run on Whoosh.

Scoring is BM25 per (field, term) with the Robertson idf
``log(1 + (N - df + 0.5) / (df + 0.5))``, times the query's boost, summed.
"""

from __future__ import annotations

import numpy as np
from whoosh import query as Q
from whoosh.searching import Searcher

from indexer.postings import PostingsReader


class Unsupported(Exception):
    """A query shape this executor does not run (the caller falls back)."""


class VectorScorer:
    def __init__(self, searcher: Searcher, k1: float, b: float) -> None:
        self.reader = PostingsReader(searcher)
        self.n = self.reader.doc_count_all
        self.live_docs = max(searcher.doc_count(), 1)
        self.k1, self.b = k1, b
        self._avg: dict[str, float] = {}

    def _term(self, term: Q.Term, into_scores: np.ndarray, into_mask: np.ndarray | None) -> None:
        postings = self.reader.postings(term.fieldname, term.text)
        if not len(postings):
            return
        field = term.fieldname
        if field not in self._avg:
            self._avg[field] = max(self.reader.average_length(field), 1.0)
        df = len(postings)
        idf = np.log1p((self.live_docs - df + 0.5) / (df + 0.5))
        tf = postings.weights
        lengths = self.reader.field_lengths(field)[postings.docnums]
        norm = self.k1 * ((1.0 - self.b) + self.b * lengths / self._avg[field])
        into_scores[postings.docnums] += term.boost * idf * (tf * (self.k1 + 1.0)) / (tf + norm)
        if into_mask is not None:
            into_mask[postings.docnums] = True

    def _terms_of(self, q: Q.Query) -> list[Q.Term]:
        if isinstance(q, Q.Term):
            return [q]
        if isinstance(q, Q.Or) and all(isinstance(s, Q.Term) for s in q.subqueries):
            if q.boost != 1.0:
                raise Unsupported("boosted Or")
            return list(q.subqueries)
        raise Unsupported(type(q).__name__)

    def rank(self, required: list[Q.Query], optional: list[Q.Query], excluded: list[Q.Query],
             limit: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Top ``limit`` (docnums, scores) and the number of matching documents.

        Documents matching every required clause come first; then those
        matching some; each group by score. Raises Unsupported for phrases.
        """
        clauses = [self._terms_of(q) for q in required]
        extras = [t for q in optional for t in self._terms_of(q)]
        banned = [t for q in excluded for t in self._terms_of(q)]
        scores = np.zeros(self.n, dtype=np.float32)
        matched = np.zeros(self.n, dtype=np.int16)
        for terms in clauses:
            mask = np.zeros(self.n, dtype=bool)
            for term in terms:
                self._term(term, scores, mask)
            matched += mask
        candidates = np.flatnonzero(matched)
        for term in extras:
            self._term(term, scores, None)
        if banned:
            ban = np.zeros(self.n, dtype=bool)
            dummy = np.zeros(self.n, dtype=np.float32)
            for term in banned:
                self._term(term, dummy, ban)
            candidates = candidates[~ban[candidates]]
        total = len(candidates)
        if not total:
            return candidates, np.zeros(0, np.float32), 0
        key = scores[candidates].astype(np.float64) + (matched[candidates] == len(clauses)) * 1e9
        if total > limit:
            top = np.argpartition(-key, limit - 1)[:limit]
        else:
            top = np.arange(total)
        # best first; ties by document number, like Whoosh
        order = top[np.lexsort((candidates[top], -key[top]))]
        return candidates[order], scores[candidates[order]], total
