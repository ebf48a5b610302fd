"""The one Whoosh schema of vnsearch and the names of its fields.

Stored originals (``title``, ``body``) feed snippets and the article pages.
Each text field is indexed twice, by the same analysis (:mod:`indexer.analysis`)
with different lossy stages: ``*_x`` holds the exact-accent terms, ``*_f`` the
folded ones. Every indexed field keeps positions; the folded fields also give
character offsets into the original text (for highlighting), which the
codec derives from each document's syllable offsets
(:mod:`indexer.index.codec`).
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

# Indexed text fields: (text field, form) -> field name
EXACT, FOLDED = "exact", "folded"
TEXT_FIELDS = (TITLE, BODY)
FORMS = (EXACT, FOLDED)
TITLE_EXACT, BODY_EXACT = "title_x", "body_x"
TITLE_FOLDED, BODY_FOLDED = "title_f", "body_f"
_INDEXED = {(TITLE, EXACT): TITLE_EXACT, (BODY, EXACT): BODY_EXACT,
            (TITLE, FOLDED): TITLE_FOLDED, (BODY, FOLDED): BODY_FOLDED}

#: Every indexed text field (BM25F scores them).
SCORED_FIELDS = (TITLE_EXACT, BODY_EXACT, TITLE_FOLDED, BODY_FOLDED)
#: Fields whose terms feed the accent model's lexicon.
LEXICON_FIELDS = (TITLE_EXACT, BODY_EXACT)
#: What a hit shows of a document besides its snippets.
HIT_FIELDS = (ID_FIELD, TITLE, DATE, SOURCE, URL)


def indexed(text_field: str, form: str) -> str:
    """The indexed field of a text field in one form: ``indexed(TITLE, FOLDED) == "title_f"``."""
    return _INDEXED[(text_field, form)]


def text_field_of(fieldname: str) -> str:
    """The stored text field an indexed field is analysed from: ``text_field_of("body_f") == "body"``."""
    for (text_field, _), name in _INDEXED.items():
        if name == fieldname:
            return text_field
    raise KeyError(fieldname)


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
        TITLE_EXACT: TEXT(analyzer=exact_analyzer(), phrase=True),
        BODY_EXACT: TEXT(analyzer=exact_analyzer(), phrase=True),
        TITLE_FOLDED: TEXT(analyzer=folded_analyzer(), phrase=True, chars=True),
        BODY_FOLDED: TEXT(analyzer=folded_analyzer(), phrase=True, chars=True),
    })
