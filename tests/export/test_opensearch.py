"""``export_opensearch`` on a real index, without a cluster: the bulk files
parse and alternate, hold every live document once, split by size; the mapping
declares every field a document uses; each document's token fields read back
(through the ported char filter and tokenizer) as the index analyzer's tokens."""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path

import pytest

from indexer import build, export_opensearch
from indexer.export import MAPPING_FILE, ExportError
from indexer.export.aligned import Expansions, utf16_offsets
from indexer.export.opensearch import (DERIVED_FIELDS, STORED_FIELD_TYPES, SYLLABLES, WORDS, DocumentStats,
                                       document, field, mapping, opensearch_date)
from indexer.index import schema
from indexer.search.settings import RankingSettings
from tests.export.lucene import whitespace_tokens
from tests.export.test_aligned import index_tokens
from tests.support import open_engine  # noqa: F401  (fixture)

EXTRA = [
    {"id": "nfd-1", "title": unicodedata.normalize("NFD", "Ủy ban tỉnh Khánh Hòa"),
     "text": unicodedata.normalize("NFD", "Thủy điện Khánh Hòa xả lũ; đảng viên trực 24/24 giờ."),
     "date": "2021-10-05T08:30+0700", "source": "baokhanhhoa", "url": "https://example.vn/a?b=1"},
    {"id": "units-2", "title": "Đo đạc", "text": "Diện tích 4,71km2, cao 2,5m, nặng 23,5kg; tốc độ 12.300km/h.",
     "date": "2020-01-02"},
    # 144 characters (ids hold at most 200), 565 UTF-8 bytes: over OpenSearch's 512-byte _id
    {"id": "bài-" + "𡨸" * 140, "title": "Mã rất dài", "text": "Bài có mã dài hơn 512 byte."},
    {"id": "astral-3", "title": "Chữ Nôm 𠀧 🇻🇳", "text": "Chữ 𡨸 Nôm và biểu tượng 😀 của Việt Nam.",
     "date": "2019-12-31T23:59:59.123Z"},
]


@pytest.fixture
def corpus_dir(corpus_dir):
    (corpus_dir / "extra.jsonl").write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in EXTRA) + "\n",
                                            encoding="utf-8")
    return corpus_dir


def read_bulk(outdir: Path) -> list[list[dict]]:
    """The lines of each bulk file, parsed; fails on a line that is not JSON."""
    files = sorted(outdir.glob("bulk-*.ndjson"))
    assert files, "no bulk file written"
    out = []
    for path in files:
        raw = path.read_bytes()
        assert raw.endswith(b"\n"), f"{path.name}: the _bulk API needs a final newline"
        out.append([json.loads(line) for line in raw.decode("utf-8").split("\n")[:-1]])
    return out


def pairs(files: list[list[dict]]) -> list[tuple[dict, dict]]:
    result = []
    for lines in files:
        assert len(lines) % 2 == 0, "a file ends between an action and its document"
        for action, doc in zip(lines[::2], lines[1::2]):
            assert set(action) == {"index"} and set(action["index"]) == {"_index", "_id"}, action
            assert "index" not in doc
            result.append((action, doc))
    return result


@pytest.fixture
def exported(index_dir, tmp_path):
    outdir = tmp_path / "out"
    report = export_opensearch(index_dir, outdir, index_name="tin-tuc")
    return outdir, report


def test_bulk_lines_parse_alternate_and_hold_every_document_once(exported, index_dir, open_engine):
    outdir, report = exported
    docs = pairs(read_bulk(outdir))
    engine = open_engine(index_dir)
    assert len(docs) == report.documents == engine.stats()["documents"] == 5 + len(EXTRA)
    ids = [action["index"]["_id"] for action, _ in docs]
    assert len(set(ids)) == len(ids)
    assert all(len(i.encode("utf-8")) <= 512 for i in ids)
    assert "sha256-" + hashlib.sha256(EXTRA[2]["id"].encode()).hexdigest() in ids
    assert all(action["index"]["_index"] == "tin-tuc" for action, _ in docs)
    for action, doc in docs:
        assert doc[schema.ID_FIELD] == action["index"]["_id"] or len(doc[schema.ID_FIELD].encode()) > 512
        article = engine.get_article(doc[schema.ID_FIELD])
        assert article is not None
        assert (doc[schema.TITLE], doc[schema.BODY]) == (article["title"], article["text"])


def test_a_removed_article_is_not_exported(corpus_dir, index_dir, tmp_path):
    (corpus_dir / "extra.jsonl").write_text(json.dumps(EXTRA[0], ensure_ascii=False) + "\n", encoding="utf-8")
    build(index_dir, [corpus_dir], progress=False)        # deletes the other extra articles
    export_opensearch(index_dir, tmp_path / "out")
    ids = {action["index"]["_id"] for action, _ in pairs(read_bulk(tmp_path / "out"))}
    assert "nfd-1" in ids and not ids & {"units-2", "astral-3"}
    assert len(ids) == 6


@pytest.mark.parametrize("max_bytes", [1, 40_000, 150_000])
def test_bulk_files_are_split_at_the_size_given(index_dir, tmp_path, max_bytes):
    report = export_opensearch(index_dir, tmp_path / "out", max_bytes=max_bytes)
    files = read_bulk(tmp_path / "out")
    assert len(files) == len(report.bulk_files) > 1
    for path, lines in zip(sorted((tmp_path / "out").glob("bulk-*.ndjson")), files):
        assert path.stat().st_size <= max_bytes or len(lines) == 2, f"{path.name} is over the limit"
    assert sum(p.stat().st_size for p in (tmp_path / "out").glob("bulk-*.ndjson")) == report.bulk_bytes
    assert len(pairs(files)) == report.documents


