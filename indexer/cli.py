"""The ``vnsearch`` command: a thin layer that validates input and calls the library.

This module holds the library's commands (``index``, ``search``, ``stats``,
``export opensearch``);
the web side adds ``serve`` (:mod:`webui.cli`, the installed entry point), so
the library never imports the web front end.
"""

from __future__ import annotations

import html
import json
import re
import sys
from pathlib import Path

import click

from indexer import (MAX_HITS_PER_PAGE, ExportError, IndexBusy, IndexFormatError, IndexNotFound, QueryError,
                     SearchEngine, build, export_opensearch)
from indexer import config, tasks
from indexer.index import parallel

_MARK = re.compile(r"<mark>(.*?)</mark>", re.S)


def _open_engine(index_dir: Path) -> SearchEngine:
    try:
        return SearchEngine(index_dir)
    except IndexNotFound as e:
        raise click.ClickException(str(e)) from None


def _terminal(html_text: str, color: bool) -> str:
    """Render a highlighted HTML fragment for a terminal."""
    def repl(m: re.Match) -> str:
        inner = m.group(1)
        return click.style(inner, fg="yellow", bold=True) if color else f"[{inner}]"
    return html.unescape(_MARK.sub(repl, html_text))


@click.group()
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path),
              default=lambda: str(config.index_dir()), show_default="var/index or $VNSEARCH_INDEX_DIR",
              help="Directory of the index.")
@click.pass_context
def main(ctx: click.Context, index_dir: Path) -> None:
    """vnsearch: Vietnamese full-text search."""
    ctx.obj = {"index_dir": index_dir}


@main.command("index")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--full", is_flag=True, help="Rebuild into a fresh directory and swap it in atomically.")
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another build to finish before giving up.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help="Processes sharing a build of 200 articles or more "
                   "[default: the usable cores, or $VNSEARCH_BUILD_WORKERS].")
@click.pass_context
def index_cmd(ctx: click.Context, paths: tuple[Path, ...], full: bool, wait: float, jobs: int | None) -> None:
    """Index PATHS (files or directories; default: corpus/ or $VNSEARCH_CORPUS_DIR).

    The PATHS are the whole corpus: new files are added, changed files
    re-indexed, files no longer there removed. Unchanged files are skipped.
    """
    if not paths:
        default = config.corpus_dir()
        if not default.is_dir():
            raise click.ClickException(f"no PATHS given and the corpus directory {default} does not exist")
        paths = (default,)
    try:
        parallel.check_environment()
    except ValueError as e:
        raise click.ClickException(str(e)) from None
    try:
        report = build(ctx.obj["index_dir"], paths, full=full, lock_timeout=wait, workers=jobs)
    except IndexBusy as e:
        raise click.ClickException(f"busy: {e}") from None
    except IndexFormatError as e:
        raise click.ClickException(str(e)) from None
    for problem in report.problems:
        click.echo(f"skipped {problem.path}: {problem.reason}", err=True)
    kind = "full rebuild" if report.full else "incremental"
    click.echo(f"{kind}: {report.articles_indexed} articles indexed from "
               f"{report.files_added} added, {report.files_updated} changed files; "
               f"{report.files_deleted} removed, {report.files_unchanged} unchanged; "
               f"{len(report.problems)} skipped; {report.seconds:.1f}s")


@main.command("search")
@click.argument("query", default="")
@click.option("--limit", "-n", type=click.IntRange(1, MAX_HITS_PER_PAGE), default=10, show_default=True,
              help="Hits per page.")
@click.option("--page", type=click.IntRange(1, None), default=1, show_default=True)
@click.option("--filter", "filter_", metavar="EXPR", multiple=True,
              help='A Meilisearch filter, e.g. \'topic = "Thể thao" AND date >= 2020-01-01\' (repeatable: all hold).')
