"""Snippets from stored character offsets ("pinpoint" highlighting).

The folded fields store, for every posting, ``(position, startchar, endchar)``
into the ORIGINAL stored text, so a hit's matches are found without
re-tokenizing it, and the marks fall on the text exactly as written (accents,
NFD and all) even for a plain query.

Output contract: HTML where every character of the source text is escaped and
each matched syllable is wrapped in ``<mark>…</mark>``; nothing else is markup.
"""

from __future__ import annotations

import bisect
import functools
from html import escape
from typing import Iterable, Sequence

from indexer.analysis import exact_form, normalize
from indexer.index.postings import PostingsReader
from indexer.search.query import HighlightGroup, Term

FRAGMENT_CHARS = 220
CONTEXT_BEFORE = 60
ELLIPSIS = "…"

Occurrence = tuple[int, int, int]   # (position, startchar, endchar)


class Occurrences:
    """Where terms occur in a set of documents: ``(position, startchar,
    endchar)`` per occurrence, each term's read once for all the documents
    (one block read per block that holds one of them)."""

    def __init__(self, postings: PostingsReader, docnums: Iterable[int]) -> None:
        self.postings = postings
        self.docnums = sorted(set(docnums))
        self._by_term: dict[tuple[str, str], dict[int, list[Occurrence]]] = {}

    def get(self, field: str, term: str, docnum: int) -> list[Occurrence]:
        key = (field, term)
        if key not in self._by_term:
            self._by_term[key] = {d: list(v) for d, v in
                                  self.postings.values(field, term, self.docnums, "characters").items()}
        return self._by_term[key].get(docnum, [])


@functools.lru_cache(maxsize=8192)
def _exact_of(written: str) -> str:
    """The exact form of a syllable as written (a common word recurs in every hit)."""
    return exact_form(normalize(written).text)


def _is_exact(text: str, occ: Occurrence, term: Term) -> bool:
    return _exact_of(text[occ[1]:occ[2]]) == term.exact


def exact_held(occurrences: Occurrences, docnum: int, fields: Sequence[tuple[str, str]],
               groups: Iterable[HighlightGroup]) -> frozenset[str]:
    """The accented query syllables (exact forms) that the document holds
    exactly in any of ``fields`` ((folded field, stored text) pairs): in it,
    only those exact occurrences are marked, in every field."""
    held = set()
    for group in groups:
        if not group.exact_preferred:
            continue
        for term in group.terms:
            if term.accented and term.exact not in held and any(
                    _is_exact(text, o, term) for field, text in fields
                    for o in occurrences.get(field, term.folded, docnum)):
                held.add(term.exact)
    return frozenset(held)


def match_spans(occurrences: Occurrences, field: str, docnum: int, text: str,
                groups: Iterable[HighlightGroup], exact: frozenset[str] | None = None) -> list[tuple[int, int]]:
    """Character spans in ``text`` (the stored original) to mark.

    A syllable of a group that prefers exact matches is marked only where it
    occurs exactly when the document holds it exactly (``exact``, from
    :func:`exact_held`; without it, this field is the document), else
    wherever it occurs folded: ``giá`` marks *giá*, not *giả* or *Gia*."""
    groups = list(groups)
    if exact is None:
        exact = exact_held(occurrences, docnum, [(field, text)], groups)
    spans: set[tuple[int, int]] = set()
    for group in groups:
        per_term = []
        for term in group.terms:
            occs = occurrences.get(field, term.folded, docnum)
            if group.exact_preferred and term.exact in exact:
                occs = [o for o in occs if _is_exact(text, o, term)]
            per_term.append(occs)
        if group.phrase and len(per_term) > 1:
            spans.update(_phrase_spans(per_term))
        else:
            spans.update((s, e) for occs in per_term for _, s, e in occs)
    return sorted(spans)


def _phrase_spans(per_term: Sequence[list[Occurrence]]) -> list[tuple[int, int]]:
    by_pos = [{pos: (s, e) for pos, s, e in occs} for occs in per_term]
    out = []
    for start in by_pos[0]:
        if all(start + k in by_pos[k] for k in range(1, len(by_pos))):
            out.extend(by_pos[k][start + k] for k in range(len(by_pos)))
    return out


