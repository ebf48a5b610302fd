"""Index tasks, Meilisearch-style: every write to the index is a task, stored
durably in SQLite beside the index and processed in order by one processor.

* :mod:`~indexer.tasks.store` -- the queue (``<index_dir>/tasks.sqlite3``): enqueue,
  claim a batch, finish, list, wait; the processor lock.
* :mod:`~indexer.tasks.corpus` -- the corpus directory changed for additions,
  replacements and deletions, so a rebuild from it keeps them.
* :mod:`~indexer.tasks.processor` -- the loop that claims batches and builds.
* :mod:`~indexer.tasks.supervisor` -- the processor as a child process,
  restarted if it dies (``vnsearch serve`` runs one).

The web front end and the CLI only call the functions below and the store.
"""

from __future__ import annotations

import json

from indexer.ingest import article_to_jsonl, validate_article
from indexer.tasks.store import (ADD, DELETE, DOCUMENT_TYPES, FAILED, MAX_ATTEMPTS, PROCESSING, REBUILD, REINDEX,
                                 STATUSES, SUCCEEDED, TYPES, ENQUEUED, ProcessorRunning, Task, TaskStore,
                                 iso_duration, processor_lock)


class InvalidRecord(ValueError):
    """A record of a batch is invalid: ``where`` says which (``record 3``, ``line 7``)."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


def validate_batch(records: list, where=lambda i: f"record {i}") -> list[dict]:
    """Validate every record (any bad one raises InvalidRecord: nothing of the
    batch is accepted) and return them in their canonical form (the JSON line
    the corpus file will hold). ``where(i)`` names record ``i`` (0-based) in errors.
    An id given twice is an error too."""
    out, seen = [], {}
    for i, record in enumerate(records):
        try:
            article = validate_article(record, relpath="")
        except ValueError as e:
            raise InvalidRecord(where(i), str(e)) from None
        if article.id in seen:
            raise InvalidRecord(where(i), f"id {article.id!r} is also in {where(seen[article.id])}")
        seen[article.id] = i
        out.append(json.loads(article_to_jsonl(article)))
    return out


def enqueue_articles(store: TaskStore, records: list[dict]) -> Task:
    """Enqueue the addition (or replacement) of validated records (:func:`validate_batch`)."""
    return store.enqueue(ADD, {"articles": records}, {"receivedDocuments": len(records), "indexedDocuments": None},
                         size=len(records))


def enqueue_deletion(store: TaskStore, ids: list[str]) -> Task:
    return store.enqueue(DELETE, {"ids": list(ids)}, {"providedIds": len(ids), "deletedDocuments": None},
                         size=len(ids))


def enqueue_reindex(store: TaskStore, full: bool) -> Task:
    return store.enqueue(REBUILD if full else REINDEX, {"full": full}, {"full": full})


__all__ = ["ADD", "DELETE", "DOCUMENT_TYPES", "ENQUEUED", "FAILED", "InvalidRecord", "MAX_ATTEMPTS", "PROCESSING",
           "ProcessorRunning", "REBUILD", "REINDEX", "STATUSES", "SUCCEEDED", "TYPES", "Task", "TaskStore",
           "enqueue_articles", "enqueue_deletion", "enqueue_reindex", "iso_duration", "processor_lock",
           "validate_batch"]
