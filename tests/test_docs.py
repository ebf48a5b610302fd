"""The README documents what the code has: every CLI option, every ``VNSEARCH_*``
variable, a code map whose paths exist and that names every sub-package; and the
library (``indexer/``) never imports the web front end (``webui/``)."""

from __future__ import annotations

import ast
import re
import warnings
from pathlib import Path

import click
import pytest

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
MAX_README_LINES = 250
ENV_VAR = re.compile(r"\bVNSEARCH_[A-Z0-9_]+\b")


@pytest.fixture(scope="module")
def readme() -> str:
    return README.read_text(encoding="utf-8")


def _mentions(text: str, option: str) -> bool:
    """``option`` (``--jobs``, ``-j``) occurs in ``text`` as a whole token."""
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def _commands(label: str, command: click.Command) -> list[tuple[str, click.Command]]:
    """``command`` and every sub-command under it (``vnsearch export opensearch``)."""
    found = [(label, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += _commands(f"{label} {name}", sub)
    return found


def _cli_options() -> list[tuple[str, str]]:
    """(command, option string) for every option of the installed ``vnsearch``."""
    from webui.cli import main

    found: list[tuple[str, str]] = []
    for label, command in _commands("vnsearch", main):
        for param in command.params:
            if isinstance(param, click.Option):
                found += [(label, opt) for opt in (*param.opts, *param.secondary_opts)]
    return found


def test_every_cli_option_is_in_the_readme(readme):
    from webui.cli import main

    assert {"index", "search", "stats", "serve", "export"} <= set(main.commands), sorted(main.commands)
    options = _cli_options()
    long_options = [opt for _, opt in options if opt.startswith("--")]
    assert options and long_options, "no options found on the vnsearch command"
    assert "--index-dir" in long_options, "the group's own options were not collected"
    assert "--index-name" in long_options, "the options of sub-groups' commands were not collected"
    missing = [f"{label} {opt}" for label, opt in options if not _mentions(readme, opt)]
    assert not missing, f"options missing from README.md: {missing}"


def test_every_option_has_a_long_name():
    from webui.cli import main

    params = [p for _, c in _commands("vnsearch", main) for p in c.params if isinstance(p, click.Option)]
    assert params
    short_only = [p.name for p in params if not any(o.startswith("--") for o in (*p.opts, *p.secondary_opts))]
    assert not short_only, f"options without a --long name: {short_only}"


def _source_files(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (REPO / pkg).rglob("*.py"))


def test_every_environment_variable_the_code_reads_is_in_the_readme(readme):
    files = _source_files("indexer", "webui")
    assert files
    names = sorted({name for f in files for name in ENV_VAR.findall(f.read_text(encoding="utf-8"))})
    assert names, "no VNSEARCH_* names found in indexer/ or webui/"
    assert "VNSEARCH_INDEX_DIR" in names
    missing = [name for name in names if not re.search(rf"\b{name}\b", readme)]
    assert not missing, f"environment variables missing from README.md: {missing}"


def test_the_readme_is_at_most_250_lines(readme):
    lines = readme.splitlines()
    assert lines
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines (at most {MAX_README_LINES})"


def _code_map(readme: str) -> list[list[str]]:
    """The backticked paths of the first cell of each row of the README's code map."""
    section = re.search(r"^## Code map\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    assert section, "README.md has no '## Code map' section"
    rows = []
    for line in section.group(1).splitlines():
        if not line.startswith("|") or re.match(r"\|\s*-", line):
            continue
        first_cell = line.strip("|").split("|")[0]
        paths = re.findall(r"`([^`]+)`", first_cell)
        if paths:                         # the header row ("| path | what |") has none
            rows.append(paths)
    return rows


def test_every_code_map_path_exists(readme):
    rows = _code_map(readme)
    assert rows, "the code map has no rows"
    paths = [p for row in rows for p in row]
    missing = [p for p in paths if not (REPO / p).exists() or p.endswith("/") and not (REPO / p).is_dir()]
    assert not missing, f"code-map paths that do not exist: {missing}"


def test_the_code_map_names_every_sub_package_once(readme):
    rows = _code_map(readme)
    named = [p.rstrip("/") for row in rows for p in row]
    subpackages = sorted(f"indexer/{d.name}" for d in (REPO / "indexer").iterdir()
                         if d.is_dir() and (d / "__init__.py").is_file())
    assert subpackages, "no sub-packages found under indexer/"
    required = [*subpackages, "indexer/cli.py", "indexer/config.py", "webui", "bench", "tests"]
    counts = {path: named.count(path) for path in required}
    assert all(n == 1 for n in counts.values()), f"code-map entries named not exactly once: {counts}"


def _imported_modules(path: Path) -> list[str]:
    with warnings.catch_warnings():          # an odd escape in a scanned file is not this test's business
        warnings.simplefilter("ignore")
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None)) in ("import_module", "__import__")):
            modules.append(node.args[0].value)
    return modules


def test_the_library_never_imports_the_web_front_end():
    files = _source_files("indexer")
    assert files
    imports = {f: _imported_modules(f) for f in files}
    assert any("indexer" in m for ms in imports.values() for m in ms), "no imports found: the scan is broken"
    offenders = [f"{f.relative_to(REPO)}: {m}" for f, ms in imports.items() for m in ms
                 if m == "webui" or m.startswith("webui.")]
    assert not offenders, f"indexer/ imports webui: {offenders}"
