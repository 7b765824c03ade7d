"""API request overhead: JWT-authenticated GET /api/v1/me/ against the bare /healthz view.

Both run in-process through the full middleware stack on a throwaway SQLite database, so the
ratio shows what authentication, throttling, DRF and the error envelope add per request.
Run: .venv/bin/python bench/bench_api_overhead.py [requests]
"""

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_scratch = tempfile.mkdtemp(prefix="bench-api-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["DATABASE_URL"] = f"sqlite:///{_scratch}/db.sqlite3"
os.environ["LEGACY_DATABASE_URL"] = f"sqlite:///{_scratch}/legacy.sqlite3"
os.environ.pop("REDIS_URL", None)
os.environ["API_THROTTLE_USER"] = "1000000/minute"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402


def per_request_ms(client: Client, path: str, count: int, **headers) -> float:
    for _ in range(20):  # warm-up
        client.get(path, **headers)
    started = time.perf_counter()
    for _ in range(count):
        assert client.get(path, **headers).status_code == 200
    return (time.perf_counter() - started) * 1000 / count


def main(count: int) -> None:
    call_command("migrate", verbosity=0)
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    client = Client()
    tokens = client.post(
        "/api/v1/auth/token/",
        {"email": "learner@demo.local", "password": "demo12345"},
        content_type="application/json",
    ).json()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}

    baseline = per_request_ms(client, "/healthz", count)
    me = per_request_ms(client, "/api/v1/me/", count, **bearer)
    print(f"requests per path      {count}")
    print(f"/healthz (baseline)    {baseline:.3f} ms/request")
    print(f"/api/v1/me/ (JWT)      {me:.3f} ms/request")
    print(f"ratio me / healthz     {me / baseline:.1f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
