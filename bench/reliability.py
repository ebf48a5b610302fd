#!/usr/bin/env python3
"""Reliability harness: SIGKILLed builds, searches during rebuilds, fuzzing, with figures.

Usage (from the repository root)::

    python bench/reliability.py                      # everything, the long variants
    python bench/reliability.py --kills 60 --crash-points all --load-rounds 4 --fuzz 2000
    python bench/reliability.py --only kills --kills 10 --json
    python bench/reliability.py --only slow --idle 50 --slow 50 --slow-seconds 60

Six campaigns; each prints its figures and ``0 lost, 0 corrupt, 0 errors``
or exits non-zero:

* **kills** -- a synthetic corpus (real Vietnamese sentences from the seed
  pages, a unique code word per article, ``.txt`` files and ``.jsonl`` batches)
  is indexed, then changed (articles added, edited, deleted) and indexed again
  with ``vnsearch index`` or ``vnsearch index --full`` in a subprocess that is
  killed with SIGKILL, either after a random delay (``--kills``) or exactly
  before its k-th file-system operation in the index directory (create, rename,
  replace, fsync, unlink, symlink, link, mkdir, rmdir; ``--crash-points``: a
  number of sampled points per mode, or ``all``). After each kill the index
  must open, hold exactly the articles of before the build or exactly those of
  after it (a build is all or nothing), lose none that were searchable before
  and are still in the corpus, and have no duplicates; then a plain
  ``vnsearch index`` (no ``--wait``: a stale lock must not block it) must
  succeed and leave exactly the corpus, with no unpublished leftovers.
* **load** -- ``vnsearch serve --workers 2`` on a free loopback port; reader
  threads search for queries known to have hits (each article's code word:
  exactly one hit; common words: at least the count they had before) while a
  writer runs full rebuilds, incremental updates (files added, edited by
  appending text, added files deleted again), ``POST /api/articles`` and
  ``POST /api/reindex?full=1``. Any non-200 reply, an empty or smaller result
  set, or a connection error is counted as an error.
* **bulk** -- 10,000 vietnews articles (``../shared/data``) posted as one
  NDJSON body (``VNSEARCH_MAX_CONTENT_LENGTH`` raised) to ``vnsearch serve``:
  one task, succeeded, every sampled article stored.
* **rebuild** -- a ``POST /api/reindex?full=1`` task over 20,000 vietnews
  articles while clients search at a bounded rate: 0 errors, p99 < 500 ms.
* **slow** -- ``vnsearch serve --workers 2`` beside ``--idle`` connections that
  send nothing and ``--slow`` ones sending a request's headers one byte a second
  (each reopened when the server closes it); ``--threads`` clients search for
  ``--slow-seconds``. Any non-200 reply or connection error is an error, and a
  p99 of 200 ms or more fails the run.
* **fuzz** -- ``tests/test_fuzz.py`` under pytest with
  ``VNSEARCH_FUZZ_EXAMPLES=N`` (examples per property), counting the examples
  hypothesis ran.

The tests (``tests/test_reliability.py``) run small versions of the first two
through the same functions.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:           # works installed (editable) or not
    sys.path.insert(0, str(REPO))

SEED_PAGES = sorted((REPO / "corpus").glob("*.txt"))
Log = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


# --------------------------------------------------------------------------- the synthetic corpus
def seed_sentences() -> list[str]:
    """Sentences of the five seed pages (their article text, furniture removed)."""
    from indexer.ingest import parse_txt

    out: list[str] = []
    for page in SEED_PAGES:
        text = parse_txt(page.read_text(encoding="utf-8"), page.name).text
        for part in re.split(r"(?<=[.!?…])\s+|\n+", text):
            part = part.strip()
            if 40 <= len(part) <= 400 and part[-1] in ".!?…" and any(c.isalpha() for c in part):
                out.append(part)
    return sorted(set(out))


def code_word(n: int) -> str:
    """A word that occurs in exactly one article (its title and first line)."""
    return f"vnr{n:05d}"


COMMON_QUERIES = ("đảng", "dang uy", "cán bộ", "\"đảng viên\"", "to chuc", "phát triển")


class SyntheticCorpus:
    """A corpus directory of ``rNNNNN.txt`` pages and ``batch-NNN.jsonl`` files.

    ``expected`` maps every article id in the corpus to its code word; every
    code ever used is kept in ``codes`` (a deleted article must stay deleted).
    """

    def __init__(self, directory: Path, rng: random.Random, articles: int = 120,
                 batch_size: int = 10, sentences_per_article: tuple[int, int] = (4, 12)) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.rng = rng
        self.sentences = seed_sentences()
        self.per_article = sentences_per_article
        self.batch_size = batch_size
        self.next_n = 1
        self.next_batch = 1
        self.txt: dict[str, str] = {}                  # id -> code (one file each)
        self.batches: dict[str, dict[str, str]] = {}   # file name -> {id: code}
        self.codes: dict[str, str] = {}                # code -> id, ever
        self.version: dict[str, int] = {}
        n_jsonl = articles // 4
        for _ in range(articles - n_jsonl):
            self.add_txt()
        while n_jsonl > 0:
            self.add_batch(min(batch_size, n_jsonl))
            n_jsonl -= batch_size

    # -- what it holds
    @property
    def expected(self) -> dict[str, str]:
        out = dict(self.txt)
        for members in self.batches.values():
            out.update(members)
        return out

    # -- writing articles
    def _new(self, prefix: str) -> tuple[str, str]:
        n = self.next_n
        self.next_n += 1
        article_id, code = f"{prefix}{n:05d}", code_word(n)
        self.codes[code] = article_id
        return article_id, code

    def _body(self, code: str, extra: int = 0) -> tuple[str, str]:
        lo, hi = self.per_article
        picked = self.rng.sample(self.sentences, min(len(self.sentences), self.rng.randint(lo, hi) + extra))
        title = picked[0][:90].rstrip(" ,.;:") + f" {code}"
        paragraphs = [f"Bài {code}: {picked[0]}"] + picked[1:]
        return title, "\n\n".join(paragraphs)

    def _write_txt(self, article_id: str, code: str, extra: int = 0, append: str | None = None) -> None:
        path = self.dir / f"{article_id}.txt"
        if append is not None:
            with open(path, "a", encoding="utf-8") as f:
                f.write(f"\n{append}\n")
        else:
            title, body = self._body(code, extra)
            path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
        self.version[article_id] = self.version.get(article_id, 0) + 1

    def add_txt(self) -> str:
        article_id, code = self._new("r")
        self._write_txt(article_id, code)
        self.txt[article_id] = code
        return article_id

    def _write_batch(self, name: str) -> None:
        lines = []
        for article_id, code in self.batches[name].items():
            title, body = self._body(code)
            lines.append(json.dumps({"id": article_id, "title": title, "text": body, "source": "bench"},
                                    ensure_ascii=False))
        (self.dir / name).write_text("\n".join(lines) + "\n", encoding="utf-8")

    def add_batch(self, size: int) -> str:
        name = f"batch-{self.next_batch:03d}.jsonl"
        self.next_batch += 1
        self.batches[name] = dict(self._new("j") for _ in range(size))
        self._write_batch(name)
        return name

    def edit_txt(self, article_id: str, append: str | None = None) -> None:
        self._write_txt(article_id, self.txt[article_id], extra=self.rng.randint(0, 3), append=append)

    def delete_txt(self, article_id: str) -> None:
        (self.dir / f"{article_id}.txt").unlink()
        del self.txt[article_id]

    # -- a random change set
    def mutate(self) -> str:
        """Add, edit and delete a few articles; returns what was done."""
        rng, done = self.rng, []
        if rng.random() < 0.7:
            k = rng.randint(1, 25)
            for _ in range(k):
                self.add_txt()
            done.append(f"+{k} txt")
        if rng.random() < 0.5 and len(self.txt) > 20:
            k = rng.randint(1, 8)
            for article_id in rng.sample(sorted(self.txt), k):
                self.edit_txt(article_id)
            done.append(f"~{k} txt")
        if rng.random() < 0.4 and len(self.txt) > 40:
            k = rng.randint(1, 6)
            for article_id in rng.sample(sorted(self.txt), k):
                self.delete_txt(article_id)
            done.append(f"-{k} txt")
        r = rng.random()
        if r < 0.25:
            done.append(f"+batch {self.add_batch(rng.randint(1, self.batch_size))}")
        elif r < 0.45 and self.batches:
            name = rng.choice(sorted(self.batches))
            members = self.batches[name]
            if len(members) > 1 and rng.random() < 0.5:
                members.pop(rng.choice(sorted(members)))          # one line deleted
            members.update([self._new("j")])                      # one line added
            self._write_batch(name)                               # every line's text changed
            done.append(f"~{name}")
        elif r < 0.55 and len(self.batches) > 2:
            name = rng.choice(sorted(self.batches))
            (self.dir / name).unlink()
            del self.batches[name]
            done.append(f"-{name}")
        if not done:
            self.add_txt()
            done.append("+1 txt")
        return ", ".join(done)


# --------------------------------------------------------------------------- looking into an index
@dataclass
class Probe:
    ids: frozenset[str]
    documents: int
    problems: list[str]


def probe(index_dir: Path, codes: dict[str, str], sample: int = 3, rng: random.Random | None = None) -> Probe:
    """What the index in ``index_dir`` makes searchable, checked for corruption.

    Every code word ever used is searched (title, folded): each must find at
    most one document, whose stored id is the code's article; every stored
    document must be found by its code; ``SearchEngine`` (the code path of the
    CLI and the web) must open, count the same documents and find a few codes.
    Raises nothing: failures are listed in ``problems``.
    """
    from whoosh import query as Q

    from indexer import SearchEngine
    from indexer.index import generations

    problems: list[str] = []
    ids: set[str] = set()
    documents = -1
    try:
        ix = generations.open_current(index_dir)
        with ix.searcher() as s:
            documents = s.doc_count()
            found = s.search(Q.Or([Q.Term("title_f", code) for code in codes]), limit=None)
            per_code: dict[str, list[str]] = {}
            for hit in found:
                doc_id = hit["id"]
                words = [c for c in re.findall(r"vnr\d{5}", hit["title"]) if c in codes]
                if len(words) != 1 or codes[words[0]] != doc_id:
                    problems.append(f"document {doc_id!r} has the wrong title {hit['title'][-20:]!r}")
                    continue
                per_code.setdefault(words[0], []).append(doc_id)
                ids.add(doc_id)
            for code, docs in per_code.items():
                if len(docs) > 1:
                    problems.append(f"{code} found {len(docs)} times (duplicates)")
            if len(found) != documents:
                problems.append(f"{documents} documents but {len(found)} found by their code")
            for stored in s.all_stored_fields():           # every stored document readable
                if not stored.get("id") or "body" not in stored:
                    problems.append(f"unreadable stored document {stored!r:.60}")
        with SearchEngine(index_dir) as engine:
            if engine.stats()["documents"] != documents:
                problems.append("SearchEngine counts other documents than the index")
            for doc_id in (rng or random).sample(sorted(ids), min(sample, len(ids))):
                code = next(c for c, i in codes.items() if i == doc_id)
                hits = engine.search(code)["hits"]
                if [h["id"] for h in hits] != [doc_id]:
                    problems.append(f"search {code!r} found {[h['id'] for h in hits]}, not {doc_id}")
    except Exception as e:      # noqa: BLE001 - an index that does not open is the finding
        problems.append(f"{type(e).__name__}: {e}")
    return Probe(frozenset(ids), documents, problems)


def leftovers(index_dir: Path) -> list[str]:
    """Debris a finished build must have removed: unpublished generations,
    temporary CURRENT links, temporary manifests and Whoosh TOCs."""
    from indexer.index import generations

    out = [p.name for p in Path(index_dir).glob(f".{generations.CURRENT}.*")]
    try:
        current = generations.current_generation(index_dir)
    except generations.IndexNotFound:
        return out + ["no CURRENT"]
    for gen in Path(index_dir).glob(f"{generations.GEN_PREFIX}*"):
        if gen != current and not generations.is_retired(gen):
            out.append(gen.name)
    out += [f"{current.name}/{p.name}" for p in current.iterdir()
            if p.name.endswith(".tmp") or re.search(r"\.toc\.", p.name)]
    return out


# --------------------------------------------------------------------------- running the CLI
def vnsearch_command() -> list[str]:
    script = Path(sys.executable).with_name("vnsearch")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "webui.cli"]


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VNSEARCH_")}
    env.update(PYTHONUNBUFFERED="1", PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""))
    env.update(extra)
    return env


def die_with_parent() -> None:
    """``preexec_fn``: on Linux, SIGTERM the child when the process that started it
    dies (a test run killed by a timeout must not leave a server or a paused
    writer behind; they run in their own session, out of reach of its signals)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)     # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def run_cli(index_dir: Path, args: Sequence[str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(vnsearch_command() + ["--index-dir", str(index_dir), *map(str, args)],
                          env=cli_env(), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


