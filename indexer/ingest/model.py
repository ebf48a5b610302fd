"""The records of ingestion: a corpus file, an article, a problem report."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".txt", ".jsonl", ".jsonl.gz")


@dataclass(frozen=True)
class SourceFile:
    path: Path        # absolute (symlinks not resolved)
    relpath: str      # POSIX path relative to its corpus root
    size: int
    sha256: str       # of the raw bytes


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    text: str
    date: str | None
    url: str | None
    source: str | None
    relpath: str
    topic: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Problem:
    path: str         # relpath (plus ":LINE" for a bad jsonl line)
    reason: str
