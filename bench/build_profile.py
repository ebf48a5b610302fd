#!/usr/bin/env python3
"""Where a build worker's time goes: cProfile of the first N articles through
one :class:`~indexer.index.inverter.SegmentInverter` (analysis, inversion,
the codec's writing), in this process.

Usage (from the repository root)::

    python bench/build_profile.py                 # 1,000 vietnews articles, top 25 functions
    python bench/build_profile.py --limit 300 --top 40 --data FILE.jsonl.gz

Prints the profile sorted by own time, then the share of the total spent
under ``analyze()`` (normalisation, segmentation, offsets) and the sizes of
the segment's files.
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import io
import json
import pstats
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from indexer.index import generations  # noqa: E402
from indexer.index.build import article_fields  # noqa: E402
from indexer.index.inverter import SegmentInverter  # noqa: E402
from indexer.index.schema import make_schema  # noqa: E402
from indexer.ingest.model import Article  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "vietnews" / "articles.jsonl.gz"


def read_articles(path: Path, limit: int) -> list[Article]:
    opener = gzip.open if path.suffix == ".gz" else open
    out = []
    with opener(path, "rt", encoding="utf-8") as f:
        for line in f:
            if len(out) >= limit:
                break
            d = json.loads(line)
            out.append(Article(id=str(d["id"]), title=d.get("title") or "", text=d["text"], date=None, url=None,
                               source=None, relpath="articles.jsonl"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"articles .jsonl(.gz) (default {DEFAULT_DATA})")
    ap.add_argument("--limit", type=int, default=1000, help="articles to index (default 1000)")
    ap.add_argument("--top", type=int, default=25, help="functions to print (default 25)")
    args = ap.parse_args(argv)
    articles = read_articles(args.data, args.limit)
    with tempfile.TemporaryDirectory() as root:
        gen = generations.new_generation(Path(root) / "index")
        inverter = SegmentInverter(generations.storage(gen), make_schema())
        profile = cProfile.Profile()
        started = time.process_time()
        profile.enable()
        for article in articles:
            inverter.add(article_fields(article))
        inverter.finish()
        profile.disable()
        cpu = time.process_time() - started
        sizes = {p.name.split(".", 1)[-1]: p.stat().st_size for p in gen.iterdir() if p.is_file()}
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(args.top)
    print(out.getvalue())
    total = stats.total_tt
    under = next((v[3] for k, v in stats.stats.items() if k[2] == "analyze"), 0.0)
    print(f"{len(articles)} articles, {cpu:.1f} CPU s profiled ({cpu / max(len(articles), 1) * 1000:.1f} ms each); "
          f"under analyze(): {under / total:.0%} of the profile")
    print("segment files (bytes):", json.dumps(dict(sorted(sizes.items()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
