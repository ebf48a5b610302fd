"""Score-only postings beside each Whoosh segment, for fast cold queries.

Whoosh stores a term's postings in blocks that hold the ids, the weights and
the positions (and characters) together, pickled and compressed: scoring a
common syllable at 100k documents means unpickling every position of it,
tens of milliseconds per term, although BM25 needs only ids and weights.
So each segment gets a sidecar file, ``<segment id>.vnpost``, holding just
those, as flat arrays read with one ``pread`` per term.

The file is named like the segment's own files (``MAIN_<id>.<ext>``), so
Whoosh's own cleanup removes it with its segment, and a hard-link clone of a
generation carries it along. It is written before the generation is
published and never changed after. A segment without one (an index from
before sidecars) is read from Whoosh's blocks, with the same result.

Layout (little-endian): ``MAGIC``, uint64 term count n, uint64 posting count
m, then uint64 keys[n] (sorted hashes of ``field NUL term``), int64 starts[n],
int64 counts[n], int32 docnums[m] (segment-local), float32 weights[m].
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

MAGIC = b"VNPOST01"
SUFFIX = ".vnpost"
SCORED_FIELDS = ("title_x", "body_x", "title_f", "body_f")


def term_key(fieldname: str, term_bytes: bytes) -> int:
    digest = hashlib.blake2b(fieldname.encode("utf-8") + b"\0" + term_bytes, digest_size=8).digest()
    return int.from_bytes(digest, "little")


def sidecar_path(folder: Path | str, segment_id: str) -> Path:
    return Path(folder) / f"{segment_id}{SUFFIX}"


def write_sidecar(segment_reader, path: Path) -> None:
    """Decode every posting list of the scored fields of one segment and write
    the sidecar (to a temporary name, fsynced, then renamed)."""
    from indexer.postings import _leaf_arrays
    keys, counts, ids, weights = [], [], [], []
    for field in SCORED_FIELDS:
        if field not in segment_reader.schema:
            continue
        for tbytes, _ in segment_reader.iter_field(field):
            arrays = _leaf_arrays(segment_reader, field, tbytes)
            if arrays is None:
                continue
            keys.append(term_key(field, tbytes))
            counts.append(len(arrays[0]))
            ids.append(arrays[0].astype("<i4"))
            weights.append(arrays[1].astype("<f4"))
    key_arr = np.asarray(keys, dtype="<u8")
    count_arr = np.asarray(counts, dtype="<i8")
    start_arr = np.concatenate([[0], np.cumsum(count_arr)[:-1]]).astype("<i8") if len(keys) else count_arr
    if len(np.unique(key_arr)) != len(key_arr):
        raise RuntimeError("sidecar term hash collision")   # 2^-64 odds per pair: never seen
    order = np.argsort(key_arr, kind="stable")
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(MAGIC)
        f.write(np.asarray([len(keys), int(count_arr.sum())], dtype="<u8").tobytes())
        f.write(key_arr[order].tobytes())
        f.write(start_arr[order].tobytes())
        f.write(count_arr[order].tobytes())
        for block in ids:
            f.write(block.tobytes())
        for block in weights:
            f.write(block.tobytes())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_missing(gen: Path, workers: int = 1) -> int:
    """Write the sidecar of every segment of generation ``gen`` that has none;
    returns how many were written. Segments are done in parallel (forked
    processes) when ``workers`` > 1 and there are several."""
    from indexer import store
    ix = store.whoosh_index.open_dir(str(gen))
    segments = [s for s in ix._segments() if not sidecar_path(gen, s.segment_id()).exists()]
    if not segments:
        return 0
    if workers > 1 and len(segments) > 1:
        import multiprocessing
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(min(workers, len(segments))) as pool:
            pool.starmap(_write_one, [(str(gen), s.segment_id()) for s in segments])
    else:
        for s in segments:
            _write_one(str(gen), s.segment_id())
    return len(segments)


def _write_one(gen: str, segment_id: str) -> None:
    from whoosh.reading import SegmentReader
    from indexer import store
    ix = store.whoosh_index.open_dir(gen)
    segment = next(s for s in ix._segments() if s.segment_id() == segment_id)
    reader = SegmentReader(ix.storage, ix.schema, segment)
    try:
        write_sidecar(reader, sidecar_path(gen, segment_id))
    finally:
        reader.close()


class Sidecar:
    """An open sidecar: term lookups in memory, postings read on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDONLY)
        header = os.pread(self._fd, 24, 0)
        if header[:8] != MAGIC:
            os.close(self._fd)
            raise ValueError(f"{path}: not a vnsearch sidecar")
        n, m = np.frombuffer(header[8:], dtype="<u8").tolist()
        table = os.pread(self._fd, 24 * n, 24)
        self.keys = np.frombuffer(table, dtype="<u8", count=n)
        self.starts = np.frombuffer(table, dtype="<i8", count=n, offset=8 * n)
        self.counts = np.frombuffer(table, dtype="<i8", count=n, offset=16 * n)
        self._ids_at = 24 + 24 * n
        self._weights_at = self._ids_at + 4 * m

    def postings(self, fieldname: str, term_bytes: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        key = term_key(fieldname, term_bytes)
        i = int(np.searchsorted(self.keys, key))
        if i >= len(self.keys) or int(self.keys[i]) != key:
            return None
        start, count = int(self.starts[i]), int(self.counts[i])
        ids = np.frombuffer(os.pread(self._fd, 4 * count, self._ids_at + 4 * start), dtype="<i4")
        weights = np.frombuffer(os.pread(self._fd, 4 * count, self._weights_at + 4 * start), dtype="<f4")
        return ids, weights

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def open_for(segment_reader) -> Sidecar | None:
    """The sidecar of a Whoosh segment reader, or None if it has none."""
    storage = getattr(segment_reader, "_storage", None)
    segment = getattr(segment_reader, "_segment", None)
    folder = getattr(storage, "folder", None)
    if folder is None or segment is None:
        return None
    path = sidecar_path(folder, segment.segment_id())
    try:
        return Sidecar(path)
    except (FileNotFoundError, ValueError):
        return None
