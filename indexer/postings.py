"""Whoosh posting lists and field lengths as numpy arrays, for vectorized scoring.

Whoosh scores a query by walking a tree of matchers one posting at a time in
Python; with Vietnamese syllables, which are few and common, that costs
seconds per query at news-site scale. Its on-disk postings, though, are blocks
of ready arrays (a pickled tuple of delta-encoded ids and float weights per
block), so a term's whole posting list decodes to numpy in a few block reads.

This module is the only place that reads Whoosh's W3 codec internals
(``whoosh-reloaded==2.7.5`` is pinned); the tests compare it with Whoosh's own
matchers.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length

from indexer import sidecar

MAX_BLOCK_TABLES = 50_000   # (field, term) block tables kept: a few KB each at most
POSTINGS_CACHE_BYTES = 48 * 1024 * 1024   # decoded postings kept per searcher (worker RSS target: 300 MB)
_BYTE_TO_LENGTH = np.array([byte_to_length(i) for i in range(256)], dtype=np.float32)


@dataclass(frozen=True)
class Postings:
    docnums: np.ndarray   # int32, global document numbers, increasing; deleted docs removed
    weights: np.ndarray   # float32, the term's weight (frequency) in each document

    def __len__(self) -> int:
        return len(self.docnums)


EMPTY = Postings(np.zeros(0, np.int32), np.zeros(0, np.float32))


@dataclass(frozen=True)
class BlockTable:
    """Where a term's posting blocks start in one segment, and the last
    (segment-local) document number of each: a document's block is found by
    bisection, without walking the blocks before it."""
    max_ids: np.ndarray   # int64, increasing
    offsets: np.ndarray   # int64, file offset of each block


def _leaf_arrays(reader, fieldname: str, tbytes: bytes, values: list | None = None
                 ) -> tuple[np.ndarray, np.ndarray, BlockTable | None] | None:
    """A term's (ids, weights, block table) in one segment, or None; with
    ``values`` (a list), its raw posting values are appended to it, in order."""
    terms = reader._terms
    if (fieldname, tbytes) not in terms:
        return None
    m = terms.matcher(fieldname, tbytes, reader.schema[fieldname].format)
    if not isinstance(m, W3LeafMatcher):          # a single inlined posting (ListMatcher)
        if values is not None:
            values.extend(m._values if m._values is not None else [None] * len(m._ids))
        return (np.asarray(m._ids, dtype=np.int32),
                np.asarray(m._weights if m._weights is not None else [1.0] * len(m._ids), np.float32),
                None)
    ids, weights, max_ids, offsets = [], [], [], []
    position = m._baseoffset
    while True:
        max_ids.append(m._maxid)
        offsets.append(position)
        if m._data is None:
            m._read_data()
        raw_ids, raw_weights = m._data[0], m._data[1]
        block = np.cumsum(np.frombuffer(raw_ids, dtype=raw_ids.typecode)
                          if hasattr(raw_ids, "typecode") else np.asarray(raw_ids), dtype=np.int64)
        ids.append(block.astype(np.int32))
        if values is not None:
            m._read_values()
            values.extend(m._values)
        if raw_weights is None or isinstance(raw_weights, float):
            weights.append(np.full(len(block), 1.0 if raw_weights is None else raw_weights, np.float32))
        else:
            weights.append(np.frombuffer(raw_weights, dtype=np.float32)
                           if getattr(raw_weights, "typecode", "") == "f"
                           else np.asarray(raw_weights, dtype=np.float32))
        if m._lastblock:
            break
        position = m._nextoffset
        m._goto(position)
    table = BlockTable(np.asarray(max_ids, dtype=np.int64), np.asarray(offsets, dtype=np.int64))
    return np.concatenate(ids), np.concatenate(weights), table


class PostingsReader:
    """Decoded postings and field lengths of one searcher, with an LRU cache.

    Valid for the searcher's lifetime: make a new one when the searcher is
    reopened (document numbers change when segments merge).
    """

    def __init__(self, searcher: Searcher, cache_bytes: int = POSTINGS_CACHE_BYTES) -> None:
        self.searcher = searcher
        self.leaves = [(s.reader(), offset) for s, offset in searcher.leaf_searchers()]
        self._sidecars = [sidecar.open_for(r) for r, _ in self.leaves]
        self.doc_count_all = searcher.doc_count_all()
        self._deleted = {offset: (np.fromiter(r._perdoc.deleted_docs(), dtype=np.int64) if r.has_deletions() else None)
                         for r, offset in self.leaves}
        self._cache: OrderedDict[tuple[str, str], Postings] = OrderedDict()
        self._cache_bytes, self._cache_limit = 0, cache_bytes
        self._lengths: dict[str, np.ndarray] = {}
        # (field, term) -> per segment: None (term absent or inlined) or its BlockTable
        self._blocks: OrderedDict[tuple[str, str], list[BlockTable | None]] = OrderedDict()

    def postings(self, fieldname: str, term: str) -> Postings:
        key = (fieldname, term)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        postings = self._read(fieldname, term)
        size = postings.docnums.nbytes + postings.weights.nbytes
        if size <= self._cache_limit // 4:
            self._cache[key] = postings
            self._cache_bytes += size
            while self._cache_bytes > self._cache_limit:
                _, old = self._cache.popitem(last=False)
                self._cache_bytes -= old.docnums.nbytes + old.weights.nbytes
        return postings

    def _read(self, fieldname: str, term: str) -> Postings:
        tbytes = self.searcher.schema[fieldname].to_bytes(term)
        ids, weights, tables = [], [], []
        for (reader, offset), side in zip(self.leaves, self._sidecars):
            found = side.postings(fieldname, tbytes) if side is not None else None
            if found is not None:
                arrays = found
            elif side is not None and fieldname in sidecar.SCORED_FIELDS:
                arrays = None          # the sidecar holds every term of these fields
            else:
                arrays = _leaf_arrays(reader, fieldname, tbytes)
            tables.append(arrays[2] if arrays is not None else None)
            if arrays is None:
                continue
            leaf_ids, leaf_weights, _ = arrays
            deleted = self._deleted[offset]
            if deleted is not None and len(deleted):
                keep = ~np.isin(leaf_ids, deleted)
                leaf_ids, leaf_weights = leaf_ids[keep], leaf_weights[keep]
            ids.append(leaf_ids + offset)
            weights.append(leaf_weights)
        self._remember_blocks((fieldname, term), tables)
        if not ids:
            return EMPTY
        return Postings(np.concatenate(ids).astype(np.int32), np.concatenate(weights))

    def _remember_blocks(self, key: tuple[str, str], tables: list[BlockTable | None]) -> None:
        self._blocks[key] = tables
        self._blocks.move_to_end(key)
        while len(self._blocks) > MAX_BLOCK_TABLES:
            self._blocks.popitem(last=False)

    def values(self, fieldname: str, term: str, docnums: list[int], astype: str) -> dict[int, object]:
        """The posting value of ``term`` in each of ``docnums`` (sorted, global)
        that holds it, decoded ``astype`` (``"positions"``, ``"characters"``):
        one block read per block holding a wanted document, found by bisection."""
        key = (fieldname, term)
        # Only documents that hold the term: a block read is the whole cost,
        # and most candidates of a phrase hold its words in the body only.
        held = self.postings(fieldname, term).docnums
        wanted = np.asarray(docnums, dtype=held.dtype)     # same dtype: no conversion of ``held``
        at = np.searchsorted(held, wanted)
        present = at < len(held)
        present[present] = held[at[present]] == wanted[present]
        docnums = wanted[present].tolist()
        if not docnums:
            return {}
        if key not in self._blocks:
            self._read(fieldname, term)
        tables = self._blocks[key]
        self._blocks.move_to_end(key)
        found: dict[int, object] = {}
        tbytes = self.searcher.schema[fieldname].to_bytes(term)
        for (reader, offset), table, end in zip(self.leaves, tables, self._leaf_ends()):
            local = [d - offset for d in docnums if offset <= d < end]
            if not local or (fieldname, tbytes) not in reader._terms:
                continue
            m = reader._terms.matcher(fieldname, tbytes, reader.schema[fieldname].format)
            if table is None or not isinstance(m, W3LeafMatcher):   # inlined: read it as Whoosh does
                for doc in local:
                    if not m.is_active():
                        break
                    m.skip_to(doc)
                    if m.is_active() and m.id() == doc:
                        found[doc + offset] = m.value_as(astype)
                continue
            decode = m.format.decoder(astype)
            blocks = np.searchsorted(table.max_ids, np.asarray(local, dtype=np.int64))
            current = -1
            for doc, block in zip(local, blocks.tolist()):
                if block >= len(table.offsets):
                    break
                if block != current:
                    m._goto(int(table.offsets[block]))
                    m._read_ids()
                    m._read_values()
                    block_ids, current = m._ids, block
                i = bisect_left(block_ids, doc)
                if i < len(block_ids) and block_ids[i] == doc:
                    found[doc + offset] = decode(m._values[i])
        return found

    @property
    def has_positions(self) -> bool:
        """Every segment has a positions file: :meth:`positions` answers."""
        return all(side is not None and side.positions is not None for side in self._sidecars)

    def positions(self, fieldname: str, term: str, docnums: np.ndarray) -> dict[int, list[int]] | None:
        """The term's positions in each of ``docnums`` (sorted, global) that
        holds it, from the segments' positions files (:mod:`indexer.sidecar`);
        None if a segment has none (read :meth:`values` instead)."""
        if not self.has_positions:
            return None
        tbytes = self.searcher.schema[fieldname].to_bytes(term)
        wanted = np.asarray(docnums, dtype=np.int64)
        found: dict[int, list[int]] = {}
        for (reader, offset), side, end in zip(self.leaves, self._sidecars, self._leaf_ends()):
            local = wanted[(wanted >= offset) & (wanted < end)] - offset
            if not len(local):
                continue
            postings = side.postings(fieldname, tbytes)
            if postings is None:
                continue                       # the segment does not hold the term
            got = side.positions.read(fieldname, tbytes, postings[0], postings[1], local)
            if got is None:
                return None
            for doc, where in got.items():
                found[doc + offset] = where.tolist()
        return found

    def _leaf_ends(self) -> list[int]:
        return [offset + reader.doc_count_all() for reader, offset in self.leaves]

    def field_lengths(self, fieldname: str) -> np.ndarray:
        """Length (in tokens, as Whoosh stores it: one byte, lossy) of the
        field in every document, indexed by global document number."""
        if fieldname not in self._lengths:
            out = np.zeros(self.doc_count_all, dtype=np.float32)
            for reader, offset in self.leaves:
                n = reader.doc_count_all()
                column = reader._perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
                if column is None:
                    continue
                count = min(column._count, n)
                raw = column._dbfile.get(column._basepos, count)
                out[offset:offset + count] = _BYTE_TO_LENGTH[np.frombuffer(raw, dtype=np.uint8)]
            self._lengths[fieldname] = out
        return self._lengths[fieldname]

    def average_length(self, fieldname: str) -> float:
        total = sum(reader.field_length(fieldname) for reader, _ in self.leaves)
        return total / max(self.searcher.doc_count(), 1)

    def live_mask(self) -> np.ndarray:
        mask = np.ones(self.doc_count_all, dtype=bool)
        for offset, deleted in self._deleted.items():
            if deleted is not None and len(deleted):
                mask[deleted + offset] = False
        return mask
