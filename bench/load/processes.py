"""The load bench's processes: gunicorn and the Celery worker it starts, the CPU each part
uses (read from /proc), and py-spy recordings of the gunicorn workers."""

import io
import os
import shutil
import subprocess
import tarfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench._common import gunicorn_argv
from devtools.celery_worker import worker_start as celery_worker_start
from devtools.celery_worker import worker_stop

ROOT = Path(__file__).resolve().parents[2]
stop = worker_stop  # SIGTERM, then SIGKILL after 30 s: gunicorn, the worker, py-spy alike


@dataclass
class Server:
    """One gunicorn: the working tree's, or a baseline revision's (LOAD_BASELINE)."""

    name: str
    base: str
    process: subprocess.Popen


def start(logs: Path, name: str, command: list[str], cwd: Path = ROOT) -> subprocess.Popen:
    log = (logs / f"{name}.log").open("w")
    return subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603


def gunicorn_start(logs: Path, name: str, port: int, workers: int, tree: Path = ROOT) -> Server:
    """gunicorn serving ``tree``'s config.wsgi (gunicorn puts its directory on sys.path)."""
    process = start(logs, f"gunicorn-{port}", gunicorn_argv(port, workers), cwd=tree)
    return Server(name, f"http://127.0.0.1:{port}", process)


def worker_start(logs: Path, queue: str) -> subprocess.Popen:
    """One prefork process at WARNING (quiet under load); wait_ready pings it."""
    return celery_worker_start(queue, logs / "celery.log", concurrency=1, loglevel="WARNING",
                               wait=False)  # fmt: skip


def baseline_tree(rev: str, into: Path) -> Path:
    """``rev``'s files (git archive: the repository is only read), to serve as the baseline
    on this run's database. Refused unless its migrations are this tree's."""
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True,  # noqa: S603, S607
                             check=True).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")

    def migrations(tree: Path) -> dict:
        return {p.relative_to(tree): p.read_bytes() for p in tree.glob("apps/*/migrations/*.py")}

    if migrations(into) != migrations(ROOT):
        raise SystemExit(f"LOAD_BASELINE={rev}: its migrations differ from this tree's; the "
                         "baseline must run on the same schema")  # fmt: skip
    return into


def wait_ready(servers: list[Server], worker: subprocess.Popen, logs: Path) -> None:
    """Each /readyz answers 200 (database, legacy database, cache, broker); the worker pings."""
    from config.celery import app as celery_app

    deadline = time.monotonic() + 90
    pending = list(servers)
    while time.monotonic() < deadline:
        for server in list(pending):
            request = urllib.request.Request(  # noqa: S310 - loopback
                f"{server.base}/readyz", headers={"X-Forwarded-Proto": "https"}
            )
            try:
                with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        pending.remove(server)
            except OSError:
                pass
            if server.process.poll() is not None:
                raise RuntimeError(f"gunicorn ({server.name}) exited; see {logs}")
        if worker.poll() is not None:
            raise RuntimeError(f"the Celery worker exited; see {logs / 'celery.log'}")
        if not pending and celery_app.control.ping(timeout=1):
            return
        time.sleep(0.5)
    raise RuntimeError(f"gunicorn or the worker never got ready; see {logs}")


# --- CPU ---------------------------------------------------------------------------------


def children(parent: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            pids.append(int(stat.parent.name))
    return pids


def database_backends(database: str) -> list[int]:
    """PostgreSQL backends connected to ``database`` (their process titles name it)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if f" {database} ".encode() in cmdline.read_bytes():
                pids.append(int(cmdline.parent.name))
        except OSError:
            continue
    return pids


def _cpu_seconds(pids: list[int]) -> dict[int, float]:
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


def _machine_busy_seconds() -> float:
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used during a step (and its drain) by the gunicorn workers, PostgreSQL (this run's
    database), the Celery worker, the load generator, and everything else on the machine
    (another job sharing it shows there)."""

    def __init__(self, server: Server, worker: subprocess.Popen, database: str) -> None:
        self.groups = {
            "web": lambda: children(server.process.pid),
            "pg": lambda: database_backends(database),
            "celery": lambda: [worker.pid, *children(worker.pid)],
            "load": lambda: [os.getpid()],
        }

    def begin(self) -> None:
        self.started = time.monotonic()
        self.machine = _machine_busy_seconds()
        self.before = {name: _cpu_seconds(pids()) for name, pids in self.groups.items()}

    def end(self) -> dict[str, float]:
        """CPU seconds of each part since begin(), and the wall-clock seconds (``wall``)."""
        used = {}
        for name, pids in self.groups.items():
            after = _cpu_seconds(pids())
            used[name] = sum(t - self.before[name].get(pid, 0.0) for pid, t in after.items())
        machine = _machine_busy_seconds() - self.machine
        used["other"] = max(0.0, machine - sum(used.values()))
        used["wall"] = time.monotonic() - self.started
        return used


def profile_start(server: Server, seconds: float, logs: Path) -> list[subprocess.Popen]:
    """py-spy records each gunicorn worker for ``seconds``: collapsed stacks under ``logs``
    (for speedscope or flamegraph.pl). Attaching costs CPU: that step's figures suffer."""
    spy = shutil.which("py-spy", path=str(ROOT / ".venv/bin")) or shutil.which("py-spy")
    if not spy:
        print("LOAD_PROFILE: py-spy is not installed (.venv/bin/pip install py-spy)")
        return []
    return [
        start(logs, f"py-spy-{pid}", [spy, "record", "--pid", str(pid), "--duration",
                                     str(int(seconds)), "--nonblocking", "--format", "raw",
                                     "--output", str(logs / f"profile-{pid}.txt")])
        for pid in children(server.process.pid)
    ]  # fmt: skip
