"""The search parameters of the JSON API (GET and POST /api/search): filters, sort,
facets, placeholder search, both paginations, attributes, honest counts, unknown
parameters. Every response is validated against the OpenAPI document (``api``)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from indexer import fold
from indexer.ingest import parse_txt
from tests.support import SEEDS
from tests.web.test_api import ValidatingClient, assert_error

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "faceted.jsonl"
ARTICLES = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
#: every indexed text: the fixture's articles and the seed pages (the corpus of ``corpus_dir``)
TEXTS = {a["id"]: a["title"] + "\n" + a["text"] for a in ARTICLES} | {
    art.id: art.title + "\n" + art.text for art in (parse_txt(p.read_text(encoding="utf-8"), p.name) for p in SEEDS)}


@pytest.fixture
def corpus_dir(corpus_dir):
    shutil.copy(FIXTURE, corpus_dir / "faceted.jsonl")
    return corpus_dir


@pytest.fixture
def api(client):
    return ValidatingClient(client)


def _syllables(text: str) -> set[str]:
    return set(re.findall(r"\w+", fold(text).lower()))


def _search(api, method="GET", **params):
    if method == "POST":
        response = api.post("/api/search", json=params)
    else:
        response = api.get("/api/search", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_acceptance_placeholder_newest_first_with_a_facet_distribution(api):
    data = _search(api, q="", sort="date:desc", facets="topic", hitsPerPage=100)
    dates = [h["date"] for h in data["hits"] if h["date"]]
    assert dates == sorted(dates, reverse=True) and data["hits"][0]["id"] == "tt-1"
    expected: dict[str, int] = {}
    for a in ARTICLES:
        if a["topic"]:
            expected[a["topic"]] = expected.get(a["topic"], 0) + 1
    assert data["facetDistribution"] == {"topic": expected}
    assert list(data["facetDistribution"]["topic"])[0] == "Thể thao"       # most frequent first


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_acceptance_filter_returns_only_such_hits_and_their_count(api, method):
    data = _search(api, method, q="", filter='topic = "Thể thao" AND date >= 2020-01-01', hitsPerPage=100)
    expected = {a["id"] for a in ARTICLES if a["topic"] == "Thể thao" and (a["date"] or "") >= "2020-01-01"}
    assert {h["id"] for h in data["hits"]} == expected and data["totalHits"] == len(expected) == 3
    assert all(h["topic"] == "Thể thao" and h["date"] >= "2020" for h in data["hits"])


@pytest.mark.parametrize("query", ["?q=a&bogus=1", "?q=dang&hitsperpage=2", "?sort_by=date"])
def test_acceptance_an_unknown_parameter_is_a_400(api, query):
    response = api.get("/api/search" + query)
    assert_error(response, 400, "unknown_parameter")
    name = re.search(r"[?&](\w+)=", query.replace("q=a&", "").replace("q=dang&", "")).group(1)
    assert f"`{name}`" in response.get_json()["error"]["message"]


def test_an_unknown_field_of_a_post_body_is_a_400(api):
    assert_error(api.post("/api/search", json={"q": "bóng đá", "filters": "topic = Xe"}), 400, "unknown_parameter")


def test_post_answers_what_get_answers(api):
    params = {"q": "bong da", "filter": "source = VnExpress", "sort": "date:asc", "facets": "topic,tags"}
    get = _search(api, **params)
    post = _search(api, "POST", q="bong da", filter="source = VnExpress", sort=["date:asc"],
                   facets=["topic", "tags"])
    for answer in (get, post):
        answer.pop("processingTimeMs")
    assert get == post and get["hits"]


def test_json_carries_vietnamese_as_utf8_not_escapes(client):
    raw = client.get("/api/search", query_string={"q": "", "facets": "topic"}).get_data()
    assert "Thể thao".encode("utf-8") in raw and b"\\u" not in raw


@pytest.mark.parametrize("expression, position", [
    ('topic = "Thể thao" AND', "22:23"),      # the end: its last character
    ("topic = ", "8:9"),
    ("bogus = 1", "1:6"),
    ("date >= 2020-13-01", "9:19"),
    ("topic > Xe", "1:11"),
    ("(topic = Xe", "11:12"),
    ("topic IN [Xe Du]", "14:16"),
    ("topic = 'Xe", "9:12"),
    ("topic = Xe source = VnExpress", "12:30"),
])
def test_a_malformed_filter_is_a_400_pointing_at_the_position(api, expression, position):
    response = api.get("/api/search", query_string={"q": "", "filter": expression})
    assert_error(response, 400, "invalid_search_filter")
    message = response.get_json()["error"]["message"]
    assert message.endswith(f"\n{position} {expression}"), message


def test_array_filters_or_inside_and_outside(api):
    data = _search(api, "POST", filter=[["topic = 'Giáo dục'", "topic = 'Sức khỏe'"], "source = 'Tuổi Trẻ'"],
                   hitsPerPage=100)
    expected = {a["id"] for a in ARTICLES if a["topic"] in ("Giáo dục", "Sức khỏe") and a["source"] == "Tuổi Trẻ"}
    assert {h["id"] for h in data["hits"]} == expected == {"gd-1", "sk-2"}


def test_repeated_filter_parameters_must_all_hold(api):
    data = _search(api, filter=["tags = 'bóng đá'", "date < 2023-01-31"], hitsPerPage=100)
    assert {h["id"] for h in data["hits"]} == {"tt-2"}


def test_offset_limit_answer_with_estimated_total_hits(api):
    page = _search(api, q="", hitsPerPage=4, page=2, sort="date:asc")
    window = _search(api, q="", offset=4, limit=4, sort="date:asc")
    assert {"offset", "limit", "estimatedTotalHits"} <= set(window) and "totalPages" not in window
    assert {"page", "hitsPerPage", "totalHits", "totalPages"} <= set(page) and "offset" not in page
    assert [h["id"] for h in page["hits"]] == [h["id"] for h in window["hits"]]
    assert window["estimatedTotalHits"] == page["totalHits"]


def test_hits_per_page_zero_counts_without_hits(api):
    data = _search(api, q="", hitsPerPage=0, facets="source")
    assert data["hits"] == [] and data["totalHits"] > 0 and data["totalPages"] == 0
    assert data["facetDistribution"]["source"] == {"VnExpress": 5, "Tuổi Trẻ": 5}


def test_attributes_to_retrieve_and_highlight_tags(api):
    data = _search(api, q="bóng chuyền", attributesToRetrieve="id,topic", highlightPreTag="<em>",
                   highlightPostTag="</em>")
    hit = data["hits"][0]
    assert set(hit) == {"id", "topic", "_formatted", "_score", "_related"}
    assert "<em>bóng</em>" in hit["_formatted"]["title"].lower() and "<mark>" not in hit["_formatted"]["body"]
    plain = _search(api, q="bóng chuyền", attributesToHighlight="title")
    assert "<mark>" in plain["hits"][0]["_formatted"]["title"] and "<mark>" not in plain["hits"][0]["_formatted"]["body"]


def test_crop_length_gives_one_short_snippet(api):
    data = _search(api, q="huy chương", cropLength=5)
    body = data["hits"][0]["_formatted"]["body"]
    assert "huy chương" in re.sub("</?mark>", "", body) and len(re.sub("</?mark>|…", "", body).split()) <= 6


@pytest.mark.parametrize("q", ["bầu cử thủ tướng", "bau cu thu tuong", "bóng đá Việt Nam"])
def test_honest_counts_documents_matching_every_word_first_then_related(api, q, index_dir):
    data = _search(api, q=q, hitsPerPage=100)
    wanted = _syllables(q)
    complete = {doc for doc, text in TEXTS.items() if wanted <= _syllables(text)}
    assert complete and data["totalHits"] == len(complete)
    ids = [h["id"] for h in data["hits"]]
    assert set(ids[:len(complete)]) == complete
    assert [h["_related"] for h in data["hits"]] == [False] * len(complete) + [True] * data["relatedHits"]
    assert data["relatedHits"] == len(ids) - len(complete) > 0
    assert data["totalPages"] == 1 and data["totalHitsEstimated"] is False
    strict = _search(api, q=q, hitsPerPage=100, matchingStrategy="all")
    assert [h["id"] for h in strict["hits"]] == ids[:len(complete)] and strict["relatedHits"] == 0


def test_sort_by_date_keeps_the_all_words_tier_first(api):
    data = _search(api, q="bóng đá Việt Nam", sort="date:desc", hitsPerPage=100)
    complete = [h for h in data["hits"] if not h["_related"]]
    assert [h["date"] for h in complete] == sorted((h["date"] for h in complete), reverse=True)
    assert data["hits"][:len(complete)] == complete


@pytest.mark.parametrize("params, code", [
    ({"sort": "title:asc"}, "invalid_search_sort"),
    ({"sort": "date:up"}, "invalid_search_sort"),
    ({"facets": "url"}, "invalid_search_facets"),
    ({"attributesToRetrieve": "body"}, "invalid_search_attributes_to_retrieve"),
    ({"offset": "-1"}, "invalid_search_offset"),
    ({"limit": "101"}, "invalid_search_limit"),
    ({"cropLength": "0"}, "invalid_search_crop_length"),
    ({"matchingStrategy": "frequency"}, "invalid_search_matching_strategy"),
])
def test_bad_search_parameters_are_400_with_meilisearch_codes(api, params, code):
    assert_error(api.get("/api/search", query_string={"q": "bóng đá", **params}), 400, code)


def test_post_needs_a_json_object(api):
    assert_error(api.post("/api/search", data="q=x", content_type="text/plain"), 415, "unsupported_media_type")
    assert_error(api.post("/api/search", data="{", content_type="application/json"), 400, "invalid_json")
    assert_error(api.post("/api/search", json=["q"]), 400, "bad_request")
    assert_error(api.post("/api/search", json={"page": "2"}), 400, "invalid_page")


def test_meilisearch_routes_answer_in_the_documented_shapes(api):
    get = api.get("/indexes/articles/search", query_string={"q": "bóng đá", "facets": "topic"})
    post = api.post("/indexes/articles/search", json={"q": "bóng đá", "facets": ["topic"]})
    for response in (get, post):
        assert response.status_code == 200
        data = response.get_json()
        assert data["limit"] == 20 and data["offset"] == 0 and data["estimatedTotalHits"] > 0
    assert get.get_json()["hits"] == post.get_json()["hits"]
    for response, status, code in ((api.get("/indexes/movies/search?q=x"), 404, "index_not_found"),
                                   (api.post("/indexes/articles/search", json={"filter": "title = x"}), 400,
                                    "invalid_search_filter"),
                                   (api.get("/indexes/articles/settings"), 501, "feature_not_supported")):
        assert response.status_code == status
        body = response.get_json()
        assert body["code"] == code and body["type"] and body["link"].endswith(code) and body["message"]
