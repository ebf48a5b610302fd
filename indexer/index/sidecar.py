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
published and never changed after; every segment of a generation of the
current format (:data:`indexer.index.generations.FORMAT_VERSION`) has one.

Layout (little-endian): ``MAGIC``, uint64 term count n, posting count m,
block count b, then uint64 keys[n] (sorted hashes of ``field NUL term``),
int64 starts[n], counts[n], block_starts[n], block_counts[n], int32
docnums[m] (segment-local), float32 weights[m], int64 block_max_ids[b],
block_offsets[b] (each term's Whoosh blocks: snippets find a document's
block by bisection without walking the blocks' headers).

``<segment id>.vnpos`` holds the positions of the folded fields' terms
(``POSITION_FIELDS``), which phrase checks read: Whoosh keeps them inside the
same compressed, pickled blocks, so checking one document meant decoding a
whole block (about 0.2 ms) per syllable. Layout: ``POS_MAGIC``, uint64 term
count n, position count p, uint64 keys[n] (sorted, as above), int64
starts[n], uint32 positions[p]: a term's positions, posting after posting in
document order, each posting's as many as its weight (its frequency: checked
when written).

Beside it, ``<segment id>.vnlex`` lists the segment's exact-field terms with
their document frequencies (pickled), the input of the accent model:
reading it is much faster than walking Whoosh's term dictionary.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import numpy as np

from indexer.index import whoosh_internals
from indexer.index.durable import write_atomically
from indexer.index.schema import LEXICON_FIELDS, POSITION_FIELDS, SCORED_FIELDS
from indexer.index.whoosh_internals import BlockTable

MAGIC = b"VNPOST02"
SUFFIX = ".vnpost"
LEXICON_SUFFIX = ".vnlex"
POS_MAGIC = b"VNPOS001"
POSITIONS_SUFFIX = ".vnpos"


