"""Postings and field lengths of one searcher as numpy arrays.

Scoring reads a term's document numbers and frequencies from the segments'
sidecar files (:mod:`indexer.index.sidecar`: one ``pread`` per term and
segment), phrase checks its positions from the positions files, snippets its
character offsets from Whoosh's own posting blocks (found by bisection over
the block table the sidecar records). Document numbers are global (a
segment's local number plus its offset) and deleted documents are left out.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh.searching import Searcher

from indexer.index import sidecar, whoosh_internals
from indexer.index.whoosh_internals import BlockTable

POSTINGS_CACHE_BYTES = 48 * 1024 * 1024   # decoded postings kept per searcher (worker RSS target: 300 MB)


@dataclass(frozen=True)
class Postings:
    docnums: np.ndarray   # int32, global document numbers, increasing; deleted docs removed
    weights: np.ndarray   # float32, the term's frequency in each document

    def __len__(self) -> int:
        return len(self.docnums)


EMPTY = Postings(np.zeros(0, np.int32), np.zeros(0, np.float32))


def lexicon(reader) -> list[tuple[str, int]]:
    """The exact-field (term, document frequency) pairs of every segment of an
    open Whoosh reader (a term in several segments appears once per segment)."""
    terms: list[tuple[str, int]] = []
    for leaf, _ in reader.leaf_readers():
        terms.extend(sidecar.read_lexicon(leaf))
    return terms


def stored_texts(reader, fieldnames, limit: int):
    """The stored values of ``fieldnames`` (strings) of up to ``limit`` live
    documents of an open Whoosh reader, evenly spread over the document numbers."""
    n = reader.doc_count_all()
    step = max(1.0, n / max(limit, 1))
    at = 0.0
    while at < n:
        docnum = int(at)
        at += step
        if reader.is_deleted(docnum):
            continue
        stored = reader.stored_fields(docnum)
        for name in fieldnames:
            value = stored.get(name)
            if value:
                yield value


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
        self.live_docs = searcher.doc_count()
        self._deleted = [whoosh_internals.deleted_docs(r) for r, _ in self.leaves]
        self._ends = [offset + reader.doc_count_all() for reader, offset in self.leaves]
        self._cache: OrderedDict[tuple[str, str], tuple[Postings, list[BlockTable | None]]] = OrderedDict()
        self._cache_bytes, self._cache_limit = 0, cache_bytes
        self._lengths: dict[str, np.ndarray] = {}
        self._live: np.ndarray | None = None

    def _tbytes(self, fieldname: str, term: str) -> bytes:
        return self.searcher.schema[fieldname].to_bytes(term)

    def postings(self, fieldname: str, term: str) -> Postings:
        """The term's postings in every live document."""
        return self._entry(fieldname, term)[0]

    def _entry(self, fieldname: str, term: str) -> tuple[Postings, list[BlockTable | None]]:
        key = (fieldname, term)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        entry = self._read(fieldname, term)
        size = entry[0].docnums.nbytes + entry[0].weights.nbytes
        if size <= self._cache_limit // 4:
            self._cache[key] = entry
            self._cache_bytes += size
            while self._cache_bytes > self._cache_limit:
                _, (old, _) = self._cache.popitem(last=False)
                self._cache_bytes -= old.docnums.nbytes + old.weights.nbytes
        return entry

    def _read(self, fieldname: str, term: str) -> tuple[Postings, list[BlockTable | None]]:
        tbytes = self._tbytes(fieldname, term)
        ids, weights, tables = [], [], []
        for (_, offset), side, deleted in zip(self.leaves, self._sidecars, self._deleted):
            found = side.postings(fieldname, tbytes)
            tables.append(found[2] if found is not None else None)
            if found is None:
                continue
            leaf_ids, leaf_weights, _ = found
            if len(deleted):
                keep = ~np.isin(leaf_ids, deleted)
                leaf_ids, leaf_weights = leaf_ids[keep], leaf_weights[keep]
            ids.append(leaf_ids + offset)
            weights.append(leaf_weights)
        if not ids:
            return EMPTY, tables
        return Postings(np.concatenate(ids).astype(np.int32), np.concatenate(weights)), tables

    def _held(self, fieldname: str, term: str, docnums) -> list[int]:
        """Those of ``docnums`` (sorted, global) that hold the term."""
        held = self.postings(fieldname, term).docnums
        wanted = np.asarray(docnums, dtype=held.dtype)     # same dtype: no conversion of ``held``
        at = np.searchsorted(held, wanted)
        present = at < len(held)
        present[present] = held[at[present]] == wanted[present]
        return wanted[present].tolist()

    def values(self, fieldname: str, term: str, docnums, astype: str) -> dict[int, object]:
        """The posting value of ``term`` in each of ``docnums`` (sorted, global)
        that holds it, decoded ``astype`` (``"positions"``, ``"characters"``),
        from Whoosh's blocks: one block read per block holding a wanted document."""
        # Only documents that hold the term: a block read is the whole cost.
        docnums = self._held(fieldname, term, docnums)
        if not docnums:
            return {}
        tables = self._entry(fieldname, term)[1]
        tbytes = self._tbytes(fieldname, term)
        found: dict[int, object] = {}
        for (reader, offset), table, end in zip(self.leaves, tables, self._ends):
            local = [d - offset for d in docnums if offset <= d < end]
            for doc, value in whoosh_internals.values_of(reader, fieldname, tbytes, table, local, astype).items():
                found[doc + offset] = value
        return found

    def positions(self, fieldname: str, term: str, docnums: np.ndarray) -> dict[int, list[int]]:
        """The term's positions in each of ``docnums`` (sorted, global) that
        holds it: from the positions files for their fields, else from
        Whoosh's blocks."""
        if fieldname not in sidecar.POSITION_FIELDS:
            return {d: list(v) for d, v in self.values(fieldname, term, docnums, "positions").items()}
        tbytes = self._tbytes(fieldname, term)
        wanted = np.asarray(docnums, dtype=np.int64)
        found: dict[int, list[int]] = {}
        for (_, offset), side, end in zip(self.leaves, self._sidecars, self._ends):
            local = wanted[(wanted >= offset) & (wanted < end)] - offset
            if not len(local):
                continue
            postings = side.postings(fieldname, tbytes)
            if postings is None:
                continue                       # the segment does not hold the term
            got = side.positions.read(fieldname, tbytes, postings[0], postings[1], local) or {}
            for doc, where in got.items():
                found[doc + offset] = where.tolist()
        return found

    def field_lengths(self, fieldname: str) -> np.ndarray:
        """Length (in tokens, as Whoosh stores it: one byte, lossy) of the
        field in every document, indexed by global document number."""
        if fieldname not in self._lengths:
            out = np.zeros(self.doc_count_all, dtype=np.float32)
            for reader, offset in self.leaves:
                lengths = whoosh_internals.field_lengths(reader, fieldname)
                if lengths is not None:
                    out[offset:offset + len(lengths)] = lengths
            self._lengths[fieldname] = out
        return self._lengths[fieldname]

    def live_mask(self) -> np.ndarray:
        """True for every live (not deleted) document number."""
        if self._live is None:
            mask = np.ones(self.doc_count_all, dtype=bool)
            for (_, offset), deleted in zip(self.leaves, self._deleted):
                mask[deleted + offset] = False
            self._live = mask
        return self._live

    def average_length(self, fieldname: str) -> float:
        """The field's mean length over the live documents (0 without any)."""
        live = self.live_mask()
        count = int(live.sum())
        return float(self.field_lengths(fieldname)[live].sum()) / count if count else 0.0
