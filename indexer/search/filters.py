"""Meilisearch filter expressions, compiled to a boolean mask over documents.

The syntax is Meilisearch's (their "filter expression reference"): conditions
``attribute OPERATOR value`` joined with ``AND``, ``OR``, ``NOT`` and
parentheses (``NOT`` binds tighter than ``AND``, ``AND`` than ``OR``)::

    topic = "Thể thao" AND date >= 2020-01-01
    date 2020-01-01 TO 2020-06-30
    source IN [VnExpress, "Tuổi Trẻ"] OR NOT tags EXISTS
    topic NOT IN ["Ý kiến"]        topic != "Thời sự"        tags NOT EXISTS

Operators: ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``, ``value TO value``
(both ends included), ``IN [...]``, ``NOT IN [...]``, ``EXISTS``, ``NOT EXISTS``;
keywords in any case. A value is one word or a quoted string (``'…'`` or
``"…"``, ``\\`` escaping the quote). The array form is accepted too: each
element a string or a list of strings, the inner lists OR-ed, the outer AND-ed
(``[["topic = Xe", "topic = Du lịch"], "date > 2024-01-01"]``).

Attributes (:data:`FILTERABLE`): ``date`` compares as a date: a value is an
ISO date (``2020-01-01``, meaning the whole day: ``date <= 2020-06-30``
includes that day), a date-time (``2020-01-01T08:30``, to its precision) or
seconds since 1970 (an integer); documents without a date never match a
comparison. ``topic``, ``source`` and ``tags`` (any of a document's tags) take
``=``, ``!=``, ``IN``, ``EXISTS``, compared as Meilisearch compares strings:
case-insensitively (and Unicode-normalised: NFC). ``!=`` and ``NOT`` select
the complement, documents without the attribute included.

Errors are :class:`FilterError`: the message ends as Meilisearch's do, with
``start:end`` (1-based characters of the offending part) and the expression.
Compiling reads only the columns (:mod:`indexer.index.columns`): no
per-document Python.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from indexer.index import schema
from indexer.index.columns import MISSING_DATE, ColumnsReader

FILTERABLE = (schema.DATE, schema.TOPIC, schema.SOURCE, schema.TAGS)
MAX_FILTER_CHARS = 4000
_COMPARISONS = ("=", "!=", ">=", ">", "<=", "<")
_KEYWORDS = {"AND", "OR", "NOT", "TO", "IN", "EXISTS"}
_EPOCH = datetime(1970, 1, 1)


class FilterError(ValueError):
    """A malformed filter, or one naming an attribute that cannot be filtered."""

    def __init__(self, message: str, start: int, end: int, source: str) -> None:
        self.message = f"{message}\n{start + 1}:{end + 1} {source}"
        super().__init__(self.message)


# -- tokens ------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    kind: str        # "word", "string", "op", "(", ")", "[", "]", ",", "end"
    text: str
    start: int
    end: int

    def keyword(self, name: str) -> bool:
        return self.kind == "word" and self.text.upper() == name


_WORD = re.compile(r"[^\s()\[\],=!<>'\"]+")


def tokenize(source: str) -> list[Token]:
    out: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c.isspace():
            i += 1
        elif c in "()[],":
            out.append(Token(c, c, i, i + 1))
            i += 1
        elif c in "=!<>":
            op = source[i:i + 2] if source[i:i + 2] in ("!=", ">=", "<=") else c
            if op == "!":
                raise FilterError("Found unexpected `!`: write `!=` for inequality.", i, i + 1, source)
            out.append(Token("op", op, i, i + len(op)))
            i += len(op)
        elif c in "'\"":
            j, chars = i + 1, []
            while j < n and source[j] != c:
                if source[j] == "\\" and j + 1 < n:
                    j += 1
                chars.append(source[j])
                j += 1
            if j >= n:
                raise FilterError(f"Expression `{source[i:]}` is missing the closing {c}.", i, n, source)
            out.append(Token("string", "".join(chars), i, j + 1))
            i = j + 1
        else:
            m = _WORD.match(source, i)
            out.append(Token("word", m.group(), i, m.end()))
            i = m.end()
    out.append(Token("end", "", n, n))
    return out


# -- syntax tree ---------------------------------------------------------------------
@dataclass(frozen=True)
class Condition:
    attribute: Token
    operator: str                 # one of _COMPARISONS, "TO", "IN", "EXISTS"
    values: tuple[Token, ...]


@dataclass(frozen=True)
class Not:
    operand: object


@dataclass(frozen=True)
class All:
    operands: tuple


@dataclass(frozen=True)
class Any:
    operands: tuple


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.i = 0

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.i += 1
        return token

    def fail(self, message: str, token: Token) -> FilterError:
        end = token.end if token.end > token.start else len(self.source)
        start = token.start if token.kind != "end" else max(0, len(self.source) - 1)
        return FilterError(message, start, max(end, start + 1), self.source)

    def parse(self):
        if self.peek().kind == "end":
            raise FilterError("The filter is empty.", 0, 0, self.source)
        tree = self.disjunction()
        token = self.peek()
        if token.kind != "end":
            raise self.fail(f"Found unexpected characters at the end of the filter: `{self.source[token.start:]}`. "
                            "Did you forget an `AND` or an `OR`?", Token("x", "", token.start, len(self.source)))
        return tree

    def disjunction(self):
        parts = [self.conjunction()]
        while self.peek().keyword("OR"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Any(tuple(parts))

    def conjunction(self):
        parts = [self.negation()]
        while self.peek().keyword("AND"):
            self.take()
            parts.append(self.negation())
        return parts[0] if len(parts) == 1 else All(tuple(parts))

    def negation(self):
        if self.peek().keyword("NOT"):
            self.take()
            return Not(self.negation())
        return self.primary()

    def primary(self):
        token = self.peek()
        if token.kind == "(":
            self.take()
            tree = self.disjunction()
            closing = self.peek()
            if closing.kind != ")":
                raise self.fail("Expression is missing the closing `)` of the `(` at "
                                f"{token.start + 1}.", closing)
            self.take()
            return tree
        return self.condition()

    def value(self) -> Token:
        token = self.take()
        if token.kind == "string" or (token.kind == "word" and token.text.upper() not in _KEYWORDS):
            return token
        what = "the end of the filter" if token.kind == "end" else f"`{token.text}`"
        raise self.fail(f"Was expecting a value but instead got {what}.", token)

    def condition(self):
        attribute = self.take()
        if attribute.kind not in ("word", "string") or attribute.text.upper() in _KEYWORDS - {"TO", "IN", "EXISTS"}:
            what = "nothing" if attribute.kind == "end" else f"`{attribute.text}`"
            raise self.fail(f"Was expecting an attribute but instead got {what}.", attribute)
        token = self.peek()
        if token.kind == "op":
            self.take()
            return Condition(attribute, token.text, (self.value(),))
        if token.keyword("EXISTS"):
            self.take()
            return Condition(attribute, "EXISTS", ())
        if token.keyword("IN"):
            self.take()
            return Condition(attribute, "IN", self.listing())
        if token.keyword("NOT") and self.peek(1).keyword("EXISTS"):
            self.i += 2
            return Not(Condition(attribute, "EXISTS", ()))
        if token.keyword("NOT") and self.peek(1).keyword("IN"):
            self.i += 2
            return Not(Condition(attribute, "IN", self.listing()))
        if token.kind in ("word", "string") and self.peek(1).keyword("TO"):
            low = self.value()
            self.take()
            return Condition(attribute, "TO", (low, self.value()))
        raise self.fail("Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, "
                        f"`EXISTS` or `NOT EXISTS` after `{attribute.text}`.",
                        Token("x", "", attribute.start, max(token.end, attribute.end)))

    def listing(self) -> tuple[Token, ...]:
        opening = self.take()
        if opening.kind != "[":
            raise self.fail("Expected `[` after `IN` keyword.", opening)
        values: list[Token] = []
        while self.peek().kind != "]":
            values.append(self.value())
            if self.peek().kind == ",":
                self.take()
            elif self.peek().kind != "]":
                raise self.fail("Expected a `,` or the closing `]` of the `IN` list.", self.peek())
        self.take()
        return tuple(values)


def parse(source: str):
    """The syntax tree of one string expression; raises FilterError."""
    if len(source) > MAX_FILTER_CHARS:
        raise FilterError(f"The filter is too long ({len(source):,} characters > {MAX_FILTER_CHARS:,}).",
                          0, len(source), source[:40] + "…")
    return _Parser(source).parse()


# -- compiling -------------------------------------------------------------------------
def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split())).casefold()


_DATE_VALUE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2}))?)?)?"
                         r"(?:Z|[+-]\d{2}:?\d{2})?")


def date_interval(text: str) -> tuple[int, int] | None:
    """The seconds ``[low, high]`` (both included) a date value stands for, at its
    precision: a day, an hour, a minute or a second; an integer is one second."""
    if re.fullmatch(r"-?\d{1,12}", text):
        return int(text), int(text)
    m = _DATE_VALUE.fullmatch(text)
    if not m:
        return None
    y, mo, d, hh, mi, ss = m.groups()
    try:
        low = datetime(int(y), int(mo), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
    except ValueError:
        return None
    step = timedelta(days=1) if hh is None else timedelta(hours=1) if mi is None else \
        timedelta(minutes=1) if ss is None else timedelta(seconds=1)
    start = int((low - _EPOCH).total_seconds())
    return start, start + int(step.total_seconds()) - 1


class Compiler:
    """Compiles filters over one index's columns; keeps the folded dictionaries."""

    def __init__(self, columns: ColumnsReader) -> None:
        self.columns = columns
        self.n = columns.n
        self._folded: dict[str, dict[str, list[int]]] = {}

    def mask(self, filter_value) -> np.ndarray | None:
        """The documents a filter selects (None for no filter: all of them).

        ``filter_value``: None, a string expression, or an array of strings and
        arrays of strings. Raises FilterError (TypeError-like input included)."""
        if filter_value is None:
            return None
        if isinstance(filter_value, str):
            return self._expression(filter_value)
        if not isinstance(filter_value, list):
            raise FilterError("The filter must be a string or an array of strings and arrays of strings.",
                              0, 0, repr(filter_value)[:60])
        out = np.ones(self.n, dtype=bool)
        for element in filter_value:
            if isinstance(element, str):
                out &= self._expression(element)
            elif isinstance(element, list) and all(isinstance(e, str) for e in element):
                inner = np.zeros(self.n, dtype=bool)
                for e in element:
                    inner |= self._expression(e)
                out &= inner
            else:
                raise FilterError("Each element of a filter array must be a string or an array of strings.",
                                  0, 0, repr(element)[:60])
        return out

    def _expression(self, source: str) -> np.ndarray:
        if not source.strip():
            return np.ones(self.n, dtype=bool)    # as Meilisearch: an empty string filters nothing out
        return self._eval(parse(source), source)

    def _eval(self, tree, source: str) -> np.ndarray:
        if isinstance(tree, Not):
            return ~self._eval(tree.operand, source)
        if isinstance(tree, All):
            out = self._eval(tree.operands[0], source)
            for part in tree.operands[1:]:
                out &= self._eval(part, source)
            return out
        if isinstance(tree, Any):
            out = self._eval(tree.operands[0], source)
            for part in tree.operands[1:]:
                out |= self._eval(part, source)
            return out
        return self._condition(tree, source)

    def _condition(self, cond: Condition, source: str) -> np.ndarray:
        name = cond.attribute.text
        if name not in FILTERABLE:
            raise FilterError(f"Attribute `{name}` is not filterable. Available filterable attributes are: "
                              + ", ".join(f"`{a}`" for a in FILTERABLE) + ".",
                              cond.attribute.start, cond.attribute.end, source)
        if name == schema.DATE:
            return self._date(cond, source)
        column = self.columns.keyword(name)
        if cond.operator == "EXISTS":
            return column.present(self.n)
        if cond.operator in ("=", "!=", "IN"):
            hit = column.holding(self._codes(name, cond.values), self.n)
            return ~hit if cond.operator == "!=" else hit
        raise FilterError(f"`{cond.operator}` compares dates, and `{name}` holds words: use `=`, `!=`, `IN` "
                          "or `EXISTS`.", cond.attribute.start, cond.values[-1].end if cond.values else
                          cond.attribute.end, source)

    def _codes(self, field: str, values: tuple[Token, ...]) -> np.ndarray:
        if field not in self._folded:
            folded: dict[str, list[int]] = {}
            for code, value in enumerate(self.columns.keyword(field).values):
                folded.setdefault(_fold(value), []).append(code)
            self._folded[field] = folded
        table = self._folded[field]
        return np.array([c for v in values for c in table.get(_fold(v.text), [])], dtype=np.int64)

    def _interval(self, token: Token, source: str) -> tuple[int, int]:
        found = date_interval(token.text)
        if found is None:
            raise FilterError(f"`{token.text}` is not a date: write an ISO date such as 2020-01-01, a date-time "
                              "such as 2020-01-01T08:30, or seconds since 1970.", token.start, token.end, source)
        return found

    def _date(self, cond: Condition, source: str) -> np.ndarray:
        dates = self.columns.dates
        present = dates != MISSING_DATE
        op = cond.operator
        if op == "EXISTS":
            return present
        if op == "TO":
            low, _ = self._interval(cond.values[0], source)
            _, high = self._interval(cond.values[1], source)
            return present & (dates >= low) & (dates <= high)
        if op == "IN":
            out = np.zeros(self.n, dtype=bool)
            for token in cond.values:
                low, high = self._interval(token, source)
                out |= (dates >= low) & (dates <= high)
            return out & present
        low, high = self._interval(cond.values[0], source)
        if op in ("=", "!="):
            inside = present & (dates >= low) & (dates <= high)
            return ~inside if op == "!=" else inside
        selected = {">": lambda: dates > high, ">=": lambda: dates >= low,
                    "<": lambda: dates < low, "<=": lambda: dates <= high}[op]()
        return present & selected
