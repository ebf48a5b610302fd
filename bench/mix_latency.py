"""In-process latency of ``bench/speed.py``'s query mix on an existing index, and the RSS after it.

Usage (from the repository root)::

    python bench/mix_latency.py INDEX_DIR [--data ARTICLES.jsonl.gz] [--mix-articles 5000]
    PYTHONPATH=/path/to/other/checkout python bench/mix_latency.py INDEX_DIR   # another version of vnsearch

The mix is :func:`speed.make_query_mix` over the first ``--mix-articles``
articles of ``--data`` (50 queries a shape); every query runs once through
``SearchEngine.search(q, hits_per_page=10)`` after a short warm-up. Run two
versions of the code alternately on the same index to compare them: the
machine's load moves both alike.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import speed  # noqa: E402  (bench/speed.py: the mix and the corpus reader)


def rss_mb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmRSS"))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index_dir", type=Path)
    ap.add_argument("--data", type=Path, default=speed.DEFAULT_DATA, help="articles .jsonl(.gz) the mix is drawn from")
    ap.add_argument("--mix-articles", type=int, default=5000, help="articles the mix is drawn from (default 5000)")
    args = ap.parse_args(argv)
    import indexer
    from indexer import SearchEngine
    engine = SearchEngine(args.index_dir)
    docs = list(speed.iter_docs(args.data, args.mix_articles))
    mix = speed.make_query_mix(docs, 50)
    del docs
    engine.search("hà nội")
    engine.search("ha noi")
    by_shape: dict[str, list[float]] = {}
    for query in mix:
        started = time.perf_counter()
        engine.search(query.text, hits_per_page=10)
        by_shape.setdefault(query.shape.split("/")[0], []).append((time.perf_counter() - started) * 1000)
    every = [ms for values in by_shape.values() for ms in values]
    print(f"{indexer.__file__}: {len(every)} queries, p50 {percentile(every, .5)} ms, p95 {percentile(every, .95)} ms, "
          f"RSS {rss_mb()} MB")
    for shape, values in by_shape.items():
        print(f"  {shape:12s} p50 {percentile(values, .5):7.1f}  p95 {percentile(values, .95):7.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
