"""Completions of a partly typed query: phrases the index holds, ranked by how
often they follow what was typed.

The candidates come from the phrase model (:mod:`indexer.search.bigrams`):
the syllables seen right after the last complete syllable typed (in any of
its accented forms, or the one typed), that start like the syllable being
typed, ranked by how often the pair occurs; so the typed syllable's accents
are chosen with the completion (``dang v`` → *đảng viên*, not *đang vụ*).
The syllables before it keep their typed accents or get the accent model's
(:mod:`indexer.search.accents`). A single syllable being typed is completed
from the vocabulary by document frequency, and followed by its most
frequent next syllables.

Every completion is checked to occur in the index as a phrase (``exists``)
before it is offered, and is shown as the pages spell it (*ủy*, not *uỷ*).
"""

from __future__ import annotations

from typing import Callable

from indexer.analysis import fold
from indexer.search.accents import AccentModel
from indexer.search.bigrams import PhraseModel
from indexer.search.query import Term

MAX_SUGGEST_CHARS = 200
CHECKED_PER_SUGGESTION = 3     # candidates checked as phrases, at most, per suggestion asked for
FOLLOWERS = 2                  # next syllables offered after a completed single syllable


def _starts(exact: str, last: Term) -> bool:
    return fold(exact).startswith(last.folded) and (not last.accented or exact.startswith(last.exact))


def _after(phrases: PhraseModel, prev: Term, last: Term | None) -> list[tuple[int, list[str]]]:
    """(count, [prev form, next]) of the bigrams after ``prev`` whose second
    syllable starts like ``last`` (any, when None)."""
    exact = phrases.ids.get(prev.exact) if prev.accented else None
    firsts = [exact] if exact is not None else phrases.forms(prev.folded)
    out = []
    for first in firsts:
        seconds, counts = phrases.followers(first)
        for second, count in zip(seconds.tolist(), counts.tolist()):
            text = phrases.vocab[second]
            if last is None or _starts(text, last):
                out.append((count, [phrases.vocab[first], text]))
    return out


def _single(accents: AccentModel, phrases: PhraseModel, last: Term) -> list[tuple[int, list[str]]]:
    out = []
    for form, df in accents.completions(last.folded, last.exact):
        out.append((df, [form]))
        first = phrases.ids.get(form)
        if first is not None:
            seconds, counts = phrases.followers(first)
            for at in counts.argsort()[::-1][:FOLLOWERS].tolist():
                out.append((int(counts[at]), [form, phrases.vocab[int(seconds[at])]]))
    return out


def completions(accents: AccentModel, phrases: PhraseModel, terms: list[Term], finished: bool, limit: int,
                exists: Callable[[list[str]], bool]) -> list[str]:
    """Completions of the query syllables ``terms``, shown as the pages spell
    them: ``dang v`` → ``đảng viên``… ``finished``: the last syllable was
    followed by a space, so the next one is offered. ``exists(syllables)``
    tells whether the index holds those syllables as a phrase."""
    complete, last = (terms, None) if finished else (terms[:-1], terms[-1])
    if any(t.accented for t in complete):
        head = [t.exact for t in complete]
    else:
        head = accents.restore([t.folded for t in complete])
    if complete:
        candidates = [(n, head[:-1] + pair) for n, pair in _after(phrases, complete[-1], last)]
    else:
        candidates = _single(accents, phrases, last)
    candidates.sort(key=lambda c: (-c[0], c[1]))
    out: list[str] = []
    seen: set[str] = set()
    for _, syllables in candidates[:CHECKED_PER_SUGGESTION * limit]:
        text = " ".join(phrases.spelled(s) for s in syllables)
        if text in seen or not exists(syllables):
            continue
        seen.add(text)
        out.append(text)
        if len(out) == limit:
            break
    return out
