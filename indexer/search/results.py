"""The JSON shapes of the engine's answers (the CLI's ``--json`` and the API's).

A search answer has Meilisearch's fields for its pagination mode (``page``,
``hitsPerPage``, ``totalHits``, ``totalPages``; or ``offset``, ``limit``,
``estimatedTotalHits``), ``facetDistribution`` and ``facetStats`` when facets
were asked for, and vnsearch's own: ``suggestion``, ``relatedHits``,
``totalHitsEstimated``.
"""

from __future__ import annotations

from indexer.index import schema
from indexer.search.options import DEFAULT_POST_TAG, DEFAULT_PRE_TAG, SearchOptions


def _tagged(html: str, highlighted: bool, opts: SearchOptions) -> str:
    """``<mark>`` replaced by the requested tags, or removed for a field not highlighted.
    (The text around is escaped: a literal ``<mark>`` cannot occur in it.)"""
    if not highlighted:
        return html.replace(DEFAULT_PRE_TAG, "").replace(DEFAULT_POST_TAG, "")
    if (opts.pre_tag, opts.post_tag) == (DEFAULT_PRE_TAG, DEFAULT_POST_TAG):
        return html
    return html.replace(DEFAULT_PRE_TAG, opts.pre_tag).replace(DEFAULT_POST_TAG, opts.post_tag)


def _value(stored: dict, name: str):
    value = stored.get(name)
    if name == schema.TAGS:
        return list(value or [])
    return value


def hit(stored: dict, score: float, title_html: str, body_html: str, opts: SearchOptions,
        related: bool = False) -> dict:
    """One search hit: the stored attributes asked for, the highlighted title and
    snippet, the score, and whether it matches only some of the query's words."""
    out = {name: _value(stored, name) for name in opts.retrieve}
    out["_formatted"] = {"title": _tagged(title_html, schema.TITLE in opts.highlight, opts),
                         "body": _tagged(body_html, schema.BODY in opts.highlight, opts)}
    out["_score"] = round(score, 4)
    out["_related"] = bool(related)
    return out


def answer(q: str, hits: list[dict], total: int, related: int, estimated: bool, opts: SearchOptions,
           millis: float, suggestion: str | None, facet_answer: tuple[dict, dict] | None = None) -> dict:
    """A page of results."""
    out: dict = {"query": q, "hits": hits}
    if opts.paged:
        per_page = opts.hits_per_page
        out.update({"totalHits": total, "totalPages": (total + per_page - 1) // per_page if per_page else 0,
                    "page": opts.page, "hitsPerPage": per_page})
    else:
        out.update({"offset": opts.offset, "limit": opts.limit, "estimatedTotalHits": total})
    out["relatedHits"] = related
    out["totalHitsEstimated"] = estimated
    if facet_answer is not None:
        out["facetDistribution"], out["facetStats"] = facet_answer
    out["processingTimeMs"] = round(millis, 1)
    out["suggestion"] = suggestion
    return out


def article(stored: dict) -> dict:
    """A whole stored article."""
    return {"id": stored[schema.ID_FIELD], "title": stored.get(schema.TITLE, ""),
            "text": stored.get(schema.BODY, ""), "date": stored.get(schema.DATE),
            "topic": stored.get(schema.TOPIC), "source": stored.get(schema.SOURCE), "url": stored.get(schema.URL),
            "tags": list(stored.get(schema.TAGS) or []), "path": stored.get(schema.PATH)}
