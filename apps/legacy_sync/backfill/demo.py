"""The demo's v1 platform: a small dirty legacy database (Spanish and German courses, learners
with history, a few bad rows for Migration staff to fix), backfilled into v2. Idempotent: the
legacy database is generated only while it has no v1 users, and the backfill resumes from its
checkpoints, so running the demo again changes nothing."""

from django.conf import settings
from django.db import DatabaseError

from ..status import conservation_report
from ..v1.fixture import legacy_fixture_build
from ..v1.gateway import v1_atomic, v1_fetch_one
from .runner import backfill_run

DEMO_SIZE = {"users": 30, "sessions": 240, "attempts": 2_400, "bits": 40}


def _legacy_users() -> int | None:
    try:  # in a savepoint: a failed probe must not abort the caller's transaction
        with v1_atomic():
            return v1_fetch_one("SELECT COUNT(*) FROM users")[0]
    except DatabaseError:
        return None  # no v1 tables yet


def demo_legacy_load() -> dict:
    """{"generated": bool, "migrated": n, "quarantined": n} after making sure the demo's v1
    data is there and backfilled."""
    generated = not _legacy_users()
    if generated:
        legacy_fixture_build(**DEMO_SIZE, seed=11, dirty=True, json_dir=settings.LEGACY_JSON_DIR)
    backfill_run(json_dir=settings.LEGACY_JSON_DIR)
    report = conservation_report(json_dir=settings.LEGACY_JSON_DIR)
    return {
        "generated": generated,
        "migrated": sum(row["migrated"] for row in report),
        "quarantined": sum(row["quarantined"] for row in report),
    }
