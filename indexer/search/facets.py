"""``facets``: value counts over every match (``facetDistribution``) and the
date range (``facetStats``), by ``bincount`` over the columns.

``topic``, ``source`` and ``tags`` (:data:`FACETABLE`) are counted: at most
``MAX_VALUES_PER_FACET`` values each (Meilisearch's default), most frequent
first, ties in alphabetical order; a value no match holds is left out.
``date`` gives ``facetStats.date``: the earliest and latest date of the
matches (ISO date-times), absent when none has a date. ``["*"]`` asks for all.
"""

from __future__ import annotations

import numpy as np

from indexer.index import schema
from indexer.index.columns import MISSING_DATE, ColumnsReader, iso_of_seconds

FACETABLE = (schema.TOPIC, schema.SOURCE, schema.TAGS, schema.DATE)
MAX_VALUES_PER_FACET = 100


class FacetError(ValueError):
    """A facet that cannot be counted."""


def parse_facets(value) -> tuple[str, ...]:
    """The facets asked for: None or a list of attribute names (``"*"``: all)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FacetError("facets must be an array of attribute names such as [\"topic\", \"source\"].")
    wanted = [v.strip() for v in value if v.strip()]
    if "*" in wanted:
        return FACETABLE
    for name in wanted:
        if name not in FACETABLE:
            raise FacetError(f"Attribute `{name}` is not filterable. Available filterable attributes are: "
                             + ", ".join(f"`{a}`" for a in FACETABLE) + ".")
    return tuple(dict.fromkeys(wanted))


def distribution(columns: ColumnsReader, matches: np.ndarray, facets: tuple[str, ...],
                 scale: float = 1.0) -> tuple[dict, dict]:
    """``(facetDistribution, facetStats)`` over the documents of the boolean
    mask ``matches``; each count multiplied by ``scale`` and rounded (the share
    of the matches that pass an estimated phrase check, else 1)."""
    counts: dict[str, dict[str, int]] = {}
    stats: dict[str, dict[str, str]] = {}
    for name in facets:
        if name == schema.DATE:
            dates = columns.dates[matches]
            dates = dates[dates != MISSING_DATE]
            if len(dates):
                stats[name] = {"min": iso_of_seconds(dates.min()), "max": iso_of_seconds(dates.max())}
            continue
        column = columns.keyword(name)
        found = column.counts(matches)
        if scale != 1.0:
            found = np.rint(found * scale).astype(np.int64)
        held = np.flatnonzero(found)
        order = held[np.lexsort((held, -found[held]))][:MAX_VALUES_PER_FACET]
        counts[name] = {column.values[i]: int(found[i]) for i in order}
    return counts, stats
