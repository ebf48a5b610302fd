"""Whoosh's private API is touched in one module, against the pinned Whoosh."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import whoosh
from whoosh.codec import whoosh3
from whoosh.filedb.filestore import RamStorage
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

from indexer.index import whoosh_internals
from indexer.index.schema import make_schema

PACKAGE = Path(whoosh_internals.__file__).resolve().parents[1]
INTERNALS = Path(whoosh_internals.__file__).resolve()
CODEC = INTERNALS.with_name("codec.py")       # the storage format: Whoosh's codec extension point


def _private_attributes(path: Path) -> set[str]:
    """``obj._name`` attribute accesses in a module, other than on ``self``/``cls``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))):
            names.add(node.attr)
    return names


def test_the_installed_whoosh_is_the_pinned_one():
    assert tuple(whoosh.__version__[:3]) == whoosh_internals.WHOOSH_VERSION
    pin = re.search(r'"whoosh-reloaded==([\d.]+)"', (PACKAGE.parent / "pyproject.toml").read_text())
    assert tuple(int(x) for x in pin.group(1).split(".")) == whoosh_internals.WHOOSH_VERSION


def test_every_private_name_used_exists_in_this_whoosh():
    used = _private_attributes(INTERNALS) | {"_lenfield"}
    assert {"_perdoc", "_merge_segments", "_commit_toc"} <= used
    owners = [whoosh3.W3TermsReader, whoosh3.W3PerDocReader, SegmentReader,
              SegmentWriter, whoosh3, whoosh3.W3FieldWriter]
    storage = RamStorage()
    schema = make_schema()
    ix = storage.create_index(schema)
    writer = ix.writer()
    writer.add_document(id="a", title_f="đảng viên", body_f="đảng viên " * 200)
    writer.commit()
    reader = ix.reader()
    column = reader._perdoc._cached_reader(whoosh3._lenfield("body_f"), whoosh3.LENGTHS_COLUMN)
    instances = [reader, reader._perdoc, column, ix, ix.writer()]
    instances.append(instances[-1].perdocwriter)        # a W3PerDocWriter: its _fieldlengths
    instances[-2].cancel()
    missing = sorted(n for n in used
                     if not any(hasattr(o, n) for o in owners + instances)
                     and n not in ("_storage", "_segment", "_added", "_fields",
                                   "_tempstorage", "_flush_segment", "_count", "_dbfile", "_basepos"))
    assert missing == []
    # the instance attributes listed above exist on the instances that carry them
    assert all(hasattr(column, n) for n in ("_count", "_dbfile", "_basepos"))
    assert hasattr(schema, "_fields") and hasattr(reader, "_segment") and hasattr(reader, "_storage")


def test_no_other_module_touches_whooshs_private_api():
    whoosh_privates = _private_attributes(INTERNALS)
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == INTERNALS:
            continue
        text = path.read_text(encoding="utf-8")
        found = {n for n in _private_attributes(path) & whoosh_privates}
        if path != CODEC and re.search(r"from whoosh\.codec\.whoosh3 import|import whoosh\.codec", text):
            found.add("whoosh.codec.whoosh3")     # the codec module subclasses Whoosh's codec classes
        if found:
            offenders[str(path.relative_to(PACKAGE))] = sorted(found)
    assert len(list(PACKAGE.rglob("*.py"))) > 20
    assert offenders == {}
