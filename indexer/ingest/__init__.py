"""From corpus files to clean articles.

Two kinds of source file are understood:

* ``.txt`` -- one scraped news page: the first line with a letter is the title,
  an optional publication-date line near the top gives the date, the rest is the
  body. Page furniture the scraper picked up (PHP ``print_r`` dumps of related
  links, site footers, "back to top" links, related-link lists, comment-form
  boilerplate, a trailing section header ...) is removed; the remaining lines are
  kept exactly as they are (no Unicode or whitespace normalisation inside a line).
* ``.jsonl`` / ``.jsonl.gz`` -- one JSON object per line:
  ``{"id", "title", "text", "url"?, "date"?, "source"?}`` (other keys ignored).

Nothing here raises for a bad file: :func:`discover` and :func:`read_articles`
report :class:`Problem` records and carry on with the next file / line.

Modules: :mod:`~indexer.ingest.model` (the records), :mod:`~indexer.ingest.discover`
(finding and hashing files), :mod:`~indexer.ingest.readers` (``.txt`` and
``.jsonl`` readers), :mod:`~indexer.ingest.validate` (records), :mod:`~indexer.ingest.pages`,
:mod:`~indexer.ingest.furniture` and :mod:`~indexer.ingest.dates` (scraped pages).
"""

from indexer.ingest.discover import discover
from indexer.ingest.model import SUFFIXES, Article, Problem, SourceFile
from indexer.ingest.pages import parse_txt
from indexer.ingest.readers import MAX_TXT_BYTES, read_articles
from indexer.ingest.validate import MAX_ARTICLE_CHARS, article_to_jsonl, validate_article

__all__ = [
    "Article", "MAX_ARTICLE_CHARS", "MAX_TXT_BYTES", "Problem", "SUFFIXES", "SourceFile",
    "article_to_jsonl", "discover", "parse_txt", "read_articles", "validate_article",
]
