"""The task processor as a supervised child process (what ``vnsearch serve`` runs).

:class:`Supervisor` starts ``vnsearch tasks run`` (``python -m indexer.cli``)
in a process of its own -- never a web worker -- and starts it again whenever it
exits, after a short pause that grows while it keeps dying. The child is told
the supervisor's pid and exits by itself if its parent disappears (so a
``kill -9`` of the server leaves no processor behind), and runs at a lower CPU
priority (``--nice``): a rebuild must not slow the searches served beside it. A task it was running
when killed is retried by the next one (:mod:`indexer.tasks.processor`).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

MIN_BACKOFF, MAX_BACKOFF = 0.5, 10.0     # seconds before a restart
STABLE_SECONDS = 30.0                    # a child that ran this long resets the backoff
NICE = 10           # the processor (and its build workers) yield the CPU to the web workers' searches


def processor_command(index_dir: Path | str, corpus_dir: Path | str, parent_pid: int | None = None) -> list[str]:
    """The command line of one task processor."""
    command = [sys.executable, "-m", "indexer.cli", "--index-dir", str(Path(index_dir).absolute()),
               "tasks", "run", "--corpus-dir", str(Path(corpus_dir).absolute())]
    if parent_pid is not None:
        command += ["--parent-pid", str(parent_pid), "--nice", str(NICE)]
    return command


class Supervisor:
    """Keeps one task processor running until :meth:`stop`."""

    def __init__(self, index_dir: Path | str, corpus_dir: Path | str) -> None:
        self.index_dir, self.corpus_dir = Path(index_dir), Path(corpus_dir)
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="vnsearch-tasks-supervisor", daemon=True)

    def start(self) -> "Supervisor":
        self._thread.start()
        return self

    def _loop(self) -> None:
        import time
        backoff = MIN_BACKOFF
        while not self._stopping.is_set():
            started = time.monotonic()
            self.process = subprocess.Popen(processor_command(self.index_dir, self.corpus_dir, os.getpid()),
                                            stdin=subprocess.DEVNULL)
            self.starts += 1
            try:
                code = self.process.wait()
            except ChildProcessError:      # reaped by someone else (gunicorn's arbiter reaps any child)
                code = None
            if self._stopping.is_set():
                break
            print(f"vnsearch: the task processor exited ({code}); restarting it", file=sys.stderr, flush=True)
            backoff = MIN_BACKOFF if time.monotonic() - started > STABLE_SECONDS else min(backoff * 2, MAX_BACKOFF)
            self._stopping.wait(backoff)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the processor (SIGTERM: it puts an unfinished batch back) and the supervision."""
        self._stopping.set()
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
            except ChildProcessError:
                pass
        self._thread.join(timeout)
