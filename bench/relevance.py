#!/usr/bin/env python3
"""Relevance benchmark: vnsearch against four peer systems on a retrieval set.

Usage (from the repository root)::

    python bench/relevance.py DATASET_DIR [DATASET_DIR ...] [--limit N]
        [--systems ours,bm25-exact,bm25-folded,fts5,whoosh-default,meili-typo]
        [--forms accented,plain,telex,vni,typo,joined] [--json-only] [--dump per_query.jsonl]
        [--variant NAME:KEY=VALUE,KEY=VALUE ...]

A DATASET_DIR holds ``corpus.jsonl`` or ``corpus.jsonl.gz`` (``id``, ``title``,
``text``) and ``queries.jsonl`` (``id``, ``query``, ``relevant``: ids), the
format of ``../shared/data/*/``.

* ``ours``: a throwaway index is built in a temporary directory with
  ``indexer.build(..., full=True)`` (the code path of ``vnsearch index``) and
  every query runs through ``SearchEngine.search(q, hits_per_page=10)``.
* Peers (``bench/peers.py``, comparison only): ``bm25-exact``,
  ``bm25-folded``, ``fts5``, ``whoosh-default``, ``meili-typo``.
* Query forms: ``accented`` (as written) and ``plain`` (``fold(query)``: every
  diacritic removed, ``đ``→``d``, what a user without a Vietnamese keyboard
  types), the default two; ``telex`` and ``vni`` (every syllable typed with
  that input method's keys, in a key order seeded by the query:
  ``indexer.analysis.telex.encode``), ``typo`` (one seeded letter edit in one
  syllable of 4+ letters) and ``joined`` (the spaces inside one seeded
  multi-syllable pyvi word of the query removed).
* Metrics per (system, form): MRR@10, Recall@1, Recall@10, nDCG@10 (binary
  gains), and the wall time of each search call, p50 / p95 in ms (one untimed
  warm-up query first).  ``--limit N`` keeps the first N queries (the corpus is
  always indexed whole).
* Output: a table on stdout, then one JSON line per (system, form); with
  ``--json-only`` only the JSON lines.  ``--dump FILE`` writes one JSON line per
  (system, form, query) with the rank of the first relevant hit and the top 10.
* ``--variant NAME:K=V,...`` adds a system ``ours-NAME`` that searches the same
  index as ``ours`` with fields of ``indexer.RankingSettings`` changed, to
  measure a change before it is made in ``indexer/search/settings.py`` (see
  :func:`parse_variant`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
import sys
import unicodedata
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

REPO = Path(__file__).resolve().parent.parent
for _p in (str(REPO), str(Path(__file__).resolve().parent)):
    if _p not in sys.path:           # works installed (editable) or not
        sys.path.insert(0, _p)

import numpy as np  # noqa: E402

from peers import SYSTEMS as PEER_SYSTEMS, Doc  # noqa: E402

def _hash_sources(directory: Path) -> str:
    import hashlib
    h = hashlib.sha256()
    for path in sorted(directory.rglob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


_FINGERPRINT = _hash_sources(REPO / "indexer")   # just before indexer is imported
from indexer import fold as _fold  # noqa: E402

K = 10
FORMS = ("accented", "plain", "telex", "vni", "typo", "joined")
DEFAULT_FORMS = ("accented", "plain")
ALL_SYSTEMS = ("ours", "bm25-exact", "bm25-folded", "fts5", "whoosh-default", "meili-typo")


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

@dataclass
class Query:
    id: str
    text: str
    relevant: frozenset[str]


@dataclass
class Dataset:
    name: str
    corpus_path: Path
    docs: list[Doc]
    queries: list[Query]


def _open(path: Path):
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _jsonl(path: Path) -> Iterator[dict]:
    with _open(path) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def corpus_file(directory: Path) -> Path:
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(f"{directory}: no corpus.jsonl or corpus.jsonl.gz")


def load_dataset(directory: Path | str, limit: int | None = None) -> Dataset:
    directory = Path(directory)
    corpus = corpus_file(directory)
    docs = [Doc(r["id"], r.get("title") or "", r.get("text") or "") for r in _jsonl(corpus)]
    queries = [Query(r["id"], r["query"], frozenset(r["relevant"]))
               for r in _jsonl(directory / "queries.jsonl")]
    if limit is not None:
        queries = queries[:limit]
    return Dataset(directory.resolve().name, corpus, docs, queries)


_LETTER_RUN = re.compile(r"[^\W\d_]+")
_ASCII = "abcdefghijklmnopqrstuvwxyz"


def _rng(form: str, text: str) -> random.Random:
    """The seeded generator of one query's form: the same query, the same typing."""
    return random.Random(f"{form}\0{text}")


