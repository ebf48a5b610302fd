"""Page furniture in scraped ``.txt`` pages: PHP ``print_r`` dumps of related
links, widget labels, site footers, related-headline lists. Lines are
classified on their NFC, stripped form."""

from __future__ import annotations

import re

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


DUMP_MARK = "\x00"   # a removed dump leaves a line of its own with this (NUL never occurs in a read page)


def strip_php_dumps(text: str) -> str:
    """Replace every print_r dump with a line of its own holding only DUMP_MARK."""
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
        parts += [before, "" if at_line_start else "\n", DUMP_MARK]
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

STRAY_PR_LINE = re.compile(r"\[[A-Za-z0-9_ -]{1,60}\]\s*=>")

# Widget labels that are furniture wherever they stand on a line of their own.
NAV_LABEL = re.compile(
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
    if NAV_LABEL.fullmatch(s) or _TAIL_WIDGET.match(s):
        return "widget"
    if _FOOTER_STRONG.match(s):
        return "strong"
    if _FOOTER_CONTACT.match(s):
        return "contact"
    return None



def mark_tail(norm: list[str], furn: list[bool], start: int) -> None:
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
