"""The executor against a brute-force oracle: order, scores and totals.

The oracle re-analyzes every live document's stored title and body with the
index's own analyzers and scores BM25F straight from the formulas of
:mod:`indexer.search.scoring`'s docstring; it shares only the query model
with the executor (``engine.compile``), not its posting reads, masks or
phrase checks. Field lengths go through Whoosh's one-byte encoding, as the
index stores them.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict

import pytest
from whoosh.util.numeric import byte_to_length, length_to_byte

import indexer.search.executor as executor_module
from indexer import RankingSettings, SearchEngine, build
from indexer.analysis import exact_analyzer, folded_analyzer
from indexer.search.query import Query
from tests.support import make_corpus

ANALYZERS = {"exact": exact_analyzer(), "folded": folded_analyzer()}


class Oracle:
    def __init__(self, engine: SearchEngine) -> None:
        searcher = engine._searcher
        self.settings = engine.settings
        reader = searcher.reader()
        self.docs = [d for d in range(searcher.doc_count_all()) if not reader.is_deleted(d)]
        self.tf: dict[tuple[int, str, str], Counter] = {}           # (doc, field, form) -> term counts
        self.pos: dict[tuple[int, str, str], dict[str, set]] = {}   # (doc, field, form) -> term -> positions
        self.length: dict[tuple[int, str], float] = {}
        for d in self.docs:
            stored = searcher.stored_fields(d)
            for field in ("title", "body"):
                for form, analyzer in ANALYZERS.items():
                    tokens = [(t.text, t.pos) for t in analyzer(stored.get(field, ""), positions=True)]
                    self.tf[(d, field, form)] = Counter(text for text, _ in tokens)
                    where = defaultdict(set)
                    for text, p in tokens:
                        where[text].add(p)
                    self.pos[(d, field, form)] = where
                    if form == "folded":
                        self.length[(d, field)] = byte_to_length(length_to_byte(len(tokens)))
        n = len(self.docs)
        self.avg = {f: sum(self.length[(d, f)] for d in self.docs) / n for f in ("title", "body")}

    def bm25f(self, d: int, text: str, form: str) -> float:
        s = self.settings
        weight = {"title": s.title_weight, "body": s.body_weight}
        b = {"title": s.title_b, "body": s.body_b}
        df = sum(1 for e in self.docs if any(self.tf[(e, f, form)][text] for f in ("title", "body")))
        if not df:
            return 0.0
        idf = math.log(1 + (len(self.docs) - df + 0.5) / (df + 0.5))
        tf = sum(weight[f] * self.tf[(d, f, form)][text]
                 / ((1 - b[f]) + b[f] * self.length[(d, f)] / max(self.avg[f], 1.0)) for f in ("title", "body"))
        return idf * tf * (s.k1 + 1) / (tf + s.k1)

    def has(self, d: int, words: tuple[str, ...], form: str) -> bool:
        for f in ("title", "body"):
            where = self.pos[(d, f, form)]
            if any(all(p + k in where[w] for k, w in enumerate(words)) for p in where[words[0]]):
                return True
        return False

    def rank(self, q: Query) -> list[tuple[int, float]]:
        """Every match, best first: (docnum, score)."""
        out = []
        for d in self.docs:
            matched = sum(1 for t in q.keywords if self.has(d, (t.folded,), "folded"))
            if q.keywords and not matched:
                continue
            if not all(self.has(d, tuple(t.folded for t in p.terms), "folded") for p in q.phrases):
                continue
            if any(self.has(d, tuple(t.exact if e.exact else t.folded for t in e.terms),
                            "exact" if e.exact else "folded") for e in q.exclusions):
                continue
            score = 0.0
            for t in list(q.keywords) + [t for p in q.phrases for t in p.terms]:
                score += self.bm25f(d, t.folded, "folded")
                if q.exact_weight:
                    score += q.exact_weight * self.bm25f(d, t.exact, "exact")
            for w in q.words:
                form = "exact" if q.accented else "folded"
                score += self.settings.word_weight * self.bm25f(d, w.exact if q.accented else w.folded, form)
            tier = bool(q.tiered and q.keywords and matched == len(q.keywords))
            out.append((not tier, -score, d, score))
        return [(d, score) for _, _, d, score in sorted(out)]


EXTRA = [
    {"id": "x1", "title": "Kho bạc nhà nước", "text": "Kho bạc nhà nước Hà Nội mở cửa. Bạc và vàng giữ ở kho."},
    {"id": "x2", "title": "Bác Hồ", "text": "Bác Hồ về thăm Hà Nội. Nhà thơ viết về Bác."},
    {"id": "x3", "title": "", "text": "Đoàn kết, đoàn kết, đại đoàn kết. Thành công, thành công, đại thành công."},
    {"id": "x4", "title": "Đoàn kết là sức mạnh", "text": "Tinh thần đoàn kết của đảng viên ở thành phố."},
    {"id": "x5", "title": "Thành phố", "text": "Thành phố Hồ Chí Minh và thủ đô Hà Nội; thành, phố cổ."},
]


@pytest.fixture(scope="module", params=["one segment", "two segments with a deletion"])
def engine(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("oracle")
    corpus = make_corpus(root)
    (corpus / "extra.jsonl").write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in EXTRA) + "\n",
                                        encoding="utf-8")
    build(root / "index", [corpus])
    if request.param != "one segment":
        (corpus / "extra.jsonl").write_text("\n".join(json.dumps(a, ensure_ascii=False) for a in EXTRA[1:]) + "\n",
                                            encoding="utf-8")
        (corpus / "moi.txt").write_text("Đảng ủy phường\n\nĐảng ủy phường họp bàn kho bạc.\n", encoding="utf-8")
        build(root / "index", [corpus])
    with SearchEngine(root / "index") as engine:
        if request.param != "one segment":
            assert len(engine._searcher.reader().leaf_readers()) > 1 and engine._searcher.reader().has_deletions()
        yield engine


@pytest.fixture(scope="module")
def oracle(engine):
    return Oracle(engine)


QUERIES = [
    "đảng ủy", "dang uy khoi", "đoàn kết", "kho bạc tinh thần", "bác", "bạc", "Bác Hồ", "ha noi",
    "đoàn -thanh", "thành phố", "hà nội -bác", "Đảng ủy phường", "thanh cong",
    '"đoàn kết"', '"doan ket"', '"đảng ủy" khối', 'tinh thần "đoàn kết" dân chủ', '"kho bạc"',
    '"không có cụm này"', '"bạc nhà nước"', '"Đoàn viên" "tổng kết"', '"thành phố"',
    'đảng -"đoàn kết"', 'hà nội -"thành phố"', 'kho -"kho bạc"', 'bác -"bạc hà"', 'thanh -"thanh pho"',
    "Đảng uỷ khối cơ quan tổ chức hội nghị tổng kết công tác của đảng viên",
]


@pytest.mark.parametrize("q", QUERIES)
def test_order_scores_and_totals_equal_the_oracles(engine, oracle, q):
    query = engine.compile(q)
    docnums, scores, total = engine._executor.rank(query, 10_000)[:3]
    expected = oracle.rank(query)
    assert total == len(expected)
    assert docnums.tolist() == [d for d, _ in expected]
    assert scores.tolist() == pytest.approx([s for _, s in expected], rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("q", ['đảng -"đoàn kết"', 'kho -"kho bạc"', "hà nội -bác"])
def test_exclusions_remove_what_they_name(engine, oracle, q):
    """The oracle case is not vacuous: the query without its exclusion finds more."""
    positive = q.split(" -")[0]
    assert len(oracle.rank(engine.compile(q))) < len(oracle.rank(engine.compile(positive)))


@pytest.mark.parametrize("settings", [
    RankingSettings(title_weight=0.0), RankingSettings(title_weight=3.0, title_b=0.2),
    RankingSettings(k1=2.0, body_b=1.0, exact_weight=0.0), RankingSettings(word_weight=2.0, restored_weight=1.0),
])
def test_other_settings_rank_as_the_oracle_says(engine, settings):
    with SearchEngine(engine.index_dir, settings=settings) as other:
        oracle = Oracle(other)
        for q in ["đảng ủy", "Bác Hồ", "dang vien thanh pho", '"đoàn kết" đảng']:
            query = other.compile(q)
            docnums, scores, total = other._executor.rank(query, 10_000)[:3]
            expected = oracle.rank(query)
            assert docnums.tolist() == [d for d, _ in expected]
            assert scores.tolist() == pytest.approx([s for _, s in expected], rel=1e-6, abs=1e-9)


def test_a_short_title_word_does_not_outweigh_the_body(tmp_path):
    """BM25F's one saturation: ten pages titled "Hà Nội", one page about the
    query in its body; per-field BM25 summed put the titled pages first."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    filler = "Tin tức trong ngày về giao thông, thời tiết và giá cả thị trường ở các quận. " * 3
    rows = [{"id": f"t{i}", "title": "Hà Nội", "text": filler + f"Số {i}."} for i in range(10)]
    rows.append({"id": "body", "title": "Tin tức", "text": "Hà Nội mùa thu: lá vàng rơi khắp Hà Nội. " + filler})
    (corpus / "a.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n",
                                    encoding="utf-8")
    build(tmp_path / "index", [corpus])
    with SearchEngine(tmp_path / "index") as engine:
        assert engine.search("lá vàng Hà Nội")["hits"][0]["id"] == "body"


def _rankings(index_dir, settings, dense_share, monkeypatch):
    monkeypatch.setattr(executor_module, "DENSE_SHARE", dense_share)
    with SearchEngine(index_dir, settings=settings) as fresh:
        out = []
        for q in QUERIES:
            r = fresh._executor.rank(fresh.compile(q), 10_000)
            out.append((r.docnums.tolist(), r.scores.tolist(), r.total, r.complete))
        return out


@pytest.mark.parametrize("settings", [RankingSettings(), RankingSettings(title_weight=0.0)])
def test_dense_and_sparse_term_scores_rank_identically(engine, settings, monkeypatch):
    """A term scored as a dense array (common) or a sparse one gives the same
    float64 numbers: every query ranks the same whichever form its terms take
    (with a title weight of 0, a title-only holder still counts as one)."""
    every_term_dense = _rankings(engine.index_dir, settings, 0.0, monkeypatch)
    no_term_dense = _rankings(engine.index_dir, settings, 2.0, monkeypatch)
    assert every_term_dense == no_term_dense
    assert any(docnums for docnums, *_ in every_term_dense)
