"""Segments written by one build worker, merged into one with array arithmetic.

Every query reads each segment's lists of its terms, so a worker that wrote
several segments (one every ``SEGMENT_DOCS`` articles, to bound its memory)
merges them before handing them over: documents keep their order, and each
term's postings are the segments' concatenated, renumbered. Whoosh's own
merge would decode and re-encode every posting as a Python object; this one
reads each segment's records of a batch of terms with one read and decodes
them all at once (:func:`indexer.index.codec.decode_records`), then writes
them through the codec's array interface, as the inverter does. Stored
fields, lengths, columns and syllable offsets are copied document by
document, without analysing a text again.

Only for fresh segments of one generation (none has deletions).
"""

from __future__ import annotations

import numpy as np
from whoosh.reading import SegmentReader

from indexer.index import codec, whoosh_internals
from indexer.index.inverter import batch_ranges
from indexer.index.schema import TEXT_FIELDS

BATCH_VALUES = 1 << 21      # postings + positions merged at once (bounds the temporaries)


def merge_segments(storage, schema, segments: list, indexname: str = "MAIN"):
    """One new segment holding the documents of ``segments`` in order; their
    files are deleted. Returns its Whoosh ``Segment``."""
    if len(segments) < 2:
        return segments[0]
    readers = [SegmentReader(storage, schema, segment) for segment in segments]
    try:
        if any(r.has_deletions() for r in readers):
            raise ValueError("merge_segments takes fresh segments, without deletions")
        offsets = np.cumsum([0] + [r.doc_count_all() for r in readers])
        merged_codec = codec.VnCodec()
        segment = merged_codec.new_segment(storage, indexname)
        lengths = _copy_documents(merged_codec, storage, schema, segment, readers)
        writer = merged_codec.field_writer(storage, segment)
        files = [codec.open_postings(r) for r in readers]
        try:
            for fieldname in sorted(n for n in schema.names() if schema[n].indexed):
                _merge_field(writer, schema[fieldname], fieldname, readers, files, offsets,
                             lengths.get(fieldname))
        finally:
            for f in files:
                f.close()
        writer.close()
        segment.set_doc_count(int(offsets[-1]))
    finally:
        for r in readers:
            r.close()
    for old in segments:
        prefix = old.segment_id() + "."
        for name in storage.list():
            if name.startswith(prefix):
                storage.delete_file(name)
    return segment


def _copy_documents(merged_codec, storage, schema, segment, readers) -> dict[str, np.ndarray]:
    """Write every document's stored fields, lengths, column value and
    syllable offsets into ``segment``; returns the merged field lengths
    (as stored: Whoosh's one-byte lengths) of the scorable fields."""
    perdoc = merged_codec.per_document_writer(storage, segment)
    scorable = [n for n in schema.names() if schema[n].scorable]
    lengths = {n: [] for n in scorable}
    names = sorted(schema.names())        # the order the inverter adds a document's fields in
    docnum = 0
    for reader in readers:
        here = {}
        for n in scorable:
            held = whoosh_internals.field_lengths(reader, n)
            here[n] = np.zeros(reader.doc_count_all(), np.float32) if held is None else held
            lengths[n].append(here[n])
        spans = codec.open_postings(reader)
        try:
            for local in range(reader.doc_count_all()):
                perdoc.start_doc(docnum)
                _copy_document(perdoc, schema, names, reader.stored_fields(local),
                               {n: int(here[n][local]) for n in scorable}, spans, local)
                perdoc.finish_doc()
                docnum += 1
        finally:
            spans.close()
    whoosh_internals.set_field_length_totals(perdoc, {n: sum(r.field_length(n) for r in readers) for n in scorable})
    perdoc.close()
    return {n: np.concatenate(parts).astype(np.int64) for n, parts in lengths.items()}


