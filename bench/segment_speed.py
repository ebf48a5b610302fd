"""Throughput of indexer.analysis.segment vs pyvi's ViTokenizer.tokenize, same text, same run.

    python bench/segment_speed.py                 # 2000 vietnews articles + one long document
    python bench/segment_speed.py --limit 500

Reads the shared corpus by path (JSON lines with "title"/"text"; never copied
into the repo).  Every output is checked: ``to_pyvi_string(t, segment(t))``
must equal ``ViTokenizer.tokenize(t)``; the script exits 1 on any difference.

Both engines are timed article by article, interleaved (alternating which goes
first), so load from other processes hits both alike.  The long document
(articles joined by newlines until it reaches --long-chars) shows pyvi's
quadratic output building against our linear pass.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import sys
import time
import unicodedata
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DEFAULT_PATH = "/work/shared/data/vietnews/articles.jsonl.gz"


def load_articles(path: str, limit: int) -> list[str]:
    texts = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in itertools.islice(f, limit):
            doc = json.loads(line)
            text = (doc.get("title") or "") + "\n" + (doc.get("text") or "")
            texts.append(unicodedata.normalize("NFC", text))
    return texts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--path", default=DEFAULT_PATH, help="articles.jsonl.gz")
    ap.add_argument("--limit", type=int, default=2000, help="articles to read (default 2000)")
    ap.add_argument("--long-chars", type=int, default=600_000,
                    help="size of the long document (default 600000; 0 to skip)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    from indexer.analysis.segment import segment, to_pyvi_string
    t_ours = time.perf_counter() - t0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        from pyvi import ViTokenizer
        t_pyvi = time.perf_counter() - t0
    print(f"import: indexer.analysis.segment {t_ours * 1000:.0f} ms, pyvi.ViTokenizer {t_pyvi * 1000:.0f} ms")

    texts = load_articles(args.path, args.limit)
    nchars = sum(map(len, texts))
    print(f"{len(texts)} articles, {nchars:,} chars (NFC), from {args.path}")

    def ours(t):
        return to_pyvi_string(t, segment(t))

    # Warm up both (caches, lazy paths) on a few articles, outside the timing.
    for t in texts[:20]:
        ViTokenizer.tokenize(t)
        ours(t)

    mismatches = 0
    tp = to = ts = 0.0
    clock = time.perf_counter
    for i, t in enumerate(texts):
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            if which == 0:
                c = clock()
                a = ViTokenizer.tokenize(t)
                tp += clock() - c
            else:
                c = clock()
                words = segment(t)
                c2 = clock()
                b = to_pyvi_string(t, words)
                c3 = clock()
                to += c3 - c
                ts += c2 - c
        if a != b:
            mismatches += 1
            if mismatches <= 3:
                print(f"MISMATCH in article {i}")
    print("\nper article (interleaved):")
    print(f"  pyvi ViTokenizer.tokenize         {nchars / tp:12,.0f} chars/s  ({tp:.2f} s)")
    print(f"  segment + to_pyvi_string          {nchars / to:12,.0f} chars/s  ({to:.2f} s)"
          f"  x{tp / to:.2f}")
    print(f"  segment (spans only)              {nchars / ts:12,.0f} chars/s  ({ts:.2f} s)"
          f"  x{tp / ts:.2f}")
    print(f"  identical outputs: {len(texts) - mismatches}/{len(texts)}")

    if args.long_chars > 0:
        parts, size = [], 0
        for t in itertools.cycle(texts):
            parts.append(t)
            size += len(t) + 1
            if size >= args.long_chars:
                break
        doc = "\n".join(parts)
        print(f"\none long document: {len(doc):,} chars ({len(parts)} articles joined by newlines)")
        c = clock()
        b = ours(doc)
        to_long = clock() - c
        c = clock()
        a = ViTokenizer.tokenize(doc)
        tp_long = clock() - c
        same = a == b
        if not same:
            mismatches += 1
        print(f"  pyvi ViTokenizer.tokenize         {len(doc) / tp_long:12,.0f} chars/s  ({tp_long:.2f} s)")
        print(f"  segment + to_pyvi_string          {len(doc) / to_long:12,.0f} chars/s  ({to_long:.2f} s)"
              f"  x{tp_long / to_long:.2f}")
        print(f"  identical output: {same}")

    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
