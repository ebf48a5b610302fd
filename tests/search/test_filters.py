"""Filters, sort and facets over the columns, against a plain-Python oracle over the
faceted fixture (real Vietnamese sections and outlets, one NFD-free, some undated)."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from indexer import SearchEngine, build
from indexer.index import schema
from indexer.index.columns import date_seconds, iso_of_seconds
from indexer.search.filters import FilterError, parse
from indexer.search.query import QueryError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "faceted.jsonl"
ARTICLES = {a["id"]: a for a in map(json.loads, FIXTURE.read_text(encoding="utf-8").splitlines())}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("filters")
    (root / "corpus").mkdir()
    shutil.copy(FIXTURE, root / "corpus" / "faceted.jsonl")
    build(root / "index", [root / "corpus"], full=True, progress=False)
    e = SearchEngine(root / "index")
    yield e
    e.close()


def ids(engine, **options) -> set[str]:
    return {h["id"] for h in engine.search("", hits_per_page=100, **options)["hits"]}


def day(a) -> str:
    return (a["date"] or "")[:10]


ORACLES = [
    ('topic = "Thể thao"', lambda a: a["topic"] == "Thể thao"),
    ("topic = 'thể thao'", lambda a: a["topic"] == "Thể thao"),                       # case-insensitive
    ("topic = " + unicodedata.normalize("NFD", "'Thể thao'"), lambda a: a["topic"] == "Thể thao"),   # NFC
    ('topic != "Thể thao"', lambda a: a["topic"] != "Thể thao"),                      # the undated/untopical too
    ("source IN [VnExpress, 'Tuổi Trẻ']", lambda a: a["source"] is not None),
    ("source NOT IN ['Tuổi Trẻ']", lambda a: a["source"] != "Tuổi Trẻ"),
    ("tags = 'bóng đá'", lambda a: "bóng đá" in a["tags"]),
    ("tags IN ['V-League', 'SEA Games']", lambda a: {"V-League", "SEA Games"} & set(a["tags"])),
    ("tags EXISTS", lambda a: bool(a["tags"])),
    ("tags NOT EXISTS", lambda a: not a["tags"]),
    ("NOT topic EXISTS", lambda a: a["topic"] is None),
    ("date EXISTS", lambda a: a["date"] is not None),
    ("date >= 2022-01-01", lambda a: day(a) >= "2022-01-01"),
    ("date > 2022-05-21", lambda a: day(a) > "2022-05-21"),                            # after that whole day
    ("date < 2022-05-21", lambda a: a["date"] and day(a) < "2022-05-21"),
    ("date <= 2022-05-21", lambda a: a["date"] and day(a) <= "2022-05-21"),            # that day included
    ("date = 2024-11-20", lambda a: day(a) == "2024-11-20"),
    ("date != 2024-11-20", lambda a: day(a) != "2024-11-20"),
    ("date 2020-01-01 TO 2022-12-31", lambda a: "2020-01-01" <= day(a) <= "2022-12-31"),
    ("date >= 2024-11-20T20:00 AND date < 2024-11-20T21:00", lambda a: a["id"] == "tt-1"),
    ("date IN [2019-08-10, 2018-02-10]", lambda a: day(a) in ("2019-08-10", "2018-02-10")),
    ('topic = "Thể thao" AND date >= 2020-01-01', lambda a: a["topic"] == "Thể thao" and day(a) >= "2020-01-01"),
    ("topic = 'Giáo dục' OR topic = 'Sức khỏe' AND source = 'Tuổi Trẻ'",               # AND binds tighter
     lambda a: a["topic"] == "Giáo dục" or (a["topic"] == "Sức khỏe" and a["source"] == "Tuổi Trẻ")),
    ("(topic = 'Giáo dục' OR topic = 'Sức khỏe') AND source = 'Tuổi Trẻ'",
     lambda a: a["topic"] in ("Giáo dục", "Sức khỏe") and a["source"] == "Tuổi Trẻ"),
    ("NOT (topic = 'Thể thao' OR date < 2021-01-01)",
     lambda a: not (a["topic"] == "Thể thao" or (a["date"] and day(a) < "2021-01-01"))),
    ("topic = 'Thể thao' and not source = VnExpress", lambda a: a["topic"] == "Thể thao" and a["source"] != "VnExpress"),
    ("   ", lambda a: True),
]


@pytest.mark.parametrize("expression, oracle", ORACLES, ids=[e for e, _ in ORACLES])
def test_filters_select_what_the_oracle_selects(engine, expression, oracle):
    expected = {i for i, a in ARTICLES.items() if oracle(a)}
    assert ids(engine, filter=expression) == expected
    assert engine.search("", filter=expression, hits_per_page=0)["totalHits"] == len(expected)


def test_filters_apply_to_keyword_queries_and_counts(engine):
    result = engine.search("bóng đá", filter="source = 'Tuổi Trẻ'", hits_per_page=100)
    assert result["hits"] and all(ARTICLES[h["id"]]["source"] == "Tuổi Trẻ" for h in result["hits"])
    unfiltered = {h["id"] for h in engine.search("bóng đá", hits_per_page=100)["hits"]}
    assert {h["id"] for h in result["hits"]} == {i for i in unfiltered if ARTICLES[i]["source"] == "Tuổi Trẻ"}


@pytest.mark.parametrize("expression, message, position", [
    ("topic", "Was expecting an operation", "1:6"),
    ("topic == Xe", "Was expecting a value but instead got `=`", "8:9"),
    ("topic = Xe AND", "Was expecting an attribute", "14:15"),
    ("topic = Xe OR OR topic = Du", "Was expecting an attribute", "15:17"),
    ("title = 'Bóng đá'", "Attribute `title` is not filterable", "1:6"),
    ("topic IN Xe", "Expected `[` after `IN` keyword", "10:12"),
    ("date > hôm qua", "Found unexpected characters", "12:15"),
    ("date > hôm", "`hôm` is not a date", "8:11"),
    ("date >= 2024-02-30", "`2024-02-30` is not a date", "9:19"),
    ("topic ! Xe", "Found unexpected `!`", "7:8"),
])
def test_malformed_filters_say_what_and_where(engine, expression, message, position):
    with pytest.raises(FilterError) as f:
        engine._filters.mask(expression)
    assert message in f.value.message and f.value.message.endswith(f"\n{position} {expression}")
    with pytest.raises(QueryError) as e:
        engine.search("", filter=expression)
    assert e.value.code == "invalid_search_filter" and e.value.message == f.value.message


def test_an_empty_expression_is_an_error_only_to_the_parser(engine):
    with pytest.raises(FilterError, match="The filter is empty"):
        parse("")
    assert engine.search("", filter="", hits_per_page=0)["totalHits"] == len(ARTICLES)   # as Meilisearch


@pytest.mark.parametrize("bad", [3, {"topic": "Xe"}, ["topic = Xe", 3], [["topic = Xe", ["x"]]]])
def test_a_filter_of_the_wrong_type_is_an_error(engine, bad):
    with pytest.raises(QueryError) as e:
        engine.search("", filter=bad)
    assert e.value.code == "invalid_search_filter"


def test_sort_by_date_both_ways_with_undated_last(engine):
    for rule, reverse in (("date:desc", True), ("date:asc", False)):
        hits = engine.search("", sort=[rule], hits_per_page=100)["hits"]
        dated = [h["date"][:19] for h in hits if h["date"]]
        assert dated == sorted(dated, reverse=reverse) and not any(h["date"] for h in hits[len(dated):])


def test_facets_count_every_match_not_just_the_page(engine):
    result = engine.search("", filter="date >= 2020-01-01", facets=["topic", "source", "tags", "date"],
                           hits_per_page=1)
    chosen = [a for a in ARTICLES.values() if day(a) >= "2020-01-01"]
    topics: dict[str, int] = {}
    for a in chosen:
        if a["topic"]:
            topics[a["topic"]] = topics.get(a["topic"], 0) + 1
    assert result["facetDistribution"]["topic"] == topics
    assert sum(result["facetDistribution"]["tags"].values()) == sum(len(a["tags"]) for a in chosen)
    seconds = [date_seconds(a["date"]) for a in chosen]
    assert result["facetStats"]["date"] == {"min": iso_of_seconds(min(seconds)), "max": iso_of_seconds(max(seconds))}
    assert result["facetStats"]["date"]["max"] == "2024-11-20T20:30:00"
    counts = list(result["facetDistribution"]["topic"].values())
    assert counts == sorted(counts, reverse=True)


def test_columns_align_with_stored_fields(engine):
    columns, searcher = engine._columns, engine._searcher
    for docnum in range(searcher.doc_count_all()):
        stored = searcher.stored_fields(docnum)
        for field in (schema.TOPIC, schema.SOURCE):
            column = columns.keyword(field)
            code = column.codes[docnum]
            assert (column.values[code] if code >= 0 else None) == stored.get(field)
        tags = columns.keyword(schema.TAGS)
        got = [tags.values[c] for c in tags.codes[tags.offsets[docnum]:tags.offsets[docnum + 1]]]
        assert got == list(stored.get(schema.TAGS) or [])
        assert (columns.dates[docnum] != np.iinfo(np.int64).min) == bool(stored.get(schema.DATE))