def _ime_typed(text: str, method: str) -> str:
    """Every syllable typed with ``method``'s keys, each in a seeded key order."""
    from indexer import ime_keys
    rng = _rng(method, text)
    orders = ("inline", "marks-last", "tone-after-vowels", "all-last")    # indexer.analysis.telex.ORDERS
    return _LETTER_RUN.sub(lambda m: ime_keys(m.group(), method, rng.choice(orders)),
                           unicodedata.normalize("NFC", text))


def _typo(text: str) -> str:
    """One seeded letter edit (substitute, delete, insert or transpose) in one
    syllable of 4 letters or more; the query unchanged if it has none."""
    text = unicodedata.normalize("NFC", text)
    rng = _rng("typo", text)
    runs = [m for m in _LETTER_RUN.finditer(text) if len(m.group()) >= 4]
    if not runs:
        return text
    run = rng.choice(runs)
    word, kind = run.group(), rng.choice(("substitute", "delete", "insert", "transpose"))
    i = rng.randrange(len(word) - (kind == "transpose"))
    if kind == "substitute":
        edited = word[:i] + rng.choice([c for c in _ASCII if c != word[i].lower()]) + word[i + 1:]
    elif kind == "delete":
        edited = word[:i] + word[i + 1:]
    elif kind == "insert":
        edited = word[:i] + rng.choice(_ASCII) + word[i:]
    else:
        edited = word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return text[:run.start()] + edited + text[run.end():]


def _joined(text: str) -> str:
    """The spaces inside one (seeded) multi-syllable pyvi word of the query
    removed; the query unchanged if it has none."""
    from indexer import analyze
    words = analyze(text).words
    if not words:
        return text
    w = _rng("joined", text).choice(words)
    return text[:w.startchar] + "".join(text[w.startchar:w.endchar].split()) + text[w.endchar:]


def query_form(text: str, form: str) -> str:
    """The query as a user would type it in ``form`` (see the module docstring)."""
    if form == "accented":
        return text
    if form == "plain":
        return _fold(text)
    if form in ("telex", "vni"):
        return _ime_typed(text, form)
    if form == "typo":
        return _typo(text)
    if form == "joined":
        return _joined(text)
    raise ValueError(f"unknown query form {form!r}")


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------

def relevant_ranks(retrieved: Sequence[str], relevant: Iterable[str], k: int = K) -> list[int]:
    """0-based ranks, within the top ``k``, of the relevant documents."""
    rel = set(relevant)
    return [r for r, doc_id in enumerate(retrieved[:k]) if doc_id in rel]


def query_metrics(ranks: Sequence[int], n_relevant: int) -> dict[str, float]:
    """MRR@10, R@1, R@10 and nDCG@10 (binary gains) of one query."""
    ranks = sorted(r for r in ranks if r < K)
    n_relevant = max(n_relevant, 1)
    dcg = sum(1.0 / math.log2(r + 2) for r in ranks)
    idcg = sum(1.0 / math.log2(r + 2) for r in range(min(n_relevant, K)))
    return {
        "MRR@10": 1.0 / (ranks[0] + 1) if ranks else 0.0,
        "R@1": sum(1 for r in ranks if r < 1) / n_relevant,
        "R@10": len(ranks) / n_relevant,
        "nDCG@10": dcg / idcg,
    }


METRICS = ("MRR@10", "R@1", "R@10", "nDCG@10")


