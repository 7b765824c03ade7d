"""No settings module has a public default secret key, and servers and workers started without
DJANGO_SETTINGS_MODULE run production settings, which refuse to start without a real key."""

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests.accounts.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
# The key every checkout used to share (config/settings/base.py's old default).
OLD_PUBLIC_KEY = "django-insecure-embedded-default-not-for-production"


def python(code: str, **environment: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with no DJANGO_* variable but ``environment``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")} | environment
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi", "config.celery"])
def test_servers_and_workers_default_to_production_settings(module):
    code = f"import {module}; from django.conf import settings; print(settings.SETTINGS_MODULE)"

    without_key = python(code)
    with_key = python(code, DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
                      DJANGO_ALLOWED_HOSTS="learn.example.com",
                      DJANGO_SERVE_LOCAL_MEDIA="true")  # fmt: skip

    assert without_key.returncode != 0
    assert "DJANGO_SECRET_KEY" in without_key.stderr
    assert with_key.returncode == 0, with_key.stderr
    assert with_key.stdout.strip() == "config.settings.production"


@pytest.mark.parametrize("weak", [OLD_PUBLIC_KEY + "-padded-out-to-fifty-characters", "short"])
def test_production_refuses_a_weak_or_public_key(weak):
    result = python("import config.wsgi", DJANGO_SECRET_KEY=weak,
                    DJANGO_ALLOWED_HOSTS="learn.example.com")  # fmt: skip

    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_dev_and_test_keys_are_the_checkouts_own_and_random():
    key_file = Path(settings.BASE_DIR) / "var" / "secret_key"

    assert settings.SECRET_KEY != OLD_PUBLIC_KEY
    assert key_file.read_text().strip() == settings.SECRET_KEY
    assert len(settings.SECRET_KEY) >= 50


@pytest.mark.django_db
def test_a_token_forged_with_the_old_public_key_is_refused():
    admin = UserFactory(is_staff=True, is_superuser=True)
    now = timezone.now()
    forged = jwt.encode(
        {"token_type": "access", "user_id": str(admin.pk), "jti": "forged",
         "iat": int(now.timestamp()), "exp": int((now + timedelta(minutes=5)).timestamp())},
        OLD_PUBLIC_KEY, algorithm="HS256",
    )  # fmt: skip
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")

    response = client.get("/api/v1/me/")

    assert response.status_code == 401
