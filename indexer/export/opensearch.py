"""The index as an OpenSearch index: settings and mappings, and documents
carrying vnsearch's own tokens.

Field layout (``title`` shown; ``body`` is the same):

==============  ==========================================================  ========================
field           holds                                                       analysed by
==============  ==========================================================  ========================
``title``       the original text (``_source``; what highlights show)       ``vn_source`` (no terms)
``title_x``     exact syllables, aligned (:mod:`~indexer.export.aligned`)    ``vn_exact``
``title_f``     folded syllables, aligned; ``index_phrases``                 ``vn_folded``
``title_wx``    pyvi words (``đảng_viên``), exact, aligned                   ``vn_exact``
``title_wf``    pyvi words, folded, aligned                                  ``vn_folded``
==============  ==========================================================  ========================

``vn_exact`` is the ``mapping`` char filter of the alignment, a ``whitespace``
tokenizer and ``lowercase``; ``vn_folded`` adds ``asciifolding``. The tokens
arrive already normalised, lowercased and (for ``*_f``) folded by
:mod:`indexer.analysis`, so on Vietnamese and ASCII text these filters change
nothing; they are there for query text that reaches the cluster without the
Python query layer. The folded fields carry term vectors with offsets, which
the fast-vector highlighter reads through ``matched_fields`` to mark the
original ``title``/``body``; ``title``/``body`` themselves need the mapping
flag for the highlighter to accept them, but index no terms. The derived fields
are left out of ``_source``: re-export to reindex.

The other stored fields of the schema (:func:`stored_field_names`) are copied as
they are, typed by :data:`STORED_FIELD_TYPES` (``keyword`` for any other one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from indexer.analysis import Analysis, analyze, exact_form, folded_form
from indexer.export.aligned import MAX_TOKEN_UNITS, Expansions, Token, align
from indexer.index import schema
from indexer.search.settings import RankingSettings

EXACT_ANALYZER, FOLDED_ANALYZER, SOURCE_ANALYZER = "vn_exact", "vn_folded", "vn_source"
ALIGN_FILTER = "vn_align"
SYLLABLES, WORDS = "syllables", "words"
_SUFFIX = {(SYLLABLES, schema.EXACT): "_x", (SYLLABLES, schema.FOLDED): "_f",
           (WORDS, schema.EXACT): "_wx", (WORDS, schema.FOLDED): "_wf"}
_ANALYZER = {schema.EXACT: EXACT_ANALYZER, schema.FOLDED: FOLDED_ANALYZER}

#: The type of each stored field besides the texts. A new stored field of the
#: schema (``topic``, ``tags``) is a ``keyword`` unless it has a line here.
STORED_FIELD_TYPES: dict[str, dict] = {
    schema.ID_FIELD: {"type": "keyword"},
    schema.PATH: {"type": "keyword", "index": False},
    schema.DATE: {"type": "date", "format": "strict_date_optional_time"},
    schema.URL: {"type": "keyword", "index": False, "doc_values": False},
    schema.SOURCE: {"type": "keyword"},
}
DEFAULT_STORED_TYPE = {"type": "keyword"}


class ExportError(Exception):
    """The index cannot be exported as asked (a clear message for the CLI)."""


def field(text_field: str, unit: str, form: str) -> str:
    """The derived field of a text field: ``field(TITLE, SYLLABLES, FOLDED) == "title_f"``.
    The syllable fields keep the names of the Whoosh schema's indexed fields."""
    return text_field + _SUFFIX[(unit, form)]


DERIVED_FIELDS = tuple(field(t, u, f) for t in schema.TEXT_FIELDS for u in (SYLLABLES, WORDS) for f in schema.FORMS)
assert all(field(t, SYLLABLES, f) == schema.indexed(t, f) for t in schema.TEXT_FIELDS for f in schema.FORMS)


def stored_field_names() -> list[str]:
    """The stored fields of the index schema, in schema order: what a document copies."""
    return list(schema.make_schema().stored_names())


# --------------------------------------------------------------------------- mapping

