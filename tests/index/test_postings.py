"""The postings reader against Whoosh's own readers and against the analyzer."""

import numpy as np
import pytest

from indexer import SearchEngine, build
from indexer.index.postings import PostingsReader
from tests.support import make_corpus


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("postings")
    corpus = make_corpus(root)
    build(root / "index", [corpus])
    # a second segment with a deletion in the first: the shape an incremental update leaves
    (corpus / "doan-ket.txt").write_text("Tinh thần đoàn kết mới\n\nĐoàn kết là sức mạnh.\n", encoding="utf-8")
    (corpus / "moi.txt").write_text("Đảng ủy phường\n\nĐảng ủy phường họp bàn.\n", encoding="utf-8")
    build(root / "index", [corpus])
    with SearchEngine(root / "index") as engine:
        assert len(engine._searcher.reader().leaf_readers()) > 1      # the shape under test
        yield engine


def whoosh_postings(searcher, field, term):
    ids, weights = [], []
    try:
        m = searcher.postings(field, term)
    except Exception:
        return ids, weights
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return ids, weights


@pytest.mark.parametrize("field, term", [("body_f", "dang"), ("body_x", "đảng"), ("title_f", "dang"),
                                         ("body_f", "doan"), ("body_f", "ket"), ("body_x", "đảng_viên"),
                                         ("body_f", "khong-co-tu-nay")])
def test_decoded_postings_equal_whooshs(engine, field, term):
    searcher = engine._searcher
    postings = PostingsReader(searcher).postings(field, term)
    ids, weights = whoosh_postings(searcher, field, term)
    assert postings.docnums.tolist() == ids
    assert np.allclose(postings.weights, weights)
    assert not any(searcher.reader().is_deleted(d) for d in postings.docnums.tolist())


def test_field_lengths_equal_whooshs(engine):
    reader = engine._searcher.reader()
    lengths = PostingsReader(engine._searcher).field_lengths("body_f")
    live = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
    assert [int(lengths[d]) for d in live] == [reader.doc_field_length(d, "body_f") for d in live]


@pytest.fixture(scope="module")
def many_blocks(tmp_path_factory):
    """300 articles, so a common term's postings span several 128-posting
    blocks; then an update (a deletion and a second segment)."""
    import json
    root = tmp_path_factory.mktemp("blocks")
    corpus = root / "corpus"
    corpus.mkdir()

    def write(name, ids):
        lines = [json.dumps({"id": f"a{i}", "title": f"Bài {i}",
                             "text": ("Đảng viên họp. " if i % 3 == 0 else "") + ("Kho bạc mở cửa. " * (i % 4))
                                     + f"Đảng ủy xã số {i} đoàn kết."}, ensure_ascii=False) for i in ids]
        (corpus / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    write("a.jsonl", range(0, 200))
    write("b.jsonl", range(200, 300))
    build(root / "index", [corpus])
    write("b.jsonl", range(200, 290))      # b.jsonl re-indexed: its old documents deleted
    build(root / "index", [corpus])
    with SearchEngine(root / "index") as engine:
        yield engine


def analysed(searcher, field, term, docnums, astype):
    """The oracle: the term's positions or characters in each of ``docnums``,
    from Whoosh's own analyzer run again over the stored text."""
    from indexer.index.schema import text_field_of
    analyzer = searcher.schema[field].analyzer
    out = {}
    for d in docnums:
        text = searcher.stored_fields(d).get(text_field_of(field)) or ""
        found = [(t.pos, t.startchar, t.endchar) for t in analyzer(text, positions=True, chars=True)
                 if t.text == term]
        if found:
            out[d] = [f[0] for f in found] if astype == "positions" else found
    return out


@pytest.mark.parametrize("field, term, astype", [("body_f", "dang", "characters"), ("body_f", "kho", "characters"),
                                                 ("body_x", "viên", "positions"), ("body_f", "ket", "positions"),
                                                 ("title_f", "bai", "characters"), ("body_f", "khong-co", "positions"),
                                                 ("body_x", "đảng_viên", "characters"),
                                                 ("body_f", "doan_ket", "characters")])
@pytest.mark.parametrize("pick", ["all", "every 7th", "last few", "every 7th, read one by one"])
def test_positions_and_characters_equal_the_analyzers(many_blocks, field, term, astype, pick, monkeypatch):
    from indexer.index import codec
    if pick.endswith("one by one"):
        monkeypatch.setattr(codec, "ONE_READ_BYTES", 0)      # postings far apart: read separately
        pick = "every 7th"
    searcher = many_blocks._searcher
    live = [d for d in range(searcher.doc_count_all()) if not searcher.reader().is_deleted(d)]
    docnums = {"all": live, "every 7th": live[::7], "last few": live[-5:]}[pick]
    expected = analysed(searcher, field, term, docnums, astype)
    reader = PostingsReader(searcher)
    if term == "dang":
        assert len(reader.postings(field, term)) > 256          # a long list across segments
    if pick == "all" and term != "khong-co":
        assert expected                                         # the oracle finds the term
    assert reader.values(field, term, docnums, astype) == expected


@pytest.fixture(scope="module")
def phrase_share(tmp_path_factory):
    """300 articles with ``kho`` and ``bạc``: the 20 best-scored hold ``kho
    bạc`` many times, every 4th of the rest once, the others only apart."""
    import json
    root = tmp_path_factory.mktemp("share")
    corpus = root / "corpus"
    corpus.mkdir()
    lines = []
    for i in range(300):
        if i < 20:
            text = "Kho bạc mở cửa. " * 6
        elif i % 4 == 0:
            text = f"Kho bạc số {i} mở cửa."
        else:
            text = f"Bạc để trong kho số {i}."
        lines.append(json.dumps({"id": f"a{i}", "title": f"Bài {i}", "text": text}, ensure_ascii=False))
    (corpus / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build(root / "index", [corpus])
    with SearchEngine(root / "index") as engine:
        yield engine


@pytest.mark.parametrize("q", ['"kho bạc"', '"kho bac"'])
def test_an_estimated_phrase_total_is_not_extrapolated_from_the_best_hits(phrase_share, q, monkeypatch):
    from indexer.search import executor
    exact = 20 + len(range(20, 300, 4))
    monkeypatch.setattr(executor, "SAMPLE_EVERY", 64)     # every ~4th unchecked candidate
    first = phrase_share.search(q, hits_per_page=10)
    assert [h["id"] for h in first["hits"]] != [] and all(int(h["id"][1:]) < 20 for h in first["hits"])
    assert abs(first["totalHits"] - exact) <= 0.25 * exact     # the 20 best alone would say 300 × 20/32
    assert abs(phrase_share.search(q, page=3, hits_per_page=10)["totalHits"] - exact) <= 0.25 * exact
    assert phrase_share.count(q) == exact                 # every candidate verified, whatever the sample
    monkeypatch.setattr(executor, "SAMPLE_EVERY", 400)    # 400 ≥ 300: every candidate is checked
    assert phrase_share.search(q, hits_per_page=10)["totalHits"] == exact
