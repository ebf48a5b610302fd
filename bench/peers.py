"""Peer retrieval systems for ``bench/relevance.py`` — comparison only, never
part of the product.

Every system has the same small interface::

    system = SYSTEMS[name]()
    system.index(docs)               # docs: list of Doc(id, title, text)
    ids = system.search(query, k)    # the top ``k`` document ids, best first
    system.close()

The peers:

* ``bm25-exact``  — plain BM25 (k1=0.9, b=0.4) over lowercase NFC syllables
  (``\\w+`` runs of title + text), accents kept: a re-implementation of
  ``shared/data/tools/bm25_ref.py``, the reference the data READMEs quote.
* ``bm25-folded`` — the same with every diacritic removed and ``đ``→``d`` on
  both sides (the asciifolding / Meilisearch approach).
* ``fts5``        — SQLite FTS5, ``tokenize='unicode61 remove_diacritics 2'``,
  query = OR of quoted terms, ranked by ``bm25()`` (k1=1.2, b=0.75, fixed in
  SQLite).  unicode61 removes combining marks but does NOT fold ``đ`` (a
  letter of its own), so a plain ``dang`` never matches ``đảng``.
* ``whoosh-default`` — Whoosh with its default ``StandardAnalyzer`` (regex
  tokens, lowercase, English stop words, tokens shorter than 2 characters
  dropped) plus ``CharsetFilter(accent_map)``, default ``BM25F`` (k1=1.2,
  b=0.75), query = OR of the analyzed terms.  Unlike unicode61, Whoosh's
  ``accent_map`` does fold ``đ``→``d`` (checked: ``accent_map[ord("đ")] == "d"``),
  so its plain queries lose only what folding itself loses.

* ``meili-typo`` — ``bm25-folded`` with Meilisearch's default typo rules
  (its "typo tolerance" documentation): a query word of 5 characters or more
  also matches the index's words one edit away (Levenshtein: insert, delete,
  substitute), of 9 or more two edits away; hits are ordered as Meilisearch's
  first ranking rules do, by how many query words they hold, then by how few
  typos they needed, then by the BM25 of the words matched.

All peers are given NFC text (what any sane ingestion would do); the corpora
hold some NFD articles.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from typing import NamedTuple, Sequence

import numpy as np
from scipy import sparse

__all__ = ["Doc", "SYSTEMS", "BM25", "FTS5", "MeiliTypo", "WhooshDefault", "plain_fold", "syllables"]


class Doc(NamedTuple):
    id: str
    title: str
    text: str


_WORD = re.compile(r"\w+")


def plain_fold(text: str) -> str:
    """Remove every diacritic (NFD, drop combining marks) and fold ``đ``→``d``,
    ``Đ``→``D``; no lowercasing.  The fallback for ``indexer.normalize.fold``
    and the folding of the ``bm25-folded`` peer (as in ``bm25_ref.py``)."""
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(ch for ch in text if not unicodedata.combining(ch)))


def syllables(text: str, fold: bool = False) -> list[str]:
    """``bm25_ref.py`` tokenization: NFC, lowercase, optional fold, ``\\w+``."""
    text = unicodedata.normalize("NFC", text).lower()
    if fold:
        text = plain_fold(text)
    return _WORD.findall(text)


def _doc_text(doc: Doc) -> str:
    return unicodedata.normalize("NFC", (doc.title or "") + " " + doc.text)


class BM25:
    """In-memory BM25 over syllables (sparse term-by-document weight matrix)."""

    name = "bm25-exact"

    def __init__(self, fold: bool = False, k1: float = 0.9, b: float = 0.4) -> None:
        self.fold, self.k1, self.b = fold, k1, b
        self.name = "bm25-folded" if fold else "bm25-exact"
        self.ids: list[str] = []
        self.vocab: dict[str, int] = {}
        self.W: sparse.csr_matrix | None = None

    def index(self, docs: Sequence[Doc]) -> None:
        self.ids = [d.id for d in docs]
        rows: list[int] = []
        cols: list[int] = []
        vals: list[int] = []
        lengths = np.zeros(len(docs), dtype=np.float64)
        for i, d in enumerate(docs):
            toks = syllables((d.title or "") + " " + d.text, self.fold)
            lengths[i] = len(toks)
            tf: dict[int, int] = {}
            for t in toks:
                j = self.vocab.setdefault(t, len(self.vocab))
                tf[j] = tf.get(j, 0) + 1
            rows.extend([i] * len(tf))
            cols.extend(tf.keys())
            vals.extend(tf.values())
        n, v = len(docs), len(self.vocab)
        tfv = np.asarray(vals, dtype=np.float64)
        r = np.asarray(rows, dtype=np.int64)
        c = np.asarray(cols, dtype=np.int64)
        avg = lengths.mean() if n else 1.0
        df = np.bincount(c, minlength=v)
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        w = tfv * (self.k1 + 1) / (tfv + self.k1 * (1 - self.b + self.b * lengths[r] / avg)) * idf[c]
        self.W = sparse.csr_matrix((w, (c, r)), shape=(v, n))   # term x doc

    def scores(self, query: str) -> np.ndarray:
        terms = sorted({self.vocab[t] for t in syllables(query, self.fold) if t in self.vocab})
        if not terms:
            return np.zeros(len(self.ids))
        return np.asarray(self.W[terms].sum(axis=0)).ravel()

    def search(self, query: str, k: int = 10) -> list[str]:
        s = self.scores(query)
        hit = np.flatnonzero(s > 0)
        if hit.size == 0:
            return []
        order = hit[np.lexsort((hit, -s[hit]))][:k]     # score desc, then corpus order
        return [self.ids[i] for i in order]

    def close(self) -> None:
        self.W = None


def _levenshtein1(word: str, alphabet: str) -> set[str]:
    """Every string one insertion, deletion or substitution away."""
    out = set()
    for i in range(len(word) + 1):
        for c in alphabet:
            out.add(word[:i] + c + word[i:])
            if i < len(word):
                out.add(word[:i] + c + word[i + 1:])
        if i < len(word):
            out.add(word[:i] + word[i + 1:])
    out.discard(word)
    return out


class MeiliTypo(BM25):
    """Folded BM25 with Meilisearch's typo rules (see the module docstring)."""

    ONE_TYPO, TWO_TYPOS = 5, 9

    def __init__(self) -> None:
        super().__init__(fold=True)
        self.name = "meili-typo"

    def expansions(self, word: str) -> dict[int, int]:
        """Vocabulary ids matching ``word`` with at most its allowed typos -> typos."""
        if word not in self._expansions:
            self._expansions[word] = self._expand(word)
        return self._expansions[word]

    def index(self, docs: Sequence[Doc]) -> None:
        super().index(docs)
        self._expansions: dict[str, dict[int, int]] = {}

    def _expand(self, word: str) -> dict[int, int]:
        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        found = {self.vocab[word]: 0} if word in self.vocab else {}
        if len(word) < self.ONE_TYPO:
            return found
        ring = _levenshtein1(word, alphabet)
        for w in ring:
            if w in self.vocab:
                found.setdefault(self.vocab[w], 1)
        if len(word) >= self.TWO_TYPOS:
            for w in ring:
                for v in _levenshtein1(w, alphabet):
                    if v in self.vocab:
                        found.setdefault(self.vocab[v], 2)
        return found

    def search(self, query: str, k: int = 10) -> list[str]:
        n = len(self.ids)
        words = np.zeros(n)
        typos = np.zeros(n)
        score = np.zeros(n)
        for word in dict.fromkeys(syllables(query, fold=True)):
            best = np.full(n, np.inf)
            term_score = np.zeros(n)
            for j, t in self.expansions(word).items():
                row = self.W[j]
                docs, values = row.indices, row.data
                better = t < best[docs]
                best[docs[better]] = t
                term_score[docs] = np.maximum(term_score[docs], values)
            held = np.isfinite(best)
            words += held
            typos[held] += best[held]
            score += term_score
        hit = np.flatnonzero(words > 0)
        if hit.size == 0:
            return []
        order = hit[np.lexsort((hit, -score[hit], typos[hit], -words[hit]))][:k]
        return [self.ids[i] for i in order]