def mark(text: str, spans: Sequence[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    """Escape ``text[start:end]`` and wrap the spans inside it in ``<mark>``."""
    end = len(text) if end is None else end
    out, cursor = [], start
    for s, e in spans:
        if s < cursor or e > end:
            continue
        out.append(escape(text[cursor:s]))
        out.append("<mark>" + escape(text[s:e]) + "</mark>")
        cursor = e
    out.append(escape(text[cursor:end]))
    return "".join(out)


def _snap_left(text: str, i: int, limit: int) -> int:
    """A fragment start at or after ``i`` (and at most ``limit``): just after a
    line or sentence break if there is one in between, else after a space."""
    i = max(0, i)
    if i == 0:
        return 0
    for sep in ("\n", ". "):
        cut = text.rfind(sep, i, limit)
        if cut != -1:
            return cut + len(sep)
    space = text.find(" ", i, limit)
    return space + 1 if space != -1 else i


def _snap_right(text: str, i: int, floor: int) -> int:
    """A fragment end at or before ``i`` (and at least ``floor``): at a line
    break if there is one in between, else at a space."""
    if i >= len(text):
        return len(text)
    cut = text.find("\n", floor, i)
    if cut != -1:
        return cut
    space = text.rfind(" ", floor, i)
    return space if space != -1 else i


def _word_end(text: str, start: int, words: int) -> int:
    """Where the ``words``-th space-separated word from ``start`` ends."""
    at = start
    for _ in range(words):
        at = text.find(" ", at + 1)
        if at == -1:
            return len(text)
    return at


def _windows(text: str, spans: Sequence[tuple[int, int]], words: int | None) -> list[tuple[int, int, int]]:
    """Candidate fragments (score, start, end): one starting near each span,
    scored by the distinct matched words it shows, then by its matches."""
    out = []
    ends = [b for _, b in spans]
    ordered = all(a <= b for a, b in zip(ends, ends[1:]))
    for i, (s, e) in enumerate(spans):
        if words is None:
            start = _snap_left(text, s - CONTEXT_BEFORE, s)
            end = _snap_right(text, start + FRAGMENT_CHARS, e)
        else:
            start = _snap_left(text, text.rfind(" ", 0, max(0, s - 1)) if words > 2 else s, s)
            end = max(_word_end(text, start, words), e)
        if ordered:     # the spans ending by ``end`` are the next ones: no scan of all the rest
            inside = spans[i:bisect.bisect_right(ends, end, lo=i)]
        else:
            inside = [(a, b) for a, b in spans[i:] if b <= end]
        distinct = {text[a:b].lower() for a, b in inside}
        out.append((len(distinct) * 100 + len(inside), start, end))
    return out


def _squeeze(fragment: str) -> str:
    """Line breaks and runs of spaces become one space (a snippet is one line)."""
    return " ".join(fragment.split())


def snippet(text: str, spans: Sequence[tuple[int, int]], fragments: int = 2, words: int | None = None) -> str:
    """Up to ``fragments`` best non-overlapping fragments, in text order, joined
    by ``…``; with ``words`` (Meilisearch's ``cropLength``), one fragment of
    about that many words (a word before the first match, the rest after)."""
    if not text:
        return ""
    if words is not None:
        fragments = 1
    if not spans:
        end = _snap_right(text, FRAGMENT_CHARS, 1) if words is None else _word_end(text, 0, words)
        return _squeeze(mark(text, [], 0, end)) + (ELLIPSIS if end < len(text) else "")
    chosen: list[tuple[int, int]] = []
    for _, start, end in sorted(_windows(text, spans, words), key=lambda w: (-w[0], w[1])):
        if all(end <= a or start >= b for a, b in chosen):
            chosen.append((start, end))
            if len(chosen) == fragments:
                break
    chosen.sort()
    inner = f" {ELLIPSIS} ".join(_squeeze(mark(text, spans, start, end)) for start, end in chosen)
    return ((ELLIPSIS if chosen[0][0] > 0 else "") + inner
            + (ELLIPSIS if chosen[-1][1] < len(text) else ""))
