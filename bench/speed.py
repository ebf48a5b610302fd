#!/usr/bin/env python3
"""Speed benchmark of vnsearch: build, segmentation, queries, serving, incremental add.

Usage (from the repository root)::

    python bench/speed.py                                  # everything: 10k subset and the full corpus
    python bench/speed.py --limit 2000 --serve-seconds 10  # a small run
    python bench/speed.py --limit 10k 30k all --sections build,queries
    python bench/speed.py --sections segment
    python bench/speed.py --limit 2000 --keep              # keep the work dir (indexes, corpus, FTS5 db)
    python bench/speed.py --index-dir WORK/n2000/index --sections queries,serve   # reuse a kept index

Everything vnsearch does is measured through the library's public API or the
``vnsearch`` command, never its internals, so the figures follow whatever the
engine does at the time of the run:

* **build** -- ``vnsearch --index-dir D index --full CORPUS`` in a subprocess
  (its peak RSS from GNU ``time``; the whole process tree's RSS is also
  sampled, in case the build forks workers; CPU time / wall time shows how many
  cores it kept busy).  CORPUS is a directory in a temp dir holding the first N
  articles of ``--data`` as ``articles.jsonl`` (or a symlink to ``--data`` for
  the whole corpus): the layout ``POST /api/articles`` adds to.  The anchor,
  SQLite FTS5 (``tokenize='unicode61 remove_diacritics 2'``, columns
  ``title, body``, then ``'optimize'``), loads the same files in a subprocess
  of its own, in the same run.
* **segment** -- chars/s of ``indexer.analysis.segment`` (``segment`` +
  ``to_pyvi_string``) against ``pyvi.ViTokenizer.tokenize`` on the same
  articles, interleaved, every output compared; then one long document at
  1/4, 1/2 and all of ``--long-chars`` (linear time shows as constant chars/s).
* **queries** -- a fixed, seeded mix drawn from the corpus itself (see
  :func:`make_query_mix`), the same mix at every corpus size; each query runs
  through ``SearchEngine.search(q, hits_per_page=10)`` (ranking + snippets)
  and through FTS5 (OR of quoted terms / phrases, ``bm25()`` with the title
  weighted 2, ``highlight()`` of the title, ``snippet()`` of the body and a
  ``count(*)`` for the total, as the API returns one), interleaved, after one
  untimed warm-up pass.  p50/p95/p99 per shape and overall, and the ratio.
* **serve** -- ``vnsearch serve`` on loopback with ``--workers`` workers, a
  bounded closed-loop load (``wrk`` if installed, else threads of
  ``http.client``) of ``--connections`` connections for ``--serve-seconds``
  over the query mix's ``/api/search`` URLs: requests/s, p50/p99, errors and
  every worker's RSS (and PSS) after the load.
* **incremental** -- one new article written into the corpus directory, then
  ``indexer.build`` (in-process, as ``POST /api/articles`` does) or ``vnsearch
  index`` (subprocess), until a separate, already open ``SearchEngine``
  (``refresh()`` + ``search``) finds it; FTS5's insert + commit + read by
  another connection beside it.  The article is removed again afterwards.

Output: one table per section on stdout, each followed by its JSON lines
(``{"section", "system", "docs", ...}``), then the targets with the
ratio to FTS5; ``--json-out FILE`` appends the JSON lines to FILE.  Progress
goes to stderr.  The work directory (temp, outside the repository) is removed
unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import http.client
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
from typing import Iterable, Iterator, NamedTuple, Sequence

# Standard library only at import time: the FTS5 loader runs this module in a
# subprocess and must not carry pyvi's model in its RSS.  indexer is imported
# where it is used.

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
FTS5_TOKENIZE = "unicode61 remove_diacritics 2"
TITLE_WEIGHT = 1.0                # FTS5 bm25() column weight of the title, as vnsearch's title_weight
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
        "sqlite": sqlite3.sqlite_version,
        "git": _git("rev-parse", "--short", "HEAD").strip(), "engine_dirty": dirty,
        "loadavg": list(os.getloadavg()), "argv": list(argv),
    }


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
# SQLite FTS5: the anchor
# ---------------------------------------------------------------------------

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
    """An FTS5 MATCH expression for a vnsearch query: each ``"quoted phrase"``
    as an FTS5 phrase, each other word as a quoted term, all OR-ed (``-`` and
    other syntax are read as text).  The tokenizer lowercases and strips marks."""
    parts: list[str] = []

    def phrase(m: re.Match) -> str:
        toks = _WORD.findall(m.group(1).lower())
        if toks:
            parts.append('"' + " ".join(toks) + '"')
        return " "

    rest = _QUOTED.sub(phrase, nfc(query))
    seen: set[str] = set()
    for tok in _WORD.findall(rest.lower()):
        if tok not in seen:
            seen.add(tok)
            parts.append(f'"{tok}"')
    return " OR ".join(parts)


class FTS5Search:
    """Top-k by bm25() (title ×2) with highlight()/snippet(), plus the total count."""

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
        "input_mb": round(corpus.bytes / 1e6, 1), "cpu_s": round(m.cpu_s, 2),
        "cores_busy": round(m.cpu_s / m.wall_s, 2), "peak_rss_mb": round(m.maxrss_kb / 1024, 1),
        "tree_peak_rss_mb": round(m.tree_peak_kb / 1024, 1), "rss_source": m.rss_source,
        "index_mb": round(index_bytes(index_dir) / 1e6, 1),
        "skipped": int(rep.group(2)) if rep else None,
    }


_SELF_IMPORT = ("import importlib.util, sys; "
                "s = importlib.util.spec_from_file_location('vnsearch_bench_speed', sys.argv[1]); "
                "m = importlib.util.module_from_spec(s); sys.modules[s.name] = m; s.loader.exec_module(m); "
                "sys.exit(m.fts5_load_main(sys.argv[2:]))")


def build_fts5(corpus: Corpus, db_path: Path, workdir: Path, name: str) -> dict:
    """Load the same corpus into FTS5, in its own process."""
    m = run_measured([sys.executable, "-c", _SELF_IMPORT, __file__, db_path, corpus.dir], workdir, name)
    if m.returncode != 0:
        raise RuntimeError(f"FTS5 load failed ({m.returncode}): {m.stderr[-2000:]}")
    docs = json.loads(m.stdout.strip().splitlines()[-1])["docs"]
    return {
        "section": "build", "system": "fts5", "docs": docs, "corpus": corpus.label,
        "wall_s": round(m.wall_s, 2), "build_s": None,
        "docs_per_s": round(docs / m.wall_s, 1), "mb_per_s": round(corpus.bytes / 1e6 / m.wall_s, 3),
        "input_mb": round(corpus.bytes / 1e6, 1), "cpu_s": round(m.cpu_s, 2),
        "cores_busy": round(m.cpu_s / m.wall_s, 2), "peak_rss_mb": round(m.maxrss_kb / 1024, 1),
        "tree_peak_rss_mb": round(m.tree_peak_kb / 1024, 1), "rss_source": m.rss_source,
        "index_mb": round(db_path.stat().st_size / 1e6, 1), "skipped": None,
    }


def build_rows(records: Sequence[dict]) -> list[list[str]]:
    by = {(r["corpus"], r["system"]): r for r in records}
    rows = []
    for r in records:
        anchor = by.get((r["corpus"], "fts5"))
        rel = ratio(r["wall_s"], anchor["wall_s"]) if anchor and r["system"] != "fts5" else None
        rows.append([r["corpus"], r["system"], fmt(r["docs"]), fmt(r["wall_s"]), fmt(r["build_s"]),
                     fmt(r["docs_per_s"]), fmt(r["mb_per_s"], 2), fmt(r["cores_busy"], 2),
                     fmt(r["peak_rss_mb"]), fmt(r["tree_peak_rss_mb"]), fmt(r["index_mb"]),
                     f"x{rel:.2f}" if rel is not None else ""])
    return rows


BUILD_HEAD = ["corpus", "system", "docs", "wall s", "own s", "docs/s", "MB/s", "cores",
              "peak RSS MB", "tree RSS MB", "on disk MB", "wall vs fts5"]


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

@dataclass
class QueryTiming:
    query: Query
    vn_ms: float
    fts_ms: float
    vn_hits: int
    vn_total: int
    fts_hits: int
    fts_total: int


def time_queries(engine, fts: FTS5Search, mix: Sequence[Query], warmup: bool = True) -> list[QueryTiming]:
    """Each query through both systems, interleaved (alternating which goes first)."""
    if warmup:
        for q in mix:
            engine.search(q.text, page=1, hits_per_page=HITS)
            fts.search(q.text, HITS)
    clock = time.perf_counter
    out = []
    for i, q in enumerate(mix):
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            c = clock()
            if which == 0:
                res = engine.search(q.text, page=1, hits_per_page=HITS)
                vn = clock() - c
            else:
                rows, total = fts.search(q.text, HITS)
                ft = clock() - c
        out.append(QueryTiming(q, vn * 1000, ft * 1000, len(res["hits"]), res["totalHits"], len(rows), total))
    return out


def query_records(timings: Sequence[QueryTiming], docs: int, shapes: Sequence[str]) -> list[dict]:
    records = []
    for shape in [*shapes, "all"]:
        ts = [t for t in timings if shape == "all" or t.query.shape == shape]
        if not ts:
            continue
        vn = latency_summary([t.vn_ms for t in ts])
        ft = latency_summary([t.fts_ms for t in ts])
        base = {"section": "queries", "docs": docs, "shape": shape}
        records.append({**base, "system": "vnsearch", **vn,
                        "hit_rate": round(sum(t.vn_hits > 0 for t in ts) / len(ts), 3),
                        "mean_total_hits": round(sum(t.vn_total for t in ts) / len(ts), 1),
                        "ratio_p50": ratio(vn["p50_ms"], ft["p50_ms"]),
                        "ratio_p95": ratio(vn["p95_ms"], ft["p95_ms"]),
                        "ratio_p99": ratio(vn["p99_ms"], ft["p99_ms"])})
        records.append({**base, "system": "fts5", **ft,
                         "hit_rate": round(sum(t.fts_hits > 0 for t in ts) / len(ts), 3),
                         "mean_total_hits": round(sum(t.fts_total for t in ts) / len(ts), 1)})
    return records


def query_rows(records: Sequence[dict]) -> list[list[str]]:
    pairs: dict[tuple, dict] = {}
    for r in records:
        pairs.setdefault((r["docs"], r["shape"]), {})[r["system"]] = r
    rows = []
    for (docs, shape), by in pairs.items():
        v, f = by["vnsearch"], by["fts5"]
        rows.append([fmt(docs), shape, fmt(v["n"]), fmt(v["p50_ms"]), fmt(v["p95_ms"]), fmt(v["p99_ms"]),
                     fmt(f["p50_ms"], 2), fmt(f["p95_ms"], 2), fmt(f["p99_ms"], 2),
                     fmt(v["ratio_p50"]), fmt(v["ratio_p95"]),
                     f"{v['hit_rate']:.0%}", f"{f['hit_rate']:.0%}",
                     fmt(v["mean_total_hits"], 0), fmt(f["mean_total_hits"], 0)])
    return rows


QUERY_HEAD = ["docs", "shape", "n", "vn p50", "vn p95", "vn p99", "fts5 p50", "fts5 p95", "fts5 p99",
              "x p50", "x p95", "vn hit", "fts5 hit", "vn total", "fts5 total"]


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
                      fts_db: Path | None = None, seed: int = 5, timeout: float = 120.0) -> list[dict]:
    """Add one article (a copy of ``sample`` with a new id and a unique word) and
    time until a separate, already open SearchEngine finds it; once through
    ``indexer.build`` in-process (what ``POST /api/articles`` runs) and once
    through ``vnsearch index`` in a subprocess.  Both files are removed (and the
    index brought back) afterwards."""
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
            # (a plain query after a refresh also rebuilds the accent model).
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
    return records


def fts5_incremental(db_path: Path, docs: int, sample: Doc, seed: int = 5) -> dict:
    """The anchor: insert one row and commit on one connection, find it from another."""
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


def incremental_rows(records: Sequence[dict]) -> list[list[str]]:
    return [[fmt(r["docs"]), r["system"], r["path"], fmt(r["write_s"], 3), fmt(r["build_s"], 3),
             fmt(r["refresh_s"], 3), fmt(r["search_s"], 3), fmt(r["visible_s"], 3),
             fmt(r["plain_search_s"], 3), fmt(r["visible_plain_s"], 3), fmt(r["search_again_s"], 3),
             fmt(r["found"])] for r in records]


INCREMENTAL_HEAD = ["docs", "system", "path", "write s", "index s", "refresh s", "search s", "visible s",
                    "plain search s", "visible plain s", "again s", "found"]


# ---------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------

FULL_CORPUS_DOCS = 100_000        # the targets are stated "at 100k docs"
FULL_CORPUS_ARTICLES = 102_045    # vietnews: what a full build indexes


def targets(records: Sequence[dict]) -> list[dict]:
    """Each target against the run's records, with the ratio to FTS5."""
    out = []

    def add(name, value, ok, docs, vs_fts5=None, note=""):
        at_scale = docs is None or docs >= FULL_CORPUS_DOCS
        out.append({"section": "targets", "system": "vnsearch", "docs": docs, "target": name, "value": value,
                    "met": ok, "at_scale": at_scale, "vs_fts5": vs_fts5, "note": note})

    builds = [r for r in records if r["section"] == "build"]
    vn_builds = [r for r in builds if r["system"] == "vnsearch"]
    if vn_builds:
        b = max(vn_builds, key=lambda r: r["docs"])
        f = next((r for r in builds if r["system"] == "fts5" and r["corpus"] == b["corpus"]), None)
        value, wall, note = f"{b['wall_s']:.1f} s", b["wall_s"], ""
        if b["docs"] < FULL_CORPUS_DOCS and b["docs_per_s"]:
            wall = FULL_CORPUS_ARTICLES / b["docs_per_s"]
            value = f"{b['wall_s']:.1f} s; {FULL_CORPUS_ARTICLES:,} docs at this rate: {wall:.0f} s"
        note = f"{b['cores_busy']:.2f} cores busy, peak RSS {b['peak_rss_mb']:.0f} MB"
        add("full build <= 600 s", value, wall <= 600, b["docs"], ratio(b["wall_s"], f and f["wall_s"]), note)
    seg = [r for r in records if r["section"] == "segment" and r["system"] == "vnsearch"]
    arts = next((r for r in seg if r["what"] == "articles"), None)
    if arts:
        add("segmentation >= 2x pyvi, identical", f"x{arts['speedup']:.2f}, {arts['identical']}/{arts['compared']}",
            (arts["speedup"] or 0) >= 2 and arts["identical"] == arts["compared"], None)
    longs = [r for r in seg if r["what"].startswith("long")]
    if len(longs) >= 2:
        lin = ratio(longs[-1]["chars_per_s"], longs[0]["chars_per_s"])
        add("segmentation linear in length", f"chars/s at {longs[-1]['chars']:,} / at {longs[0]['chars']:,} = {lin}",
            lin is not None and lin >= 0.8 and all(r["identical"] for r in longs), None,
            note=f"x{longs[-1]['speedup']:.1f} pyvi on the longest")
    qs = [r for r in records if r["section"] == "queries" and r["shape"] == "all" and r["system"] == "vnsearch"]
    if qs:
        q = max(qs, key=lambda r: r["docs"])
        add("query p95 <= 50 ms (whole mix)", f"{q['p95_ms']} ms", q["p95_ms"] <= 50, q["docs"], q["ratio_p95"])
    sv = [r for r in records if r["section"] == "serve"]
    if sv:
        s = max(sv, key=lambda r: r["docs"])
        worst = max(s["worker_rss_mb"] or [0])
        add(">= 150 req/s, 0 errors", f"{s['rps']} req/s, {s['errors']} errors", (s["rps"] or 0) >= 150 and s["errors"] == 0,
            s["docs"], note="no FTS5 server to compare")
        add("worker RSS <= 300 MB", f"{worst} MB", worst <= 300, s["docs"])
    inc = [r for r in records if r["section"] == "incremental"]
    lib = next((r for r in inc if r["system"] == "vnsearch" and r["path"] == "library"), None)
    if lib:
        f = next((r for r in inc if r["system"] == "fts5"), None)
        worst = max(lib["visible_s"], lib["visible_plain_s"])
        add("incremental add visible <= 2 s", f"{lib['visible_s']} s accented query, {lib['visible_plain_s']} s plain",
            lib["found"] and worst <= 2, lib["docs"], ratio(worst, f and f["visible_s"]),
            note="verdict on the slower of the two")
    return out


