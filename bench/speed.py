#!/usr/bin/env python3
"""Speed benchmark of vnsearch: build, segmentation, queries, serving, incremental add.

Usage (from the repository root, with the ``bench`` extra: ``pip install -e '.[bench]'``)::

    python bench/speed.py                                  # everything: 10k subset and the full corpus
    python bench/speed.py --limit 2000 --serve-seconds 10  # a small run
    python bench/speed.py --limit 10k 30k all --sections build,queries
    python bench/speed.py --sections segment
    python bench/speed.py --limit 2000 --keep              # keep the work dir (indexes, corpus, peers' indexes)
    python bench/speed.py --index-dir WORK/n2000/index --sections queries,serve   # reuse a kept index

Everything vnsearch does is measured through the library's public API or the
``vnsearch`` command, never its internals, so the figures follow whatever the
engine does at the time of the run.  Two peers run beside it in the same run,
on the same articles and the same queries: **SQLite FTS5** and **tantivy** (the
Rust engine, through its official Python bindings, the ``tantivy`` package of
the ``bench`` extra; never a dependency of vnsearch).

* **build** -- ``vnsearch --index-dir D index --full CORPUS`` in a subprocess
  (its peak RSS from GNU ``time``; the whole process tree's RSS is also
  sampled, since the build forks workers; CPU time / wall time shows how many
  cores it kept busy).  CORPUS is a directory in a temp dir holding the first N
  articles of ``--data`` as ``articles.jsonl`` (or a symlink to ``--data`` for
  the whole corpus): the layout ``POST /api/articles`` adds to.  Each peer
  loads the same files in a subprocess of its own, measured the same way:
  FTS5 (``tokenize='unicode61 remove_diacritics 2'``, columns ``title, body``,
  one transaction, then ``'optimize'``); tantivy (fields ``title`` and
  ``body``, stored, indexed with positions, through an analyzer registered as
  ``default_ascii_fold``: tantivy's default analyzer -- the simple tokenizer,
  tokens over 40 bytes removed, lowercase -- plus ASCII folding, which also
  folds đ to d; an index writer of ``TANTIVY_HEAP`` bytes and one indexing
  thread per usable core; one commit, then its merges waited for).
* **segment** -- chars/s of ``indexer.analysis.segment`` (``segment`` +
  ``to_pyvi_string``) against ``pyvi.ViTokenizer.tokenize`` on the same
  articles, interleaved, every output compared; then one long document at
  1/4, 1/2 and all of ``--long-chars`` (linear time shows as constant chars/s).
* **queries** -- a fixed, seeded mix drawn from the corpus itself (see
  :func:`make_query_mix`), the same mix at every corpus size.  Each query runs
  through ``SearchEngine.search(q, hits_per_page=10)`` (ranking + snippets),
  through FTS5 and through tantivy, interleaved (which system goes first
  rotates), after one untimed warm-up pass.  Both peers get the query as
  :func:`query_parts` splits it -- each ``"quoted phrase"`` a phrase, each
  other word a term, all OR-ed -- tokenised by their own analyzer.  FTS5:
  ``bm25()`` with the title weighted ``TITLE_WEIGHT`` (as vnsearch's
  ``title_weight``), ``highlight()`` of the title, ``snippet()`` of the body
  and a ``count(*)`` for the total, as the API returns one.  tantivy: each
  term a term query and each phrase a phrase query on ``title`` (boosted by
  ``TITLE_WEIGHT``) and on ``body``, all SHOULD in one boolean query (BM25,
  tantivy's default), the top 10 and the count from one search, the stored
  document of each hit, its title highlighted and a ``SnippetGenerator``
  snippet of its body.  p50/p95/p99 per shape, over the two phrase shapes
  (``phrases``) and over the mix (``all``), with vnsearch's ratio to each peer.
* **serve** -- ``vnsearch serve`` on loopback with ``--workers`` workers, a
  bounded closed-loop load (``wrk`` if installed, else threads of
  ``http.client``) of ``--connections`` connections for ``--serve-seconds``
  over the query mix's ``/api/search`` URLs: requests/s, p50/p99, errors and
  every worker's RSS (and PSS) after the load.  No peer: both are libraries.
* **incremental** -- one new article written into the corpus directory, then
  ``indexer.build`` (in-process, as ``POST /api/articles`` does) or ``vnsearch
  index`` (subprocess), until a separate, already open ``SearchEngine``
  (``refresh()`` + ``search``) finds it.  The peers beside it: FTS5's insert +
  commit, read by another connection; tantivy's ``add_document`` + ``commit``
  on an open writer, then a separately opened index ``reload()``-ed and
  searched until it finds the article.  The articles are removed again
  afterwards.

Every vnsearch figure of the build, queries and incremental tables is printed
with its ratio to each peer (vnsearch ÷ FTS5, vnsearch ÷ tantivy; in the JSON
lines as ``vs_fts5_<figure>`` and ``vs_tantivy_<figure>``).

**Targets** (issue 12's: 2 cores, the 102,045 articles, the whole mix with
snippets), each printed beside both peers' figures and ratios: full build
<= 300 s; index on disk <= 3x the text, the text being the corpus input (the
uncompressed JSON-lines bytes the build table reports as input MB); peak RSS of
the build <= 1.5 GB (1,536 MB as the RSS figures count, 1 MB = 1024 KiB), of
the process tree, since the build forks workers; query p95 <= 25 ms over the
whole mix and phrase p95 <= 40 ms over the ``phrases`` shapes (the quoted
``phrase`` and ``phrase/plain`` queries); >= 150 requests/s served with 0
errors; worker RSS <= 300 MB; an added article searchable <= 1 s (the slower of
its accented and plain query).  Below 100,000 documents a verdict is indicative
only, and the build is judged on its rate extrapolated to 102,045 articles.

Output: one table per section on stdout, each followed by its JSON lines
(``{"section", "system", "docs", ...}``), then the targets table;
``--json-out FILE`` appends the JSON lines to FILE.  Progress goes to stderr.
The work directory (temp, outside the repository) is removed unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import html
import hashlib
import http.client
import importlib.metadata
import importlib.util
import io
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, NamedTuple, Sequence

# Standard library only at import time: the peers' loaders run this module in a
# subprocess and must not carry pyvi's model in their RSS.  indexer and tantivy
# are imported where they are used.

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
DEFAULT_DATA = REPO.parent / "shared" / "data" / "vietnews" / "articles.jsonl.gz"
SECTIONS = ("segment", "build", "queries", "serve", "incremental", "filtered")
DEFAULT_SECTIONS = ("segment", "build", "queries", "serve", "incremental")
#: --sections filtered: each built corpus gets generated dates, topics and sources (vietnews has none)
GENERATED_TOPICS = ("Thời sự", "Thế giới", "Kinh doanh", "Giải trí", "Thể thao", "Pháp luật", "Giáo dục",
                    "Sức khỏe", "Đời sống", "Du lịch", "Khoa học", "Số hóa")
GENERATED_SOURCES = ("VnExpress", "Tuổi Trẻ", "Thanh Niên", "Dân Trí")
GENERATED_SPAN_S = 10 * 365 * 86400             # dates spread over 2015-01-01 + 10 years
DEFAULT_LIMITS = (10_000, None)   # --limit: the 10k subset and the whole corpus
PEERS = ("fts5", "tantivy")       # run beside vnsearch; every vnsearch figure gets a ratio to each
FTS5_TOKENIZE = "unicode61 remove_diacritics 2"
TITLE_WEIGHT = 1.0                # the peers' weight of the title (FTS5 bm25(), tantivy boost), as vnsearch's title_weight
TANTIVY_TOKENIZER = "default_ascii_fold"   # tantivy's "default" analyzer plus ASCII folding
TANTIVY_HEAP = 128_000_000        # the index writer's memory budget, all threads together (tantivy-py's default)
TANTIVY_SNIPPET_CHARS = 150       # tantivy's default snippet length (FTS5's snippet() is 24 tokens)
TANTIVY_TITLE_CHARS = 1000        # the title is highlighted whole
HITS = 10
MIX_SAMPLE_DOCS = 10_000          # the query mix is drawn from at most this many (first) articles
PROFILE_QUERIES = 20              # --profile: queries of the slowest shape run under cProfile
COMMON_TOP = 200                  # "common" syllables: the most frequent ones by document frequency
BASE_SHAPES = ("word-common", "word-rare", "words-2-3", "phrase", "headline")
MARK = ("<mark>", "</mark>")

_WORD = re.compile(r"\w+")
_QUOTED = re.compile(r'"([^"]*)"')


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


# ---------------------------------------------------------------------------
# Small statistics and table helpers
# ---------------------------------------------------------------------------

def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    xs = sorted(values)
    if not xs:
        return None
    k = (len(xs) - 1) * p / 100.0
    lo = math.floor(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def latency_summary(ms: Sequence[float]) -> dict:
    def r(x):
        return None if x is None else round(x, 2)
    return {"n": len(ms), "p50_ms": r(percentile(ms, 50)), "p95_ms": r(percentile(ms, 95)),
            "p99_ms": r(percentile(ms, 99)), "mean_ms": r(sum(ms) / len(ms)) if ms else None,
            "max_ms": r(max(ms)) if ms else None}


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b <= 0:
        return None
    return round(a / b, 2)


_UNIT = re.compile(r"(?<!_per)_(ms|s|mb)$")


def figure_name(key: str) -> str:
    """A record's key without its unit: ``wall_s`` → ``wall``, ``p95_ms`` →
    ``p95``, ``index_mb`` → ``index``; rates keep theirs (``docs_per_s``)."""
    return _UNIT.sub("", key)


def peer_ratios(rec: Mapping, peers: Mapping[str, Mapping | None], keys: Sequence[str]) -> dict:
    """``vs_<peer>_<figure>`` for each peer of PEERS and each key: ``rec[key]``
    divided by the peer's (the figure named by :func:`figure_name`: ``wall_s``
    gives ``vs_fts5_wall``); None where either is missing or the peer's is 0."""
    out = {}
    for peer in PEERS:
        other = peers.get(peer) or {}
        for key in keys:
            out[f"vs_{peer}_{figure_name(key)}"] = ratio(rec.get(key), other.get(key))
    return out


def fmt_ratio(x: float | None) -> str:
    """``x0.14``, ``x2.50``, ``x57.3``, ``x120``; ``-`` for no ratio."""
    if x is None:
        return "-"
    return f"x{x:.0f}" if x >= 100 else f"x{x:.1f}" if x >= 10 else f"x{x:.2f}"


def fmt(x, digits: int = 1) -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "NO"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if abs(x) >= 1000:
            return f"{x:,.0f}"
        return f"{x:.{digits}f}"
    return str(x)


