"""Shared fixtures (flaskr style): a tmp corpus, its index, the app, a client, a CLI runner.

Override ``corpus_dir`` in a test module to add articles before the build::

    @pytest.fixture
    def corpus_dir(corpus_dir):
        (corpus_dir / "extra.jsonl").write_text(...)
        return corpus_dir
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = REPO / "corpus"


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A copy of the shipped corpus (the five seed pages) in a tmp dir."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for page in sorted(SHIPPED_CORPUS.glob("*.txt")):
        shutil.copy(page, corpus / page.name)
    return corpus


@pytest.fixture(scope="session")
def _shipped_index(tmp_path_factory) -> Path:
    """The shipped corpus indexed once per session (copied by ``index_dir``)."""
    from indexer import build

    root = tmp_path_factory.mktemp("shipped")
    corpus = root / "corpus"
    corpus.mkdir()
    for page in sorted(SHIPPED_CORPUS.glob("*.txt")):
        shutil.copy(page, corpus / page.name)
    index = root / "index"
    report = build(index, [corpus], full=True, progress=False)
    assert not report.problems, report.problems
    return index


@pytest.fixture
def index_dir(tmp_path: Path, corpus_dir: Path, _shipped_index: Path) -> Path:
    """An index of ``corpus_dir``: a copy of the shipped corpus's index, brought up
    to date with whatever the test module added to ``corpus_dir`` (an
    incremental build, which indexes only those files)."""
    from indexer import build

    index = tmp_path / "index"
    shutil.copytree(_shipped_index, index, symlinks=True)
    report = build(index, [corpus_dir], progress=False)
    assert not report.problems, report.problems
    return index


@pytest.fixture
def make_app(index_dir: Path, corpus_dir: Path):
    """A factory of apps over ``index_dir``: ``make_app(HITS_PER_PAGE=2, ADMIN_TOKEN="t")``.

    Tests pass settings explicitly (no admin token, 10 hits per page unless
    given), so a developer's VNSEARCH_* environment cannot leak in. Each app's
    searcher is closed at teardown.
    """
    from webui import create_app

    made = []

    def make(**overrides):
        config = {"TESTING": True, "INDEX_DIR": index_dir, "CORPUS_DIR": corpus_dir,
                  "ADMIN_TOKEN": None, "HITS_PER_PAGE": 10, **overrides}
        made.append(create_app(config))
        return made[-1]

    yield make
    for app in made:
        app.extensions["vnsearch_engine"].close()


@pytest.fixture
def app(make_app):
    """The web app over ``index_dir``; no admin token (writing disabled)."""
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    """Invokes click commands in the app's context: ``runner.invoke(cli, [...])``."""
    return app.test_cli_runner()


# -- long variants ---------------------------------------------------------------------
def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run the long variants (tests marked slow), e.g. 60 killed builds")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="long variant: run with --runslow (or python bench/reliability.py)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def run_tasks(index_dir: Path, corpus_dir: Path):
    """Process the waiting tasks of ``index_dir`` here and now (what the task
    processor of ``vnsearch serve`` does): ``run_tasks()`` -> tasks finished."""
    from indexer.tasks import processor

    def run(index: Path | None = None, corpus: Path | None = None) -> int:
        return processor.run(index or index_dir, corpus or corpus_dir, once=True, log=lambda line: None)

    return run
