"""vnsearch's Whoosh codec: the one place the segment format lives.

A segment's postings are stored once, as flat little-endian arrays that both
Whoosh's own API (through :class:`ArrayMatcher`) and the vectorized executor
(through :class:`PostingsFile`, one ``pread`` per term) read. Whoosh's term
dictionary (``.trm``), stored fields and length columns are kept as Whoosh
writes them; what replaces Whoosh's pickled, compressed posting blocks
(``.pst``) is:

``<segment>.vnpost``
    ``MAGIC``, then one record per term in write order: document-number gaps
    (the first gap from 0), frequencies, and -- for fields whose format has
    positions -- each posting's first position, then the gaps between each
    posting's later positions (posting after posting), each of these arrays in
    the narrowest of uint8/16/32 that holds its largest value (a posting's
    first position is the large value: apart, the gaps fit a byte more often).
    Then zero bytes up to an 8-byte boundary and the term table, sorted by key: uint64 ``keys`` (:func:`term_key`),
    uint64 record offsets, uint32 posting counts, uint32 position counts,
    uint8 width codes (ids | freqs << 2 | firsts << 4 | gaps << 6); then a
    footer: uint64 table offset, uint64 term count, ``MAGIC``. A term's Whoosh
    ``TermInfo`` holds its statistics and, as its extent, its record's offset
    and posting count; its row is found by key.
``<segment>.vnoff``
    The character offsets of every syllable of each document's stored title
    and body (:func:`indexer.analysis.analyze`), as gaps (start minus the
    previous end) and lengths, per (document, text field) in the narrowest
    width; then uint64 record offsets, uint32 syllable counts, uint8 width
    codes, per document and text field; footer as above. A posting's
    characters are not stored: a token at position ``p`` of ``k`` syllables
    (a pyvi word joins them with ``WORD_JOINER``) spans from the start of
    syllable ``p`` to the end of syllable ``p + k - 1``.
``<segment>.vnlex``
    The exact-field terms with their document frequencies (pickled): the
    accent model's input.
``<segment>.vncol``
    The per-document columns (dates, topics, sources, tags) filters, sorts
    and facets read: :mod:`indexer.index.columns`.

Every file is written once, before its generation is published, and named
like the segment's own files, so Whoosh's cleanup removes it with its segment.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import pickle
from bisect import bisect_left
from pathlib import Path

import numpy as np
from whoosh.codec.base import FieldWriter
from whoosh.codec.whoosh3 import W3Codec, W3PerDocWriter, W3Segment, W3TermInfo, W3TermsReader
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.matching import LeafMatcher, ReadTooFar
from whoosh.system import pack_ushort

from indexer.analysis import WORD_JOINER, analyze
from indexer.index import columns, whoosh_internals
from indexer.index.schema import LEXICON_FIELDS, TEXT_FIELDS, text_field_of

MAGIC = b"VNPOST03"
OFFSETS_MAGIC = b"VNOFFS01"
POSTINGS_EXT = ".vnpost"
OFFSETS_EXT = ".vnoff"
LEXICON_EXT = ".vnlex"
_WIDTHS = (np.dtype("<u1"), np.dtype("<u2"), np.dtype("<u4"))
_TABLE_DTYPES = (("keys", "<u8"), ("at", "<u8"), ("counts", "<u4"), ("npos", "<u4"), ("codes", "<u1"))
_FOOTER = 16 + len(MAGIC)


# --------------------------------------------------------------------------- pure encoding

def term_key(fieldname: str, term_bytes: bytes) -> int:
    """The 64-bit hash a term is looked up by in the term table."""
    digest = hashlib.blake2b(fieldname.encode("utf-8") + b"\0" + term_bytes, digest_size=8).digest()
    return int.from_bytes(digest, "little")


def width_code(values: np.ndarray) -> int:
    """0, 1 or 2: the narrowest of uint8/16/32 that holds every value."""
    top = int(values.max()) if len(values) else 0
    if top < 0 or top >= 1 << 32:
        raise ValueError(f"value {top} does not fit the postings format")
    return 0 if top < 1 << 8 else 1 if top < 1 << 16 else 2


def split_positions(positions: np.ndarray, freqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Postings' positions (concatenated, each posting's increasing) as each
    posting's first position and the gaps between its later ones."""
    starts = np.cumsum(freqs) - freqs
    later = np.ones(len(positions), bool)
    later[starts[freqs > 0]] = False
    return positions[starts], (positions - np.concatenate(([0], positions[:-1])))[later]


