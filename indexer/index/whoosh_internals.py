"""Every use of Whoosh's private API, in one place.

vnsearch reads and writes through Whoosh's public extension points where
there is one (a ``Codec`` subclass, :mod:`indexer.index.codec`, for the
postings format; a ``FileStorage`` subclass, ``SegmentReader``,
``Searcher``). What follows has none:

* a segment's deleted documents and its field-length column;
* a generation's segment list, and a segment reader's folder and id;
* new segments' ids (Whoosh's ``IDCHARS``);
* committing segments written by other processes (``_merge_segments``,
  ``_commit_toc``, ``_finish``);
* the field-length totals of a segment being merged (``_fieldlengths``).

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


def set_field_length_totals(perdoc_writer, totals: dict[str, int]) -> None:
    """Set the per-field token totals a W3 per-document writer records in its
    segment (Whoosh adds up the lengths it is given; a merge gives it the
    stored one-byte lengths, and the exact totals are the sources' sum)."""
    perdoc_writer._fieldlengths.clear()
    perdoc_writer._fieldlengths.update({name: total for name, total in totals.items() if total})


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