def format_table(head: Sequence[str], rows: Sequence[Sequence[str]], left: Iterable[int] = (0, 1)) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    left = set(left)

    def line(cells):
        return "  ".join(str(c).ljust(w) if i in left else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(r) for r in rows)])


class Reporter:
    """Tables and JSON lines on stdout (and appended to --json-out)."""

    def __init__(self, json_out: Path | None = None, stream=None) -> None:
        self.records: list[dict] = []
        self.json_out = json_out
        self.stream = stream or sys.stdout

    def section(self, title: str, head: Sequence[str], rows: Sequence[Sequence[str]],
                records: Sequence[dict], left: Iterable[int] = (0, 1), note: str = "") -> None:
        print(f"\n## {title}\n", file=self.stream)
        if rows:
            print(format_table(head, rows, left), file=self.stream)
        if note:
            print(note, file=self.stream)
        print(file=self.stream)
        for rec in records:
            self.emit(rec)
        self.stream.flush()

    def emit(self, rec: dict) -> None:
        self.records.append(rec)
        line = json.dumps(rec, ensure_ascii=False)
        print(line, file=self.stream)
        if self.json_out:
            with open(self.json_out, "a", encoding="utf-8") as f:
                f.write(line + "\n")


# ---------------------------------------------------------------------------
# Machine, processes, memory
# ---------------------------------------------------------------------------

def _git(*args: str) -> str:
    try:
        out = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, timeout=20)
        return out.stdout.rstrip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine_info(argv: Sequence[str]) -> dict:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = _status_kb("/proc/meminfo", "MemTotal")
    dirty = [line[3:] for line in _git("status", "--porcelain", "--", "indexer", "webui").splitlines()]
    return {
        "section": "machine", "system": "host", "docs": None,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "cpu": cpu, "cores": os.cpu_count(),
        "mem_gb": round(mem_kb / 1024 / 1024, 1) if mem_kb else None,
        "os": platform.platform(), "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "tantivy": package_version("tantivy"),
        "git": _git("rev-parse", "--short", "HEAD").strip(), "engine_dirty": dirty,
        "loadavg": list(os.getloadavg()), "argv": list(argv),
    }


def package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _status_kb(path: str, key: str) -> int | None:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def rss_kb(pid: int) -> int | None:
    return _status_kb(f"/proc/{pid}/status", "VmRSS")


def hwm_kb(pid: int) -> int | None:
    return _status_kb(f"/proc/{pid}/status", "VmHWM")


def pss_kb(pid: int) -> int | None:
    return _status_kb(f"/proc/{pid}/smaps_rollup", "Pss")


def children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def descendants(pid: int) -> list[int]:
    kids, out, todo = children_map(), [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


class TreeRSSSampler(threading.Thread):
    """Peak of the summed RSS of a process and its descendants, sampled
    (without the process itself when ``include_root`` is false)."""

    def __init__(self, pid: int, interval: float = 0.25, include_root: bool = True) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.include_root = pid, interval, include_root
        self.peak_kb = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while True:
            pids = descendants(self.pid) + ([self.pid] if self.include_root else [])
            self.peak_kb = max(self.peak_kb, sum(rss_kb(p) or 0 for p in pids))
            if self._stop_event.wait(self.interval):
                return

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass
class Measured:
    returncode: int
    wall_s: float
    cpu_s: float
    maxrss_kb: int
    tree_peak_kb: int
    stdout: str
    stderr: str
    rss_source: str


GNU_TIME = "/usr/bin/time"


def run_measured(cmd: Sequence[str], workdir: Path, name: str, show_stderr: bool = False,
                 env: dict | None = None) -> Measured:
    """Run ``cmd`` to completion: wall time, CPU time (with its waited-for
    children), peak RSS, and the peak of its process tree's RSS (sampled).

    The peak RSS comes from GNU time (``/usr/bin/time -f %M``) when installed:
    Linux carries a process's RSS high-water mark across ``exec``, so the
    ``wait4`` figure of a child forked from this (large) process would include
    this process's own RSS at the fork.  Without GNU time, that ``wait4`` figure
    is reported (``rss_source: "wait4"``: an upper bound).
    stdout (and stderr unless ``show_stderr``) go to files in ``workdir``."""
    out_path, err_path = workdir / f"{name}.stdout", workdir / f"{name}.stderr"
    time_path = workdir / f"{name}.time"
    use_time = os.access(GNU_TIME, os.X_OK)
    argv = list(map(str, cmd))
    if use_time:
        argv = [GNU_TIME, "-f", "%M %U %S", "-o", str(time_path), *argv]
    with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=fo, stderr=None if show_stderr else fe,
                                env=env, stdin=subprocess.DEVNULL)
        sampler = TreeRSSSampler(proc.pid, include_root=not use_time)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:
            proc.kill()
            proc.wait()
            sampler.stop()
            raise
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.stop()
    maxrss, cpu, source = usage.ru_maxrss, usage.ru_utime + usage.ru_stime, "wait4"
    if use_time:
        try:
            kb, user, system = time_path.read_text().strip().splitlines()[-1].split()
            maxrss, cpu, source = int(kb), float(user) + float(system), "gnu-time"
        except (OSError, ValueError, IndexError):
            pass
    return Measured(proc.returncode, wall, cpu, maxrss, sampler.peak_kb,
                    out_path.read_text(errors="replace"), err_path.read_text(errors="replace"), source)


def vnsearch_cmd() -> list[str]:
    script = Path(sys.executable).with_name("vnsearch")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "webui.cli"]


def dir_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def index_bytes(index_dir: Path) -> int:
    """Size on disk of the generation searches use (``CURRENT``)."""
    current = Path(index_dir) / "CURRENT"
    return dir_bytes(current.resolve()) if current.exists() else dir_bytes(index_dir)


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------

class Doc(NamedTuple):
    id: str
    title: str
    text: str


def _open_text(path: Path):
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


def _corpus_files(corpus: Path) -> list[Path]:
    if corpus.is_file():
        return [corpus]
    found = []
    for root, dirs, files in os.walk(corpus, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root) / f for f in files
                  if not f.startswith(".") and (f.endswith(".jsonl") or f.endswith(".jsonl.gz"))]
    return sorted(found, key=lambda p: p.relative_to(corpus).as_posix())


def iter_docs(corpus: Path, limit: int | None = None) -> Iterator[Doc]:
    """The articles of the JSON-lines files under ``corpus`` (NFC), in file order."""
    n = 0
    for path in _corpus_files(Path(corpus)):
        with _open_text(path) as f:
            for line in f:
                if not line.strip():
                    continue
                if limit is not None and n >= limit:
                    return
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(rec, dict) or not rec.get("id"):
                    continue
                yield Doc(str(rec["id"]), nfc(rec.get("title") or ""), nfc(rec.get("text") or ""))
                n += 1


@dataclass
class Corpus:
    label: str          # "first 2000" / "all"
    dir: Path           # what the index is built from
    docs: int           # non-empty JSON lines
    bytes: int          # uncompressed JSON-lines bytes


def generated_fields(doc_id: str) -> dict:
    """A date, topic and source for an article that has none, fixed by its id
    (a hash): dates spread evenly over ten years, topics and outlets uniform."""
    h = int.from_bytes(hashlib.blake2b(doc_id.encode("utf-8"), digest_size=8).digest(), "little")
    when = datetime(2015, 1, 1) + timedelta(seconds=h % GENERATED_SPAN_S)
    return {"date": when.isoformat(), "topic": GENERATED_TOPICS[(h >> 40) % len(GENERATED_TOPICS)],
            "source": GENERATED_SOURCES[(h >> 52) % len(GENERATED_SOURCES)]}


def _with_generated(line: str) -> str:
    rec = json.loads(line)
    if isinstance(rec, dict) and rec.get("id") is not None:
        for key, value in generated_fields(str(rec["id"])).items():
            rec[key] = rec.get(key) or value
    return json.dumps(rec, ensure_ascii=False) + "\n"


def prepare_corpus(data: Path, limit: int | None, dest: Path, generate: bool = False) -> Corpus:
    """A corpus directory with the first ``limit`` articles of ``data`` as
    ``articles.jsonl`` (or, for ``None``, a symlink to ``data`` itself);
    ``generate``: each article without them gets :func:`generated_fields`
    (then the whole file is written, never a symlink)."""
    data = Path(data).resolve()
    if not (data.name.endswith(".jsonl") or data.name.endswith(".jsonl.gz")):
        raise ValueError(f"{data}: expected a .jsonl or .jsonl.gz file")
    dest.mkdir(parents=True, exist_ok=True)
    docs = size = 0
    if limit is None and not generate:
        os.symlink(data, dest / data.name)
        with _open_text(data) as f:
            for line in f:
                if line.strip():
                    docs += 1
                    size += len(line.encode("utf-8"))
        return Corpus("all", dest, docs, size)
    with _open_text(data) as f, open(dest / "articles.jsonl", "w", encoding="utf-8") as out:
        for line in f:
            if limit is not None and docs >= limit:
                break
            if not line.strip():
                continue
            line = _with_generated(line) if generate else line if line.endswith("\n") else line + "\n"
            out.write(line)
            docs += 1
            size += len(line.encode("utf-8"))
    return Corpus("all" if limit is None else f"first {limit}", dest, docs, size)


def existing_corpus(corpus_dir: Path) -> Corpus:
    docs = size = 0
    for path in _corpus_files(corpus_dir):
        with _open_text(path) as f:
            for line in f:
                if line.strip():
                    docs += 1
                    size += len(line.encode("utf-8"))
    return Corpus(str(corpus_dir), corpus_dir, docs, size)


# ---------------------------------------------------------------------------
# The peers: SQLite FTS5 and tantivy
# ---------------------------------------------------------------------------

def query_parts(query: str, analyze: Callable[[str], list[str]]) -> list[tuple[str, ...]]:
    """A vnsearch query as the peers run it: the tokens of each ``"quoted
    phrase"`` (in order, a phrase of one token being a term), then each other
    token once, in order; ``analyze`` is the peer's tokenizer.  Everything else
    (``-``, parentheses, ``*``) is read as text, so the parts are only ever
    OR-ed terms and phrases."""
    parts: list[tuple[str, ...]] = []

    def phrase(m: re.Match) -> str:
        toks = tuple(analyze(m.group(1)))
        if toks:
            parts.append(toks)
        return " "

    rest = _QUOTED.sub(phrase, nfc(query))
    seen: set[str] = set()
    for tok in analyze(rest):
        if tok not in seen:
            seen.add(tok)
            parts.append((tok,))
    return parts


def fts5_tokens(text: str) -> list[str]:
    """Words, lowercased: FTS5's tokenizer strips the marks itself."""
    return _WORD.findall(text.lower())


