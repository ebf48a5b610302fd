"""Postings and field lengths of one searcher as numpy arrays.

A term's document numbers and frequencies come from each segment's postings
file (:mod:`indexer.index.codec`: one ``pread`` per term and segment), its
positions from the same file for the postings asked for, its characters from
those positions and the documents' syllable offsets. Document numbers are
global (a segment's local number plus its offset) and deleted documents are
left out.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterator

import numpy as np
from whoosh.searching import Searcher

from indexer.index import codec, whoosh_internals
from indexer.index.schema import text_field_of

POSTINGS_CACHE_BYTES = 48 * 1024 * 1024   # decoded postings kept per searcher (worker RSS target: 300 MB)


@dataclass(frozen=True)
class Postings:
    docnums: np.ndarray   # int32, global document numbers, increasing; deleted docs removed
    weights: np.ndarray   # float32, the term's frequency in each document

    def __len__(self) -> int:
        return len(self.docnums)


EMPTY = Postings(np.zeros(0, np.int32), np.zeros(0, np.float32))


def lexicon(reader) -> Iterator[tuple[str, int]]:
    """The exact-field (term, document frequency) pairs of every segment of an
    open Whoosh reader (a term in several segments appears once per segment),
    one segment's in memory at a time."""
    for leaf, _ in reader.leaf_readers():
        yield from codec.read_lexicon(leaf)


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
        self._files = [codec.open_postings(r) for r, _ in self.leaves]
        self.doc_count_all = searcher.doc_count_all()
        self.live_docs = searcher.doc_count()
        self._deleted = [whoosh_internals.deleted_docs(r) for r, _ in self.leaves]
        self._ends = [offset + reader.doc_count_all() for reader, offset in self.leaves]
        self._cache: OrderedDict[tuple[str, str], tuple[Postings, list]] = OrderedDict()
        self._cache_bytes, self._cache_limit = 0, cache_bytes
        self._lengths: dict[str, np.ndarray] = {}
        self._live: np.ndarray | None = None

    def close(self) -> None:
        """Close the postings files (the searcher is the caller's)."""
        for f in self._files:
            f.close()

    def _tbytes(self, fieldname: str, term: str) -> bytes:
        return self.searcher.schema[fieldname].to_bytes(term)

    def postings(self, fieldname: str, term: str) -> Postings:
        """The term's postings in every live document."""
        return self._entry(fieldname, term)[0]

    def _entry(self, fieldname: str, term: str) -> tuple[Postings, list]:
        """The term's live postings, and per segment its table row and its
        (global document numbers, frequencies), deleted documents included
        (what positions are read by; views of the live postings where the
        segment has no deletions), or None where the segment lacks the term."""
        key = (fieldname, term)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        entry = self._read(fieldname, term)
        size = _nbytes(entry)
        if size <= self._cache_limit // 4:
            self._cache[key] = entry
            self._cache_bytes += size
            while self._cache_bytes > self._cache_limit:
                _, old = self._cache.popitem(last=False)
                self._cache_bytes -= _nbytes(old)
        return entry

    def _read(self, fieldname: str, term: str) -> tuple[Postings, list]:
        key = np.uint64(codec.term_key(fieldname, self._tbytes(fieldname, term)))
        ids, weights = [], []
        held: list = [None] * len(self.leaves)
        views = []              # (segment, row, start, stop): a segment without deletions, in the concatenation
        at = 0
        for k, ((_, offset), f, deleted) in enumerate(zip(self.leaves, self._files, self._deleted)):
            row = f.find_key(key)
            if row is None:
                continue
            leaf_ids, leaf_weights = f.postings(row)
            leaf_ids += offset
            if len(deleted):
                held[k] = (row, leaf_ids, leaf_weights)
                keep = self.live_mask()[leaf_ids]
                leaf_ids, leaf_weights = leaf_ids[keep], leaf_weights[keep]
            else:
                views.append((k, row, at, at + len(leaf_ids)))
            ids.append(leaf_ids)
            weights.append(leaf_weights)
            at += len(leaf_ids)
        if not ids:
            return EMPTY, held
        postings = Postings(np.concatenate(ids), np.concatenate(weights))
        for k, row, start, stop in views:
            held[k] = (row, postings.docnums[start:stop], postings.weights[start:stop])
        return postings, held

    def positions(self, fieldname: str, term: str, docnums) -> dict[int, np.ndarray]:
        """The term's positions (int64, increasing) in each of ``docnums``
        (sorted, global) that holds it."""
        owners, where = self.flat_positions(fieldname, term, docnums)
        if not len(owners):
            return {}
        cut = np.flatnonzero(owners[1:] != owners[:-1]) + 1
        heads = np.concatenate(([0], cut))
        return dict(zip(owners[heads].tolist(), np.split(where, cut)))

    def flat_positions(self, fieldname: str, term: str, docnums) -> tuple[np.ndarray, np.ndarray]:
        """(document, position) of every occurrence of the term in ``docnums``
        (sorted, global), as two int64 arrays ordered by document then
        position: per segment, the firsts in one read and the later gaps in
        one read when the wanted postings lie close together."""
        wanted = np.asarray(docnums, dtype=np.int64)
        owners, found = [], []
        local = self._entry(fieldname, term)[1]
        for (_, offset), f, end, held_here in zip(self.leaves, self._files, self._ends, local):
            if held_here is None:
                continue
            row, ids, freqs = held_here
            wanted_here = wanted[(wanted >= offset) & (wanted < end)]
            if not len(wanted_here):
                continue
            at = np.searchsorted(ids, wanted_here)
            held = at < len(ids)
            held[held] = ids[at[held]] == wanted_here[held]
            if not held.any():
                continue
            lengths, where = f.flat_positions(row, freqs, at[held])
            owners.append(np.repeat(wanted_here[held], lengths))
            found.append(where)
        if not owners:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(owners), np.concatenate(found)

    def characters(self, fieldname: str, term: str, docnums) -> dict[int, list[tuple[int, int, int]]]:
        """``(position, startchar, endchar)`` of each occurrence of the term in
        each of ``docnums`` (sorted, global) that holds it; the characters index
        the document's stored text field."""
        text_field = text_field_of(fieldname)
        out = {}
        for doc, where in self.positions(fieldname, term, docnums).items():
            k = next(i for i, end in enumerate(self._ends) if doc < end)
            spans = self._files[k].spans(doc - self.leaves[k][1], text_field)
            out[doc] = codec.characters(where, term, spans)
        return out

    def values(self, fieldname: str, term: str, docnums, astype: str) -> dict[int, object]:
        """``positions`` (lists) or ``characters`` of the term in each of
        ``docnums`` (sorted, global) that holds it."""
        if astype == "characters":
            return self.characters(fieldname, term, docnums)
        if astype == "positions":
            return {d: p.tolist() for d, p in self.positions(fieldname, term, docnums).items()}
        raise ValueError(f"unknown value type {astype!r}")

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



def _nbytes(entry: tuple[Postings, list]) -> int:
    postings, local = entry
    return postings.docnums.nbytes + postings.weights.nbytes + sum(
        held[1].nbytes + held[2].nbytes for held in local if held is not None and held[1].base is None)