def term_key(fieldname: str, term_bytes: bytes) -> int:
    digest = hashlib.blake2b(fieldname.encode("utf-8") + b"\0" + term_bytes, digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _find_key(keys: np.ndarray, fieldname: str, term_bytes: bytes) -> int | None:
    """Index of a term's key in a sorted key table, or None."""
    # As np.uint64: a Python int below 2**63 would make numpy compare in
    # float64, converting the whole table each lookup (0.5 ms) and lossily.
    key = np.uint64(term_key(fieldname, term_bytes))
    i = int(np.searchsorted(keys, key))
    return i if i < len(keys) and keys[i] == key else None


def sidecar_path(folder: Path | str, segment_id: str) -> Path:
    return Path(folder) / f"{segment_id}{SUFFIX}"


def write_sidecar(segment_reader, path: Path) -> None:
    """Decode every posting list of the scored fields of one segment and write
    the sidecar and the lexicon file (temporary names, fsynced, renamed)."""
    keys, counts, block_counts, ids, weights, block_max, block_off = [], [], [], [], [], [], []
    lexicon: list[tuple[str, int]] = []
    positions = _PositionsWriter()
    for field in SCORED_FIELDS:
        if field not in segment_reader.schema:
            continue
        decode = segment_reader.schema[field].format.decoder("positions")
        for tbytes, _ in segment_reader.iter_field(field):
            values = [] if field in POSITION_FIELDS else None
            arrays = whoosh_internals.leaf_arrays(segment_reader, field, tbytes, values)
            if arrays is None:
                continue
            key = term_key(field, tbytes)
            if values is not None:
                positions.add(key, values, arrays[1], decode)
            keys.append(key)
            counts.append(len(arrays[0]))
            ids.append(arrays[0].astype("<i4"))
            weights.append(arrays[1].astype("<f4"))
            table = arrays[2]
            block_counts.append(len(table.offsets) if table is not None else 0)
            if table is not None:
                block_max.append(table.max_ids)
                block_off.append(table.offsets)
            if field in LEXICON_FIELDS:
                lexicon.append((tbytes.decode("utf-8"), len(arrays[0])))
    key_arr = np.asarray(keys, dtype="<u8")
    if len(np.unique(key_arr)) != len(key_arr):
        raise RuntimeError("sidecar term hash collision")   # 2^-64 odds per pair: never seen
    order = np.argsort(key_arr, kind="stable")
    count_arr, bcount_arr = np.asarray(counts, dtype="<i8"), np.asarray(block_counts, dtype="<i8")
    starts = _starts(count_arr)
    bstarts = _starts(bcount_arr)
    bmax = np.concatenate(block_max).astype("<i8") if block_max else np.zeros(0, "<i8")
    boff = np.concatenate(block_off).astype("<i8") if block_off else np.zeros(0, "<i8")

    def write(f) -> None:
        f.write(MAGIC)
        f.write(np.asarray([len(keys), int(count_arr.sum()), len(bmax)], dtype="<u8").tobytes())
        for arr in (key_arr, starts, count_arr, bstarts, bcount_arr):
            f.write(arr[order].tobytes())
        for blocks in (ids, weights):
            for block in blocks:
                f.write(block.tobytes())
        f.write(bmax.tobytes())
        f.write(boff.tobytes())
    # the others first: a sidecar present means all are (write_missing checks the sidecar);
    # the generation is fsynced whole before it is published
    write_atomically(path.with_suffix(LEXICON_SUFFIX),
                     lambda f: pickle.dump(lexicon, f, protocol=pickle.HIGHEST_PROTOCOL), sync_dir=False)
    write_atomically(path.with_suffix(POSITIONS_SUFFIX), positions.write, sync_dir=False)
    write_atomically(path, write, sync_dir=False)


class _PositionsWriter:
    """Collects the positions of each term of the position fields."""

    def __init__(self) -> None:
        self.keys: list[int] = []
        self.counts: list[int] = []
        self.chunks: list[np.ndarray] = []

    def add(self, key: int, values: list, weights: np.ndarray, decode) -> None:
        decoded = [decode(v) for v in values]
        lengths = np.fromiter((len(d) for d in decoded), dtype=np.int64, count=len(decoded))
        if len(lengths) != len(weights) or not np.array_equal(lengths, weights.astype(np.int64)):
            raise RuntimeError("a posting's positions and frequency disagree: the schema is not vnsearch's")
        flat = np.fromiter((p for d in decoded for p in d), dtype="<u4", count=int(lengths.sum()))
        self.keys.append(key)
        self.counts.append(len(flat))
        self.chunks.append(flat)

    def write(self, f) -> None:
        keys = np.asarray(self.keys, dtype="<u8")
        counts = np.asarray(self.counts, dtype="<i8")
        order = np.argsort(keys, kind="stable")
        f.write(POS_MAGIC)
        f.write(np.asarray([len(keys), int(counts.sum())], dtype="<u8").tobytes())
        f.write(keys[order].tobytes())
        f.write(_starts(counts)[order].tobytes())
        for chunk in self.chunks:
            f.write(chunk.tobytes())


def _starts(counts: np.ndarray) -> np.ndarray:
    return (np.cumsum(counts) - counts).astype("<i8")


def read_lexicon(segment_reader) -> list[tuple[str, int]]:
    """The segment's exact-field (term, document frequency) pairs."""
    with open(_path_of(segment_reader).with_suffix(LEXICON_SUFFIX), "rb") as f:
        return pickle.load(f)


def write_missing(gen: Path, workers: int = 1) -> int:
    """Write the sidecar of every segment of generation ``gen`` that has none;
    returns how many were written. Segments are done in parallel (forked
    processes) when ``workers`` > 1 and there are several."""
    from indexer.index import generations
    ix = generations.whoosh_index.open_dir(str(gen))
    segments = [s for s in whoosh_internals.segments(ix) if not sidecar_path(gen, s.segment_id()).exists()]
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
    from indexer.index import generations
    ix = generations.whoosh_index.open_dir(gen)
    segment = next(s for s in whoosh_internals.segments(ix) if s.segment_id() == segment_id)
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
        header = os.pread(self._fd, 32, 0)
        if header[:8] != MAGIC:
            os.close(self._fd)
            raise ValueError(f"{path}: not a vnsearch sidecar of this version")
        n, m, b = np.frombuffer(header[8:], dtype="<u8").tolist()
        table = os.pread(self._fd, 40 * n, 32)
        self.keys, self.starts, self.counts, self.block_starts, self.block_counts = (
            np.frombuffer(table, dtype=dtype, count=n, offset=8 * n * k)
            for k, dtype in enumerate(("<u8", "<i8", "<i8", "<i8", "<i8")))
        self._ids_at = 32 + 40 * n
        self._weights_at = self._ids_at + 4 * m
        self._blocks_at = self._weights_at + 4 * m
        self._n_blocks = b
        self.positions = PositionsFile(path.with_suffix(POSITIONS_SUFFIX))

    def _find(self, fieldname: str, term_bytes: bytes) -> int | None:
        return _find_key(self.keys, fieldname, term_bytes)

    def postings(self, fieldname: str, term_bytes: bytes):
        """``(docnums, weights, BlockTable or None)`` of a term, or None."""
        i = self._find(fieldname, term_bytes)
        if i is None:
            return None
        start, count = int(self.starts[i]), int(self.counts[i])
        ids = np.frombuffer(os.pread(self._fd, 4 * count, self._ids_at + 4 * start), dtype="<i4")
        weights = np.frombuffer(os.pread(self._fd, 4 * count, self._weights_at + 4 * start), dtype="<f4")
        bstart, bcount = int(self.block_starts[i]), int(self.block_counts[i])
        table = None
        if bcount:
            at = self._blocks_at + 8 * bstart
            max_ids = np.frombuffer(os.pread(self._fd, 8 * bcount, at), dtype="<i8")
            offsets = np.frombuffer(os.pread(self._fd, 8 * bcount, at + 8 * self._n_blocks), dtype="<i8")
            table = BlockTable(max_ids, offsets)
        return ids, weights, table

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self.positions is not None:
            self.positions.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


class PositionsFile:
    """An open ``.vnpos`` file: a term's positions in chosen postings, one
    ``pread`` per posting."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        header = os.pread(self._fd, 24, 0)
        if header[:8] != POS_MAGIC:
            os.close(self._fd)
            raise ValueError(f"{path}: not a vnsearch positions file of this version")
        n, _ = np.frombuffer(header[8:], dtype="<u8").tolist()
        table = os.pread(self._fd, 16 * n, 24)
        self.keys = np.frombuffer(table, dtype="<u8", count=n)
        self.starts = np.frombuffer(table, dtype="<i8", count=n, offset=8 * n)
        self._data_at = 24 + 16 * n

    def read(self, fieldname: str, term_bytes: bytes, ids: np.ndarray, weights: np.ndarray,
             wanted: np.ndarray) -> dict[int, np.ndarray] | None:
        """Positions of the term in each of ``wanted`` (segment-local, sorted)
        that holds it; ``ids``, ``weights``: the term's postings in this
        segment (from the sidecar). None if the file does not list the term."""
        i = _find_key(self.keys, fieldname, term_bytes)
        if i is None:
            return None
        at = np.searchsorted(ids, wanted)
        held = at < len(ids)
        held[held] = ids[at[held]] == wanted[held]
        counts = weights.astype(np.int64)
        ends = np.cumsum(counts)
        base = self._data_at + 4 * int(self.starts[i])
        out = {}
        for doc, j in zip(wanted[held].tolist(), at[held].tolist()):
            n = int(counts[j])
            raw = os.pread(self._fd, 4 * n, base + 4 * (int(ends[j]) - n))
            out[doc] = np.frombuffer(raw, dtype="<u4")
        return out

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _path_of(segment_reader) -> Path:
    location = whoosh_internals.segment_location(segment_reader)
    if location is None:
        raise ValueError("not a segment of a file storage")
    return sidecar_path(*location)


def open_for(segment_reader) -> Sidecar:
    """The sidecar of a Whoosh segment reader (its positions file with it)."""
    return Sidecar(_path_of(segment_reader))