def join_positions(firsts: np.ndarray, later_gaps: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Postings' positions (int64, concatenated) from each one's first position
    and the gaps between its later ones (posting after posting): the inverse
    of :func:`split_positions`; ``freqs`` (all at least 1) says how many each has."""
    values = np.empty(len(firsts) + len(later_gaps), np.int64)
    heads = np.cumsum(freqs) - freqs
    later = np.ones(len(values), bool)
    later[heads] = False
    values[heads], values[later] = firsts, later_gaps
    return _restarted_cumsum(values, freqs, heads)


ONE_READ_BYTES = 1 << 20   # positions of wanted postings this close together are read at once


def run_indexes(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indexes ``starts[i] .. starts[i] + lengths[i] - 1`` of every i, concatenated."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, np.int64)
    return np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)


def _restarted_cumsum(values: np.ndarray, lengths: np.ndarray, heads: np.ndarray | None = None) -> np.ndarray:
    """The running sum of ``values`` restarted at each of the consecutive runs
    of ``lengths`` (every one at least 1; ``heads``: where each starts, if known)."""
    running = np.cumsum(values)
    if heads is None:
        heads = np.cumsum(lengths) - lengths
    return running - np.repeat(running[heads] - values[heads], lengths)


def decode(raw: bytes | memoryview, code: int, count: int, offset: int = 0) -> np.ndarray:
    """``count`` values of width ``code`` at byte ``offset`` of ``raw``, as int64."""
    return np.frombuffer(raw, dtype=_WIDTHS[code], count=count, offset=offset).astype(np.int64)


def syllable_count(term: str) -> int:
    """Syllables of an indexed token (pyvi words join theirs with ``WORD_JOINER``)."""
    return term.count(WORD_JOINER) + 1


# --------------------------------------------------------------------------- the codec

class VnCodec(W3Codec):
    """Whoosh's W3 codec with vnsearch's postings (see the module docstring).

    New segments get ids that no file of the directory uses, drawn from the
    OS (:func:`whoosh_internals.fresh_segment_id`). Segments pickle their
    codec into the TOC, so Whoosh opens a vnsearch segment with this class.
    """

    def field_writer(self, storage, segment):
        return VnFieldWriter(storage, segment)

    def per_document_writer(self, storage, segment):
        return VnPerDocWriter(self, storage, segment)

    def terms_reader(self, storage, segment):
        name = segment.make_filename(self.TERMS_EXT)
        return W3TermsReader(self, storage.open_file(name), storage.file_length(name),
                             PostingsFile(_Blob.open(storage, segment.make_filename(POSTINGS_EXT)),
                                          _Blob.open(storage, segment.make_filename(OFFSETS_EXT))))

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        row = dbfile.find(*term)
        if row is None or int(dbfile.table["at"][row]) != terminfo.extent()[0]:
            raise ValueError(f"{term!r}: the term dictionary and the postings file disagree")
        return ArrayMatcher(dbfile, row, format_, term=term, scorer=scorer, terminfo=terminfo)

    def new_segment(self, storage, indexname):
        return W3Segment(VnCodec(), indexname, segid=whoosh_internals.fresh_segment_id(storage, indexname))


class VnFieldWriter(FieldWriter):
    """Writes the term dictionary (Whoosh's ordered hash file, W3 term infos)
    and the ``.vnpost`` and ``.vnlex`` files of one segment.

    Whoosh feeds it posting by posting (``start_term``/``add``/``finish_term``,
    as a merge or a one-process build does); a posting's value is Whoosh's
    encoded bytes. The parallel build hands over whole batches of terms as
    arrays (:meth:`add_terms`). Either way terms are encoded in batches, with
    numpy, and must arrive in Whoosh's order (field by field, terms sorted).
    """

    BATCH_POSTINGS = 1 << 20

    def __init__(self, storage, segment) -> None:
        self._tindex = OrderedHashWriter(segment.create_file(storage, W3Codec.TERMS_EXT))
        self._fieldmap = self._tindex.extras["fieldmap"] = {}
        self._out = segment.create_file(storage, POSTINGS_EXT)
        self._out.write(MAGIC)
        self._at = len(MAGIC)
        self._rows: dict[str, list[np.ndarray]] = {name: [] for name, _ in _TABLE_DTYPES}
        self._lexicon: list[tuple[str, int]] = []
        self._lexicon_file = segment.create_file(storage, LEXICON_EXT)
        self._fieldname = None
        self.is_closed = False

    # Whoosh's posting-by-posting interface

    def start_field(self, fieldname, fieldobj) -> None:
        self._fieldname = fieldname
        self._fieldid = self._fieldmap.setdefault(fieldname, len(self._fieldmap))
        self._has_positions = fieldobj.format.supports("positions")
        self._decode_positions = fieldobj.format.decoder("positions") if self._has_positions else None
        self._pending = ([], [], [], [], [], [])     # btexts, counts, ids, freqs, positions, lengths

    def start_term(self, btext) -> None:
        self._pending[0].append(btext)
        self._pending[1].append(0)

    def add(self, docnum, weight, vbytes, length) -> None:
        _, counts, ids, freqs, positions, lengths = self._pending
        counts[-1] += 1
        ids.append(docnum)
        lengths.append(length or 0)
        if self._has_positions:
            where = self._decode_positions(vbytes)
            positions.extend(where)
            freqs.append(len(where))
        else:
            freqs.append(int(weight))

    def finish_term(self) -> None:
        if len(self._pending[2]) >= self.BATCH_POSTINGS:
            self._flush_pending()

    def finish_field(self) -> None:
        self._flush_pending()

    def _flush_pending(self) -> None:
        btexts, counts, ids, freqs, positions, lengths = self._pending
        if btexts:
            self._pending = ([], [], [], [], [], [])
            self._write_terms(btexts, np.asarray(counts, np.int64), np.asarray(ids, np.int64),
                              np.asarray(freqs, np.int64),
                              np.asarray(positions, np.int64) if self._has_positions else None,
                              np.asarray(lengths, np.int64))

    # the array interface

    def add_terms(self, fieldname, fieldobj, btexts: list[bytes], counts: np.ndarray, ids: np.ndarray,
                  freqs: np.ndarray, positions: np.ndarray | None, lengths: np.ndarray) -> None:
        """Terms of ``fieldname`` (sorted, after any written before), each with
        ``counts[i]`` postings: the postings' document numbers (increasing
        within a term), frequencies, positions (concatenated, each posting's
        increasing; None if the field has none) and the documents' field
        lengths, concatenated in term order."""
        if fieldname != self._fieldname:
            if self._fieldname is not None:
                self.finish_field()
            self.start_field(fieldname, fieldobj)
        self._flush_pending()
        self._write_terms(btexts, counts, ids, freqs, positions, lengths)

    def _write_terms(self, btexts, counts, ids, freqs, positions, lengths) -> None:
        n = len(btexts)
        starts = np.cumsum(counts) - counts
        id_gaps = ids - np.concatenate(([0], ids[:-1]))
        id_gaps[starts] = ids[starts]
        components = [(id_gaps, counts), (freqs, counts)]
        if positions is not None:
            if len(positions) != int(freqs.sum()):
                raise ValueError("a term's positions and frequencies disagree")
            npos = np.add.reduceat(freqs, starts) if n else np.zeros(0, np.int64)
            firsts, later = split_positions(positions, freqs)
            components += [(firsts, counts), (later, npos - counts)]
        else:
            npos = np.zeros(n, np.int64)
        record, codes = self._encode(components, n)
        at = self._at + np.concatenate(([0], np.cumsum(record[1])[:-1])) if n else np.zeros(0, np.int64)
        self._out.write(record[0])
        self._at += len(record[0])
        keys = np.fromiter((term_key(self._fieldname, t) for t in btexts), dtype=np.uint64, count=n)
        for name, value in zip(("keys", "at", "counts", "npos", "codes"), (keys, at, counts, npos, codes)):
            self._rows[name].append(value)
        ends = starts + counts - 1
        weight = np.add.reduceat(freqs, starts).tolist() if n else []
        maxweight = np.maximum.reduceat(freqs, starts).tolist() if n else []
        minlength = np.minimum.reduceat(lengths, starts).tolist() if n else []
        maxlength = np.maximum.reduceat(lengths, starts).tolist() if n else []
        minid, maxid, df = ids[starts].tolist(), ids[ends].tolist(), counts.tolist()
        prefix = pack_ushort(self._fieldid)
        lexicon = self._fieldname in LEXICON_FIELDS
        for i, btext in enumerate(btexts):
            info = W3TermInfo(weight=float(weight[i]), df=df[i], minlength=minlength[i], maxlength=maxlength[i],
                              maxweight=float(maxweight[i]), minid=minid[i], maxid=maxid[i])
            info.set_extent(int(at[i]), df[i])
            self._tindex.add(prefix + btext, info.to_bytes())
            if lexicon:
                self._lexicon.append((btext.decode("utf-8"), df[i]))

    @staticmethod
    def _encode(components: list[tuple[np.ndarray, np.ndarray]], n: int) -> tuple[tuple[bytes, np.ndarray], np.ndarray]:
        """Each term's record -- its slice of every component (values, and
        how many per term), each slice in its narrowest width -- laid end
        to end: (the bytes, each record's size), and the width codes."""
        codes = np.zeros(n, np.uint8)
        widths, per_term = [], []
        for k, (values, count) in enumerate(components):
            top = np.zeros(n, np.int64)
            held = count > 0
            if len(values):
                top[held] = np.maximum.reduceat(values, (np.cumsum(count) - count)[held])
            if len(values) and (top.max() >= 1 << 32 or values.min() < 0):
                raise ValueError("a value does not fit the postings format")
            code = (top >= 1 << 8).astype(np.uint8) + (top >= 1 << 16)
            codes |= code << (2 * k)
            width = np.array([1, 2, 4], np.int64)[code]
            widths.append(width)
            per_term.append(width * count)
        sizes = np.sum(per_term, axis=0) if n else np.zeros(0, np.int64)
        record_at = np.cumsum(sizes) - sizes
        out = np.zeros(int(sizes.sum()), np.uint8)
        base = record_at.copy()
        for (values, count), width, size in zip(components, widths, per_term):
            term_of = np.repeat(np.arange(n), count)
            index_in_term = np.arange(len(values)) - np.repeat(np.cumsum(count) - count, count)
            element_width = width[term_of]
            dest = base[term_of] + element_width * index_in_term
            for w, dtype in ((1, "<u1"), (2, "<u2"), (4, "<u4")):
                chosen = element_width == w
                if chosen.any():
                    raw = values[chosen].astype(dtype).view(np.uint8).reshape(-1, w)
                    out[dest[chosen][:, None] + np.arange(w)] = raw
            base += size
        return (out.tobytes(), sizes), codes

    def close(self) -> None:
        if self._fieldname is not None:
            self._flush_pending()
        table = {name: np.concatenate(self._rows[name]) if self._rows[name] else np.zeros(0, np.int64)
                 for name, _ in _TABLE_DTYPES}
        if len(np.unique(table["keys"])) != len(table["keys"]):
            raise RuntimeError("term hash collision")     # 2^-64 odds per pair: never seen
        if len(table["npos"]) and table["npos"].max() >= 1 << 32:
            raise ValueError("a term has more positions than the postings format holds")
        table = {name: table[name].astype(dtype) for name, dtype in _TABLE_DTYPES}
        order = np.argsort(table["keys"], kind="stable")
        padding = -self._at % 8        # the table 8-byte aligned: numpy searches a misaligned array by copying it
        self._out.write(b"\0" * padding)
        self._at += padding
        for name, _ in _TABLE_DTYPES:
            self._out.write(table[name][order].tobytes())
        self._out.write(np.asarray([self._at, len(table["keys"])], dtype="<u8").tobytes() + MAGIC)
        self._out.close()
        self._lexicon_file.write(pickle.dumps(self._lexicon, protocol=pickle.HIGHEST_PROTOCOL))
        self._lexicon_file.close()
        self._tindex.close()
        self.is_closed = True


class VnPerDocWriter(W3PerDocWriter):
    """Whoosh's per-document writer, plus the ``.vnoff`` file (the syllable
    offsets of each document's stored title and body) and the ``.vncol`` file
    (the columns of :mod:`indexer.index.columns`)."""

    def __init__(self, codec, storage, segment) -> None:
        super().__init__(codec, storage, segment)
        self._in_doc = False
        self._columns_file = segment.create_file(storage, columns.SUFFIX)
        self._column_docs: list[dict] = []
        self._doc_columns: dict = {}
        self._offsets_file = segment.create_file(storage, OFFSETS_EXT)
        self._offsets_file.write(OFFSETS_MAGIC)
        self._offsets_at = len(OFFSETS_MAGIC)
        self._offset_rows: list[tuple[int, int, int]] = []
        self._doc_spans: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def start_doc(self, docnum) -> None:
        super().start_doc(docnum)
        self._in_doc = True
        self._doc_spans = {}
        self._doc_columns = {}

    def add_field(self, fieldname, fieldobj, value, length) -> None:
        super().add_field(fieldname, fieldobj, value, length)
        if fieldname in columns.COLUMN_FIELDS and value is not None:
            self._doc_columns[fieldname] = value
        if fieldname in TEXT_FIELDS and isinstance(value, str) and fieldname not in self._doc_spans:
            syllables = analyze(value).syllables
            self._doc_spans[fieldname] = (np.fromiter((s.startchar for s in syllables), np.int64, len(syllables)),
                                          np.fromiter((s.endchar for s in syllables), np.int64, len(syllables)))

    def set_spans(self, fieldname: str, starts: np.ndarray, ends: np.ndarray) -> None:
        """The current document's syllable offsets of a text field, given (a
        merge copies them) instead of analysed from the value ``add_field`` gets."""
        self._doc_spans[fieldname] = (starts, ends)

    def finish_doc(self) -> None:
        super().finish_doc()
        if not self._in_doc:        # Whoosh's close() finishes a document again
            return
        self._in_doc = False
        self._column_docs.append(self._doc_columns)
        empty = np.zeros(0, np.int64)
        for field in TEXT_FIELDS:
            starts, ends = self._doc_spans.get(field, (empty, empty))
            span_gaps = starts - np.concatenate(([0], ends[:-1])) if len(starts) else empty
            lengths = ends - starts
            code = width_code(span_gaps) | width_code(lengths) << 2
            chunk = span_gaps.astype(_WIDTHS[code & 3]).tobytes() + lengths.astype(_WIDTHS[code >> 2]).tobytes()
            self._offset_rows.append((self._offsets_at, len(starts), code))
            self._offsets_file.write(chunk)
            self._offsets_at += len(chunk)

    def cancel_doc(self) -> None:
        super().cancel_doc()
        self._in_doc = False
        self._doc_spans = {}
        self._doc_columns = {}

    def close(self) -> None:
        super().close()
        rows = np.asarray(self._offset_rows, dtype=np.int64).reshape(-1, 3)
        for column, dtype in zip(rows.T, ("<u8", "<u4", "<u1")):
            self._offsets_file.write(column.astype(dtype).tobytes())
        self._offsets_file.write(np.asarray([self._offsets_at, len(rows)], dtype="<u8").tobytes() + OFFSETS_MAGIC)
        self._offsets_file.close()
        docs = self._column_docs
        self._columns_file.write(columns.encode(len(docs), columns.columns_of(docs)))
        self._columns_file.close()


def record_sizes(counts: np.ndarray, npos: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """The byte size of each term's ``.vnpost`` record (from its table row)."""
    counts, later = counts.astype(np.int64), npos.astype(np.int64) - counts
    width = [np.array([1, 2, 4], np.int64)[codes >> shift & 3] for shift in (0, 2, 4, 6)]
    size = counts * (width[0] + width[1])
    positional = npos > 0
    size[positional] += (counts * width[2] + later * width[3])[positional]
    return size


def decode_records(blob: np.ndarray, starts: np.ndarray, counts: np.ndarray, npos: np.ndarray,
                   codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Many terms' records at once -- ``blob`` (uint8) holding each at byte
    ``starts[i]``, with its table row's count, position count and width code --
    as (document numbers, frequencies, positions or None if no term has any),
    concatenated in term order, each posting's positions increasing: the
    inverse of the writer's encoding, vectorized over the terms."""
    counts, npos, codes = counts.astype(np.int64), npos.astype(np.int64), codes.astype(np.int64)
    later = np.where(npos > 0, npos - counts, 0)
    sizes = [counts, counts, np.where(npos > 0, counts, 0), later]
    widths = [np.array([1, 2, 4], np.int64)[codes >> shift & 3] for shift in (0, 2, 4, 6)]
    at = starts.astype(np.int64).copy()
    parts = []
    for n, width in zip(sizes, widths):
        parts.append(_gather(blob, at, n, width))
        at += n * width
    gaps, freqs, firsts, later_gaps = parts
    ids = _restarted_cumsum(gaps, counts)
    if not npos.any():
        return ids, freqs, None
    return ids, freqs, join_positions(firsts, later_gaps, freqs)


def _gather(blob: np.ndarray, starts: np.ndarray, counts: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """``counts[i]`` little-endian values of ``widths[i]`` bytes from byte ``starts[i]``, concatenated (int64)."""
    total = int(counts.sum())
    owner = np.repeat(np.arange(len(counts)), counts)
    index = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    width = widths[owner]
    at = starts[owner] + width * index
    out = blob[at].astype(np.int64)
    for k in (1, 2, 3):
        wide = width > k
        out[wide] |= blob[at[wide] + k].astype(np.int64) << (8 * k)
    return out


# --------------------------------------------------------------------------- reading

class _Blob:
    """Random reads of one file of a segment: ``pread`` on a file storage,
    slices of the bytes otherwise (Whoosh's RAM storage)."""

    def __init__(self, fd: int | None, data: bytes | None, size: int, name: str) -> None:
        self._fd, self._data, self.size, self.name = fd, data, size, name

    @classmethod
    def open(cls, storage, name: str) -> "_Blob":
        folder = getattr(storage, "folder", None)
        if folder is not None:
            path = os.path.join(folder, name)
            fd = os.open(path, os.O_RDONLY)
            return cls(fd, None, os.fstat(fd).st_size, path)
        f = storage.open_file(name)
        try:
            data = bytes(f.read())
        finally:
            f.close()
        return cls(None, data, len(data), name)

    @classmethod
    def at(cls, path: Path | str) -> "_Blob":
        fd = os.open(path, os.O_RDONLY)
        return cls(fd, None, os.fstat(fd).st_size, str(path))

    def read(self, offset: int, n: int) -> bytes:
        if self._data is not None:
            return self._data[offset:offset + n]
        return os.pread(self._fd, n, offset)

    def mapped(self, offset: int, n: int):
        """``n`` bytes at ``offset`` as a read-only buffer: memory-mapped on a
        file storage (the page cache, shared by every process that reads the
        file, holds them; a lookup touches a few pages), copied otherwise."""
        if self._data is not None:
            return self._data[offset:offset + n]
        if getattr(self, "_map", None) is None:
            self._map = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ)
        return memoryview(self._map)[offset:offset + n]

    def close(self) -> None:
        if self._fd is not None and self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def footer(self, magic: bytes) -> tuple[int, int]:
        """(table offset, row count) from a file's footer; ValueError if it is not one of ours."""
        tail = self.read(self.size - _FOOTER, _FOOTER) if self.size >= _FOOTER else b""
        if self.read(0, len(magic)) != magic or tail[16:] != magic:
            raise ValueError(f"{self.name}: not a vnsearch file of this version")
        at, n = np.frombuffer(tail[:16], dtype="<u8").tolist()
        return at, n


class PostingsFile:
    """One segment's ``.vnpost`` (and ``.vnoff``) file, open for reading. The
    term table is read on first use: Whoosh opens a segment's terms reader
    whenever it opens the segment, although vnsearch's searches read postings
    through their own :class:`PostingsFile`."""

    def __init__(self, blob: _Blob, offsets: _Blob | None = None) -> None:
        self._blob = blob
        self._offsets_blob = offsets
        self._table: dict[str, np.ndarray] | None = None
        self._offsets: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @classmethod
    def at(cls, folder: Path | str, segment_id: str) -> "PostingsFile":
        folder = Path(folder)
        return cls(_Blob.at(folder / f"{segment_id}{POSTINGS_EXT}"), _Blob.at(folder / f"{segment_id}{OFFSETS_EXT}"))

    @property
    def table(self) -> dict[str, np.ndarray]:
        if self._table is None:
            at, n = self._blob.footer(MAGIC)
            raw = self._blob.mapped(at, self._blob.size - _FOOTER - at)
            table, offset = {}, 0
            for name, dtype in _TABLE_DTYPES:
                column = np.frombuffer(raw, dtype=dtype, count=n, offset=offset)
                table[name] = column if column.flags.aligned else column.copy()
                offset += n * np.dtype(dtype).itemsize
            self._table = table
        return self._table

    def read(self, offset: int, n: int) -> bytes:
        """``n`` bytes of the file from ``offset`` (records: see :func:`record_sizes`)."""
        return self._blob.read(offset, n)

    def find(self, fieldname: str, term_bytes: bytes) -> int | None:
        """The table row of a term, or None."""
        return self.find_key(np.uint64(term_key(fieldname, term_bytes)))

    def find_key(self, key: np.uint64) -> int | None:
        """The table row of a term by its :func:`term_key` (as np.uint64: a
        Python int would make numpy compare in float64), or None."""
        keys = self.table["keys"]
        i = int(keys.searchsorted(key))
        return i if i < len(keys) and keys[i] == key else None

    def postings(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """A term's (segment-local document numbers int32, frequencies float32)."""
        t = self.table
        count, code = int(t["counts"][row]), int(t["codes"][row])
        wi, wf = _WIDTHS[code & 3], _WIDTHS[code >> 2 & 3]
        raw = self._blob.read(int(t["at"][row]), count * (wi.itemsize + wf.itemsize))
        ids = np.frombuffer(raw, dtype=wi, count=count).cumsum(dtype=np.int32)
        return ids, np.frombuffer(raw, dtype=wf, count=count, offset=count * wi.itemsize).astype(np.float32)

    def positions(self, row: int, freqs: np.ndarray, which: np.ndarray) -> list[np.ndarray]:
        """The positions (int64) of a term's postings number ``which`` (sorted
        indices into its postings; ``freqs`` from :meth:`postings`), one array each."""
        lengths, flat = self.flat_positions(row, freqs, which)
        return np.split(flat, np.cumsum(lengths)[:-1]) if len(lengths) else []

    def flat_positions(self, row: int, freqs: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(the frequency of each posting numbered ``which``, all their positions
        concatenated in that order, int64): the firsts in one read, the later
        gaps in one read unless they lie far apart, decoded in one pass."""
        t = self.table
        count, code = int(t["counts"][row]), int(t["codes"][row])
        if not int(t["npos"][row]):
            raise ValueError("the field has no positions")
        which = np.asarray(which, dtype=np.int64)
        if not len(which):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        wi, wf, w1, wg = (_WIDTHS[code >> shift & 3].itemsize for shift in (0, 2, 4, 6))
        firsts_at = int(t["at"][row]) + count * (wi + wf)
        gaps_at = firsts_at + count * w1
        lo, hi = int(which[0]), int(which[-1]) + 1
        firsts = decode(self._blob.read(firsts_at + w1 * lo, w1 * (hi - lo)), code >> 4 & 3, hi - lo)[which - lo]
        later = freqs.astype(np.int64) - 1
        starts = np.cumsum(later) - later
        mine, mine_at = later[which], starts[which]
        a, b = int(mine_at[0]), int(mine_at[-1] + mine[-1])
        if (b - a) * wg <= max(ONE_READ_BYTES, 4 * wg * int(mine.sum())):     # close together: one read
            gaps = decode(self._blob.read(gaps_at + wg * a, wg * (b - a)), code >> 6, b - a)
            gaps = gaps[run_indexes(mine_at - a, mine)]
        else:
            raw = b"".join(self._blob.read(gaps_at + wg * int(s), wg * int(k))
                           for s, k in zip(mine_at.tolist(), mine.tolist()) if k)
            gaps = decode(raw, code >> 6, int(mine.sum()))
        lengths = mine + 1
        return lengths, join_positions(firsts, gaps, lengths)

    def spans(self, docnum: int, text_field: str) -> tuple[np.ndarray, np.ndarray]:
        """(starts, ends) of every syllable of a document's stored text field."""
        if self._offsets is None:
            at, n = self._offsets_blob.footer(OFFSETS_MAGIC)
            raw = self._offsets_blob.read(at, 13 * n)
            self._offsets = (np.frombuffer(raw, "<u8", n), np.frombuffer(raw, "<u4", n, 8 * n),
                             np.frombuffer(raw, "<u1", n, 12 * n))
        at, counts, codes = self._offsets
        row = 2 * docnum + TEXT_FIELDS.index(text_field)
        n, code = int(counts[row]), int(codes[row])
        wg, wl = _WIDTHS[code & 3].itemsize, _WIDTHS[code >> 2].itemsize
        raw = self._offsets_blob.read(int(at[row]), n * (wg + wl))
        span_gaps, lengths = decode(raw, code & 3, n), decode(raw, code >> 2, n, n * wg)
        ends = np.cumsum(span_gaps + lengths)
        return ends - lengths, ends

    def close(self) -> None:
        self._blob.close()
        if self._offsets_blob is not None:
            self._offsets_blob.close()


def characters(positions: np.ndarray, term: str, spans: tuple[np.ndarray, np.ndarray]) -> list[tuple[int, int, int]]:
    """``(position, startchar, endchar)`` of each occurrence of ``term`` (an
    indexed token) at ``positions``, from its document's syllable ``spans``."""
    starts, ends = spans
    last = positions + syllable_count(term) - 1
    return list(zip(positions.tolist(), starts[positions].tolist(), ends[last].tolist()))


def read_lexicon(segment_reader) -> list[tuple[str, int]]:
    """The exact-field (term, document frequency) pairs of a segment (a
    Whoosh segment reader on a file storage)."""
    folder, segment_id = _location(segment_reader)
    with open(folder / f"{segment_id}{LEXICON_EXT}", "rb") as f:
        return pickle.load(f)


def open_postings(segment_reader) -> PostingsFile:
    """The postings file of a segment (a Whoosh segment reader on a file storage)."""
    return PostingsFile.at(*_location(segment_reader))


def _location(segment_reader) -> tuple[Path, str]:
    location = whoosh_internals.segment_location(segment_reader)
    if location is None:
        raise ValueError("not a segment of a file storage")
    return location


class ArrayMatcher(LeafMatcher):
    """Whoosh's view of one term's postings in a :class:`PostingsFile`: a
    complete leaf matcher (ids, weights, positions, characters), so Whoosh's
    own queries, scorers, highlighters and merges work on vnsearch segments."""

    def __init__(self, postings: PostingsFile, row: int, format_, term=None, scorer=None, terminfo=None,
                 arrays=None, i: int = 0) -> None:
        self._postings, self._row, self.format, self._term, self.scorer = postings, row, format_, term, scorer
        self._terminfo = terminfo
        if arrays is None:
            ids, freqs = postings.postings(row)
            arrays = (ids.tolist(), freqs.tolist(), freqs)
        self._arrays = arrays
        self._ids, self._weights = arrays[0], arrays[1]
        self._i = i
        self._positions_cache: dict[int, list[int]] = {}

    def copy(self):
        return ArrayMatcher(self._postings, self._row, self.format, self._term, self.scorer, self._terminfo,
                            self._arrays, self._i)

    def is_active(self) -> bool:
        return self._i < len(self._ids)

    def reset(self) -> None:
        self._i = 0

    def id(self) -> int:
        return self._ids[self._i]

    def all_ids(self):
        return iter(self._ids)

    def next(self) -> bool:
        if not self.is_active():
            raise ReadTooFar
        self._i += 1
        return False

    def skip_to(self, id) -> None:
        if not self.is_active():
            raise ReadTooFar
        if id > self._ids[self._i]:
            self._i = bisect_left(self._ids, id, self._i)

    def weight(self) -> float:
        return self._weights[self._i]

    def _positions(self) -> list[int]:
        i = self._i
        if i not in self._positions_cache:
            self._positions_cache[i] = self._postings.positions(self._row, self._arrays[2], np.array([i]))[0].tolist()
        return self._positions_cache[i]

    def value_as(self, astype):
        if astype == "positions":
            return self._positions()
        if astype == "characters":
            spans = self._postings.spans(self.id(), text_field_of(self._term[0]))
            return characters(np.asarray(self._positions(), dtype=np.int64),
                              self._term[1].decode("utf-8"), spans)
        if astype in ("frequency", "weight"):
            return int(self.weight()) if astype == "frequency" else self.weight()
        return super().value_as(astype)

    def value(self):
        """The posting's value in Whoosh's encoding of the field's format."""
        if self.format.supports("characters"):
            return self.format.encode(self.value_as("characters"))
        if self.format.supports("positions"):
            return self.format.encode(self._positions())
        return self.format.encode(int(self.weight()))

    def all_items(self):
        for _ in self._ids_from_here():
            yield self.id(), self.value()

    def _ids_from_here(self):
        while self.is_active():
            yield self._i
            self._i += 1

    def supports_block_quality(self) -> bool:
        return self.scorer is not None and self.scorer.supports_block_quality()

    def skip_to_quality(self, minquality) -> int:
        if self.block_quality() <= minquality:
            self._i = len(self._ids)
            return 1
        return 0

    # One block: the whole list.
    def block_min_id(self):
        return self._ids[0]

    def block_max_id(self):
        return self._ids[-1]

    def block_min_length(self):
        return self._terminfo.min_length()

    def block_max_length(self):
        return self._terminfo.max_length()

    def block_max_weight(self):
        return self._terminfo.max_weight()


