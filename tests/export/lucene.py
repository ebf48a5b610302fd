"""What OpenSearch does with an aligned string, ported to Python for tests that
have no cluster: Lucene's ``MappingCharFilter`` (with ``BaseCharFilter``'s
offset correction) and ``WhitespaceTokenizer`` (``CharTokenizer``), as in
Lucene 9, over UTF-16 code units; and OpenSearch's parsing of mapping rules
(``MappingCharFilterFactory``). Only single-character rule keys are ported:
they are the only ones the export writes (the port refuses others)."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right

_RULE = re.compile(r"(.*)\s*=>\s*(.*)\s*$")          # MappingCharFilterFactory.rulePattern
_ESCAPES = {"\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


def _parse_string(s: str) -> list[int]:
    """MappingCharFilterFactory.parseString: the rule text as UTF-16 units."""
    units: list[int] = []
    k = 0
    while k < len(s):
        c = s[k]
        k += 1
        if c == "\\":
            c = s[k]
            k += 1
            if c == "u":
                units.append(int(s[k:k + 4], 16))
                k += 4
                continue
            c = _ESCAPES.get(c, c)
        units.extend(_units(c))
    return units


def parse_rules(rules: list[str]) -> dict[int, list[int]]:
    table: dict[int, list[int]] = {}
    for rule in rules:
        m = _RULE.search(rule)
        assert m, f"invalid mapping rule {rule!r}"
        key, replacement = _parse_string(m.group(1).strip()), _parse_string(m.group(2).strip())
        assert len(key) == 1, f"the port handles one-character keys only: {rule!r}"
        table[key[0]] = replacement
    return table


def _units(s: str) -> list[int]:
    data = s.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[k:k + 2], "little") for k in range(0, len(data), 2)]


class MappingCharFilter:
    """The filtered output (UTF-16 units) and ``correct()`` back to input offsets."""

    def __init__(self, text: str, rules: dict[int, list[int]]) -> None:
        self.offsets: list[int] = []
        self.diffs: list[int] = []
        self.output: list[int] = []
        input_off = 0
        for unit in _units(text):
            replacement = rules.get(unit)
            input_off += 1
            if replacement is None:
                self.output.append(unit)
                continue
            diff = 1 - len(replacement)
            if diff:
                prev = self.diffs[-1] if self.diffs else 0
                if diff > 0:
                    self._add(input_off - diff - prev, prev + diff)
                else:
                    output_start = input_off - prev
                    for extra in range(-diff):
                        self._add(output_start + extra, prev - extra - 1)
            self.output.extend(replacement)

    def _add(self, off: int, cumulative: int) -> None:       # BaseCharFilter.addOffCorrectMap
        if not self.offsets or off != self.offsets[-1]:
            self.offsets.append(off)
            self.diffs.append(cumulative)
        else:
            self.diffs[-1] = cumulative

    def correct(self, off: int) -> int:                       # BaseCharFilter.correct
        k = bisect_right(self.offsets, off) - 1
        return off + (self.diffs[k] if k >= 0 else 0)


def java_is_whitespace(cp: int) -> bool:
    """``Character.isWhitespace``."""
    if cp in (0x00A0, 0x2007, 0x202F):
        return False
    if 0x09 <= cp <= 0x0D or 0x1C <= cp <= 0x1F:
        return True
    return unicodedata.category(chr(cp)) in ("Zs", "Zl", "Zp")


def whitespace_tokens(text: str, rules: list[str], max_token_length: int) -> list[tuple[str, int, int]]:
    """(term, start, end) of each token, offsets in UTF-16 units of ``text``."""
    cf = MappingCharFilter(text, parse_rules(rules))
    out = cf.output
    tokens = []
    k, n = 0, len(out)
    while k < n:
        start, length, term = None, 0, []
        while k < n:
            cp, size = out[k], 1
            if 0xD800 <= cp < 0xDC00 and k + 1 < n and 0xDC00 <= out[k + 1] < 0xE000:
                cp, size = 0x10000 + ((cp - 0xD800) << 10) + (out[k + 1] - 0xDC00), 2
            if java_is_whitespace(cp):
                k += size
                if length:
                    break
                continue
            if not length:
                start = k
            term.append(chr(cp))
            length += size
            k += size
            if length >= max_token_length:
                break
        if length:
            tokens.append(("".join(term), cf.correct(start), cf.correct(start + length)))
    return tokens

