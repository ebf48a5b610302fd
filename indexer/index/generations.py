"""Where an index lives on disk, and how a new one replaces the old.

Layout of an index directory::

    <index_dir>/
        CURRENT          symlink -> the generation that searches use
        gen-<stamp>/     a complete Whoosh index written by vnsearch's codec
                         (:mod:`indexer.index.codec`), FORMAT (the on-disk format version), MANIFEST.json
                         (and RETIRED once another generation replaced it)
        build.lock       held (flock) by the one process that writes

* Every build -- full or incremental -- writes a generation that no reader
  has open, fsyncs it, then swaps ``CURRENT`` with one ``rename`` (atomic on
  POSIX). A full rebuild starts an empty generation; an incremental one starts
  from a clone of the current generation (hard links: Whoosh never rewrites a
  file, it writes new segments and a new TOC and unlinks what it merged away,
  which in a clone unlinks only the clone's names). A published generation is
  therefore never modified: searchers opened on it keep working while it is
  replaced (Whoosh opens some segment files lazily, and an in-place commit
  that merges segments deletes files an open searcher has not read yet), and
  a build killed at any moment leaves ``CURRENT`` and what it points to
  untouched. Whoosh does not fsync; a generation is fsynced whole (files and
  directory) before ``CURRENT`` points to it, and the index directory after.
* ``MANIFEST.json`` maps each source file to the hash that was indexed; it is
  written into the new generation before the swap, so the manifest and the
  index it describes are published together.
* A replaced generation gets a ``RETIRED`` marker and is kept while it may
  still be read (the most recently retired one, and any retired less than
  ``RETIRED_GRACE_SECONDS`` ago: a request that refreshed its searcher just
  before two quick swaps). Unpublished generations (a killed build's) carry no
  marker and are removed by the next build.
* The lock is an ``flock``: the kernel releases it when its holder dies, so a
  killed build never blocks the next one. Whoosh's own lock (``MAIN_WRITELOCK``)
  is not taken -- the build lock already serializes writers -- nor copied into
  a clone from generations written before.
* Whoosh names segments with the global ``random`` module; vnsearch's writer
  draws them from the OS and creates files exclusively, so a seeded ``random``
  can never make a build truncate an existing segment.
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
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from indexer.index import whoosh_internals
from indexer.index.codec import VnCodec
from indexer.index.durable import fsync_dir, fsync_tree, make_dirs_durably, write_text_atomically
from indexer.index.schema import make_schema

FORMAT_FILE = "FORMAT"
#: The on-disk format of a generation: Whoosh segments written by
#: :class:`indexer.index.codec.VnCodec`. Another version is refused: its
#: files are not what this code reads.
FORMAT_VERSION = 3
CURRENT = "CURRENT"
LOCK_FILE = "build.lock"
MANIFEST = "MANIFEST.json"
GEN_PREFIX = "gen-"
RETIRED = "RETIRED"
KEEP_GENERATIONS = 2   # the current one and the one before (still open in old searchers)
RETIRED_GRACE_SECONDS = 120.0   # also keep generations retired this recently (gunicorn's worker timeout)
_NOT_CLONED = ("MAIN_WRITELOCK", RETIRED)


class IndexNotFound(Exception):
    """No index has been built in this directory yet."""


class IndexFormatError(IndexNotFound):
    """The current generation was written in another on-disk format."""


class IndexBusy(Exception):
    """Another process is writing this index."""


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
    check_format(gen)
    return gen


def format_of(gen: Path) -> int | None:
    """The format version written in a generation, or None if it has none."""
    try:
        text = (Path(gen) / FORMAT_FILE).read_text(encoding="utf-8").split()
        return int(text[-1]) if text else None
    except (FileNotFoundError, ValueError):
        return None


def check_format(gen: Path) -> None:
    """Raise IndexFormatError unless ``gen`` is of :data:`FORMAT_VERSION`."""
    found = format_of(gen)
    if found != FORMAT_VERSION:
        what = f"format {found}" if found is not None else "no format version (an older vnsearch)"
        raise IndexFormatError(f"the index in {Path(gen).parent} has {what}; this vnsearch reads "
                               f"format {FORMAT_VERSION}: rebuild with `vnsearch index --full`")


def open_current(index_dir: Path) -> whoosh_index.Index:
    return whoosh_index.open_dir(str(current_generation(index_dir)))


class _NoOverwriteStorage(FileStorage):
    """Whoosh's FileStorage, except that a file is only ever created new (O_EXCL):
    Whoosh never means to overwrite one, and in a clone an existing name is an
    inode shared with the published generation."""

    def create_file(self, name, excl=False, mode="wb", **kwargs):
        return super().create_file(name, excl=True, mode=mode, **kwargs)


def storage(gen: Path) -> FileStorage:
    """The Whoosh storage of the unpublished generation ``gen``: files only ever created new."""
    return _NoOverwriteStorage(str(gen))


def new_writer(gen: Path, **kwargs) -> SegmentWriter:
    """A Whoosh writer into the unpublished generation ``gen``: fresh segment ids,
    files only ever created new, and not Whoosh's own lock (``MAIN_WRITELOCK``):
    the build lock serializes writers."""
    ix = whoosh_index.FileIndex(storage(gen))
    return SegmentWriter(ix, _lk=False, codec=VnCodec(), **kwargs)


def _generation_dir(index_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    gen = Path(index_dir) / f"{GEN_PREFIX}{stamp}-{uuid.uuid4().hex[:8]}"
    gen.mkdir(parents=True)
    return gen


def new_generation(index_dir: Path) -> Path:
    """A new, empty, unpublished generation."""
    gen = _generation_dir(index_dir)
    whoosh_index.create_in(str(gen), make_schema())
    write_text_atomically(gen / FORMAT_FILE, f"vnsearch-index {FORMAT_VERSION}\n", sync_dir=False)
    return gen


def clone_generation(index_dir: Path, source: Path) -> Path:
    """A new unpublished generation holding what ``source`` holds: its files
    hard-linked (copied where links are impossible), never Whoosh's lock file
    or temporary files."""
    gen = _generation_dir(index_dir)
    for entry in os.scandir(source):
        if (not entry.is_file(follow_symlinks=False) or entry.name.startswith(".")
                or entry.name in _NOT_CLONED or ".toc." in entry.name):
            continue
        try:
            os.link(entry.path, gen / entry.name)
        except OSError:
            shutil.copy2(entry.path, gen / entry.name)
    return gen


def publish(index_dir: Path, gen: Path) -> None:
    """Make ``gen`` the current generation atomically, durably."""
    fsync_tree(gen)
    link = Path(index_dir) / CURRENT
    try:
        old = Path(index_dir) / os.readlink(link)
    except OSError:
        old = None
    if old is not None and old.name != gen.name and old.is_dir():
        (old / RETIRED).touch()            # its mtime: when it stopped being current
    tmp = Path(index_dir) / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    os.symlink(gen.name, tmp)
    os.replace(tmp, link)
    fsync_dir(Path(index_dir))


def is_retired(gen: Path) -> bool:
    """True for a generation that was current once and has been replaced."""
    return (Path(gen) / RETIRED).exists()


def prune_generations(index_dir: Path, grace: float | None = None) -> list[str]:
    """Remove generations nobody can be reading: unpublished ones (a killed or
    failed build's) and retired ones other than the most recent and those
    retired less than ``grace`` seconds ago. Call with the build lock held."""
    grace = RETIRED_GRACE_SECONDS if grace is None else grace
    try:
        current = Path(os.readlink(Path(index_dir) / CURRENT)).name   # even if broken: never remove it
    except OSError:
        current = None
    now = time.time()
    retired: list[tuple[float, str]] = []
    gens = [p for p in Path(index_dir).iterdir()
            if p.is_dir() and not p.is_symlink() and p.name.startswith(GEN_PREFIX)]
    for g in gens:
        try:
            retired.append(((g / RETIRED).stat().st_mtime, g.name))
        except OSError:
            pass
    retired.sort(reverse=True)
    keep = {current} | {name for i, (when, name) in enumerate(retired)
                        if i < KEEP_GENERATIONS - 1 or now - when < grace}
    removed = []
    for g in sorted(gens):
        if g.name not in keep:
            shutil.rmtree(g, ignore_errors=True)
            removed.append(g.name)
    for stray in Path(index_dir).glob(f".{CURRENT}.*"):
        stray.unlink(missing_ok=True)
    return removed


@contextmanager
def write_lock(index_dir: Path, timeout: float = 0.0) -> Iterator[None]:
    """Hold the index's write lock; wait up to ``timeout`` seconds, else IndexBusy."""
    make_dirs_durably(Path(index_dir))
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
    write_text_atomically(gen / MANIFEST, json.dumps(manifest, ensure_ascii=False, sort_keys=True))
