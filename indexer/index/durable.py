"""Durable writes: the one helper that writes a file so that a crash leaves
either the old content or the new, never a mix, and the directory helpers
that make new names durable (a new entry is only durable once its parent
directory is fsynced)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Callable


def write_atomically(path: Path, write: Callable[[BinaryIO], None], *, sync_dir: bool = True) -> None:
    """Write ``path`` through ``write(file)``: into a temporary name beside it,
    fsynced, renamed over ``path``; then the directory fsynced (unless
    ``sync_dir`` is False, for a caller that fsyncs the whole directory later)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if sync_dir:
        fsync_dir(path.parent)


def write_text_atomically(path: Path, text: str, *, sync_dir: bool = True) -> None:
    """:func:`write_atomically` of a UTF-8 text."""
    write_atomically(path, lambda f: f.write(text.encode("utf-8")), sync_dir=sync_dir)


def make_dirs_durably(path: Path) -> None:
    """``mkdir -p``, fsyncing the parent of every directory it creates."""
    missing = []
    p = Path(path).absolute()
    while not p.is_dir():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            pass
        fsync_dir(d.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(path: Path) -> None:
    """fsync every file of a directory, then the directory (Whoosh does not fsync)."""
    for entry in os.scandir(path):
        if entry.is_file(follow_symlinks=False):
            fd = os.open(entry.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    fsync_dir(path)
