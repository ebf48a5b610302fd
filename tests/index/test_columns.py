"""The per-segment columns (.vncol): written for every segment, read as arrays over the
searcher's global document numbers, right across segments, deletions and merges."""

from __future__ import annotations

import json

import numpy as np
import pytest

from indexer import SearchEngine, build
from indexer.index import columns, generations, schema, whoosh_internals


def _jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def _record(i: int, topic: str | None, source: str | None, date: str | None, tags=()):
    return {"id": f"a{i}", "title": f"Bài số {i}", "text": f"Nội dung bài số {i} về {topic or 'tin tức'}.",
            "topic": topic, "source": source, "date": date, "tags": list(tags)}


@pytest.mark.parametrize("value, expected", [
    ("2020-07-14", "2020-07-14T00:00:00"),
    ("2020-07-14T06:55", "2020-07-14T06:55:00"),
    ("2020-07-14T06:55:40+07:00", "2020-07-14T06:55:40"),        # the wall-clock time as written
    ("1999-12-31T23:59:59Z", "1999-12-31T23:59:59"),
])
def test_dates_are_seconds_of_the_time_as_written(value, expected):
    assert columns.iso_of_seconds(columns.date_seconds(value)) == expected


def test_encode_decode_round_trip():
    docs = [{"date": "2024-01-02", "topic": "Thể thao", "source": "VnExpress", "tags": ["bóng đá", "V-League"]},
            {"topic": "Giáo dục"}, {"date": "2019-05-01T08:00", "tags": ["tuyển sinh"], "source": "Tuổi Trẻ"}]
    count, cols = columns.decode(columns.encode(3, columns.columns_of(docs)))
    assert count == 3
    topic = cols["topic"]
    assert [topic["values"][c] if c >= 0 else None for c in topic["arrays"]["codes"]] == ["Thể thao", "Giáo dục", None]
    assert cols["tags"]["arrays"]["offsets"].tolist() == [0, 2, 2, 3]
    assert cols["date"]["arrays"]["data"][1] == columns.MISSING_DATE
    with pytest.raises(ValueError, match="not a vnsearch columns file"):
        columns.decode(b"VNCOL000" + b"\0" * 16)


def test_columns_follow_segments_and_deletions(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _jsonl(corpus / "a.jsonl", [_record(1, "Thể thao", "VnExpress", "2024-01-02", ["bóng đá"]),
                                _record(2, "Thời sự", "Tuổi Trẻ", "2023-05-06")])
    _jsonl(corpus / "b.jsonl", [_record(3, "Giáo dục", None, None, ["tuyển sinh", "đại học"])])
    index = tmp_path / "index"
    build(index, [corpus], full=True, progress=False)
    # a second segment, and a deletion in the first: a.jsonl re-indexed with one article changed
    _jsonl(corpus / "a.jsonl", [_record(1, "Thế giới", "VnExpress", "2025-03-04", ["bầu cử"]),
                                _record(2, "Thời sự", "Tuổi Trẻ", "2023-05-06")])
    _jsonl(corpus / "c.jsonl", [_record(4, "Thể thao", "Báo Mới", "2022-02-02")])
    build(index, [corpus], progress=False)
    gen = generations.current_generation(index)
    ix = generations.open_current(index)
    segments = whoosh_internals.segments(ix)
    assert len(segments) >= 2
    assert all(columns.column_path(gen, s.segment_id()).exists() for s in segments)

    with SearchEngine(index) as engine:
        cols, searcher = engine._columns, engine._searcher
        assert searcher.doc_count_all() > searcher.doc_count()                 # a deleted document is still there
        for docnum in range(searcher.doc_count_all()):
            stored = searcher.stored_fields(docnum)
            topic = cols.keyword(schema.TOPIC)
            assert (topic.values[topic.codes[docnum]] if topic.codes[docnum] >= 0 else None) == stored.get("topic")
            tags = cols.keyword(schema.TAGS)
            assert [tags.values[c] for c in tags.codes[tags.offsets[docnum]:tags.offsets[docnum + 1]]] == \
                list(stored.get("tags") or [])
        facets = engine.search("", facets=["topic", "tags"], hits_per_page=0)["facetDistribution"]
        assert facets["topic"] == {"Giáo dục": 1, "Thế giới": 1, "Thể thao": 1, "Thời sự": 1}  # the old one gone
        assert "bóng đá" not in facets["tags"] and facets["tags"]["bầu cử"] == 1
        assert {h["id"] for h in engine.search("", filter="topic = 'Thể thao'")["hits"]} == {"a4"}
        assert np.array_equal(cols.has_date(), cols.dates != columns.MISSING_DATE)
