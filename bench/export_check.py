"""Export an index for OpenSearch and check every exported token against the
index's own analyzer, on real data and without a cluster.

    python bench/export_check.py --index-dir DIR OUTDIR

Runs ``vnsearch export opensearch`` (in-process: ``indexer.export_opensearch``),
then reads every bulk document back through the Python port of Lucene's
mapping char filter and whitespace tokenizer (``tests/export/lucene.py``, the
one the tests use) with the rules of the written ``mapping.json``, and compares
the tokens and their offsets with ``exact_analyzer()``/``folded_analyzer()`` on
the stored text. Prints one JSON line; exits 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer import export_opensearch  # noqa: E402
from indexer.export.aligned import PAD, utf16_offsets  # noqa: E402
from indexer.export.opensearch import SYLLABLES, WORDS, field  # noqa: E402
from indexer.index import schema  # noqa: E402
from tests.export.lucene import whitespace_tokens  # noqa: E402
from tests.export.test_aligned import index_tokens  # noqa: E402


def check(outdir: Path) -> dict:
    body = json.loads((outdir / "mapping.json").read_text(encoding="utf-8"))
    rules = body["settings"]["analysis"]["char_filter"]["vn_align"]["mappings"]
    max_len = body["settings"]["analysis"]["tokenizer"]["vn_whitespace"]["max_token_length"]
    out = {"documents": 0, "tokens_checked": 0, "mismatches": [], "texts": 0, "texts_not_nfc": 0,
           "aligned_strings_padded": 0}
    for path in sorted(outdir.glob("bulk-*.ndjson")):
        with open(path, encoding="utf-8") as f:
            for action_line in f:
                json.loads(action_line)
                doc = json.loads(next(f))
                out["documents"] += 1
                for text_field in schema.TEXT_FIELDS:
                    text = doc[text_field]
                    out["texts"] += 1
                    out["texts_not_nfc"] += not unicodedata.is_normalized("NFC", text)
                    units = utf16_offsets(text)
                    back = {u: k for k, u in enumerate(units)} if units else None
                    for unit in (SYLLABLES, WORDS):
                        for form in schema.FORMS:
                            aligned = doc[field(text_field, unit, form)]
                            out["aligned_strings_padded"] += PAD in aligned
                            got = whitespace_tokens(aligned, rules, max_len)
                            if back:
                                got = [(t, back[s], back[e]) for t, s, e in got]
                            out["tokens_checked"] += len(got)
                            if got != index_tokens(text, unit, form):
                                out["mismatches"].append([doc[schema.ID_FIELD], text_field, unit, form])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", required=True, type=Path)
    parser.add_argument("outdir", type=Path, help="a new or empty directory")
    args = parser.parse_args()
    started = time.perf_counter()
    report = export_opensearch(args.index_dir, args.outdir)
    exported = time.perf_counter() - started
    started = time.perf_counter()
    result = check(args.outdir)
    result.update(export_s=round(exported, 1), check_s=round(time.perf_counter() - started, 1),
                  bulk_files=len(report.bulk_files), bulk_mb=round(report.bulk_bytes / 1e6, 1),
                  markers=report.markers, dropped_tokens=report.dropped_tokens, generation=report.generation)
    result["mismatch_count"] = len(result["mismatches"])
    result["mismatches"] = result["mismatches"][:20]
    print(json.dumps(result, ensure_ascii=False))
    return 1 if result["mismatch_count"] or result["documents"] != report.documents else 0


if __name__ == "__main__":
    sys.exit(main())
