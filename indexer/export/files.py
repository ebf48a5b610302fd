"""Writing an export directory: ``mapping.json``, ``bulk-NNNN.ndjson``,
``search-template.json``.

The directory is written beside its destination under a temporary name and
renamed into place when complete, so an export that fails leaves nothing
behind (and never a half-written OUTDIR that looks finished).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from indexer.export.aligned import Expansions
from indexer.export.opensearch import DocumentStats, ExportError, document, mapping, stored_documents
from indexer.export.template import TEMPLATE_ID, search_template
from indexer.index import generations, schema
from indexer.search.settings import DEFAULT, RankingSettings

MAPPING_FILE = "mapping.json"
TEMPLATE_FILE = "search-template.json"
BULK_PATTERN = "bulk-{:04d}.ndjson"
MAX_BULK_BYTES = 50 * 1024 * 1024
DEFAULT_INDEX_NAME = "vnsearch"
MAX_ID_BYTES = 512


@dataclass
class ExportReport:
    outdir: Path
    documents: int = 0
    bulk_files: list[str] = field(default_factory=list)
    bulk_bytes: int = 0
    markers: int = 0              # tokens written as char-filter expansions
    dropped_tokens: int = 0       # tokens longer than Lucene accepts, left out
    generation: str = ""
    seconds: float = 0.0


def opensearch_id(doc_id: str) -> str:
    """The ``_id`` of an article: its id, or for an id over OpenSearch's 512 UTF-8
    bytes, ``sha256-`` and the id's hash (the ``id`` field keeps the id itself)."""
    raw = doc_id.encode("utf-8")
    return doc_id if len(raw) <= MAX_ID_BYTES else "sha256-" + hashlib.sha256(raw).hexdigest()


class BulkWriter:
    """``_bulk`` action/document line pairs into files of at most ``max_bytes``
    (a pair is never split; a pair larger than ``max_bytes`` gets a file alone)."""

    def __init__(self, outdir: Path, index_name: str, max_bytes: int) -> None:
        self.outdir, self.index_name, self.max_bytes = outdir, index_name, max_bytes
        self.files: list[str] = []
        self.total = 0
        self._out = None
        self._size = 0

    def add(self, doc_id: str, doc: dict) -> None:
        pair = (json.dumps({"index": {"_index": self.index_name, "_id": opensearch_id(doc_id)}},
                           ensure_ascii=False) + "\n"
                + json.dumps(doc, ensure_ascii=False) + "\n").encode("utf-8")
        if self._out is None or (self._size and self._size + len(pair) > self.max_bytes):
            self._next_file()
        self._out.write(pair)
        self._size += len(pair)
        self.total += len(pair)

    def _next_file(self) -> None:
        self.close()
        name = BULK_PATTERN.format(len(self.files) + 1)
        self.files.append(name)
        self._out = open(self.outdir / name, "wb")
        self._size = 0

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


def _check_outdir(outdir: Path) -> None:
    if outdir.exists() and not outdir.is_dir():
        raise ExportError(f"{outdir} exists and is not a directory")
    if outdir.is_dir() and any(outdir.iterdir()):
        raise ExportError(f"{outdir} is not empty: export into a new or empty directory")


def _version() -> str:
    try:
        return importlib.metadata.version("vnsearch")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def export_opensearch(index_dir: Path | str, outdir: Path | str, *, index_name: str = DEFAULT_INDEX_NAME,
                      max_bytes: int = MAX_BULK_BYTES, settings: RankingSettings = DEFAULT) -> ExportReport:
    """Export the current generation of ``index_dir`` into ``outdir`` (new or empty).

    Every live document is analysed again by :mod:`indexer.analysis` from its
    stored text. Raises :class:`~indexer.index.generations.IndexNotFound` (or
    ``IndexFormatError``) without a readable index, :class:`ExportError` for an
    unusable OUTDIR or settings OpenSearch cannot express.
    """
    started = time.perf_counter()
    outdir = Path(outdir)
    if max_bytes < 1:
        raise ExportError("the bulk file size must be at least 1 byte")
    if not index_name or index_name != index_name.lower() or any(c in index_name for c in ' "*\\<|,>/?#:'):
        raise ExportError(f"invalid OpenSearch index name {index_name!r}: lowercase, without spaces or \" * \\ < | , > / ? # :")
    _check_outdir(outdir)
    gen = generations.current_generation(Path(index_dir))
    mapping(settings, Expansions())                 # refuse settings OpenSearch cannot take before any work
    outdir.parent.mkdir(parents=True, exist_ok=True)
    work = outdir.parent / f".{outdir.name}.{uuid.uuid4().hex[:12]}.partial"
    work.mkdir()
    report = ExportReport(outdir=outdir, generation=gen.name)
    try:
        expansions, stats = Expansions(), DocumentStats()
        writer = BulkWriter(work, index_name, max_bytes)
        searcher = generations.whoosh_index.open_dir(str(gen)).searcher()
        try:
            for stored in stored_documents(searcher.reader()):
                writer.add(stored[schema.ID_FIELD], document(stored, expansions, stats))
                report.documents += 1
        finally:
            searcher.close()
            writer.close()
        meta = {"version": _version(), "generation": gen.name, "documents": report.documents,
                "bulk_files": writer.files}
        _write_json(work / MAPPING_FILE, mapping(settings, expansions, meta))
        _write_json(work / TEMPLATE_FILE, search_template(settings))
        _check_outdir(outdir)
        if outdir.is_dir():
            outdir.rmdir()
        os.rename(work, outdir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    report.bulk_files, report.bulk_bytes = writer.files, writer.total
    report.markers, report.dropped_tokens = len(expansions), stats.dropped_tokens
    report.seconds = time.perf_counter() - started
    return report


__all__ = ["BULK_PATTERN", "DEFAULT_INDEX_NAME", "MAPPING_FILE", "MAX_BULK_BYTES", "TEMPLATE_FILE", "TEMPLATE_ID",
           "BulkWriter", "ExportReport", "export_opensearch"]
