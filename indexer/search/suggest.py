"""Completions of a partly typed query, from the accent model's vocabulary."""

from __future__ import annotations

from indexer.search.accents import AccentModel
from indexer.search.query import Term

MAX_SUGGEST_CHARS = 200


def completions(model: AccentModel, terms: list[Term], finished: bool, limit: int) -> list[str]:
    """Completions of the query syllables ``terms``, shown with accents:
    ``dang v`` → ``đảng viên``… The earlier syllables keep their typed accents,
    or are restored when typed plain. ``finished``: the last syllable was
    followed by a space, so the next one is offered."""
    context = [t.exact for t in terms]
    if not any(t.accented for t in terms):
        context = model.restore([t.folded for t in terms])
    scored: dict[str, int] = {}
    if finished:
        for second, df in model.followers(context[-1])[:limit]:
            scored[" ".join(context + [second])] = df
    else:
        last, head = terms[-1], context[:-1]
        for form, df in model.completions(last.folded, last.exact):
            bonus = model.words.get(head[-1] + "_" + form, 0) if head else 0
            scored[" ".join(head + [form])] = df + 10 * bonus
            for second, wdf in model.followers(form)[:2]:
                scored.setdefault(" ".join(head + [form, second]), wdf)
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))
    return [text for text, _ in ranked[:limit]]
