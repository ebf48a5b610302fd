"""Building with several processes: one Whoosh segment per worker.

Whoosh spends a build in Python, per token and per posting (segmentation,
token streams, the posting pool, then writing the postings out at commit), so
one process uses one core. Here the corpus's accepted articles are split into
contiguous ranges, balanced by characters; each worker process (forked)
re-reads the corpus files from the first file of its range, indexes its
articles into a segment of its own in the unpublished generation, finishes
that segment (postings written, files closed) and sends back Whoosh's
``Segment`` object. The parent, which holds the build lock and the generation's
writer, commits one TOC listing those segments after any existing ones, in
range order: document numbers follow corpus order exactly as in a one-process
build, and every term's postings hold the same documents, weights, positions
and characters. Only the split into segments differs (one per worker; a full
one-process build ends with one segment); searches read postings and field
lengths across segments (:mod:`indexer.index.postings`).

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
import copy
import functools
import gc
import heapq
import multiprocessing
import multiprocessing.connection
import os
import pickle
import random
import signal
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from whoosh import formats

from indexer.analysis import analyze, analyzer_kind
from indexer.index import generations, whoosh_internals
from indexer.ingest import Article, SourceFile, read_articles
from indexer.analysis import fold

#: Below this many articles a build stays in one process (no fork, one segment).
PARALLEL_MIN_ARTICLES = 200


def default_workers() -> int:
    """Worker processes for a large build: the cores this process may use,
    or ``VNSEARCH_BUILD_WORKERS`` if set (1 = one process)."""
    env = os.environ.get("VNSEARCH_BUILD_WORKERS", "").strip()
    if env:
        return max(1, int(env))
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


# --------------------------------------------------------------------------- the workers' writer
#
# Two shortcuts through Whoosh's per-token and per-posting work, used only by
# the workers' writers (whose schema is never written: the parent's writer
# writes the TOC). Both produce exactly what Whoosh's own path produces; the
# tests compare a parallel build with a one-process build, which takes
# Whoosh's path, term by term and posting by posting.

_FORMS: dict[bool, dict[str, str]] = {False: {}, True: {}}     # token text -> term (exact, folded)
_FORMS_MAX = 500_000


def _fast_index(field, folded: bool, value: str, **kwargs) -> Iterator[tuple[bytes, int, float, list[int]]]:
    """``field.index(value)`` for vnsearch's analyzers: the same terms,
    frequencies and weights, built from the cached analysis without Whoosh's
    token stream (a Token object through three generators per token, each term
    lowercased and folded again at each occurrence). Each posting's value is
    its list of positions, which vnsearch's codec takes as it is
    (:class:`indexer.index.codec.VnFieldWriter`): not encoded by Whoosh only to
    be decoded by the codec."""
    analysis = analyze(value)
    forms = _FORMS[folded]
    if len(forms) > _FORMS_MAX:
        forms.clear()
    words_at: dict[int, list] = {}
    for word in analysis.words:
        words_at.setdefault(word.first, []).append(word)
    seen: dict[str, list[int]] = {}
    for i, syl in enumerate(analysis.syllables):
        for token in [syl, *words_at.get(i, ())] if i in words_at else (syl,):
            term = forms.get(token.text)
            if term is None:
                term = token.text.lower()
                if folded:
                    term = fold(term)
                forms[token.text] = term
            occurrences = seen.get(term)
            if occurrences is None:
                seen[term] = [i]
            else:
                occurrences.append(i)
    boost = field.format.field_boost
    for term, occurrences in seen.items():
        yield term.encode("utf-8"), len(occurrences), float(len(occurrences)) * boost, occurrences


def fast_schema(schema):
    """A copy of ``schema`` whose vnsearch text fields index through :func:`_fast_index`."""
    fast, fields = whoosh_internals.copy_schema_fields(schema)
    for name, spec in list(fields.items()):
        kind = analyzer_kind(getattr(spec, "analyzer", None))
        if (kind is None or not spec.indexed or spec.vector or spec.separate_spelling()
                or type(spec.format) not in (formats.Positions, formats.Characters)):
            continue
        clone = copy.copy(spec)
        clone.index = functools.partial(_fast_index, clone, kind == "folded")
        fields[name] = clone
    return fast


class TermPool:
    """The workers' posting pool: Whoosh's ``PostingPool`` interface (``add``,
    ``iter_postings``, ``cleanup``), postings grouped by term as they arrive.

    Whoosh's pool keeps one flat list of (field, term, doc, weight, value)
    tuples, sorts it whole and, past its memory limit, writes it out one
    pickled tuple at a time, to merge the runs tuple by tuple at the end. Here
    a writer's documents arrive in order and hold each term once, so a term's
    postings are already in order: only the distinct terms are sorted, a run
    is written one pickled term (with all its postings) at a time, and runs
    (written in document order) are merged by term, concatenated in run order.
    ``iter_postings`` yields exactly the sequence Whoosh's sorted pool yields.
    """

    POSTING_BYTES = 230          # a posting tuple and its objects in memory, roughly

    def __init__(self, tempstore, limitmb: int) -> None:
        self.tempstore = tempstore
        self.limit = max(1, limitmb * 1024 * 1024 // self.POSTING_BYTES)
        self.fields: dict[str, dict[bytes, list]] = {}
        self.fieldnames: set[str] = set()
        self.count = 0
        self.runs: list[str] = []

    def add(self, item: tuple) -> None:
        terms = self.fields.get(item[0])
        if terms is None:
            terms = self.fields[item[0]] = {}
            self.fieldnames.add(item[0])
        postings = terms.get(item[1])
        if postings is None:
            terms[item[1]] = [item]
        else:
            postings.append(item)
        self.count += 1
        if self.count >= self.limit:
            self.save()

    def _groups(self) -> Iterator[tuple[str, bytes, list]]:
        for fieldname in sorted(self.fields):
            terms = self.fields[fieldname]
            for tbytes in sorted(terms):
                yield fieldname, tbytes, terms[tbytes]

    def save(self) -> None:
        if not self.count:
            return
        name = f"run{len(self.runs)}-{os.getpid()}.run"
        with self.tempstore.create_file(name).raw_file() as f:
            dump = pickle.dump
            for group in self._groups():
                dump(group, f, pickle.HIGHEST_PROTOCOL)
        self.runs.append(name)
        self.fields, self.count = {}, 0
        if not gc.isenabled():      # a worker: collect any cycles now, while little is alive
            gc.collect()

    def _read_run(self, name: str) -> Iterator[tuple[str, bytes, list]]:
        with self.tempstore.open_file(name).raw_file() as f:
            load = pickle.load
            while True:
                try:
                    yield load(f)
                except EOFError:
                    break
        self.tempstore.delete_file(name)

    def iter_postings(self) -> Iterator[tuple]:
        sources = [self._read_run(name) for name in self.runs] + [self._groups()]
        if len(sources) == 1:
            groups = sources[0]
        else:   # (field, term, run number): equal terms come out in run (= document) order
            groups = ((fieldname, tbytes, postings) for fieldname, tbytes, _, postings in
                      heapq.merge(*(((f, t, k, p) for f, t, p in source) for k, source in enumerate(sources))))
        for _, _, postings in groups:
            yield from postings

    def cleanup(self) -> None:
        for name in self.runs:
            try:
                self.tempstore.delete_file(name)
            except OSError:
                pass
        self.runs = []


def _flush_segment(writer) -> None:
    """Whoosh's segment flush, with the field lengths read from memory."""
    writer.perdocwriter.close()
    pdr = writer.per_document_reader() if writer.codec.length_stats else None
    writer.fieldwriter.add_postings(writer.schema, whoosh_internals.ColumnLengths(pdr) if pdr else None, writer.pool.iter_postings())
    writer.fieldwriter.close()
    if pdr:
        pdr.close()


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
            lo: int, hi: int, make_fields: Callable[[Article], dict], limitmb: int,
            conn: multiprocessing.connection.Connection, counts) -> None:
    try:
        _detach_from_parent(index_dir)
        if os.getppid() != parent:          # the parent died before the death signal was armed
            os._exit(1)
        random.seed()                       # fresh after the fork, whoever draws from it
        # Millions of live postings: collections would cost a fifth of the time;
        # TermPool.save collects instead. What came from the parent is frozen out
        # of every collection (finalizing its garbage here could, say, flush a
        # buffer of the parent's into a shared file descriptor).
        gc.freeze()
        gc.disable()
        writer = generations.new_writer(gen, compound=False, limitmb=limitmb)
        whoosh_internals.prepare_worker_writer(
            writer, f"{writer.indexname}.w{k}.tmp", lambda tmp: TermPool(tmp, limitmb),   # runs of its own
            fast_schema(writer.schema), _flush_segment)
        n = 0
        for article in _range_articles(files, scan, lo, hi):
            writer.add_document(**make_fields(article))
            n += 1
            if not n % 16:
                counts[k] = n
        counts[k] = n
        segment = whoosh_internals.finalize_segment(writer)
        conn.send(("ok", segment, n))
    except BaseException as e:              # noqa: BLE001 - reported to the parent, which re-raises
        text = traceback.format_exc()
        try:
            conn.send(("error", e, text))
        except Exception:                   # unpicklable exception
            conn.send(("error", RuntimeError(f"{type(e).__name__}: {e}"), text))
    finally:
        conn.close()


