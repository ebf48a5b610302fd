"""Publication-date lines of scraped pages (``Cập nhật: 14-07-2020 | 06:55:40``,
``Thứ Ba, 04/08/2015, 11:41 [GMT+7]``) to ISO 8601."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

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


def parse_date_line(line: str) -> str | None:
    """ISO date if ``line`` is nothing but a (valid) publication date/time, else None."""
    s = unicodedata.normalize("NFC", line.strip())
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

