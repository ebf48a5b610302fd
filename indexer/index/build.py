"""Building the index: full (a fresh generation) or incremental (a clone of
the current one), each swapped in atomically once fsynced (see :mod:`indexer.index.generations`).

The PATHS given to a build are the whole corpus: files found there are added
or updated, files indexed before and no longer found are removed. A file whose
bytes are unchanged (same sha256) is not read again, let alone segmented.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

from whoosh.writing import SegmentWriter

from indexer.index import generations, parallel, whoosh_internals
from indexer.index import schema
from indexer.index.durable import write_text_atomically
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


def article_fields(article: Article) -> dict[str, object]:
    """The document of one article: stored originals plus the analyzed copies."""
    doc = {schema.ID_FIELD: article.id, schema.PATH: article.relpath, schema.TITLE: article.title, schema.BODY: article.text}
    for form in schema.FORMS:
        doc[schema.indexed(schema.TITLE, form)] = article.title
        doc[schema.indexed(schema.BODY, form)] = article.text
    for name, value in ((schema.DATE, article.date), (schema.URL, article.url), (schema.SOURCE, article.source),
                        (schema.TOPIC, article.topic), (schema.TAGS, list(article.tags))):
        if value:
            doc[name] = value
    return doc


def _articles(files: Iterable[SourceFile], problems: list[Problem]) -> Iterator[Article]:
    for source in files:
        yield from read_articles(source, problems)


def _progress(total: int | None, enabled: bool | None):
    """A tqdm bar on a terminal (docs/s, and an ETA when ``total`` is known), else None."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm
    return tqdm(total=total, unit="doc", desc="indexing", file=sys.stderr, dynamic_ncols=True)


LIMIT_MB = 256      # Whoosh's posting pool of the one-process writer, before it spills runs to disk


def _scan(files: list[SourceFile], report: BuildReport, keep: int) -> tuple[parallel.Scan, list[Article] | None]:
    """Read the articles once: problems and duplicate ids reported (in reading
    order, as always), and what the parallel workers need to find their ranges.
    The articles themselves are kept only while there are fewer than ``keep``:
    a small build is then written from them without reading the files again."""
    scan = parallel.Scan()
    kept: list[Article] | None = []
    seen_ids: dict[str, str] = {}
    raw = 0
    for source in files:
        scan.file_raw_start.append(raw)
        scan.file_accepted_start.append(len(scan.ids))
        for article in read_articles(source, report.problems):
            raw += 1
            if article.id in seen_ids:
                report.problems.append(Problem(article.relpath,
                                               f"duplicate id {article.id!r} (first in {seen_ids[article.id]}): skipped"))
                scan.skipped.add(raw - 1)
                continue
            seen_ids[article.id] = article.relpath
            scan.ids.append(article.id)
            scan.sizes.append(len(article.title) + len(article.text))
            if kept is not None:
                kept.append(article)
                if len(kept) >= keep:
                    kept = None
    return scan, kept


def _write(writer: SegmentWriter, files: list[SourceFile], report: BuildReport, progress: bool | None,
           *, gen: Path | None = None, index_dir: Path | None = None, existing: bool = False,
           workers: int | None = None, parallel_min: int | None = None) -> tuple[dict[str, str], list]:
    """Index the articles of ``files``. Returns relpath -> sha256 of the files
    read, and the segments written by parallel workers (empty when the
    articles went through ``writer`` in this process), which the commit must add.

    With more than one worker and at least ``parallel_min`` articles, the
    articles are split among worker processes (:mod:`indexer.index.parallel`), each
    writing a segment of its own into ``gen``; ``existing`` says the writer has
    segments already (an incremental build), whose copies of the ids are then
    deleted here, as ``update_document`` does in the one-process path.
    """
    workers = parallel.default_workers() if workers is None else max(1, workers)
    threshold = parallel.PARALLEL_MIN_ARTICLES if parallel_min is None else max(1, parallel_min)
    if workers > 1 and gen is not None:
        scan, kept = _scan(files, report, keep=threshold)
    else:
        scan, kept = None, None
    manifest = {f.relpath: f.sha256 for f in files}
    if scan is not None and kept is None:
        if existing:
            for article_id in scan.ids:
                writer.delete_by_term(schema.ID_FIELD, article_id)
        bar = _progress(len(scan.ids), progress)
        try:
            segments = parallel.index_ranges(index_dir, gen, files, scan, workers,
                                             lambda article: article_fields(article), bar)
        finally:
            if bar is not None:
                bar.close()
        report.articles_indexed += len(scan.ids)
        return manifest, segments

    bar = _progress(len(kept) if kept is not None else None, progress)
    seen_ids: dict[str, str] = {}
    try:
        for article in (kept if kept is not None else _articles(files, report.problems)):
            if kept is None:
                if article.id in seen_ids:
                    report.problems.append(Problem(article.relpath,
                                                   f"duplicate id {article.id!r} (first in {seen_ids[article.id]}): skipped"))
                    continue
                seen_ids[article.id] = article.relpath
            writer.update_document(**article_fields(article))
            report.articles_indexed += 1
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return manifest, []


