"""Other readings of a query syllable the index does not hold: what the user
meant when typing Telex or VNI keys, a letter wrong, or a word's syllables
joined.

For a syllable absent from the index (as typed, folded), :func:`reading`
proposes at most one reading, from the index's own vocabulary (the accent
model, :mod:`indexer.search.accents`), in this order:

1. **decoded** (``dduwowngf``, ``d9u7o7ng2`` → *đường*): the token's Telex or
   VNI keys (:mod:`indexer.analysis.telex`) spell a valid syllable
   (:mod:`indexer.analysis.syllable`) the index holds with those accents;
2. **split** (``hanoi`` → *hà nội*, ``vietnam`` → *việt nam*): the token is a
   multi-syllable word of the index with its joins removed; typed accents
   are kept (``việtnam`` → *việt nam*);
3. **corrected** (``vein`` → *viên*): a folded syllable of the index within
   edit distance 1 (tokens of 4 letters or more) or 2 (8 or more), a
   transposition counting once and an edit of the first letter twice;
   among the nearest, the one that forms a known word with a neighbour, then
   the most frequent.

A syllable the index holds as typed is never given another reading
(``ddos``, ``mix``, ``box``, ``test`` stay themselves). How much a reading
weighs beside the syllable as typed is the query's business
(:class:`~indexer.search.settings.RankingSettings`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from indexer.analysis import fold, has_diacritics, syllable, telex
from indexer.search.accents import AccentModel

DECODED, SPLIT, CORRECTED = "decoded", "split", "corrected"
MIN_TYPO_LETTERS = 4        # one edit allowed from this length...
MIN_TWO_TYPOS_LETTERS = 8   # ...two from this one
FIRST_LETTER_COST = 2
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Reading:
    """Another reading of one typed syllable: one syllable, or several (a split)."""
    syllables: tuple[str, ...]   # exact forms, lowercase
    kind: str                    # DECODED, SPLIT or CORRECTED
    accented: bool               # its accents are the user's (typed or keyed), not a guess


def reading(exact: str, model: AccentModel, before: str | None = None,
            after: str | None = None) -> Reading | None:
    """The reading of the typed syllable ``exact`` (lowercase) if the index
    does not hold it; ``before``/``after``: the folded neighbours in the query,
    the context of a correction."""
    folded = fold(exact)
    if model.df(folded):
        return None
    for decoded in telex.decodings(exact):
        if syllable.is_valid(decoded) and model.exact_df(decoded):
            return Reading((decoded,), DECODED, True)
    split = _split(exact, folded, model)
    if split is not None:
        return split
    return _correction(exact, folded, model, before, after)


def _split(exact: str, folded: str, model: AccentModel) -> Reading | None:
    parts = model.joined.get(folded)
    if parts is None:
        return None
    if has_diacritics(exact) and len(exact) == len(folded):
        # the user's own accents, cut where the word's syllables are
        cut, typed = 0, []
        for part in parts:
            typed.append(exact[cut:cut + len(part)])
            cut += len(part)
        return Reading(tuple(typed), SPLIT, True)
    return Reading(parts, SPLIT, False)


def _edits(word: str, first_cost: int) -> dict[str, int]:
    """Every string one edit (delete, transpose, substitute, insert) away,
    with its cost: 1, or ``first_cost`` when it touches the first letter."""
    out: dict[str, int] = {}

    def put(s: str, at: int) -> None:
        cost = first_cost if at == 0 else 1
        if s != word and cost < out.get(s, 99):
            out[s] = cost

    for i in range(len(word)):
        put(word[:i] + word[i + 1:], i)
        if i + 1 < len(word):
            put(word[:i] + word[i + 1] + word[i] + word[i + 2:], i)
        for c in _LETTERS:
            put(word[:i] + c + word[i + 1:], i)
    for i in range(len(word) + 1):
        for c in _LETTERS:
            put(word[:i] + c + word[i:], i)
    return out


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def deletion_index(vocabulary) -> dict[str, list[str]]:
    """Each one-letter deletion of the vocabulary's long entries (those two
    edits may bring within reach of an 8-letter token) -> the entries."""
    index: dict[str, list[str]] = {}
    for entry in vocabulary:
        if len(entry) >= MIN_TWO_TYPOS_LETTERS - 2 and entry.isalpha() and entry.isascii():
            for d in _deletes(entry):
                index.setdefault(d, []).append(entry)
    return index


def candidates(folded: str, vocabulary, deletes: dict[str, list[str]] | None = None) -> dict[str, int]:
    """Folded syllables of ``vocabulary`` (a container) within the budget of
    ``folded``'s length, with their cost (see the module docstring).

    Two edits are found through ``deletes`` (:func:`deletion_index`): an entry
    sharing a one-letter deletion with the token or with one of its
    deletions, checked by distance; it misses entries two substitutions or
    two insertions away, where generating them all would cost a second per
    token."""
    if len(folded) < MIN_TYPO_LETTERS or not folded.isalpha() or not folded.isascii():
        return {}
    budget = 2 if len(folded) >= MIN_TWO_TYPOS_LETTERS else 1
    found = {s: c for s, c in _edits(folded, FIRST_LETTER_COST).items() if c <= budget and s in vocabulary}
    if budget == 2:
        once = _deletes(folded)
        keys = once | {d for s in once for d in _deletes(s)}
        near = {e for k in keys | {folded} for e in (deletes or {}).get(k, ())}
        near |= {k for k in keys if k in vocabulary}
        for entry in near - found.keys() - {folded}:
            cost = _cost(folded, entry)
            if cost <= budget:
                found[entry] = cost
    return found


def _cost(a: str, b: str) -> int:
    """The edit cost of ``a`` → ``b`` with the first letter's edits costing more."""
    if a[:1] == b[:1]:
        return _distance(a[1:], b[1:])
    return min(_distance(a, b) - 1 + FIRST_LETTER_COST, FIRST_LETTER_COST + _distance(a[1:], b[1:]))


def _context(model: AccentModel, folded: str, before: str | None, after: str | None) -> int:
    """How often ``folded`` forms a two-syllable word with a neighbour."""
    score = 0
    for first, second in ((before, folded), (folded, after)):
        if first and second:
            for a, _ in model.syllables.get(first, ()):
                for b, _ in model.syllables.get(second, ()):
                    score += model.word_df(a, b)
    return score


def _correction(exact: str, folded: str, model: AccentModel, before: str | None,
                after: str | None) -> Reading | None:
    found = candidates(folded, model.syllables, model.deletion_index())
    if not found:
        return None
    best_cost = min(found.values())
    nearest = [s for s, c in found.items() if c == best_cost]
    best = max(nearest, key=lambda s: (math.log1p(_context(model, s, before, after)), model.df(s), s))
    if has_diacritics(exact):
        # the exact form nearest to what was typed: its accents are the user's
        form = min(model.syllables[best], key=lambda kv: (_distance(kv[0], exact), -kv[1]))[0]
        return Reading((form,), CORRECTED, True)
    return Reading((best,), CORRECTED, False)


def _distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance (a transposition is one edit)."""
    prev2: Sequence[int] | None = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]