def aggregate(per_query: Sequence[dict[str, float]], times_ms: Sequence[float]) -> dict[str, float]:
    n = len(per_query)
    out = {m: round(sum(q[m] for q in per_query) / n, 4) if n else 0.0 for m in METRICS}
    t = np.asarray(times_ms, dtype=float)
    out["p50_ms"] = round(float(np.percentile(t, 50)), 2) if t.size else 0.0
    out["p95_ms"] = round(float(np.percentile(t, 95)), 2) if t.size else 0.0
    return out


# ---------------------------------------------------------------------------
# Our engine
# ---------------------------------------------------------------------------

# A --variant sets fields of indexer.RankingSettings (k1, body_b, title_b,
# title_weight, exact_weight, restored_weight, word_weight,
# free_text_syllables, ...; see indexer/search/settings.py): the engine is
# opened with ``dataclasses.replace(RankingSettings(), **fields)``. One more
# knob rewrites the query text before the engine parses it:
#   PHRASES=0: ASCII double quotes ignored (no required phrase);
#   PHRASES=2: phrases as typed first, then (if the page is not full) the hits of
#              the query without its quotes: a relaxation, not a filter.
SPECIAL_KNOBS = ("PHRASES",)


class OursIndex:
    """One throwaway index of a dataset, built like ``vnsearch index --full``."""

    def __init__(self, corpus_path: Path) -> None:
        import indexer
        self._tmp = tempfile.TemporaryDirectory(prefix="vnsearch-bench-")
        started = time.perf_counter()
        report = indexer.build(self._tmp.name, [corpus_path], full=True, progress=False)
        self.seconds = time.perf_counter() - started
        self.articles = report.articles_indexed
        for problem in report.problems[:5]:
            print(f"warning: ours skipped {problem.path}: {problem.reason}", file=sys.stderr)
        if len(report.problems) > 5:
            print(f"warning: ours skipped {len(report.problems)} items in all", file=sys.stderr)
        self.path = self._tmp.name

    def close(self) -> None:
        self._tmp.cleanup()


def parse_variant(spec: str) -> tuple[str, dict[str, float]]:
    """``"k12:k1=1.2,title_weight=0.5"`` → ``("ours-k12", {"k1": 1.2, "title_weight": 0.5})``."""
    from indexer import RankingSettings
    name, _, knobs = spec.partition(":")
    if not name or not knobs:
        raise ValueError(f"--variant {spec!r}: expected NAME:KEY=VALUE[,KEY=VALUE]")
    settings: dict[str, float] = {}
    for item in knobs.split(","):
        key, eq, value = item.partition("=")
        key = key.strip()
        if key.upper() in SPECIAL_KNOBS:
            key = key.upper()
        elif key not in RankingSettings.names():
            raise ValueError(f"--variant {spec!r}: {key!r} is not a field of indexer.RankingSettings "
                             f"({', '.join(RankingSettings.names())}) nor one of {', '.join(SPECIAL_KNOBS)}")
        if not eq:
            raise ValueError(f"--variant {spec!r}: {key!r} has no value")
        try:
            settings[key] = float(value)
        except ValueError:
            raise ValueError(f"--variant {spec!r}: {value!r} is not a number") from None
    return f"ours-{name}", settings


def _ranking_settings(knobs: dict[str, float]):
    """The engine's settings with a variant's fields changed (a ValueError names a bad one)."""
    import dataclasses
    from indexer import RankingSettings
    fields = {k: (int(v) if k == "free_text_syllables" else v) for k, v in knobs.items() if k not in SPECIAL_KNOBS}
    return dataclasses.replace(RankingSettings(), **fields)


