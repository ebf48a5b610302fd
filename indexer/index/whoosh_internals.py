"""Every use of Whoosh's private API, in one place.

vnsearch reads and writes through Whoosh's public extension points where
there is one (a ``Codec`` subclass, :mod:`indexer.index.codec`, for the
postings format; a ``FileStorage`` subclass, ``SegmentReader``,
``Searcher``). What follows has none:

* a segment's deleted documents and its field-length column;
* a generation's segment list, and a segment reader's folder and id;
* new segments' ids (Whoosh's ``IDCHARS``);
* committing segments written by other processes (``_merge_segments``,
  ``_commit_toc``, ``_finish``) and the workers' writer hooks (``pool``,
  ``_tempstorage``, ``_flush_segment``, ``_finalize_segment``).

These are the internals of ``whoosh-reloaded==2.7.5`` (pinned in
``pyproject.toml``); ``tests/index/test_whoosh_internals.py`` checks that the
installed Whoosh is that version, that every name used here exists, and that
no other module of vnsearch touches them.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util import IDCHARS
from whoosh.util.numeric import byte_to_length

WHOOSH_VERSION = (2, 7, 5)
BYTE_TO_LENGTH = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)


# --------------------------------------------------------------------------- reading a segment

def deleted_docs(reader) -> np.ndarray:
    """The segment-local numbers of a segment's deleted documents."""
    if not reader.has_deletions():
        return np.zeros(0, dtype=np.int64)
    return np.fromiter(reader._perdoc.deleted_docs(), dtype=np.int64)


def length_bytes(per_doc_reader, fieldname: str, count: int | None = None) -> np.ndarray | None:
    """The field-length column of a segment's per-document reader: one byte
    per document (Whoosh's lossy encoding, see :data:`BYTE_TO_LENGTH`), or
    None if the segment has no lengths for the field."""
    column = per_doc_reader._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return None
    count = column._count if count is None else min(column._count, count)
    return np.frombuffer(column._dbfile.get(column._basepos, count), dtype=np.uint8)


def field_lengths(reader, fieldname: str) -> np.ndarray | None:
    """The lengths of a field in every document of one segment (float32), or None."""
    raw = length_bytes(reader._perdoc, fieldname, reader.doc_count_all())
    return None if raw is None else BYTE_TO_LENGTH[raw]


def segments(ix) -> list:
    """The segments of an opened index, in order."""
    return list(ix._segments())


def segment_location(reader) -> tuple[Path, str] | None:
    """The folder and segment id of a segment reader on a file storage, or None."""
    storage = getattr(reader, "_storage", None)
    segment = getattr(reader, "_segment", None)
    folder = getattr(storage, "folder", None)
    if folder is None or segment is None:
        return None
    return Path(folder), segment.segment_id()


# --------------------------------------------------------------------------- writing

_SEGMENT_IDS = random.SystemRandom()


def fresh_segment_id(storage, indexname: str) -> str:
    """A segment id drawn from the OS's randomness that no file of ``storage``
    uses. Whoosh draws ids from the global ``random`` module: a process that
    seeds it (hypothesis does, before every example; applications may) draws
    an existing segment's name again, and Whoosh's ``open(name, "wb")``
    truncated that segment."""
    existing = set(storage.list())
    while True:
        segid = "".join(_SEGMENT_IDS.choice(IDCHARS) for _ in range(16))
        if not any(name.startswith(f"{indexname}_{segid}") for name in existing):
            return segid


def copy_schema_fields(schema):
    """A shallow copy of a schema whose field table may be changed (``fields``
    maps names to field objects; the copy's changes do not reach ``schema``)."""
    import copy
    out = copy.copy(schema)
    out._fields = dict(schema._fields)
    return out, out._fields


def commit_with_segments(writer, segments: list, optimize: bool) -> None:
    """``writer.commit``, plus ``segments`` finished by other processes, listed
    after the writer's own (existing segments, merged by Whoosh's policy)."""
    if not segments:
        writer.commit(optimize=optimize)
        return
    writer._check_state()
    final = writer._merge_segments(None, optimize, None)
    if writer._added:           # the merge policy merged existing segments into this writer
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(final + list(segments))
    writer._finish()


def prepare_worker_writer(writer, temp_name: str, pool_factory, schema, flush) -> None:
    """Make a build worker's writer spill into its own temporary storage
    ``temp_name``, pool postings in ``pool_factory(tempstore)``, index with
    ``schema`` and finish its segment with ``flush(writer)``."""
    tmp = writer.storage.temp_storage(temp_name)
    writer._tempstorage = tmp
    writer.pool = pool_factory(tmp)
    writer.schema = schema
    writer._flush_segment = lambda: flush(writer)


def finalize_segment(writer):
    """Write out a worker writer's segment and return Whoosh's ``Segment`` object."""
    segment = writer._finalize_segment()
    writer._tempstorage.destroy()
    return segment


class ColumnLengths:
    """``doc_field_length`` of a per-document reader, each field's length column
    read once into memory (Whoosh reads it from the file at every posting)."""

    def __init__(self, per_doc_reader) -> None:
        self._pdr = per_doc_reader
        self._columns: dict[str, list | None] = {}

    def doc_field_length(self, docnum: int, fieldname: str, default=0):
        column = self._columns.get(fieldname, False)
        if column is False:
            raw = length_bytes(self._pdr, fieldname)
            column = None if raw is None else [byte_to_length(b) if b else None for b in raw.tolist()]
            self._columns[fieldname] = column
        if column is None:
            return default
        return column[docnum]
