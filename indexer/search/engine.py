"""An open index: search, article pages, completions, statistics.

The engine parses a query (:mod:`~indexer.search.query`), ranks it with the
one executor (:mod:`~indexer.search.executor`, BM25F with the engine's
:class:`~indexer.search.settings.RankingSettings`) and marks the hits of the
requested page (:mod:`~indexer.search.highlight`). Filters
(:mod:`~indexer.search.filters`), a sort rule (:mod:`~indexer.search.sorting`)
and facet counts (:mod:`~indexer.search.facets`) read the index's columns
(:mod:`~indexer.index.columns`). An empty ``q`` is a placeholder search: every
(filtered) document, newest first unless sorted otherwise.

Counts are honest: for a keyword query, ``totalHits`` counts the documents
matching every word when there are any; those matching only some follow them
(``relatedHits``, each such hit marked ``_related``), reachable on the pages
after. A total extrapolated from a sample says so (``totalHitsEstimated``).
"""

from __future__ import annotations

import threading
import time
import unicodedata
from pathlib import Path

import numpy as np

from indexer.index import generations, schema
from indexer.index.columns import open_columns
from indexer.index.postings import PostingsReader
from indexer.search import bigrams, facets, results, sorting
from indexer.search.executor import Ranking
from indexer.search.filters import Compiler, FilterError
from indexer.search.options import MAX_HITS_PER_PAGE, SearchOptions, search_options
from indexer.search.accents import AccentModel, ModelKeeper
from indexer.search.executor import Executor
from indexer.search.highlight import HighlightGroup, Occurrences, exact_held, mark, match_spans, snippet
from indexer.search.query import Query, QueryError, compile_query, parse
from indexer.search.respell import Reading, reading
from indexer.search.settings import DEFAULT, RankingSettings
from indexer.search.suggest import MAX_SUGGEST_CHARS, completions

__all__ = ["MAX_HITS_PER_PAGE", "MAX_SUGGEST_CHARS", "SearchEngine"]


