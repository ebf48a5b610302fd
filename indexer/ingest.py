"""From corpus files to clean articles.

Two kinds of source file are understood:

* ``.txt`` -- one scraped news page: the first line with a letter is the title,
  an optional publication-date line near the top gives the date, the rest is the
  body. Page furniture the scraper picked up (PHP ``print_r`` dumps of related
  links, site footers, "back to top" links, related-link lists, comment-form
  boilerplate, a trailing section header ...) is removed; the remaining lines are
  kept exactly as they are (no Unicode or whitespace normalisation inside a line).
* ``.jsonl`` / ``.jsonl.gz`` -- one JSON object per line:
  ``{"id", "title", "text", "url"?, "date"?, "source"?}`` (other keys ignored).

Nothing here raises for a bad file: :func:`discover` and :func:`read_articles`
report :class:`Problem` records and carry on with the next file / line.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import json
import os
import re
import stat
import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable, Iterator

__all__ = [
    "Article", "MAX_ARTICLE_CHARS", "MAX_TXT_BYTES", "Problem", "SUFFIXES", "SourceFile",
    "article_to_jsonl", "discover", "parse_txt", "read_articles", "validate_article",
]

SUFFIXES = (".txt", ".jsonl", ".jsonl.gz")
MAX_TXT_BYTES = 20 * 1024 * 1024      # a .txt page larger than this is reported, not read
MAX_ARTICLE_CHARS = 2_000_000         # per jsonl record ('text')
DATE_WINDOW = 10                      # a date line must be among the first N non-blank lines after the title


@dataclass(frozen=True)
class SourceFile:
    path: Path        # absolute (symlinks not resolved)
    relpath: str      # POSIX path relative to its corpus root
    size: int
    sha256: str       # of the raw bytes


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    date: str | None
    url: str | None
    source: str | None
    relpath: str


@dataclass(frozen=True)
class Problem:
    path: str         # relpath (plus ":LINE" for a bad jsonl line)
    reason: str


# --------------------------------------------------------------------------- helpers

def _open_binary(path: Path) -> BinaryIO:
    """The one place files are opened for reading (tests simulate failures here)."""
    return open(path, "rb")


def _scandir(path: Path):
    """The one place directories are listed (tests simulate failures here)."""
    with os.scandir(path) as it:
        return sorted(it, key=lambda e: e.name)


def _fmt_size(n: float) -> str:
    for unit, scale in (("MB", 1024 ** 2), ("KB", 1024)):
        if n >= scale:
            s = f"{n / scale:.1f}"
            return (s[:-2] if s.endswith(".0") else s) + " " + unit
    return f"{int(n)} B"


def _os_reason(err: OSError, path: str | os.PathLike | None = None) -> str:
    if err.errno == errno.ELOOP:
        return "symlink loop"
    if err.errno == errno.ENOENT:
        if path is not None and os.path.islink(path):
            return "broken symlink"
        return "no such file or directory"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if err.errno == errno.ENAMETOOLONG:
        return "file name too long"
    return (err.strerror or str(err)).lower()


def _has_suffix(name: str) -> bool:
    low = name.lower()
    return any(low.endswith(s) for s in SUFFIXES)


# --------------------------------------------------------------------------- discover

def discover(paths: Iterable[Path | str], root: Path | None = None
             ) -> tuple[list[SourceFile], list[Problem]]:
    """Find the corpus files under ``paths`` (files or directories) and hash them.

    Directories are walked recursively in sorted order (symlinks followed, loops
    detected, entries whose name starts with "." skipped); only names ending in
    one of :data:`SUFFIXES` (case-insensitive) are kept. ``root`` (default: the
    directory argument itself, or a file argument's parent) defines ``relpath``.
    Unreadable, looping, broken or non-regular entries become :class:`Problem`.
    Files come out per argument, sorted by relpath; a relpath seen before (from
    another argument) is reported as a duplicate and skipped.
    """
    files: list[SourceFile] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}           # relpath -> absolute path
    root_abs = Path(os.path.abspath(root)) if root is not None else None

    for arg in paths:
        ap = Path(os.path.abspath(arg))
        label = str(arg)
        try:
            st = os.stat(ap)
        except OSError as e:
            problems.append(Problem(label, _os_reason(e, ap)))
            continue
        if stat.S_ISDIR(st.st_mode):
            base = root_abs if root_abs is not None else ap
            found = _walk(ap, base, st, problems)
        else:
            base = root_abs if root_abs is not None else ap.parent
            if not _has_suffix(ap.name):
                problems.append(Problem(label, "unsupported file type (expected .txt, .jsonl or .jsonl.gz)"))
                continue
            rel = _relpath(ap, base)
            if rel is None:
                problems.append(Problem(label, f"not under root {base}"))
                continue
            found = [(ap, rel, st)]
        batch = []
        for path, rel, fst in found:
            if not stat.S_ISREG(fst.st_mode):
                problems.append(Problem(rel, "not a regular file"))
                continue
            sf = _hash(path, rel, problems)
            if sf is not None:
                batch.append(sf)
        for sf in sorted(batch, key=lambda f: f.relpath):
            prev = seen.get(sf.relpath)
            if prev is not None:
                if prev != str(sf.path):
                    problems.append(Problem(sf.relpath, f"duplicate relpath (already read from {prev}): skipped"))
                continue
            seen[sf.relpath] = str(sf.path)
            files.append(sf)
    return files, problems


def _relpath(path: Path, base: Path) -> str | None:
    try:
        return PurePosixPath(*path.relative_to(base).parts).as_posix()
    except ValueError:
        return None


def _walk(top: Path, base: Path, top_st: os.stat_result, problems: list[Problem]
          ) -> list[tuple[Path, str, os.stat_result]]:
    """Depth-first, sorted walk following symlinks; returns (path, relpath, stat) of candidates."""
    if _relpath(top, base) is None:
        problems.append(Problem(str(top), f"not under root {base}"))
        return []
    out: list[tuple[Path, str, os.stat_result]] = []
    walked: dict[tuple[int, int], str] = {}
    top_key = (top_st.st_dev, top_st.st_ino)
    stack: list[tuple[Path, tuple[tuple[int, int], ...]]] = [(top, (top_key,))]
    walked[top_key] = _relpath(top, base) or "."
    while stack:
        d, ancestors = stack.pop()
        d_rel = _relpath(d, base) or "."
        try:
            entries = _scandir(d)
        except OSError as e:
            problems.append(Problem(d_rel, _os_reason(e, d)))
            continue
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            p = Path(entry.path)
            rel = _relpath(p, base) or entry.name
            try:
                st = os.stat(p)
            except OSError as e:
                # a dangling or looping link to something we would not read anyway is still reported:
                # it is most likely a corpus file or directory that went missing
                problems.append(Problem(rel, _os_reason(e, p)))
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in ancestors:
                    problems.append(Problem(rel, "symlink loop"))
                elif key in walked:
                    problems.append(Problem(rel, f"directory already read as {walked[key]}: skipped"))
                else:
                    walked[key] = rel
                    subdirs.append((p, ancestors + (key,)))
            elif _has_suffix(entry.name):
                out.append((p, rel, st))
        stack.extend(reversed(subdirs))
    return out


def _hash(path: Path, rel: str, problems: list[Problem]) -> SourceFile | None:
    h = hashlib.sha256()
    size = 0
    try:
        with _open_binary(path) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
    except OSError as e:
        problems.append(Problem(rel, _os_reason(e, path)))
        return None
    return SourceFile(path=path, relpath=rel, size=size, sha256=h.hexdigest())


# --------------------------------------------------------------------------- read_articles

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
        with _open_binary(source.path) as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                problems.append(Problem(source.relpath, f"too large ({_fmt_size(size)} > {_fmt_size(limit)})"))
                return
            data = f.read(limit + 1)
    except OSError as e:
        problems.append(Problem(source.relpath, _os_reason(e, source.path)))
        return
    if len(data) > limit:   # grew since stat
        problems.append(Problem(source.relpath, f"too large (> {_fmt_size(limit)})"))
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
        raw_f = _open_binary(source.path)
    except OSError as e:
        problems.append(Problem(rel, _os_reason(e, source.path)))
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
                msg = _os_reason(e) if isinstance(e, OSError) and e.errno else (str(e) or type(e).__name__)
                problems.append(Problem(rel, f"{what} after line {lineno}: {msg}"))
                return
            if not raw:
                break
            lineno += 1
            if too_long:
                nonblank += 1
                problems.append(Problem(f"{rel}:{lineno}", f"line {lineno}: too large (> {_fmt_size(limit)})"))
                continue
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            nonblank += 1
            try:
                article = _parse_jsonl_line(raw, rel)
            except ValueError as e:
                problems.append(Problem(f"{rel}:{lineno}", f"line {lineno}: {e}"))
                continue
            prev = first_line.get(article.id)
            if prev is not None:
                problems.append(Problem(f"{rel}:{lineno}",
                                        f"line {lineno}: duplicate id {article.id!r} (first on line {prev}): skipped"))
                continue
            first_line[article.id] = lineno
            yield article
    if nonblank == 0:
        problems.append(Problem(rel, "empty"))


def _parse_jsonl_line(raw: bytes, rel: str) -> Article:
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
    return _validate(record, rel, check_surrogates=b"\\ud" in raw or b"\\uD" in raw)


# --------------------------------------------------------------------------- validate / serialise

_ISO_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?)?")
_CONTROL_IN_ID = re.compile(r"[\x00-\x1f\x7f]")


def _check_str(record: dict, key: str, required: bool = False, surrogates: bool = True) -> str | None:
    value = record.get(key)
    if value is None:
        if required:
            raise ValueError(f"missing {key!r}")
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string, not {type(value).__name__}")
    if "\x00" in value:
        raise ValueError(f"{key!r} contains a NUL character")
    if surrogates:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{key!r} contains an unpaired surrogate (\\ud800-\\udfff)") from None
    return value


def _normalize_iso_date(value: str) -> str:
    m = _ISO_DATE.fullmatch(value.strip())
    if m:
        y, mo, d, hh, mi, ss, frac, tz = m.groups()
        try:
            datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
            if tz and tz != "Z":
                tzh, tzm = int(tz[1:3]), int(tz[-2:])
                if tzh > 23 or tzm > 59:
                    raise ValueError
        except ValueError:
            pass
        else:
            out = f"{y}-{mo}-{d}"
            if hh is not None:
                out += f"T{hh}:{mi}" + (f":{ss}" if ss is not None else "") + (f".{frac}" if frac else "")
                out += tz or ""
            return out
    raise ValueError(f"invalid 'date' {value[:40]!r}: expected ISO 8601 such as 2020-07-14 or 2020-07-14T06:55:40")


def validate_article(record: dict, relpath: str) -> Article:
    """Check a JSON record and turn it into an :class:`Article`; ValueError says what is wrong.

    ``id``: non-empty string (no control characters) or integer (converted with str);
    ``text``: non-empty string of at most MAX_ARTICLE_CHARS characters; ``title``: string,
    may be empty or missing; ``url`` (http/https only), ``date`` (ISO 8601), ``source``:
    optional strings, null or "" meaning absent. No string may contain NUL.
    Other keys are ignored.
    """
    return _validate(record, relpath, check_surrogates=True)


def _validate(record: dict, relpath: str, check_surrogates: bool) -> Article:
    if not isinstance(record, dict):
        raise ValueError(f"not a JSON object (got {type(record).__name__})")
    if "id" not in record or record["id"] is None:
        raise ValueError("missing 'id'")
    raw_id = record["id"]
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        raise ValueError(f"'id' must be a string or an integer, not {type(raw_id).__name__}")
    art_id = str(raw_id) if isinstance(raw_id, int) else _check_str(record, "id", surrogates=check_surrogates)
    if not art_id.strip():
        raise ValueError("empty 'id'")
    if _CONTROL_IN_ID.search(art_id):
        raise ValueError("'id' contains a control character")
    if len(art_id) > 1000:
        raise ValueError(f"'id' too long ({len(art_id)} chars > 1000)")

    if record.get("text") is None:
        raise ValueError("missing 'text'")
    text = _check_str(record, "text", required=True, surrogates=check_surrogates)
    if not text.strip():
        raise ValueError("empty 'text'")
    if len(text) > MAX_ARTICLE_CHARS:
        raise ValueError(f"'text' too large ({len(text):,} chars > {MAX_ARTICLE_CHARS:,})")
    title = _check_str(record, "title", surrogates=check_surrogates) or ""
    if len(title) > 10_000:
        raise ValueError(f"'title' too long ({len(title):,} chars > 10,000)")

    url = _check_str(record, "url", surrogates=check_surrogates) or None
    if url is not None:
        if not re.match(r"https?://[^\s/]", url, re.I) or re.search(r"[\s\x00-\x1f\x7f]", url):
            raise ValueError(f"invalid 'url' {url[:60]!r}: expected an http:// or https:// address")
    date = _check_str(record, "date", surrogates=check_surrogates) or None
    if date is not None:
        date = _normalize_iso_date(date)
    source = _check_str(record, "source", surrogates=check_surrogates) or None
    return Article(id=art_id, title=title, text=text, date=date, url=url, source=source, relpath=relpath)


def article_to_jsonl(article: Article) -> str:
    """One JSON line (no trailing newline) that :func:`read_articles` reads back as ``article``."""
    return json.dumps({"id": article.id, "title": article.title, "text": article.text,
                       "date": article.date, "url": article.url, "source": article.source},
                      ensure_ascii=False)


# --------------------------------------------------------------------------- .txt pages

def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


# --- PHP print_r dumps: "Array\n(\n    [0] => Array\n        (\n  [k] => v ...\n )\n)" or the
# same collapsed onto one line. A dump starts with "Array (" followed by a "[key] =>".
_ARRAY_START = re.compile(r"(?<![\w$])Array\s*\(\s*(?=\[[^\]\n]{0,200}\]\s*=>)")
_PR_KEY = re.compile(r"\[[^\]\n]{0,200}\][ \t]*=>[ \t]?")
_PR_NESTED = re.compile(r"[ \t]*Array\s*\(")
_PR_KEY_LINE = re.compile(r"[ \t]*\[[^\]\n]{0,200}\][ \t]*=>")
_PR_CLOSE_LINE = re.compile(r"[ \t]*\)[ \t]*$")
_PR_KEY_INLINE = re.compile(r"[ \t]+\[[^\]\n]{0,200}\][ \t]*=>")
_PR_CLOSE_INLINE = re.compile(r"[ \t]+\)(?=\s|$)")
_WS = re.compile(r"\s*")


def _print_r_end(text: str, i: int, multiline: bool) -> int:
    """Position just after the print_r structure whose first '(' ends before ``i``."""
    n = len(text)
    depth = 1
    while depth and i < n:
        j = _WS.match(text, i).end()
        if j >= n:
            return n
        if text[j] == ")":
            depth -= 1
            i = j + 1
            continue
        km = _PR_KEY.match(text, j)
        if not km:                      # something else: the dump ends here
            return j
        i = km.end()
        nm = _PR_NESTED.match(text, i)
        if nm:
            depth += 1
            i = nm.end()
            continue
        if multiline:                   # a scalar runs to the end of its line (plus continuation lines)
            while True:
                nl = text.find("\n", i)
                if nl < 0:
                    return n
                eol = text.find("\n", nl + 1)
                nxt = text[nl + 1: eol if eol >= 0 else n]
                i = nl
                if _PR_KEY_LINE.match(nxt) or _PR_CLOSE_LINE.match(nxt):
                    break
                i = nl + 1
        else:
            k = _PR_KEY_INLINE.search(text, i)
            stop = k.start() if k else n
            c = _PR_CLOSE_INLINE.search(text, i, stop)
            i = c.start() if c else stop
    return i


_DUMP_MARK = "\x00"   # a removed dump leaves a line of its own with this (NUL never occurs in a read page)


def _strip_php_dumps(text: str) -> str:
    """Replace every print_r dump with a line of its own holding only _DUMP_MARK."""
    parts: list[str] = []
    pos = 0
    at_line_start = True                # is the output so far empty or ending with a newline?
    while True:
        m = _ARRAY_START.search(text, pos)
        if not m:
            break
        end = _print_r_end(text, m.end(), multiline="\n" in m.group(0))
        before = text[pos:m.start()]
        if before:
            at_line_start = before.endswith("\n")
        parts += [before, "" if at_line_start else "\n", _DUMP_MARK]
        if end < len(text) and text[end] != "\n":
            parts.append("\n")
            at_line_start = True
        else:
            at_line_start = False
        pos = end
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


# --- line classes (matched against the NFC form of the stripped line; case-insensitive)

_STRAY_PR_LINE = re.compile(r"\[[A-Za-z0-9_ -]{1,60}\]\s*=>")

# Widget labels that are furniture wherever they stand on a line of their own.
_NAV_LABEL = re.compile(
    r"(?:quay (?:lên|về|lại) (?:trên|đầu trang|đầu)|(?:trở )?(?:về|lên) đầu trang|back to top"
    r"|bài viết mới nhất|bài viết liên quan|bài liên quan|tin liên quan|tin cùng chuyên mục"
    r"|các tin khác|các tin đã đưa|chia sẻ bài viết|in bài viết|gửi bài viết|lưu bài viết)"
    r"\s*[:：]?", re.I)
# Labels that head a list of related headlines.
_LIST_LABEL = re.compile(
    r"(?:bài viết mới nhất|bài viết liên quan|bài liên quan|tin liên quan|tin cùng chuyên mục|các tin khác"
    r"|tin khác|tin mới|tin mới nhất|tin mới hơn|tin cũ hơn|tin đọc nhiều|đọc nhiều nhất|xem nhiều nhất"
    r"|xem thêm|đọc thêm|có thể bạn quan tâm|bạn có thể quan tâm)\s*[:：]?", re.I)
# Furniture only in the trailing block of a page.
_TAIL_WIDGET = re.compile(
    r"(?:>>|»|›)\s*\S"                                            # related-link line
    r"|(?:xem thêm|đọc thêm|tin liên quan|bài liên quan)\s*[:>»]\s*\S"
    r"|(?:tin mới|tin mới nhất|tin khác|xem thêm|đọc thêm|chia sẻ|bình luận|ý kiến bạn đọc|gửi ý kiến"
    r"|gửi bình luận|in bài|đánh giá bài viết|từ khóa|từ khoá|tags?)\s*[:：]?$"
    r"|(?:từ khóa|từ khoá|tags?)\s*:"
    r"|(?:lưu ý|chú ý)\s*:.*(?:bạn đọc|bình luận|ý kiến)"
    r"|.*gõ tiếng việt có dấu"
    r"|gửi file đính kèm|.*đính kèm file$", re.I)
# Strong footer markers: one of these makes the trailing block a site footer.
_FOOTER_STRONG = re.compile(
    r"(?:thiết kế|phát triển|designed|developed|powered|hosted)"
    r"(?: (?:và phát triển|và vận hành|website|web|and developed|and hosted))? (?:bởi|by)\b"
    r"|.*(?:copyright|©|\(c\)\s*(?:19|20)\d\d|bản quyền thuộc|giữ bản quyền|all rights reserved)"
    r"|giấy phép (?:số|xuất bản|hoạt động|thiết lập)|giấy phép\s*:|website\s*:|.*\bfax\s*:|ghi rõ nguồn", re.I)
# Contact lines: furniture only inside a trailing block that has a strong marker.
_FOOTER_CONTACT = re.compile(
    r"[-•*·]?\s*(?:địa chỉ|đ/c|trụ sở(?: chính)?|văn phòng(?: đại diện)?|tòa soạn|điện thoại|đt|tel|phone"
    r"|hotline|đường dây nóng|e-?mail|email|chịu trách nhiệm[^:\n]{0,40}|tổng biên tập|phó tổng biên tập"
    r"|cơ quan chủ quản|trưởng ban biên tập|ban biên tập)\s*[:.]", re.I)

_TAIL_MAX_LEN = 400


def _is_upper_heading(s: str) -> bool:
    return len(s) <= 120 and any(c.isalpha() for c in s) and not any(c.islower() for c in s)


def _tail_kind(s: str) -> str | None:
    """Class of a stripped, NFC line in the trailing block: 'widget', 'strong', 'contact' or None."""
    if len(s) > _TAIL_MAX_LEN:
        return None
    if _NAV_LABEL.fullmatch(s) or _TAIL_WIDGET.match(s):
        return "widget"
    if _FOOTER_STRONG.match(s):
        return "strong"
    if _FOOTER_CONTACT.match(s):
        return "contact"
    return None


# --- publication date lines

_WEEKDAY = r"(?:thứ\s*(?:hai|ba|tư|năm|sáu|bảy|bẩy|[2-7])|chủ\s*nhật|cn|t[2-7])"
_DATE_RE = re.compile(
    r"(?<!\d)(?P<y1>\d{4})\s*[-/.]\s*(?P<m1>\d{1,2})\s*[-/.]\s*(?P<d1>\d{1,2})(?!\d)"
    r"|(?<![\d/.-])(?P<d2>\d{1,2})\s*[-/.]\s*(?P<m2>\d{1,2})\s*[-/.]\s*(?P<y2>\d{4})(?!\d)"
    r"|(?<!\d)(?P<d3>\d{1,2})\s+tháng\s+(?P<m3>\d{1,2})\s*(?:,|năm)?\s*(?P<y3>\d{4})(?!\d)", re.I)
_TIME_RE = re.compile(
    r"(?<![\d:])(?P<H>\d{1,2})\s*(?::|h|g)\s*(?P<M>\d{2})(?:\s*:\s*(?P<S>\d{2}))?"
    r"(?:\s*(?P<ap>am|pm|sa|ch)\b)?(?![\d:])", re.I)
_TZ_RE = re.compile(r"\b(?:gmt|utc)\s*(?:[+-]\s*\d{1,2}(?::?\d{2})?)?", re.I)
_DATE_FILLER = re.compile(
    r"\b(?:" + _WEEKDAY + r"|cập\s*nhật(?:\s*lần\s*cuối)?"
    r"|ngày\s*đăng|ngày\s*cập\s*nhật|đăng\s*tải|đăng|ngày|lúc|vào|hồi|xuất\s*bản|thời\s*gian|giờ|sáng|trưa"
    r"|chiều|tối|updated?|published|posted|last\s*modified|date|time|gmt|utc|ict)\b", re.I)
_DATE_RESIDUE_OK = re.compile(r"[\s,|\-–—:()\[\]/.·•+]*")


def _parse_date_line(line: str) -> str | None:
    """ISO date if ``line`` is nothing but a (valid) publication date/time, else None."""
    s = _nfc(line.strip())
    if not s or len(s) > 100 or not any(ch.isdigit() for ch in s):
        return None
    dates = list(_DATE_RE.finditer(s))
    if not dates or len(dates) > 2:
        return None
    masked = list(s)
    for m in dates:
        masked[m.start():m.end()] = " " * (m.end() - m.start())
    masked_s = _TZ_RE.sub(lambda m: " " * len(m.group(0)), "".join(masked))
    masked = list(masked_s)
    times = list(_TIME_RE.finditer(masked_s))
    if len(times) > len(dates):
        return None
    for m in times:
        masked[m.start():m.end()] = " " * (m.end() - m.start())
    residue = _DATE_FILLER.sub(" ", "".join(masked))
    if not _DATE_RESIDUE_OK.fullmatch(residue):
        return None
    first = dates[0]
    g = first.groupdict()
    y, mo, d = next((int(g[f"y{k}"]), int(g[f"m{k}"]), int(g[f"d{k}"])) for k in "123" if g[f"y{k}"])
    # the time belonging to the first date: the first time before the second date (or anywhere if one date)
    limit = dates[1].start() if len(dates) > 1 else len(s)
    tm = next((t for t in times if t.start() < limit), None)
    if not 1900 <= y <= 2100:
        return None
    try:
        datetime(y, mo, d)
    except ValueError:
        return None
    if tm is None:
        return f"{y:04d}-{mo:02d}-{d:02d}"
    hh, mi = int(tm["H"]), int(tm["M"])
    ss = int(tm["S"]) if tm["S"] is not None else None
    ap = (tm["ap"] or "").lower()
    if ap:
        if not 1 <= hh <= 12:
            return None
        hh = hh % 12 + (12 if ap in ("pm", "ch") else 0)
    if hh > 23 or mi > 59 or (ss is not None and ss > 59):
        return None
    out = f"{y:04d}-{mo:02d}-{d:02d}T{hh:02d}:{mi:02d}"
    return out + (f":{ss:02d}" if ss is not None else "")


# --- the page parser

def _txt_id(relpath: str) -> str:
    rel = relpath
    for suffix in SUFFIXES:
        if rel.lower().endswith(suffix):
            rel = rel[: -len(suffix)]
            break
    return rel.replace("/", "--")


def parse_txt(raw: str, relpath: str) -> Article:
    """Turn one scraped page into an Article (pure function; ValueError if there is no article).

    * title: the first non-blank line that has a letter and is not a date line;
    * date: a line that is only a date/time (e.g. ``Cập nhật: 14-07-2020 | 06:55:40``,
      ``Thứ Ba, 04/08/2015, 11:41 [GMT+7]``) before the title or among the first
      DATE_WINDOW non-blank lines after it; the line is dropped from the body;
    * body: the remaining lines, furniture removed (see module docstring), lines kept verbatim,
      runs of blank lines collapsed to one empty line.
    """
    text = raw[1:] if raw.startswith("\ufeff") else raw
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _strip_php_dumps(text)
    lines = text.split("\n")
    n = len(lines)
    norm = [_nfc(ln.strip()) for ln in lines]
    furn = [False] * n

    # stray print_r fragments (e.g. a dump cut off at its start)
    for i, s in enumerate(norm):
        if s == _DUMP_MARK or (s and _STRAY_PR_LINE.match(s)):
            furn[i] = True

    # title, and date lines above it
    date: str | None = None
    title_idx = None
    for i, s in enumerate(norm):
        if not s or furn[i] or not any(c.isalpha() for c in s):
            continue
        d = _parse_date_line(s)
        if d is not None:
            date = date or d
            continue
        title_idx = i
        break
    if title_idx is None:
        raise ValueError("no title: no line with a letter")
    title = lines[title_idx].strip()

    # date line after the title
    start = title_idx + 1
    if date is None:
        seen = 0
        for i in range(start, n):
            if not norm[i] or furn[i]:
                continue
            seen += 1
            if seen > DATE_WINDOW:
                break
            d = _parse_date_line(norm[i])
            if d is not None:
                date = d
                furn[i] = True
                break

    # widget labels anywhere, repeated lines (image captions), the title repeated as first body line
    prev = _nfc(title)
    for i in range(start, n):
        s = norm[i]
        if not s or furn[i]:
            continue
        if _NAV_LABEL.fullmatch(s):
            furn[i] = True
            continue
        if s == prev and any(c.isalpha() for c in s):
            furn[i] = True
            continue
        prev = s

    _mark_tail(norm, furn, start)

    body: list[str] = []
    for i in range(start, n):
        if furn[i]:
            continue
        if not norm[i]:
            if body and body[-1] != "":
                body.append("")
            continue
        body.append(lines[i])
    while body and body[-1] == "":
        body.pop()
    if not body:
        raise ValueError("no article text (only a title and page furniture)")
    return Article(id=_txt_id(relpath), title=title, text="\n".join(body), date=date,
                   url=None, source=None, relpath=relpath)


def _mark_tail(norm: list[str], furn: list[bool], start: int) -> None:
    """Mark the trailing block of furniture (footers, link lists, widgets) in ``furn``."""

    def run(allow_contact: bool) -> tuple[set[int], bool, bool]:
        marks: set[int] = set()
        strong = contact = False
        below: str | None = None           # kind of the nearest non-blank line below
        i = len(norm) - 1

        def kind(j: int) -> str | None:
            if furn[j] or j in marks:
                return "furniture"
            k = _tail_kind(norm[j])
            return None if (k == "contact" and not allow_contact) else k

        def above(j: int) -> int | None:
            j -= 1
            while j >= start and not norm[j]:
                j -= 1
            return j if j >= start else None

        while i >= start:
            s = norm[i]
            if not s:
                i -= 1
                continue
            k = kind(i)
            if k:
                if k != "furniture":
                    marks.add(i)
                strong |= k == "strong"
                contact |= k == "contact"
                below = k
                i -= 1
                continue
            if _is_upper_heading(s):
                a = above(i)
                # an all-caps line is a section header / the site's name when it sits between
                # other furniture, or heads a footer; an all-caps author name under the text stays
                if (a is not None and kind(a)) or below in ("contact", "strong"):
                    marks.add(i)
                    below = "upper"
                    i -= 1
                    continue
            # a list of related headlines under a list label ("Tin liên quan:", "Bài viết mới nhất:")
            j, count = i, 0
            label = None
            while j >= start and count <= 15:
                if norm[j]:
                    if _LIST_LABEL.fullmatch(norm[j]):
                        label = j
                        break
                    # headlines are short and do not end like a sentence
                    if len(norm[j]) > 200 or furn[j] or norm[j].endswith((".", "…", ";")):
                        break
                    count += 1
                j -= 1
            if label is not None:
                marks.update(x for x in range(label, i + 1) if norm[x])
                below = "widget"
                i = label - 1
                continue
            break
        return marks, strong, contact

    marks, strong, contact = run(True)
    if contact and not strong:
        marks, _, _ = run(False)
    for i in marks:
        furn[i] = True