def fts5_load(db_path: Path, corpus: Path) -> int:
    """Load the articles under ``corpus`` into a new FTS5 table; returns the row count."""
    db = sqlite3.connect(str(db_path))
    try:
        db.execute(f"CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, title, body, "
                   f"tokenize='{FTS5_TOKENIZE}')")
        with db:
            db.executemany("INSERT INTO docs(id, title, body) VALUES (?, ?, ?)", iter_docs(corpus))
        with db:
            db.execute("INSERT INTO docs(docs) VALUES ('optimize')")
        return db.execute("SELECT count(*) FROM docs").fetchone()[0]
    finally:
        db.close()


def fts5_load_main(argv: Sequence[str]) -> int:
    """Entry point of the FTS5 build subprocess: ``DB CORPUS`` → prints the row count."""
    print(json.dumps({"docs": fts5_load(Path(argv[0]), Path(argv[1]))}))
    return 0


def fts5_expression(query: str) -> str:
    """An FTS5 MATCH expression for a vnsearch query: its :func:`query_parts`,
    each quoted (a phrase or a term), all OR-ed."""
    return " OR ".join('"' + " ".join(part) + '"' for part in query_parts(query, fts5_tokens))


class FTS5Search:
    """Top-k by bm25() (the title weighted TITLE_WEIGHT) with highlight()/snippet(), plus the total count."""

    SQL = ("SELECT id, highlight(docs, 1, ?, ?), snippet(docs, 2, ?, ?, '…', 24), "
           f"bm25(docs, 0.0, {TITLE_WEIGHT}, 1.0) AS score "
           "FROM docs WHERE docs MATCH ? ORDER BY score LIMIT ?")

    def __init__(self, db_path: Path) -> None:
        self.db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)

    def search(self, query: str, k: int = HITS) -> tuple[list[tuple], int]:
        expr = fts5_expression(query)
        if not expr:
            return [], 0
        rows = self.db.execute(self.SQL, (*MARK, *MARK, expr, k)).fetchall()
        total = self.db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (expr,)).fetchone()[0]
        return rows, total

    def close(self) -> None:
        self.db.close()


def tantivy_analyzer():
    """tantivy's ``default`` analyzer (simple tokenizer, tokens over 40 bytes
    removed, lowercase) followed by ASCII folding (``đ`` becomes ``d`` too)."""
    import tantivy
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .build())


def tantivy_schema():
    """``id`` (stored, one raw term), ``title`` and ``body`` (stored, with positions)."""
    import tantivy
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    for name in ("title", "body"):
        sb.add_text_field(name, stored=True, tokenizer_name=TANTIVY_TOKENIZER, index_option="position")
    return sb.build()


def open_tantivy(index_dir: Path, create: bool = False):
    """The tantivy index in ``index_dir`` (a new, empty one if ``create``), its
    analyzer registered (tantivy does not store analyzers with the index)."""
    import tantivy
    if create:
        Path(index_dir).mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(tantivy_schema(), path=str(index_dir), reuse=False)
    else:
        index = tantivy.Index.open(str(index_dir))
    index.register_tokenizer(TANTIVY_TOKENIZER, tantivy_analyzer())
    return index


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def tantivy_document(doc: Doc):
    import tantivy
    return tantivy.Document(id=doc.id, title=doc.title, body=doc.text)


def tantivy_load(index_dir: Path, corpus: Path, threads: int) -> dict:
    """Index the articles under ``corpus`` into a new tantivy index with
    ``threads`` indexing threads: one commit, then the merges it started are
    waited for.  Returns the document and segment counts."""
    index = open_tantivy(index_dir, create=True)
    writer = index.writer(heap_size=TANTIVY_HEAP, num_threads=threads)
    for doc in iter_docs(corpus):
        writer.add_document(tantivy_document(doc))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    searcher = index.searcher()
    return {"docs": searcher.num_docs, "segments": searcher.num_segments, "threads": threads}


def tantivy_load_main(argv: Sequence[str]) -> int:
    """Entry point of the tantivy build subprocess: ``INDEX_DIR CORPUS THREADS`` → prints the counts."""
    print(json.dumps(tantivy_load(Path(argv[0]), Path(argv[1]), int(argv[2]))))
    return 0


def tantivy_query(schema, parts: Sequence[tuple[str, ...]]):
    """One boolean query, every clause SHOULD: each part a term query (one
    token) or a phrase query on ``title`` (boosted by TITLE_WEIGHT) and on
    ``body``; None for no parts."""
    from tantivy import Occur, Query
    clauses = []
    for part in parts:
        for name, boost in (("title", TITLE_WEIGHT), ("body", 1.0)):
            q = (Query.term_query(schema, name, part[0]) if len(part) == 1
                 else Query.phrase_query(schema, name, list(part)))
            clauses.append((Occur.Should, q if boost == 1.0 else Query.boost_query(q, boost)))
    return Query.boolean_query(clauses) if clauses else None


class TantivySearch:
    """Top-k by tantivy's BM25 with the title highlighted and a snippet of the
    body (``SnippetGenerator``), plus the total count."""

    def __init__(self, index_dir: Path) -> None:
        self.index = open_tantivy(index_dir)
        self.schema = self.index.schema
        self.analyzer = tantivy_analyzer()

    def search(self, query: str, k: int = HITS) -> tuple[list[tuple], int]:
        from tantivy import SnippetGenerator
        q = tantivy_query(self.schema, query_parts(query, self.analyzer.analyze))
        if q is None:
            return [], 0
        searcher = self.index.searcher()
        result = searcher.search(q, k, count=True)
        rows = []
        if result.hits:
            titles = SnippetGenerator.create(searcher, q, self.schema, "title")
            titles.set_max_num_chars(TANTIVY_TITLE_CHARS)
            bodies = SnippetGenerator.create(searcher, q, self.schema, "body")
            bodies.set_max_num_chars(TANTIVY_SNIPPET_CHARS)
            for score, address in result.hits:
                doc = searcher.doc(address)
                title = titles.snippet_from_doc(doc).to_html() or html.escape(doc.get_first("title") or "")
                rows.append((doc.get_first("id"), title, bodies.snippet_from_doc(doc).to_html(), score))
        return rows, result.count

    def reload(self) -> None:
        """See the last commit (of any writer)."""
        self.index.reload()

    def close(self) -> None:
        self.index = None


# ---------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------

_REPORT_LINE = re.compile(r"(\d+) articles indexed.*?(\d+) skipped; ([\d.]+)s\s*$", re.M)


def build_vnsearch(corpus: Corpus, index_dir: Path, workdir: Path, name: str) -> dict:
    """``vnsearch --index-dir D index --full CORPUS`` in its own process."""
    cmd = [*vnsearch_cmd(), "--index-dir", index_dir, "index", "--full", corpus.dir]
    m = run_measured(cmd, workdir, name, show_stderr=sys.stderr.isatty())   # the progress bar
    if m.returncode != 0:
        raise RuntimeError(f"vnsearch index failed ({m.returncode}): {m.stderr[-2000:]}{m.stdout[-2000:]}")
    rep = _REPORT_LINE.search(m.stdout)
    docs = int(rep.group(1)) if rep else corpus.docs
    return {
        "section": "build", "system": "vnsearch", "docs": docs, "corpus": corpus.label,
        "wall_s": round(m.wall_s, 2), "build_s": float(rep.group(3)) if rep else None,
        "docs_per_s": round(docs / m.wall_s, 1), "mb_per_s": round(corpus.bytes / 1e6 / m.wall_s, 3),
        "input_mb": round(corpus.bytes / 1e6, 3), "cpu_s": round(m.cpu_s, 2),
        "cores_busy": round(m.cpu_s / m.wall_s, 2), "peak_rss_mb": round(m.maxrss_kb / 1024, 1),
        "tree_peak_rss_mb": round(m.tree_peak_kb / 1024, 1), "rss_source": m.rss_source,
        "index_mb": round(index_bytes(index_dir) / 1e6, 3),
        "skipped": int(rep.group(2)) if rep else None,
        "segments": segment_count(index_dir),
        "segment_docs": os.environ.get("VNSEARCH_SEGMENT_DOCS") or "default",
    }


def segment_count(index_dir: Path) -> int:
    """Segments of the index's current generation (each query reads every one's lists)."""
    from indexer.index import generations
    with generations.open_current(index_dir).searcher() as searcher:
        return len(searcher.reader().leaf_readers())


_SELF_IMPORT = ("import importlib.util, sys; "
                "s = importlib.util.spec_from_file_location('vnsearch_bench_speed', sys.argv[1]); "
                "m = importlib.util.module_from_spec(s); sys.modules[s.name] = m; s.loader.exec_module(m); "
                "sys.exit(getattr(m, sys.argv[2])(sys.argv[3:]))")


def _peer_build_record(system: str, corpus: Corpus, m: Measured, docs: int, index_size: int) -> dict:
    return {
        "section": "build", "system": system, "docs": docs, "corpus": corpus.label,
        "wall_s": round(m.wall_s, 2), "build_s": None,
        "docs_per_s": round(docs / m.wall_s, 1), "mb_per_s": round(corpus.bytes / 1e6 / m.wall_s, 3),
        "input_mb": round(corpus.bytes / 1e6, 3), "cpu_s": round(m.cpu_s, 2),
        "cores_busy": round(m.cpu_s / m.wall_s, 2), "peak_rss_mb": round(m.maxrss_kb / 1024, 1),
        "tree_peak_rss_mb": round(m.tree_peak_kb / 1024, 1), "rss_source": m.rss_source,
        "index_mb": round(index_size / 1e6, 3), "skipped": None,
    }


def build_fts5(corpus: Corpus, db_path: Path, workdir: Path, name: str) -> dict:
    """Load the same corpus into FTS5, in its own process."""
    m = run_measured([sys.executable, "-c", _SELF_IMPORT, __file__, "fts5_load_main", db_path, corpus.dir],
                     workdir, name)
    if m.returncode != 0:
        raise RuntimeError(f"FTS5 load failed ({m.returncode}): {m.stderr[-2000:]}")
    docs = json.loads(m.stdout.strip().splitlines()[-1])["docs"]
    return _peer_build_record("fts5", corpus, m, docs, db_path.stat().st_size)


def build_tantivy(corpus: Corpus, index_dir: Path, workdir: Path, name: str, threads: int | None = None) -> dict:
    """Index the same corpus with tantivy, in its own process, one indexing thread per usable core."""
    threads = threads or usable_cores()
    m = run_measured([sys.executable, "-c", _SELF_IMPORT, __file__, "tantivy_load_main", index_dir, corpus.dir,
                      threads], workdir, name)
    if m.returncode != 0:
        raise RuntimeError(f"tantivy load failed ({m.returncode}): {m.stderr[-2000:]}")
    out = json.loads(m.stdout.strip().splitlines()[-1])
    return {**_peer_build_record("tantivy", corpus, m, out["docs"], dir_bytes(index_dir)),
            "segments": out["segments"], "threads": out["threads"]}


