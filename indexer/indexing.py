"""Building the index: full (fresh generation, atomic swap) or incremental.

The PATHS given to a build are the whole corpus: files found there are added
or updated, files indexed before and no longer found are removed. A file whose
bytes are unchanged (same sha256) is not read again, let alone segmented.
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whoosh.writing import SegmentWriter

from indexer import store
from indexer.ingest import Article, Problem, SourceFile, discover, read_articles


@dataclass
class BuildReport:
    full: bool
    generation: str = ""
    files_added: int = 0
    files_updated: int = 0
    files_deleted: int = 0
    files_unchanged: int = 0
    articles_indexed: int = 0
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.files_added or self.files_updated or self.files_deleted)


@dataclass(frozen=True)
class Plan:
    """What an incremental build has to do, from the manifest and the files."""
    to_index: list[SourceFile]
    added: int
    updated: int
    deleted: list[str]
    unchanged: int


def plan_changes(files: list[SourceFile], manifest: dict[str, str]) -> Plan:
    seen = {f.relpath for f in files}
    added = [f for f in files if f.relpath not in manifest]
    updated = [f for f in files if f.relpath in manifest and manifest[f.relpath] != f.sha256]
    deleted = sorted(p for p in manifest if p not in seen)
    unchanged = len(files) - len(added) - len(updated)
    return Plan(added + updated, len(added), len(updated), deleted, unchanged)


def article_fields(article: Article) -> dict[str, str]:
    """The document of one article: stored originals plus the analyzed copies."""
    doc = {
        "id": article.id,
        "path": article.relpath,
        "title": article.title,
        "body": article.text,
        "title_x": article.title,
        "title_f": article.title,
        "body_x": article.text,
        "body_f": article.text,
    }
    for name in ("date", "url", "source"):
        value = getattr(article, name)
        if value:
            doc[name] = value
    return doc


def _articles(files: Iterable[SourceFile], problems: list[Problem]) -> Iterator[Article]:
    for source in files:
        yield from read_articles(source, problems)


def _progress(total_files: int, enabled: bool | None):
    """A tqdm bar on a terminal (docs/s), else a no-op."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(unit="doc", desc="indexing", file=sys.stderr, dynamic_ncols=True)


def _write(writer: SegmentWriter, files: list[SourceFile], report: BuildReport,
           progress: bool | None, on_article: Callable[[Article], None] | None = None) -> dict[str, str]:
    """Index the articles of ``files``; returns relpath -> sha256 of files read."""
    bar = _progress(len(files), progress)
    seen_ids: dict[str, str] = {}
    try:
        for article in _articles(files, report.problems):
            if article.id in seen_ids:
                report.problems.append(Problem(article.relpath,
                                               f"duplicate id {article.id!r} (first in {seen_ids[article.id]}): skipped"))
                continue
            seen_ids[article.id] = article.relpath
            writer.update_document(**article_fields(article))
            report.articles_indexed += 1
            if on_article:
                on_article(article)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return {f.relpath: f.sha256 for f in files}


def build(index_dir: Path | str, paths: Iterable[Path | str], *, full: bool = False,
          progress: bool | None = None, lock_timeout: float = 0.0) -> BuildReport:
    """Bring the index in ``index_dir`` up to date with the files under ``paths``.

    ``full=True`` (or no index yet) builds a new generation and swaps it in;
    otherwise changes are committed incrementally to the current generation.
    Raises ``store.IndexBusy`` if another process holds the write lock longer
    than ``lock_timeout`` seconds.
    """
    index_dir = Path(index_dir)
    paths = [Path(p) for p in paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:   # an incremental build would read "no files" as "delete everything"
        raise FileNotFoundError(f"corpus path not found: {', '.join(missing)}")
    started = time.monotonic()
    with store.write_lock(index_dir, timeout=lock_timeout):
        files, problems = discover(paths)
        try:
            gen = store.current_generation(index_dir)
        except store.IndexNotFound:
            gen = None
        if full or gen is None:
            report = _build_full(index_dir, files, progress)
        else:
            report = _build_incremental(gen, files, progress)
        report.problems[:0] = problems
        store.prune_generations(index_dir)
    report.seconds = time.monotonic() - started
    return report


def _build_full(index_dir: Path, files: list[SourceFile], progress: bool | None) -> BuildReport:
    report = BuildReport(full=True)
    gen = store.new_generation(index_dir)
    ix = store.whoosh_index.open_dir(str(gen))
    writer = SegmentWriter(ix, compound=False, limitmb=256)
    try:
        manifest = _write(writer, files, report, progress)
    except BaseException:
        writer.cancel()
        raise
    writer.commit(optimize=True)
    store.write_manifest(gen, manifest)
    store.publish(index_dir, gen)
    report.generation = gen.name
    report.files_added = len(files)
    return report


def _build_incremental(gen: Path, files: list[SourceFile], progress: bool | None) -> BuildReport:
    report = BuildReport(full=False, generation=gen.name)
    manifest = store.read_manifest(gen)
    plan = plan_changes(files, manifest)
    report.files_added, report.files_updated = plan.added, plan.updated
    report.files_deleted, report.files_unchanged = len(plan.deleted), plan.unchanged
    if not (plan.to_index or plan.deleted):
        return report
    ix = store.whoosh_index.open_dir(str(gen))
    writer = SegmentWriter(ix, compound=False, limitmb=256)
    try:
        for relpath in plan.deleted + [f.relpath for f in plan.to_index]:
            writer.delete_by_term("path", relpath)
        written = _write(writer, plan.to_index, report, progress)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    store.fsync_tree(gen)
    for relpath in plan.deleted:
        manifest.pop(relpath, None)
    manifest.update(written)
    store.write_manifest(gen, manifest)
    return report


def add_article(index_dir: Path | str, corpus_dir: Path | str, article_record: dict,
                lock_timeout: float = 10.0) -> tuple[Article, Path]:
    """Write one article into the corpus (as ``<id>.jsonl``) and index it.

    The file lands in the corpus first (fsynced), so a later rebuild keeps it;
    then only that file is indexed incrementally.
    """
    from indexer.ingest import article_to_jsonl, validate_article
    corpus_dir = Path(corpus_dir)
    article = validate_article(article_record, relpath="")
    target = corpus_dir / f"{safe_filename(article.id)}.jsonl"
    _write_durably(target, article_to_jsonl(article) + "\n")
    report = build(index_dir, [corpus_dir], lock_timeout=lock_timeout)
    bad = [p for p in report.problems if p.path.startswith(target.name)]
    if bad:
        raise ValueError(bad[0].reason)
    return article, target


def safe_filename(article_id: str) -> str:
    """A file name for an article id: no separators, no dot files, bounded."""
    name = re.sub(r"[^\w.-]+", "_", article_id).lstrip(".")[:150]
    return name or "article"


def _write_durably(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    store.fsync_dir(path.parent)
