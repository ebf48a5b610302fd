"""Meilisearch's own client against a real `vnsearch serve`: the official `meilisearch`
package searches, filters, sorts and counts facets at `/indexes/articles/search`
unchanged, and what vnsearch cannot do comes back as Meilisearch's errors."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.web.test_browser import Server
from tests.web.test_search_api import ARTICLES, FIXTURE

meilisearch = pytest.importorskip("meilisearch")
from meilisearch.errors import MeilisearchApiError  # noqa: E402


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("meili")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(FIXTURE, corpus / "faceted.jsonl")
    srv = Server(root, corpus=corpus)
    try:
        srv.wait_ready()
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def index(served):
    return meilisearch.Client(served.url, "any-key").index("articles")


def test_the_official_client_searches_filters_sorts_and_counts_facets(index):
    found = index.search("bong da", {"filter": "topic = 'Thể thao' AND date >= 2020-01-01",
                                     "sort": ["date:desc"], "facets": ["topic", "source", "date"]})
    chosen = [a for a in ARTICLES if a["topic"] == "Thể thao" and (a["date"] or "") >= "2020-01-01"]
    expected = [a for a in chosen if {"bóng", "đá"} <= set((a["title"] + " " + a["text"]).lower().split())]
    ids = [h["id"] for h in found["hits"]]
    assert ids[:len(expected)] == [a["id"] for a in sorted(expected, key=lambda a: a["date"], reverse=True)]
    assert all(h["_related"] for h in found["hits"][len(expected):])          # "bóng" alone: after them
    assert found["estimatedTotalHits"] == len(expected) and found["limit"] == 20 and found["offset"] == 0
    assert found["relatedHits"] == len(ids) - len(expected) > 0
    assert found["facetDistribution"]["topic"] == {"Thể thao": len(expected)}   # over the counted matches
    assert found["facetStats"]["date"]["max"].startswith("2024-11-20")
    hit = found["hits"][0]
    assert {"id", "title", "date", "topic", "source", "url", "tags", "_formatted"} <= set(hit)


def test_the_official_client_pages_and_placeholder_searches(index):
    page = index.search("", {"hitsPerPage": 3, "page": 2, "filter": [["source = VnExpress", "source = 'Tuổi Trẻ'"]]})
    dated = [a for a in ARTICLES if a["source"]]
    assert page["totalHits"] == len(dated) and page["totalPages"] == -(-len(dated) // 3) and len(page["hits"]) == 3
    newest = sorted(dated, key=lambda a: a["date"], reverse=True)
    assert [h["id"] for h in page["hits"]] == [a["id"] for a in newest[3:6]]


@pytest.mark.parametrize("call, code, status", [
    (lambda ix: ix.search("x", {"filter": "title = x"}), "invalid_search_filter", 400),
    (lambda ix: ix.search("x", {"filter": "topic = "}), "invalid_search_filter", 400),
    (lambda ix: ix.search("x", {"sort": ["title:asc"]}), "invalid_search_sort", 400),
    (lambda ix: ix.search("x", {"distinct": "source"}), "feature_not_supported", 400),
    (lambda ix: ix.search("x", {"nonsense": 1}), "bad_request", 400),
    (lambda ix: ix.update_filterable_attributes(["url"]), "feature_not_supported", 501),
    (lambda ix: ix.get_settings(), "feature_not_supported", 501),
    (lambda ix: meilisearch.Client(ix.config.url, 'k').index("other").search("x"), "index_not_found", 404),
    (lambda ix: meilisearch.Client(ix.config.url, 'k').create_index("more"), "feature_not_supported", 501),
])
def test_what_vnsearch_cannot_do_is_a_meilisearch_error(index, call, code, status):
    with pytest.raises(MeilisearchApiError) as e:
        call(index)
    assert e.value.code == code and e.value.status_code == status
    assert e.value.message and e.value.link.endswith("#" + code)


def test_filter_errors_point_at_the_position_as_meilisearch_does(index):
    with pytest.raises(MeilisearchApiError) as e:
        index.search("", {"filter": "topic = Xe source = VnExpress"})
    assert "\n12:30 topic = Xe source = VnExpress" in e.value.message   # the client appends a hint


def test_unsupported_parameters_sent_falsy_are_accepted(index):
    found = index.search("tuyển sinh", {"showRankingScore": False, "attributesToRetrieve": ["id"]})
    assert [h["id"] for h in found["hits"]][:1] == ["gd-1"] and set(found["hits"][0]) >= {"id", "_formatted"}
    assert "title" not in found["hits"][0]
    raw = json.dumps(found, ensure_ascii=False)
    assert "tuyển sinh" in raw
