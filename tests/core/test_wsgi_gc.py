"""The WSGI entry point moves the start-up heap out of the garbage collector's scans."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wsgi_application_freezes_its_start_up_heap():
    # In a process of its own: freezing the test process's heap would outlive the test.
    script = "import gc, config.wsgi; print(gc.get_freeze_count())"
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
        check=True, timeout=60,
    )  # fmt: skip
    assert int(out.stdout.strip().splitlines()[-1]) > 10_000