def mapping(settings: RankingSettings, expansions: Expansions, meta: dict | None = None) -> dict:
    """The body of ``PUT /<index>``: analysis settings (with the char filter
    rules of ``expansions``), BM25 with the k1 and b of ``settings`` as the
    index's default similarity, the mappings (``_meta``: ``meta``, what the
    export was made from)."""
    if settings.title_b != settings.body_b:
        raise ExportError(f"OpenSearch's combined_fields takes one b: title_b ({settings.title_b}) and "
                          f"body_b ({settings.body_b}) must be equal to export")
    properties: dict[str, dict] = {}
    for name in stored_field_names():
        if name in schema.TEXT_FIELDS:
            properties[name] = {"type": "text", "analyzer": SOURCE_ANALYZER, "term_vector": "with_positions_offsets"}
        else:
            properties[name] = dict(STORED_FIELD_TYPES.get(name, DEFAULT_STORED_TYPE))
    for text_field in schema.TEXT_FIELDS:
        for form in schema.FORMS:
            syllables = {"type": "text", "analyzer": _ANALYZER[form]}
            if form == schema.FOLDED:        # phrases are matched folded, and highlights read these offsets
                syllables.update(index_phrases=True, term_vector="with_positions_offsets")
            properties[field(text_field, SYLLABLES, form)] = syllables
            properties[field(text_field, WORDS, form)] = {"type": "text", "analyzer": _ANALYZER[form],
                                                          "index_options": "freqs"}
    align_chain = {"type": "custom", "char_filter": [ALIGN_FILTER], "tokenizer": "vn_whitespace"}
    return {
        "settings": {
            # the default one: combined_fields scores with the index's default similarity, never a field's
            "index": {"similarity": {"default": {"type": "BM25", "k1": settings.k1, "b": settings.body_b}}},
            "analysis": {
                "char_filter": {ALIGN_FILTER: {"type": "mapping", "mappings": expansions.rules()}},
                "tokenizer": {"vn_whitespace": {"type": "whitespace", "max_token_length": MAX_TOKEN_UNITS}},
                "filter": {"vn_nothing": {"type": "length", "min": 0, "max": 0}},
                "analyzer": {
                    EXACT_ANALYZER: {**align_chain, "filter": ["lowercase"]},
                    FOLDED_ANALYZER: {**align_chain, "filter": ["lowercase", "asciifolding"]},
                    SOURCE_ANALYZER: {"type": "custom", "tokenizer": "whitespace", "filter": ["vn_nothing"]},
                },
            },
        },
        "mappings": {
            "_meta": {"vnsearch": meta or {}},
            "dynamic": "strict",
            "_source": {"excludes": list(DERIVED_FIELDS)},
            "properties": properties,
        },
    }


# --------------------------------------------------------------------------- documents

def analysis_tokens(analysis: Analysis, unit: str, form: str) -> list[Token]:
    """The tokens vnsearch's analyzer gives one field: syllables or pyvi words,
    in their exact or folded term, with their offsets into the original text."""
    term = exact_form if form == schema.EXACT else folded_form
    spans = analysis.syllables if unit == SYLLABLES else analysis.words
    return [Token(term(s.text), s.startchar, s.endchar) for s in spans]


_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2})(:\d{2})?(\.\d{1,6})?(Z|[+-]\d{2}:?\d{2})?)?")


def opensearch_date(value: str) -> str:
    """A stored ISO date in the form ``strict_date_optional_time`` reads for
    certain: seconds always written, the offset as ``±HH:MM``."""
    m = _ISO.fullmatch(value)
    if m is None:
        raise ExportError(f"stored date {value!r} is not ISO 8601")
    day, hm, ss, frac, tz = m.groups()
    if hm is None:
        return day
    if tz and tz != "Z" and ":" not in tz:
        tz = f"{tz[:3]}:{tz[3:]}"
    return f"{day}T{hm}{ss or ':00'}{frac or ''}{tz or ''}"


@dataclass
class DocumentStats:
    """What :func:`document` counted: tokens left out (longer than Lucene takes)."""
    dropped_tokens: int = 0


def document(stored: dict, expansions: Expansions, stats: DocumentStats) -> dict:
    """The OpenSearch document of one stored article: its stored fields and,
    for each text field, the four aligned token strings."""
    doc: dict = {}
    for name in stored_field_names():
        value = stored.get(name)
        if value is None:
            continue
        doc[name] = opensearch_date(value) if name == schema.DATE else value
    for text_field in schema.TEXT_FIELDS:
        text = stored.get(text_field) or ""
        analysis = analyze(text)
        for unit in (SYLLABLES, WORDS):
            for form in schema.FORMS:
                aligned, dropped = align(text, analysis_tokens(analysis, unit, form), expansions)
                doc[field(text_field, unit, form)] = aligned
                stats.dropped_tokens += dropped
    return doc


def stored_documents(reader) -> Iterator[dict]:
    """The stored fields of every live document of a Whoosh reader, in document order."""
    for docnum in range(reader.doc_count_all()):
        if not reader.is_deleted(docnum):
            yield reader.stored_fields(docnum)