def _properties(outdir: Path) -> tuple[dict, dict]:
    body = json.loads((outdir / MAPPING_FILE).read_text(encoding="utf-8"))
    return body, body["mappings"]["properties"]


def test_the_mapping_declares_every_field_a_document_uses(exported):
    outdir, report = exported
    body, properties = _properties(outdir)
    assert body["mappings"]["dynamic"] == "strict"
    used = {name for _, doc in pairs(read_bulk(outdir)) for name in doc}
    assert used <= set(properties), used - set(properties)
    assert {schema.DATE, schema.URL, schema.SOURCE} <= used
    assert properties[schema.DATE]["type"] == "date"
    assert properties[schema.SOURCE]["type"] == "keyword"
    assert properties[schema.URL]["index"] is False
    assert set(body["mappings"]["_source"]["excludes"]) == set(DERIVED_FIELDS)
    meta = body["mappings"]["_meta"]["vnsearch"]
    assert meta["documents"] == report.documents and meta["bulk_files"] == report.bulk_files
    assert meta["generation"].startswith("gen-")


def test_every_analyzer_filter_and_similarity_the_mapping_names_is_defined(exported):
    outdir, _ = exported
    body, properties = _properties(outdir)
    analysis = body["settings"]["analysis"]
    assert body["settings"]["index"]["similarity"]["default"] == {"type": "BM25", "k1": 0.9, "b": 0.6}
    for name, spec in properties.items():
        if spec["type"] == "text":
            assert spec["analyzer"] in analysis["analyzer"], name
            assert "similarity" not in spec, name         # combined_fields uses the default one only
    for name, analyzer in analysis["analyzer"].items():
        assert analyzer["tokenizer"] in {*analysis.get("tokenizer", {}), "whitespace"}, name
        assert set(analyzer.get("char_filter", [])) <= set(analysis["char_filter"]), name
        assert set(analyzer["filter"]) <= {*analysis["filter"], "lowercase", "asciifolding"}, name
    for text_field in schema.TEXT_FIELDS:
        assert properties[text_field]["term_vector"] == "with_positions_offsets"      # the fvh's highlighted field
        assert properties[field(text_field, SYLLABLES, schema.FOLDED)]["term_vector"] == "with_positions_offsets"
        assert properties[field(text_field, SYLLABLES, schema.FOLDED)]["index_phrases"] is True


def test_the_documents_tokens_are_the_index_analyzers_and_slice_the_original(exported):
    outdir, report = exported
    assert report.markers > 0, "no token needed a char-filter expansion: the rules are not exercised"
    body, properties = _properties(outdir)
    rules = body["settings"]["analysis"]["char_filter"]["vn_align"]["mappings"]
    max_len = body["settings"]["analysis"]["tokenizer"]["vn_whitespace"]["max_token_length"]
    checked = 0
    for _, doc in pairs(read_bulk(outdir)):
        for text_field in schema.TEXT_FIELDS:
            text = doc[text_field]
            units = utf16_offsets(text)
            back = {u: k for k, u in enumerate(units)} if units else None
            for unit in (SYLLABLES, WORDS):
                for form in schema.FORMS:
                    got = whitespace_tokens(doc[field(text_field, unit, form)], rules, max_len)
                    if back:
                        got = [(t, back[s], back[e]) for t, s, e in got]
                    assert got == index_tokens(text, unit, form), (doc[schema.ID_FIELD], text_field, unit, form)
                    checked += len(got)
    assert checked > 10_000


@pytest.mark.parametrize("stored, expected", [
    ("2020-07-14", "2020-07-14"),
    ("2020-07-14T06:55", "2020-07-14T06:55:00"),
    ("2020-07-14T06:55:40", "2020-07-14T06:55:40"),
    ("2021-10-05T08:30+0700", "2021-10-05T08:30:00+07:00"),
    ("2019-12-31T23:59:59.123Z", "2019-12-31T23:59:59.123Z"),
])
def test_dates_are_written_as_strict_date_optional_time(stored, expected):
    assert opensearch_date(stored) == expected


def test_a_stored_field_the_schema_gains_is_exported_and_mapped(monkeypatch):
    from indexer.export import opensearch
    names = opensearch.stored_field_names() + ["topic"]
    monkeypatch.setattr(opensearch, "stored_field_names", lambda: names)
    doc = document({schema.ID_FIELD: "x", schema.TITLE: "Thời sự", schema.BODY: "Tin thời sự.", "topic": "thoi-su"},
                   Expansions(), DocumentStats())
    assert doc["topic"] == "thoi-su"
    assert mapping(RankingSettings(), Expansions())["mappings"]["properties"]["topic"] == {"type": "keyword"}
    assert set(STORED_FIELD_TYPES) <= set(names)


@pytest.mark.parametrize("settings, message", [
    (RankingSettings(title_b=0.3), "one b"),
])
def test_settings_opensearch_cannot_express_are_refused(index_dir, tmp_path, settings, message):
    with pytest.raises(ExportError, match=message):
        export_opensearch(index_dir, tmp_path / "out", settings=settings)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["", "Tin", "tin tuc", "a/b", "a*"])
def test_bad_index_names_are_refused(index_dir, tmp_path, name):
    with pytest.raises(ExportError, match="index name"):
        export_opensearch(index_dir, tmp_path / "out", index_name=name)


def test_a_failed_export_leaves_nothing_behind(index_dir, tmp_path, monkeypatch):
    from indexer.export import files

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(files, "search_template", broken)
    with pytest.raises(RuntimeError):
        export_opensearch(index_dir, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")]
