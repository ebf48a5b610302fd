"""The search template, rendered as OpenSearch would (mustache, JSON-escaped
values) with the parameters of the Python query layer, for real queries: valid
JSON, the query model's terms, weights, phrases and exclusions where vnsearch's
executor uses them, and only fields the mapping declares."""

from __future__ import annotations

import json

import pystache
import pytest

from indexer.export import ExportError, search_template, template_params
from indexer.export.aligned import Expansions
from indexer.export.opensearch import mapping
from indexer.search.query import compile_query, parse
from indexer.search.settings import RankingSettings
from tests.support import open_engine  # noqa: F401  (fixture)

_RENDERER = pystache.Renderer(escape=lambda value: json.dumps(value)[1:-1], missing_tags="strict")


def render(params: dict, settings: RankingSettings = RankingSettings()) -> dict:
    source = search_template(settings)["script"]["source"]
    return json.loads(_RENDERER.render(source, params))


def clauses(rendered: dict, kind: str) -> list[dict]:
    return rendered["query"]["bool"][kind]


def fields_named(node) -> set[str]:
    """Every field name a rendered query refers to."""
    names: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "fields" and isinstance(value, list):
                names |= {v.split("^")[0] for v in value}
            elif key in ("match", "match_phrase", "term"):
                names |= set(value)
            else:
                names |= fields_named(value)
    elif isinstance(node, list):
        for item in node:
            names |= fields_named(item)
    return names


def combined(rendered: dict, kind: str, field_prefix: str) -> list[dict]:
    return [c["combined_fields"] for c in clauses(rendered, kind)
            if "combined_fields" in c and c["combined_fields"]["fields"][0].startswith(field_prefix)]


@pytest.mark.parametrize("q, folded, exact_weight, words", [
    ("đảng viên", "dang vien", 1.5, ("title_wx", "đảng_viên")),
    ("dang vien", "dang vien", 0.5, ("title_wf", "dang_vien")),        # plain: accents restored, words folded
    ("Bác", "bac", 1.5, None),
])
def test_keywords_score_folded_required_and_exact_boosted(index_dir, open_engine, q, folded, exact_weight, words):
    query = open_engine(index_dir).compile(q)
    rendered = render(template_params(query))
    [must] = combined(rendered, "must", "title_f")
    assert must["query"] == folded
    [exact] = combined(rendered, "should", "title_x^")
    assert exact["boost"] == exact_weight == query.exact_weight
    if words:
        field, term = words
        [w] = combined(rendered, "should", field)
        assert w["query"] == term and w["boost"] == RankingSettings().word_weight
    tier = [c for c in clauses(rendered, "should") if "constant_score" in c]
    assert len(tier) == 1 and len(tier[0]["constant_score"]["filter"]["bool"]["must"]) == 1 + len(query.keywords)


def test_without_restored_accents_a_plain_query_has_no_exact_clause():
    query = compile_query(parse("dang vien"), RankingSettings(), restore=None)
    assert query.exact_weight == 0
    rendered = render(template_params(query))
    assert not combined(rendered, "should", "title_x^")
    assert combined(rendered, "must", "title_f")[0]["query"] == "dang vien"


def test_a_phrase_is_required_and_its_syllables_scored(index_dir, open_engine):
    query = open_engine(index_dir).compile('"đoàn kết" dân chủ')
    rendered = render(template_params(query))
    [phrase] = [c["multi_match"] for c in clauses(rendered, "filter") if "multi_match" in c]
    assert phrase == {"query": "doan ket", "type": "phrase", "fields": ["title_f", "body_f"]}
    [scored] = combined(rendered, "should", "title_f")
    assert scored["query"] == "doan ket"
    [exact] = combined(rendered, "should", "title_x^")
    assert exact["query"].split() == ["dân", "chủ", "đoàn", "kết"]
    highlighted = rendered["highlight"]["highlight_query"]["bool"]["should"]
    assert {"match_phrase": {"body_f": "doan ket"}} in highlighted


@pytest.mark.parametrize("q, fields, text", [
    ('đảng -bạc', ["title_x", "body_x"], "bạc"),          # typed with accents: matched exactly (keeps bác)
    ('dang -bac', ["title_f", "body_f"], "bac"),
    ('đảng -"thống nhất"', ["title_x", "body_x"], "thống nhất"),
])
def test_exclusions_are_must_not_matched_as_typed(index_dir, open_engine, q, fields, text):
    rendered = render(template_params(open_engine(index_dir).compile(q)))
    [excluded] = [c["multi_match"] for c in clauses(rendered, "must_not") if "multi_match" in c]
    assert excluded == {"query": text, "type": "phrase", "fields": fields}


def test_a_long_query_is_free_text_without_a_tier(index_dir, open_engine):
    query = open_engine(index_dir).compile('Phát huy tinh thần "đoàn kết" dân chủ hoàn thành nhiệm vụ')
    assert not query.tiered
    rendered = render(template_params(query, page=3, hits_per_page=20))
    assert not [c for c in clauses(rendered, "should") if "constant_score" in c]
    assert not [c for c in clauses(rendered, "filter") if "multi_match" in c]     # quotes read as words
    assert (rendered["from"], rendered["size"]) == (40, 20)


def test_only_an_exclusion_has_nothing_to_search(index_dir, open_engine):
    with pytest.raises(ValueError, match="no word"):
        template_params(open_engine(index_dir).compile("-bạc"))


@pytest.mark.parametrize("q", ["đảng viên", "dang vien", '"đoàn kết" -"thống nhất" bác', "Hồ Chí Minh",
                               'a " b \\ c'])
def test_every_field_a_rendered_query_names_is_in_the_mapping(index_dir, open_engine, q):
    properties = mapping(RankingSettings(), Expansions())["mappings"]["properties"]
    rendered = render(template_params(open_engine(index_dir).compile(q)))
    named = fields_named(rendered["query"]) | fields_named(rendered["highlight"]["highlight_query"])
    assert named and named <= set(properties), named - set(properties)
    for name, options in rendered["highlight"]["fields"].items():
        assert properties[name]["term_vector"] == "with_positions_offsets"
        assert all(properties[m]["term_vector"] == "with_positions_offsets" for m in options["matched_fields"])


def test_field_weights_are_written_into_the_template():
    rendered = render({"from": 0, "size": 10, "has_keywords": True, "keywords_folded": "dang", "keywords": [],
                       "has_phrase_terms": False, "phrase_terms_folded": "", "exact": False, "exact_weight": 0,
                       "terms_exact": "", "words_exact": False, "words_folded": False, "words": "",
                       "tiered": False, "phrases": [], "exclusions": []},
                      RankingSettings(title_weight=2.0))
    assert combined(rendered, "must", "title_f")[0]["fields"] == ["title_f^2.0", "body_f^1.0"]


def test_field_weights_below_one_are_refused():
    with pytest.raises(ExportError, match="at least 1"):
        search_template(RankingSettings(body_weight=0.5))
