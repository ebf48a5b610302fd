"""vnsearch's codec: postings stored once, still a Whoosh index that Whoosh searches."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.qparser import QueryParser

from indexer import build
from indexer.index import codec, generations
from indexer.index.schema import SCORED_FIELDS, text_field_of
from tests.support import make_corpus


@pytest.fixture(scope="module")
def whoosh_searcher(tmp_path_factory):
    """The shipped corpus (plus the test articles), then an update: a deletion
    and a second segment. Opened with Whoosh's own ``open_dir``, no vnsearch API."""
    root = tmp_path_factory.mktemp("codec")
    corpus = make_corpus(root)
    build(root / "index", [corpus])
    (corpus / "doan-ket.txt").write_text("Tinh thần đoàn kết mới\n\nĐoàn kết là sức mạnh của đảng viên.\n",
                                         encoding="utf-8")
    (corpus / "moi.txt").write_text("Đảng ủy phường\n\nĐảng ủy phường họp bàn với đảng viên.\n", encoding="utf-8")
    build(root / "index", [corpus])
    ix = whoosh_index.open_dir(str(generations.current_generation(root / "index")))
    with ix.searcher() as searcher:
        assert len(searcher.reader().leaf_readers()) > 1 and searcher.reader().has_deletions()   # the shape under test
        yield searcher


def tokens(searcher, field: str, docnum: int) -> list[tuple[str, int, int, int]]:
    """The oracle's view of a document: Whoosh's own analyzer (index mode)
    run again over the stored original, as (text, position, startchar, endchar)."""
    text = searcher.stored_fields(docnum).get(text_field_of(field)) or ""
    return [(t.text, t.pos, t.startchar, t.endchar)
            for t in searcher.schema[field].analyzer(text, positions=True, chars=True)]


def matches(searcher, q, docnum: int) -> bool:
    """Whether a parsed query matches a document, evaluated on the oracle's tokens."""
    if isinstance(q, wq.Term):
        return any(t[0] == q.text for t in tokens(searcher, q.fieldname, docnum))
    if isinstance(q, wq.Phrase):
        at = {}
        for text, pos, _, _ in tokens(searcher, q.fieldname, docnum):
            at.setdefault(text, set()).add(pos)
        starts = at.get(q.words[0], set())
        return any(all(p + k in at.get(w, set()) for k, w in enumerate(q.words)) for p in starts)
    if isinstance(q, wq.And):
        return all(matches(searcher, s, docnum) for s in q.subqueries)
    if isinstance(q, wq.Or):
        return any(matches(searcher, s, docnum) for s in q.subqueries)
    if isinstance(q, wq.Not):
        return not matches(searcher, q.query, docnum)
    raise AssertionError(f"the oracle does not know {q!r}")


QUERIES = ["dang", "đảng", "title_x:đảng", "title_f:dang", '"dang vien"', '"doan ket"', "doan ket",
           "kho OR bac", "kho AND NOT vien", "body_x:viên", '"kinh te"', "ha noi", '"dang uy phuong"',
           "body_x:đoàn_kết", "khongcotunay"]


@pytest.mark.parametrize("text", QUERIES)
def test_whooshs_own_searcher_answers_on_a_codec_written_index(whoosh_searcher, text):
    q = QueryParser("body_f", whoosh_searcher.schema).parse(text)
    found = {hit.docnum for hit in whoosh_searcher.search(q, limit=None)}
    reader = whoosh_searcher.reader()
    expected = {d for d in range(reader.doc_count_all()) if not reader.is_deleted(d) and matches(whoosh_searcher, q, d)}
    assert found == expected
    if text != "khongcotunay":
        assert expected, "the query matches nothing: not a test of the codec"


@pytest.mark.parametrize("field", SCORED_FIELDS)
def test_whooshs_matcher_gives_the_analyzers_positions_and_characters(whoosh_searcher, field):
    """Every term of a field in every live document: frequency, positions and
    (where the format has them) characters equal the re-analysed text's."""
    reader = whoosh_searcher.reader()
    expected: dict[tuple[str, int], list] = {}
    for d in range(reader.doc_count_all()):
        if not reader.is_deleted(d):
            for text, pos, start, end in tokens(whoosh_searcher, field, d):
                expected.setdefault((text, d), []).append((pos, start, end))
    got: dict[tuple[str, int], list] = {}
    chars = whoosh_searcher.schema[field].format.supports("characters")
    for tbytes in reader.lexicon(field):
        m = reader.postings(field, tbytes)
        while m.is_active():
            value = m.value_as("characters") if chars else [(p, None, None) for p in m.value_as("positions")]
            assert m.weight() == len(value)
            got[(tbytes.decode(), m.id())] = value
            m.next()
    if not chars:
        expected = {k: [(p, None, None) for p, _, _ in v] for k, v in expected.items()}
    assert got == expected and len(got) > (500 if field.startswith("body") else 100)


def test_a_merge_of_codec_segments_keeps_every_posting(tmp_path):
    """Whoosh merges segments by reading them through the codec's matcher and
    writing them through its field writer: an optimize keeps every search's answer."""
    corpus = make_corpus(tmp_path)
    build(tmp_path / "index", [corpus])
    (corpus / "moi.txt").write_text("Đảng ủy phường\n\nĐảng ủy phường họp bàn.\n", encoding="utf-8")
    build(tmp_path / "index", [corpus])
    gen = generations.current_generation(tmp_path / "index")
    ix = whoosh_index.open_dir(str(gen))
    queries = [QueryParser("body_f", ix.schema).parse(t) for t in ('"dang uy"', "kho bac", "title_x:đảng")]
    with ix.searcher() as s:
        assert len(s.reader().leaf_readers()) > 1
        before = [sorted(s.stored_fields(h.docnum)["id"] for h in s.search(q, limit=None)) for q in queries]
    writer = generations.new_writer(gen)
    writer.commit(optimize=True)
    ix = whoosh_index.open_dir(str(gen))
    with ix.searcher() as s:
        assert len(s.reader().leaf_readers()) == 1
        after = [sorted(s.stored_fields(h.docnum)["id"] for h in s.search(q, limit=None)) for q in queries]
    assert after == before and all(before)


