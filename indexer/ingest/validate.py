"""Validating an article record (a JSON object) and writing one back."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import datetime

from indexer.ingest.model import Article

MAX_ARTICLE_CHARS = 2_000_000         # per record ('text')

_ISO_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?)?")
_CONTROL_IN_ID = re.compile(r"[\x00-\x1f\x7f]")
MAX_KEYWORD_CHARS = 200               # one tag
MAX_TAGS = 100
MAX_ID_CHARS = 200
MAX_FIELD_CHARS = {"title": 1_000, "url": 500, "topic": 500, "source": 500}
# Unicode categories no id may hold: controls (U+0085 too), invisible formatting (U+200B, U+FEFF),
# surrogates, and every separator (spaces included): an id is a path segment of the site's URLs.
FORBIDDEN_ID_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
OPTIONAL_FIELDS = ("date", "url", "topic", "source", "tags")


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


def _too_long(key: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValueError(f"{key!r} too long ({len(value):,} chars > {limit:,})")


def check_id(value: str) -> str:
    """An article id as stored: NFC; ValueError (naming 'id') unless it is 1 to MAX_ID_CHARS
    characters, none of FORBIDDEN_ID_CATEGORIES (so no space anywhere), without a leading
    ``/`` and with no empty, ``.`` or ``..`` segment between slashes."""
    value = unicodedata.normalize("NFC", value)
    if not value.strip():
        raise ValueError("empty 'id'")
    for ch in value:
        category = unicodedata.category(ch)
        if category in FORBIDDEN_ID_CATEGORIES:
            kind = "a control character" if category == "Cc" else f"U+{ord(ch):04X} ({category})"
            raise ValueError(f"'id' contains {kind}: ids have no spaces, separators or control characters")
    _too_long("id", value, MAX_ID_CHARS)
    if value.startswith("/"):
        raise ValueError("'id' starts with '/'")
    if any(segment in ("", ".", "..") for segment in value.split("/")):
        raise ValueError("'id' has an empty, '.' or '..' segment")
    return value


def id_from_name(name: str) -> str:
    """An id made from a file name: NFC, each forbidden character (a space…) replaced by ``_``;
    ValueError if it still is no id (:func:`check_id`)."""
    name = unicodedata.normalize("NFC", name)
    return check_id("".join("_" if unicodedata.category(c) in FORBIDDEN_ID_CATEGORIES else c for c in name))


def _keyword(value, key: str, limit: int = MAX_KEYWORD_CHARS) -> str | None:
    """A topic, source or tag: a string, NFC, trimmed; "" means absent."""
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string, not {type(value).__name__}")
    value = unicodedata.normalize("NFC", " ".join(value.split()))
    if _CONTROL_IN_ID.search(value):
        raise ValueError(f"{key!r} contains a control character")
    _too_long(key, value, limit)
    return value or None


def _tags(value) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"'tags' must be a list of strings, not {type(value).__name__}")
    if len(value) > MAX_TAGS:
        raise ValueError(f"too many 'tags' ({len(value)} > {MAX_TAGS})")
    out: dict[str, None] = {}
    for tag in value:
        tag = _keyword(tag, "tags")
        if tag is not None:
            out.setdefault(tag, None)
    return tuple(out)


def _url(value: str) -> str:
    _too_long("url", value, MAX_FIELD_CHARS["url"])
    if not re.match(r"https?://[^\s/]", value, re.I) or re.search(r"[\s\x00-\x1f\x7f]", value):
        raise ValueError(f"invalid 'url' {value[:60]!r}: expected an http:// or https:// address")
    return value


def _optional_fields(record: dict, check_surrogates: bool) -> dict[str, object]:
    """Parsers of the optional fields, each raising ValueError for a bad value."""
    def text(key: str):
        return _check_str(record, key, surrogates=check_surrogates) or None

    def date():
        value = text("date")
        return None if value is None else _normalize_iso_date(value)

    def url():
        value = text("url")
        return None if value is None else _url(value)

    def keyword(key: str):
        value = text(key)
        return None if value is None else _keyword(value, key, MAX_FIELD_CHARS[key])

    def tags():
        value = record.get("tags")
        if value is None:
            return ()
        if check_surrogates:
            for tag in value if isinstance(value, list) else ():
                if isinstance(tag, str):
                    _check_str({"tags": tag}, "tags")
        return _tags(value)

    return {"date": date, "url": url, "topic": lambda: keyword("topic"),
            "source": lambda: keyword("source"), "tags": tags}


def validate_article(record: dict, relpath: str) -> Article:
    """Check a JSON record and turn it into an :class:`Article`; ValueError says what is wrong.

    ``id``: a string or an integer (converted with str), as :func:`check_id` has it (NFC, at
    most MAX_ID_CHARS characters, no spaces or control characters, no ``.``/``..`` segment);
    ``text``: non-empty string of at most MAX_ARTICLE_CHARS characters; ``title``: string,
    may be empty or missing; ``url`` (http/https only), ``date`` (ISO 8601), ``topic``,
    ``source``: optional strings, null or "" meaning absent; ``tags``: an optional list of
    strings. ``title`` holds at most 1,000 characters, ``url``, ``topic``, ``source`` 500 each
    (MAX_FIELD_CHARS), a tag 200; a longer one is an error naming the field. Topics, sources and tags are NFC with their whitespace collapsed. No string may
    contain NUL. Other keys are ignored. Any bad value is an error.
    """
    return validate_record(record, relpath, check_surrogates=True)


def validate_record(record: dict, relpath: str, check_surrogates: bool,
                    notes: list[str] | None = None) -> Article:
    """:func:`validate_article`, except that with a ``notes`` list a bad optional
    field (``OPTIONAL_FIELDS``) does not reject the record: the article is kept
    without it and ``notes`` gets the reason."""
    if not isinstance(record, dict):
        raise ValueError(f"not a JSON object (got {type(record).__name__})")
    if "id" not in record or record["id"] is None:
        raise ValueError("missing 'id'")
    raw_id = record["id"]
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        raise ValueError(f"'id' must be a string or an integer, not {type(raw_id).__name__}")
    art_id = str(raw_id) if isinstance(raw_id, int) else _check_str(record, "id", surrogates=check_surrogates)
    art_id = check_id(art_id)

    if record.get("text") is None:
        raise ValueError("missing 'text'")
    text = _check_str(record, "text", required=True, surrogates=check_surrogates)
    if not text.strip():
        raise ValueError("empty 'text'")
    if len(text) > MAX_ARTICLE_CHARS:
        raise ValueError(f"'text' too large ({len(text):,} chars > {MAX_ARTICLE_CHARS:,})")
    title = _check_str(record, "title", surrogates=check_surrogates) or ""
    _too_long("title", title, MAX_FIELD_CHARS["title"])

    values: dict[str, object] = {}
    for key, parse in _optional_fields(record, check_surrogates).items():
        try:
            values[key] = parse()
        except ValueError as e:
            if notes is None:
                raise
            notes.append(f"{e} (the article is kept without its {key!r})")
            values[key] = () if key == "tags" else None
    return Article(id=art_id, title=title, text=text, relpath=relpath, **values)


def article_to_jsonl(article: Article) -> str:
    """One JSON line (no trailing newline) that :func:`read_articles` reads back as ``article``."""
    record = {"id": article.id, "title": article.title, "text": article.text,
              "date": article.date, "url": article.url, "source": article.source, "topic": article.topic}
    if article.tags:
        record["tags"] = list(article.tags)
    return json.dumps(record, ensure_ascii=False)

