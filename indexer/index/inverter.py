"""An in-memory inverted index of a batch of documents, written as one segment.

The parallel build's workers index without Whoosh's per-posting machinery
(a token stream per field, a posting tuple per term and document, a pool that
sorts and spills them, then a ``FieldWriter.add`` call per posting): each
document's terms come from the cached analysis (:func:`term_positions`), go
into flat typed arrays per field (term numbers, frequencies, positions), and
when the batch is full the arrays are sorted by term with numpy and handed to
the codec in batches (:meth:`indexer.index.codec.VnFieldWriter.add_terms`).
Stored fields, lengths and columns go through Whoosh's per-document writer,
as ``SegmentWriter.add_document`` writes them. The segment is the same as a
one-process build's: the tests compare them term by term.
"""

from __future__ import annotations

from array import array
from itertools import chain

import numpy as np

from indexer.analysis import analyze, analyzer_kind, fold
from indexer.index.codec import VnCodec

_FORMS: dict[bool, dict[str, str]] = {False: {}, True: {}}     # token text -> term (exact, folded)
_FORMS_MAX = 500_000
BATCH_VALUES = 1 << 21            # postings + positions handed to the codec at once (bounds its temporaries)


def term_positions(value: str, folded: bool) -> dict[str, list[int]]:
    """The terms of a text in vnsearch's exact or folded analysis, each with
    its positions: what the field's Whoosh analyzer yields, without a Token
    object through three generators per token. Both forms come from one pass
    (a text is indexed in both, one after the other): the folded terms are the
    exact ones folded, their positions merged."""
    global _last
    if _last[0] is not value:
        exact = _exact_terms(value)
        _last = (value, exact, _folded_terms(exact))
    return _last[2] if folded else _last[1]


_last: tuple = (None, None, None)


def _exact_terms(value: str) -> dict[str, list[int]]:
    analysis = analyze(value)
    forms = _FORMS[False]
    if len(forms) > _FORMS_MAX:
        forms.clear()
    words_at: dict[int, list] = {}
    for word in analysis.words:
        words_at.setdefault(word.first, []).append(word)
    seen: dict[str, list[int]] = {}
    for i, syl in enumerate(analysis.syllables):
        for token in [syl, *words_at.get(i, ())] if i in words_at else (syl,):
            term = forms.get(token.text)
            if term is None:
                term = forms[token.text] = token.text.lower()
            occurrences = seen.get(term)
            if occurrences is None:
                seen[term] = [i]
            else:
                occurrences.append(i)
    return seen


def _folded_terms(exact: dict[str, list[int]]) -> dict[str, list[int]]:
    forms = _FORMS[True]
    if len(forms) > _FORMS_MAX:
        forms.clear()
    out: dict[str, list[int]] = {}
    for term, where in exact.items():
        key = forms.get(term)
        if key is None:
            key = forms[term] = fold(term)
        held = out.get(key)
        out[key] = where if held is None else sorted(held + where)
    return out


class _FieldPostings:
    """One field's postings of the batch, in arrival (document) order."""

    def __init__(self, positional: bool) -> None:
        self.positional = positional
        self.term_ids: dict[str, int] = {}
        self.terms = array("i")       # term number of each posting
        self.docs = array("i")
        self.freqs = array("i")
        self.positions = array("i")

    def add(self, docnum: int, terms: dict[str, list[int]] | dict[str, int]) -> None:
        ids = self.term_ids
        self.terms.extend([ids.setdefault(t, len(ids)) for t in terms])
        self.docs.extend([docnum] * len(terms))
        if self.positional:
            self.freqs.extend(map(len, terms.values()))
            self.positions.extend(chain.from_iterable(terms.values()))
        else:
            self.freqs.extend(terms.values())

    def sorted_arrays(self):
        """(term bytes sorted, postings per term, docs, freqs, positions or
        None), the postings grouped by term in that order, documents
        increasing within a term."""
        # int32 throughout: a batch's arrays are the worker's peak memory
        names = [t.encode("utf-8") for t in self.term_ids]
        order = sorted(range(len(names)), key=names.__getitem__)
        rank = np.empty(len(names), np.int32)
        rank[order] = np.arange(len(names), dtype=np.int32)
        term_rank = rank[np.frombuffer(self.terms, np.int32)]
        del self.terms
        perm = np.argsort(term_rank, kind="stable")        # arrival order is document order
        counts = np.bincount(term_rank, minlength=len(names))
        del term_rank
        freqs = np.frombuffer(self.freqs, np.int32)
        positions = None
        if self.positional:
            old_starts = (np.cumsum(freqs, dtype=np.int64) - freqs).astype(np.int32)[perm]
            new_freqs = freqs[perm]
            new_starts = (np.cumsum(new_freqs, dtype=np.int64) - new_freqs).astype(np.int32)
            at = np.repeat(old_starts - new_starts, new_freqs)
            del old_starts, new_starts
            at += np.arange(len(at), dtype=np.int32)
            positions = np.frombuffer(self.positions, np.int32)[at]
            del at, self.positions
        docs = np.frombuffer(self.docs, np.int32)[perm]
        return [names[i] for i in order], counts, docs, freqs[perm], positions