# Run `vnsearch ARGS…` and stop it at one of its file-system operations under
# VNSEARCH_CRASH_ROOT: just before the k-th one (VNSEARCH_CRASH_AT=k; 0: never),
# or before the first whose label ("<kind> <path relative to the root>") matches
# the regex VNSEARCH_CRASH_MATCH. VNSEARCH_CRASH_ACTION=kill (default) SIGKILLs
# the process; =pause creates the file VNSEARCH_PAUSE_FILE and waits until it is
# deleted (a writer held inside the build lock). Every operation is logged
# (number, kind, path) to VNSEARCH_CRASH_LOG before it runs.
CRASH_WRAPPER = r'''
import builtins, os, re, signal, sys, time
_root = os.path.realpath(os.environ["VNSEARCH_CRASH_ROOT"]) + os.sep
_at = int(os.environ.get("VNSEARCH_CRASH_AT", "0"))
_match = re.compile(os.environ["VNSEARCH_CRASH_MATCH"]) if os.environ.get("VNSEARCH_CRASH_MATCH") else None
_action = os.environ.get("VNSEARCH_CRASH_ACTION", "kill")
_pause_file = os.environ.get("VNSEARCH_PAUSE_FILE")
_log = os.environ.get("VNSEARCH_CRASH_LOG")
_real_open, _real_readlink, _real_exists = builtins.open, os.readlink, os.path.exists
_count = 0
_fired = False

def _resolve(p, dir_fd=None):
    try:
        if isinstance(p, int):
            return _real_readlink(f"/proc/self/fd/{p}")
        p = os.fsdecode(p)
        if dir_fd is not None and not os.path.isabs(p):
            return os.path.join(_real_readlink(f"/proc/self/fd/{dir_fd}"), p)
        return os.path.join(os.path.realpath(os.path.dirname(os.path.abspath(p))), os.path.basename(p))
    except (OSError, TypeError, ValueError):
        return ""

def _point(kind, p, dir_fd=None):
    global _count, _fired
    path = _resolve(p, dir_fd)
    if not path.startswith(_root):
        return
    _count += 1
    label = f"{kind} {path[len(_root):]}"
    if _log:
        with _real_open(_log, "a") as f:
            f.write(f"{_count}\t{kind}\t{path[len(_root):]}\n")
    if _fired or not (_count == _at or (_match is not None and _match.search(label))):
        return
    _fired = True
    if _action == "pause":
        _real_open(_pause_file, "w").close()
        while _real_exists(_pause_file):
            time.sleep(0.02)
        return
    os.kill(os.getpid(), signal.SIGKILL)

def _wrap(name, argn):
    real = getattr(os, name)
    def wrapper(*args, **kwargs):
        target = args[argn] if len(args) > argn else kwargs.get(("path", "dst")[argn])
        _point(name, target, kwargs.get("dir_fd") or kwargs.get("src_dir_fd"))
        return real(*args, **kwargs)
    setattr(os, name, wrapper)

for _name, _argn in (("rename", 0), ("replace", 0), ("remove", 0), ("unlink", 0), ("rmdir", 0),
                     ("mkdir", 0), ("fsync", 0), ("symlink", 1), ("link", 1)):
    _wrap(_name, _argn)

_real_os_open = os.open
def _os_open(path, flags, *args, **kwargs):
    if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR | os.O_TRUNC):
        _point("create", path, kwargs.get("dir_fd"))
    return _real_os_open(path, flags, *args, **kwargs)
os.open = _os_open

def _open(file, mode="r", *args, **kwargs):
    if isinstance(file, (str, bytes, os.PathLike)) and any(c in mode for c in "wax+"):
        _point("create", file)
    return _real_open(file, mode, *args, **kwargs)
builtins.open = _open

from indexer.cli import main
main(args=sys.argv[1:], prog_name="vnsearch")
'''


