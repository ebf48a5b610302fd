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
* ``-word`` and ``-"phrase"`` exclude, matched as typed: ``-bạc`` keeps ``bác``;
* a syllable the index does not hold may have another reading
  (:mod:`~indexer.search.respell`: Telex/VNI keys decoded, a joined word split,
  a letter corrected): it is searched beside the syllable as typed, as an
  *alternative* weighted below it (``decoded_weight``, ``split_weight``,
  ``corrected_weight``), a document holding it counting as holding the
  syllable; a quoted phrase is read in it; the readings make the "did you
  mean" suggestion.

The query text is NFKC-normalised first: full-width and other compatibility
characters (``ｈａ ｎｏｉ``) read as their plain forms.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Callable, Optional

from indexer.analysis import WORD_JOINER, analyze, exact_form, fold, folded_form
from indexer.search.respell import CORRECTED, DECODED, SPLIT, Reading
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
    """One query syllable (or word) in its exact and folded forms, and the
    other readings searched beside it."""
    exact: str
    folded: str
    alternatives: tuple["Alternative", ...] = ()

    @property
    def accented(self) -> bool:
        return self.exact != self.folded


@dataclass(frozen=True)
class Alternative:
    """Another reading of a query syllable: its syllables score (folded, and
    exact with ``exact_weight``) times ``weight``; a document holding all of
    them counts as holding the syllable."""
    terms: tuple[Term, ...]
    weight: float
    exact_weight: float
    kind: str


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
    q = unicodedata.normalize("NFKC", q)
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
#: (typed exact syllable, folded neighbour before, after) -> another reading or None
Respeller = Callable[[str, Optional[str], Optional[str]], Optional[Reading]]


def _readings(clause: AnalyzedClause, respell: Respeller | None) -> list[Reading | None]:
    terms = clause.syllables
    if respell is None:
        return [None] * len(terms)
    return [respell(t.exact, terms[i - 1].folded if i else None,
                    terms[i + 1].folded if i + 1 < len(terms) else None) for i, t in enumerate(terms)]


def _read_clause(clause: AnalyzedClause, readings: list[Reading | None], accented: bool,
                 restore: Restorer | None) -> list[list[str]]:
    """Per typed syllable of a clause, the exact syllables it reads as: its
    reading's, else as typed (an accented query) or restored (a plain one);
    a reading without the user's accents gets restored ones, in context."""
    slots: list[tuple[int, str | None, str]] = []   # typed syllable, exact (None: to restore), folded
    for si, (t, r) in enumerate(zip(clause.syllables, readings)):
        if r is None:
            slots.append((si, t.exact if accented else None, t.folded))
        else:
            slots.extend((si, part if r.accented else None, fold(part)) for part in r.syllables)
    folded = [f for *_, f in slots]
    guessed = restore(folded) if restore is not None and any(e is None for _, e, _ in slots) else folded
    out: list[list[str]] = [[] for _ in clause.syllables]
    for (si, exact, _), guess in zip(slots, guessed):
        out[si].append(exact if exact is not None else guess)
    return out


_WEIGHT_OF = {DECODED: "decoded_weight", SPLIT: "split_weight", CORRECTED: "corrected_weight"}


def _with_readings(clause: AnalyzedClause, rs: list[Reading | None], read: list[list[str]], accented: bool,
                   settings: RankingSettings) -> AnalyzedClause:
    """The clause with each syllable's other reading attached (an accented
    query) or also its restored accents (a plain one), and the pyvi words of
    what it reads as."""
    syllables = []
    for t, r, exacts in zip(clause.syllables, rs, read):
        if r is None:
            syllables.append(t if accented else Term(exacts[0], t.folded))
            continue
        alt = Alternative(tuple(Term(e, fold(e)) for e in exacts), getattr(settings, _WEIGHT_OF[r.kind]),
                          settings.exact_weight if r.accented else settings.restored_weight, r.kind)
        syllables.append(Term(t.exact, t.folded, (alt,)))
    flat = [e for exacts in read for e in exacts]
    if accented and not any(rs):
        words = clause.words
    elif accented:
        words = _terms(" ".join(flat))[1]
    else:   # restored accents are a guess: adjacent pairs, matched folded
        words = tuple(Term(WORD_JOINER.join((a, b)), WORD_JOINER.join((fold(a), fold(b))))
                      for a, b in zip(flat, flat[1:]))
    return AnalyzedClause(clause.clause, tuple(syllables), words)


def _read_terms(terms: tuple[Term, ...]) -> tuple[Term, ...]:
    """A phrase's syllables as read: an absent syllable's reading stands for it."""
    out: list[Term] = []
    for t in terms:
        out.extend(t.alternatives[0].terms if t.alternatives else (t,))
    return tuple(out)


def _shown(terms: tuple[Term, ...]) -> tuple[Term, ...]:
    """The syllables to mark: as typed, and their readings'."""
    return tuple(x for t in terms for x in (t, *(a for alt in t.alternatives for a in alt.terms)))


def compile_query(clauses: list[AnalyzedClause], settings: RankingSettings,
                  restore: Restorer | None = None, respell: Respeller | None = None) -> Query:
    """The :class:`Query` of parsed clauses (see the module docstring).

    With ``restore`` (a plain query only), the accents the index makes most
    likely score on top of the folded forms with ``settings.restored_weight``.
    With ``respell``, syllables the index does not hold get their other
    reading as an alternative. The "did you mean" suggestion is the query as
    read (readings, restored accents) when it differs from what was typed.
    """
    positive = [c for c in clauses if not c.clause.negated]
    free_text = sum(len(c.syllables) for c in positive) >= settings.free_text_syllables
    accented = any(t.accented for c in positive for t in c.syllables)
    exact_weight, suggestion = (settings.exact_weight if accented else 0.0), None
    readings = [_readings(c, respell) for c in positive]
    if positive and (restore is not None and not accented or any(r for rs in readings for r in rs)):
        read = [_read_clause(c, rs, accented, restore) for c, rs in zip(positive, readings)]
        typed = [t.exact for c in positive for t in c.syllables]
        shown = [" ".join(exacts) for clause in read for exacts in clause]
        suggestion = " ".join(shown) if shown != typed else None
        if not accented and restore is not None:
            exact_weight = settings.restored_weight
        positive = [_with_readings(c, rs, r, accented or restore is None, settings)
                    for c, rs, r in zip(positive, readings, read)]
    keywords: list[Term] = []
    words: list[Term] = []
    phrases: list[Phrase] = []
    groups: list[HighlightGroup] = []
    for c in positive:
        is_phrase = c.clause.phrase and len(c.syllables) > 1 and not free_text
        if is_phrase:
            read_terms = _read_terms(c.syllables)
            groups.append(HighlightGroup(read_terms, True, bool(exact_weight)))
            phrases.append(Phrase(read_terms))
        else:
            groups.append(HighlightGroup(_shown(c.syllables), False, bool(exact_weight)))
            keywords.extend(c.syllables)
            words.extend(c.words)
    exclusions = tuple(Exclusion(c.syllables, any(t.accented for t in c.syllables))
                       for c in clauses if c.clause.negated)
    return Query(tuple(keywords), tuple(words), tuple(phrases), exclusions, exact_weight, accented,
                 not free_text, tuple(groups), suggestion)
