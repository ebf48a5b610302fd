"""Search over the seeds plus a few pinned articles: matching, ranking, snippets."""

import re
import unicodedata

import pytest

from indexer import QueryError, SearchEngine, build
from indexer.analysis import analyze, folded_form
from indexer.search.query import split_clauses, Clause
from tests.support import make_corpus

MARKED = re.compile(r"<mark>(.*?)</mark>")


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("search")
    corpus = make_corpus(root)
    build(root / "index", [corpus])
    with SearchEngine(root / "index") as engine:
        yield engine


def hit_ids(result):
    return [h["id"] for h in result["hits"]]


def marks(result):
    return [m for h in result["hits"] for m in MARKED.findall(h["_formatted"]["body"])]


def test_plain_query_finds_accented_text_and_marks_the_original(engine):
    result = engine.search("dang uy khoi")
    assert result["totalHits"] >= 5
    bodies = " ".join(h["_formatted"]["body"] for h in result["hits"])
    assert re.search(r"<mark>Đảng</mark> <mark>(ủy|uỷ)</mark>", bodies)
    assert set(marks(result)) <= {"Đảng", "đảng", "ĐẢNG", "ủy", "uỷ", "Ủy", "khối", "Khối", "KHỐI"}


@pytest.mark.parametrize("q", ["Đảng uỷ", "Đảng ủy", unicodedata.normalize("NFD", "Đảng ủy"), "đảng UỶ"])
def test_tone_placement_and_nfd_variants_give_the_same_hits(engine, q):
    reference = engine.search("Đảng ủy", hits_per_page=50)
    result = engine.search(q, hits_per_page=50)
    assert hit_ids(result) == hit_ids(reference)
    assert result["totalHits"] == reference["totalHits"]


def test_old_and_new_tone_spellings_are_both_marked_as_written(engine):
    result = engine.search("Đảng uỷ", hits_per_page=50)
    seed001 = engine.highlight_article("001_ff60be7de418aa3a", "Đảng uỷ")["body"]
    assert "<mark>Đảng</mark> <mark>uỷ</mark>" in seed001
    assert "<mark>Đảng</mark> <mark>ủy</mark>" in seed001
    assert "001_ff60be7de418aa3a" in hit_ids(result)


def test_quoted_phrase_matches_only_the_phrase(engine):
    result = engine.search('"đoàn kết"', hits_per_page=50)
    ids = hit_ids(result)
    assert "doan-ket" in ids and "doan-rieng" not in ids
    for hit in result["hits"]:
        text = engine.get_article(hit["id"])["text"].lower()
        assert "đoàn kết" in text
    assert "doan-rieng" in hit_ids(engine.search("đoàn kết", hits_per_page=50))


LONG_QUERY = 'Đoàn viên tham gia "đoàn kết" công việc tổng kết'   # 10 syllables


def test_a_long_query_is_free_text_its_quotes_are_punctuation(engine):
    assert "doan-rieng" not in hit_ids(engine.search('"đoàn kết" tổng kết', hits_per_page=50))
    result = engine.search(LONG_QUERY, hits_per_page=50)
    assert hit_ids(result)[0] == "doan-rieng"           # holds every word but not the phrase
    assert result["totalHits"] == engine.search(LONG_QUERY.replace('"', ""), hits_per_page=50)["totalHits"]


@pytest.mark.parametrize("q, tiered", [
    ("kho bạc tinh thần", True),
    ('"đoàn kết" tổng kết', True),
    ("một hai ba bốn năm sáu", True),
    ("một hai ba bốn năm sáu bảy", False),
    (LONG_QUERY, False),
])
def test_only_short_queries_put_documents_with_every_word_first(q, tiered):
    from indexer import RankingSettings
    from indexer.search.query import compile_query, parse
    settings = RankingSettings()
    compiled = compile_query(parse(q), settings)
    assert compiled.tiered is tiered
    assert bool(compiled.phrases) is (tiered and '"' in q)
    assert (sum(len(c.syllables) for c in parse(q)) < settings.free_text_syllables) is tiered


