"""vnsearch: Vietnamese full-text search (pyvi segmentation, Whoosh index).

The library's public API, what the CLI, the web front end and the benchmarks
import::

    from indexer import build, SearchEngine
    build("var/index", ["corpus"])                 # incremental; full=True to rebuild
    engine = SearchEngine("var/index")
    engine.search("dang uy khoi", page=1, hits_per_page=10)   # -> dict (JSON shape)

Sub-packages: :mod:`indexer.analysis` (Vietnamese text analysis),
:mod:`indexer.ingest` (corpus files to articles), :mod:`indexer.index` (the
index on disk and its builds), :mod:`indexer.search` (queries, ranking, snippets), :mod:`indexer.export` (an
OpenSearch index of the same analysis), :mod:`indexer.tasks` (index tasks: the queue and its processor).
"""

from indexer.analysis import analyze, fold
from indexer.analysis.telex import encode as ime_keys
from indexer.export import ExportError, ExportReport, export_opensearch
from indexer.index.build import ArticleExists, BuildReport, add_article, build
from indexer.index.generations import IndexBusy, IndexFormatError, IndexNotFound, current_generation
from indexer.ingest import validate_article
from indexer.search.engine import MAX_HITS_PER_PAGE, MAX_SUGGEST_CHARS, SearchEngine
from indexer.search.query import MAX_QUERY_CHARS, QueryError
from indexer.search.settings import RankingSettings
from indexer import tasks  # noqa: E402  (the index tasks: indexer.tasks)

__all__ = ["MAX_HITS_PER_PAGE", "MAX_QUERY_CHARS", "MAX_SUGGEST_CHARS", "ArticleExists", "BuildReport",
           "ExportError", "ExportReport", "IndexBusy", "IndexFormatError", "IndexNotFound", "QueryError", "RankingSettings",
           "SearchEngine", "add_article", "analyze", "build", "current_generation", "export_opensearch", "fold", "ime_keys",
           "tasks", "validate_article"]
