"""The one Whoosh schema of vnsearch and the names of its fields.

Stored originals (``title``, ``body``) feed snippets and the article pages.
Each text field is indexed twice, by the same analysis (:mod:`indexer.analysis`)
with different lossy stages: ``*_x`` holds the exact-accent terms, ``*_f`` the
folded ones. The folded fields keep character offsets into the original text
(for highlighting); exact matches are told apart at highlight time by
re-reading the original slice.
"""

from __future__ import annotations

from whoosh.fields import ID, STORED, TEXT, Schema

from indexer.analysis import exact_analyzer, folded_analyzer

# Stored fields
ID_FIELD = "id"
PATH = "path"
TITLE = "title"
BODY = "body"
DATE = "date"
URL = "url"
SOURCE = "source"
TOPIC = "topic"          # the section or category, as the outlet names it
TAGS = "tags"            # a list of keywords (stored as a list)

# Indexed text fields: (text field, form) -> field name
EXACT, FOLDED = "exact", "folded"
TEXT_FIELDS = (TITLE, BODY)
FORMS = (EXACT, FOLDED)
TITLE_EXACT, BODY_EXACT = "title_x", "body_x"
TITLE_FOLDED, BODY_FOLDED = "title_f", "body_f"
_INDEXED = {(TITLE, EXACT): TITLE_EXACT, (BODY, EXACT): BODY_EXACT,
            (TITLE, FOLDED): TITLE_FOLDED, (BODY, FOLDED): BODY_FOLDED}

#: Every indexed text field: the sidecar holds all their postings.
SCORED_FIELDS = (TITLE_EXACT, BODY_EXACT, TITLE_FOLDED, BODY_FOLDED)
#: Fields whose positions the positions files hold (phrases are checked folded).
POSITION_FIELDS = (TITLE_FOLDED, BODY_FOLDED)
#: Fields whose terms feed the accent model's lexicon.
LEXICON_FIELDS = (TITLE_EXACT, BODY_EXACT)
#: What a hit shows of a document besides its snippets.
HIT_FIELDS = (ID_FIELD, TITLE, DATE, TOPIC, SOURCE, URL, TAGS)
#: Keyword fields held as per-document columns (:mod:`indexer.index.columns`):
#: filtered on, counted as facets. ``DATE`` is a column too (filtered, sorted).
KEYWORD_FIELDS = (TOPIC, SOURCE, TAGS)
#: Keyword fields holding a list of values per document rather than one.
LIST_FIELDS = (TAGS,)


def indexed(text_field: str, form: str) -> str:
    """The indexed field of a text field in one form: ``indexed(TITLE, FOLDED) == "title_f"``."""
    return _INDEXED[(text_field, form)]


def make_schema() -> Schema:
    """The schema every generation is written with."""
    return Schema(**{
        ID_FIELD: ID(stored=True, unique=True),
        PATH: ID(stored=True),
        TITLE: STORED(),
        BODY: STORED(),
        DATE: ID(stored=True, sortable=True),
        URL: STORED(),
        SOURCE: ID(stored=True),
        TOPIC: STORED(),
        TAGS: STORED(),
        TITLE_EXACT: TEXT(analyzer=exact_analyzer(), phrase=True),
        BODY_EXACT: TEXT(analyzer=exact_analyzer(), phrase=True),
        TITLE_FOLDED: TEXT(analyzer=folded_analyzer(), phrase=True, chars=True),
        BODY_FOLDED: TEXT(analyzer=folded_analyzer(), phrase=True, chars=True),
    })