BUILD_FIGURES = ("wall_s", "cpu_s", "docs_per_s", "mb_per_s", "cores_busy", "peak_rss_mb", "tree_peak_rss_mb",
                 "index_mb")


def add_build_ratios(records: Sequence[dict]) -> list[dict]:
    """Each vnsearch build record with ``vs_<peer>_<figure>`` for every figure
    of BUILD_FIGURES, against the peers' builds of the same corpus."""
    by = {(r["corpus"], r["system"]): r for r in records}
    return [{**r, **peer_ratios(r, {p: by.get((r["corpus"], p)) for p in PEERS}, BUILD_FIGURES)}
            if r["system"] == "vnsearch" else r for r in records]


def text_multiple(r: Mapping) -> float | None:
    """The index on disk as a multiple of the text (the corpus input bytes)."""
    return ratio(r["index_mb"], r["input_mb"])


def build_rows(records: Sequence[dict]) -> list[list[str]]:
    """One row per build; under each vnsearch row one ``÷ <peer>`` row per
    peer: vnsearch's figure divided by the peer's, column by column."""
    rows = []
    for r in records:
        rows.append([r["corpus"], r["system"], fmt(r["docs"]), fmt(r["wall_s"]), fmt(r["build_s"]),
                     fmt(r["cpu_s"]), fmt(r["docs_per_s"]), fmt(r["mb_per_s"], 2), fmt(r["cores_busy"], 2),
                     fmt(r["peak_rss_mb"]), fmt(r["tree_peak_rss_mb"]), fmt(r["index_mb"], 2),
                     fmt(text_multiple(r), 2)])
        if r["system"] != "vnsearch":
            continue
        for peer in PEERS:
            v = {f: r.get(f"vs_{peer}_{figure_name(f)}") for f in BUILD_FIGURES}
            rows.append([r["corpus"], f"÷ {peer}", "", fmt_ratio(v["wall_s"]), "", fmt_ratio(v["cpu_s"]),
                         fmt_ratio(v["docs_per_s"]), fmt_ratio(v["mb_per_s"]), fmt_ratio(v["cores_busy"]),
                         fmt_ratio(v["peak_rss_mb"]), fmt_ratio(v["tree_peak_rss_mb"]), fmt_ratio(v["index_mb"]),
                         ""])
    return rows


BUILD_HEAD = ["corpus", "system", "docs", "wall s", "own s", "CPU s", "docs/s", "MB/s", "cores",
              "peak RSS MB", "tree RSS MB", "on disk MB", "x text"]


# ---------------------------------------------------------------------------
# Segmentation
# ---------------------------------------------------------------------------

def _segment_texts(data: Path, n: int) -> list[str]:
    """Title + newline + text of the first ``n`` articles, NFC (as bench/segment_speed.py)."""
    if str(data).endswith(".gz"):
        if str(BENCH) not in sys.path:
            sys.path.insert(0, str(BENCH))
        import segment_speed
        return segment_speed.load_articles(str(data), n)
    return [nfc(d.title + "\n" + d.text) for d in iter_docs(Path(data), n)]


