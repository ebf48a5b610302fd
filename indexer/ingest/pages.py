"""One scraped news page (``.txt``) to an article: title, date line, body
without page furniture, lines kept exactly as they are."""

from __future__ import annotations

import unicodedata

from indexer.ingest.dates import parse_date_line
from indexer.ingest.furniture import DUMP_MARK, NAV_LABEL, STRAY_PR_LINE, mark_tail, strip_php_dumps
from indexer.ingest.model import SUFFIXES, Article
from indexer.ingest.validate import id_from_name

DATE_WINDOW = 10                      # a date line must be among the first N non-blank lines after the title


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _txt_id(relpath: str) -> str:
    """The id of a page: its path without the suffix, ``/`` as ``--`` (ValueError if that is no id)."""
    rel = relpath
    for suffix in SUFFIXES:
        if rel.lower().endswith(suffix):
            rel = rel[: -len(suffix)]
            break
    return id_from_name(rel.replace("/", "--"))


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
    text = strip_php_dumps(text)
    lines = text.split("\n")
    n = len(lines)
    norm = [_nfc(ln.strip()) for ln in lines]
    furn = [False] * n

    # stray print_r fragments (e.g. a dump cut off at its start)
    for i, s in enumerate(norm):
        if s == DUMP_MARK or (s and STRAY_PR_LINE.match(s)):
            furn[i] = True

    # title, and date lines above it
    date: str | None = None
    title_idx = None
    for i, s in enumerate(norm):
        if not s or furn[i] or not any(c.isalpha() for c in s):
            continue
        d = parse_date_line(s)
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
            d = parse_date_line(norm[i])
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
        if NAV_LABEL.fullmatch(s):
            furn[i] = True
            continue
        if s == prev and any(c.isalpha() for c in s):
            furn[i] = True
            continue
        prev = s

    mark_tail(norm, furn, start)

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