def crash_command(index_dir: Path, args: Sequence[str]) -> list[str]:
    return [sys.executable, "-c", CRASH_WRAPPER, "--index-dir", str(index_dir), *map(str, args)]


class PausedWriter:
    """`vnsearch ARGS…` held just before its first file operation matching ``match``
    (inside the build lock, e.g. ``^symlink \\.CURRENT\\.``) until ``release()``."""

    def __init__(self, index_dir: Path, args: Sequence, match: str, workdir: Path) -> None:
        self.pause_file = Path(workdir) / f"paused-{os.getpid()}-{time.monotonic_ns()}"
        env = cli_env(VNSEARCH_CRASH_ROOT=str(index_dir), VNSEARCH_CRASH_MATCH=match,
                      VNSEARCH_CRASH_ACTION="pause", VNSEARCH_PAUSE_FILE=str(self.pause_file))
        self.proc = subprocess.Popen(crash_command(index_dir, args), env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=die_with_parent)

    def wait_paused(self, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while not self.pause_file.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"the writer exited ({self.proc.returncode}) before pausing: "
                                   f"{self.proc.stderr.read()[-500:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("the writer did not reach its pause point")
            time.sleep(0.02)

    def release(self) -> None:
        self.pause_file.unlink(missing_ok=True)

    def finish(self, seconds: float = 300) -> subprocess.CompletedProcess:
        self.release()
        out, err = self.proc.communicate(timeout=seconds)
        return subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)


_LABELS = [(re.compile(r"gen-[^/]+"), "gen-*"), (re.compile(r"MAIN_[0-9a-z]{16,}"), "MAIN_*"),
           (re.compile(r"_MAIN_\d+\.toc\.[\d.]+"), "_MAIN_N.toc.tmp"), (re.compile(r"_MAIN_\d+\.toc"), "_MAIN_N.toc"),
           (re.compile(r"\.CURRENT\.[0-9a-f]+"), ".CURRENT.tmp"), (re.compile(r"/[0-9a-z]+\.ctmp$"), "/*.ctmp")]


def crash_label(kind: str, path: str) -> str:
    for pattern, repl in _LABELS:
        path = pattern.sub(repl, path)
    return f"{kind} {path}"


def read_crash_log(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [crash_label(*line.split("\t")[1:3]) for line in path.read_text().splitlines() if line.count("\t") == 2]


# --------------------------------------------------------------------------- the kill campaign
@dataclass
class KillFigures:
    runs: int = 0                  # builds started to be killed
    kills: int = 0                 # ... actually killed by SIGKILL
    completed: int = 0             # ... that finished before the kill came
    random_time_kills: int = 0
    random_kills_while_writing: int = 0   # ... of which once it held the build lock (its first file operation)
    crash_point_kills: int = 0
    full_kills: int = 0
    incremental_kills: int = 0
    old_state_after_kill: int = 0  # the index held exactly the articles of before the build
    new_state_after_kill: int = 0  # ... exactly those of after it
    lost: int = 0                  # articles searchable before, still in the corpus, gone after a kill
    corrupt: int = 0               # kills after which the index failed a check (or was partly updated)
    recovery_failures: int = 0     # a following `vnsearch index` failed (e.g. busy) or left a wrong index
    leftovers: int = 0             # unpublished generations/temp files a finished build did not remove
    articles: int = 0              # in the corpus at the end
    seconds: float = 0.0
    crash_points: dict[str, int] = field(default_factory=dict)   # operation killed before -> count
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.lost or self.corrupt or self.recovery_failures or self.leftovers or self.failures)

    def summary(self) -> str:
        return (f"kills: {self.kills} SIGKILLs survived ({self.full_kills} of `index --full`, "
                f"{self.incremental_kills} of `index`; {self.random_time_kills} at random moments "
                f"({self.random_kills_while_writing} of them inside the build lock), "
                f"{self.crash_point_kills} before chosen file operations; {self.completed} builds finished "
                f"before their kill); after a kill the index held the old state {self.old_state_after_kill}x, "
                f"the new state {self.new_state_after_kill}x; {self.lost} lost, {self.corrupt} corrupt, "
                f"{self.recovery_failures} failed recoveries, {self.leftovers} leftovers; "
                f"{self.articles} articles; {self.seconds:.0f}s")


