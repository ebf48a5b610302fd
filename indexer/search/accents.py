"""Restoring the accents of a plain-typed query from the index's own vocabulary.

For each folded syllable the candidates are the exact forms the index holds
(``dang`` → ``đảng``, ``đang``, ``dàng``…), weighted by document frequency;
adjacent choices are rewarded when the index holds them as one pyvi word
(``đảng_viên``). A Viterbi pass picks the best sequence, so ``dang vien`` →
``đảng viên`` and ``dang lam`` → ``đang làm`` come from the corpus, not from a
fixed table.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from bisect import bisect_left
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Sequence

from whoosh import index as whoosh_index

from indexer.analysis import WORD_JOINER, fold
from indexer.index import postings

WORD_WEIGHT = 2.0        # log-df of a known two-syllable word, relative to a syllable's
MAX_CANDIDATES = 8


class AccentModel:
    def __init__(self, syllables: dict[str, list[tuple[str, int]]], words: dict[str, int],
                 joined: dict[str, tuple[str, ...]] | None = None) -> None:
        self.syllables = syllables   # folded syllable -> [(exact, df)], most frequent first
        self.words = words           # exact two-syllable word "a_b" -> df
        self.joined = joined or {}   # folded word without its joins ("hanoi") -> its exact syllables
        self._folded_keys = sorted(syllables)
        self._deletions: dict[str, list[str]] | None = None

    @classmethod
    def from_lexicon(cls, terms: Iterable[tuple[str, int]]) -> "AccentModel":
        """Build from (exact term, document frequency) pairs of the exact fields."""
        syllables: dict[str, dict[str, int]] = defaultdict(dict)
        words: dict[str, int] = {}
        joined: dict[str, tuple[int, str]] = {}
        for term, df in terms:
            parts = term.split(WORD_JOINER)
            if len(parts) == 1:
                term = sys.intern(term)      # one string per syllable, whichever segments hold it
                forms = syllables[fold(term)]
                forms[term] = forms.get(term, 0) + df
                continue
            if len(parts) == 2:
                words[term] = words.get(term, 0) + df
            key = fold(term.replace(WORD_JOINER, ""))
            if (-df, term) < joined.get(key, (1, "")):
                joined[key] = (-df, term)
        ranked = {f: sorted(forms.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_CANDIDATES]
                  for f, forms in syllables.items()}
        return cls(ranked, words, {k: tuple(sys.intern(p) for p in t.split(WORD_JOINER)) for k, (_, t) in joined.items()})

    def deletion_index(self) -> dict[str, list[str]]:
        """:func:`indexer.search.respell.deletion_index` of the folded syllables, built once."""
        if self._deletions is None:
            from indexer.search.respell import deletion_index
            self._deletions = deletion_index(self.syllables)
        return self._deletions

    def df(self, folded: str) -> int:
        """Documents holding a folded syllable (summed over its exact forms: an
        upper bound), 0 when the index does not hold it."""
        return sum(df for _, df in self.syllables.get(folded, ()))

    def exact_df(self, exact: str) -> int:
        """Documents holding an exact syllable (0 if not among its folded form's candidates)."""
        return next((df for form, df in self.syllables.get(fold(exact), ()) if form == exact), 0)

    def word_df(self, first: str, second: str) -> int:
        """Documents holding the exact two-syllable pyvi word ``first_second``."""
        return self.words.get(first + WORD_JOINER + second, 0)

    def candidates(self, folded: str) -> list[tuple[str, int]]:
        return self.syllables.get(folded) or [(folded, 0)]

    def restore(self, folded: Sequence[str]) -> list[str]:
        """The most likely exact form of each folded syllable, in context."""
        if not folded:
            return []
        cands = [self.candidates(f) for f in folded]
        # best[i][j] = (score, backpointer) for choosing cands[i][j]
        best = [[(math.log1p(df), -1) for _, df in cands[0]]]
        for i in range(1, len(cands)):
            row = []
            for form, df in cands[i]:
                options = []
                for k, (prev, _) in enumerate(cands[i - 1]):
                    bonus = self.words.get(prev + WORD_JOINER + form, 0)
                    options.append((best[i - 1][k][0] + WORD_WEIGHT * math.log1p(bonus), k))
                score, back = max(options)
                row.append((score + math.log1p(df), back))
            best.append(row)
        j = max(range(len(best[-1])), key=lambda k: best[-1][k][0])
        out = []
        for i in range(len(cands) - 1, -1, -1):
            out.append(cands[i][j][0])
            j = best[i][j][1]
        return out[::-1]

    def completions(self, folded_prefix: str, typed: str, limit: int = 50) -> list[tuple[str, int]]:
        """Exact syllables whose folded form starts with ``folded_prefix`` and
        whose exact form starts with ``typed`` (what the user typed, lowercase):
        ``"dan"`` offers ``đang``, ``dân``, ``đảng``…; ``"đả"`` only ``đảng``, ``đảm``…"""
        out = []
        i = bisect_left(self._folded_keys, folded_prefix)
        while i < len(self._folded_keys) and self._folded_keys[i].startswith(folded_prefix):
            for form, df in self.syllables[self._folded_keys[i]]:
                if form.startswith(typed) or typed == folded_prefix:
                    out.append((form, df))
            i += 1
        out.sort(key=lambda kv: (-kv[1], kv[0]))
        return out[:limit]


def model_of(reader) -> AccentModel:
    """The accent model of an open index, from its segments' lexicon files,
    with its deletion index: built with the model (in the background after a
    reopen), not by the first search holding an unknown syllable."""
    model = AccentModel.from_lexicon(postings.lexicon(reader))
    model.deletion_index()
    return model


class ModelKeeper:
    """A model of whatever generation an engine has open (the accent model,
    or another ``build(reader)``).

    Built from the whole index: seconds of CPU at 100k articles. So the
    first one is built when asked for, but after a reopen the previous model
    keeps answering while the new one is built in a background thread: a
    vocabulary changes little between two commits, and a search right after
    an update must not wait for it. Nor is it rebuilt after every commit: only
    once the documents changed by ``REBUILD_SHARE`` of them (at least one) or
    ``REBUILD_SECONDS`` have passed, so that a site adding an article a
    minute does not spend its cores rebuilding models; until then a new
    article's own words are matched as typed and folded, not yet restored.
    """

    REBUILD_SHARE = 0.01
    REBUILD_SECONDS = 600.0

    def __init__(self, build=None) -> None:
        self._build = build or model_of
        self._lock = threading.Lock()
        self._model = None
        self._for = -1            # the opening (a counter of the engine's) the model is of
        self._building = -1
        self._documents = 0       # the index's documents (deleted ones included) the model was built from
        self._built_at = 0.0

    def get(self, opening: int, reader, generation: Path):
        """The model for ``opening`` of ``generation`` (``reader``: its open reader)."""
        with self._lock:
            if self._model is None:
                self._model = _first_model(self._build, reader, generation)
                self._for, self._documents, self._built_at = opening, reader.doc_count_all(), time.monotonic()
            elif self._for != opening and self._building != opening:
                if self._still_current(reader.doc_count_all()):
                    self._for = opening
                else:
                    self._building = opening
                    threading.Thread(target=self._rebuild, args=(opening, generation),
                                     name="vnsearch-model", daemon=True).start()
            return self._model

    def _still_current(self, documents: int) -> bool:
        changed = abs(documents - self._documents)
        return (changed < max(1.0, self.REBUILD_SHARE * self._documents)
                and time.monotonic() - self._built_at < self.REBUILD_SECONDS)

    def _rebuild(self, opening: int, generation: Path) -> None:
        try:
            ix = whoosh_index.open_dir(str(generation))
            with ix.reader() as reader:
                model, documents = self._build(reader), reader.doc_count_all()
        except Exception:        # the generation was pruned meanwhile: a later search retries
            model = None
        with self._lock:
            if model is not None and opening > self._for:
                self._model, self._for = model, opening
                self._documents, self._built_at = documents, time.monotonic()
            self._building = -1


# The last model each builder made for a state of an index, kept for the
# process's next first one: a server's master builds them before it forks
# (:func:`indexer.search.engine.SearchEngine.warm`), so every worker starts
# with them (shared pages) instead of building its own on its first requests.
_LAST: dict[object, tuple[tuple, object]] = {}
_LAST_LOCK = threading.Lock()


def _first_model(build, reader, generation: Path):
    """``build(reader)``, or the model it last made for the same generation and commit."""
    key = (str(generation), reader.generation())
    with _LAST_LOCK:
        found = _LAST.get(build)
        if found is not None and found[0] == key:
            return found[1]
    model = build(reader)
    with _LAST_LOCK:
        _LAST[build] = (key, model)
    return model
