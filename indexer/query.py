"""Query syntax: free words, ``"quoted phrases"`` and ``-exclusions``.

The parser never fails on syntax: a lone ``"`` is ignored and the rest read as
words, ``(``, ``*``, ``:`` and other punctuation are just characters that the
analyzer drops. Only an empty (or whitespace) query is an error.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.analysis import Analysis, analyze, exact_form, folded_form

MAX_QUERY_CHARS = 1000


class QueryError(ValueError):
    """A query that cannot be searched: empty, or too long."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Clause:
    text: str
    phrase: bool = False
    negated: bool = False


@dataclass(frozen=True)
class Term:
    """One query syllable (or word) in its exact and folded forms."""
    exact: str
    folded: str

    @property
    def accented(self) -> bool:
        return self.exact != self.folded


@dataclass(frozen=True)
class AnalyzedClause:
    clause: Clause
    syllables: tuple[Term, ...]
    words: tuple[Term, ...]      # pyvi words of 2+ syllables (joined by "_")


def split_clauses(q: str) -> list[Clause]:
    """Split raw query text into word runs, phrases and negations."""
    clauses: list[Clause] = []
    words: list[str] = []
    i, n = 0, len(q)

    def flush() -> None:
        if words:
            clauses.append(Clause(" ".join(words)))
            words.clear()

    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
            continue
        # "-5 độ" is a negative number, not an exclusion of "5"
        negated = ch == "-" and i + 1 < n and not q[i + 1].isspace() and q[i + 1] not in "-0123456789"
        start = i + 1 if negated else i
        if start < n and q[start] == '"':
            close = q.find('"', start + 1)
            if close != -1:
                flush()
                clauses.append(Clause(q[start + 1:close], phrase=True, negated=negated))
                i = close + 1
                continue
            start += 1   # a lone quote: read on as words
            if negated:
                negated = False
        end = start
        while end < n and not q[end].isspace():
            end += 1
        token = q[start:end]
        if negated:
            flush()
            clauses.append(Clause(token, negated=True))
        elif token:
            words.append(token)
        i = end
    flush()
    return clauses


def _terms(analysis: Analysis) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    syllables = tuple(Term(exact_form(s.text), folded_form(s.text)) for s in analysis.syllables)
    words = tuple(Term(exact_form(w.text), folded_form(w.text)) for w in analysis.words)
    return syllables, words


def parse(q: str) -> list[AnalyzedClause]:
    """Parse and analyze a query; raises QueryError for empty or over-long input.

    Clauses whose text holds no searchable syllable are dropped, so a query of
    only punctuation parses to ``[]`` (and finds nothing) rather than failing.
    """
    if q is None or not q.strip():
        raise QueryError("empty_query", "The query is empty: type one or more words.")
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError("query_too_long", f"The query is longer than {MAX_QUERY_CHARS} characters.")
    parsed = []
    for clause in split_clauses(q):
        syllables, words = _terms(analyze(clause.text))
        if syllables:
            parsed.append(AnalyzedClause(clause, syllables, words))
    return parsed
