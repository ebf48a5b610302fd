"""The task queue: one SQLite database beside the index (``<index_dir>/tasks.sqlite3``).

A task is a write to the index, recorded durably (WAL, ``synchronous=FULL``:
committed means on disk) before the client hears ``202 Accepted``. Web workers
only ever insert tasks and read them; the one task processor
(:mod:`indexer.tasks.processor`) claims and finishes them. Every change of
state is one transaction, so a reader never sees half of one.

Statuses: ``enqueued`` -> ``processing`` -> ``succeeded`` | ``failed``. A task
found ``processing`` when the processor claims work was interrupted (the
processor died mid-task: only one runs, see :func:`processor_lock`): it is
retried alone, or failed once it has been attempted :data:`MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

DB_FILE = "tasks.sqlite3"
LOCK_FILE = "tasks.lock"

ADD = "documentAdditionOrUpdate"      # POST/PUT of articles (add or replace)
DELETE = "documentDeletion"
REINDEX = "reindex"                   # bring the index up to date with the corpus directory
REBUILD = "fullRebuild"               # a fresh generation from the corpus directory
TYPES = (ADD, DELETE, REINDEX, REBUILD)
DOCUMENT_TYPES = (ADD, DELETE)        # batched together into one commit

ENQUEUED, PROCESSING, SUCCEEDED, FAILED = "enqueued", "processing", "succeeded", "failed"
STATUSES = (ENQUEUED, PROCESSING, SUCCEEDED, FAILED)

MAX_ATTEMPTS = 3          # a task interrupted this many times is failed, not retried again
MAX_BATCH_ARTICLES = 50_000   # consecutive document tasks batched until they hold this many articles
MAX_LIST_LIMIT = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    uid INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    status TEXT NOT NULL,
    payload TEXT NOT NULL,
    details TEXT NOT NULL,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0,
    enqueued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status, uid);
"""


@dataclass(frozen=True)
class Task:
    """One task as stored. ``payload`` is what the processor needs (articles,
    ids, ``full``); ``details`` what clients see; ``error`` is
    ``{"code", "message"}`` for a failed task."""
    uid: int
    type: str
    status: str
    payload: dict
    details: dict
    error: dict | None
    attempts: int
    enqueued_at: str
    started_at: str | None
    finished_at: str | None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, (parse_time(self.finished_at) - parse_time(self.started_at)).total_seconds())