class Ours:
    """vnsearch itself, optionally with ranking knobs changed (a variant)."""

    def __init__(self, name: str = "ours", settings: dict[str, float] | None = None,
                 shared: Callable[[], OursIndex] | None = None) -> None:
        self.name = name
        self.settings = dict(settings or {})
        self._shared = shared
        self._own: OursIndex | None = None
        self.engine = None
        self.index_seconds = 0.0

    def index(self, docs: Sequence[Doc], corpus_path: Path) -> None:
        from indexer import SearchEngine
        if self.settings.get("PHRASES", 1) not in (0, 1, 2):
            raise ValueError("PHRASES is 0 (ignored), 1 (required, as the engine does) or 2 (relaxed)")
        if self._shared is not None:
            built = self._shared()
        else:
            built = self._own = OursIndex(corpus_path)
        self.index_seconds = built.seconds
        if built.articles != len(docs):
            print(f"warning: ours indexed {built.articles} of {len(docs)} documents", file=sys.stderr)
        self.engine = SearchEngine(built.path, settings=_ranking_settings(self.settings))

    def search(self, query: str, k: int = K) -> list[str]:
        from indexer import QueryError
        phrases = self.settings.get("PHRASES", 1)
        try:
            text = query.replace('"', " ") if phrases == 0 else query
            ids = [hit["id"] for hit in self.engine.search(text, hits_per_page=k)["hits"]]
            if phrases == 2 and '"' in query and len(ids) < k:
                relaxed = self.engine.search(query.replace('"', " "), hits_per_page=k)["hits"]
                ids += [h["id"] for h in relaxed if h["id"] not in ids][:k - len(ids)]
        except QueryError:
            return []
        return ids

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()
            self.engine = None
        if self._own is not None:
            self._own.close()
            self._own = None


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

@dataclass
class RunResult:
    dataset: str
    system: str
    form: str
    n_queries: int
    n_docs: int
    index_s: float
    metrics: dict[str, float]
    per_query: list[dict] = field(default_factory=list)
    code: str = ""

    def record(self) -> dict:
        return {"dataset": self.dataset, "system": self.system, "form": self.form,
                "n_queries": self.n_queries, "n_docs": self.n_docs, **self.metrics,
                "index_s": round(self.index_s, 2), **({"indexer_sha": self.code} if self.code else {})}


def indexer_fingerprint() -> str:
    """A short hash of the indexer sources as they were when this module
    imported ``indexer``: which engine the figures are of (it changes fast)."""
    return _FINGERPRINT


def make_system(name: str, variants: dict[str, dict[str, float]],
                shared: Callable[[], OursIndex]):
    if name == "ours":
        return Ours("ours", shared=shared)
    if name in variants:
        return Ours(name, variants[name], shared=shared)
    if name in PEER_SYSTEMS:
        return PEER_SYSTEMS[name]()
    raise ValueError(f"unknown system {name!r} (known: {', '.join(ALL_SYSTEMS)}, or a --variant)")


def evaluate(system, dataset: Dataset, form: str, k: int = K) -> tuple[dict[str, float], list[dict]]:
    """Run every query of ``dataset`` in ``form`` through ``system.search``."""
    per_query, times, rows = [], [], []
    if dataset.queries:
        system.search(query_form(dataset.queries[0].text, form), k)   # warm-up, untimed
    for q in dataset.queries:
        text = query_form(q.text, form)
        started = time.perf_counter()
        retrieved = system.search(text, k)
        times.append((time.perf_counter() - started) * 1000)
        ranks = relevant_ranks(retrieved, q.relevant, k)
        per_query.append(query_metrics(ranks, len(q.relevant)))
        rows.append({"qid": q.id, "query": text, "rank": ranks[0] + 1 if ranks else None,
                     "top": list(retrieved[:k]), "ms": round(times[-1], 2)})
    return aggregate(per_query, times), rows


def run_dataset(dataset: Dataset, systems: Sequence[str], forms: Sequence[str],
                variants: dict[str, dict[str, float]] | None = None,
                log: Callable[[str], None] | None = None,
                on_result: Callable[[RunResult], None] | None = None) -> list[RunResult]:
    variants = variants or {}
    shared: list[OursIndex] = []
    code = indexer_fingerprint() if any(name not in PEER_SYSTEMS for name in systems) else ""

    def shared_index() -> OursIndex:
        if not shared:
            shared.append(OursIndex(dataset.corpus_path))
        return shared[0]

    results = []
    try:
        for name in systems:
            system = make_system(name, variants, shared_index)
            try:
                started = time.perf_counter()
                if isinstance(system, Ours):
                    system.index(dataset.docs, dataset.corpus_path)
                    index_s = system.index_seconds
                else:
                    system.index(dataset.docs)
                    index_s = time.perf_counter() - started
                if log:
                    log(f"{dataset.name}: {name} indexed {len(dataset.docs)} docs in {index_s:.1f}s")
                for form in forms:
                    started = time.perf_counter()
                    metrics, rows = evaluate(system, dataset, form)
                    results.append(RunResult(dataset.name, name, form, len(dataset.queries),
                                             len(dataset.docs), index_s, metrics, rows,
                                             code if isinstance(system, Ours) else ""))
                    if on_result:
                        on_result(results[-1])
                    if log:
                        log(f"{dataset.name}: {name} {form}: MRR@10 {metrics['MRR@10']:.4f} "
                            f"({time.perf_counter() - started:.1f}s)")
            finally:
                system.close()
    finally:
        for built in shared:
            built.close()
    return results


