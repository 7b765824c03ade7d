"""What the benchmarks share: the project root on sys.path, scratch PostgreSQL databases,
Django set up in-process or ``manage.py`` in a subprocess, gunicorn, and latency figures.

Scripts run as ``.venv/bin/python bench/bench_x.py`` import it as ``_common`` (their own
directory is on sys.path); bench/load imports it as ``bench._common``. The Celery worker
start-up is devtools/celery_worker.py, shared with the test suite.

BENCH_PG_SERVER (default postgres://postgres@127.0.0.1:5432) is the server the scratch
databases go on; BENCH_DB_PREFIX (default ``bench``) starts their names.
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432")
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "bench")
SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))  # the legacy fixture benches' size
PORT = int(os.environ.get("BENCH_PORT", "8971"))  # the in-process benches' gunicorn
NO_THROTTLE = {"API_THROTTLE_USER": "1000000/minute", "API_THROTTLE_ANON": "1000000/minute"}


# --- scratch databases -------------------------------------------------------------------


def scratch_name(kind: str, run: str | None = None) -> str:
    """``<BENCH_DB_PREFIX>_<kind>_<run>``; ``run`` defaults to a fresh random one."""
    return f"{DB_PREFIX}_{kind}_{run or uuid.uuid4().hex[:8]}"


def scratch_pair(kind: str, run: str) -> tuple[str, str]:
    """The v2 and v1 (legacy) scratch databases of a run of a bench with both."""
    new = scratch_name(kind, run)
    return new, f"{new}_legacy"


def admin(sql: str) -> None:
    """One statement on the server's ``postgres`` database, outside a transaction."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(sql)


def databases_create(*names: str, replace: bool = False) -> None:
    """CREATE DATABASE each; with ``replace`` a leftover of the same name is dropped first."""
    for name in names:
        if replace:
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin(f'CREATE DATABASE "{name}"')


def databases_drop(*names: str) -> None:
    for name in names:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scalar(database: str, sql: str, params: tuple = ()):
    """The first column of the first row of ``sql`` on scratch database ``database``."""
    with psycopg.connect(f"{SERVER}/{database}") as conn:
        return conn.execute(sql, params).fetchone()[0]


def checkpoint_rows_seen(database: str) -> dict[str, int]:
    """{entity: v1 rows its backfill checkpoints have read} on v2 database ``database``."""
    with psycopg.connect(f"{SERVER}/{database}") as conn:
        rows = conn.execute(
            "SELECT entity, SUM(rows_seen) FROM legacy_sync_backfillcheckpoint GROUP BY entity"
        ).fetchall()
    return {entity: int(seen) for entity, seen in rows}


# --- Django ------------------------------------------------------------------------------


def django_env(new_db: str, legacy_db: str, *, redis_url: str = "", **extra: str) -> dict:
    """The environment of a bench's ``manage.py`` and worker processes: the dev settings (not
    the test settings: they make Celery eager), DEBUG off, the two scratch databases; Celery
    eager without ``redis_url``, through that broker with it."""
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"{SERVER}/{new_db}",
        "LEGACY_DATABASE_URL": f"{SERVER}/{legacy_db}",
        "REDIS_URL": redis_url,
        **extra,
    }


def manage(
    *args: str, env: dict | None = None, check: bool = True, peak_rss: bool = False
) -> subprocess.CompletedProcess:
    """``manage.py <args>`` in a subprocess, output captured; ``env`` defaults to this
    process's. With ``peak_rss`` it runs under /usr/bin/time: see peak_rss_mb(stderr)."""
    argv = [sys.executable, "manage.py", *args]
    if peak_rss:
        argv = ["/usr/bin/time", "-f", "MAXRSS_KB=%M", *argv]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=check)  # noqa: S603


def peak_rss_mb(stderr: str) -> float:
    """The peak RSS /usr/bin/time reported for a ``manage(..., peak_rss=True)`` run."""
    return int(re.search(r"MAXRSS_KB=(\d+)", stderr).group(1)) / 1024


def django_setup(database: str) -> None:
    """Django in this process on the test settings (eager Celery, no Redis), on scratch
    database ``database`` of BENCH_PG_SERVER, migrated."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"{SERVER}/{database}"
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def connections_close() -> None:
    """Close this process's database connections (before forking servers, before a DROP)."""
    from django.db import connections

    connections.close_all()


# --- gunicorn and HTTP -------------------------------------------------------------------


def gunicorn_argv(port: int, workers: int) -> list[str]:
    """gunicorn serving config.wsgi of the directory it runs in, on 127.0.0.1:``port``."""
    return [str(ROOT / ".venv/bin/gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "--log-level", "warning"]  # fmt: skip


def gunicorn_start(port: int, *, workers: int = 2, env: dict | None = None) -> subprocess.Popen:
    """gunicorn of this tree on ``port``, once /healthz answers; its log on this terminal."""
    server = subprocess.Popen(gunicorn_argv(port, workers), cwd=ROOT, env=env)  # noqa: S603
    wait_http(f"http://127.0.0.1:{port}/healthz")
    return server


def wait_http(url: str, tries: int = 100) -> None:
    """Until ``url`` answers (at most ``tries`` × 0.2 s; the first request then tells)."""
    for _ in range(tries):
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - loopback only
            return
        except OSError:
            time.sleep(0.2)


def post_json(url: str, body: dict, headers: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def bearer(base: str, email: str, password: str) -> dict:
    """The Authorization header of a JWT for ``email``, from ``base``'s token endpoint."""
    token = post_json(f"{base}/api/v1/auth/token/", {"email": email, "password": password})
    return {"Authorization": f"Bearer {token['access']}"}


# --- figures -----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank, rounding down) of ``values``; NaN if there are none."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def print_latency(label: str, samples_ms: list[float]) -> None:
    """``<label> p50 … ms   p99 … ms``, the benchmarks' latency line."""
    p50, p99 = percentile(samples_ms, 0.5), percentile(samples_ms, 0.99)
    print(f"{label:<42}p50 {p50:7.1f} ms   p99 {p99:7.1f} ms")
