"""How far a phrase query's estimated ``totalHits`` is from the exact count.

    python bench/phrase_totals.py --index-dir /tmp/vnsearch-speed-XXXX/nall/index --queries 12

The phrase queries are the first ``--queries`` of ``bench/speed.py``'s mix
(same seed, drawn from the first 10,000 articles of the corpus the index was
built from: ``--corpus``, default a ``corpus`` directory beside the index).
Each is searched as the engine answers it (estimated total when it stops
verifying before the last candidate), then with every candidate verified
(exact). Prints one row per query and the ratio estimate ÷ exact.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import speed  # noqa: E402  (bench/speed.py: the query mix)
from indexer import SearchEngine  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--corpus", type=Path, help="default: INDEX_DIR/../corpus")
    ap.add_argument("--queries", type=int, default=12)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args(argv)
    corpus = args.corpus or args.index_dir.parent / "corpus"
    if not corpus.is_dir():
        raise SystemExit(f"no corpus directory {corpus}: pass --corpus")
    docs = list(speed.iter_docs(corpus, 10_000))
    mix = speed.make_query_mix(docs, 50, args.seed)
    queries = [q.text for q in mix if q.shape == "phrase"][:args.queries]
    engine = SearchEngine(args.index_dir)
    estimated = {}
    for q in queries:
        started = time.perf_counter()
        estimated[q] = (engine.search(q)["totalHits"], time.perf_counter() - started)
    print(f"{'query':<22} {'estimated':>9} {'exact':>7} {'ratio':>6} {'est. s':>7} {'exact s':>7}")
    logs = []
    for q in queries:
        started = time.perf_counter()
        exact = engine.count(q)                       # every candidate verified
        seconds = time.perf_counter() - started
        est, est_s = estimated[q]
        ratio = est / exact if exact else float("nan")
        if exact and est:
            logs.append(abs(math.log(ratio)))
        print(f"{q:<22} {est:>9,} {exact:>7,} {ratio:>6.2f} {est_s:>7.3f} {seconds:>7.3f}")
    if logs:
        print(f"mean |log ratio| {sum(logs) / len(logs):.2f} (x{math.exp(sum(logs) / len(logs)):.2f}), "
              f"worst x{math.exp(max(logs)):.2f}, {len(queries)} queries, {engine.stats()['documents']:,} documents")
    engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
