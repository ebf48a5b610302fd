"""Per-document columns beside each segment: dates and keyword fields as numpy arrays.

Filters, sorting and facet counts never read stored fields one document at a
time: each segment gets ``<segment id>.vncol`` (named like the segment's own
files, so Whoosh's cleanup removes it with its segment and a hard-link clone
carries it along), written by the codec's per-document writer
(:class:`indexer.index.codec.VnPerDocWriter`) from the stored fields as the
segment is written, and never changed after.

Layout (little-endian): ``MAGIC`` (the format's version), uint64 header
length h, h bytes of UTF-8 JSON, then the arrays, each at a multiple of 8
bytes. The header gives the segment's document count and, per column, its
kind, dtype, the (offset, count) of its arrays and, for keyword columns, the
dictionary (the distinct values, sorted; an array holds indexes into it):

* ``date`` -- int64 seconds since 1970-01-01 of the date as written (its
  wall-clock time; an offset such as ``+07:00`` is not applied, so a day is the
  day the outlet printed), ``MISSING_DATE`` when there is none;
* ``topic``, ``source`` -- int32 dictionary codes, ``MISSING_CODE`` when absent;
* ``tags`` -- a CSR list: int64 ``offsets`` (documents + 1) and int32 ``codes``.

:class:`ColumnsReader` joins the segments of one searcher into arrays indexed
by the global document numbers of :class:`~indexer.index.postings.PostingsReader`
(a segment's local number plus its offset), one dictionary per field for the
whole index. Deleted documents keep their values: callers mask them out with
the live mask.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
import re
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from indexer.index import whoosh_internals
from indexer.index.schema import DATE, KEYWORD_FIELDS, LIST_FIELDS

#: The stored fields the columns are made of.
COLUMN_FIELDS = (DATE, *KEYWORD_FIELDS)

MAGIC = b"VNCOL001"
SUFFIX = ".vncol"
MISSING_DATE = np.iinfo(np.int64).min
MISSING_CODE = -1
_EPOCH = datetime(1970, 1, 1)
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")


def column_path(folder: Path | str, segment_id: str) -> Path:
    return Path(folder) / f"{segment_id}{SUFFIX}"


def date_seconds(value: str | None) -> int | None:
    """Seconds since the epoch of an ISO 8601 date or date-time as written
    (``2020-07-14``, ``2020-07-14T06:55:40+07:00``; the offset is not applied),
    or None for no or an unreadable value."""
    m = _ISO.match(value or "")
    if not m:
        return None
    y, mo, d, hh, mi, ss = (int(g or 0) for g in m.groups())
    try:
        when = datetime(y, mo, d, hh, mi, ss)
    except ValueError:
        return None
    return int((when - _EPOCH).total_seconds())


def iso_of_seconds(seconds: int) -> str:
    """The ISO date-time of :func:`date_seconds`: ``2020-07-14T06:55:40``."""
    return (_EPOCH + timedelta(seconds=int(seconds))).isoformat()


# -- writing ------------------------------------------------------------------------
def _values_of(stored: dict, field: str) -> list[str]:
    value = stored.get(field)
    if value is None or value == "":
        return []
    return [v for v in value if v] if isinstance(value, (list, tuple)) else [value]


def columns_of(stored_docs: list[dict]) -> dict[str, dict]:
    """The columns of a segment's documents (their stored fields, in document
    order): ``{field: {"kind", "values"?, arrays...}}``."""
    out: dict[str, dict] = {}
    dates = np.array([s if s is not None else MISSING_DATE
                      for s in (date_seconds(d.get(DATE)) for d in stored_docs)], dtype="<i8")
    out[DATE] = {"kind": "date", "arrays": {"data": dates}}
    for field in KEYWORD_FIELDS:
        per_doc = [_values_of(d, field) for d in stored_docs]
        dictionary = sorted({v for values in per_doc for v in values})
        code = {v: i for i, v in enumerate(dictionary)}
        if field in LIST_FIELDS:
            lengths = np.array([len(v) for v in per_doc], dtype="<i8")
            offsets = np.concatenate([[0], np.cumsum(lengths)]).astype("<i8")
            codes = np.array([code[v] for values in per_doc for v in values], dtype="<i4")
            out[field] = {"kind": "list", "values": dictionary, "arrays": {"offsets": offsets, "codes": codes}}
        else:
            codes = np.array([code[values[0]] if values else MISSING_CODE for values in per_doc], dtype="<i4")
            out[field] = {"kind": "keyword", "values": dictionary, "arrays": {"codes": codes}}
    return out


def encode(doc_count: int, columns: dict[str, dict]) -> bytes:
    """The bytes of a ``.vncol`` file."""
    header: dict = {"docs": doc_count, "columns": {}}
    blobs: list[bytes] = []
    at = 0
    for field, column in columns.items():
        entry = {"kind": column["kind"], "arrays": {}}
        if "values" in column:
            entry["values"] = column["values"]
        for name, array in column["arrays"].items():
            data = np.ascontiguousarray(array).tobytes()
            entry["arrays"][name] = {"dtype": array.dtype.str, "offset": at, "count": int(len(array))}
            blobs.append(data + b"\0" * (-len(data) % 8))
            at += len(blobs[-1])
        header["columns"][field] = entry
    raw = json.dumps(header, ensure_ascii=False).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    return MAGIC + np.uint64(len(raw)).tobytes() + raw + b"".join(blobs)


def decode(data: bytes, path: Path | str = "<bytes>") -> tuple[int, dict[str, dict]]:
    """(document count, columns) of a ``.vncol`` file's bytes; ValueError if it is not one."""
    if data[:8] != MAGIC:
        raise ValueError(f"{path}: not a vnsearch columns file of this version")
    size = int(np.frombuffer(data[8:16], dtype="<u8")[0])
    header = json.loads(data[16:16 + size].decode("utf-8"))
    base = 16 + size
    columns = {}
    for field, entry in header["columns"].items():
        arrays = {name: np.frombuffer(data, dtype=a["dtype"], count=a["count"], offset=base + a["offset"])
                  for name, a in entry["arrays"].items()}
        columns[field] = {"kind": entry["kind"], "values": entry.get("values"), "arrays": arrays}
    return header["docs"], columns


