"""PostgreSQL prepares the project's repeated statements once per connection (server-side
binding, psycopg's prepare threshold: config/settings/base.py), except on the legacy v1
database; DATABASE_PREPARED_STATEMENTS=false turns it off."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection, connections

from apps.learning.models import Attempt

pytestmark = [
    pytest.mark.django_db(databases=["default", "legacy"]),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="prepared statements are PostgreSQL's (set DATABASE_URL)",
    ),
]
ROOT = Path(__file__).resolve().parents[2]


def _prepared(alias: str) -> list[str]:
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_statement_run_a_few_times_is_prepared_on_the_server():
    learner_id = uuid.uuid4()
    for _ in range(6):  # psycopg prepares a statement at its 6th run
        list(Attempt.objects.filter(learner_id=learner_id, correct=True))
    prepared = [s for s in _prepared("default") if '"learning_attempt"' in s]
    assert prepared and "$1" in prepared[0]  # parameters bound on the server


def test_the_legacy_database_keeps_client_side_binding():
    if connections["legacy"].vendor != "postgresql":
        pytest.skip("the legacy database is SQLite here")
    for _ in range(6):
        with connections["legacy"].cursor() as cursor:
            cursor.execute("SELECT %s::int", [1])
    assert _prepared("legacy") == []


def test_the_setting_turns_them_off():
    probe = (
        "from django.conf import settings; "
        "print(settings.DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold'))"
    )
    env = os.environ | {"DATABASE_PREPARED_STATEMENTS": "false"}
    out = subprocess.run(  # noqa: S603 - this interpreter, a fixed probe
        [sys.executable, "-c", f"import django; django.setup(); {probe}"],
        cwd=ROOT, env=env | {"DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "None"
