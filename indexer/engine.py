"""Search over the current index generation: ranking, pagination, snippets.

Ranking (BM25F over exact and folded fields):

* every query syllable matches its folded form (title and body); when the
  query carries accents its exact form scores on top, so ``bác`` ranks
  ``Bác`` above ``bạc``; a plain query is matched folded, losing nothing;
* pyvi words of the query (``đảng_viên``) add score where the index holds the
  same word, never a requirement (pyvi may split a passage differently);
* the title weighs ``TITLE_BOOST`` times the body;
* a short query (fewer than ``FREE_TEXT_SYLLABLES`` syllables) is read as
  keywords: documents matching every query word form the first tier,
  documents matching only some follow, each tier ordered by score; a quoted
  phrase is required: only documents holding its syllables consecutively
  match;
* a long query (a pasted headline, a question) is read as free text: every
  matching document is ranked by its score alone, since few documents hold
  every word of a sentence, and its quotes are punctuation (headlines quote
  for emphasis: ``loạt "chân dài" ngoại quốc``), not phrase operators;
* ``-word`` and ``-"phrase"`` exclude, in any query.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable
from pathlib import Path

from whoosh import query as Q
from whoosh.collectors import TopCollector
from whoosh.scoring import BM25F

from indexer import sidecar, store
from indexer.accents import AccentModel
from indexer.highlight import HighlightGroup, Occurrences, mark, match_spans, snippet
from indexer.query import AnalyzedClause, QueryError, Term, parse
from indexer.vector import Unsupported, VectorScorer

TITLE_BOOST = 2.0
EXACT_BOOST = 1.5
RESTORED_BOOST = 0.5
WORD_BOOST = 0.5
MAX_HITS_PER_PAGE = 100
ALL_CLAUSES_BONUS = 1e6   # far above any BM25 sum: a tier, not a weight
FREE_TEXT_SYLLABLES = 7   # queries this long are free text (no tier, no phrases)
HIGHLIGHT_MAX_SHARE = 0.2 # free text: syllables in more documents than this share are not marked
BM25_K1, BM25_B = 0.9, 0.6
MAX_SUGGEST_CHARS = 200
STORED_FIELDS = ("id", "title", "date", "source", "url")


@dataclass(frozen=True)
class CompiledQuery:
    required: list[Q.Query]      # one per query word: all must match for tier 1
    phrases: list[Q.Query]       # quoted phrases: every one must match
    optional: list[Q.Query]      # word boosts
    excluded: list[Q.Query]
    groups: list[HighlightGroup]
    suggestion: str | None       # accents restored for a plain query ("did you mean")
    tiered: bool = True          # documents matching every required word first


Restorer = Callable[[list[str]], list[str]]


def _syllable_query(term: Term, exact_boost: float) -> Q.Query:
    parts = [Q.Term("body_f", term.folded), Q.Term("title_f", term.folded, boost=TITLE_BOOST)]
    if exact_boost:
        parts += [Q.Term("body_x", term.exact, boost=exact_boost),
                  Q.Term("title_x", term.exact, boost=exact_boost * TITLE_BOOST)]
    return Q.Or(parts)


def _phrase_query(terms: tuple[Term, ...], exact_boost: float) -> Q.Query:
    folded = [t.folded for t in terms]
    parts = [Q.Phrase("body_f", folded), Q.Phrase("title_f", folded, boost=TITLE_BOOST)]
    if exact_boost:
        exact = [t.exact for t in terms]
        parts += [Q.Phrase("body_x", exact, boost=exact_boost),
                  Q.Phrase("title_x", exact, boost=exact_boost * TITLE_BOOST)]
    return Q.Or(parts)


def _exclusion(clause: AnalyzedClause) -> Q.Query:
    """An excluded clause matches exactly as typed: ``-bạc`` keeps ``bác``."""
    accented = any(t.accented for t in clause.syllables)
    field = "x" if accented else "f"
    forms = [t.exact if accented else t.folded for t in clause.syllables]
    if len(forms) == 1:
        return Q.Or([Q.Term(f"body_{field}", forms[0]), Q.Term(f"title_{field}", forms[0])])
    return Q.Or([Q.Phrase(f"body_{field}", forms), Q.Phrase(f"title_{field}", forms)])


def _with_restored_accents(clause: AnalyzedClause, restore: Restorer) -> AnalyzedClause:
    """The clause as if typed with the accents the index makes most likely."""
    exact = restore([t.folded for t in clause.syllables])
    syllables = tuple(Term(e, t.folded) for e, t in zip(exact, clause.syllables))
    words = tuple(Term(f"{a.exact}_{b.exact}", f"{a.folded}_{b.folded}")
                  for a, b in zip(syllables, syllables[1:]))
    return AnalyzedClause(clause.clause, syllables, words)


def compile_query(clauses: list[AnalyzedClause], restore: Restorer | None = None) -> CompiledQuery:
    """Whoosh queries for parsed clauses.

    An accented query scores exact forms on top of folded ones (EXACT_BOOST).
    A plain query is matched folded; with ``restore``, the accents the index
    makes most likely are scored on top too, with the smaller RESTORED_BOOST
    (a guess, not the user's word), and are the "did you mean" suggestion.
    A query of ``FREE_TEXT_SYLLABLES`` or more is free text: untiered, its
    quoted phrases read as words.
    """
    positive = [c for c in clauses if not c.clause.negated]
    free_text = sum(len(c.syllables) for c in positive) >= FREE_TEXT_SYLLABLES
    accented = any(t.accented for c in positive for t in c.syllables)
    exact_boost, suggestion = (EXACT_BOOST if accented else 0.0), None
    if not accented and restore is not None and positive:
        plain = [t.folded for c in positive for t in c.syllables]
        positive = [_with_restored_accents(c, restore) for c in positive]
        restored = [t.exact for c in positive for t in c.syllables]
        exact_boost = RESTORED_BOOST
        suggestion = " ".join(restored) if restored != plain else None
    required, phrases, optional, groups = [], [], [], []
    for c in positive:
        if c.clause.phrase and len(c.syllables) > 1 and not free_text:
            phrases.append(_phrase_query(c.syllables, exact_boost))
            groups.append(HighlightGroup(c.syllables, True, bool(exact_boost)))
            continue
        required.extend(_syllable_query(t, exact_boost) for t in c.syllables)
        groups.append(HighlightGroup(c.syllables, False, bool(exact_boost)))
        field = "body_x" if exact_boost else "body_f"
        for w in c.words:
            optional.append(Q.Term(field, w.exact if exact_boost else w.folded, boost=WORD_BOOST))
    excluded = [_exclusion(c) for c in clauses if c.clause.negated]
    return CompiledQuery(required, phrases, optional, excluded, groups, suggestion, tiered=not free_text)


def _accent_model_of(reader) -> AccentModel:
    """From each segment's lexicon file (see :mod:`indexer.sidecar`), or its
    term dictionary when it has none (seconds at 100k articles)."""
    terms: list[tuple[str, int]] = []
    for leaf, _ in reader.leaf_readers():
        listed = sidecar.read_lexicon(leaf)
        if listed is None:
            listed = [(btext.decode("utf-8"), info.doc_frequency())
                      for field in ("title_x", "body_x") for btext, info in leaf.iter_field(field)]
        terms.extend(listed)
    return AccentModel.from_lexicon(terms)


class SearchEngine:
    """One open index; cheap to keep for a process's lifetime.

    ``refresh()`` reopens only when the index changed: an incremental commit
    (Whoosh's ``up_to_date``) or a full rebuild's swap of ``CURRENT`` (compared
    by directory, since a new generation may carry the same commit number).
    """

    def __init__(self, index_dir: Path | str) -> None:
        self.index_dir = Path(index_dir)
        self._lock = threading.RLock()
        self._searcher = None
        self._generation: Path | None = None
        self._accents: AccentModel | None = None
        self._opened = 0                 # counts _open(): what an accent model was built for
        self._accents_for = -1
        self._accents_building = -1
        self._open()

    # -- lifecycle ---------------------------------------------------------
    def _open(self) -> None:
        gen = store.current_generation(self.index_dir)
        ix = store.whoosh_index.open_dir(str(gen))
        old = self._searcher
        self._searcher = ix.searcher(weighting=BM25F(B=BM25_B, K1=BM25_K1))
        self._vector = None
        self._generation = gen
        self._opened += 1
        if old is not None:
            old.close()

    def refresh(self) -> bool:
        """Pick up a newer index if there is one; True if it did."""
        with self._lock:
            gen = store.current_generation(self.index_dir)
            if gen != self._generation or not self._searcher.up_to_date():
                # Not Searcher.refresh(): it reuses segment readers and misses
                # deletions committed into an old segment (a re-indexed file
                # would show twice).
                self._open()
                return True
            return False

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None

    def __enter__(self) -> "SearchEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def generation(self) -> str:
        return self._generation.name if self._generation else ""

    # -- search ------------------------------------------------------------
    def search(self, q: str, page: int = 1, hits_per_page: int = 10) -> dict:
        """Ranked, highlighted hits of ``q``: the JSON object of the CLI and API.

        Raises QueryError for an empty or over-long query and for a page or
        page size out of range.
        """
        started = time.perf_counter()
        if not isinstance(page, int) or page < 1:
            raise QueryError("invalid_page", "page must be an integer ≥ 1.")
        if not isinstance(hits_per_page, int) or not 1 <= hits_per_page <= MAX_HITS_PER_PAGE:
            raise QueryError("invalid_hits_per_page",
                             f"hitsPerPage must be an integer from 1 to {MAX_HITS_PER_PAGE}.")
        clauses = parse(q)
        with self._lock:
            compiled = compile_query(clauses, self._restore)
            hits, total = self._ranked_page(compiled, page, hits_per_page)
        return {
            "query": q,
            "hits": hits,
            "totalHits": total,
            "totalPages": (total + hits_per_page - 1) // hits_per_page,
            "page": page,
            "hitsPerPage": hits_per_page,
            "processingTimeMs": round((time.perf_counter() - started) * 1000, 1),
            "suggestion": compiled.suggestion,
        }

    def _ranking_query(self, compiled: CompiledQuery) -> Q.Query | None:
        """One pass for both tiers: every document matching some word is
        scored, and those matching all words get ALL_CLAUSES_BONUS on top,
        which puts them first whatever their BM25 score. Phrases filter."""
        query = None
        if len(compiled.required) == 1:
            query = compiled.required[0]
        elif compiled.required and not compiled.tiered:
            query = Q.Or(compiled.required)
        elif compiled.required:
            query = Q.AndMaybe(Q.Or(compiled.required),
                               Q.ConstantScoreQuery(Q.And(compiled.required), score=ALL_CLAUSES_BONUS))
        if compiled.phrases:
            query = Q.And(compiled.phrases + ([query] if query is not None else []))
        if query is None:
            return None
        if compiled.optional:
            query = Q.AndMaybe(query, Q.Or(compiled.optional))
        if compiled.excluded:
            query = Q.AndNot(query, Q.Or(compiled.excluded))
        return query

    def _ranked_page(self, compiled: CompiledQuery, page: int, per_page: int) -> tuple[list[dict], int]:
        try:
            picked, total = self._rank_vectorized(compiled, page * per_page)
        except Unsupported:
            picked, total = self._rank_with_whoosh(compiled, page * per_page)
        window = picked[(page - 1) * per_page:page * per_page]
        occurrences = Occurrences(self._searcher, [docnum for docnum, _ in window], postings=self._postings())
        groups = compiled.groups if compiled.tiered else self._informative(compiled.groups)
        return [self._hit(docnum, score, groups, occurrences) for docnum, score in window], total

    def _informative(self, groups: list[HighlightGroup]) -> list[HighlightGroup]:
        """The groups of a free-text query without its near-ubiquitous
        syllables (``các``, ``và``, ``ở``…, in more than HIGHLIGHT_MAX_SHARE of
        the documents): marking them everywhere is clutter, and reading their
        offsets is most of a long query's snippet cost. Keeps the rarest
        syllable if every one is that common."""
        postings, n = self._postings(), max(self._searcher.doc_count_all(), 1)
        df = {t.folded: len(postings.postings("body_f", t.folded)) for g in groups for t in g.terms}
        if not df:
            return groups
        limit = max(HIGHLIGHT_MAX_SHARE * n, min(df.values()))
        kept = [HighlightGroup(tuple(t for t in g.terms if df[t.folded] <= limit), g.phrase, g.exact_preferred)
                for g in groups]
        return [g for g in kept if g.terms]

    def _postings(self):
        if self._vector is None:
            self._vector = VectorScorer(self._searcher, k1=BM25_K1, b=BM25_B)
        return self._vector.reader

    def _rank_vectorized(self, compiled: CompiledQuery, limit: int) -> tuple[list[tuple[int, float]], int]:
        """Queries of terms only: array arithmetic over decoded postings."""
        if not (compiled.required or compiled.phrases):
            return [], 0
        if self._vector is None:
            self._vector = VectorScorer(self._searcher, k1=BM25_K1, b=BM25_B)
        docnums, scores, total = self._vector.rank(compiled.required, compiled.phrases, compiled.optional,
                                                   compiled.excluded, limit, tiered=compiled.tiered)
        return list(zip(docnums.tolist(), scores.tolist())), total

    def _rank_with_whoosh(self, compiled: CompiledQuery, limit: int) -> tuple[list[tuple[int, float]], int]:
        """Any query (phrases included), on Whoosh's matchers."""
        query = self._ranking_query(compiled)
        if query is None:
            return [], 0
        # No quality pruning and no matcher replacement: Whoosh bounds an Or
        # by its largest part, not the sum, and "replaces" AndMaybe(q, extras)
        # by an And, dropping hits without the extras. Counting comes free.
        collector = TopCollector(limit, usequality=False, replace=0)
        self._searcher.search_with_collector(query, collector)
        results = collector.results()
        return [(hit.docnum, hit.score % ALL_CLAUSES_BONUS) for hit in results], len(results)

    def _hit(self, docnum: int, score: float, groups: list[HighlightGroup], occurrences: Occurrences) -> dict:
        stored = self._searcher.stored_fields(docnum)
        title, body = stored.get("title", ""), stored.get("body", "")
        title_spans = match_spans(occurrences, "title_f", docnum, title, groups)
        body_spans = match_spans(occurrences, "body_f", docnum, body, groups)
        hit = {k: stored.get(k) for k in STORED_FIELDS}
        hit["_formatted"] = {"title": mark(title, title_spans), "body": snippet(body, body_spans)}
        hit["_score"] = round(score, 4)
        return hit

    # -- did you mean -------------------------------------------------------
    def _restore(self, folded: list[str]) -> list[str]:
        return self.accent_model().restore(folded)

    def accent_model(self) -> AccentModel:
        """The accent model of the open index (call under ``self._lock``).

        Built from the whole exact lexicon: seconds at 100k articles. So the
        first one is built here, but after a refresh the previous model keeps
        answering while the new one is built in a background thread: a
        vocabulary changes little between two commits, and a search right
        after an update must not wait for it.
        """
        if self._accents is None:
            self._accents = _accent_model_of(self._searcher.reader())
            self._accents_for = self._opened
        elif self._accents_for != self._opened and self._accents_building != self._opened:
            self._rebuild_accents_in_background()
        return self._accents

    def _rebuild_accents_in_background(self) -> None:
        opened, gen = self._opened, self._generation
        self._accents_building = opened

        def work() -> None:
            try:
                ix = store.whoosh_index.open_dir(str(gen))
                with ix.reader() as reader:
                    model = _accent_model_of(reader)
            except Exception:        # the generation was pruned meanwhile: a later search retries
                model = None
            with self._lock:
                if model is not None and self._opened == opened:
                    self._accents, self._accents_for = model, opened
                self._accents_building = -1
        threading.Thread(target=work, name="vnsearch-accents", daemon=True).start()

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Completions of a partly typed query, diacritic-insensitive, shown
        with accents: ``"dang v"`` → ``["đảng viên", …]``. The earlier syllables
        keep their typed accents, or are restored when typed plain."""
        if not prefix or not prefix.strip() or len(prefix) > MAX_SUGGEST_CHARS:
            return []
        terms = [t for c in parse(prefix) if not c.clause.negated for t in c.syllables]
        if not terms:
            return []
        with self._lock:
            model = self.accent_model()
        context = [t.exact for t in terms]
        if not any(t.accented for t in terms):
            context = model.restore([t.folded for t in terms])
        scored: dict[str, int] = {}
        if prefix[-1].isspace():      # a finished syllable: offer the next one
            for second, df in model.followers(context[-1])[:limit]:
                scored[" ".join(context + [second])] = df
        else:
            last, head = terms[-1], context[:-1]
            for form, df in model.completions(last.folded, last.exact):
                bonus = model.words.get(head[-1] + "_" + form, 0) if head else 0
                scored[" ".join(head + [form])] = df + 10 * bonus
                for second, wdf in model.followers(form)[:2]:
                    phrase = " ".join(head + [form, second])
                    scored.setdefault(phrase, wdf)
        ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))
        return [text for text, _ in ranked[:limit]]

    # -- articles ----------------------------------------------------------
    def _docnum(self, doc_id: str) -> int | None:
        return self._searcher.document_number(id=doc_id)

    def get_article(self, doc_id: str) -> dict | None:
        """The stored article, or None for an unknown id."""
        with self._lock:
            docnum = self._docnum(doc_id)
            if docnum is None:
                return None
            stored = self._searcher.stored_fields(docnum)
        return {"id": stored["id"], "title": stored.get("title", ""), "text": stored.get("body", ""),
                "date": stored.get("date"), "source": stored.get("source"),
                "url": stored.get("url"), "path": stored.get("path")}

    def highlight_article(self, doc_id: str, q: str | None) -> dict | None:
        """The whole article as escaped HTML, the query's matches marked."""
        with self._lock:
            docnum = self._docnum(doc_id)
            if docnum is None:
                return None
            stored = self._searcher.stored_fields(docnum)
            title, body = stored.get("title", ""), stored.get("body", "")
            groups: list[HighlightGroup] = []
            if q and q.strip():
                try:
                    groups = compile_query(parse(q), self._restore).groups
                except QueryError:
                    groups = []
            occurrences = Occurrences(self._searcher, [docnum], postings=self._postings())
            title_spans = match_spans(occurrences, "title_f", docnum, title, groups)
            body_spans = match_spans(occurrences, "body_f", docnum, body, groups)
        return {"title": mark(title, title_spans), "body": mark(body, body_spans)}

    def stats(self) -> dict:
        with self._lock:
            reader = self._searcher.reader()
            return {
                "indexDir": str(self.index_dir),
                "generation": self.generation,
                "documents": self._searcher.doc_count(),
                "deletedPending": self._searcher.doc_count_all() - self._searcher.doc_count(),
                "segments": len(reader.leaf_readers()),
                "syllableTerms": sum(1 for _ in reader.lexicon("body_x")),
                "sizeBytes": sum(p.stat().st_size for p in self._generation.iterdir() if p.is_file()),
            }