def segment_bench(data: Path, n_articles: int, long_chars: int) -> list[dict]:
    from indexer.analysis.segment import segment, to_pyvi_string
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # pyvi's regexes have invalid escapes
        from pyvi import ViTokenizer

    def ours(t: str) -> str:
        return to_pyvi_string(t, segment(t))

    texts = _segment_texts(data, n_articles)
    nchars = sum(map(len, texts))
    for t in texts[:20]:                    # warm-up: caches, lazy paths
        ViTokenizer.tokenize(t)
        ours(t)
    clock = time.perf_counter
    tp = to = 0.0
    same = 0
    for i, t in enumerate(texts):           # interleaved: load hits both alike
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            c = clock()
            if which == 0:
                a = ViTokenizer.tokenize(t)
                tp += clock() - c
            else:
                b = ours(t)
                to += clock() - c
        same += a == b
    base = {"section": "segment", "docs": len(texts), "what": "articles", "chars": nchars}
    records = [
        {**base, "system": "pyvi", "seconds": round(tp, 3), "chars_per_s": round(nchars / tp) if tp else None},
        {**base, "system": "vnsearch", "seconds": round(to, 3), "chars_per_s": round(nchars / to) if to else None,
         "speedup": ratio(tp, to), "identical": same, "compared": len(texts)},
    ]
    if long_chars > 0 and texts:
        for size in (long_chars // 4, long_chars // 2, long_chars):
            parts, total, i = [], 0, 0
            while total < size:
                parts.append(texts[i % len(texts)])
                total += len(parts[-1]) + 1
                i += 1
            doc = "\n".join(parts)
            c = clock()
            b = ours(doc)
            t_ours = clock() - c
            c = clock()
            a = ViTokenizer.tokenize(doc)
            t_pyvi = clock() - c
            base = {"section": "segment", "docs": 1, "what": f"long {len(doc):,} chars", "chars": len(doc)}
            records += [
                {**base, "system": "pyvi", "seconds": round(t_pyvi, 3), "chars_per_s": round(len(doc) / t_pyvi)},
                {**base, "system": "vnsearch", "seconds": round(t_ours, 3), "chars_per_s": round(len(doc) / t_ours),
                 "speedup": ratio(t_pyvi, t_ours), "identical": int(a == b), "compared": 1},
            ]
    return records


def segment_rows(records: Sequence[dict]) -> list[list[str]]:
    return [[r["what"], r["system"], fmt(r["chars"]), fmt(r["seconds"], 3), fmt(r["chars_per_s"]),
             f"x{r['speedup']:.2f}" if r.get("speedup") else "",
             f"{r['identical']}/{r['compared']}" if "identical" in r else ""] for r in records]


SEGMENT_HEAD = ["text", "system", "chars", "seconds", "chars/s", "vs pyvi", "identical"]


# ---------------------------------------------------------------------------
# The query mix
# ---------------------------------------------------------------------------

class Query(NamedTuple):
    shape: str
    text: str


def _sample(rng: random.Random, pool: Sequence, k: int) -> list:
    if not pool:
        return []
    if len(pool) >= k:
        return rng.sample(list(pool), k)
    return [rng.choice(pool) for _ in range(k)]


def _runs(text: str) -> Iterator[list[str]]:
    """Runs of alphabetic syllables separated by single spaces (within a sentence)."""
    run: list[str] = []
    last_end = None
    for m in _WORD.finditer(text):
        tok = m.group()
        if tok.isalpha() and (last_end is None or text[last_end:m.start()] == " "):
            run.append(tok)
        else:
            if len(run) > 0:
                yield run
            run = [tok] if tok.isalpha() else []
        last_end = m.end()
    if run:
        yield run


def make_query_mix(docs: Sequence[Doc], per_shape: int, seed: int = 5) -> list[Query]:
    """A fixed, seeded mix drawn from the articles themselves.

    * ``word-common``: one syllable among the COMMON_TOP most frequent (by
      document frequency); ``word-rare``: one that occurs in 2 to
      max(3, docs/1000) articles;
    * ``words-2-3``: 2 or 3 consecutive syllables of a sentence, as written;
    * ``phrase``: a quoted pair of consecutive common syllables;
    * ``headline``: the words of a real title of 10 to 20 words;
    * and ``<shape>/plain`` of each: ``fold`` + lowercase (typed without accents).

    Shuffled with the same seed, so shapes interleave in time.
    """
    from indexer.analysis import fold
    rng = random.Random(seed)
    docs = list(docs)
    df: dict[str, int] = {}
    for d in docs:
        for w in {t.lower() for t in _WORD.findall(d.title + "\n" + d.text) if t.isalpha()}:
            df[w] = df.get(w, 0) + 1
    ranked = sorted(df, key=lambda w: (-df[w], w))
    common = ranked[:COMMON_TOP]
    common_set = set(common)
    hi = max(3, len(docs) // 1000)
    rare = sorted(w for w in ranked if 2 <= df[w] <= hi and w not in common_set)
    if not rare:
        rare = sorted(w for w in ranked if w not in common_set) or ranked

    shapes: dict[str, list[str]] = {
        "word-common": _sample(rng, common, per_shape),
        "word-rare": _sample(rng, rare, per_shape),
    }

    runs = [(i, r) for i, d in enumerate(docs) for r in _runs(d.text) if len(r) >= 2]
    spans = []
    for _ in range(per_shape):
        if not runs:
            break
        _i, run = rng.choice(runs)
        n = min(rng.choice((2, 3)), len(run))
        start = rng.randrange(len(run) - n + 1)
        spans.append(" ".join(run[start:start + n]))
    shapes["words-2-3"] = spans

    pairs: dict[str, int] = {}
    for _i, run in runs:
        low = [t.lower() for t in run]
        for a, b in zip(low, low[1:]):
            if a in common_set and b in common_set:
                key = f"{a} {b}"
                pairs[key] = pairs.get(key, 0) + 1
    pool = sorted(p for p, c in pairs.items() if c >= 2) or sorted(pairs)
    shapes["phrase"] = [f'"{p}"' for p in _sample(rng, pool, per_shape)]

    titles = [_WORD.findall(d.title) for d in docs]
    heads = [" ".join(t) for t in titles if 10 <= len(t) <= 20]
    if not heads:
        heads = [" ".join(t[:20]) for t in titles if len(t) > 20]
    shapes["headline"] = _sample(rng, heads, per_shape)

    mix = []
    for base in BASE_SHAPES:
        for q in shapes[base]:
            mix.append(Query(base, q))
            mix.append(Query(f"{base}/plain", fold(q).lower()))
    rng.shuffle(mix)
    return mix


def shape_order(mix: Sequence[Query]) -> list[str]:
    present = {q.shape for q in mix}
    return [s for base in BASE_SHAPES for s in (base, f"{base}/plain") if s in present]


# ---------------------------------------------------------------------------
# Queries
# ---------------------------------------------------------------------------

PHRASE_SHAPES = ("phrase", "phrase/plain")   # the quoted queries: the phrase p95 target's
PHRASES = "phrases"                          # the group of PHRASE_SHAPES
ALL = "all"                                  # the group of the whole mix
QUERY_FIGURES = ("p50_ms", "p95_ms", "p99_ms")

SearchFn = Callable[[str], tuple[int, int]]  # query -> (hits shown, total)


@dataclass
class QueryTiming:
    query: Query
    ms: dict[str, float]       # per system
    hits: dict[str, int]
    total: dict[str, int]


def vnsearch_fn(engine) -> SearchFn:
    def search(text: str) -> tuple[int, int]:
        res = engine.search(text, page=1, hits_per_page=HITS)
        return len(res["hits"]), res["totalHits"]
    return search


def peer_fn(peer) -> SearchFn:
    """``peer.search(q, HITS) -> (rows, total)`` as a SearchFn."""
    def search(text: str) -> tuple[int, int]:
        rows, total = peer.search(text, HITS)
        return len(rows), total
    return search


def rotation(names: Sequence[str], i: int) -> list[str]:
    """The order the systems run query ``i`` in: each goes first equally often."""
    k = i % len(names)
    return [*names[k:], *names[:k]]


def time_queries(systems: Sequence[tuple[str, SearchFn]], mix: Sequence[Query],
                 warmup: bool = True) -> list[QueryTiming]:
    """Each query through every system, interleaved (the order rotating), after an untimed pass."""
    fns = dict(systems)
    names = [name for name, _ in systems]
    if warmup:
        for q in mix:
            for fn in fns.values():
                fn(q.text)
    clock = time.perf_counter
    out = []
    for i, q in enumerate(mix):
        t = QueryTiming(q, {}, {}, {})
        for name in rotation(names, i):
            c = clock()
            t.hits[name], t.total[name] = fns[name](q.text)
            t.ms[name] = (clock() - c) * 1000
        out.append(t)
    return out


def query_groups(shapes: Sequence[str]) -> list[tuple[str, set[str]]]:
    """Each shape alone, then ``phrases`` (the PHRASE_SHAPES present) and ``all``."""
    groups = [(shape, {shape}) for shape in shapes]
    phrases = set(PHRASE_SHAPES) & set(shapes)
    if phrases:
        groups.append((PHRASES, phrases))
    return [*groups, (ALL, set(shapes))]


def query_records(timings: Sequence[QueryTiming], docs: int, shapes: Sequence[str]) -> list[dict]:
    """Per group of :func:`query_groups` and system: latency percentiles, the
    share of queries with a hit and the mean total; vnsearch's with
    ``vs_<peer>_p50`` / ``p95`` / ``p99``."""
    records = []
    systems = list(timings[0].ms) if timings else []
    for group, members in query_groups(shapes):
        ts = [t for t in timings if t.query.shape in members]
        if not ts:
            continue
        base = {"section": "queries", "docs": docs, "shape": group}
        by = {}
        for system in systems:
            by[system] = {**base, "system": system, **latency_summary([t.ms[system] for t in ts]),
                          "hit_rate": round(sum(t.hits[system] > 0 for t in ts) / len(ts), 3),
                          "mean_total_hits": round(sum(t.total[system] for t in ts) / len(ts), 1)}
        if "vnsearch" in by:
            by["vnsearch"].update(peer_ratios(by["vnsearch"], by, QUERY_FIGURES))
        records += by.values()
    return records


def query_rows(records: Sequence[dict]) -> list[list[str]]:
    rows = []
    for r in records:
        vs = [fmt_ratio(r.get(f"vs_{peer}_{figure_name(f)}")) if r["system"] == "vnsearch" else ""
              for peer in PEERS for f in QUERY_FIGURES]
        rows.append([fmt(r["docs"]), r["shape"], r["system"], fmt(r["n"]), fmt(r["p50_ms"], 2),
                     fmt(r["p95_ms"], 2), fmt(r["p99_ms"], 2), f"{r['hit_rate']:.0%}",
                     fmt(r["mean_total_hits"], 0), *vs])
    return rows


QUERY_HEAD = ["docs", "shape", "system", "n", "p50", "p95", "p99", "hit", "total",
              *(f"÷{peer} {f[:3]}" for peer in PEERS for f in QUERY_FIGURES)]


def profile_queries(engine, queries: Sequence[Query], top: int) -> str:
    """cProfile of ``engine.search`` over ``queries`` (one pass), top functions."""
    import cProfile
    import pstats
    prof = cProfile.Profile()
    prof.enable()
    for q in queries:
        engine.search(q.text, page=1, hits_per_page=HITS)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


# ---------------------------------------------------------------------------
# Filtered, sorted, faceted
# ---------------------------------------------------------------------------

FILTER_VARIANTS = ("plain", "filter", "sort", "facets", "all three")


def filter_variants(engine) -> dict[str, dict]:
    """The search options of each variant: a filter on the index's second most
    common topic and the last six years, newest first, topic and source counts."""
    topics = engine.search("", facets=["topic"], hits_per_page=0)["facetDistribution"].get("topic", {})
    topic = list(topics)[1] if len(topics) > 1 else next(iter(topics), "Thể thao")
    expression = f'topic = "{topic}" AND date >= 2019-01-01'
    return {"plain": {}, "filter": {"filter": expression}, "sort": {"sort": ["date:desc"]},
            "facets": {"facets": ["topic", "source"]},
            "all three": {"filter": expression, "sort": ["date:desc"], "facets": ["topic", "source"]}}


def time_filtered(engine, mix: Sequence[Query]) -> tuple[dict[str, dict], list[tuple[Query, str, float]]]:
    """Each query of the mix in every variant (rotating which goes first),
    after one untimed pass: (the variants, (query, variant, ms) triples)."""
    variants = filter_variants(engine)
    for q in mix:
        for options in variants.values():
            engine.search(q.text, page=1, hits_per_page=HITS, **options)
    out = []
    names = list(variants)
    for i, q in enumerate(mix):
        for name in names[i % len(names):] + names[:i % len(names)]:
            c = time.perf_counter()
            engine.search(q.text, page=1, hits_per_page=HITS, **variants[name])
            out.append((q, name, (time.perf_counter() - c) * 1000))
    return variants, out


def filtered_records(timings, docs: int, shapes: Sequence[str], variants: dict) -> list[dict]:
    records = []
    for shape in [*shapes, "all"]:
        by = {v: [ms for q, name, ms in timings if name == v and (shape == "all" or q.shape == shape)]
              for v in FILTER_VARIANTS}
        if not by["plain"]:
            continue
        plain = latency_summary(by["plain"])
        for v in FILTER_VARIANTS:
            summary = latency_summary(by[v])
            records.append({"section": "filtered", "docs": docs, "shape": shape, "variant": v,
                            "options": variants[v], **summary,
                            "ratio_p50": ratio(summary["p50_ms"], plain["p50_ms"]),
                            "ratio_p95": ratio(summary["p95_ms"], plain["p95_ms"])})
    return records


def filtered_rows(records: Sequence[dict]) -> list[list[str]]:
    return [[fmt(r["docs"]), r["shape"], r["variant"], fmt(r["n"]), fmt(r["p50_ms"]), fmt(r["p95_ms"]),
             fmt(r["ratio_p50"], 2), fmt(r["ratio_p95"], 2)] for r in records]


FILTERED_HEAD = ["docs", "shape", "variant", "n", "p50", "p95", "÷ plain p50", "÷ plain p95"]


# ---------------------------------------------------------------------------
# Serving
# ---------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def search_paths(mix: Sequence[Query]) -> list[str]:
    return ["/api/search?" + urllib.parse.urlencode({"q": q.text, "hitsPerPage": HITS}) for q in mix]


WRK_LUA = """\
-- generated by bench/speed.py: cycle through the query mix, each thread from its own offset
local paths = {%s}
local counter = 0
function setup(thread)
  thread:set("offset", counter * 7919)
  counter = counter + 1
end
function init(args)
  i = offset or 0
end
function request()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\":%%d,\\"duration_us\\":%%d,\\"connect\\":%%d,\\"read\\":%%d,\\"write\\":%%d," ..
    "\\"status\\":%%d,\\"timeout\\":%%d,\\"p50_us\\":%%d,\\"p90_us\\":%%d,\\"p99_us\\":%%d,\\"max_us\\":%%d}\\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def wrk_script(paths: Sequence[str]) -> str:
    for p in paths:
        if '"' in p or "\\" in p or "\n" in p:
            raise ValueError(f"unexpected character in {p!r}")
    return WRK_LUA % ", ".join(f'"{p}"' for p in paths)


def wrk_load(port: int, paths: Sequence[str], seconds: float, connections: int, workdir: Path) -> dict:
    script = workdir / "load.lua"
    script.write_text(wrk_script(paths))
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
           "-s", str(script), f"http://127.0.0.1:{port}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr[-1000:]} {out.stdout[-1000:]}")
    w = json.loads(line[len("WRKJSON "):])
    dur = w["duration_us"] / 1e6
    return {"tool": "wrk", "requests": w["requests"], "duration_s": round(dur, 2),
            "rps": round(w["requests"] / dur, 1) if dur else None,
            "p50_ms": round(w["p50_us"] / 1000, 1), "p90_ms": round(w["p90_us"] / 1000, 1),
            "p99_ms": round(w["p99_us"] / 1000, 1), "max_ms": round(w["max_us"] / 1000, 1),
            "errors": w["connect"] + w["read"] + w["write"] + w["status"] + w["timeout"],
            "non_200": w["status"], "socket_errors": w["connect"] + w["read"] + w["write"],
            "timeouts": w["timeout"]}


def python_load(port: int, paths: Sequence[str], seconds: float, connections: int) -> dict:
    """Closed-loop load: ``connections`` threads, keep-alive when the server allows it."""
    lock = threading.Lock()
    latencies: list[float] = []
    counts = {"non_200": 0, "socket_errors": 0}
    started = time.perf_counter()
    deadline = started + seconds

    def worker(k: int) -> None:
        conn, i, mine, bad, broken = None, k * 7919, [], 0, 0
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                mine.append((time.perf_counter() - t0) * 1000)
                bad += resp.status != 200
                if resp.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                broken += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()
        with lock:
            latencies.extend(mine)
            counts["non_200"] += bad
            counts["socket_errors"] += broken

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dur = time.perf_counter() - started
    s = latency_summary(latencies)
    return {"tool": "python", "requests": len(latencies), "duration_s": round(dur, 2),
            "rps": round(len(latencies) / dur, 1), "p50_ms": s["p50_ms"], "p90_ms": None,
            "p99_ms": s["p99_ms"], "max_ms": s["max_ms"],
            "errors": counts["non_200"] + counts["socket_errors"], "non_200": counts["non_200"],
            "socket_errors": counts["socket_errors"], "timeouts": None}


@contextlib.contextmanager
def running_server(index_dir: Path, workers: int, workdir: Path, ready_timeout: float = 180.0):
    """``vnsearch serve`` on a free loopback port; yields (process, port)."""
    port = free_port()
    logf = open(workdir / f"serve-{port}.log", "wb")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
    proc = subprocess.Popen([*vnsearch_cmd(), "--index-dir", str(index_dir), "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(workers)],
                            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + ready_timeout
        url = f"http://127.0.0.1:{port}/openapi.json"     # up = answers HTTP (errors are the load's to count)
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"vnsearch serve exited ({proc.returncode}); see {logf.name}")
            try:
                with urllib.request.urlopen(url, timeout=30):
                    break
            except urllib.error.HTTPError as e:
                e.close()
                break
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"vnsearch serve not ready after {ready_timeout}s; see {logf.name}")
            time.sleep(0.2)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)         # gunicorn: graceful stop
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)  # our own session only
                proc.wait()
        logf.close()


def serve_bench(index_dir: Path, docs: int, mix: Sequence[Query], seconds: float, workers: int,
                connections: int, workdir: Path, tool: str = "auto") -> dict:
    paths = search_paths(mix)
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"

    def load(secs: float) -> dict:
        if tool == "wrk":
            return wrk_load(port, paths, secs, connections, workdir)
        return python_load(port, paths, secs, connections)

    with running_server(index_dir, workers, workdir) as (proc, port):
        load(min(3.0, max(1.0, seconds / 4)))         # warm-up: every worker opens the index
        result = load(seconds)
        pids = [p for p in descendants(proc.pid) if p != proc.pid]
        workers_rss = [round((rss_kb(p) or 0) / 1024, 1) for p in pids]
        workers_hwm = [round((hwm_kb(p) or 0) / 1024, 1) for p in pids]
        workers_pss = [round((pss_kb(p) or 0) / 1024, 1) for p in pids]
        master_rss = round((rss_kb(proc.pid) or 0) / 1024, 1)
    return {"section": "serve", "system": "vnsearch", "docs": docs, "workers": workers,
            "connections": connections, "seconds": seconds, **result,
            "worker_rss_mb": workers_rss, "worker_hwm_mb": workers_hwm, "worker_pss_mb": workers_pss,
            "master_rss_mb": master_rss}


def serve_rows(records: Sequence[dict]) -> list[list[str]]:
    return [[fmt(r["docs"]), r["tool"], fmt(r["workers"]), fmt(r["connections"]), fmt(r["duration_s"]),
             fmt(r["requests"]), fmt(r["rps"]), fmt(r["p50_ms"]), fmt(r["p99_ms"]), fmt(r["errors"]),
             " ".join(fmt(x) for x in r["worker_rss_mb"]), " ".join(fmt(x) for x in r["worker_pss_mb"]),
             fmt(r["master_rss_mb"])] for r in records]


SERVE_HEAD = ["docs", "load", "workers", "conns", "seconds", "requests", "req/s", "p50 ms", "p99 ms",
              "errors", "worker RSS MB", "worker PSS MB", "master RSS MB"]


# ---------------------------------------------------------------------------
# Incremental add
# ---------------------------------------------------------------------------

def incremental_bench(index_dir: Path, corpus_dir: Path, docs: int, sample: Doc,
                      fts_db: Path | None = None, seed: int = 5, timeout: float = 120.0,
                      tantivy_dir: Path | None = None) -> list[dict]:
    """Add one article (a copy of ``sample`` with a new id and a unique word) and
    time until a separate, already open SearchEngine finds it; once through
    ``indexer.build`` in-process (what ``POST /api/articles`` runs) and once
    through ``vnsearch index`` in a subprocess.  Both files are removed (and the
    index brought back) afterwards.  Then the same for each peer given (FTS5's
    database, tantivy's index), and vnsearch's ratios to them."""
    from indexer import SearchEngine, build
    rng = random.Random(seed)
    engine = SearchEngine(index_dir)
    records, added = [], []
    try:
        engine.search("a", hits_per_page=HITS)          # a warm reader, as in a server worker
        for path in ("library", "cli"):
            marker = f"vnsbench{rng.getrandbits(40):010x}"
            art_id = f"bench-incremental-{path}-{marker}"
            record = {"id": art_id, "title": f"{sample.title} {marker}", "text": sample.text}
            target = corpus_dir / f"{art_id}.jsonl"
            t0 = time.perf_counter()
            with open(target, "w", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
                f.flush()
                os.fsync(f.fileno())
            added.append(target)
            t1 = time.perf_counter()
            if path == "library":
                report = build(index_dir, [corpus_dir], progress=False)
                indexed = report.articles_indexed
            else:
                out = subprocess.run([*vnsearch_cmd(), "--index-dir", str(index_dir), "index", str(corpus_dir)],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    raise RuntimeError(f"vnsearch index failed: {out.stderr[-2000:]}")
                m = _REPORT_LINE.search(out.stdout)
                indexed = int(m.group(1)) if m else None
            t2 = time.perf_counter()
            # The new article must show in a search through a refreshed engine: an
            # accented query first (no accent restoration), then the plain word
            # (a plain query restores accents with the accent model the engine has).
            accented = marker.replace("bench", "bênch")
            found = False
            while True:
                c = time.perf_counter()
                engine.refresh()
                t3 = time.perf_counter()
                res = engine.search(accented, hits_per_page=HITS)
                t4 = time.perf_counter()
                found = any(h["id"] == art_id for h in res["hits"])
                if found or t4 - t0 > timeout:
                    break
                time.sleep(0.01)
            refresh_s, search_s = t3 - c, t4 - t3
            c = time.perf_counter()
            res = engine.search(marker, hits_per_page=HITS)
            t5 = time.perf_counter()
            found_plain = any(h["id"] == art_id for h in res["hits"])
            engine.search(marker, hits_per_page=HITS)
            again = time.perf_counter() - t5
            records.append({"section": "incremental", "system": "vnsearch", "docs": docs, "path": path,
                            "write_s": round(t1 - t0, 4), "build_s": round(t2 - t1, 3),
                            "refresh_s": round(refresh_s, 3), "search_s": round(search_s, 3),
                            "visible_s": round(t4 - t0, 3), "plain_search_s": round(t5 - c, 3),
                            "visible_plain_s": round(t4 - t0 + (t5 - c), 3), "search_again_s": round(again, 4),
                            "found": found and found_plain, "articles_indexed": indexed, "query": marker})
    finally:
        for target in added:
            target.unlink(missing_ok=True)
        if added:
            build(index_dir, [corpus_dir], progress=False)
        engine.close()
    if fts_db is not None:
        records.append(fts5_incremental(fts_db, docs, sample, seed))
    if tantivy_dir is not None:
        records.append(tantivy_incremental(tantivy_dir, docs, sample, seed, timeout))
    return add_incremental_ratios(records)


def fts5_incremental(db_path: Path, docs: int, sample: Doc, seed: int = 5) -> dict:
    """The first peer: insert one row and commit on one connection, find it from another."""
    marker = f"vnsbench{random.Random(seed + 1).getrandbits(40):010x}"
    writer = sqlite3.connect(str(db_path))
    reader = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        reader.execute("SELECT count(*) FROM docs WHERE docs MATCH 'a'").fetchone()   # warm
        t0 = time.perf_counter()
        with writer:
            writer.execute("INSERT INTO docs(id, title, body) VALUES (?, ?, ?)",
                           ("bench-incremental-fts5", f"{sample.title} {marker}", sample.text))
        t1 = time.perf_counter()
        found = bool(reader.execute("SELECT id FROM docs WHERE docs MATCH ? LIMIT 1", (f'"{marker}"',)).fetchall())
        t2 = time.perf_counter()
        with writer:
            writer.execute("DELETE FROM docs WHERE id = 'bench-incremental-fts5'")
    finally:
        reader.close()
        writer.close()
    return {"section": "incremental", "system": "fts5", "docs": docs, "path": "insert+commit",
            "write_s": None, "build_s": round(t1 - t0, 4), "refresh_s": None, "search_s": round(t2 - t1, 4),
            "visible_s": round(t2 - t0, 4), "plain_search_s": None, "visible_plain_s": None,
            "search_again_s": None, "found": found, "articles_indexed": 1,
            "query": marker}


def tantivy_incremental(index_dir: Path, docs: int, sample: Doc, seed: int = 5, timeout: float = 120.0) -> dict:
    """The second peer: ``add_document`` + ``commit`` on a writer opened
    beforehand (as a server keeps one), then a separately opened, warm index
    ``reload()``-ed and searched (as the query mix is) until it finds the
    article; the article is deleted again afterwards."""
    marker = f"vnsbench{random.Random(seed + 2).getrandbits(40):010x}"
    art_id = "bench-incremental-tantivy"
    reader = TantivySearch(index_dir)
    writer = open_tantivy(index_dir).writer(heap_size=TANTIVY_HEAP, num_threads=1)
    try:
        reader.search("a")                                  # warm
        t0 = time.perf_counter()
        writer.add_document(tantivy_document(Doc(art_id, f"{sample.title} {marker}", sample.text)))
        writer.commit()
        t1 = time.perf_counter()
        while True:
            c = time.perf_counter()
            reader.reload()
            t2 = time.perf_counter()
            rows, _total = reader.search(marker)
            t3 = time.perf_counter()
            found = any(row[0] == art_id for row in rows)
            if found or t3 - t0 > timeout:
                break
            time.sleep(0.01)
        writer.delete_documents_by_term("id", art_id)
        writer.commit()
    finally:
        writer.wait_merging_threads()
        reader.close()
    return {"section": "incremental", "system": "tantivy", "docs": docs, "path": "add+commit+reload",
            "write_s": None, "build_s": round(t1 - t0, 4), "refresh_s": round(t2 - c, 4),
            "search_s": round(t3 - t2, 4), "visible_s": round(t3 - t0, 4), "plain_search_s": None,
            "visible_plain_s": None, "search_again_s": None, "found": found, "articles_indexed": 1,
            "query": marker}


INCREMENTAL_FIGURES = ("build_s", "refresh_s", "search_s", "visible_s")


def add_incremental_ratios(records: Sequence[dict]) -> list[dict]:
    """Each vnsearch record with ``vs_<peer>_<figure>`` for INCREMENTAL_FIGURES
    and ``vs_<peer>_visible_plain``: the plain query's visible time ÷ the peer's
    visible time (a peer's query is the same whether typed plain or not)."""
    peers = {r["system"]: r for r in records if r["system"] in PEERS}
    out = []
    for r in records:
        if r["system"] == "vnsearch":
            r = {**r, **peer_ratios(r, peers, INCREMENTAL_FIGURES),
                 **{f"vs_{p}_visible_plain": ratio(r["visible_plain_s"], (peers.get(p) or {}).get("visible_s"))
                    for p in PEERS}}
        out.append(r)
    return out


def incremental_rows(records: Sequence[dict]) -> list[list[str]]:
    """One row per record; under each vnsearch row one ``÷ <peer>`` row per peer."""
    rows = []
    for r in records:
        rows.append([fmt(r["docs"]), r["system"], r["path"], fmt(r["write_s"], 3), fmt(r["build_s"], 3),
                     fmt(r["refresh_s"], 3), fmt(r["search_s"], 3), fmt(r["visible_s"], 3),
                     fmt(r["plain_search_s"], 3), fmt(r["visible_plain_s"], 3), fmt(r["search_again_s"], 3),
                     fmt(r["found"])])
        if r["system"] != "vnsearch":
            continue
        for peer in PEERS:
            v = {f: fmt_ratio(r.get(f"vs_{peer}_{figure_name(f)}")) for f in INCREMENTAL_FIGURES}
            rows.append(["", f"÷ {peer}", r["path"], "", v["build_s"], v["refresh_s"], v["search_s"],
                         v["visible_s"], "", fmt_ratio(r.get(f"vs_{peer}_visible_plain")), "", ""])
    return rows


INCREMENTAL_HEAD = ["docs", "system", "path", "write s", "index s", "refresh s", "search s", "visible s",
                    "plain search s", "visible plain s", "again s", "found"]


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------

FULL_CORPUS_DOCS = 100_000        # below this, a verdict is indicative only
FULL_CORPUS_ARTICLES = 102_045    # vietnews: what a full build indexes
# Issue 12's targets (2 cores, the 102,045 articles, the whole mix with snippets).
TARGET_BUILD_S = 300
TARGET_DISK_X_TEXT = 3.0          # index on disk ÷ the text (the corpus input bytes: input MB)
TARGET_BUILD_RSS_MB = 1536        # 1.5 GB as the RSS figures count (1 MB = 1024 KiB), of the process tree
TARGET_QUERY_P95_MS = 25          # the whole mix
TARGET_PHRASE_P95_MS = 40         # the PHRASE_SHAPES
TARGET_RPS = 150                  # with 0 errors
TARGET_WORKER_RSS_MB = 300
TARGET_VISIBLE_S = 1.0            # an added article searchable (the slower of accented and plain)


def _peer(value: str | None, vs: float | None) -> dict:
    return {"value": value, "vs": vs}


def build_rss_mb(record: dict) -> float:
    """A build's peak RSS: the process tree's sampled sum, or the largest
    process's peak if higher (a process shorter than the sampling interval is
    never sampled)."""
    return max(record.get("tree_peak_rss_mb") or 0.0, record.get("peak_rss_mb") or 0.0)


def targets(records: Sequence[dict]) -> list[dict]:
    """Each of issue 12's targets against the run's records (the largest size
    measured), beside each peer's figure and vnsearch's ratio to it."""
    out = []

    def add(name, value, ok, docs, peers: Mapping[str, dict] | None = None, note=""):
        at_scale = docs is None or docs >= FULL_CORPUS_DOCS
        rec = {"section": "targets", "system": "vnsearch", "docs": docs, "target": name, "value": value,
               "met": bool(ok), "at_scale": at_scale}
        for peer in PEERS:
            got = (peers or {}).get(peer) or {}
            rec[peer], rec[f"vs_{peer}"] = got.get("value"), got.get("vs")
        out.append({**rec, "note": note})

    def largest(rs):
        return max(rs, key=lambda r: r["docs"]) if rs else None

    builds = [r for r in records if r["section"] == "build"]
    b = largest([r for r in builds if r["system"] == "vnsearch"])
    if b:
        same = {p: next((r for r in builds if r["system"] == p and r["corpus"] == b["corpus"]), None) for p in PEERS}
        value, wall = f"{b['wall_s']:.1f} s", b["wall_s"]
        if b["docs"] < FULL_CORPUS_DOCS and b["docs_per_s"]:
            wall = FULL_CORPUS_ARTICLES / b["docs_per_s"]
            value = f"{b['wall_s']:.1f} s; {FULL_CORPUS_ARTICLES:,} docs at this rate: {wall:.0f} s"
        add(f"full build <= {TARGET_BUILD_S} s", value, wall <= TARGET_BUILD_S, b["docs"],
            {p: _peer(f"{r['wall_s']:.1f} s", ratio(b["wall_s"], r["wall_s"])) for p, r in same.items() if r},
            f"{b['cores_busy']:.2f} cores busy")
        x = text_multiple(b)
        add(f"index on disk <= {TARGET_DISK_X_TEXT:g}x the text", f"{b['index_mb']:,.1f} MB = x{x} the text "
            f"({b['input_mb']:,.1f} MB)", x is not None and x <= TARGET_DISK_X_TEXT, b["docs"],
            {p: _peer(f"{r['index_mb']:,.1f} MB (x{text_multiple(r)})", ratio(b["index_mb"], r["index_mb"]))
             for p, r in same.items() if r},
            "the text: the corpus input, uncompressed JSON lines (input MB)")
        add(f"peak RSS of the build <= {TARGET_BUILD_RSS_MB:,} MB", f"{build_rss_mb(b):,.0f} MB",
            build_rss_mb(b) <= TARGET_BUILD_RSS_MB, b["docs"],
            {p: _peer(f"{build_rss_mb(r):,.0f} MB", ratio(build_rss_mb(b), build_rss_mb(r)))
             for p, r in same.items() if r},
            f"the process tree's, sampled (1.5 GB); largest process {b['peak_rss_mb']:,.0f} MB")
    qs = [r for r in records if r["section"] == "queries"]
    for group, limit, name in ((ALL, TARGET_QUERY_P95_MS, "query p95"), (PHRASES, TARGET_PHRASE_P95_MS, "phrase p95")):
        q = largest([r for r in qs if r["shape"] == group and r["system"] == "vnsearch"])
        if q:
            peers = {r["system"]: _peer(f"{r['p95_ms']} ms", q.get(f"vs_{r['system']}_p95")) for r in qs
                     if r["shape"] == group and r["docs"] == q["docs"] and r["system"] in PEERS}
            add(f"{name} <= {limit} ms", f"{q['p95_ms']} ms", q["p95_ms"] <= limit, q["docs"], peers,
                "whole mix, snippets included" if group == ALL else f"shapes {' and '.join(PHRASE_SHAPES)}")
    s = largest([r for r in records if r["section"] == "serve"])
    if s:
        worst = max(s["worker_rss_mb"] or [0])
        add(f"served >= {TARGET_RPS} req/s, 0 errors", f"{s['rps']} req/s, {s['errors']} errors",
            (s["rps"] or 0) >= TARGET_RPS and s["errors"] == 0, s["docs"],
            note="no HTTP peer: FTS5 and tantivy are libraries")
        add(f"worker RSS <= {TARGET_WORKER_RSS_MB} MB", f"{worst} MB", worst <= TARGET_WORKER_RSS_MB, s["docs"])
    inc = [r for r in records if r["section"] == "incremental"]
    lib = next((r for r in inc if r["system"] == "vnsearch" and r["path"] == "library"), None)
    if lib:
        worst = max(lib["visible_s"], lib["visible_plain_s"])
        peers = {r["system"]: _peer(f"{r['visible_s']} s", ratio(worst, r["visible_s"]))
                 for r in inc if r["system"] in PEERS}
        add(f"added article searchable <= {TARGET_VISIBLE_S:g} s",
            f"{lib['visible_s']} s accented query, {lib['visible_plain_s']} s plain",
            lib["found"] and worst <= TARGET_VISIBLE_S, lib["docs"], peers,
            "verdict and ratios on the slower of the two")
    return out


def target_rows(records: Sequence[dict]) -> list[list[str]]:
    return [[r["target"], r["value"], "met" if r["met"] else "MISSED",
             fmt(r["docs"]) if r["docs"] is not None else "-",
             "" if r["at_scale"] else "below 100k docs: indicative only",
             *(x for p in PEERS for x in (r[p] or "-", fmt_ratio(r[f"vs_{p}"]) if r[p] else "")),
             r["note"]] for r in records]


TARGET_HEAD = ["target", "measured", "verdict", "docs", "scale", "fts5", "vs fts5", "tantivy", "vs tantivy", "note"]


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def build_peers(corpus: Corpus, scale: "Scale", work: Path, tag: str) -> list[dict]:
    """FTS5's and tantivy's builds of ``corpus``, each in a subprocess."""
    log(f"build: FTS5 load, {corpus.docs} articles")
    recs = [build_fts5(corpus, scale.fts_db, work, f"fts5-{tag}")]
    log(f"build: FTS5 {recs[-1]['wall_s']} s; tantivy, {usable_cores()} threads")
    recs.append(build_tantivy(corpus, scale.tantivy_dir, work, f"tantivy-{tag}"))
    log(f"build: tantivy {recs[-1]['wall_s']} s")
    return recs


@dataclass
class Scale:
    corpus: Corpus
    index_dir: Path
    fts_db: Path
    tantivy_dir: Path
    docs: int = 0
    reused: bool = False
    mutable_corpus: bool = True
    extra: dict = field(default_factory=dict)


def parse_limit(value: str) -> int | None:
    v = value.strip().lower()
    if v in ("all", "0", "full"):
        return None
    mult = 1000 if v.endswith("k") else 1
    try:
        n = int(float(v[:-1] if v.endswith("k") else v) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of articles: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError("--limit must be positive (or 'all')")
    return n


def parse_sections(value: str) -> list[str]:
    items = [x.strip() for x in value.split(",") if x.strip()]
    bad = [x for x in items if x not in SECTIONS]
    if bad or not items:
        raise argparse.ArgumentTypeError(f"unknown section(s) {', '.join(bad)} (choose from {', '.join(SECTIONS)})")
    return items


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See bench/README.md.")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"articles .jsonl(.gz) (default {DEFAULT_DATA})")
    ap.add_argument("--limit", type=parse_limit, nargs="+", default=None, metavar="N",
                    help="corpus sizes: first N articles, 10k, or 'all' (default: 10k all)")
    ap.add_argument("--sections", type=parse_sections, default=list(DEFAULT_SECTIONS),
                    help=f"comma-separated, of {','.join(SECTIONS)} (default: {','.join(DEFAULT_SECTIONS)}); "
                         "filtered gives the built corpora generated dates, topics and sources")
    ap.add_argument("--queries-per-shape", type=int, default=50, metavar="N",
                    help="queries per shape and form (default 50; 10 shapes)")
    ap.add_argument("--seed", type=int, default=5, help="seed of the query mix (default 5)")
    ap.add_argument("--serve-seconds", type=float, default=20.0, metavar="S", help="load duration (default 20)")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    ap.add_argument("--connections", type=int, default=8, help="concurrent connections of the load (default 8)")
    ap.add_argument("--load-tool", choices=("auto", "wrk", "python"), default="auto",
                    help="auto: wrk if installed, else the Python client")
    ap.add_argument("--segment-articles", type=int, default=2000, metavar="N",
                    help="articles for the segmentation section (default 2000)")
    ap.add_argument("--long-chars", type=int, default=600_000, metavar="N",
                    help="the long document for segmentation (default 600000; 0 to skip)")
    ap.add_argument("--index-dir", type=Path, default=None,
                    help="reuse this index (skip the vnsearch build); one --limit, or --corpus")
    ap.add_argument("--corpus", type=Path, default=None,
                    help="with --index-dir: the corpus directory it was built from (default: "
                         "a 'corpus' directory beside it). Needed by 'incremental', which adds an "
                         "article there and removes it again")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="cProfile the slowest query shape at the largest size, print the top N functions")
    ap.add_argument("--json-out", type=Path, default=None, help="append the JSON lines to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (corpus, vnsearch index, FTS5 db, tantivy index)")
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    ap = build_parser()
    args = ap.parse_args(argv)
    sections = args.sections
    limits = sorted(set(args.limit or DEFAULT_LIMITS), key=lambda n: math.inf if n is None else n)
    if args.index_dir is not None:
        if args.corpus is None and (args.index_dir.parent / "corpus").is_dir():
            args.corpus = args.index_dir.parent / "corpus"
        if args.corpus is None and (args.limit is None or len(limits) > 1):
            ap.error("--index-dir needs --corpus (the directory it was built from) or one --limit "
                     "(it was built from the first N articles of --data)")
        if args.corpus is not None and not args.corpus.is_dir():
            ap.error(f"--corpus {args.corpus}: not a directory")
    if args.queries_per_shape < 1:
        ap.error("--queries-per-shape must be >= 1")
    if set(sections) & {"build", "queries", "serve", "incremental"} and importlib.util.find_spec("tantivy") is None:
        ap.error("tantivy (the second peer) is not installed: pip install -e '.[bench]' (make bench-speed does)")

    rep = Reporter(args.json_out)
    machine = machine_info(sys.argv[:1] + list(argv if argv is not None else sys.argv[1:]))
    print(f"# vnsearch speed bench — {machine['date']} — {machine['cpu']} ×{machine['cores']}, "
          f"{machine['mem_gb']} GB — git {machine['git']}"
          f"{' (indexer/webui modified)' if machine['engine_dirty'] else ''} — load {machine['loadavg'][0]:.2f}")
    rep.emit(machine)

    work = Path(tempfile.mkdtemp(prefix="vnsearch-speed-"))
    log(f"work directory {work}")
    try:
        if "segment" in sections:
            log(f"segment: {args.segment_articles} articles, long document {args.long_chars:,} chars")
            recs = segment_bench(args.data, args.segment_articles, args.long_chars)
            rep.section("Segmentation: indexer.analysis.segment vs pyvi.ViTokenizer.tokenize", SEGMENT_HEAD,
                        segment_rows(recs), recs, left=(0, 1))

        if not set(sections) & {"build", "queries", "serve", "incremental"}:
            return 0

        scales: list[Scale] = []
        build_recs: list[dict] = []
        if args.index_dir is not None:
            from indexer import SearchEngine
            index_dir = args.index_dir.resolve()
            if args.corpus is not None:
                corpus = existing_corpus(args.corpus.resolve())
                mutable = True
            else:
                corpus = prepare_corpus(args.data, limits[0], work / "reused" / "corpus")
                mutable = False
            with SearchEngine(index_dir) as eng:
                ndocs = eng.stats()["documents"]
            if ndocs != corpus.docs:
                log(f"warning: the index holds {ndocs} documents, the corpus {corpus.docs} articles"
                    + ("; incremental skipped (it would re-index that corpus)" if mutable else ""))
                mutable = False
            scale = Scale(corpus, index_dir, work / "reused" / "fts5.sqlite", work / "reused" / "tantivy", ndocs,
                          reused=True, mutable_corpus=mutable)
            scale.fts_db.parent.mkdir(parents=True, exist_ok=True)
            build_recs += build_peers(corpus, scale, work, "reused")
            scales.append(scale)
        else:
            for n in limits:
                tag = "all" if n is None else str(n)
                base = work / f"n{tag}"
                log(f"corpus: {'all' if n is None else f'first {n}'} articles of {args.data}")
                corpus = prepare_corpus(args.data, n, base / "corpus", generate="filtered" in sections)
                scale = Scale(corpus, base / "index", base / "fts5.sqlite", base / "tantivy")
                log(f"build: vnsearch index, {corpus.docs} articles, {corpus.bytes / 1e6:.1f} MB")
                rec = build_vnsearch(corpus, scale.index_dir, work, f"build-{tag}")
                scale.docs = rec["docs"]
                build_recs.append(rec)
                log(f"build: vnsearch {rec['wall_s']} s")
                build_recs += build_peers(corpus, scale, work, tag)
                scales.append(scale)
        if build_recs:
            build_recs = add_build_ratios(build_recs)
            rep.section("Build: vnsearch index --full, SQLite FTS5 and tantivy, each in a subprocess", BUILD_HEAD,
                        build_rows(build_recs), build_recs, left=(0, 1),
                        note="own s: the build's own report (without process start-up); cores: CPU s / wall s; "
                             "peak RSS: the largest process (GNU time %M); tree RSS: the process and its children "
                             "summed, sampled every 0.25 s; x text: on disk ÷ the input (the JSON lines); "
                             "÷ fts5, ÷ tantivy: vnsearch's figure divided by the peer's")

        smallest = scales[0]
        sample_n = min(smallest.corpus.docs, MIX_SAMPLE_DOCS)
        mix_docs = list(iter_docs(smallest.corpus.dir, sample_n))
        mix = make_query_mix(mix_docs, args.queries_per_shape, args.seed)
        shapes = shape_order(mix)
        log(f"query mix: {len(mix)} queries in {len(shapes)} shapes, drawn from the first {sample_n} articles")

        if "queries" in sections:
            from indexer import SearchEngine
            q_recs, profile_text = [], ""
            for scale in scales:
                log(f"queries: {len(mix)} at {scale.docs} docs (warm-up pass, then timed)")
                engine, fts, tv = SearchEngine(scale.index_dir), FTS5Search(scale.fts_db), TantivySearch(scale.tantivy_dir)
                try:
                    timings = time_queries([("vnsearch", vnsearch_fn(engine)), ("fts5", peer_fn(fts)),
                                            ("tantivy", peer_fn(tv))], mix)
                    recs = query_records(timings, scale.docs, shapes)
                    q_recs += recs
                    if args.profile and scale is scales[-1]:
                        slow = max((r for r in recs if r["system"] == "vnsearch" and r["shape"] != "all"),
                                   key=lambda r: r["p95_ms"])
                        profiled = [q for q in mix if q.shape == slow["shape"]][:PROFILE_QUERIES]
                        log(f"profile: {len(profiled)} queries of shape {slow['shape']} at {scale.docs} docs")
                        profile_text = (f"cProfile of SearchEngine.search over {len(profiled)} queries of the "
                                        f"slowest shape ({slow['shape']}, p95 {slow['p95_ms']} ms) at "
                                        f"{scale.docs} docs (cProfile slows Python-heavy code several times: "
                                        f"read the shares, not the seconds):\n\n"
                                        + profile_queries(engine, profiled, args.profile))
                finally:
                    engine.close()
                    fts.close()
                    tv.close()
            rep.section("Queries: SearchEngine.search(q, hits_per_page=10) with snippets, FTS5 and tantivy, ms",
                        QUERY_HEAD, query_rows(q_recs), q_recs, left=(1, 2),
                        note="÷fts5 / ÷tantivy p50, p95, p99: vnsearch's ÷ the peer's; hit: queries with ≥ 1 hit; "
                             "total: mean totalHits; phrases: the phrase and phrase/plain queries together. "
                             "FTS5 does not fold đ→d, so its plain queries miss words with đ; tantivy folds it.")
            if profile_text:
                print(profile_text)

        if "filtered" in sections:
            from indexer import SearchEngine
            f_recs = []
            for scale in scales:
                log(f"filtered: {len(mix)} queries × {len(FILTER_VARIANTS)} variants at {scale.docs} docs")
                with SearchEngine(scale.index_dir) as engine:
                    variants, timings = time_filtered(engine, mix)
                f_recs += filtered_records(timings, scale.docs, shapes, variants)
            rep.section("Filtered, sorted, faceted: the same queries with and without them, ms", FILTERED_HEAD,
                        filtered_rows(f_recs), f_recs, left=(1, 2),
                        note="filter: " + variants["filter"]["filter"] + "; sort: date:desc; facets: topic, "
                             "source; ÷ plain: the variant's latency over the same queries' without options.")

        largest = scales[-1]
        if "serve" in sections:
            log(f"serve: {args.workers} workers, {args.connections} connections, {args.serve_seconds} s "
                f"at {largest.docs} docs")
            s_rec = serve_bench(largest.index_dir, largest.docs, mix, args.serve_seconds, args.workers,
                                args.connections, work, args.load_tool)
            rep.section("Serving: vnsearch serve on loopback under a bounded closed-loop load", SERVE_HEAD,
                        serve_rows([s_rec]), [s_rec], left=(1,),
                        note="RSS/PSS of each gunicorn worker after the load (PSS shares the preloaded model).")

        if "incremental" in sections:
            if not largest.mutable_corpus:
                log("incremental: skipped (--index-dir: no corpus directory known to match the index; "
                    "pass --corpus, the directory it was built from)")
            else:
                sample = next(iter_docs(largest.corpus.dir, 1))
                log(f"incremental: add 1 article to {largest.docs} docs")
                i_recs = incremental_bench(largest.index_dir, largest.corpus.dir, largest.docs, sample,
                                           largest.fts_db, args.seed, tantivy_dir=largest.tantivy_dir)
                rep.section("Incremental: one new article until a separate open SearchEngine finds it",
                            INCREMENTAL_HEAD, incremental_rows(i_recs), i_recs, left=(1, 2),
                            note="library: indexer.build in-process (as POST /api/articles); cli: vnsearch index "
                                 "subprocess. search s: the first search after refresh(), accented (finds it: "
                                 "visible s); plain search s: then the same word typed plain (restores accents, "
                                 "with the accent model it has: rebuilt once 1% of the documents changed); again s: that plain search "
                                 "repeated. fts5: INSERT + COMMIT, read by another connection; tantivy: add_document + "
                                 "commit, then another index reload() + search. ÷ fts5, ÷ tantivy: vnsearch's figure "
                                 "divided by the peer's (visible plain s: by the peer's visible s)")
        return 0
    finally:
        t_recs = targets(rep.records)
        if t_recs:
            rep.section("Targets (issue 12: 2 cores, 102,045 articles, the whole mix with snippets)", TARGET_HEAD,
                        target_rows(t_recs), t_recs, left=(0, 1, 2, 4, 5, 7, 9))
        rep.emit({"section": "end", "system": "host", "docs": None, "loadavg": list(os.getloadavg()),
                  "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        if args.keep:
            log(f"kept {work} (reuse an index: --index-dir {work}/n<N>/index)")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
