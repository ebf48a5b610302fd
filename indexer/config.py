"""Defaults shared by the CLI and the web app (overridable by environment)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_INDEX_DIR = "var/index"
DEFAULT_CORPUS_DIR = "corpus"


def index_dir() -> Path:
    return Path(os.environ.get("VNSEARCH_INDEX_DIR") or DEFAULT_INDEX_DIR)


def corpus_dir() -> Path:
    return Path(os.environ.get("VNSEARCH_CORPUS_DIR") or DEFAULT_CORPUS_DIR)