@click.option("--sort", metavar="RULE", help="date:desc or date:asc (default: relevance; newest first without QUERY).")
@click.option("--facets", metavar="LIST", help="Comma-separated facets to count: topic,source,tags,date.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON object of the web API.")
@click.pass_context
def search_cmd(ctx: click.Context, query: str, limit: int, page: int, filter_: tuple[str, ...], sort: str | None,
               facets: str | None, as_json: bool) -> None:
    """Search the index for QUERY ("quoted phrase", -excluded words); no QUERY: every article, newest first."""
    options = {"filter": list(filter_) if len(filter_) > 1 else (filter_[0] if filter_ else None),
               "sort": [sort] if sort else None,
               "facets": [f.strip() for f in facets.split(",") if f.strip()] if facets is not None else None}
    engine = _open_engine(ctx.obj["index_dir"])
    try:
        result = engine.search(query, page=page, hits_per_page=limit, **options)
    except QueryError as e:
        raise click.ClickException(e.message) from None
    finally:
        engine.close()
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    color = sys.stdout.isatty()
    total = result["totalHits"]
    about = "about " if result["totalHitsEstimated"] else ""
    click.echo(f"{about}{total} result{'' if total == 1 else 's'} ({result['processingTimeMs']} ms)"
               + (f" — page {page}/{result['totalPages']}" if result["totalPages"] > 1 else "")
               + (f"; {result['relatedHits']} more match only some of the words" if result["relatedHits"] else ""))
    if result["suggestion"]:
        click.echo(f"Did you mean: {result['suggestion']}")
    for name, counts in result.get("facetDistribution", {}).items():
        click.echo(f"{name}: " + ", ".join(f"{value} ({n})" for value, n in counts.items()))
    for name, stats in result.get("facetStats", {}).items():
        click.echo(f"{name}: {stats['min']} … {stats['max']}")
    first = (page - 1) * limit
    shown_related = False
    for rank, hit in enumerate(result["hits"], start=first + 1):
        if hit["_related"] and not shown_related and total:
            click.echo("\nRelated (only some of the words):")
            shown_related = True
        meta = " · ".join(x for x in (hit["date"], hit["topic"], hit["source"], hit["id"]) if x)
        click.echo(f"\n{rank}. {_terminal(hit['_formatted']['title'], color)}  ({hit['_score']})")
        click.echo(f"   {meta}")
        click.echo(f"   {_terminal(hit['_formatted']['body'], color)}")


@main.command("stats")
@click.pass_context
def stats_cmd(ctx: click.Context) -> None:
    """Show what the index holds."""
    engine = _open_engine(ctx.obj["index_dir"])
    try:
        stats = engine.stats()
    finally:
        engine.close()
    for key, value in stats.items():
        click.echo(f"{key}: {value}")


@main.group("export")
def export_group() -> None:
    """Write the index for another search engine."""


@export_group.command("opensearch")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--index-name", default="vnsearch", show_default=True,
              help="The OpenSearch index the bulk actions write to.")
@click.option("--max-file-mb", type=click.IntRange(1, 100), default=50, show_default=True,
              help="Largest bulk file, in MiB (OpenSearch takes requests of up to 100 MB by default).")
@click.pass_context
def export_opensearch_cmd(ctx: click.Context, outdir: Path, index_name: str, max_file_mb: int) -> None:
    """Write OUTDIR (new or empty): mapping.json, bulk-NNNN.ndjson and search-template.json,
    the stored articles analysed by vnsearch for an OpenSearch index."""
    try:
        report = export_opensearch(ctx.obj["index_dir"], outdir, index_name=index_name,
                                   max_bytes=max_file_mb * 1024 * 1024)
    except (IndexNotFound, ExportError) as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"exported {report.documents} documents of {report.generation} to {report.outdir}: "
               f"mapping.json, search-template.json, {len(report.bulk_files)} bulk files "
               f"({report.bulk_bytes / 1e6:.1f} MB); {report.markers} char-filter expansions, "
               f"{report.dropped_tokens} tokens too long for Lucene left out; {report.seconds:.1f}s")


