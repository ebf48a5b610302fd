"""Building with several processes: Whoosh segments written by workers.

A build's time goes to segmentation and to the per-token and per-posting
work of indexing, so one process uses one core. Here the corpus's accepted
articles are split into contiguous ranges, balanced by characters; each
worker process (forked) re-reads the corpus files from the first file of its
range and indexes its articles with a :class:`~indexer.index.inverter.SegmentInverter`
(postings as arrays, written through the codec), writing a part segment every
:data:`SEGMENT_DOCS` articles, merges its parts into one segment and sends
back Whoosh's ``Segment`` object.
The parent, which holds the build lock and the generation's writer, commits
one TOC listing those segments after any existing ones, in range order:
document numbers follow corpus order exactly as in a one-process build, and
every term's postings hold the same documents, weights, positions and
characters. Only the split into segments differs (a full one-process build
ends with one segment); searches read postings and field lengths across
segments (:mod:`indexer.index.postings`).

Whoosh's own ``MpWriter`` is not used: it hands documents to workers in
batches taken by whichever worker is free (document order then depends on
timing), keeps the parent's codec and lock conventions out of the workers,
and waits for results with fixed timeouts.

Failure handling: a worker that raises sends its exception back, and the
parent re-raises it; a worker that dies without a word (killed, out of memory)
is an error too. Either way, and on KeyboardInterrupt in the parent, every
worker is terminated and joined before the exception leaves this module, so
the caller can cancel the writer and remove the generation with nothing still
writing into it. Workers ignore SIGINT (the parent decides), die with the
parent (``PR_SET_PDEATHSIG``) and close their inherited copy of the build
lock's descriptor, so a killed build never leaves a worker holding the lock.
"""

from __future__ import annotations

import bisect
import gc
import multiprocessing
import multiprocessing.connection
import os
import random
import signal
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from indexer.index import generations
from indexer.index.inverter import SegmentInverter
from indexer.index.merge import merge_segments
from indexer.index.schema import make_schema
from indexer.ingest import Article, SourceFile, read_articles

#: Below this many articles a build stays in one process (no fork, one segment).
PARALLEL_MIN_ARTICLES = 200
#: A worker writes a part segment after this many articles (or
#: ``VNSEARCH_SEGMENT_DOCS``): their postings are held in memory until then.
#: At its end it merges its parts into one segment (:mod:`indexer.index.merge`):
#: each query reads every segment's lists, so fewer segments search faster.
SEGMENT_DOCS = 16_000


def segment_docs() -> int:
    """Articles per segment of a worker: ``VNSEARCH_SEGMENT_DOCS`` if set, else SEGMENT_DOCS."""
    env = os.environ.get("VNSEARCH_SEGMENT_DOCS", "").strip()
    return _positive("VNSEARCH_SEGMENT_DOCS", env, "number of articles") if env else SEGMENT_DOCS