def build(index_dir: Path | str, paths: Iterable[Path | str], *, full: bool = False,
          progress: bool | None = None, lock_timeout: float = 0.0,
          workers: int | None = None, parallel_min: int | None = None) -> BuildReport:
    """Bring the index in ``index_dir`` up to date with the files under ``paths``.

    ``full=True`` (or no index yet) builds a new generation from scratch;
    otherwise the changes are committed to a clone of the current generation.
    Either way the new generation is fsynced and swapped in atomically.
    Raises ``generations.IndexBusy`` if another process holds the write lock longer
    than ``lock_timeout`` seconds.

    ``workers`` processes (default: the usable cores, or ``VNSEARCH_BUILD_WORKERS``)
    share the articles when there are at least ``parallel_min`` of them (default
    ``parallel.PARALLEL_MIN_ARTICLES``); the index then holds one new segment per
    worker, with the same documents, in the same order, and the same postings.
    """
    index_dir = Path(index_dir)
    paths = [Path(p) for p in paths]
    _check_paths(paths)
    started = time.monotonic()
    with generations.write_lock(index_dir, timeout=lock_timeout):
        report = _build_locked(index_dir, paths, full, progress,
                               _Parallelism(workers, parallel_min))
    report.seconds = time.monotonic() - started
    return report


def _check_paths(paths: list[Path]) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:   # an incremental build would read "no files" as "delete everything"
        raise FileNotFoundError(f"corpus path not found: {', '.join(missing)}")


@dataclass(frozen=True)
class _Parallelism:
    workers: int | None = None
    parallel_min: int | None = None


def _build_locked(index_dir: Path, paths: list[Path], full: bool, progress: bool | None,
                  par: _Parallelism = _Parallelism()) -> BuildReport:
    files, problems = discover(paths)
    try:
        gen = generations.current_generation(index_dir)
    except generations.IndexFormatError:
        if not full:       # an incremental build would add new segments to files it cannot read
            raise
        gen = None
    except generations.IndexNotFound:
        gen = None
    if full or gen is None:
        report = _build_full(index_dir, files, progress, par)
    else:
        report = _build_incremental(index_dir, gen, files, progress, par)
    report.problems[:0] = problems
    generations.prune_generations(index_dir)
    return report


def _commit_new_generation(index_dir: Path, gen: Path,
                           fill: Callable[[SegmentWriter], tuple[dict[str, str], list]],
                           optimize: bool) -> None:
    """Write into the unpublished generation ``gen`` with ``fill`` (which returns
    its manifest and the segments parallel workers wrote), commit, write the
    manifest, publish. On any failure (parallel workers are stopped before
    ``fill`` returns) the generation is removed and ``CURRENT`` is untouched."""
    try:
        writer = generations.new_writer(gen, compound=False, limitmb=LIMIT_MB)
        try:
            manifest, segments = fill(writer)
        except BaseException:
            writer.cancel()
            raise
        whoosh_internals.commit_with_segments(writer, segments, optimize)
        generations.write_manifest(gen, manifest)
        generations.publish(index_dir, gen)
    except BaseException:
        try:
            published = generations.current_generation(index_dir).name == gen.name
        except generations.IndexNotFound:
            published = False
        if not published:
            shutil.rmtree(gen, ignore_errors=True)
        raise


def _build_full(index_dir: Path, files: list[SourceFile], progress: bool | None,
                par: _Parallelism = _Parallelism()) -> BuildReport:
    report = BuildReport(full=True)
    gen = generations.new_generation(index_dir)
    _commit_new_generation(index_dir, gen,
                           lambda writer: _write(writer, files, report, progress, gen=gen, index_dir=index_dir,
                                                 workers=par.workers, parallel_min=par.parallel_min),
                           optimize=True)
    report.generation = gen.name
    report.files_added = len(files)
    return report