def format_table(results: Sequence[RunResult]) -> str:
    head = ["dataset", "system", "form", "queries", "MRR@10", "R@1", "R@10", "nDCG@10", "p50 ms", "p95 ms"]
    rows = [[r.dataset, r.system, r.form, str(r.n_queries),
             *(f"{r.metrics[m]:.3f}" for m in METRICS),
             f"{r.metrics['p50_ms']:.2f}", f"{r.metrics['p95_ms']:.2f}"] for r in results]
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]
    left = {0, 1, 2}

    def line(cells):
        return "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    out = [line(head), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def _csv(value: str, allowed: Iterable[str] | None = None) -> list[str]:
    items = [x.strip() for x in value.split(",") if x.strip()]
    if allowed is not None:
        bad = [x for x in items if x not in allowed]
        if bad:
            raise argparse.ArgumentTypeError(f"unknown: {', '.join(bad)} (choose from {', '.join(allowed)})")
    return items


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("datasets", nargs="+", type=Path, metavar="DATASET_DIR")
    ap.add_argument("--limit", type=int, default=None, help="only the first N queries")
    ap.add_argument("--systems", default=",".join(ALL_SYSTEMS),
                    help=f"comma-separated (default: {','.join(ALL_SYSTEMS)}); variants are added")
    ap.add_argument("--forms", type=lambda v: _csv(v, FORMS), default=list(DEFAULT_FORMS),
                    help=f"comma-separated, of {','.join(FORMS)} (default: {','.join(DEFAULT_FORMS)})")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:K=V,...",
                    help="add system ours-NAME with fields of indexer.RankingSettings changed "
                         "(e.g. title_weight=0.5,k1=1.2; free_text_syllables=1; PHRASES=0)")
    ap.add_argument("--json-only", action="store_true", help="print only the JSON lines")
    ap.add_argument("--dump", type=Path, default=None, help="write per-query results (JSONL) here")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)

    try:
        variants = dict(parse_variant(v) for v in args.variant)
    except ValueError as e:
        ap.error(str(e))
    systems = _csv(args.systems) + [v for v in variants if v not in args.systems]
    for name in systems:
        if name not in ALL_SYSTEMS and name not in variants:
            ap.error(f"unknown system {name!r} (known: {', '.join(ALL_SYSTEMS)}, or a --variant)")

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    results: list[RunResult] = []
    dump = open(args.dump, "w", encoding="utf-8") if args.dump else None

    def on_result(r: RunResult) -> None:
        # Streamed as each (system, form) finishes, so a long run killed midway
        # keeps what it measured.
        if args.json_only:
            print(json.dumps(r.record(), ensure_ascii=False), flush=True)
        if dump:
            for row in r.per_query:
                dump.write(json.dumps({"dataset": r.dataset, "system": r.system, "form": r.form,
                                       **row}, ensure_ascii=False) + "\n")
            dump.flush()

    try:
        for directory in args.datasets:
            dataset = load_dataset(directory, args.limit)
            log(f"{dataset.name}: {len(dataset.docs)} docs, {len(dataset.queries)} queries")
            results.extend(run_dataset(dataset, systems, args.forms, variants, log, on_result))
    finally:
        if dump:
            dump.close()
    if not args.json_only:
        print(format_table(results))
        print()
        for r in results:
            print(json.dumps(r.record(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