def test_a_long_query_ranks_by_score_alone(engine):
    scores = [h["_score"] for h in engine.search("Đảng uỷ khối cơ quan tổ chức hội nghị tổng kết công tác",
                                                 hits_per_page=50)["hits"]]
    assert len(scores) > 5 and scores == sorted(scores, reverse=True)


def test_phrase_marks_only_phrase_occurrences(engine):
    body = engine.highlight_article("doan-rieng", '"đoàn kết"')["body"]
    assert "<mark>" not in body


def test_exact_accents_rank_above_folded_matches(engine):
    ids = hit_ids(engine.search("bác", hits_per_page=50))
    assert ids.index("bac-ho") < ids.index("kho-bac")
    ids = hit_ids(engine.search("bạc", hits_per_page=50))
    assert ids.index("kho-bac") < ids.index("bac-ho")
    plain = hit_ids(engine.search("bac", hits_per_page=50))
    assert {"bac-ho", "kho-bac"} <= set(plain)


def test_documents_matching_all_words_rank_first_and_some_still_appear(engine):
    result = engine.search("kho bạc tinh thần", hits_per_page=50)
    ids = hit_ids(result)
    assert "kho-bac" in ids and "doan-ket" in ids      # each matches only some words
    # a word matches diacritic-insensitively (khó matches kho): compare folded syllables
    def folded_syllables(doc_id):
        article = engine.get_article(doc_id)
        text = article["title"] + "\n" + article["text"]
        return {folded_form(s.text) for s in analyze(text).syllables}

    everything = [i for i in ids if {"kho", "bac", "tinh", "than"} <= folded_syllables(i)]
    assert everything and ids[:len(everything)] == everything
    assert "kho-bac" not in everything


def test_title_weighs_more_than_body(engine):
    ids = hit_ids(engine.search("thanh niên", hits_per_page=50))
    assert ids[0] == "doan-rieng"


def test_exclusion(engine):
    with_all = set(hit_ids(engine.search("đoàn", hits_per_page=100)))
    without = set(hit_ids(engine.search("đoàn -thanh", hits_per_page=100)))
    assert "doan-rieng" in with_all and "doan-rieng" not in without
    assert without and without < with_all


@pytest.mark.parametrize("q", ['"', "(", "*", ":", 'đảng "viên', "đảng (", "-", "--", 'a"b', ")(*&^%$#@!",
                               "đảng:viên", '""', "- -"])
def test_malformed_syntax_never_errors(engine, q):
    result = engine.search(q)
    assert result["totalHits"] >= 0 and isinstance(result["hits"], list)


def test_lone_quote_reads_the_rest_as_words(engine):
    assert engine.search('đảng "viên')["totalHits"] == engine.search("đảng viên")["totalHits"]


@pytest.mark.parametrize("q", ["", "   ", "\n\t", None])
def test_an_empty_query_is_a_placeholder_search_newest_first(engine, q):
    result = engine.search(q, hits_per_page=100)
    assert result["totalHits"] == engine.stats()["documents"] == len(result["hits"])
    dated = [h["date"] for h in result["hits"] if h["date"]]
    assert dated and dated == sorted(dated, reverse=True)
    assert all(h["date"] for h in result["hits"][:len(dated)])          # undated ones last
    assert result["suggestion"] is None and not any(h["_related"] for h in result["hits"])


@pytest.mark.parametrize("page, per_page, code", [(0, 10, "invalid_page"), (1, -1, "invalid_hits_per_page"),
                                                  (1, 10_000, "invalid_hits_per_page")])
def test_bad_paging_is_a_clear_error(engine, page, per_page, code):
    with pytest.raises(QueryError) as e:
        engine.search("đảng", page=page, hits_per_page=per_page)
    assert e.value.code == code


