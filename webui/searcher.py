"""One SearchEngine per worker process, opened lazily, refreshed before each request.

The engine is created on first use in the process that serves requests (so a
gunicorn master that preloads the app never opens the index, and each forked
worker opens its own). ``refresh()`` is cheap: it reopens only when the index
changed, an incremental commit or a full rebuild's swap of ``CURRENT``
(compared by directory, as a swapped generation may carry the same commit
number). It is called once per request, never reopened per request.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from flask import Flask, current_app, g

from indexer import IndexNotFound, SearchEngine

EXTENSION = "vnsearch_engine"


class EngineHolder:
    """The process's engine for one index directory."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        self._engine: SearchEngine | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()

    def get(self) -> SearchEngine:
        """The engine, up to date with the index; raises IndexNotFound."""
        with self._lock:
            if self._engine is None or self._pid != os.getpid():
                # First use in this process (or inherited over a fork: never shared).
                self._engine = SearchEngine(self.index_dir)
                self._pid = os.getpid()
                return self._engine
            try:
                self._engine.refresh()
            except IndexNotFound:
                self._drop()
                raise
            except OSError:
                # The generation we had vanished under us in an unexpected way: start over.
                self._drop()
                self._engine = SearchEngine(self.index_dir)
                self._pid = os.getpid()
            return self._engine

    def _drop(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            try:
                engine.close()
            except Exception:   # pragma: no cover - closing a broken searcher
                pass

    def close(self) -> None:
        with self._lock:
            self._drop()


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = EngineHolder(app.config["INDEX_DIR"])


def get_engine() -> SearchEngine:
    """The engine for this request (refreshed at most once per request)."""
    if "engine" not in g:
        g.engine = current_app.extensions[EXTENSION].get()
    return g.engine


def engine_or_none() -> SearchEngine | None:
    """The engine, or None while no index has been built yet."""
    try:
        return get_engine()
    except IndexNotFound:
        return None


def fresh_engine() -> SearchEngine:
    """The engine refreshed now (after this request changed the index)."""
    g.engine = current_app.extensions[EXTENSION].get()
    return g.engine