def _positive(name: str, value: str, what: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a positive {what}, not {value!r}")
    return int(value)


def check_environment() -> None:
    """ValueError naming the variable if ``VNSEARCH_BUILD_WORKERS`` or ``VNSEARCH_SEGMENT_DOCS`` is not a positive integer."""
    default_workers()
    segment_docs()


def default_workers() -> int:
    """Worker processes for a large build: the cores this process may use,
    or ``VNSEARCH_BUILD_WORKERS`` if set (1 = one process)."""
    env = os.environ.get("VNSEARCH_BUILD_WORKERS", "").strip()
    if env:
        return _positive("VNSEARCH_BUILD_WORKERS", env, "number of processes")
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:     # not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class Scan:
    """The accepted articles of a corpus, in build order, without their text:
    what the workers need to find their range again."""
    ids: list[str] = field(default_factory=list)          # accepted article ids, in order
    sizes: list[int] = field(default_factory=list)        # chars of title + text, for balancing
    skipped: set[int] = field(default_factory=set)        # raw ordinals of duplicate-id articles
    file_raw_start: list[int] = field(default_factory=list)   # per file: first raw ordinal
    file_accepted_start: list[int] = field(default_factory=list)   # per file: first accepted index


class WorkerDied(RuntimeError):
    """A build worker ended without reporting (killed, or out of memory)."""


class CorpusChanged(RuntimeError):
    """The corpus files changed while the build was reading them."""


def split_ranges(sizes: Sequence[int], parts: int) -> list[tuple[int, int]]:
    """``parts`` contiguous, non-empty ranges of indices into ``sizes`` whose
    sums are as even as a contiguous split allows (greedy on the running sum)."""
    n = len(sizes)
    parts = max(1, min(parts, n))
    total = sum(sizes) or n
    ranges, lo, running = [], 0, 0
    cuts = [total * k / parts for k in range(1, parts)]
    cumulative = []
    for s in sizes:
        running += s
        cumulative.append(running)
    for cut in cuts:
        hi = bisect.bisect_left(cumulative, cut, lo) + 1     # first prefix reaching the cut
        hi = min(max(hi, lo + 1), n - (parts - len(ranges) - 1))
        ranges.append((lo, hi))
        lo = hi
    ranges.append((lo, n))
    return ranges


def _range_articles(files: list[SourceFile], scan: Scan, lo: int, hi: int) -> Iterator[Article]:
    """The accepted articles ``lo`` to ``hi`` (exclusive), re-read from the files,
    starting at the file that holds article ``lo``."""
    fi = max(bisect.bisect_right(scan.file_accepted_start, lo) - 1, 0)
    raw, j = scan.file_raw_start[fi], scan.file_accepted_start[fi]
    problems: list = []        # the scan reported them already
    for source in files[fi:]:
        for article in read_articles(source, problems):
            ordinal, raw = raw, raw + 1
            if ordinal in scan.skipped:
                continue
            if j >= hi:
                return
            if j >= lo:
                if j >= len(scan.ids) or article.id != scan.ids[j]:
                    raise CorpusChanged(f"{source.relpath}: the corpus changed during the build "
                                        f"(expected article {scan.ids[j] if j < len(scan.ids) else None!r}, "
                                        f"read {article.id!r}); run the build again")
                yield article
            j += 1
    if j < hi:
        raise CorpusChanged(f"the corpus changed during the build ({hi - j} articles fewer); run the build again")


def _detach_from_parent(index_dir: Path) -> None:
    """In a worker: die with the parent, leave SIGINT to it, and close the
    inherited descriptor of the build lock (the lock is the parent's)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)     # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    lock = os.path.realpath(Path(index_dir) / generations.LOCK_FILE)
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        fds = []
    for fd in fds:
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == lock:
                os.close(int(fd))
        except OSError:
            pass


def _worker(k: int, parent: int, index_dir: Path, gen: Path, files: list[SourceFile], scan: Scan,
            lo: int, hi: int, make_fields: Callable[[Article], dict],
            conn: multiprocessing.connection.Connection, counts, per_segment: int) -> None:
    try:
        _detach_from_parent(index_dir)
        if os.getppid() != parent:          # the parent died before the death signal was armed
            os._exit(1)
        random.seed()                       # fresh after the fork, whoever draws from it
        # Millions of live objects: collections would cost a fifth of the time;
        # the worker collects after each segment instead. What came from the parent is frozen out
        # of every collection (finalizing its garbage here could, say, flush a
        # buffer of the parent's into a shared file descriptor).
        gc.freeze()
        gc.disable()
        schema = make_schema()
        inverter = SegmentInverter(generations.storage(gen), schema)
        segments, n = [], 0
        for article in _range_articles(files, scan, lo, hi):
            inverter.add(make_fields(article))
            n += 1
            if not n % 16:
                counts[k] = n
            if inverter.docnum >= per_segment:
                segments.append(inverter.finish())
                gc.collect()
                inverter = SegmentInverter(generations.storage(gen), schema)
        counts[k] = n
        if inverter.docnum or not segments:
            segments.append(inverter.finish())
        del inverter
        gc.collect()
        conn.send(("ok", [merge_segments(generations.storage(gen), schema, segments)], n))
    except BaseException as e:              # noqa: BLE001 - reported to the parent, which re-raises
        text = traceback.format_exc()
        try:
            conn.send(("error", e, text))
        except Exception:                   # unpicklable exception
            conn.send(("error", RuntimeError(f"{type(e).__name__}: {e}"), text))
    finally:
        conn.close()


def index_ranges(index_dir: Path, gen: Path, files: list[SourceFile], scan: Scan, workers: int,
                 make_fields: Callable[[Article], dict], bar=None) -> list:
    """Index the scanned articles with ``workers`` processes; returns their
    finished segments in corpus order (to be committed by the parent's writer)."""
    ctx = multiprocessing.get_context("fork")
    per_segment = segment_docs()
    ranges = split_ranges(scan.sizes, workers)
    counts = ctx.Array("q", len(ranges), lock=False)
    procs: list[tuple[multiprocessing.Process, multiprocessing.connection.Connection]] = []
    results: list = [None] * len(ranges)
    try:
        for k, (lo, hi) in enumerate(ranges):
            recv, send = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_worker, name=f"vnsearch-build-{k}", daemon=True,
                            args=(k, os.getpid(), index_dir, gen, files, scan, lo, hi, make_fields,
                                  send, counts, per_segment))
            p.start()
            send.close()
            procs.append((p, recv))
        pending = dict(enumerate(procs))
        shown = 0
        while pending:
            waitables = [c for _, c in pending.values()] + [p.sentinel for p, _ in pending.values()]
            ready = set(multiprocessing.connection.wait(waitables, timeout=0.5))
            if bar is not None:
                done = sum(counts)
                if done > shown:
                    bar.update(done - shown)
                    shown = done
                    if done == len(scan.ids):   # all added; the workers now write their postings out
                        bar.set_postfix_str("writing the segments")
            for k, (p, conn) in list(pending.items()):
                if conn not in ready and p.sentinel not in ready:
                    continue
                try:
                    message = conn.recv()
                except EOFError:
                    p.join()
                    raise WorkerDied(f"build worker {k} ended without a result "
                                     f"(exit code {p.exitcode})") from None
                if message[0] == "error":
                    _, exc, text = message
                    raise exc from WorkerDied(f"in build worker {k}:\n{text}")
                _, segments, n = message
                lo, hi = ranges[k]
                if n != hi - lo:
                    raise CorpusChanged(f"build worker {k} indexed {n} articles, expected {hi - lo}")
                results[k] = segments
                del pending[k]
        return [segment for segments in results for segment in segments]
    finally:
        for p, _ in procs:
            if p.is_alive():
                p.terminate()
        for p, conn in procs:
            p.join()
            conn.close()
