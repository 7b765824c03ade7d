"""Start a ``celery worker`` process of this project (``-A config``) consuming one queue, wait
until it is ready, and stop it.

Used by the integration-test fixtures (tests/conftest.py) and by the benchmarks that need a
real worker (bench/bench_backfill.py, bench/bench_sync_lag.py, bench/load). The caller picks
the environment (settings, databases, broker), the pool and the log level; the flags that keep
a throwaway worker quiet and quick to start (no gossip, mingle or event heartbeats) are here.
"""

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY_LINE = "ready."  # the worker's INFO line "celery@host ready." once it consumes
DEFAULT_START_TIMEOUT_S = 60.0


class WorkerStartError(RuntimeError):
    """The worker exited, or did not get ready in time; the message ends with its log."""


def worker_start(
    queue: str,
    log_path: Path,
    *,
    env: dict | None = None,
    pool: str | None = None,
    concurrency: int | None = None,
    loglevel: str = "INFO",
    wait: bool = True,
    timeout: float = DEFAULT_START_TIMEOUT_S,
) -> subprocess.Popen:
    """A worker consuming ``queue``, its output in ``log_path``; with ``wait`` (which needs the
    INFO log level, where the worker says it is ready), returned once it consumes.

    ``env`` defaults to this process's environment; ``pool`` and ``concurrency`` to Celery's
    (prefork, one process a core)."""
    if wait and loglevel.upper() not in ("DEBUG", "INFO"):
        raise ValueError(f"at --loglevel {loglevel} the worker does not log that it is ready")
    argv = [sys.executable, "-m", "celery", "-A", "config", "worker", "--queues", queue,
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--loglevel", loglevel]  # fmt: skip
    if pool:
        argv += ["--pool", pool]
    if concurrency:
        argv += ["--concurrency", str(concurrency)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:  # the child keeps its own copy of the descriptor
        worker = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    if wait:
        try:
            wait_ready(worker, log_path, timeout)
        except BaseException:
            worker_stop(worker)
            raise
    return worker


def wait_ready(
    worker: subprocess.Popen, log_path: Path, timeout: float = DEFAULT_START_TIMEOUT_S
) -> None:
    """Return once the worker has logged that it is ready; WorkerStartError if it exits first
    or takes longer than ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise WorkerStartError(f"celery worker exited early:\n{_tail(log_path)}")
        if READY_LINE in log_path.read_text():
            return
        time.sleep(0.2)
    raise WorkerStartError(f"celery worker did not start in {timeout:.0f}s:\n{_tail(log_path)}")


def worker_stop(worker: subprocess.Popen, timeout: float = 30.0) -> None:
    """SIGTERM (a warm shutdown: the task in hand finishes), then SIGKILL after ``timeout``."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


def _tail(log_path: Path, chars: int = 4000) -> str:
    return log_path.read_text()[-chars:]
