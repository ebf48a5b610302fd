"""vnsearch: Vietnamese full-text search (pyvi segmentation, Whoosh index).

Library API, used by the CLI and the web front end::

    from indexer import build, SearchEngine
    build("var/index", ["corpus"])                 # incremental; full=True to rebuild
    engine = SearchEngine("var/index")
    engine.search("dang uy khoi", page=1, hits_per_page=10)   # -> dict (JSON shape)
"""

from indexer.indexing import BuildReport, add_article, build
from indexer.engine import SearchEngine
from indexer.query import QueryError
from indexer.store import IndexBusy, IndexNotFound

__all__ = ["BuildReport", "IndexBusy", "IndexNotFound", "QueryError", "SearchEngine",
           "add_article", "build"]
