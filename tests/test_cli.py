"""The vnsearch command: index, search (text and --json), stats, errors."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.cli import main
from tests.support import SEEDS, count_merges, make_corpus


@pytest.fixture
def cli(tmp_path, monkeypatch):
    corpus = make_corpus(tmp_path, extra=False)
    index_dir = tmp_path / "index"
    monkeypatch.setenv("VNSEARCH_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("VNSEARCH_CORPUS_DIR", str(corpus))
    runner = CliRunner()

    def run(*args):
        return runner.invoke(main, list(args), catch_exceptions=False)

    run.corpus, run.index_dir = corpus, index_dir
    return run


def test_index_then_search_json(cli):
    result = cli("index")
    assert result.exit_code == 0, result.output
    assert f"{len(SEEDS)} articles indexed" in result.output
    result = cli("search", "dang uy khoi", "--json", "--limit", "3")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["hitsPerPage"] == 3 and len(data["hits"]) == 3 and data["totalHits"] >= 5
    assert "<mark>Đảng</mark>" in " ".join(h["_formatted"]["body"] for h in data["hits"])
    assert data["suggestion"] == "đảng ủy khối"     # as the pages spell it


@pytest.mark.parametrize("typed, meant", [("ddangr", "đảng"), ("d9a3ng", "đảng"), ("dang vein", "đảng viên")])
def test_search_understands_keys_and_typos_on_the_shipped_corpus(cli, typed, meant):
    cli("index")
    result = cli("search", typed, "-n", "1")
    assert result.exit_code == 0
    assert f"Did you mean: {meant}" in result.output
    assert "[Đảng]" in result.output


def test_human_output_shows_ranked_snippets(cli):
    cli("index")
    result = cli("search", "đoàn kết", "--limit", "2")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith(tuple("0123456789")) and "results" in lines[0]
    assert any(line.startswith("1. ") for line in lines)
    assert "[đoàn]" in result.output.lower() or "[đoàn]" in result.output   # marks, no HTML
    assert "<mark>" not in result.output


def test_second_run_is_incremental(cli):
    cli("index")
    (cli.corpus / "moi.txt").write_text("Tin mới\n\nNội dung tin mới.\n", encoding="utf-8")
    result = cli("index")
    assert "incremental: 1 articles indexed from 1 added" in result.output
    assert f"{len(SEEDS)} unchanged" in result.output


def test_full_rebuild_flag(cli):
    cli("index")
    result = cli("index", "--full")
    assert result.output.startswith("full rebuild:")


def test_stats(cli):
    cli("index")
    result = cli("stats")
    assert result.exit_code == 0 and f"documents: {len(SEEDS)}" in result.output


def test_bad_files_are_reported_by_name(cli):
    (cli.corpus / "broken.txt").write_bytes(b"\xff\xfe\x00\x00garbage\x00")
    result = cli("index")
    assert result.exit_code == 0
    assert "skipped broken.txt" in result.output


@pytest.mark.parametrize("args, message", [
    (["search", "đảng"], "vnsearch index"),                  # no index yet
])
def test_errors_before_indexing(cli, args, message):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1 and message in result.output


def test_an_empty_query_lists_every_article_newest_first(cli):
    cli("index")
    result = CliRunner().invoke(main, ["search", "   ", "--json", "-n", "100"])
    assert result.exit_code == 0, result.output
    dates = [h["date"] for h in json.loads(result.output)["hits"] if h["date"]]
    assert dates and dates == sorted(dates, reverse=True)


def test_page_out_of_range_is_rejected(cli):
    cli("index")
    result = CliRunner().invoke(main, ["search", "đảng", "--page", "0"])
    assert result.exit_code == 2


def test_jobs_option_sets_the_build_processes(cli, monkeypatch):
    import indexer.cli
    seen = []
    real = indexer.cli.build

    def spy(*args, **kwargs):
        seen.append(kwargs.get("workers"))
        return real(*args, **kwargs)

    monkeypatch.setattr(indexer.cli, "build", spy)
    assert cli("index", "--jobs", "2").exit_code == 0
    assert cli("index", "--full").exit_code == 0
    assert seen == [2, None]
    assert cli("index", "--jobs", "0").exit_code != 0


@pytest.mark.parametrize("variable", ["VNSEARCH_BUILD_WORKERS", "VNSEARCH_SEGMENT_DOCS"])
@pytest.mark.parametrize("value", ["0", "hai", "-3", "1.5"])
def test_a_bad_build_variable_is_a_clear_error_and_builds_nothing(cli, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    result = cli("index")
    assert result.exit_code == 1
    assert f"{variable} must be a positive" in result.output and repr(value) in result.output
    assert not cli.index_dir.exists()


def test_segment_docs_sets_the_articles_a_worker_holds_before_writing_a_part(tmp_path, monkeypatch):
    """Each worker writes a part segment every VNSEARCH_SEGMENT_DOCS articles
    and merges its parts: one segment a worker either way, the same documents."""
    from indexer import build
    from indexer.index import generations
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    articles = [{"id": f"a{i}", "title": f"Tin số {i}", "text": f"Hà Nội mưa lớn ngày {i}, đường ngập."}
                for i in range(30)]
    (corpus / "tin.jsonl").write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles),
                                      encoding="utf-8")
    merges = count_merges(monkeypatch, tmp_path / "parts.log")
    found = {}
    for per_segment in ("1000", "4"):
        monkeypatch.setenv("VNSEARCH_SEGMENT_DOCS", per_segment)
        before = len(merges())
        build(tmp_path / per_segment, [corpus], full=True, workers=2, parallel_min=2)
        with generations.open_current(tmp_path / per_segment).searcher() as s:
            found[per_segment] = (sorted(merges()[before:]), len(s.reader().leaf_readers()),
                                  sorted(d["id"] for d in s.all_stored_fields()))
    assert found["1000"][:2] == ([1, 1], 2)
    assert found["4"][:2] == ([4, 4], 2)      # 15 articles a worker: parts of 4, 4, 4 and 3
    assert found["1000"][2] == found["4"][2] == sorted(a["id"] for a in articles)


def test_export_opensearch_writes_the_three_kinds_of_file(cli, tmp_path):
    cli("index")
    outdir = tmp_path / "os-export"
    result = cli("export", "opensearch", str(outdir), "--index-name", "bao-chi", "--max-file-mb", "1")
    assert result.exit_code == 0, result.output
    assert f"exported {len(SEEDS)} documents" in result.output
    assert {p.name for p in outdir.iterdir()} == {"mapping.json", "search-template.json", "bulk-0001.ndjson"}
    first_action = json.loads((outdir / "bulk-0001.ndjson").read_text(encoding="utf-8").split("\n")[0])
    assert first_action["index"]["_index"] == "bao-chi"


@pytest.mark.parametrize("setup, args, status, message", [
    ("no index", [], 1, "vnsearch index"),
    ("non-empty outdir", [], 1, "is not empty"),
    ("outdir is a file", [], 2, "is a file"),
    ("index built", ["--index-name", "Bao Chi"], 1, "invalid OpenSearch index name"),
    ("index built", ["--max-file-mb", "0"], 2, "--max-file-mb"),
])
def test_export_errors_are_clear(cli, tmp_path, setup, args, status, message):
    outdir = tmp_path / "os-export"
    if setup != "no index":
        cli("index")
    if setup == "non-empty outdir":
        outdir.mkdir()
        (outdir / "keep.txt").write_text("mine", encoding="utf-8")
    elif setup == "outdir is a file":
        outdir.write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(main, ["export", "opensearch", str(outdir), *args])
    assert result.exit_code == status, result.output
    assert message in result.output and "Traceback" not in result.output
    if setup == "non-empty outdir":
        assert [p.name for p in outdir.iterdir()] == ["keep.txt"]


def test_export_into_an_existing_empty_directory(cli, tmp_path):
    cli("index")
    outdir = tmp_path / "empty"
    outdir.mkdir()
    assert cli("export", "opensearch", str(outdir)).exit_code == 0
    assert (outdir / "mapping.json").is_file()


def test_search_filter_sort_facets_and_json_are_the_api_object(tmp_path):
    import shutil
    from indexer import build
    corpus = make_corpus(tmp_path, extra=False)
    shutil.copy(Path(__file__).parent / "fixtures" / "faceted.jsonl", corpus / "faceted.jsonl")
    index = tmp_path / "index"
    build(index, [corpus], full=True, progress=False)
    args = ["--index-dir", str(index), "search", "", "--filter", "source = 'Tuổi Trẻ'", "--filter", "date < 2022-01-01",
            "--sort", "date:asc", "--facets", "topic,date", "--json", "-n", "100"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [h["id"] for h in data["hits"]] == ["sk-2", "tt-2", "tg-2"]
    assert data["facetDistribution"]["topic"] == {"Sức khỏe": 1, "Thế giới": 1, "Thể thao": 1}
    assert data["facetStats"]["date"] == {"min": "2018-02-10T00:00:00", "max": "2020-09-16T00:00:00"}
    text = CliRunner().invoke(main, args[:-3])
    assert text.exit_code == 0 and "topic: Sức khỏe (1), Thế giới (1), Thể thao (1)" in text.output
    bad = CliRunner().invoke(main, ["--index-dir", str(index), "search", "x", "--filter", "topic ="])
    assert bad.exit_code == 1 and "Was expecting a value" in bad.output and "7:8 topic =" in bad.output


# -- vnsearch tasks ---------------------------------------------------------------------------
def test_tasks_lists_filters_and_runs_the_processor_once(cli):
    from indexer import tasks

    assert cli("index").exit_code == 0
    with tasks.TaskStore(cli.index_dir) as store:
        tasks.enqueue_articles(store, tasks.validate_batch([{"id": "cli-1", "title": "Chợ Bến Thành",
                                                             "text": "Chợ Bến Thành ở Sài Gòn vnc0001."}]))
        tasks.enqueue_reindex(store, full=False)
    listed = cli("tasks")
    assert listed.exit_code == 0 and listed.output.startswith("2 tasks")
    assert "enqueued" in listed.output and "documentAdditionOrUpdate" in listed.output
    done = cli("tasks", "run", "--once", "--poll", "0.05")
    assert done.exit_code == 0 and "2 tasks processed" in done.output
    as_json = json.loads(cli("tasks", "--json", "--status", "succeeded", "--type", "reindex", "--limit", "5").output)
    assert [t["type"] for t in as_json] == ["reindex"] and as_json[0]["details"]["filesUnchanged"] == len(SEEDS) + 1
    assert [h["id"] for h in json.loads(cli("search", "vnc0001", "--json").output)["hits"]] == ["cli-1"]
    bad = cli("tasks", "--status", "done")
    assert bad.exit_code == 2 and "done" in bad.output


def test_a_second_processor_on_one_index_refuses_to_start(cli):
    from indexer import tasks

    with tasks.processor_lock(cli.index_dir):
        result = cli("tasks", "run", "--once")
    assert result.exit_code == 1 and "already running" in result.output