class FTS5:
    """SQLite FTS5 (in memory), unicode61 with remove_diacritics 2."""

    name = "fts5"
    TOKENIZE = "unicode61 remove_diacritics 2"

    def __init__(self) -> None:
        self.db = sqlite3.connect(":memory:")
        try:
            self.db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(body, tokenize='{self.TOKENIZE}')")
        except sqlite3.OperationalError as e:   # pragma: no cover - depends on the build of sqlite
            raise RuntimeError(f"this sqlite3 ({sqlite3.sqlite_version}) has no FTS5: {e}") from None
        self.ids: list[str] = []

    def index(self, docs: Sequence[Doc]) -> None:
        self.ids = [d.id for d in docs]
        with self.db:
            self.db.executemany("INSERT INTO docs(rowid, body) VALUES (?, ?)",
                                ((i, _doc_text(d)) for i, d in enumerate(docs)))

    @staticmethod
    def match_expression(query: str) -> str:
        """OR of quoted terms; the tokenizer lowercases and strips marks itself."""
        seen: dict[str, None] = {}
        for t in _WORD.findall(unicodedata.normalize("NFC", query)):
            seen.setdefault(t.lower(), None)
        return " OR ".join('"' + t.replace('"', '""') + '"' for t in seen)

    def search(self, query: str, k: int = 10) -> list[str]:
        expr = self.match_expression(query)
        if not expr:
            return []
        rows = self.db.execute(
            "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs), rowid LIMIT ?", (expr, k))
        return [self.ids[r] for (r,) in rows]

    def close(self) -> None:
        self.db.close()


