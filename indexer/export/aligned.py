"""Pre-analysed tokens as text that a ``whitespace`` tokenizer reads back with
the offsets of the original text.

OpenSearch cannot run pyvi, so the export hands it vnsearch's tokens as text:
one string per field, split by a ``whitespace`` tokenizer. For the fast-vector
highlighter to mark the ORIGINAL text (``title``/``body``, through
``matched_fields``), every token's offsets must be those of its source in the
original. Lucene reports offsets into the string it was given, corrected
through its char filters, in UTF-16 code units. So the aligned string has the
original's UTF-16 length, and every token sits where its source sits:

* between tokens, one space per code unit of the original;
* a token as long as its source is written as it is;
* a token shorter than its source (NFD input: ``Đảng`` in 7 code points is the
  4-letter token ``đảng``) is followed by :data:`PAD` characters, which the
  ``mapping`` char filter deletes; Lucene then maps the token's end past them,
  to the end of its source;
* a token that does not fit (longer than its source, or touching the previous
  token, as ``m`` in ``2,5m``, where no space can go between them) is written
  as one private-use *marker* character plus padding, and the char filter
  expands the marker into the token (with a leading space when it touches the
  previous one). Lucene maps every character of an expansion back to the
  marker's own offset, so the token still starts where its source starts.

The char filter's rules (:meth:`Expansions.rules`) are the pad rule plus one
rule per marker used. Markers are shared across documents: an export of a few
hundred thousand articles needs a few hundred.

Tokens never contain whitespace or private-use characters (syllables are
``[^\\W_]+`` runs, words syllables joined by ``_``), so the only whitespace in an
aligned string is the gaps' spaces and the only private-use characters are the
ones written here.
"""

from __future__ import annotations

from itertools import accumulate
from typing import NamedTuple, Sequence

__all__ = ["PAD", "MAX_TOKEN_UNITS", "AlignmentError", "Expansions", "Token", "align", "char_filter_rules",
           "utf16_offsets"]

#: Deleted by the char filter: pads a token shorter than its source.
PAD = "\ue000"
_FIRST_MARKER, _LAST_MARKER = 0xE001, 0xF8FF      # the rest of the BMP private-use area
#: Lucene refuses terms over 32,766 UTF-8 bytes; the tokenizer is configured to
#: this many UTF-16 units (4 bytes each at most) and longer tokens are left out.
MAX_TOKEN_UNITS = 8191


class AlignmentError(ValueError):
    """Tokens that cannot be aligned: overlapping, out of order, or out of the text."""


class Token(NamedTuple):
    text: str
    start: int   # code-point offsets into the original text
    end: int


def utf16_offsets(text: str) -> list[int] | None:
    """UTF-16 offset of every code-point offset of ``text`` (``len(text) + 1``
    entries), or None when they are equal (no character outside the BMP)."""
    if len(text.encode("utf-16-le")) == 2 * len(text):
        return None
    return [0, *accumulate(2 if ord(c) > 0xFFFF else 1 for c in text)]


def _units(s: str) -> int:
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)


def _escape(s: str) -> str:
    """``s`` as the mapping char filter's rule syntax reads it: every UTF-16 unit
    as ``\\uXXXX`` (the rule parser trims spaces and knows no other escape for them)."""
    data = s.encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(data[k:k + 2], 'big'):04X}" for k in range(0, len(data), 2))


class Expansions:
    """The markers of one export: token text (with its leading space, if any)
    → the private-use character standing for it in aligned strings."""

    def __init__(self) -> None:
        self._marker: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._marker)

    def marker(self, replacement: str) -> str:
        found = self._marker.get(replacement)
        if found is None:
            code = _FIRST_MARKER + len(self._marker)
            if code > _LAST_MARKER:
                raise AlignmentError(f"more than {_LAST_MARKER - _FIRST_MARKER + 1} tokens need a marker")
            found = self._marker[replacement] = chr(code)
        return found

    def rules(self) -> list[str]:
        """The ``mapping`` char filter's rules: the pad deleted, each marker expanded."""
        return char_filter_rules(self._marker)


def char_filter_rules(markers: dict[str, str]) -> list[str]:
    return [f"{_escape(PAD)} => "] + [f"{_escape(m)} => {_escape(r)}" for r, m in markers.items()]


def align(original: str, tokens: Sequence[Token], expansions: Expansions) -> tuple[str, int]:
    """The aligned string of ``tokens`` (see the module docstring) and how many
    tokens were left out for being longer than :data:`MAX_TOKEN_UNITS`.

    Contract: after the ``mapping`` char filter of ``expansions.rules()`` and a
    ``whitespace`` tokenizer, the string yields exactly the texts of the kept
    ``tokens``, in order, each with the UTF-16 offsets of ``original[start:end]``.
    Requires non-empty, non-overlapping spans in order, and token texts without
    whitespace or private-use characters.
    """
    units = utf16_offsets(original)
    out: list[str] = []
    pos = 0          # UTF-16 units written so far
    previous_end = -1
    dropped = 0
    for token in tokens:
        if not 0 <= token.start < token.end <= len(original) or token.start < previous_end:
            raise AlignmentError(f"token {token!r} overlaps the previous one or lies outside the text")
        start, end = (token.start, token.end) if units is None else (units[token.start], units[token.end])
        size = _units(token.text)
        if size > MAX_TOKEN_UNITS:
            dropped += 1
            previous_end = token.end
            continue
        touching = pos > 0 and start == pos     # no room for a space after the previous token
        out.append(" " * (start - pos))
        room = end - start
        if size <= room and not touching:
            out.append(token.text + PAD * (room - size))
        else:
            out.append(expansions.marker((" " if touching else "") + token.text) + PAD * (room - 1))
        pos = end
        previous_end = token.end
    total = len(original) if units is None else units[-1]
    out.append(" " * (total - pos))
    return "".join(out), dropped
