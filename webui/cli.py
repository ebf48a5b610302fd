"""The installed ``vnsearch`` command: the library's commands (:mod:`indexer.cli`)
plus ``serve``, which needs the web front end."""

from __future__ import annotations

import click

from indexer.cli import main

__all__ = ["main"]


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="gunicorn sync workers (default: one per core).")
@click.pass_context
def serve_cmd(ctx: click.Context, host: str, port: int, workers: int | None) -> None:
    """Serve the web UI and JSON API with gunicorn (production server)."""
    from webui.serve import serve   # Flask and gunicorn only when serving
    serve(index_dir=ctx.obj["index_dir"], host=host, port=port, workers=workers)


if __name__ == "__main__":
    main()
