"""The search template (``_scripts/<id>``, mustache) and the parameters the
thin Python query layer gives it.

The query layer is vnsearch's own: :meth:`indexer.SearchEngine.compile` (or
:func:`~indexer.search.query.parse` + :func:`~indexer.search.query.compile_query`)
turns the typed text into a :class:`~indexer.search.query.Query` (syllables,
pyvi words, phrases, exclusions, the weight of exact forms, restored accents),
and :func:`template_params` turns that into the template's parameters. The
template then asks OpenSearch for what :mod:`indexer.search.executor` computes:

* the folded syllables: one ``combined_fields`` (BM25F over ``title_f`` and
  ``body_f``, the field weights of :class:`~indexer.search.settings.RankingSettings`),
  required: a hit holds at least one of them;
* their exact forms: the same over ``title_x``/``body_x``, boosted by the query's
  ``exact_weight`` (1.5 typed with accents, 0.5 restored, absent otherwise);
* pyvi words: over the words fields, exact if the query was typed with accents,
  else folded, boosted by ``word_weight``;
* a tiered query: documents holding every syllable get a constant
  (:data:`TIER_BOOST`) on top, so they come first;
* phrases: required (``multi_match`` of type ``phrase`` on the folded fields;
  ``index_phrases`` serves the two-syllable ones), their syllables scored;
* exclusions: ``must_not``, exact when typed with accents, else folded;
* highlights: the fast-vector highlighter on ``title``/``body``, from the folded
  fields' offsets, HTML-escaped, ``<mark>`` as vnsearch's own snippets.

Lists in mustache render without separators, so every list follows a fixed
first element (``match_all`` in filters, ``match_none`` elsewhere) and each
item starts with its comma.
"""

from __future__ import annotations

import json
from string import Template

from indexer.export.opensearch import SYLLABLES, WORDS, ExportError, field
from indexer.index import schema
from indexer.search.query import Query
from indexer.search.settings import RankingSettings

TEMPLATE_ID = "vnsearch-search"
#: Added to the score of a document holding every syllable of a tiered query.
#: A Lucene BM25 term scores below its idf (≤ ln(1 + 2N) < 14 for N < 10⁶) times
#: its boost; a tiered query has at most 6 syllables and 5 words, each scored
#: with weights summing to at most 1 + 1.5 + 0.5, so its scores stay far below this.
TIER_BOOST = 1000
SNIPPET_CHARS = 220

_SOURCE = r"""{
  "from": {{from}},
  "size": {{size}},
  "track_total_hits": true,
  "query": {"bool": {
    "must": [
      {{#has_keywords}}{"combined_fields": {"query": "{{keywords_folded}}", "fields": $folded_fields}}{{/has_keywords}}
    ],
    "should": [
      {"match_none": {}}
      {{#has_phrase_terms}}, {"combined_fields": {"query": "{{phrase_terms_folded}}", "fields": $folded_fields}}{{/has_phrase_terms}}
      {{#exact}}, {"combined_fields": {"query": "{{terms_exact}}", "fields": $exact_fields, "boost": {{exact_weight}}}}{{/exact}}
      {{#words_exact}}, {"combined_fields": {"query": "{{words}}", "fields": $words_exact_fields, "boost": $word_weight}}{{/words_exact}}
      {{#words_folded}}, {"combined_fields": {"query": "{{words}}", "fields": $words_folded_fields, "boost": $word_weight}}{{/words_folded}}
      {{#tiered}}, {"constant_score": {"boost": $tier_boost, "filter": {"bool": {"must": [
        {"match_all": {}}
        {{#keywords}}, {"multi_match": {"query": "{{folded}}", "fields": $folded_names}}{{/keywords}}
      ]}}}}{{/tiered}}
    ],
    "filter": [
      {"match_all": {}}
      {{#phrases}}, {"multi_match": {"query": "{{text}}", "type": "phrase", "fields": $folded_names}}{{/phrases}}
    ],
    "must_not": [
      {"match_none": {}}
      {{#exclusions}}, {"multi_match": {"query": "{{text}}", "type": "phrase", "fields": ["{{title_field}}", "{{body_field}}"]}}{{/exclusions}}
    ]
  }},
  "highlight": {
    "type": "fvh",
    "encoder": "html",
    "pre_tags": ["<mark>"],
    "post_tags": ["</mark>"],
    "highlight_query": {"bool": {"should": [
      {"match_none": {}}
      {{#has_keywords}}, {"match": {"$title_f": "{{keywords_folded}}"}}, {"match": {"$body_f": "{{keywords_folded}}"}}{{/has_keywords}}
      {{#phrases}}, {"match_phrase": {"$title_f": "{{text}}"}}, {"match_phrase": {"$body_f": "{{text}}"}}{{/phrases}}
    ]}},
    "fields": {
      "$title": {"matched_fields": ["$title_f"], "number_of_fragments": 0, "no_match_size": 10000},
      "$body": {"matched_fields": ["$body_f"], "fragment_size": $snippet, "number_of_fragments": 1, "no_match_size": $snippet}
    }
  }
}"""