def test_snippets_escape_article_html(engine):
    result = engine.search("mã độc")
    hit = next(h for h in result["hits"] if h["id"] == "hostile")
    formatted = hit["_formatted"]["title"] + hit["_formatted"]["body"]
    assert "<script>" not in formatted and "&lt;script&gt;" in formatted
    assert "<img" not in formatted
    assert re.sub(r"</?mark>", "", formatted).count("<") == 0


def test_query_html_is_never_reflected_raw(engine):
    result = engine.search("<script>alert(1)</script>")
    for hit in result["hits"]:
        assert "<script>" not in hit["_formatted"]["body"] + hit["_formatted"]["title"]


def test_did_you_mean_restores_accents_from_the_index(engine):
    assert engine.search("dang vien")["suggestion"] == "đảng viên"
    assert engine.search("doan ket")["suggestion"] == "đoàn kết"
    assert engine.search("đảng viên")["suggestion"] is None


def test_pagination_is_consistent(engine):
    first = engine.search("đảng", page=1, hits_per_page=2)
    second = engine.search("đảng", page=2, hits_per_page=2)
    assert first["totalHits"] == second["totalHits"] >= 5
    assert first["totalPages"] == -(-first["totalHits"] // 2)
    assert not set(hit_ids(first)) & set(hit_ids(second))
    everything = hit_ids(engine.search("đảng", hits_per_page=100))
    assert everything[:4] == hit_ids(first) + hit_ids(second)


def test_result_shape(engine):
    result = engine.search("đảng viên")
    assert set(result) == {"query", "hits", "totalHits", "totalPages", "page", "hitsPerPage", "relatedHits",
                           "totalHitsEstimated", "processingTimeMs", "suggestion"}
    hit = result["hits"][0]
    assert set(hit) == {"id", "title", "date", "topic", "source", "url", "tags", "_formatted", "_score", "_related"}
    assert set(hit["_formatted"]) == {"title", "body"}


def test_suggest_completes_without_accents(engine):
    completions = engine.suggest("dang v")
    assert "đảng viên" in completions
    assert all(c.startswith(("đ", "d")) for c in engine.suggest("đả"))


@pytest.mark.parametrize("q, expected", [
    ('a "b c" -d', [Clause("a"), Clause("b c", phrase=True), Clause("d", negated=True)]),
    ('x -"y z"', [Clause("x"), Clause("y z", phrase=True, negated=True)]),
    ('"open', [Clause("open")]),
    ("a-b", [Clause("a-b")]),
    ("nhiệt độ -5 độ C", [Clause("nhiệt độ -5 độ C")]),        # a negative number, not an exclusion
    ("F -35 -Mỹ", [Clause("F -35"), Clause("Mỹ", negated=True)]),
])
def test_query_syntax(q, expected):
    assert split_clauses(q) == expected


def test_after_a_refresh_the_old_accent_model_answers_until_the_new_one_is_built(tmp_path):
    import time
    corpus = make_corpus(tmp_path, extra=False)
    build(tmp_path / "index", [corpus])
    with SearchEngine(tmp_path / "index") as engine:
        assert engine.search("quynh luu")["suggestion"] != "quỳnh lưu"  # "quỳnh": not in the seeds
        old = engine.accent_model()
        (corpus / "quynh-luu.txt").write_text("Huyện Quỳnh Lưu\n\nQuỳnh Lưu là một huyện.\n", encoding="utf-8")
        build(tmp_path / "index", [corpus])
        assert engine.refresh()
        first = engine.search("quynh luu")
        assert hit_ids(first)[0] == "quynh-luu"                           # the new article, at once,
        assert first["suggestion"] != "quỳnh lưu"                         # before its vocabulary
        deadline = time.monotonic() + 30
        while engine.accent_model() is old and time.monotonic() < deadline:
            time.sleep(0.05)
        assert engine.accent_model() is not old
        assert engine.search("quynh luu")["suggestion"] == "quỳnh lưu"


def test_free_text_snippets_do_not_mark_near_ubiquitous_syllables(engine):
    n = engine._searcher.doc_count_all()
    postings = engine._postings

    def share(text):
        return len(postings.postings("body_f", folded_form(text))) / n

    long_query = "Đảng uỷ khối cơ quan tổ chức hội nghị tổng kết công tác của đảng viên"
    limit = max(engine.settings.highlight_max_share, min(share(w) for w in long_query.split()))   # the rarest stays
    common = [w for w in long_query.split() if share(w) > limit]
    assert common                                                 # the case under test exists
    marked = {m for h in engine.search(long_query)["hits"] for m in MARKED.findall(h["_formatted"]["body"])}
    assert marked and all(share(m) <= limit for m in marked)
    short = {m for h in engine.search(common[0])["hits"] for m in MARKED.findall(h["_formatted"]["body"])}
    assert folded_form(common[0]) in {folded_form(m) for m in short}    # a keyword query marks it


def test_an_engine_opened_after_a_warm_one_starts_with_its_models_until_the_index_changes(tmp_path):
    """What `vnsearch serve`'s master does before it forks its workers (webui/serve.py)."""
    corpus = make_corpus(tmp_path)
    build(tmp_path / "index", [corpus])
    with SearchEngine(tmp_path / "index") as warm:
        warm.warm()
        accents, phrases = warm.accent_model(), warm.phrase_model()
    with SearchEngine(tmp_path / "index") as worker:
        assert worker.accent_model() is accents and worker.phrase_model() is phrases
    (corpus / "moi.txt").write_text("Hợp tác xã Quỳnh Lưu\n\nHợp tác xã ở Quỳnh Lưu thu hoạch lúa.\n",
                                    encoding="utf-8")
    build(tmp_path / "index", [corpus])
    with SearchEngine(tmp_path / "index") as later:
        assert later.accent_model() is not accents and later.accent_model().df("quynh") > 0


class _Reader:
    def __init__(self, documents: int) -> None:
        self.documents = documents

    def doc_count_all(self) -> int:
        return self.documents

    def generation(self) -> int:
        return self.documents


@pytest.mark.parametrize("documents, rebuilt", [(1000, False), (1009, False), (1010, True), (990, True)])
def test_a_model_is_rebuilt_after_a_reopen_only_once_enough_documents_changed(documents, rebuilt, tmp_path,
                                                                              monkeypatch):
    from indexer.search import accents
    built = []
    keeper = accents.ModelKeeper(lambda reader: built.append(reader.documents) or f"model of {reader.documents}")
    assert keeper.get(1, _Reader(1000), tmp_path) == "model of 1000" and built == [1000]
    started = []
    monkeypatch.setattr(keeper, "_rebuild", lambda opening, generation: started.append(opening))
    monkeypatch.setattr(accents.threading, "Thread",
                        lambda target, args, **kw: type("T", (), {"start": lambda self: target(*args)})())
    assert keeper.get(2, _Reader(documents), tmp_path) == "model of 1000"     # the old one answers meanwhile
    assert started == ([2] if rebuilt else [])


def test_a_model_is_rebuilt_after_a_reopen_once_it_is_old(tmp_path, monkeypatch):
    from indexer.search import accents
    keeper = accents.ModelKeeper(lambda reader: "model")
    keeper.get(1, _Reader(1000), tmp_path)
    monkeypatch.setattr(accents.time, "monotonic", lambda: keeper._built_at + keeper.REBUILD_SECONDS + 1)
    started = []
    monkeypatch.setattr(keeper, "_rebuild", lambda opening, generation: started.append(opening))
    monkeypatch.setattr(accents.threading, "Thread",
                        lambda target, args, **kw: type("T", (), {"start": lambda self: target(*args)})())
    keeper.get(2, _Reader(1000), tmp_path)
    assert started == [2]