class SegmentInverter:
    """Indexes documents into one new segment of a generation's storage.

    ``add`` takes a document's fields as ``SegmentWriter.add_document`` does
    (vnsearch's schema: analysed text fields, ID fields, stored fields, a
    sortable column); ``finish`` writes the segment and returns Whoosh's
    ``Segment`` object, to be committed by the generation's writer.
    """

    def __init__(self, storage, schema, indexname: str = "MAIN") -> None:
        self.storage, self.schema = storage, schema
        self.codec = VnCodec()
        self.segment = self.codec.new_segment(storage, indexname)
        self.perdoc = self.codec.per_document_writer(storage, self.segment)
        self.docnum = 0
        self.fields: dict[str, _FieldPostings] = {}
        self.lengths: dict[str, array] = {}
        self._kinds = {name: analyzer_kind(getattr(spec, "analyzer", None)) for name, spec in schema.items()}

    def add(self, fields: dict) -> None:
        docnum = self.docnum
        self.perdoc.start_doc(docnum)
        for name in sorted(fields):
            value = fields[name]
            if value is None:
                continue
            spec = self.schema[name]
            length = 0
            if spec.indexed:
                kind = self._kinds[name]
                if kind is not None:
                    terms = term_positions(value, kind == "folded")
                    length = sum(map(len, terms.values())) if spec.scorable else 0
                else:
                    terms = {t.decode("utf-8"): int(w) for t, _, w, _ in spec.index(value)}
                postings = self.fields.get(name)
                if postings is None:
                    postings = self.fields[name] = _FieldPostings(spec.format.supports("positions"))
                    self.lengths[name] = array("i")
                postings.add(docnum, terms)
                lengths = self.lengths[name]
                lengths.extend([0] * (docnum + 1 - len(lengths)))
                lengths[docnum] = length
            self.perdoc.add_field(name, spec, value if spec.stored else None, length)
            if spec.column_type:
                self.perdoc.add_column_value(name, spec.column_type, spec.to_column_value(value))
        self.perdoc.finish_doc()
        self.docnum += 1

    def finish(self):
        """Write the segment's files; returns its Whoosh ``Segment``."""
        self.perdoc.close()
        writer = self.codec.field_writer(self.storage, self.segment)
        for name in sorted(self.fields):
            names, counts, docs, freqs, positions = self.fields.pop(name).sorted_arrays()
            lengths = np.zeros(self.docnum, np.int64)
            raw = np.frombuffer(self.lengths.pop(name), np.int32)
            lengths[:len(raw)] = raw
            ends = np.cumsum(counts)
            starts = ends - counts
            pos_starts = np.cumsum(freqs, dtype=np.int64) - freqs if positions is not None else None
            for lo, hi in _batches(counts, freqs if positions is not None else None):
                a, b = int(starts[lo]), int(ends[hi - 1])
                where = None
                if positions is not None:
                    where = positions[int(pos_starts[a]):int(pos_starts[b - 1] + freqs[b - 1])]
                writer.add_terms(name, self.schema[name], names[lo:hi], counts[lo:hi], docs[a:b], freqs[a:b],
                                 where, lengths[docs[a:b]])
        writer.close()
        self.segment.set_doc_count(self.docnum)
        return self.segment


def _batches(counts: np.ndarray, freqs: np.ndarray | None) -> list[tuple[int, int]]:
    """Consecutive term ranges holding about ``BATCH_VALUES`` postings and
    positions each (a longer term alone)."""
    values = counts.astype(np.int64)
    if freqs is not None:
        ends = np.cumsum(counts)
        per_posting = np.cumsum(freqs, dtype=np.int64)
        values = values + np.diff(np.concatenate(([0], per_posting[ends - 1]))) if len(counts) else values
    return batch_ranges(values, BATCH_VALUES)


def batch_ranges(values: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Consecutive ranges of terms whose ``values`` (postings + positions of
    each) add up to about ``limit`` (a larger term alone)."""
    cumulative = np.cumsum(values)
    out, lo = [], 0
    while lo < len(values):
        base = cumulative[lo - 1] if lo else 0
        hi = max(int(np.searchsorted(cumulative, base + limit, side="right")), lo + 1)
        out.append((lo, min(hi, len(values))))
        lo = hi
    return out