def _weighted(unit: str, form: str, settings: RankingSettings) -> str:
    weights = {schema.TITLE: settings.title_weight, schema.BODY: settings.body_weight}
    return json.dumps([f"{field(t, unit, form)}^{weights[t]}" for t in schema.TEXT_FIELDS])


def template_source(settings: RankingSettings) -> str:
    """The mustache source of the search template, the settings' field and word weights written in."""
    for name in ("title_weight", "body_weight"):
        if getattr(settings, name) < 1:
            raise ExportError(f"combined_fields takes field weights of at least 1: {name} is {getattr(settings, name)}")
    return Template(_SOURCE).substitute(
        folded_fields=_weighted(SYLLABLES, schema.FOLDED, settings),
        exact_fields=_weighted(SYLLABLES, schema.EXACT, settings),
        words_exact_fields=_weighted(WORDS, schema.EXACT, settings),
        words_folded_fields=_weighted(WORDS, schema.FOLDED, settings),
        folded_names=json.dumps([schema.TITLE_FOLDED, schema.BODY_FOLDED]),
        title_f=schema.TITLE_FOLDED, body_f=schema.BODY_FOLDED, title=schema.TITLE, body=schema.BODY,
        word_weight=settings.word_weight, tier_boost=TIER_BOOST, snippet=SNIPPET_CHARS)


def search_template(settings: RankingSettings) -> dict:
    """The body of ``PUT _scripts/vnsearch-search``."""
    return {"script": {"lang": "mustache", "source": template_source(settings)}}


def template_params(query: Query, page: int = 1, hits_per_page: int = 10) -> dict:
    """The template's parameters for a compiled query (``SearchEngine.compile``).

    Raises ValueError for a query with nothing to search (only exclusions, or
    only punctuation): vnsearch answers it with no hits, without a search.
    """
    if query.empty:
        raise ValueError("the query has no word to search")
    phrase_terms = [t for p in query.phrases for t in p.terms]
    words = [w.exact if query.accented else w.folded for w in query.words]
    exclusions = []
    for exclusion in query.exclusions:
        form = schema.EXACT if exclusion.exact else schema.FOLDED
        exclusions.append({"text": " ".join(t.exact if exclusion.exact else t.folded for t in exclusion.terms),
                           "title_field": schema.indexed(schema.TITLE, form),
                           "body_field": schema.indexed(schema.BODY, form)})
    return {
        "from": (page - 1) * hits_per_page,
        "size": hits_per_page,
        "has_keywords": bool(query.keywords),
        "keywords_folded": " ".join(t.folded for t in query.keywords),
        "keywords": [{"folded": t.folded} for t in query.keywords],
        "has_phrase_terms": bool(phrase_terms),
        "phrase_terms_folded": " ".join(t.folded for t in phrase_terms),
        "exact": bool(query.exact_weight),
        "exact_weight": query.exact_weight,
        "terms_exact": " ".join(t.exact for t in [*query.keywords, *phrase_terms]),
        "words_exact": bool(words) and query.accented,
        "words_folded": bool(words) and not query.accented,
        "words": " ".join(words),
        "tiered": query.tiered and bool(query.keywords),
        "phrases": [{"text": " ".join(t.folded for t in p.terms)} for p in query.phrases],
        "exclusions": exclusions,
    }
