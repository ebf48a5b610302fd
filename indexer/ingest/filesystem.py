"""The one place corpus files are opened and directories listed, and how
their failures are worded (tests simulate failures by patching this module)."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import BinaryIO

from indexer.ingest.model import SUFFIXES

def open_binary(path: Path) -> BinaryIO:
    """The one place files are opened for reading (tests simulate failures here)."""
    return open(path, "rb")


def scandir(path: Path):
    """The one place directories are listed (tests simulate failures here)."""
    with os.scandir(path) as it:
        return sorted(it, key=lambda e: e.name)


def fmt_size(n: float) -> str:
    for unit, scale in (("MB", 1024 ** 2), ("KB", 1024)):
        if n >= scale:
            s = f"{n / scale:.1f}"
            return (s[:-2] if s.endswith(".0") else s) + " " + unit
    return f"{int(n)} B"


def os_reason(err: OSError, path: str | os.PathLike | None = None) -> str:
    if err.errno == errno.ELOOP:
        return "symlink loop"
    if err.errno == errno.ENOENT:
        if path is not None and os.path.islink(path):
            return "broken symlink"
        return "no such file or directory"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if err.errno == errno.ENAMETOOLONG:
        return "file name too long"
    return (err.strerror or str(err)).lower()


def has_suffix(name: str) -> bool:
    low = name.lower()
    return any(low.endswith(s) for s in SUFFIXES)