def now() -> str:
    """The current UTC time in RFC 3339 with microseconds and ``Z`` (what Meilisearch's clients parse)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def iso_duration(seconds: float | None) -> str | None:
    """ISO 8601 duration of a number of seconds: ``PT0.412S``, ``PT83.5S``."""
    if seconds is None:
        return None
    return f"PT{seconds:.3f}S"


def db_path(index_dir: Path | str) -> Path:
    return Path(index_dir) / DB_FILE


class TaskStore:
    """The tasks of one index directory. Open one per process (or thread):
    a ``sqlite3`` connection is not shared across threads."""

    def __init__(self, index_dir: Path | str) -> None:
        path = db_path(index_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "TaskStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- writing ----------------------------------------------------------------
    def enqueue(self, type_: str, payload: dict, details: dict, size: int = 0) -> Task:
        """Record a new task durably; ``size`` is its number of articles (for batching)."""
        if type_ not in TYPES:
            raise ValueError(f"unknown task type {type_!r}")
        with self._transaction() as db:
            cur = db.execute(
                "INSERT INTO tasks (type, status, payload, details, size, enqueued_at) VALUES (?, ?, ?, ?, ?, ?)",
                (type_, ENQUEUED, json.dumps(payload, ensure_ascii=False), json.dumps(details, ensure_ascii=False),
                 size, now()))
            uid = cur.lastrowid
        return self.get(uid, payload=False)

    def claim_batch(self, max_articles: int = MAX_BATCH_ARTICLES) -> list[Task]:
        """Mark the next tasks ``processing`` (one transaction) and return them, in order.

        The oldest unfinished task comes first. An interrupted one (found
        ``processing``) is failed if it was attempted ``MAX_ATTEMPTS`` times
        already, else retried alone (so one task that kills the processor
        cannot take others down with it). Otherwise consecutive document tasks
        (additions and deletions) form one batch of at most ``max_articles``
        articles (at least one task); a reindex or rebuild runs alone.
        """
        with self._transaction() as db:
            while True:
                rows = db.execute("SELECT uid, type, status, attempts, size FROM tasks "
                                  "WHERE status IN (?, ?) ORDER BY uid LIMIT 1000",
                                  (ENQUEUED, PROCESSING)).fetchall()
                if not rows:
                    return []
                uid, type_, status, attempts, _size = rows[0]
                if status == PROCESSING and attempts >= MAX_ATTEMPTS:
                    db.execute("UPDATE tasks SET status = ?, finished_at = ?, error = ? WHERE uid = ?",
                               (FAILED, now(), json.dumps({
                                   "code": "task_interrupted",
                                   "message": f"The task processor stopped during this task {attempts} times; "
                                              "it is not retried again."}), uid))
                    continue
                chosen = [uid]
                if status == ENQUEUED and type_ in DOCUMENT_TYPES:
                    total = rows[0][4]
                    for next_uid, next_type, next_status, _, next_size in rows[1:]:
                        if next_status != ENQUEUED or next_type not in DOCUMENT_TYPES:
                            break
                        if total + next_size > max_articles:
                            break
                        chosen.append(next_uid)
                        total += next_size
                stamp = now()
                db.executemany("UPDATE tasks SET status = ?, attempts = attempts + 1, started_at = ?, "
                               "finished_at = NULL, error = NULL WHERE uid = ?",
                               [(PROCESSING, stamp, u) for u in chosen])
                break
        return [self.get(u) for u in chosen]

    def finish(self, uid: int, *, details: dict | None = None, error: dict | None = None) -> None:
        """Mark a processing task succeeded (``error`` None) or failed."""
        status = FAILED if error is not None else SUCCEEDED
        with self._transaction() as db:
            if details is None:
                db.execute("UPDATE tasks SET status = ?, finished_at = ?, error = ? WHERE uid = ?",
                           (status, now(), json.dumps(error) if error else None, uid))
            else:
                db.execute("UPDATE tasks SET status = ?, finished_at = ?, error = ?, details = ? WHERE uid = ?",
                           (status, now(), json.dumps(error) if error else None,
                            json.dumps(details, ensure_ascii=False), uid))

    def release(self, uids: list[int]) -> None:
        """Put claimed tasks back (``enqueued``, the attempt not counted): the
        processor was asked to stop before finishing them."""
        with self._transaction() as db:
            db.executemany("UPDATE tasks SET status = ?, attempts = MAX(attempts - 1, 0), started_at = NULL "
                           "WHERE uid = ? AND status = ?", [(ENQUEUED, u, PROCESSING) for u in uids])

    # -- reading ----------------------------------------------------------------
    _COLUMNS = "uid, type, status, payload, details, error, attempts, enqueued_at, started_at, finished_at"

    @staticmethod
    def _task(row, with_payload: bool = True) -> Task:
        uid, type_, status, payload, details, error, attempts, enq, start, fin = row
        return Task(uid=uid, type=type_, status=status, payload=json.loads(payload) if with_payload else {},
                    details=json.loads(details), error=json.loads(error) if error else None,
                    attempts=attempts, enqueued_at=enq, started_at=start, finished_at=fin)

    def get(self, uid: int, payload: bool = True) -> Task | None:
        """The task, or None; ``payload=False`` leaves its payload out (``{}``): what
        readers want (an addition's payload holds all its articles)."""
        cols = self._COLUMNS if payload else self._COLUMNS.replace("payload", "'{}'")
        row = self._db.execute(f"SELECT {cols} FROM tasks WHERE uid = ?", (uid,)).fetchone()
        return None if row is None else self._task(row)

    def list(self, *, statuses: tuple[str, ...] = (), types: tuple[str, ...] = (), limit: int = 20,
             from_uid: int | None = None) -> tuple[list[Task], int, int | None]:
        """Tasks newest first (their payloads left out): ``(tasks, total matching, next from)``."""
        where, args = [], []
        if statuses:
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            args += statuses
        if types:
            where.append(f"type IN ({', '.join('?' * len(types))})")
            args += types
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        total = self._db.execute(f"SELECT COUNT(*) FROM tasks {clause}", args).fetchone()[0]
        page_where = where + (["uid <= ?"] if from_uid is not None else [])
        page_args = args + ([from_uid] if from_uid is not None else [])
        page_clause = f"WHERE {' AND '.join(page_where)}" if page_where else ""
        cols = self._COLUMNS.replace("payload", "'{}'")
        rows = self._db.execute(f"SELECT {cols} FROM tasks {page_clause} ORDER BY uid DESC LIMIT ?",
                                (*page_args, limit + 1)).fetchall()
        tasks = [self._task(r) for r in rows[:limit]]
        nxt = rows[limit][0] if len(rows) > limit else None
        return tasks, total, nxt

    def last(self) -> Task | None:
        """The most recently enqueued task (without its payload), or None."""
        tasks, _, _ = self.list(limit=1)
        return tasks[0] if tasks else None

    def counts(self) -> dict[str, int]:
        """Number of tasks in each status."""
        found = dict(self._db.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall())
        return {s: found.get(s, 0) for s in STATUSES}

    def wait(self, uid: int, timeout: float, poll: float = 0.05) -> Task | None:
        """The task (without its payload) once finished, or as it is after ``timeout``
        seconds; None if there is no such task."""
        deadline = time.monotonic() + timeout
        while True:
            task = self.get(uid, payload=False)
            if task is None or task.status in (SUCCEEDED, FAILED) or time.monotonic() >= deadline:
                return task
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))


class ProcessorRunning(Exception):
    """Another task processor is running on this index."""


@contextmanager
def processor_lock(index_dir: Path | str) -> Iterator[None]:
    """Be the one task processor of ``index_dir`` (an flock, released by the
    kernel if the holder dies); raises ProcessorRunning if another holds it."""
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    fd = os.open(Path(index_dir) / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            raise ProcessorRunning(f"a task processor is already running on {index_dir}") from None
        yield
    finally:
        os.close(fd)
