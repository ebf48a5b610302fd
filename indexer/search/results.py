"""The JSON shapes of the engine's answers (the CLI's ``--json`` and the API's)."""

from __future__ import annotations

from indexer.index import schema


def hit(stored: dict, score: float, title_html: str, body_html: str) -> dict:
    """One search hit: its stored fields, its highlighted title and snippet, its score."""
    out = {name: stored.get(name) for name in schema.HIT_FIELDS}
    out["_formatted"] = {"title": title_html, "body": body_html}
    out["_score"] = round(score, 4)
    return out


def answer(q: str, hits: list[dict], total: int, page: int, per_page: int, millis: float,
           suggestion: str | None) -> dict:
    """A page of results."""
    return {
        "query": q,
        "hits": hits,
        "totalHits": total,
        "totalPages": (total + per_page - 1) // per_page,
        "page": page,
        "hitsPerPage": per_page,
        "processingTimeMs": round(millis, 1),
        "suggestion": suggestion,
    }


def article(stored: dict) -> dict:
    """A whole stored article."""
    return {"id": stored[schema.ID_FIELD], "title": stored.get(schema.TITLE, ""),
            "text": stored.get(schema.BODY, ""), "date": stored.get(schema.DATE),
            "source": stored.get(schema.SOURCE), "url": stored.get(schema.URL),
            "path": stored.get(schema.PATH)}