# -- tasks ------------------------------------------------------------------------------
def _task_line(task) -> str:
    details = ", ".join(f"{k} {v}" for k, v in task.details.items() if k != "problems" and v is not None)
    when = task.finished_at or task.started_at or task.enqueued_at
    line = f"{task.uid:>6}  {task.status:<10}  {task.type:<24}  {when}  {details}"
    if task.error:
        line += f"  error {task.error['code']}: {task.error['message']}"
    return line


def _task_json(task) -> dict:
    return {"taskUid": task.uid, "status": task.status, "type": task.type, "enqueuedAt": task.enqueued_at,
            "startedAt": task.started_at, "finishedAt": task.finished_at,
            "duration": tasks.iso_duration(task.duration_seconds), "details": task.details, "error": task.error}


@main.group("tasks", invoke_without_command=True)
@click.option("--status", "statuses", type=click.Choice(tasks.STATUSES), multiple=True,
              help="Only tasks in this status (repeatable).")
@click.option("--type", "types", type=click.Choice(tasks.TYPES), multiple=True,
              help="Only tasks of this type (repeatable).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Tasks listed.")
@click.option("--json", "as_json", is_flag=True, help="Print the tasks as the JSON objects of GET /api/tasks.")
@click.pass_context
def tasks_group(ctx: click.Context, statuses: tuple[str, ...], types: tuple[str, ...], limit: int,
                as_json: bool) -> None:
    """List the index's tasks, newest first (`vnsearch tasks run` processes them)."""
    if ctx.invoked_subcommand is not None:
        return
    with tasks.TaskStore(ctx.obj["index_dir"]) as store:
        found, total, _ = store.list(statuses=statuses, types=types, limit=limit)
    if as_json:
        click.echo(json.dumps([_task_json(t) for t in found], ensure_ascii=False, indent=2))
        return
    click.echo(f"{total} task{'' if total == 1 else 's'}" + (f" (the last {len(found)})" if total > len(found) else ""))
    for task in found:
        click.echo(_task_line(task))


@tasks_group.command("run")
@click.option("--corpus-dir", type=click.Path(file_okay=False, path_type=Path),
              default=lambda: str(config.corpus_dir()), show_default="corpus or $VNSEARCH_CORPUS_DIR",
              help="The corpus directory the documents API writes to and builds read.")
@click.option("--once", is_flag=True, help="Process the waiting tasks, then exit.")
@click.option("--poll", type=click.FloatRange(0.01, 60), default=0.2, show_default=True,
              help="Seconds between looks at the queue when it is empty.")
@click.option("--parent-pid", type=int, default=None,
              help="Exit when this process is gone (set by `vnsearch serve`).")
@click.option("--nice", "niceness", type=click.IntRange(0, 19), default=0, show_default=True,
              help="Lower the processor's CPU priority (and its build workers') by this much.")
@click.pass_context
def tasks_run_cmd(ctx: click.Context, corpus_dir: Path, once: bool, poll: float, parent_pid: int | None,
                  niceness: int) -> None:
    """Process the index's tasks in order (the one task processor; `vnsearch serve` runs one)."""
    import os
    import signal
    from indexer.tasks import processor

    if niceness:
        os.nice(niceness)

    # SIGTERM: the batch being built is put back (SystemExit, finally blocks run), or the loop stops
    previous = signal.signal(signal.SIGTERM, processor.request_stop)
    orphaned = (lambda: os.getppid() != parent_pid) if parent_pid is not None else (lambda: False)
    try:
        done = processor.run(ctx.obj["index_dir"], corpus_dir, poll=poll, once=once, should_stop=orphaned)
    except tasks.ProcessorRunning as e:
        raise click.ClickException(str(e)) from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    if once:
        click.echo(f"{done} task{'' if done == 1 else 's'} processed")


if __name__ == "__main__":
    main()
