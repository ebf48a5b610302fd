"""The one executor: a compiled :class:`~indexer.search.query.Query` ranked
with array arithmetic over the postings.

Every shape runs here: keywords, pyvi words, required phrases, excluded
words and phrases. Each term is one pass over its posting lists (title and
body, see :mod:`indexer.search.scoring`):

* a keyword adds its folded form's BM25F and, weighted, its exact form's;
  a document's tier is whether it matches every keyword (folded);
* a phrase's syllables score as keywords do, and its documents must hold it
  (:mod:`indexer.search.phrases`): candidates holding every syllable are
  checked for adjacency lazily, best first, in rounds growing ×4, until the
  page is full;
* an excluded word removes its documents; an excluded phrase the documents
  that hold it, checked the same lazy way.

Order: tier first when the query is tiered, then the optional ``order`` key
(a sort rule, :mod:`indexer.search.sorting`), then score, then document
number. The total counts the checked candidates that pass and estimates the
share of the unchecked ones from an evenly spread sample of them (not from
the best-scored ones, which hold a phrase far more often than the rest); of
them, ``complete`` match every keyword (the tier). An optional ``allowed``
mask (a filter) removes candidates before any of it.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import NamedTuple

import numpy as np

from indexer.index import schema
from indexer.index.postings import PostingsReader
from indexer.search import phrases, scoring, sorting
from indexer.search.phrases import PhraseChecker
from indexer.search.query import Query, Term
from indexer.search.settings import RankingSettings

VERIFY_FIRST, VERIFY_MAX = 32, 4096   # candidates verified per round: small first, growing ×4
SAMPLE_EVERY = 1024                   # the total's sample: this many evenly spaced unchecked candidates
SCORE_CACHE_BYTES = 24 * 1024 * 1024  # terms' (documents, BM25F scores) kept per executor
DENSE_SHARE = 1 / 3                   # a term in more of the documents is scored as one dense array


class TermScores(NamedTuple):
    """One term's BM25F scores: sparse (``docs`` sorted, ``values`` theirs)
    or, for a term in more than DENSE_SHARE of the documents, dense (``docs``
    a boolean mask of the holders, ``values`` one score per document number,
    0 where absent), which adds to the accumulator without a scatter. Both
    hold the same float64 numbers: which form a term takes never changes a
    ranking."""
    docs: np.ndarray
    values: np.ndarray

    @property
    def dense(self) -> bool:
        return self.docs.dtype == np.bool_

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.docs.nbytes

    def holders(self) -> np.ndarray:
        """The documents holding the term, sorted."""
        return np.flatnonzero(self.docs) if self.dense else self.docs

    def add_to(self, scores: np.ndarray, weight: float) -> None:
        """``scores += weight * self`` (scores indexed by document number)."""
        if self.dense:
            scores += weight * self.values
        else:
            scores[self.docs] += weight * self.values

    def count_in(self, matched: np.ndarray) -> None:
        """``matched += 1`` where the term is held."""
        if self.dense:
            matched += self.docs
        else:
            matched[self.docs] += 1


class Ranking(NamedTuple):
    """The best documents of a query, and what the total counts."""
    docnums: np.ndarray                    # int32, best first
    scores: np.ndarray
    total: int                             # matches (estimated past the checked phrase candidates)
    complete: int = 0                      # of them, matching every keyword (all of them unless tiered)
    estimated: bool = False                # total and complete extrapolated from a sample
    candidates: np.ndarray | None = None   # sorted docnums the total was counted from (before phrase checks)
    in_complete: np.ndarray | None = None  # per candidate: matches every keyword (None: not tiered)


_NONE = Ranking(np.zeros(0, np.int32), np.zeros(0), 0)


class Executor:
    """Ranks queries over one searcher's postings (valid as long as they are)."""

    def __init__(self, reader: PostingsReader, settings: RankingSettings) -> None:
        self.reader = reader
        self.settings = settings
        self.n = reader.doc_count_all
        self.live_docs = max(reader.live_docs, 1)
        self.checker = PhraseChecker(reader)
        self._scales: dict[str, np.ndarray] = {}
        self._field_weights = {schema.TITLE: settings.title_weight, schema.BODY: settings.body_weight}
        self._field_b = {schema.TITLE: settings.title_b, schema.BODY: settings.body_b}
        self._scores: OrderedDict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._scores_bytes = 0

    # -- scoring -----------------------------------------------------------
    def _scale(self, text_field: str) -> np.ndarray:
        """``w_f / B_f`` of every document (lengths of the folded field: both
        forms of a field hold the same tokens)."""
        if text_field not in self._scales:
            field = schema.indexed(text_field, schema.FOLDED)
            norm = scoring.length_norm(self.reader.field_lengths(field), self.reader.average_length(field),
                                       self._field_b[text_field])
            self._scales[text_field] = scoring.field_scale(norm, self._field_weights[text_field])
        return self._scales[text_field]

    def term_scores(self, text: str, form: str) -> TermScores:
        """The term's BM25F scores in the documents holding it in any field,
        kept in an LRU cache: common syllables recur in most queries."""
        key = (text, form)
        hit = self._scores.get(key)
        if hit is not None:
            self._scores.move_to_end(key)
            return hit
        found = self._term_scores(text, form)
        size = found.nbytes
        if size <= SCORE_CACHE_BYTES // 4:
            self._scores[key] = found
            self._scores_bytes += size
            while self._scores_bytes > SCORE_CACHE_BYTES:
                _, old = self._scores.popitem(last=False)
                self._scores_bytes -= old.nbytes
        return found

    def _term_scores(self, text: str, form: str) -> TermScores:
        lists = [(f, self.reader.postings(schema.indexed(f, form), text)) for f in schema.TEXT_FIELDS]
        lists = [(f, p) for f, p in lists if len(p)]
        if not lists:
            return TermScores(np.zeros(0, np.int32), np.zeros(0, np.float64))
        if max(len(p) for _, p in lists) > DENSE_SHARE * self.n:
            pseudo_tf = np.zeros(self.n, np.float64)
            held = np.zeros(self.n, bool)
            for f, p in lists:
                pseudo_tf[p.docnums] += scoring.pseudo_frequency(p.weights, self._scale(f)[p.docnums])
                held[p.docnums] = True
            term_idf = scoring.idf(int(np.count_nonzero(held)), self.live_docs)
            return TermScores(held, scoring.bm25f(pseudo_tf, term_idf, self.settings.k1))
        parts = [(p.docnums, scoring.pseudo_frequency(p.weights, self._scale(f)[p.docnums])) for f, p in lists]
        parts.sort(key=lambda part: -len(part[0]))
        docs, pseudo_tf = parts[0]
        for more_docs, more_tf in parts[1:]:
            docs, pseudo_tf = _merged(docs, pseudo_tf, more_docs, more_tf)
        term_idf = scoring.idf(len(docs), self.live_docs)
        return TermScores(docs, scoring.bm25f(pseudo_tf, term_idf, self.settings.k1))

    def _add(self, scores: np.ndarray, text: str, form: str, weight: float) -> TermScores:
        term = self.term_scores(text, form)
        if weight:
            term.add_to(scores, weight)
        return term

    def _add_syllable(self, scores: np.ndarray, term: Term, exact_weight: float, weight: float = 1.0) -> TermScores:
        """A syllable's folded and, weighted, exact score, and its alternatives'
        (``Term.alternatives``); returns the folded form's scores, whose
        documents are those holding it, or, with alternatives, a sparse one
        whose documents are those holding it or all the syllables of one of
        its alternatives (its values are then not scores)."""
        held = self._add(scores, term.folded, schema.FOLDED, weight)
        if exact_weight:
            self._add(scores, term.exact, schema.EXACT, weight * exact_weight)
        if not term.alternatives:
            return held
        docs = held.holders()
        for alt in term.alternatives:
            parts = [self._add_syllable(scores, t, alt.exact_weight, weight * alt.weight).holders() for t in alt.terms]
            docs = np.union1d(docs, functools.reduce(np.intersect1d, parts))
        return TermScores(docs, np.ones(len(docs)))

    # -- ranking -----------------------------------------------------------
    def rank(self, query: Query, limit: int, exact_total: bool = False, allowed: np.ndarray | None = None,
             order: np.ndarray | None = None) -> Ranking:
        """The best ``limit`` documents and the number of matches: estimated
        past the checked phrase candidates unless ``exact_total``. ``allowed``:
        a boolean mask of the documents that may match (a filter); ``order``: a
        float key per document ranked after the tier and before the score,
        larger first (:func:`indexer.search.sorting.order_key`)."""
        if query.empty or limit < 1:
            return _NONE
        scores = np.zeros(self.n, dtype=np.float64)
        matched = np.zeros(self.n, dtype=np.int16)
        for term in query.keywords:
            self._add_syllable(scores, term, query.exact_weight).count_in(matched)
        candidate = matched > 0 if query.keywords else self.reader.live_mask().copy()
        for phrase in query.phrases:
            for term in phrase.terms:
                self._add_syllable(scores, term, query.exact_weight)
            candidate &= self.checker.holders(phrases.of_phrase(phrase))
        # Words as typed: a plain query's restored accents are a guess, and a
        # wrong one would lose the word; its folded form matches whatever the accents.
        word_form = schema.EXACT if query.accented else schema.FOLDED
        for word in query.words:
            self._add(scores, word.exact if query.accented else word.folded, word_form, self.settings.word_weight)
        suspects = None      # may hold an excluded phrase: checked lazily
        for exclusion in query.exclusions:
            alternatives = phrases.of_exclusion(exclusion)
            if len(exclusion.terms) == 1:
                candidate &= ~self.checker.holders(alternatives)
            else:
                held = self.checker.holders(alternatives)
                suspects = held if suspects is None else suspects | held
        if allowed is not None:
            candidate &= allowed
        candidates = np.flatnonzero(candidate)
        if not len(candidates):
            return _NONE
        key = scores[candidates]
        complete = matched[candidates] == len(query.keywords) if query.tiered and query.keywords else None
        primary = None
        if order is not None:
            primary = order[candidates] + (complete * (float(order.max()) + 1.0) if complete is not None else 0.0)
        elif complete is not None:
            key = key + complete * (float(key.max()) + 1.0)
        if query.phrases or (suspects is not None and suspects[candidates].any()):
            fill = len(key) if exact_total else limit
            if primary is not None:
                key = sorting.combined_key(primary, key)
            return self._verified_top(query, candidates, key, scores, suspects, fill, limit, complete)
        best = _top(key, limit) if primary is None else sorting.top(primary, key, limit)
        docnums = candidates[best]
        return Ranking(docnums.astype(np.int32), scores[docnums], len(candidates),
                       len(candidates) if complete is None else int(complete.sum()), False, candidates, complete)

    def _passes(self, query: Query, docnums: np.ndarray, suspects: np.ndarray | None) -> np.ndarray:
        """Which of ``docnums`` hold every required phrase and no excluded one."""
        ok = np.ones(len(docnums), dtype=bool)
        for phrase in query.phrases:
            ok &= self.checker.adjacent(phrases.of_phrase(phrase), docnums)
        if suspects is None:
            return ok
        suspect = np.flatnonzero(ok & suspects[docnums])
        if len(suspect):
            for exclusion in query.exclusions:
                if len(exclusion.terms) > 1:
                    ok[suspect] &= ~self.checker.adjacent(phrases.of_exclusion(exclusion), docnums[suspect])
        return ok

    def _verified_top(self, query, candidates, key, scores, suspects, fill: int, limit: int,
                      complete: np.ndarray | None) -> Ranking:
        """Candidates checked best first until ``fill`` of them pass (or none is
        left); the best ``limit`` that pass, and the total (the unchecked part estimated)."""
        order = np.zeros(0, np.int64)        # positions in ``candidates``, best first, ranked as far as needed
        kept: list[int] = []        # positions in ``candidates``
        checked, size = 0, max(VERIFY_FIRST, 2 * limit)
        while checked < len(key) and len(kept) < fill:
            # A common phrase fills the page from its first few candidates;
            # a rare one needs them all, read in ever larger rounds.
            if checked + size > len(order):
                order = _top(key, min(len(key), max(checked + size, 4 * len(order))))
            batch = order[checked:checked + size]
            size = min(size * 4, VERIFY_MAX)
            kept.extend(batch[self._passes(query, candidates[batch], suspects)].tolist())
            checked += len(batch)
        unchecked = np.ones(len(key), dtype=bool)
        unchecked[order[:checked]] = False
        passed, passed_complete, estimated = self._estimated_passes(
            query, candidates, np.flatnonzero(unchecked), suspects, complete)
        kept_at = np.asarray(kept, dtype=np.int64)
        in_complete = len(kept) if complete is None else int(complete[kept_at].sum())
        docnums = candidates[kept_at[:limit]].astype(np.int32)
        return Ranking(docnums, scores[docnums], len(kept) + passed, in_complete + passed_complete, estimated,
                       candidates, complete)

    def _estimated_passes(self, query: Query, candidates: np.ndarray, at: np.ndarray, suspects: np.ndarray | None,
                          complete: np.ndarray | None) -> tuple[int, int, bool]:
        """How many of the candidates at positions ``at`` (sorted) pass, how many
        of those match every keyword, and whether that was extrapolated: exact up
        to SAMPLE_EVERY of them, beyond that from an evenly spaced sample (deterministic)."""
        if not len(at):
            return 0, 0, False
        if len(at) <= SAMPLE_EVERY:
            sample = at
        else:
            sample = at[np.linspace(0, len(at) - 1, SAMPLE_EVERY).astype(np.int64)]
        ok = self._passes(query, candidates[sample], suspects)
        scale = len(at) / len(sample)
        passed = round(int(ok.sum()) * scale)
        full = passed if complete is None else round(int((ok & complete[sample]).sum()) * scale)
        return passed, full, len(sample) < len(at)

    def document_frequency(self, folded: str) -> int:
        """Live documents holding a folded syllable in the body."""
        return len(self.reader.postings(schema.BODY_FOLDED, folded))


def _merged(docs: np.ndarray, tf: np.ndarray, more_docs: np.ndarray, more_tf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two fields' (sorted documents, pseudo-frequencies) as one, summed where
    both hold the term: the shorter list found in the longer one and the
    documents it alone holds inserted in order (no sort of the union)."""
    at = np.searchsorted(docs, more_docs)
    found = at < len(docs)
    found[found] = docs[at[found]] == more_docs[found]
    tf = tf.copy()
    tf[at[found]] += more_tf[found]
    if found.all():
        return docs, tf
    alone = ~found
    return np.insert(docs, at[alone], more_docs[alone]), np.insert(tf, at[alone], more_tf[alone])


def _top(key: np.ndarray, limit: int) -> np.ndarray:
    """Indexes of the ``limit`` largest keys, best first (ties: lower index)."""
    top = np.argpartition(-key, limit - 1)[:limit] if len(key) > limit else np.arange(len(key))
    return top[np.lexsort((top, -key[top]))]