class KillCampaign:
    def __init__(self, root: Path, seed: int = 0, articles: int = 120, log: Log = _quiet) -> None:
        self.root = Path(root)
        self.rng = random.Random(seed)
        self.log = log
        self.corpus = SyntheticCorpus(self.root / "corpus", self.rng, articles)
        self.index = self.root / "index"
        self.figures = KillFigures()
        self.durations: dict[str, float] = {}
        self.startup = 0.0
        self.points: dict[str, int] = {}
        self._started = time.monotonic()
        self._recover(initial=True)

    def _args(self, mode: str) -> list[str]:
        return ["index", "--full", self.corpus.dir] if mode == "full" else ["index", self.corpus.dir]

    def _recover(self, initial: bool = False) -> Probe:
        """A plain `vnsearch index` (no --wait) must finish and leave exactly the corpus."""
        expected = self.corpus.expected
        done = run_cli(self.index, ["index", self.corpus.dir])
        result = probe(self.index, self.corpus.codes, rng=self.rng)
        bad = []
        if done.returncode != 0:
            bad.append(f"`vnsearch index` exited {done.returncode}: {done.stderr.strip()[-300:]}")
        if result.problems:
            bad.append("; ".join(result.problems[:5]))
        if result.ids != frozenset(expected) or result.documents != len(expected):
            missing = sorted(set(expected) - result.ids)[:5]
            extra = sorted(result.ids - set(expected))[:5]
            bad.append(f"after recovery: {result.documents} documents, missing {missing}, extra {extra}")
        debris = leftovers(self.index)
        if initial and bad:
            raise RuntimeError("the initial build failed: " + " / ".join(bad))
        if bad:
            self.figures.recovery_failures += 1
            self.figures.failures.append(" / ".join(bad))
        if debris:
            self.figures.leftovers += 1
            self.figures.failures.append(f"leftovers after a finished build: {debris}")
        return result

    def calibrate(self) -> None:
        """How long an unkilled build of each mode takes, how many operations it does,
        and how long `vnsearch index` takes with nothing to do (start-up, hashing)."""
        started = time.monotonic()
        run_cli(self.index, ["index", self.corpus.dir])
        self.startup = time.monotonic() - started
        self.log(f"  nothing to do: {self.startup:.2f}s")
        for mode in ("full", "incremental"):
            self.corpus.mutate()
            log_path = self.root / f"calibrate-{mode}.log"
            log_path.unlink(missing_ok=True)
            started = time.monotonic()
            done = subprocess.run(crash_command(self.index, self._args(mode)), capture_output=True, text=True,
                                  env=cli_env(VNSEARCH_CRASH_ROOT=str(self.index), VNSEARCH_CRASH_LOG=str(log_path)),
                                  stdin=subprocess.DEVNULL, timeout=300)
            self.durations[mode] = time.monotonic() - started
            if done.returncode != 0:
                raise RuntimeError(f"calibration build failed: {done.stderr[-500:]}")
            self.points[mode] = len(read_crash_log(log_path))
            self._recover()
            self.log(f"  {mode}: {self.durations[mode]:.2f}s, {self.points[mode]} file operations")

    def once(self, mode: str, *, delay: float | None = None, crash_at: int | None = None,
             crash_match: str | None = None) -> None:
        """Change the corpus, start a build, kill it (after ``delay`` seconds, before
        file operation number ``crash_at`` or before the first matching ``crash_match``),
        check the index, recover."""
        f = self.figures
        pointed = bool(crash_at or crash_match)
        before = probe(self.index, self.corpus.codes, rng=self.rng)
        if before.problems:
            f.corrupt += 1
            f.failures.append(f"before a run: {before.problems[:3]}")
        # (a kill before a chosen operation needs a build that gets there: always a change)
        change = self.corpus.mutate() if pointed or self.rng.random() < 0.85 else "no change"
        target = frozenset(self.corpus.expected)
        log_path = self.root / "crash.log"
        log_path.unlink(missing_ok=True)
        env = cli_env(VNSEARCH_CRASH_ROOT=str(self.index), VNSEARCH_CRASH_LOG=str(log_path),
                      VNSEARCH_CRASH_AT=str(crash_at or 0), VNSEARCH_CRASH_MATCH=crash_match or "")
        command = crash_command(self.index, self._args(mode))      # logs its file operations
        f.runs += 1
        proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if delay is not None:
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
        _, stderr = proc.communicate(timeout=300)
        how = f"at {delay:.2f}s" if delay is not None else \
            f"before operation {crash_at}" if crash_at else f"before /{crash_match}/"
        if proc.returncode != -signal.SIGKILL:
            if proc.returncode != 0:
                f.failures.append(f"{mode} build ({change}) exited {proc.returncode}: {stderr[-300:]}")
            f.completed += 1
            self._recover()
            return
        f.kills += 1
        if mode == "full":
            f.full_kills += 1
        else:
            f.incremental_kills += 1
        ops = read_crash_log(log_path)
        if pointed:
            f.crash_point_kills += 1
            label = ops[-1] if ops else "?"
            f.crash_points[label] = f.crash_points.get(label, 0) + 1
            how += f" = {label}"
        else:
            f.random_time_kills += 1
            if ops:
                f.random_kills_while_writing += 1
                how += f", after {len(ops)} file operations"
        after = probe(self.index, self.corpus.codes, rng=self.rng)
        lost = (before.ids & target) - after.ids
        state = "old" if after.ids == before.ids else "new" if after.ids == target else "partial"
        if state == "old":
            f.old_state_after_kill += 1
        elif state == "new":
            f.new_state_after_kill += 1
        bad = after.problems + ([f"a partial build is visible: {len(after.ids)} articles, "
                                 f"{len(before.ids)} before, {len(target)} after"] if state == "partial" else [])
        if after.documents != len(after.ids):
            bad.append(f"{after.documents} documents for {len(after.ids)} articles")
        if lost:
            f.lost += len(lost)
            bad.append(f"lost {sorted(lost)[:5]}")
        if bad:
            f.corrupt += 1
            f.failures.append(f"{mode} kill {how} ({change}): " + "; ".join(bad[:4]))
        self.log(f"  {mode:11} killed {how}: {state} state" + (" — " + "; ".join(bad[:2]) if bad else ""))
        self._recover()

    def random_kills(self, count: int) -> None:
        """Kill at a random moment, mostly after start-up (when the build does its work)."""
        for i in range(count):
            mode = "full" if i % 2 == 0 else "incremental"
            low = 0.05 if self.rng.random() < 0.1 else 0.8 * self.startup
            self.once(mode, delay=self.rng.uniform(low, max(low + 0.1, 1.1 * self.durations[mode])))

    def crash_point_kills(self, per_mode: int | None) -> None:
        """Kill before sampled operations (``per_mode``) or before every one (None)."""
        for mode in ("full", "incremental"):
            n = self.points[mode]
            points = list(range(1, n + 1)) if per_mode is None else \
                sorted(self.rng.sample(range(1, n + 1), min(per_mode, n)))
            for k in points:
                self.once(mode, crash_at=k)

    def named_crash_points(self, patterns: dict[str, Sequence[str]] | None = None) -> None:
        """Kill before the first operation matching each pattern, per mode."""
        for mode, regexes in (patterns or NAMED_CRASH_POINTS).items():
            for regex in regexes:
                self.once(mode, crash_match=regex)

    def finish(self) -> KillFigures:
        self.figures.articles = len(self.corpus.expected)
        self.figures.seconds = time.monotonic() - self._started
        return self.figures


