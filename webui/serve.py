"""``vnsearch serve``: the web app under gunicorn (gevent workers, :mod:`webui.workers`), never Flask's dev server.

The app is created once in the master (``preload_app``), which also loads
pyvi's model (at the import of :mod:`indexer.analysis.segment`: in memory, fork safe),
so forked workers share it copy-on-write and start fast. Each worker opens its
own SearchEngine on its first request (see :mod:`webui.searcher`). When writing is
enabled (an admin token is set), the master also starts the task processor
(:mod:`indexer.tasks.supervisor`): a process of its own, restarted if it dies,
never a web worker, so no write holds a worker.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from gunicorn.app.base import BaseApplication

DEFAULT_TIMEOUT = 120     # seconds a worker may block its event loop before the master restarts it
KEEPALIVE = 5             # seconds: an idle kept-alive connection, and the whole header block of any request
WORKER_CONNECTIONS = 1000  # connections one worker holds at once (idle ones cost a greenlet each)
# gunicorn's refusals of these are answered in the API's JSON shape (webui.workers)
LIMIT_REQUEST_LINE = 8190         # bytes of method, path and query: more is 414 uri_too_long
LIMIT_REQUEST_FIELD_SIZE = 8190   # bytes of one header: more is 431 headers_too_large
LIMIT_REQUEST_FIELDS = 100        # headers: more is 431


def bind_address(host: str, port: int) -> str:
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"          # IPv6 literal
    return f"{host}:{port}"


def gunicorn_options(host: str, port: int, workers: int | None) -> dict:
    return {
        "bind": bind_address(host, port),
        "workers": workers or os.cpu_count() or 1,
        "worker_class": "webui.workers.VnsearchWorker",
        "worker_connections": WORKER_CONNECTIONS,
        "keepalive": KEEPALIVE,
        "limit_request_line": LIMIT_REQUEST_LINE,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "preload_app": True,
        "accesslog": "-",
        "errorlog": "-",
        "timeout": DEFAULT_TIMEOUT,
        "graceful_timeout": 10,
        "proc_name": "vnsearch",
        # gunicorn >= 25.1 opens a control socket at one fixed path per user: two servers
        # (or a server and the tests) would fight over it. Not needed here.
        "control_socket_disable": True,
    }


class VnsearchApplication(BaseApplication):
    def __init__(self, app_factory, options: dict) -> None:
        self.app_factory = app_factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:    # settings of newer gunicorn versions are skipped on older ones
                self.cfg.set(key, value)

    def load(self):
        return self.app_factory()


def warm_models(index_dir: Path) -> None:
    """Build the index's accent and phrase models in the master, before the
    fork: each worker starts with them instead of stalling its first requests
    for the seconds they take at 100k articles (:meth:`SearchEngine.warm`)."""
    from indexer import IndexFormatError, SearchEngine
    started = time.monotonic()
    try:
        with SearchEngine(index_dir) as engine:
            engine.warm()
    except (IndexFormatError, OSError) as e:       # the workers will answer 503 and say why
        print(f"vnsearch: warning: models not built ahead: {e}", file=sys.stderr)
        return
    print(f"vnsearch: accent and phrase models built in {time.monotonic() - started:.1f}s",
          file=sys.stderr, flush=True)


def serve(index_dir: Path | str, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None,
          with_tasks: bool = True) -> None:
    """Run the web UI and API on ``host:port`` until interrupted, and (``with_tasks``,
    when writing is enabled: an admin token is set) the task processor beside it,
    supervised (:mod:`indexer.tasks.supervisor`)."""
    import indexer  # noqa: F401  (pyvi's model is loaded by the import: before the fork)
    from indexer import IndexNotFound, current_generation
    from webui import create_app

    index_dir = Path(index_dir).absolute()
    try:
        current_generation(index_dir)
    except IndexNotFound as e:
        print(f"vnsearch: warning: {e}; pages answer 503 until an index is built", file=sys.stderr)
    else:
        warm_models(index_dir)

    app = create_app({"INDEX_DIR": str(index_dir)})
    options = gunicorn_options(host, port, workers)
    print(f"vnsearch: serving {index_dir} on http://{options['bind']}/ "
          f"with {options['workers']} worker(s)", file=sys.stderr, flush=True)
    supervisor = None
    if with_tasks and app.config["ADMIN_TOKEN"]:
        from indexer.tasks.supervisor import Supervisor
        supervisor = Supervisor(index_dir, app.config["CORPUS_DIR"]).start()
    elif with_tasks:     # no token: no write can be enqueued over HTTP, no processor is needed
        print("vnsearch: writing is disabled (no VNSEARCH_ADMIN_TOKEN): no task processor; "
              "`vnsearch tasks run` processes tasks left waiting", file=sys.stderr, flush=True)
    master = os.getpid()
    try:
        VnsearchApplication(lambda: app, options).run()
    finally:
        # gunicorn's workers are forked from here and unwind through this block too
        if supervisor is not None and os.getpid() == master:
            supervisor.stop()
