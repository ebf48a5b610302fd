"""Reading the articles of one corpus file: a ``.txt`` page, or ``.jsonl`` /
``.jsonl.gz`` records. Nothing here raises for a bad file: problems are
reported and reading carries on with the next file or line."""

from __future__ import annotations

import gzip
import json
import os
import re
import zlib
from typing import Iterator

from indexer.ingest import filesystem
from indexer.ingest.model import Article, Problem, SourceFile
from indexer.ingest.pages import parse_txt
from indexer.ingest.validate import MAX_ARTICLE_CHARS, validate_record

MAX_TXT_BYTES = 20 * 1024 * 1024      # a .txt page larger than this is reported, not read

def read_articles(source: SourceFile, problems: list[Problem]) -> Iterator[Article]:
    """Yield the articles of one file; bad files / lines are appended to ``problems``.

    A generator: the problems of a file are complete once it is exhausted.
    """
    name = source.relpath.lower()
    if name.endswith(".txt"):
        yield from _read_txt(source, problems)
    elif name.endswith(".jsonl.gz"):
        yield from _read_jsonl(source, problems, gz=True)
    elif name.endswith(".jsonl"):
        yield from _read_jsonl(source, problems, gz=False)
    else:
        problems.append(Problem(source.relpath, "unsupported file type (expected .txt, .jsonl or .jsonl.gz)"))


_MAGIC = (b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x7fELF",
          b"BZh", b"\xfd7zXZ", b"Rar!", b"7z\xbc\xaf", b"\xd0\xcf\x11\xe0")
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def _txt_problem(data: bytes) -> str | None:
    """Why ``data`` is not a readable UTF-8 text page, or None."""
    if not data:
        return "empty"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16 text (only UTF-8 is supported)"
    if b"\x00" in data or data.startswith(_MAGIC):
        return "binary file"
    sample = data[:65536]
    if len(_CONTROL_BYTES.findall(sample)) > 0.3 * len(sample):
        return "binary file"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"invalid UTF-8 at byte {e.start}"
    if not text.lstrip("\ufeff").strip():
        return "empty (whitespace only)"
    return None


def _read_txt(source: SourceFile, problems: list[Problem]) -> Iterator[Article]:
    limit = MAX_TXT_BYTES
    try:
        with filesystem.open_binary(source.path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                problems.append(Problem(source.relpath, f"too large ({filesystem.fmt_size(size)} > {filesystem.fmt_size(limit)})"))
                return
            data = f.read(limit + 1)
    except OSError as e:
        problems.append(Problem(source.relpath, filesystem.os_reason(e, source.path)))
        return
    if len(data) > limit:   # grew since stat
        problems.append(Problem(source.relpath, f"too large (> {filesystem.fmt_size(limit)})"))
        return
    reason = _txt_problem(data)
    if reason:
        problems.append(Problem(source.relpath, reason))
        return
    try:
        article = parse_txt(data.decode("utf-8"), source.relpath)
    except ValueError as e:
        problems.append(Problem(source.relpath, str(e)))
        return
    yield article


def _max_line_bytes() -> int:
    # worst case: every character of a maximal text written as a \\uXXXX\\uXXXX surrogate pair
    return 12 * MAX_ARTICLE_CHARS + (1 << 20)


def _read_jsonl(source: SourceFile, problems: list[Problem], gz: bool) -> Iterator[Article]:
    rel = source.relpath
    limit = _max_line_bytes()
    try:
        raw_f = filesystem.open_binary(source.path)
    except OSError as e:
        problems.append(Problem(rel, filesystem.os_reason(e, source.path)))
        return
    first_line: dict[str, int] = {}
    lineno = 0
    nonblank = 0
    with raw_f, (gzip.GzipFile(fileobj=raw_f, mode="rb") if gz else raw_f) as f:
        while True:
            try:
                raw = f.readline(limit + 1)
                too_long = len(raw) > limit and not raw.endswith(b"\n")
                if too_long:
                    while True:              # drain the rest of the line
                        chunk = f.readline(1 << 20)
                        if not chunk or chunk.endswith(b"\n"):
                            break
            except (OSError, EOFError, zlib.error) as e:
                what = "corrupt gzip stream" if gz else "read error"
                msg = filesystem.os_reason(e) if isinstance(e, OSError) and e.errno else (str(e) or type(e).__name__)
                problems.append(Problem(rel, f"{what} after line {lineno}: {msg}"))
                return
            if not raw:
                break
            lineno += 1
            if too_long:
                nonblank += 1
                problems.append(Problem(f"{rel}:{lineno}", f"line {lineno}: too large (> {filesystem.fmt_size(limit)})"))
                continue
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            nonblank += 1
            notes: list[str] = []
            try:
                article = _parse_jsonl_line(raw, rel, notes)
            except ValueError as e:
                problems.append(Problem(f"{rel}:{lineno}", f"line {lineno}: {e}"))
                continue
            prev = first_line.get(article.id)
            if prev is not None:
                problems.append(Problem(f"{rel}:{lineno}",
                                        f"line {lineno}: duplicate id {article.id!r} (first on line {prev}): skipped"))
                continue
            first_line[article.id] = lineno
            problems.extend(Problem(f"{rel}:{lineno}", f"line {lineno}: {note}") for note in notes)
            yield article
    if nonblank == 0:
        problems.append(Problem(rel, "empty"))


def _parse_jsonl_line(raw: bytes, rel: str, notes: list[str]) -> Article:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ValueError(f"invalid UTF-8 at byte {e.start} of the line") from None
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise ValueError(f"invalid JSON ({e.msg} at column {e.colno})") from None
    except RecursionError:
        raise ValueError("invalid JSON (nested too deeply)") from None
    # strings decoded from UTF-8 cannot hold surrogates; only a \\uD800-\\uDFFF escape can
    return validate_record(record, rel, check_surrogates=b"\\ud" in raw or b"\\uD" in raw, notes=notes)