# The windows where a build is most fragile, as regexes over "<operation> <path>".
NAMED_CRASH_POINTS: dict[str, tuple[str, ...]] = {
    "full": (
        r"^rename gen-[^/]+/_MAIN_\d+\.toc\.",        # Whoosh publishing its TOC (segments written)
        r"^replace gen-[^/]+/\.MANIFEST",              # after the commit, before the manifest
        r"^fsync gen-[^/]+$",                           # fsyncing the finished generation
        r"^replace \.CURRENT\.",                        # the swap (temporary link made)
    ),
    "incremental": (
        r"^link gen-",                                  # cloning the current generation
        r"^remove gen-[^/]+/(_MAIN_\d+\.toc|MAIN_)",     # Whoosh deleting what it merged away
        r"^replace gen-[^/]+/\.MANIFEST",
        r"^create gen-[^/]+/RETIRED",                   # the old generation marked, not yet swapped
    ),
}


def kill_campaign(root: Path, kills: int, crash_points: int | None, seed: int = 0, articles: int = 120,
                  log: Log = _quiet) -> KillFigures:
    campaign = KillCampaign(root, seed=seed, articles=articles, log=log)
    campaign.calibrate()
    campaign.random_kills(kills)
    campaign.named_crash_points()
    campaign.crash_point_kills(crash_points)
    return campaign.finish()


# --------------------------------------------------------------------------- the server and the load
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`vnsearch serve` on a free loopback port, in its own process group."""

    def __init__(self, index_dir: Path, corpus_dir: Path, log_path: Path, token: str | None = None,
                 workers: int = 2, max_content_length: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        extra = {"VNSEARCH_CORPUS_DIR": str(corpus_dir)}
        if token:
            extra["VNSEARCH_ADMIN_TOKEN"] = token
        if max_content_length:
            extra["VNSEARCH_MAX_CONTENT_LENGTH"] = str(max_content_length)
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            vnsearch_command() + ["--index-dir", str(index_dir), "serve", "--host", "127.0.0.1",
                                  "--port", str(self.port), "--workers", str(workers)],
            cwd=REPO, env=cli_env(**extra), stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent)

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"vnsearch serve exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/search?q=a", timeout=2):
                    return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        raise RuntimeError(f"vnsearch serve not ready after {seconds}s:\n{self.output()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)          # gunicorn: graceful shutdown
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)   # the group this harness started
                self.proc.wait(timeout=10)
        self._log.close()

    def __enter__(self) -> "Server":
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def http(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
         timeout: float = 60) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def task_done(answer: tuple[int, dict, bytes]) -> tuple[str, bytes]:
    """The task status of a write's answer (``?wait``: finished, unless it timed out), or the HTTP status."""
    status, _, body = answer
    if status != 202:
        return f"HTTP {status}", body
    return json.loads(body)["status"], body


@dataclass
class LoadFigures:
    requests: int = 0             # searches answered during the writes
    errors: int = 0               # non-200 replies and connection errors
    empty: int = 0                # 0 hits for a query that had hits before
    partial: int = 0              # fewer hits than before
    wrong: int = 0                # a code word finding another article
    full_rebuilds: int = 0        # `vnsearch index --full` and POST /api/reindex?full=1
    incremental_updates: int = 0  # `vnsearch index` after changes, POST /api/articles
    write_errors: int = 0
    threads: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.errors or self.empty or self.partial or self.wrong or self.write_errors or self.failures)

    def summary(self) -> str:
        return (f"load: {self.requests} requests (searches, 1 in 10 an article page) answered by `vnsearch serve --workers 2` from {self.threads} "
                f"client threads during {self.full_rebuilds} full rebuilds and {self.incremental_updates} "
                f"incremental updates in {self.seconds:.1f}s (p50 {self.p50_ms:.0f} ms, p99 {self.p99_ms:.0f} ms, "
                f"max {self.max_ms:.0f} ms); {self.errors} errors, {self.empty} empty, {self.partial} partial, "
                f"{self.wrong} wrong, {self.write_errors} failed writes")


def _search(base: str, q: str, per_page: int = 5) -> tuple[int, dict | None, float]:
    started = time.monotonic()
    url = f"{base}/api/search?" + urllib.parse.urlencode({"q": q, "hitsPerPage": per_page})
    status, _headers, body = http("GET", url, timeout=30)
    elapsed = (time.monotonic() - started) * 1000
    try:
        return status, json.loads(body), elapsed
    except ValueError:
        return status, None, elapsed