def target_rows(records: Sequence[dict]) -> list[list[str]]:
    return [[r["target"], r["value"], "met" if r["met"] else "MISSED",
             fmt(r["docs"]) if r["docs"] is not None else "-",
             "" if r["at_scale"] else "below 100k docs: indicative only",
             f"x{r['vs_fts5']}" if r["vs_fts5"] is not None else "", r["note"]] for r in records]


TARGET_HEAD = ["target", "measured", "verdict", "docs", "scale", "vs fts5", "note"]


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

@dataclass
class Scale:
    corpus: Corpus
    index_dir: Path
    fts_db: Path
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
    ap.add_argument("--keep", action="store_true", help="keep the work directory (indexes, corpus, FTS5 db)")
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
            scale = Scale(corpus, index_dir, work / "reused" / "fts5.sqlite", ndocs, reused=True,
                          mutable_corpus=mutable)
            scale.fts_db.parent.mkdir(parents=True, exist_ok=True)
            log(f"FTS5: loading {corpus.docs} articles")
            build_recs.append(build_fts5(corpus, scale.fts_db, work, "fts5-reused"))
            scales.append(scale)
        else:
            for n in limits:
                tag = "all" if n is None else str(n)
                base = work / f"n{tag}"
                log(f"corpus: {'all' if n is None else f'first {n}'} articles of {args.data}")
                corpus = prepare_corpus(args.data, n, base / "corpus", generate="filtered" in sections)
                scale = Scale(corpus, base / "index", base / "fts5.sqlite")
                log(f"build: vnsearch index, {corpus.docs} articles, {corpus.bytes / 1e6:.1f} MB")
                rec = build_vnsearch(corpus, scale.index_dir, work, f"build-{tag}")
                scale.docs = rec["docs"]
                build_recs.append(rec)
                log(f"build: vnsearch {rec['wall_s']} s; FTS5 load")
                build_recs.append(build_fts5(corpus, scale.fts_db, work, f"fts5-{tag}"))
                log(f"build: FTS5 {build_recs[-1]['wall_s']} s")
                scales.append(scale)
        if build_recs:
            rep.section("Build: vnsearch index --full (subprocess) and the FTS5 anchor", BUILD_HEAD,
                        build_rows(build_recs), build_recs, left=(0, 1),
                        note="own s: the build's own report (without process start-up); cores: CPU s / wall s; "
                             "peak RSS: the largest process (GNU time %M); tree RSS: the process and its children "
                             "summed, sampled every 0.25 s")

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
                engine, fts = SearchEngine(scale.index_dir), FTS5Search(scale.fts_db)
                try:
                    timings = time_queries(engine, fts, mix)
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
            rep.section("Queries: SearchEngine.search(q, hits_per_page=10) with snippets vs FTS5, ms",
                        QUERY_HEAD, query_rows(q_recs), q_recs, left=(1,),
                        note="x p50 / x p95: vnsearch ÷ FTS5; hit: queries with ≥ 1 hit; total: mean totalHits. "
                             "FTS5 does not fold đ→d, so its plain queries miss words with đ.")
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
                                           largest.fts_db, args.seed)
                rep.section("Incremental: one new article until a separate open SearchEngine finds it",
                            INCREMENTAL_HEAD, incremental_rows(i_recs), i_recs, left=(1, 2),
                            note="library: indexer.build in-process (as POST /api/articles); cli: vnsearch index "
                                 "subprocess. search s: the first search after refresh(), accented (finds it: "
                                 "visible s); plain search s: then the same word typed plain (restores accents, "
                                 "after a refresh that rebuilds the accent model); again s: that plain search "
                                 "repeated. fts5: INSERT + COMMIT, read by another connection")
        return 0
    finally:
        t_recs = targets(rep.records)
        if t_recs:
            rep.section("Targets", TARGET_HEAD, target_rows(t_recs), t_recs, left=(0, 1, 2, 4, 6))
        rep.emit({"section": "end", "system": "host", "docs": None, "loadavg": list(os.getloadavg()),
                  "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        if args.keep:
            log(f"kept {work} (reuse an index: --index-dir {work}/n<N>/index)")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