class SearchEngine:
    """One open index; cheap to keep for a process's lifetime.

    ``refresh()`` reopens only when the index changed: an incremental commit
    (Whoosh's ``up_to_date``) or a full rebuild's swap of ``CURRENT`` (compared
    by directory, since a new generation may carry the same commit number).
    Raises :class:`~indexer.index.generations.IndexNotFound` without an index
    and :class:`~indexer.index.generations.IndexFormatError` for an index of
    another format.
    """

    def __init__(self, index_dir: Path | str, settings: RankingSettings = DEFAULT) -> None:
        self.index_dir = Path(index_dir)
        self.settings = settings
        self._lock = threading.RLock()
        self._searcher = None
        self._generation: Path | None = None
        self._opened = 0                 # counts openings: what an accent model was built for
        self._accents = ModelKeeper()
        self._phrases = ModelKeeper(bigrams.model_of)
        self._open()

    # -- lifecycle ---------------------------------------------------------
    def _open(self) -> None:
        gen = generations.current_generation(self.index_dir)
        searcher = generations.whoosh_index.open_dir(str(gen)).searcher()
        try:
            postings = PostingsReader(searcher)
        except BaseException:
            searcher.close()
            raise
        try:
            columns = open_columns(postings)
        except BaseException:
            searcher.close()
            raise
        old = self._searcher
        self._searcher, self._postings, self._columns = searcher, postings, columns
        self._filters = Compiler(columns)
        self._executor = Executor(postings, self.settings)
        self._generation = gen
        self._opened += 1
        if old is not None:
            old.close()

    def refresh(self) -> bool:
        """Pick up a newer index if there is one; True if it did."""
        with self._lock:
            gen = generations.current_generation(self.index_dir)
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
    def compile(self, q: str) -> Query:
        """The query model of ``q`` (raises QueryError for an empty or over-long query)."""
        with self._lock:
            return compile_query(parse(q), self.settings, self._restore, self._respell)

    def search(self, q: str | None = "", page: int | None = None, hits_per_page: int | None = None,
               **options) -> dict:
        """Ranked, highlighted hits of ``q``: the JSON object of the CLI and API.

        ``options`` are :func:`~indexer.search.options.search_options`'s
        (``offset``, ``limit``, ``filter``, ``sort``, ``facets``,
        ``attributes_to_retrieve``, ``attributes_to_highlight``,
        ``highlight_pre_tag``, ``highlight_post_tag``, ``crop_length``,
        ``matching_strategy``). Raises QueryError for an over-long query, a
        query with nothing searchable in it and any bad parameter.
        """
        started = time.perf_counter()
        q = q or ""
        opts = search_options(page=page, hits_per_page=hits_per_page, **options)
        placeholder = not q.strip()
        clauses = [] if placeholder else parse(q)
        with self._lock:
            allowed = self._allowed(opts.filter)
            order = None
            if opts.sort is not None:
                order = sorting.order_key(self._columns.dates, opts.sort.descending)
            wanted = opts.start + max(opts.count, 1)
            if placeholder:
                query, ranking = None, self._placeholder(allowed, opts.sort or sorting.NEWEST_FIRST, wanted)
            else:
                query = compile_query(clauses, self.settings, self._restore, self._respell)
                ranking = self._executor.rank(query, wanted, allowed=allowed, order=order)
            related = self._related_flags(ranking)
            total, related_total = self._counts(query, ranking, opts.matching_strategy)
            window = list(zip(ranking.docnums.tolist(), ranking.scores.tolist(), related.tolist()))
            if opts.matching_strategy == "all" and query is not None and query.tiered:
                window = [w for w in window if not w[2]]
            window = window[opts.start:opts.start + opts.count]
            groups = [] if query is None else list(query.groups) if query.tiered else self._informative(query.groups)
            occurrences = Occurrences(self._postings, [d for d, _, _ in window])
            hits = [self._hit(docnum, score, groups, occurrences, opts, rel) for docnum, score, rel in window]
            facet_answer = None
            if opts.facets is not None:
                facet_answer = self._facets(ranking, opts.facets, total, query is not None and query.tiered)
        return results.answer(q, hits, total, related_total, ranking.estimated, opts,
                              (time.perf_counter() - started) * 1000, None if query is None else self._spelled(query.suggestion),
                              facet_answer)

    def _allowed(self, filter_value) -> np.ndarray | None:
        try:
            return self._filters.mask(filter_value)
        except FilterError as e:
            raise QueryError("invalid_search_filter", e.message) from None

    def _placeholder(self, allowed: np.ndarray | None, rule: sorting.SortRule, limit: int) -> Ranking:
        """Every live (allowed) document, in the rule's order (then document number)."""
        docs = self._postings.live_mask()
        if allowed is not None:
            docs = docs & allowed
        candidates = np.flatnonzero(docs)
        order = sorting.order_key(self._columns.dates, rule.descending)[candidates]
        best = sorting.top(order, np.zeros(len(candidates)), limit)
        return Ranking(candidates[best].astype(np.int32), np.zeros(len(best)), len(candidates), len(candidates),
                       False, candidates, None)

    @staticmethod
    def _related_flags(ranking: Ranking) -> np.ndarray:
        """Per ranked document: True if it matches only some of the query's words."""
        if ranking.in_complete is None or not len(ranking.docnums):
            return np.zeros(len(ranking.docnums), dtype=bool)
        at = np.searchsorted(ranking.candidates, ranking.docnums)
        return ~ranking.in_complete[at]

    @staticmethod
    def _counts(query: Query | None, ranking: Ranking, strategy: str) -> tuple[int, int]:
        """(totalHits, relatedHits): the documents matching every word when there
        are any, then the others (0 with ``matchingStrategy`` ``all``)."""
        if query is None or not query.tiered or ranking.complete == 0:
            return (0, 0) if strategy == "all" and query is not None and query.tiered else (ranking.total, 0)
        return ranking.complete, 0 if strategy == "all" else ranking.total - ranking.complete

    def _facets(self, ranking: Ranking, wanted: tuple[str, ...], total: int, tiered: bool) -> tuple[dict, dict]:
        matches = np.zeros(self._postings.doc_count_all, dtype=bool)
        if ranking.candidates is not None and total:
            counted = ranking.candidates
            if tiered and ranking.in_complete is not None and ranking.complete:
                counted = counted[ranking.in_complete]
            matches[counted] = True
            # a phrase's candidates hold its syllables, not all of them the phrase:
            # their counts are scaled to the (checked or estimated) total
            scale = total / len(counted) if len(counted) != total else 1.0
            return facets.distribution(self._columns, matches, wanted, scale)
        return facets.distribution(self._columns, matches, wanted)

    def count(self, q: str) -> int:
        """The exact number of documents matching ``q``: every phrase candidate
        checked (``search`` estimates past the ones it needs for its page)."""
        with self._lock:
            return self._executor.rank(self.compile(q), 1, exact_total=True).total

    def _informative(self, groups) -> list[HighlightGroup]:
        """The groups of a free-text query without its near-ubiquitous
        syllables (``các``, ``và``, ``ở``…, in more than ``highlight_max_share``
        of the documents): marking them everywhere is clutter, and reading their
        offsets is most of a long query's snippet cost. Keeps the rarest
        syllable if every one is that common."""
        df = {t.folded: self._executor.document_frequency(t.folded) for g in groups for t in g.terms}
        if not df:
            return list(groups)
        limit = max(self.settings.highlight_max_share * max(self._postings.doc_count_all, 1), min(df.values()))
        kept = [HighlightGroup(tuple(t for t in g.terms if df[t.folded] <= limit), g.phrase, g.exact_preferred)
                for g in groups]
        return [g for g in kept if g.terms]

    def _marked(self, docnum: int, stored: dict, groups, occurrences: Occurrences) -> tuple[str, list, str, list]:
        title, body = stored.get(schema.TITLE, ""), stored.get(schema.BODY, "")
        exact = exact_held(occurrences, docnum, [(schema.TITLE_FOLDED, title), (schema.BODY_FOLDED, body)], groups)
        return (title, match_spans(occurrences, schema.TITLE_FOLDED, docnum, title, groups, exact),
                body, match_spans(occurrences, schema.BODY_FOLDED, docnum, body, groups, exact))

    def _hit(self, docnum: int, score: float, groups, occurrences: Occurrences, opts: SearchOptions,
             related: bool) -> dict:
        stored = self._searcher.stored_fields(docnum)
        title, title_spans, body, body_spans = self._marked(docnum, stored, groups, occurrences)
        return results.hit(stored, score, mark(title, title_spans), snippet(body, body_spans, words=opts.crop_length),
                           opts, related)

    # -- did you mean, completions -----------------------------------------
    def _restore(self, folded: list[str]) -> list[str]:
        return self.accent_model().restore(folded)

    def _respell(self, exact: str, before: str | None, after: str | None) -> Reading | None:
        return reading(exact, self.accent_model(), before, after)

    def accent_model(self) -> AccentModel:
        """The accent model of the open index (see :class:`~indexer.search.accents.ModelKeeper`)."""
        with self._lock:
            return self._accents.get(self._opened, self._searcher.reader(), self._generation)

    def warm(self) -> None:
        """Build the accent and phrase models now (seconds at 100k articles),
        not at the first searches that need them; a process forked after this
        starts with them for the same index state."""
        self.accent_model()
        self.phrase_model()

    def phrase_model(self) -> bigrams.PhraseModel:
        """The phrase model of the open index (:mod:`~indexer.search.bigrams`)."""
        with self._lock:
            return self._phrases.get(self._opened, self._searcher.reader(), self._generation)

    def _spelled(self, text: str | None) -> str | None:
        """``text`` (canonical syllables) as the pages spell it: ``đảng uỷ`` → ``đảng ủy``."""
        if not text:
            return text
        model = self.phrase_model()
        return " ".join(model.spelled(s) for s in text.split(" "))

    def _phrase_exists(self, syllables: list[str]) -> bool:
        try:
            query = compile_query(parse('"' + " ".join(syllables) + '"'), self.settings)
        except QueryError:          # a "syllable" of a thousand letters: not a completion to offer
            return False
        return len(self._executor.rank(query, 1)[0]) > 0

    def suggest(self, prefix: str, limit: int = 8) -> list[str]:
        """Completions of a partly typed query that the index holds as phrases,
        diacritic-insensitive, shown as the pages spell them: ``"dang v"`` →
        ``["đảng viên", …]`` (see :mod:`~indexer.search.suggest`)."""
        if not prefix or not prefix.strip() or len(prefix) > MAX_SUGGEST_CHARS:
            return []
        terms = [t for c in parse(prefix) if not c.clause.negated for t in c.syllables]
        if not terms:
            return []
        with self._lock:
            return completions(self.accent_model(), self.phrase_model(), terms, prefix[-1].isspace(), limit,
                               self._phrase_exists)

    # -- articles ----------------------------------------------------------
    def _stored(self, doc_id: str) -> tuple[int, dict] | None:
        """By id, NFC first (ids are stored NFC), then as given (an index built before that rule)."""
        docnum = None
        for key in dict.fromkeys((unicodedata.normalize("NFC", doc_id), doc_id)):
            docnum = self._searcher.document_number(**{schema.ID_FIELD: key})
            if docnum is not None:
                break
        return None if docnum is None else (docnum, self._searcher.stored_fields(docnum))

    def get_article(self, doc_id: str) -> dict | None:
        """The stored article, or None for an unknown id."""
        with self._lock:
            found = self._stored(doc_id)
        return None if found is None else results.article(found[1])

    def highlight_article(self, doc_id: str, q: str | None) -> dict | None:
        """The whole article as escaped HTML, the query's matches marked."""
        with self._lock:
            found = self._stored(doc_id)
            if found is None:
                return None
            docnum, stored = found
            groups: list[HighlightGroup] = []
            if q and q.strip():
                try:
                    groups = list(self.compile(q).groups)
                except QueryError:
                    groups = []
            occurrences = Occurrences(self._postings, [docnum])
            title, title_spans, body, body_spans = self._marked(docnum, stored, groups, occurrences)
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
                "syllableTerms": sum(1 for _ in reader.lexicon(schema.BODY_EXACT)),
                "sizeBytes": sum(p.stat().st_size for p in self._generation.iterdir() if p.is_file()),
            }