def load_during_rebuild(root: Path, *, rounds: int = 2, threads: int = 4, articles: int = 80, seed: int = 0,
                        log: Log = _quiet) -> LoadFigures:
    """Searches against `vnsearch serve` while a writer rebuilds and updates the index."""
    from indexer import build

    root = Path(root)
    rng = random.Random(seed)
    corpus = SyntheticCorpus(root / "corpus", rng, articles)
    index = root / "index"
    build(index, [corpus.dir], full=True, progress=False)
    token = "load-test-token"
    figures = LoadFigures(threads=threads)
    stable = sorted(corpus.txt)                        # never deleted during the run
    code_queries = {corpus.txt[i]: i for i in rng.sample(stable, min(15, len(stable)))}
    with Server(index, corpus.dir, root / "server.log", token=token) as server:
        baseline: dict[str, int] = {}
        for q in list(code_queries) + list(COMMON_QUERIES):
            status, data, _ = _search(server.url, q)
            if status != 200 or not data or not data["totalHits"]:
                raise RuntimeError(f"baseline query {q!r}: {status} {data!r:.200}")
            baseline[q] = data["totalHits"]
        queries = sorted(baseline)
        stop = threading.Event()
        lock = threading.Lock()
        latencies: list[float] = []

        def fail(kind: str, message: str) -> None:
            with lock:
                setattr(figures, kind, getattr(figures, kind) + 1)
                if len(figures.failures) < 20:
                    figures.failures.append(message)

        def reader(worker: int) -> None:
            """Mostly searches (some of 100 hits, each with a snippet); also article pages."""
            local = random.Random(seed * 100 + worker)
            while not stop.is_set():
                q = local.choice(queries)
                roll = local.random()
                try:
                    if roll < 0.1:
                        code = local.choice(sorted(code_queries))
                        started = time.monotonic()
                        status, _, body = http("GET", f"{server.url}/articles/{code_queries[code]}?"
                                               + urllib.parse.urlencode({"q": q}), timeout=30)
                        ms = (time.monotonic() - started) * 1000
                        data = {"page": code} if code.encode() in body else None
                    else:
                        status, data, ms = _search(server.url, q, 100 if roll < 0.25 else 5)
                except Exception as e:     # noqa: BLE001 - a refused/reset connection is an error
                    fail("errors", f"{q!r}: {type(e).__name__}: {e}")
                    continue
                with lock:
                    figures.requests += 1
                    latencies.append(ms)
                if status != 200 or data is None:
                    fail("errors", f"{q!r}: HTTP {status} {data!r:.200}")
                elif "page" in data:
                    pass                          # the article page, with its code word in it
                elif data["totalHits"] == 0 or not data["hits"]:
                    fail("empty", f"{q!r}: no hits (had {baseline[q]})")
                elif data["totalHits"] < baseline[q]:
                    fail("partial", f"{q!r}: {data['totalHits']} hits, had {baseline[q]}")
                elif q in code_queries and [h["id"] for h in data["hits"]] != [code_queries[q]]:
                    fail("wrong", f"{q!r}: {[h['id'] for h in data['hits']]}")

        def write(what: str, ok: bool, detail: str = "") -> None:
            if not ok:
                figures.write_errors += 1
                figures.failures.append(f"writer: {what} failed: {detail[-300:]}")
            log(f"  {what}: {'ok' if ok else 'FAILED ' + detail[-200:]}")

        def cli(args: list, what: str, full: bool) -> None:
            done = run_cli(index, [*args, "--wait", "120", corpus.dir])
            write(what, done.returncode == 0, done.stderr)
            if full:
                figures.full_rebuilds += 1
            else:
                figures.incremental_updates += 1

        readers = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(threads)]
        started = time.monotonic()
        for t in readers:
            t.start()
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        try:
            for r in range(rounds):
                cli(["index", "--full"], "vnsearch index --full", True)
                added = [corpus.add_txt() for _ in range(rng.randint(2, 6))]
                cli(["index"], f"+{len(added)} files, vnsearch index", False)
                edited = rng.sample(stable, 4)
                for article_id in edited:        # appended text: every query word stays
                    corpus.edit_txt(article_id, append=rng.choice(corpus.sentences))
                cli(["index"], "4 files edited, vnsearch index", False)
                title, text = corpus._body(f"vnrpost{r}")
                record = {"id": f"post-{seed}-{r}", "title": title, "text": text}
                status, body = task_done(http("POST", f"{server.url}/api/articles?wait=60",
                                              json.dumps(record).encode(), auth))
                write("POST /api/articles", status == "succeeded", f"{status} {body[:300]!r}")
                figures.incremental_updates += 1
                status, body = task_done(http("POST", f"{server.url}/api/reindex?full=1&wait=60", b"", auth))
                write("POST /api/reindex?full=1", status == "succeeded", f"{status} {body[:300]!r}")
                figures.full_rebuilds += 1
                for article_id in added:
                    corpus.delete_txt(article_id)
                cli(["index"], f"-{len(added)} added files, vnsearch index", False)
        finally:
            stop.set()
            for t in readers:
                t.join(timeout=60)
        figures.seconds = time.monotonic() - started
        if server.proc.poll() is not None:
            figures.failures.append(f"the server died: {server.output()}")
    if latencies:
        latencies.sort()
        figures.p50_ms = statistics.median(latencies)
        figures.p99_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        figures.max_ms = latencies[-1]
    return figures


# --------------------------------------------------------------------------- slow and idle clients
@dataclass
class SlowFigures:
    idle: int = 0                 # connections opened that send nothing
    slow: int = 0                 # connections sending their headers one byte a second
    reconnects: int = 0           # of both, closed by the server (its timeouts) and opened again
    requests: int = 0             # searches by the other clients
    errors: int = 0               # non-200 replies and connection errors among them
    threads: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.errors or self.failures)

    def summary(self) -> str:
        return (f"slow clients: {self.requests} searches from {self.threads} client threads in {self.seconds:.1f}s "
                f"beside {self.idle} idle connections and {self.slow} sending one header byte a second "
                f"({self.reconnects} closed by the server and reopened): p50 {self.p50_ms:.0f} ms, "
                f"p99 {self.p99_ms:.0f} ms, max {self.max_ms:.0f} ms; {self.errors} errors")


SLOW_REQUEST = b"GET /api/search?q=ha+noi HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000 + b"\r\n\r\n"


class Loiterers:
    """``idle`` connections sending nothing and ``slow`` ones sending SLOW_REQUEST one byte per
    ``interval`` seconds, each opened again whenever the server closes it, until stop()."""

    def __init__(self, port: int, idle: int, slow: int, interval: float = 1.0) -> None:
        self.port, self.interval = port, interval
        self.reconnects = 0
        self._stop = threading.Event()
        self._conns: list[list] = []                     # [socket, bytes sent or None for idle]
        for i in range(idle + slow):
            self._conns.append([self._open(), None if i < idle else 0])
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _open(self) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.setblocking(False)
        return s

    def _closed(self, s: socket.socket) -> bool:
        try:
            s.recv(65536)                                # EOF, or a reply: the server is done with it
            return True
        except BlockingIOError:
            return False
        except OSError:
            return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for conn in self._conns:
                s, sent = conn
                if self._closed(s):
                    s.close()
                    conn[0], conn[1] = self._open(), (None if sent is None else 0)
                    self.reconnects += 1
                    continue
                if sent is not None:
                    try:
                        s.send(SLOW_REQUEST[sent:sent + 1])
                        conn[1] = (sent + 1) % len(SLOW_REQUEST)
                    except OSError:
                        pass                              # seen as closed on the next round

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        for s, _ in self._conns:
            s.close()


def slow_clients(root: Path, *, idle: int = 50, slow: int = 50, seconds: float = 30.0, threads: int = 4,
                 workers: int = 2, log: Log = _quiet) -> SlowFigures:
    """Searches against `vnsearch serve --workers N` beside idle and slow connections, timed."""
    from indexer import build

    root = Path(root)
    index = root / "index"
    build(index, [REPO / "corpus"], full=True, progress=False)
    figures = SlowFigures(idle=idle, slow=slow, threads=threads)
    queries = list(COMMON_QUERIES)
    with Server(index, REPO / "corpus", root / "server.log", workers=workers) as server:
        loiterers = Loiterers(server.port, idle, slow)
        stop = threading.Event()
        lock = threading.Lock()
        latencies: list[float] = []

        def client(n: int) -> None:
            local = random.Random(n)
            while not stop.is_set():
                q = local.choice(queries)
                try:
                    status, data, ms = _search(server.url, q)
                except Exception as e:     # noqa: BLE001 - a refused/reset/timed-out connection is an error
                    status, data, ms = None, f"{type(e).__name__}: {e}", 0.0
                with lock:
                    figures.requests += 1
                    latencies.append(ms)
                    if status != 200:
                        figures.errors += 1
                        if len(figures.failures) < 20:
                            figures.failures.append(f"{q!r}: {status} {data!r:.200}")

        try:
            time.sleep(2)                  # every loiterer connected and holding its connection
            clients = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(threads)]
            started = time.monotonic()
            for t in clients:
                t.start()
            time.sleep(seconds)
            stop.set()
            for t in clients:
                t.join(timeout=60)
            figures.seconds = time.monotonic() - started
        finally:
            loiterers.stop()
        figures.reconnects = loiterers.reconnects
        if server.proc.poll() is not None:
            figures.failures.append(f"the server died: {server.output()}")
    if latencies:
        latencies.sort()
        figures.p50_ms = statistics.median(latencies)
        figures.p99_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        figures.max_ms = latencies[-1]
    log(figures.summary())
    return figures


