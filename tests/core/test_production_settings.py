import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, **extra_env: str | None) -> subprocess.CompletedProcess:
    """Run manage.py with production settings; an extra_env value of None unsets it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "learn.example.com",
        "DJANGO_SERVE_LOCAL_MEDIA": "true",
    }
    env |= extra_env
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_require_a_secret_key():
    result = run_manage("check", DJANGO_SECRET_KEY=None)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_load_demo_refuses_to_run_in_production():
    result = run_manage("load_demo")

    assert result.returncode != 0
    assert "never runs with production settings" in result.stderr