@pytest.mark.parametrize("values, code", [([], 0), ([0, 255], 0), ([256], 1), ([65535], 1), ([65536], 2),
                                          ([2 ** 32 - 1], 2)])
def test_the_narrowest_width_is_chosen(values, code):
    assert codec.width_code(np.asarray(values, dtype=np.int64)) == code


def test_a_value_beyond_32_bits_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        codec.width_code(np.asarray([2 ** 32]))


@pytest.mark.parametrize("positions, freqs", [([3, 7, 0, 1, 900], [2, 3]), ([5], [1]), ([0, 70000, 70001], [3]),
                                              ([4, 9, 2], [1, 1, 1])])
def test_positions_split_and_join_back(positions, freqs):
    positions, freqs = np.asarray(positions, np.int64), np.asarray(freqs, np.int64)
    firsts, later = codec.split_positions(positions, freqs)
    assert len(firsts) == len(freqs) and len(later) == len(positions) - len(freqs) and (later > 0).all()
    joined = codec.join_positions(firsts, later, freqs)
    assert joined.tolist() == positions.tolist()


@pytest.mark.parametrize("term, positions, expected", [
    ("đảng", [0, 2], [(0, 0, 4), (2, 13, 17)]),
    ("đảng_viên", [2], [(2, 13, 22)]),          # a pyvi word spans its syllables
    ("ủy_ban_nhân", [1], [(1, 5, 22)]),        # three syllables: 1 to 3
])
def test_characters_come_from_the_syllable_offsets(term, positions, expected):
    # four syllables, as (starts, ends): 0-4, 5-7, 13-17, 18-22
    spans = (np.array([0, 5, 13, 18]), np.array([4, 7, 17, 22]))
    assert codec.characters(np.asarray(positions), term, spans) == expected


def test_a_file_that_is_not_the_codecs_is_refused(tmp_path):
    path = tmp_path / "x.vnpost"
    path.write_bytes(b"VNPOST02" + b"\0" * 64)
    with pytest.raises(ValueError, match="not a vnsearch file of this version"):
        codec.PostingsFile(codec._Blob.at(path)).find("body_f", b"dang")


def test_every_segment_has_offsets_and_columns_for_each_of_its_documents(whoosh_searcher):
    from indexer.index import columns
    for leaf, _ in whoosh_searcher.reader().leaf_readers():
        postings = codec.open_postings(leaf)
        postings.spans(0, "body")                      # loads the offsets table
        assert len(postings._offsets[0]) == 2 * leaf.doc_count_all()     # title and body of each document
        folder, segment_id = codec._location(leaf)
        docs, _ = columns.decode((folder / f"{segment_id}{columns.SUFFIX}").read_bytes())
        assert docs == leaf.doc_count_all()
        postings.close()


def test_the_term_table_is_8_byte_aligned_in_the_file(whoosh_searcher):
    """numpy's binary search copies a misaligned array first: a lookup would cost a table copy."""
    for leaf, _ in whoosh_searcher.reader().leaf_readers():
        folder, segment_id = codec._location(leaf)
        blob = codec._Blob.at(folder / f"{segment_id}.vnpost")
        at, n = blob.footer(codec.MAGIC)
        blob.close()
        assert n and at % 8 == 0


@pytest.mark.parametrize("terms", [
    [([3], [1], [[7]])],                                                # one posting, one position
    [([0, 5, 300], [2, 1, 3], [[1, 9], [70000], [0, 2, 65536 * 300]]),   # every width
     ([1], [1], [[4]]), ([2, 3], [1, 2], [[5], [6, 8]])],
    [([7, 9], [4, 1], None), ([70000], [2], None)],                     # no positions (an ID field)
])
def test_records_decode_back_to_what_was_encoded(terms):
    """decode_records (the merge's reader) is the inverse of the writer's encoding, over many terms at once."""
    positional = terms[0][2] is not None
    counts = np.array([len(ids) for ids, _, _ in terms])
    ids = np.concatenate([np.array(i) for i, _, _ in terms])
    freqs = np.concatenate([np.array(f) for _, f, _ in terms])
    starts = np.cumsum(counts) - counts
    gaps = ids - np.concatenate(([0], ids[:-1]))
    gaps[starts] = ids[starts]
    components = [(gaps, counts), (freqs, counts)]
    npos = np.zeros(len(terms), np.int64)
    positions = None
    if positional:
        positions = np.concatenate([np.array(p) for _, _, per in terms for p in per])
        npos = np.array([sum(map(len, per)) for _, _, per in terms])
        firsts, later = codec.split_positions(positions, freqs)
        components += [(firsts, counts), (later, npos - counts)]
    (raw, sizes), codes = codec.VnFieldWriter._encode(components, len(terms))
    assert codec.record_sizes(counts, npos, codes).tolist() == sizes.tolist()
    blob = np.frombuffer(b"pad" + raw, np.uint8)
    got_ids, got_freqs, got_positions = codec.decode_records(blob, 3 + np.cumsum(sizes) - sizes, counts, npos, codes)
    assert got_ids.tolist() == ids.tolist() and got_freqs.tolist() == freqs.tolist()
    assert (got_positions is None) if not positional else got_positions.tolist() == positions.tolist()