# --------------------------------------------------------------------------- tasks: bulk NDJSON, rebuild under load
VIETNEWS = REPO.parent / "shared" / "data" / "vietnews" / "articles.jsonl.gz"


def vietnews_articles(count: int, path: Path = VIETNEWS) -> list[dict]:
    """The first ``count`` vietnews articles (id, title, text) with a non-empty text."""
    import gzip
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record.get("text", "").strip():
                out.append({"id": record["id"], "title": record.get("title") or "", "text": record["text"]})
                if len(out) == count:
                    break
    if len(out) < count:
        raise ValueError(f"{path} holds only {len(out)} articles")
    return out


def wait_task(base: str, uid: int, token: str, seconds: float = 3600) -> dict:
    """Poll ``GET /api/tasks/<uid>?wait=30`` until the task finished (or ``seconds`` passed)."""
    deadline = time.monotonic() + seconds
    while True:
        status, _, body = http("GET", f"{base}/api/tasks/{uid}?wait=30", headers={"Authorization": f"Bearer {token}"},
                               timeout=60)
        task = json.loads(body) if status == 200 else {"status": f"HTTP {status}"}
        if task["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return task


@dataclass
class BulkFigures:
    articles: int = 0
    body_mb: float = 0.0
    request_seconds: float = 0.0      # POST until the 202
    task_status: str = ""
    task_duration: str = ""
    total_seconds: float = 0.0        # POST until the task finished
    indexed: int = 0
    documents: int = 0
    checked: int = 0                  # sampled articles searched by a phrase of their title
    missing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.task_status == "succeeded" and self.indexed == self.articles and not self.missing

    def summary(self) -> str:
        return (f"bulk: {self.articles:,} articles as one NDJSON POST ({self.body_mb:.1f} MB): 202 in "
                f"{self.request_seconds:.2f}s, task {self.task_status} ({self.task_duration}), searchable after "
                f"{self.total_seconds:.1f}s; {self.indexed:,} indexed, {self.documents:,} documents; "
                f"{self.checked} sampled ids looked up, {len(self.missing)} missing")


def bulk_ndjson(root: Path, articles: int = 10_000, sample: int = 200, log: Log = _quiet) -> BulkFigures:
    """POST ``articles`` vietnews articles as one NDJSON body to `vnsearch serve` and
    wait for its one task; every sampled article must then be stored and found."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    index = root / "index"
    for page in SEED_PAGES:
        (corpus / page.name).write_bytes(page.read_bytes())
    run_cli(index, ["index", "--full", str(corpus)])
    records = [{**r, "id": f"bulk-{r['id']}"} for r in vietnews_articles(articles)]
    body = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")
    figures = BulkFigures(articles=articles, body_mb=len(body) / 1e6)
    token = "bulk-" + os.urandom(8).hex()
    auth = {"Authorization": f"Bearer {token}"}
    with Server(index, corpus, root / "server.log", token=token, max_content_length=len(body) + 1024) as server:
        started = time.monotonic()
        status, _, answer = http("POST", f"{server.url}/api/articles", body,
                                 {**auth, "Content-Type": "application/x-ndjson"}, timeout=600)
        figures.request_seconds = time.monotonic() - started
        if status != 202:
            figures.task_status = f"HTTP {status}: {answer[:200]!r}"
            return figures
        task = wait_task(server.url, json.loads(answer)["taskUid"], token)
        figures.total_seconds = time.monotonic() - started
        figures.task_status, figures.task_duration = task["status"], task.get("duration") or ""
        figures.indexed = (task.get("details") or {}).get("indexedDocuments") or 0
        _, _, stats = http("GET", f"{server.url}/api/stats", headers=auth)
        figures.documents = json.loads(stats)["documents"]
        rng = random.Random(0)
        for record in rng.sample(records, min(sample, len(records))):
            figures.checked += 1
            status, _, _ = http("GET", f"{server.url}/api/articles/{urllib.parse.quote(record['id'], safe='')}")
            if status != 200:
                figures.missing.append(record["id"])
        log(figures.summary())
    return figures


@dataclass
class RebuildFigures:
    articles: int = 0
    initial_build_seconds: float = 0.0
    task_status: str = ""
    task_duration: str = ""
    task_seconds: float = 0.0
    searches: int = 0
    errors: int = 0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.task_status == "succeeded" and self.errors == 0 and self.searches > 0 and self.p99_ms < 500

    def summary(self) -> str:
        return (f"rebuild: a fullRebuild task of {self.articles:,} articles {self.task_status} in "
                f"{self.task_seconds:.0f}s ({self.task_duration}) while {self.searches:,} searches ran: "
                f"{self.errors} errors, p50 {self.p50_ms:.0f} ms, p99 {self.p99_ms:.0f} ms, max {self.max_ms:.0f} ms "
                f"(target: 0 errors, p99 < 500 ms); initial build {self.initial_build_seconds:.0f}s")


def rebuild_under_load(root: Path, articles: int = 20_000, threads: int = 2, pause: float = 0.05,
                       log: Log = _quiet) -> RebuildFigures:
    """A `POST /api/reindex?full=1` task over ``articles`` vietnews articles while
    ``threads`` clients search (each pausing ``pause`` s between searches: a bounded
    load) through `vnsearch serve --workers 2`; every reply must be a 200 with hits."""
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    index = root / "index"
    records = vietnews_articles(articles)
    with open(corpus / "vietnews.jsonl", "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    figures = RebuildFigures(articles=articles)
    started = time.monotonic()
    done = run_cli(index, ["index", "--full", str(corpus)], timeout=3600)
    figures.initial_build_seconds = time.monotonic() - started
    if done.returncode != 0:
        figures.failures.append(f"initial build failed: {done.stderr[-500:]}")
        return figures
    rng = random.Random(1)
    queries = [" ".join(r["title"].split()[:3]) for r in rng.sample(records, 200) if r["title"].strip()]
    token = "rebuild-" + os.urandom(8).hex()
    latencies: list[float] = []
    lock = threading.Lock()
    stop = threading.Event()
    with Server(index, corpus, root / "server.log", token=token) as server:
        def reader(n: int) -> None:
            local = random.Random(n)
            while not stop.is_set():
                q = local.choice(queries)
                try:
                    status, data, ms = _search(server.url, q)
                    ok = status == 200 and data is not None and data["totalHits"] > 0
                except Exception as e:        # noqa: BLE001 - any failure is an error to count
                    ok, ms = False, 0.0
                    status = repr(e)
                with lock:
                    figures.searches += 1
                    latencies.append(ms)
                    if not ok:
                        figures.errors += 1
                        figures.failures.append(f"search {q!r}: {status}")
                stop.wait(pause)

        pool = [threading.Thread(target=reader, args=(n,), daemon=True) for n in range(threads)]
        for t in pool:
            t.start()
        started = time.monotonic()
        status, _, answer = http("POST", f"{server.url}/api/reindex?full=1", b"",
                                 {"Authorization": f"Bearer {token}"})
        if status == 202:
            task = wait_task(server.url, json.loads(answer)["taskUid"], token)
            figures.task_status, figures.task_duration = task["status"], task.get("duration") or ""
        else:
            figures.task_status = f"HTTP {status}"
        figures.task_seconds = time.monotonic() - started
        stop.set()
        for t in pool:
            t.join(timeout=60)
    if latencies:
        latencies.sort()
        figures.p50_ms = statistics.median(latencies)
        figures.p99_ms = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
        figures.max_ms = latencies[-1]
    log(figures.summary())
    return figures


# --------------------------------------------------------------------------- fuzzing
@dataclass
class FuzzFigures:
    examples: int = 0
    tests: int = 0
    failed: int = 0
    seconds: float = 0.0
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.tests > 0 and not self.failed

    def summary(self) -> str:
        return (f"fuzz: {self.examples} generated inputs over {self.tests} hypothesis properties "
                f"(analyzer, highlighting, query path, HTTP API and pages); {self.failed} failing; "
                f"{self.seconds:.0f}s")


def fuzz_campaign(examples: int, log: Log = _quiet) -> FuzzFigures:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--hypothesis-show-statistics", "--hypothesis-seed=0", "tests/test_fuzz.py"],
                          cwd=REPO, capture_output=True, text=True,
                          env={**cli_env(), "VNSEARCH_FUZZ_EXAMPLES": str(examples)})
    figures = FuzzFigures(seconds=time.monotonic() - started, output=done.stdout[-3000:])
    figures.examples = sum(int(n) for n in re.findall(r"(\d+) passing", done.stdout))
    figures.tests = len(re.findall(r"^tests/test_fuzz\.py::\S+:", done.stdout, re.M))
    m = re.search(r"(\d+) failed", done.stdout)
    figures.failed = int(m.group(1)) if m else (0 if done.returncode == 0 else 1)
    log(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:])
    return figures


# --------------------------------------------------------------------------- main
def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=("kills", "load", "slow", "fuzz", "bulk", "rebuild"), action="append",
                    help="run only these campaigns (repeatable); default: all")
    ap.add_argument("--kills", type=int, default=60, help="builds killed at random moments (default 60)")
    ap.add_argument("--crash-points", default="all",
                    help="builds killed before chosen file operations: N per mode, or 'all' (default)")
    ap.add_argument("--articles", type=int, default=200, help="articles in the kill campaign's corpus")
    ap.add_argument("--load-rounds", type=int, default=4,
                    help="writer rounds in the load campaign (2 full rebuilds and 4 updates each)")
    ap.add_argument("--threads", type=int, default=4, help="client threads in the load campaign")
    ap.add_argument("--idle", type=int, default=50, help="idle connections in the slow-client campaign")
    ap.add_argument("--slow", type=int, default=50,
                    help="connections sending one header byte a second in the slow-client campaign")
    ap.add_argument("--slow-seconds", type=float, default=60.0, help="length of the slow-client campaign")
    ap.add_argument("--fuzz", type=int, default=1000, help="hypothesis examples per fuzz property")
    ap.add_argument("--bulk-articles", type=int, default=10_000,
                    help="articles in the bulk campaign's one NDJSON request (vietnews)")
    ap.add_argument("--rebuild-articles", type=int, default=20_000,
                    help="articles of the rebuild campaign's corpus (vietnews)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object too")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per kill and write")
    args = ap.parse_args(argv)
    only = set(args.only or ("kills", "load", "slow", "fuzz", "bulk", "rebuild"))
    log: Log = (lambda m: print(m, flush=True)) if args.verbose else _quiet
    crash_points = None if args.crash_points == "all" else int(args.crash_points)
    results: dict[str, dict] = {}
    ok = True
    with tempfile.TemporaryDirectory(prefix="vnsearch-reliability-") as tmp:
        if "kills" in only:
            print(f"kill campaign: {args.kills} random kills, crash points: {args.crash_points} "
                  f"({args.articles} articles) …", flush=True)
            k = kill_campaign(Path(tmp) / "kills", args.kills, crash_points, seed=args.seed,
                              articles=args.articles, log=log)
            print(k.summary())
            print("  killed before: " + ", ".join(f"{label} ×{n}" for label, n in
                                                  sorted(k.crash_points.items(), key=lambda kv: -kv[1])))
            for failure in k.failures[:20]:
                print("  FAILURE:", failure)
            results["kills"] = asdict(k)
            ok &= k.ok
        if "load" in only:
            print(f"load campaign: {args.load_rounds} writer rounds, {args.threads} client threads …", flush=True)
            load = load_during_rebuild(Path(tmp) / "load", rounds=args.load_rounds, threads=args.threads,
                                       seed=args.seed, log=log)
            print(load.summary())
            for failure in load.failures[:20]:
                print("  FAILURE:", failure)
            results["load"] = asdict(load)
            ok &= load.ok
        if "slow" in only:
            print(f"slow-client campaign: {args.idle} idle, {args.slow} slow connections, {args.threads} "
                  f"client threads, {args.slow_seconds:.0f}s …", flush=True)
            sl = slow_clients(Path(tmp) / "slow", idle=args.idle, slow=args.slow, seconds=args.slow_seconds,
                              threads=args.threads, log=log)
            print(sl.summary())
            for failure in sl.failures[:20]:
                print("  FAILURE:", failure)
            results["slow"] = asdict(sl)
            ok &= sl.ok and sl.p99_ms < 200
        if "fuzz" in only:
            print(f"fuzz campaign: {args.fuzz} examples per property …", flush=True)
            fz = fuzz_campaign(args.fuzz, log=log)
            print(fz.summary())
            if not fz.ok:
                print(fz.output)
            results["fuzz"] = {k: v for k, v in asdict(fz).items() if k != "output"}
            ok &= fz.ok
        # the task campaigns (vietnews from ../shared/data)
        if "bulk" in only:
            print(f"bulk campaign: {args.bulk_articles:,} articles in one NDJSON request …", flush=True)
            bulk = bulk_ndjson(Path(tmp) / "bulk", args.bulk_articles, log=log)
            print(bulk.summary())
            results["bulk"] = asdict(bulk)
            ok &= bulk.ok
        if "rebuild" in only:
            print(f"rebuild campaign: a full rebuild task of {args.rebuild_articles:,} articles under search load …",
                  flush=True)
            rebuild = rebuild_under_load(Path(tmp) / "rebuild", args.rebuild_articles, log=log)
            print(rebuild.summary())
            for failure in rebuild.failures[:20]:
                print("  FAILURE:", failure)
            results["rebuild"] = asdict(rebuild)
            ok &= rebuild.ok
    print(("OK: 0 lost, 0 corrupt, 0 errors" if ok else "FAILED"), flush=True)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
