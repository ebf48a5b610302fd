"""bench/export_check.py on the shipped corpus's index: no mismatch on a true
export, a mismatch reported (and exit 1) when a token field is tampered with."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bench_export_check", REPO / "bench" / "export_check.py")
export_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export_check)


def test_a_true_export_checks_clean(index_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["export_check.py", "--index-dir", str(index_dir), str(tmp_path / "out")])
    assert export_check.main() == 0
    result = json.loads(capsys.readouterr().out)
    assert result["documents"] == 5 and result["mismatch_count"] == 0 and result["tokens_checked"] > 10_000


def test_a_tampered_token_is_reported(index_dir, tmp_path):
    from indexer import export_opensearch

    export_opensearch(index_dir, tmp_path / "out")
    bulk = tmp_path / "out" / "bulk-0001.ndjson"
    lines = bulk.read_text(encoding="utf-8").split("\n")
    doc = json.loads(lines[1])
    doc["body_f"] = doc["body_f"].replace("dang", "dangg", 1)    # one token changed, offsets shifted
    lines[1] = json.dumps(doc, ensure_ascii=False)
    bulk.write_text("\n".join(lines), encoding="utf-8")
    result = export_check.check(tmp_path / "out")
    assert [m[:2] for m in result["mismatches"]] == [[doc["id"], "body"]]