def _build_incremental(index_dir: Path, current: Path, files: list[SourceFile],
                       progress: bool | None, par: _Parallelism = _Parallelism()) -> BuildReport:
    report = BuildReport(full=False, generation=current.name)
    manifest = generations.read_manifest(current)
    plan = plan_changes(files, manifest)
    report.files_added, report.files_updated = plan.added, plan.updated
    report.files_deleted, report.files_unchanged = len(plan.deleted), plan.unchanged
    if not (plan.to_index or plan.deleted):
        return report

    def fill(writer: SegmentWriter) -> tuple[dict[str, str], list]:
        for relpath in plan.deleted + [f.relpath for f in plan.to_index]:
            writer.delete_by_term(schema.PATH, relpath)
        written, segments = _write(writer, plan.to_index, report, progress, gen=gen, index_dir=index_dir,
                                   existing=True, workers=par.workers, parallel_min=par.parallel_min)
        updated = {k: v for k, v in manifest.items() if k not in set(plan.deleted)}
        updated.update(written)
        return updated, segments

    gen = generations.clone_generation(index_dir, current)
    _commit_new_generation(index_dir, gen, fill, optimize=False)
    report.generation = gen.name
    return report


class ArticleExists(Exception):
    """An article with this id is already indexed."""


def add_article(index_dir: Path | str, corpus_dir: Path | str, article_record: dict,
                lock_timeout: float = 10.0) -> tuple[Article, Path]:
    """Write one article into the corpus (as ``<id>.jsonl``) and index it.

    Under the write lock, so two additions (or an addition and a build) never
    interleave: raises ``ArticleExists`` if the id is indexed already, picks a
    file name no other article uses (ids differing only in characters a file
    name cannot hold, like ``a/b`` and ``a_b``, must not overwrite each other),
    writes the file durably (fsynced, and its directory), then indexes the
    corpus incrementally, which reads only that file.
    """
    from indexer.ingest import article_to_jsonl, validate_article
    corpus_dir = Path(corpus_dir)
    article = validate_article(article_record, relpath="")
    index_dir = Path(index_dir)
    _check_paths([corpus_dir])
    with generations.write_lock(index_dir, timeout=lock_timeout):
        if _is_indexed(index_dir, article.id):
            raise ArticleExists(article.id)
        target = article_path(corpus_dir, article.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomically(target, article_to_jsonl(article) + "\n")
        report = _build_locked(index_dir, [corpus_dir], False, False)
    bad = [p for p in report.problems if p.path == target.name or p.path.startswith(target.name + ":")]
    if bad:
        raise ValueError(bad[0].reason)
    return article, target


def _is_indexed(index_dir: Path, article_id: str) -> bool:
    try:
        ix = generations.open_current(index_dir)
    except generations.IndexNotFound:
        return False
    with ix.searcher() as searcher:
        return searcher.document_number(**{schema.ID_FIELD: article_id}) is not None


def article_path(corpus_dir: Path, article_id: str) -> Path:
    """``<safe id>.jsonl``, unless another article's file has that name: then
    the name gets a hash of the id. A file holding only this id is reused (an
    addition that was written but not indexed, e.g. killed in between)."""
    base = safe_filename(article_id)
    digest = hashlib.sha256(article_id.encode("utf-8")).hexdigest()
    for name in (f"{base}.jsonl", f"{base}-{digest[:12]}.jsonl", f"{base}-{digest}.jsonl"):
        path = corpus_dir / name
        if not os.path.lexists(path):
            return path
        if path.is_symlink() or not path.is_file():
            continue
        problems: list[Problem] = []
        source = SourceFile(path=path, relpath=name, size=0, sha256="")
        if [a.id for a in read_articles(source, problems)] == [article_id] and not problems:
            return path
    raise ValueError("no free file name for this id in the corpus directory")


MAX_NAME_BYTES = 120     # + "-<sha256>.jsonl" and the temporary ".….tmp" stay under NAME_MAX (255 bytes)


def safe_filename(article_id: str) -> str:
    """A file name for an article id: no separators, no dot files, bounded in
    bytes (150 Vietnamese letters are 300 UTF-8 bytes: too long a name)."""
    name = re.sub(r"[^\w.-]+", "_", article_id).lstrip(".")
    name = name.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", errors="ignore")
    return name or "article"