# -- reading ------------------------------------------------------------------------
@dataclass(frozen=True)
class KeywordColumn:
    """One keyword field over every document: ``values`` its dictionary (sorted);
    single-valued: ``codes[doc]`` (``MISSING_CODE`` if absent); list-valued:
    ``codes[offsets[doc]:offsets[doc + 1]]``, with ``owners`` the document of each code."""
    values: tuple[str, ...]
    codes: np.ndarray
    offsets: np.ndarray | None = None
    owners: np.ndarray | None = None

    def holding(self, wanted: np.ndarray, n: int) -> np.ndarray:
        """True for each of the ``n`` documents holding any of the codes ``wanted``."""
        table = np.zeros(len(self.values) + 1, dtype=bool)     # the last slot: MISSING_CODE
        table[np.asarray(wanted, dtype=np.int64)] = True
        hit = table[self.codes]
        if self.offsets is None:
            return hit
        mask = np.zeros(n, dtype=bool)
        mask[self.owners[hit]] = True
        return mask

    def present(self, n: int) -> np.ndarray:
        """True for each document with at least one value."""
        if self.offsets is None:
            return self.codes != MISSING_CODE
        return np.diff(self.offsets) > 0

    def counts(self, docs: np.ndarray) -> np.ndarray:
        """How many of ``docs`` (a boolean mask over documents) hold each value."""
        if self.offsets is None:
            codes = self.codes[docs]
            return np.bincount(codes[codes != MISSING_CODE], minlength=len(self.values))
        return np.bincount(self.codes[docs[self.owners]], minlength=len(self.values))


class ColumnsReader:
    """The columns of one searcher's segments, as arrays over global document numbers.

    ``leaves``: ``(segment reader, offset)`` pairs, as :class:`PostingsReader`
    has them; ``n``: the searcher's ``doc_count_all()``. Valid as long as the
    searcher is (make a new one when it is reopened).
    """

    def __init__(self, leaves: list, n: int) -> None:
        self.n = n
        self.dates = np.full(n, MISSING_DATE, dtype=np.int64)
        parts: dict[str, list] = {f: [] for f in KEYWORD_FIELDS}
        for reader, offset in leaves:
            location = whoosh_internals.segment_location(reader)
            if location is None:
                raise ValueError("not a segment of a file storage")
            path = column_path(*location)
            with open(path, "rb") as f:
                docs, columns = decode(f.read(), path)
            self.dates[offset:offset + docs] = columns[DATE]["arrays"]["data"]
            for field in KEYWORD_FIELDS:
                parts[field].append((offset, docs, columns[field]))
        self._keywords = {field: _join(chunks, n) for field, chunks in parts.items()}

    def keyword(self, field: str) -> KeywordColumn:
        return self._keywords[field]

    def has_date(self) -> np.ndarray:
        return self.dates != MISSING_DATE


def _join(chunks: list, n: int) -> KeywordColumn:
    """One column over the index from its segments' (offset, docs, column)."""
    values = tuple(sorted({v for _, _, column in chunks for v in column["values"]}))
    index = {v: i for i, v in enumerate(values)}
    listed = any(column["kind"] == "list" for _, _, column in chunks)
    if not listed:
        codes = np.full(n, MISSING_CODE, dtype=np.int32)
        for offset, docs, column in chunks:
            remap = np.array([index[v] for v in column["values"]] + [MISSING_CODE], dtype=np.int32)
            codes[offset:offset + docs] = remap[column["arrays"]["codes"]]
        return KeywordColumn(values, codes)
    lengths = np.zeros(n, dtype=np.int64)
    pieces: list[np.ndarray] = []
    for offset, docs, column in chunks:
        remap = np.array([index[v] for v in column["values"]] + [MISSING_CODE], dtype=np.int32)
        lengths[offset:offset + docs] = np.diff(column["arrays"]["offsets"])
        pieces.append(remap[column["arrays"]["codes"]])
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    codes = np.concatenate(pieces).astype(np.int32) if pieces else np.zeros(0, np.int32)
    owners = np.repeat(np.arange(n, dtype=np.int64), lengths)
    return KeywordColumn(values, codes, offsets, owners)


def open_columns(postings_reader) -> ColumnsReader:
    """The columns of a :class:`~indexer.index.postings.PostingsReader`'s searcher."""
    return ColumnsReader(postings_reader.leaves, postings_reader.doc_count_all)