def index_ranges(index_dir: Path, gen: Path, files: list[SourceFile], scan: Scan, workers: int,
                 make_fields: Callable[[Article], dict], limitmb: int, bar=None) -> list:
    """Index the scanned articles with ``workers`` processes; returns their
    finished segments in corpus order (to be committed by the parent's writer)."""
    ctx = multiprocessing.get_context("fork")
    ranges = split_ranges(scan.sizes, workers)
    counts = ctx.Array("q", len(ranges), lock=False)
    procs: list[tuple[multiprocessing.Process, multiprocessing.connection.Connection]] = []
    results: list = [None] * len(ranges)
    try:
        for k, (lo, hi) in enumerate(ranges):
            recv, send = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_worker, name=f"vnsearch-build-{k}", daemon=True,
                            args=(k, os.getpid(), index_dir, gen, files, scan, lo, hi, make_fields,
                                  limitmb, send, counts))
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
                _, segment, n = message
                lo, hi = ranges[k]
                if n != hi - lo:
                    raise CorpusChanged(f"build worker {k} indexed {n} articles, expected {hi - lo}")
                results[k] = segment
                del pending[k]
        return results
    finally:
        for p, _ in procs:
            if p.is_alive():
                p.terminate()
        for p, conn in procs:
            p.join()
            conn.close()
