"""Changing the corpus directory for the documents API, so that a rebuild
from ``corpus/`` gives the same index as the tasks did.

* An added or replaced article is written (temp file, fsync, rename, directory
  fsync) as its own file, ``<safe id>.jsonl`` (:func:`indexer.index.build.article_path`).
* Where an article lived in another file before, it is taken out of it first:
  a file holding only that article (a ``.txt`` page, a one-line ``.jsonl``) is
  moved aside into ``<corpus>/.deleted/`` (its relative path kept; builds skip
  dot directories); a ``.jsonl``/``.jsonl.gz`` holding others too is rewritten
  atomically without the article's line(s), which are kept in
  ``.deleted/<relpath>.<stamp>.jsonl``. Nothing is destroyed, and nothing
  deleted comes back on a full rebuild.
* A deletion takes the article out the same way.

Every operation is idempotent (a retried task finds its work done already).
"""

from __future__ import annotations

import gzip
import json
import os
import time
from pathlib import Path

from indexer.index import generations, schema
from indexer.index.build import article_path
from indexer.index.durable import fsync_dir, make_dirs_durably, write_atomically, write_text_atomically
from indexer.ingest import article_to_jsonl, validate_article
from indexer.ingest.validate import validate_record

DELETED_DIR = ".deleted"


def locate(index_dir: Path, ids: list[str]) -> dict[str, str]:
    """id -> the corpus file (relpath) the current index read it from, for the ids it holds."""
    try:
        ix = generations.open_current(index_dir)
    except generations.IndexNotFound:
        return {}
    found = {}
    with ix.searcher() as searcher:
        for article_id in dict.fromkeys(ids):
            stored = searcher.document(**{schema.ID_FIELD: article_id})
            if stored is not None:
                found[article_id] = stored[schema.PATH]
    return found


def _inside(corpus_dir: Path, relpath: str) -> Path | None:
    """``corpus_dir / relpath`` if it is a regular file inside the corpus, else None."""
    path = (corpus_dir / relpath)
    try:
        path.resolve().relative_to(corpus_dir.resolve())
    except ValueError:
        return None
    return path if path.is_file() and not path.is_symlink() else None


def _line_id(line: str) -> str | None:
    try:
        record = json.loads(line)
        return validate_record(record, "", check_surrogates=False, notes=[]).id
    except (ValueError, TypeError, RecursionError):
        return None


def _aside(corpus_dir: Path, relpath: str) -> Path:
    target = corpus_dir / DELETED_DIR / relpath
    make_dirs_durably(target.parent)
    if os.path.lexists(target):
        target = target.with_name(f"{target.name}.{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns()}")
    return target


def remove_article(corpus_dir: Path, relpath: str, article_id: str) -> bool:
    """Take ``article_id`` out of the corpus file ``relpath``; True if it was there."""
    path = _inside(corpus_dir, relpath)
    if path is None:
        return False
    name = path.name.lower()
    if name.endswith(".txt"):
        os.replace(path, _aside(corpus_dir, relpath))
        fsync_dir(path.parent)
        return True
    gz = name.endswith(".jsonl.gz")
    raw = path.read_bytes()
    text = (gzip.decompress(raw) if gz else raw).decode("utf-8", errors="surrogateescape")
    lines = text.splitlines(keepends=True)
    kept = [ln for ln in lines if _line_id(ln) != article_id]
    if len(kept) == len(lines):
        return False
    if not any(ln.strip() for ln in kept):
        os.replace(path, _aside(corpus_dir, relpath))
        fsync_dir(path.parent)
        return True
    removed = "".join(ln if ln.endswith("\n") else ln + "\n" for ln in lines if _line_id(ln) == article_id)
    write_text_atomically(_aside(corpus_dir, relpath + ".removed.jsonl"), removed)
    data = "".join(kept).encode("utf-8", errors="surrogateescape")
    write_atomically(path, lambda f: f.write(gzip.compress(data, mtime=0) if gz else data))
    return True


class CorpusEditor:
    """Applies one batch of document changes to the corpus, in order.

    ``where`` starts as the index's view (:func:`locate`) and follows the
    changes made, so a later change in the batch sees an earlier one."""

    def __init__(self, index_dir: Path, corpus_dir: Path, ids: list[str]) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.where: dict[str, str | None] = dict(locate(Path(index_dir), ids))
        self.written: set[str] = set()     # relpaths of the files written for additions

    def _current(self, article_id: str) -> str | None:
        if article_id in self.where:
            return self.where[article_id]
        own = article_path(self.corpus_dir, article_id)
        return own.name if own.exists() else None

    def put(self, record: dict) -> str:
        """Add or replace an article (a validated record); returns the relpath written."""
        article = validate_article(record, relpath="")
        own = article_path(self.corpus_dir, article.id)
        own_rel = own.relative_to(self.corpus_dir).as_posix()
        before = self._current(article.id)
        if before is not None and before != own_rel:
            remove_article(self.corpus_dir, before, article.id)
        write_text_atomically(own, article_to_jsonl(article) + "\n", sync_dir=False)   # see sync()
        self.where[article.id] = own_rel
        self.written.add(own_rel)
        return own_rel

    def sync(self) -> None:
        """Make the new names durable: one fsync of the corpus directory for all the
        files :meth:`put` wrote (each file's bytes were fsynced before its rename)."""
        fsync_dir(self.corpus_dir)

    def delete(self, article_id: str) -> bool:
        """Remove an article; True if it was in the corpus."""
        before = self._current(article_id)
        self.where[article_id] = None
        if before is None:
            return False
        self.written.discard(before)
        return remove_article(self.corpus_dir, before, article_id)