def _copy_document(perdoc, schema, names: list[str], stored: dict, lengths: dict[str, int], spans,
                   local: int) -> None:
    """One document's fields, as the inverter gives them (only those it has)."""
    for field in TEXT_FIELDS:
        if isinstance(stored.get(field), str):
            perdoc.set_spans(field, *spans.spans(local, field))
    for name in names:
        value, length = stored.get(name), lengths.get(name, 0)
        if value is None and not length:
            continue
        spec = schema[name]
        perdoc.add_field(name, spec, value, length)
        if spec.column_type and value is not None:
            perdoc.add_column_value(name, spec.column_type, spec.to_column_value(value))


def _merge_field(writer, spec, fieldname: str, readers, files, offsets: np.ndarray,
                 lengths: np.ndarray | None) -> None:
    """Every term of one field, its postings taken from each segment in turn."""
    per_segment = []
    for reader, f in zip(readers, files):
        terms = list(reader.lexicon(fieldname)) if fieldname in reader.indexed_field_names() else []
        keys = np.fromiter((codec.term_key(fieldname, t) for t in terms), np.uint64, len(terms))
        per_segment.append((terms, np.searchsorted(f.table["keys"], keys)))
    union = sorted(set().union(*(terms for terms, _ in per_segment)))
    if not union:
        return
    number = {t: i for i, t in enumerate(union)}
    values = np.zeros(len(union), np.int64)       # postings + positions of each term, all segments
    located = []
    for (terms, rows), f in zip(per_segment, files):
        table = f.table
        where = np.fromiter((number[t] for t in terms), np.int64, len(terms))
        counts, npos = table["counts"][rows].astype(np.int64), table["npos"][rows].astype(np.int64)
        np.add.at(values, where, counts + npos)
        located.append((where, rows))
    if lengths is None:
        lengths = np.zeros(int(offsets[-1]), np.int64)
    for lo, hi in batch_ranges(values, BATCH_VALUES):
        _merge_batch(writer, spec, fieldname, union[lo:hi], lo, files, located, offsets, lengths)


def _merge_batch(writer, spec, fieldname, btexts, lo, files, located, offsets, lengths) -> None:
    """Terms ``lo ..`` of the union (``btexts``): each segment's records of them
    read at once and decoded, then grouped by term, segment after segment."""
    term_of, docs, freqs, positions = [], [], [], []
    hi = lo + len(btexts)
    for f, (where, rows), offset in zip(files, located, offsets):
        a, b = np.searchsorted(where, lo), np.searchsorted(where, hi)
        if a == b:
            continue
        table, mine = f.table, rows[a:b]
        at = table["at"][mine].astype(np.int64)
        if len(at) > 1 and not (np.diff(at) > 0).all():
            raise ValueError(f"{fieldname}: a segment's records are not in term order")
        counts, npos, codes = table["counts"][mine], table["npos"][mine], table["codes"][mine]
        start = int(at[0])
        stop = int(at[-1] + codec.record_sizes(counts[-1:], npos[-1:], codes[-1:])[0])
        blob = np.frombuffer(f.read(start, stop - start), np.uint8)
        ids, fr, pos = codec.decode_records(blob, at - start, counts, npos, codes)
        term_of.append(np.repeat(where[a:b] - lo, counts.astype(np.int64)))
        docs.append(ids + int(offset))
        freqs.append(fr)
        if pos is not None:
            positions.append(pos)
    term_of, docs, freqs = np.concatenate(term_of), np.concatenate(docs), np.concatenate(freqs)
    order = np.argsort(term_of, kind="stable")     # by term; within it, segment order = document order
    counts = np.bincount(term_of, minlength=len(btexts))
    merged_positions = None
    if positions:
        starts = np.cumsum(freqs) - freqs          # each posting's positions, taken in the new order
        merged_positions = np.concatenate(positions)[codec.run_indexes(starts[order], freqs[order])]
    docs, freqs = docs[order], freqs[order]
    writer.add_terms(fieldname, spec, list(btexts), counts, docs, freqs, merged_positions, lengths[docs])
