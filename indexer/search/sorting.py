"""``sort``: Meilisearch's sort rules (``["date:desc"]``), as arrays the executor ranks by.

Only ``date`` is sortable (:data:`SORTABLE`). A sort rule ranks after the
all-words tier (Meilisearch's ``words`` ranking rule comes before ``sort``)
and before relevance: ties (documents of the same second) are broken by
score, then by document number. Documents without a date come last, in both
directions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.index import schema
from indexer.index.columns import MISSING_DATE

SORTABLE = (schema.DATE,)
DIRECTIONS = ("asc", "desc")


class SortError(ValueError):
    """A sort rule that is malformed or names an attribute that cannot be sorted."""


@dataclass(frozen=True)
class SortRule:
    attribute: str
    descending: bool

    def __str__(self) -> str:
        return f"{self.attribute}:{'desc' if self.descending else 'asc'}"


NEWEST_FIRST = SortRule(schema.DATE, True)


def parse_sort(value) -> SortRule | None:
    """The rule of a ``sort`` parameter: None, or a list of at most one
    ``attribute:asc|desc`` string (``[]`` meaning relevance). Raises SortError."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SortError("sort must be an array of strings such as [\"date:desc\"].")
    rules = [v.strip() for v in value if v.strip()]
    if not rules:
        return None
    if len(rules) > 1:
        raise SortError(f"vnsearch sorts by one rule; got {len(rules)}: {', '.join(rules)}.")
    attribute, sep, direction = rules[0].rpartition(":")
    if not sep or direction not in DIRECTIONS:
        raise SortError(f"Invalid syntax for the sort parameter: expected expression ending by `:asc` or "
                        f"`:desc`, found `{rules[0]}`.")
    if attribute not in SORTABLE:
        raise SortError(f"Attribute `{attribute}` is not sortable. Available sortable attributes are: "
                        + ", ".join(f"`{a}`" for a in SORTABLE) + ".")
    return SortRule(attribute, direction == "desc")


def order_key(dates: np.ndarray, descending: bool) -> np.ndarray:
    """A float64 key per document, larger first, in the rule's order: 0 for no
    date, else 1 + the distance in seconds from the earliest (or latest) date.
    Exact in float64 (spans below 2^53 seconds)."""
    present = dates != MISSING_DATE
    out = np.zeros(len(dates), dtype=np.float64)
    if present.any():
        held = dates[present]
        out[present] = (held - held.min() + 1) if descending else (held.max() - held + 1)
    return out


def top(primary: np.ndarray, score: np.ndarray, limit: int) -> np.ndarray:
    """Indexes of the ``limit`` best entries by (``primary`` desc, ``score``
    desc, index asc), best first: a partition, then a sort of only the entries
    tied with or above the ``limit``-th primary key."""
    n = len(primary)
    if limit <= 0 or n == 0:
        return np.zeros(0, dtype=np.int64)
    if n > limit:
        threshold = np.partition(primary, n - limit)[n - limit]
        pool = np.flatnonzero(primary >= threshold)
    else:
        pool = np.arange(n)
    return pool[np.lexsort((pool, -score[pool], -primary[pool]))][:limit]


def combined_key(primary: np.ndarray, score: np.ndarray) -> np.ndarray:
    """One float key per entry whose descending order is :func:`top`'s order
    (a full sort: for callers that sort every entry anyway)."""
    ranked = np.lexsort((np.arange(len(primary)), -score, -primary))
    key = np.empty(len(primary), dtype=np.float64)
    key[ranked] = np.arange(len(primary), 0, -1, dtype=np.float64)
    return key
