"""Finding a corpus's files: a sorted, loop-safe walk, each file hashed."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path, PurePosixPath
from typing import Iterable

from indexer.ingest import filesystem
from indexer.ingest.model import Problem, SourceFile

def discover(paths: Iterable[Path | str], root: Path | None = None
             ) -> tuple[list[SourceFile], list[Problem]]:
    """Find the corpus files under ``paths`` (files or directories) and hash them.

    Directories are walked recursively in sorted order (symlinks followed, loops
    detected, entries whose name starts with "." skipped); only names ending in
    one of :data:`SUFFIXES` (case-insensitive) are kept. ``root`` (default: the
    directory argument itself, or a file argument's parent) defines ``relpath``.
    Unreadable, looping, broken or non-regular entries become :class:`Problem`.
    Files come out per argument, sorted by relpath; a relpath seen before (from
    another argument) is reported as a duplicate and skipped.
    """
    files: list[SourceFile] = []
    problems: list[Problem] = []
    seen: dict[str, str] = {}           # relpath -> absolute path
    root_abs = Path(os.path.abspath(root)) if root is not None else None

    for arg in paths:
        ap = Path(os.path.abspath(arg))
        label = str(arg)
        try:
            st = os.stat(ap)
        except OSError as e:
            problems.append(Problem(label, filesystem.os_reason(e, ap)))
            continue
        if stat.S_ISDIR(st.st_mode):
            base = root_abs if root_abs is not None else ap
            found = _walk(ap, base, st, problems)
        else:
            base = root_abs if root_abs is not None else ap.parent
            if not filesystem.has_suffix(ap.name):
                problems.append(Problem(label, "unsupported file type (expected .txt, .jsonl or .jsonl.gz)"))
                continue
            rel = _relpath(ap, base)
            if rel is None:
                problems.append(Problem(label, f"not under root {base}"))
                continue
            found = [(ap, rel, st)]
        batch = []
        for path, rel, fst in found:
            if not stat.S_ISREG(fst.st_mode):
                problems.append(Problem(rel, "not a regular file"))
                continue
            sf = _hash(path, rel, problems)
            if sf is not None:
                batch.append(sf)
        for sf in sorted(batch, key=lambda f: f.relpath):
            prev = seen.get(sf.relpath)
            if prev is not None:
                if prev != str(sf.path):
                    problems.append(Problem(sf.relpath, f"duplicate relpath (already read from {prev}): skipped"))
                continue
            seen[sf.relpath] = str(sf.path)
            files.append(sf)
    return files, problems


def _relpath(path: Path, base: Path) -> str | None:
    try:
        return PurePosixPath(*path.relative_to(base).parts).as_posix()
    except ValueError:
        return None


def _walk(top: Path, base: Path, top_st: os.stat_result, problems: list[Problem]
          ) -> list[tuple[Path, str, os.stat_result]]:
    """Depth-first, sorted walk following symlinks; returns (path, relpath, stat) of candidates."""
    if _relpath(top, base) is None:
        problems.append(Problem(str(top), f"not under root {base}"))
        return []
    out: list[tuple[Path, str, os.stat_result]] = []
    walked: dict[tuple[int, int], str] = {}
    top_key = (top_st.st_dev, top_st.st_ino)
    stack: list[tuple[Path, tuple[tuple[int, int], ...]]] = [(top, (top_key,))]
    walked[top_key] = _relpath(top, base) or "."
    while stack:
        d, ancestors = stack.pop()
        d_rel = _relpath(d, base) or "."
        try:
            entries = filesystem.scandir(d)
        except OSError as e:
            problems.append(Problem(d_rel, filesystem.os_reason(e, d)))
            continue
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            p = Path(entry.path)
            rel = _relpath(p, base) or entry.name
            try:
                st = os.stat(p)
            except OSError as e:
                # a dangling or looping link to something we would not read anyway is still reported:
                # it is most likely a corpus file or directory that went missing
                problems.append(Problem(rel, filesystem.os_reason(e, p)))
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in ancestors:
                    problems.append(Problem(rel, "symlink loop"))
                elif key in walked:
                    problems.append(Problem(rel, f"directory already read as {walked[key]}: skipped"))
                else:
                    walked[key] = rel
                    subdirs.append((p, ancestors + (key,)))
            elif filesystem.has_suffix(entry.name):
                out.append((p, rel, st))
        stack.extend(reversed(subdirs))
    return out


def _hash(path: Path, rel: str, problems: list[Problem]) -> SourceFile | None:
    h = hashlib.sha256()
    size = 0
    try:
        with filesystem.open_binary(path) as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
    except OSError as e:
        problems.append(Problem(rel, filesystem.os_reason(e, path)))
        return None
    return SourceFile(path=path, relpath=rel, size=size, sha256=h.hexdigest())

