"""Where an index lives on disk, and how a new one replaces the old.

Layout of an index directory::

    <index_dir>/
        CURRENT          symlink -> the generation that searches use
        gen-<stamp>/     a complete Whoosh index, plus MANIFEST.json
        build.lock       held (flock) by the one process that writes

* A full rebuild writes a new ``gen-*`` directory, fsyncs it, then swaps
  ``CURRENT`` with one ``rename`` (atomic on POSIX). A search never sees a half
  built index, and a process killed mid-build leaves ``CURRENT`` untouched.
* An incremental update commits into the current generation; Whoosh publishes a
  commit by renaming its table of contents, so readers see all of it or none.
* ``MANIFEST.json`` maps each source file to the hash that was indexed; it is
  written after the Whoosh commit, so a crash in between only makes the next
  run redo those files (every add is preceded by a delete of its path).
* The lock is an ``flock``: the kernel releases it when its holder dies, so a
  killed build never blocks the next one.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, TEXT, Schema

from indexer.analysis import exact_analyzer, folded_analyzer

CURRENT = "CURRENT"
LOCK_FILE = "build.lock"
MANIFEST = "MANIFEST.json"
GEN_PREFIX = "gen-"
KEEP_GENERATIONS = 2   # the current one and the one before (still open in old searchers)


class IndexNotFound(Exception):
    """No index has been built in this directory yet."""


class IndexBusy(Exception):
    """Another process is writing this index."""


def make_schema() -> Schema:
    """The one schema of vnsearch.

    Stored originals (``title``, ``body``) feed snippets; ``*_x`` fields hold
    exact-accent terms, ``*_f`` folded terms. Folded fields keep character
    offsets (into the original text) for highlighting; exact matches are told
    apart at highlight time by re-reading the original slice.
    """
    return Schema(
        id=ID(stored=True, unique=True),
        path=ID(stored=True),
        title=STORED(),
        body=STORED(),
        date=ID(stored=True, sortable=True),
        url=STORED(),
        source=ID(stored=True),
        title_x=TEXT(analyzer=exact_analyzer(), phrase=True),
        body_x=TEXT(analyzer=exact_analyzer(), phrase=True),
        title_f=TEXT(analyzer=folded_analyzer(), phrase=True, chars=True),
        body_f=TEXT(analyzer=folded_analyzer(), phrase=True, chars=True),
    )


def current_generation(index_dir: Path) -> Path:
    """The directory of the generation searches use; raises IndexNotFound."""
    link = Path(index_dir) / CURRENT
    try:
        target = os.readlink(link)
    except FileNotFoundError:
        raise IndexNotFound(f"no index in {index_dir}: run `vnsearch index` first") from None
    gen = (Path(index_dir) / target).resolve()
    if not whoosh_index.exists_in(str(gen)):
        raise IndexNotFound(f"index generation {gen} is missing or incomplete")
    return gen


def open_current(index_dir: Path) -> whoosh_index.Index:
    return whoosh_index.open_dir(str(current_generation(index_dir)))


def new_generation(index_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    gen = Path(index_dir) / f"{GEN_PREFIX}{stamp}-{uuid.uuid4().hex[:8]}"
    gen.mkdir(parents=True)
    whoosh_index.create_in(str(gen), make_schema())
    return gen


def publish(index_dir: Path, gen: Path) -> None:
    """Make ``gen`` the current generation atomically, durably."""
    fsync_tree(gen)
    link = Path(index_dir) / CURRENT
    tmp = Path(index_dir) / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    os.symlink(gen.name, tmp)
    os.replace(tmp, link)
    fsync_dir(Path(index_dir))


def prune_generations(index_dir: Path) -> list[str]:
    """Remove generations other than the newest KEEP_GENERATIONS, and any
    unpublished ones left by a killed build. Call with the build lock held."""
    try:
        current = current_generation(index_dir).name
    except IndexNotFound:
        current = None
    gens = sorted((p for p in Path(index_dir).iterdir()
                   if p.is_dir() and p.name.startswith(GEN_PREFIX)), key=lambda p: p.name)
    keep: set[str] = set()
    if current:
        published = [g.name for g in gens if g.name <= current]
        keep = set(published[-KEEP_GENERATIONS:]) | {current}
    removed = []
    for g in gens:
        if g.name not in keep:
            shutil.rmtree(g, ignore_errors=True)
            removed.append(g.name)
    for stray in Path(index_dir).glob(f".{CURRENT}.*"):
        stray.unlink(missing_ok=True)
    return removed


@contextmanager
def write_lock(index_dir: Path, timeout: float = 0.0) -> Iterator[None]:
    """Hold the index's write lock; wait up to ``timeout`` seconds, else IndexBusy."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(index_dir) / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise IndexBusy(f"another process is writing the index in {index_dir}") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)   # closing releases the flock


def read_manifest(gen: Path) -> dict[str, str]:
    """relpath -> sha256 of the source files indexed in ``gen``."""
    try:
        return json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def write_manifest(gen: Path, manifest: dict[str, str]) -> None:
    tmp = gen / f".{MANIFEST}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, gen / MANIFEST)
    fsync_dir(gen)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """fsync every file of a directory and the directory (Whoosh does not)."""
    for entry in os.scandir(path):
        if entry.is_file(follow_symlinks=False):
            fd = os.open(entry.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fsync_dir(path)
