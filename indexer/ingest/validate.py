"""Validating an article record (a JSON object) and writing one back."""

from __future__ import annotations

import json
import re
from datetime import datetime

from indexer.ingest.model import Article

MAX_ARTICLE_CHARS = 2_000_000         # per record ('text')

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
    return validate_record(record, relpath, check_surrogates=True)


def validate_record(record: dict, relpath: str, check_surrogates: bool) -> Article:
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

