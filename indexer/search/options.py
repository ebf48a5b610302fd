"""A search's parameters besides the query, checked: Meilisearch's names and meanings.

:func:`search_options` turns the keyword arguments of
:meth:`~indexer.search.engine.SearchEngine.search` into one
:class:`SearchOptions`, raising :class:`~indexer.search.query.QueryError`
(with a Meilisearch error code) for a bad value. Pagination is Meilisearch's:
``page``/``hitsPerPage`` (an exhaustive ``totalHits`` and ``totalPages``) or,
when only ``offset``/``limit`` are given, ``offset``/``limit`` (with
``estimatedTotalHits``); ``page`` 1 and ``hitsPerPage`` 10 when neither is.
"""

from __future__ import annotations

from dataclasses import dataclass

from indexer.index import schema
from indexer.search.facets import FacetError, parse_facets
from indexer.search.query import QueryError
from indexer.search.sorting import SortError, SortRule, parse_sort

MAX_HITS_PER_PAGE = 100
MAX_CROP_LENGTH = 200
HIGHLIGHTABLE = (schema.TITLE, schema.BODY)
MATCHING_STRATEGIES = ("last", "all")
DEFAULT_PRE_TAG, DEFAULT_POST_TAG = "<mark>", "</mark>"


@dataclass(frozen=True)
class SearchOptions:
    paged: bool                    # page/hitsPerPage (else offset/limit)
    page: int
    hits_per_page: int
    offset: int
    limit: int
    filter: object = None
    sort: SortRule | None = None
    facets: tuple[str, ...] | None = None        # None: no facetDistribution in the answer
    retrieve: tuple[str, ...] = schema.HIT_FIELDS
    highlight: tuple[str, ...] = HIGHLIGHTABLE
    pre_tag: str = DEFAULT_PRE_TAG
    post_tag: str = DEFAULT_POST_TAG
    crop_length: int | None = None
    matching_strategy: str = "last"

    @property
    def start(self) -> int:
        """The rank (0-based) of the first hit to return."""
        return (self.page - 1) * self.hits_per_page if self.paged else self.offset

    @property
    def count(self) -> int:
        """How many hits to return at most."""
        return self.hits_per_page if self.paged else self.limit


def _integer(value, name: str, code: str, low: int, high: int | None, message: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise QueryError(code, message)
    return value


def _names(value, name: str, code: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise QueryError(code, f"{name} must be an array of attribute names.")
    names = [v.strip() for v in value if v.strip()]
    if "*" in names:
        return allowed
    unknown = [v for v in names if v not in allowed]
    if unknown:
        raise QueryError(code, f"{name}: unknown attribute `{unknown[0]}`; the attributes are "
                               + ", ".join(f"`{a}`" for a in allowed) + ".")
    return tuple(dict.fromkeys(names))


def search_options(page=None, hits_per_page=None, offset=None, limit=None, filter=None, sort=None, facets=None,
                   attributes_to_retrieve=None, attributes_to_highlight=None, highlight_pre_tag=None,
                   highlight_post_tag=None, crop_length=None, matching_strategy=None) -> SearchOptions:
    """Checked options; QueryError names the parameter at fault."""
    paged = page is not None or hits_per_page is not None or (offset is None and limit is None)
    page = 1 if page is None else _integer(page, "page", "invalid_page", 1, None, "page must be an integer ≥ 1.")
    hits_per_page = 10 if hits_per_page is None else _integer(
        hits_per_page, "hitsPerPage", "invalid_hits_per_page", 0, MAX_HITS_PER_PAGE,
        f"hitsPerPage must be an integer from 0 to {MAX_HITS_PER_PAGE}.")
    offset = 0 if offset is None else _integer(offset, "offset", "invalid_search_offset", 0, None,
                                               "offset must be an integer ≥ 0.")
    limit = 20 if limit is None else _integer(limit, "limit", "invalid_search_limit", 0, MAX_HITS_PER_PAGE,
                                              f"limit must be an integer from 0 to {MAX_HITS_PER_PAGE}.")
    try:
        rule = parse_sort(sort)
    except SortError as e:
        raise QueryError("invalid_search_sort", str(e)) from None
    try:
        wanted = None if facets is None else parse_facets(facets)
    except FacetError as e:
        raise QueryError("invalid_search_facets", str(e)) from None
    retrieve = schema.HIT_FIELDS if attributes_to_retrieve is None else _names(
        attributes_to_retrieve, "attributesToRetrieve", "invalid_search_attributes_to_retrieve", schema.HIT_FIELDS)
    highlight = HIGHLIGHTABLE if attributes_to_highlight is None else _names(
        attributes_to_highlight, "attributesToHighlight", "invalid_search_attributes_to_highlight", HIGHLIGHTABLE)
    tags = []
    for value, name, default in ((highlight_pre_tag, "highlightPreTag", DEFAULT_PRE_TAG),
                                 (highlight_post_tag, "highlightPostTag", DEFAULT_POST_TAG)):
        if value is not None and (not isinstance(value, str) or len(value) > 100):
            code = "invalid_search_" + ("highlight_pre_tag" if name == "highlightPreTag" else "highlight_post_tag")
            raise QueryError(code, f"{name} must be a string of at most 100 characters.")
        tags.append(default if value is None else value)
    if crop_length is not None:
        crop_length = _integer(crop_length, "cropLength", "invalid_search_crop_length", 1, MAX_CROP_LENGTH,
                               f"cropLength must be an integer from 1 to {MAX_CROP_LENGTH}.")
    strategy = matching_strategy if matching_strategy is not None else "last"
    if strategy not in MATCHING_STRATEGIES:
        raise QueryError("invalid_search_matching_strategy",
                         "matchingStrategy must be " + " or ".join(f"`{s}`" for s in MATCHING_STRATEGIES) + ".")
    return SearchOptions(paged, page, hits_per_page, offset, limit, filter, rule, wanted, retrieve, highlight,
                         tags[0], tags[1], crop_length, strategy)
