"""The task processor: the one process that writes the index for the tasks.

:func:`run` holds :func:`~indexer.tasks.store.processor_lock` (one processor
per index) and loops: claim a batch (:meth:`TaskStore.claim_batch`), apply it,
mark its tasks finished. A batch of document tasks is applied to the corpus
directory first (:class:`~indexer.tasks.corpus.CorpusEditor`: durable,
idempotent), then indexed by one incremental build, one atomic commit. A
reindex or full rebuild task is one build.

Why a crash loses nothing and runs nothing twice: a task is marked succeeded
only after its generation is published; killed before that, the published
index is the old one (the build is atomic), the task stays ``processing`` and
is claimed again by the next processor, which redoes the corpus changes (a
no-op when they were done) and builds whatever is still unindexed. A task's
effect is therefore applied once, however often it is attempted.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable

from indexer.index.build import build
from indexer.index.generations import IndexBusy, IndexFormatError
from indexer.tasks import store as st
from indexer.tasks.corpus import CorpusEditor

LOCK_WAIT = 600.0          # seconds a batch waits for a build someone else runs (`vnsearch index`)
MAX_PROBLEMS = 100         # problems listed in a reindex task's details


class _Stop:
    """A stop request (SIGTERM) and whether it may interrupt the batch now: only
    inside :func:`process_next`'s try block, where the batch is put back."""
    requested = False
    interruptible = False


STOP = _Stop()


def request_stop(*_signal) -> None:
    """The SIGTERM handler of ``vnsearch tasks run``: stop after the batch, or
    right now (SystemExit) if the batch can be put back."""
    STOP.requested = True
    if STOP.interruptible:
        raise SystemExit(0)


class CorpusNotFound(Exception):
    """The corpus directory does not exist (an incremental build would delete every article)."""


def error_of(exc: BaseException) -> dict:
    """The JSON error shape of what made a batch fail."""
    if isinstance(exc, CorpusNotFound):
        return {"code": "corpus_not_found", "message": str(exc)}
    if isinstance(exc, IndexFormatError):
        return {"code": "index_format", "message": str(exc)}
    if isinstance(exc, IndexBusy):
        return {"code": "index_busy", "message": str(exc)}
    return {"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}


def _check_corpus(corpus_dir: Path) -> None:
    if not corpus_dir.is_dir():
        raise CorpusNotFound(f"the corpus directory {corpus_dir} does not exist")


def _run_documents(tasks: list[st.Task], index_dir: Path, corpus_dir: Path) -> dict[int, dict]:
    ids = [str(r["id"]) for t in tasks if t.type == st.ADD for r in t.payload["articles"]]
    ids += [i for t in tasks if t.type == st.DELETE for i in t.payload["ids"]]
    editor = CorpusEditor(index_dir, corpus_dir, ids)
    files: dict[int, list[str]] = {}
    details: dict[int, dict] = {}
    for task in tasks:
        if task.type == st.ADD:
            files[task.uid] = [editor.put(record) for record in task.payload["articles"]]
        else:
            deleted = sum(editor.delete(article_id) for article_id in task.payload["ids"])
            details[task.uid] = {"providedIds": len(task.payload["ids"]), "deletedDocuments": deleted}
    editor.sync()
    report = build(index_dir, [corpus_dir], full=False, progress=False, lock_timeout=LOCK_WAIT)
    bad = {p.path.rsplit(":", 1)[0] if p.path.rsplit(":", 1)[-1].isdigit() else p.path for p in report.problems}
    for uid, written in files.items():
        details[uid] = {"receivedDocuments": len(written),
                        "indexedDocuments": sum(1 for rel in written if rel not in bad)}
    return details


def _run_build(task: st.Task, index_dir: Path, corpus_dir: Path) -> dict:
    report = build(index_dir, [corpus_dir], full=task.type == st.REBUILD, progress=False, lock_timeout=LOCK_WAIT)
    return {"full": report.full, "generation": report.generation, "filesAdded": report.files_added,
            "filesUpdated": report.files_updated, "filesDeleted": report.files_deleted,
            "filesUnchanged": report.files_unchanged, "articlesIndexed": report.articles_indexed,
            "problemCount": len(report.problems),
            "problems": [{"path": p.path, "reason": p.reason} for p in report.problems[:MAX_PROBLEMS]]}


def process_next(store: st.TaskStore, index_dir: Path | str, corpus_dir: Path | str) -> list[st.Task]:
    """Claim, run and finish the next batch; returns its tasks as finished ([] if none was waiting).

    A failure fails every task of the batch with the error's JSON shape. An
    interruption (KeyboardInterrupt, SystemExit: SIGTERM, Ctrl-C) puts the
    batch back as it was, not counted as an attempt, and is re-raised."""
    index_dir, corpus_dir = Path(index_dir), Path(corpus_dir).absolute()
    tasks = store.claim_batch()
    if not tasks:
        return []
    try:
        STOP.interruptible = True
        if STOP.requested:
            raise SystemExit(0)
        _check_corpus(corpus_dir)
        if tasks[0].type in st.DOCUMENT_TYPES:
            details = _run_documents(tasks, index_dir, corpus_dir)
        else:
            details = {tasks[0].uid: _run_build(tasks[0], index_dir, corpus_dir)}
    except (KeyboardInterrupt, SystemExit):
        STOP.interruptible = False
        store.release([t.uid for t in tasks])
        raise
    except Exception as e:      # noqa: BLE001 - any failure is the tasks' error, reported to their clients
        STOP.interruptible = False
        error = error_of(e)
        for task in tasks:
            store.finish(task.uid, error=error)
    else:
        STOP.interruptible = False
        for task in tasks:
            store.finish(task.uid, details={**task.details, **details[task.uid]})
    finally:
        STOP.interruptible = False
    return [store.get(t.uid, payload=False) for t in tasks]


def run(index_dir: Path | str, corpus_dir: Path | str, *, poll: float = 0.2, once: bool = False,
        should_stop: Callable[[], bool] = lambda: False, log: Callable[[str], None] | None = None) -> int:
    """Process tasks until ``should_stop()`` (checked between batches), or,
    with ``once``, until none is waiting. Returns the number of tasks finished.
    Raises ProcessorRunning if another processor holds the index."""
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    done = 0
    with st.processor_lock(index_dir), st.TaskStore(index_dir) as store:
        log(f"vnsearch tasks: processing tasks of {Path(index_dir).absolute()} (pid {os.getpid()})")
        while not should_stop() and not STOP.requested:
            finished = process_next(store, index_dir, corpus_dir)
            for task in finished:
                log(f"vnsearch tasks: task {task.uid} {task.type} {task.status}"
                    + (f": {task.error['code']}: {task.error['message']}" if task.error else ""))
            done += len(finished)
            if not finished:
                if once:
                    break
                time.sleep(poll)
    return done