class WhooshDefault:
    """Whoosh out of the box: StandardAnalyzer | CharsetFilter(accent_map), BM25F."""

    name = "whoosh-default"

    def __init__(self) -> None:
        from whoosh.analysis import CharsetFilter, StandardAnalyzer
        from whoosh.fields import ID, TEXT, Schema
        from whoosh.filedb.filestore import RamStorage
        from whoosh.support.charset import accent_map

        self.analyzer = StandardAnalyzer() | CharsetFilter(accent_map)
        schema = Schema(id=ID(stored=True), content=TEXT(analyzer=self.analyzer))
        self.ix = RamStorage().create_index(schema)
        self.searcher = None

    def index(self, docs: Sequence[Doc]) -> None:
        writer = self.ix.writer()
        for d in docs:
            writer.add_document(id=d.id, content=_doc_text(d))
        writer.commit()
        self.searcher = self.ix.searcher()   # default weighting: BM25F(B=0.75, K1=1.2)

    def terms(self, query: str) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.analyzer(unicodedata.normalize("NFC", query), mode="query"):
            seen.setdefault(t.text, None)
        return list(seen)

    def search(self, query: str, k: int = 10) -> list[str]:
        from whoosh import query as Q
        terms = self.terms(query)
        if not terms:
            return []
        results = self.searcher.search(Q.Or([Q.Term("content", t) for t in terms]), limit=k)
        return [hit["id"] for hit in results]

    def close(self) -> None:
        if self.searcher is not None:
            self.searcher.close()
            self.searcher = None


SYSTEMS = {
    "bm25-exact": lambda: BM25(fold=False),
    "bm25-folded": lambda: BM25(fold=True),
    "fts5": FTS5,
    "meili-typo": MeiliTypo,
    "whoosh-default": WhooshDefault,
}

