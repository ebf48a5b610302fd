"""Query text to the query model: free words, ``"quoted phrases"``, ``-exclusions``.

Syntax: :func:`split_clauses` never fails: a lone ``"`` is ignored and the
rest read as words, ``(``, ``*``, ``:`` and other punctuation are just
characters that the analyzer drops; ``-`` before a digit is a minus sign.
Only an empty (or whitespace) or over-long query is an error.

:func:`parse` analyses each clause with the index's own analyzer
(:mod:`indexer.analysis`), and :func:`compile_query` turns the clauses into a
:class:`Query`, the one shape the executor runs:

* every syllable of the free words is a *keyword*, matched folded; when the
  query carries accents its exact forms score on top (``exact_weight``), so
  ``bác`` ranks ``Bác`` above ``bạc``; a plain query's accents may be restored
  from the index and score with the smaller ``restored_weight``;
* pyvi words of the query (``đảng_viên``) add score where the index holds the
  same word, never a requirement (pyvi may split a passage differently);
* a short query is tiered: documents matching every keyword come first; a
  quoted phrase is required (its syllables consecutive); a long query (a
  pasted headline, a question) is free text: ranked by score alone, its
  quotes punctuation;
* ``-word`` and ``-"phrase"`` exclude, matched as typed: ``-bạc`` keeps ``bác``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from indexer.analysis import WORD_JOINER, analyze, exact_form, folded_form
from indexer.search.settings import RankingSettings

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


def _terms(text: str) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    """A clause's syllables, and its pyvi words read both as typed and in
    lowercase: pyvi's segmentation follows case, which a query's is no guide to
    (``đảng UỶ`` holds no word, ``đảng uỷ`` does)."""
    analysis = analyze(text)
    syllables = tuple(Term(exact_form(s.text), folded_form(s.text)) for s in analysis.syllables)
    words: dict[str, Term] = {}
    for reading in (analysis, analyze(text.lower())):
        for w in reading.words:
            words.setdefault(exact_form(w.text), Term(exact_form(w.text), folded_form(w.text)))
    return syllables, tuple(words.values())


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
        syllables, words = _terms(clause.text)
        if syllables:
            parsed.append(AnalyzedClause(clause, syllables, words))
    return parsed


# --------------------------------------------------------------------------- the query model

@dataclass(frozen=True)
class Phrase:
    """Syllables that must occur consecutively (in the title or the body)."""
    terms: tuple[Term, ...]


@dataclass(frozen=True)
class Exclusion:
    """A word or phrase no hit may hold; ``exact``: matched with its accents."""
    terms: tuple[Term, ...]
    exact: bool


@dataclass(frozen=True)
class HighlightGroup:
    """Syllables to mark in a hit; a phrase only where they occur consecutively."""
    terms: tuple[Term, ...]
    phrase: bool
    exact_preferred: bool   # the query carried accents: prefer exact matches


@dataclass(frozen=True)
class Query:
    """A compiled query: what the executor ranks and the snippets mark."""
    keywords: tuple[Term, ...]          # scored; tiered: a document matching all comes first
    words: tuple[Term, ...]             # pyvi words of the keywords: scored where held
    phrases: tuple[Phrase, ...]         # required; their syllables are scored too
    exclusions: tuple[Exclusion, ...]
    exact_weight: float                 # of exact forms beside folded ones (0: folded only)
    accented: bool                      # typed with accents: words are matched exact, else folded
    tiered: bool
    groups: tuple[HighlightGroup, ...]
    suggestion: str | None = None       # accents restored for a plain query ("did you mean")

    @property
    def empty(self) -> bool:
        return not (self.keywords or self.phrases)


Restorer = Callable[[list[str]], list[str]]


def _with_restored_accents(clause: AnalyzedClause, restore: Restorer) -> AnalyzedClause:
    """The clause as if typed with the accents the index makes most likely."""
    exact = restore([t.folded for t in clause.syllables])
    syllables = tuple(Term(e, t.folded) for e, t in zip(exact, clause.syllables))
    words = tuple(Term(WORD_JOINER.join((a.exact, b.exact)), WORD_JOINER.join((a.folded, b.folded)))
                  for a, b in zip(syllables, syllables[1:]))
    return AnalyzedClause(clause.clause, syllables, words)


def compile_query(clauses: list[AnalyzedClause], settings: RankingSettings,
                  restore: Restorer | None = None) -> Query:
    """The :class:`Query` of parsed clauses (see the module docstring).

    With ``restore`` (a plain query only), the accents the index makes most
    likely score on top of the folded forms with ``settings.restored_weight``
    and are the "did you mean" suggestion when they differ from what was typed.
    """
    positive = [c for c in clauses if not c.clause.negated]
    free_text = sum(len(c.syllables) for c in positive) >= settings.free_text_syllables
    accented = any(t.accented for c in positive for t in c.syllables)
    exact_weight, suggestion = (settings.exact_weight if accented else 0.0), None
    if not accented and restore is not None and positive:
        plain = [t.folded for c in positive for t in c.syllables]
        positive = [_with_restored_accents(c, restore) for c in positive]
        restored = [t.exact for c in positive for t in c.syllables]
        exact_weight = settings.restored_weight
        suggestion = " ".join(restored) if restored != plain else None
    keywords: list[Term] = []
    words: list[Term] = []
    phrases: list[Phrase] = []
    groups: list[HighlightGroup] = []
    for c in positive:
        is_phrase = c.clause.phrase and len(c.syllables) > 1 and not free_text
        groups.append(HighlightGroup(c.syllables, is_phrase, bool(exact_weight)))
        if is_phrase:
            phrases.append(Phrase(c.syllables))
        else:
            keywords.extend(c.syllables)
            words.extend(c.words)
    exclusions = tuple(Exclusion(c.syllables, any(t.accented for t in c.syllables))
                       for c in clauses if c.clause.negated)
    return Query(tuple(keywords), tuple(words), tuple(phrases), exclusions, exact_weight, accented,
                 not free_text, tuple(groups), suggestion)
