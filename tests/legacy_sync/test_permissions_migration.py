"""The permissions matrix (tests/test_permissions_matrix.py) for the migration app's own doors:
the staff migration pages and the legacy_sync admin. Here because they go with the app when it
is switched off at cutover."""

import json
from functools import cached_property

import pytest
from django.test import TestCase
from django.utils import timezone

from apps.legacy_sync.live.flags import sync_flags
from apps.legacy_sync.models import (
    BackfillCheckpoint,
    BackfillRun,
    BackfillStatus,
    CohortAssignment,
    DifferenceKind,
    FlagChange,
    MergedLegacyRow,
    OutboxEntry,
    OutboxStatus,
    QuarantinedRow,
    ReconciliationDifference,
    ReconciliationRun,
    ReconciliationStatus,
    ShadowRead,
    StreakComparison,
    SyncConflict,
)
from apps.legacy_sync.status import SECTIONS
from apps.legacy_sync.v1.schema import legacy_schema_create
from tests.test_permissions_matrix import (
    LOGIN,
    MIGRATION,
    Endpoint,
    World,
    admin,
    cell_run,
    cells,
    json_of,
    matrix_cells,
)

pytestmark = pytest.mark.django_db(databases=["default", "legacy"])


class MigrationWorld(World):
    def legacy_tables(self) -> None:
        """Empty v1 tables and no JSON progress files, for the pages that count v1 rows."""
        settings = self._request.getfixturevalue("settings")
        settings.VAR_DIR = self._request.getfixturevalue("tmp_path")
        legacy_schema_create(alias="legacy", replace=True)

    @cached_property
    def quarantined_row(self) -> QuarantinedRow:
        raw = {"id": 99, "email": "held@example.com", "timezone": "Mars/Olympus_Mons"}
        return QuarantinedRow.objects.create(
            entity="users", legacy_key="99", reason="invalid_timezone", raw=raw
        )

    @cached_property
    def dead_entry(self) -> OutboxEntry:
        return OutboxEntry.objects.create(
            entity="attempts", v2_id="x", status=OutboxStatus.DEAD, tries=8, last_error="boom"
        )

    @cached_property
    def reconciliation_run(self) -> ReconciliationRun:
        run = ReconciliationRun.objects.create(
            status=ReconciliationStatus.DIFFERENCES, finished_at=timezone.now(), differences=1
        )
        ReconciliationDifference.objects.create(
            run=run, entity="users", legacy_key="7", kind=DifferenceKind.MISMATCH
        )
        return run

    @cached_property
    def conflict(self) -> SyncConflict:
        return SyncConflict.objects.create(entity="users", legacy_key="7", winner="v2")

    @cached_property
    def flags(self):
        return sync_flags()

    def legacy_records(self) -> None:
        """A row in every legacy_sync model, so that each changelist renders real rows."""
        self.quarantined_row, self.dead_entry, self.reconciliation_run, self.conflict  # noqa: B018
        self.flags  # noqa: B018
        learner = self.learner
        progress = {"users": {"legacy": 1, "seen": 1, "migrated": 1, "quarantined": 0}}
        BackfillRun.objects.create(status=BackfillStatus.DONE, progress=progress)
        BackfillCheckpoint.objects.create(entity="users", last_key="7", rows_seen=1)
        MergedLegacyRow.objects.create(entity="users", legacy_key="8", merged_into="7", rule="dup")
        StreakComparison.objects.create(entity="user_profiles", legacy_key="7", learner=learner,
                                        v1_current=1, v2_current=1, v1_longest=2, v2_longest=2,
                                        agrees=True)  # fmt: skip
        FlagChange.objects.create(flag="dual_write", old_value="False", new_value="True")
        CohortAssignment.objects.create(learner=learner, bucket=5, cohort="v1")
        ShadowRead.objects.create(learner=learner, matched=True)


@pytest.fixture
def world(request) -> MigrationWorld:
    return MigrationWorld(request)


def _every_section(w, role, response):
    assert set(SECTIONS) <= set(json_of(response))


def _has_retry_button(w, role, response):
    assert b"Save and retry" in response.content


# --- staff migration pages (/staff/migration/) ------------------------------------------------


def staff_page(**by_role):
    """Migration staff and superusers; a login for anonymous users; 403 for everyone else."""
    return cells(403, **{"anonymous": LOGIN, "migration_staff": 200, "superuser": 200, **by_role})


STAFF_PAGES = [
    Endpoint(
        "GET /staff/migration/",
        lambda w, c: c.get("/staff/migration/"),
        staff_page(),
        browser=True,
        given=MigrationWorld.legacy_tables,
    ),
    Endpoint(
        "GET /staff/migration/status.json",
        lambda w, c: c.get("/staff/migration/status.json"),
        staff_page(),
        browser=True,
        given=MigrationWorld.legacy_tables,
        check=_every_section,
    ),
    Endpoint(
        "GET /staff/migration/fragments/outbox/",
        lambda w, c: c.get("/staff/migration/fragments/outbox/"),
        staff_page(),
        browser=True,
        given=MigrationWorld.legacy_tables,
    ),
    Endpoint(
        "GET /staff/migration/fragments/outbox/ (htmx poll)",
        lambda w, c: c.get("/staff/migration/fragments/outbox/", headers={"HX-Request": "true"}),
        staff_page(anonymous=401),  # htmx must not swap the login form into a panel
        browser=True,
        given=MigrationWorld.legacy_tables,
    ),
    Endpoint(
        "GET /staff/migration/fragments/{unknown}/",
        lambda w, c: c.get("/staff/migration/fragments/no-such-section/"),
        staff_page(migration_staff=404, superuser=404),
        browser=True,
    ),
    Endpoint(
        "GET /staff/migration/reconciliation/{id}/",
        lambda w, c: c.get(f"/staff/migration/reconciliation/{w.reconciliation_run.pk}/"),
        staff_page(),
        browser=True,
    ),
    Endpoint(
        "GET /staff/migration/reconciliation/{missing}/",
        lambda w, c: c.get("/staff/migration/reconciliation/999999/"),
        staff_page(migration_staff=404, superuser=404),
        browser=True,
    ),
]


# --- admin: the migration's own pages -----------------------------------------------------------

LEGACY_ADMIN = "/admin/legacy_sync/"
LEGACY_MODELS = (
    "quarantinedrow",
    "backfillrun",
    "backfillcheckpoint",
    "mergedlegacyrow",
    "streakcomparison",
    "syncflags",
    "flagchange",
    "cohortassignment",
    "outboxentry",
    "syncconflict",
    "reconciliationrun",
    "reconciliationdifference",
    "shadowread",
)


def migration_admin(allowed=200, **by_role):
    """Migration staff and superusers; other staff 403; learners to the login."""
    return admin(403, **{"migration_staff": allowed, "superuser": allowed, **by_role})


def _retry_count(w) -> int:
    return QuarantinedRow.objects.values_list("retry_count", flat=True).get(pk=w.quarantined_row.pk)


def _outbox_state(w) -> tuple:
    entry = OutboxEntry.objects.get(pk=w.dead_entry.pk)
    return entry.status, entry.tries


def _flags_state(w) -> tuple:
    flags = sync_flags()
    return flags.dual_write, flags.adaptive_rollout_percent, FlagChange.objects.count()


def _save_flags(w, c):
    data = {"dual_write": "on", "read_source": "v2", "adaptive_rollout_percent": 10,
            "shadow_read_percent": w.flags.shadow_read_percent}  # fmt: skip
    return c.post(f"{LEGACY_ADMIN}syncflags/{w.flags.pk}/change/", data)


def _start_backfill(w, c):
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        response = c.post(f"{LEGACY_ADMIN}backfillrun/start/")
    w.enqueued = len(callbacks)
    return response


def _legacy_admin_action(model: str, action: str, subject, *, observe) -> Endpoint:
    """A Migration-staff changelist action on one row (``subject`` picks it from the world)."""
    return Endpoint(
        f"POST {LEGACY_ADMIN}{model}/ action={action}",
        lambda w, c: c.post(
            f"{LEGACY_ADMIN}{model}/", {"action": action, "_selected_action": [subject(w).pk]}
        ),
        migration_admin(302),
        browser=True,
        observe=observe,
        changes_for=MIGRATION,
    )


MIGRATION_ADMIN = [
    *(
        Endpoint(
            f"GET {LEGACY_ADMIN}{model}/",
            lambda w, c, model=model: c.get(f"{LEGACY_ADMIN}{model}/"),
            # the flags' list is their one change page
            migration_admin(302 if model == "syncflags" else 200),
            browser=True,
            given=MigrationWorld.legacy_records,
        )
        for model in LEGACY_MODELS
    ),
    Endpoint(
        f"GET {LEGACY_ADMIN}quarantinedrow/{{id}}/change/",
        lambda w, c: c.get(f"{LEGACY_ADMIN}quarantinedrow/{w.quarantined_row.pk}/change/"),
        migration_admin(),
        browser=True,
        check=_has_retry_button,
    ),
    Endpoint(
        f"POST {LEGACY_ADMIN}quarantinedrow/{{id}}/change/ _retry (Save and retry)",
        lambda w, c: c.post(
            f"{LEGACY_ADMIN}quarantinedrow/{w.quarantined_row.pk}/change/",
            {"raw": json.dumps(w.quarantined_row.raw), "_retry": "Save and retry"},
        ),
        migration_admin(302),
        browser=True,
        observe=_retry_count,
        changes_for=MIGRATION,
    ),
    _legacy_admin_action(
        "quarantinedrow", "retry_selected", lambda w: w.quarantined_row, observe=_retry_count
    ),
    _legacy_admin_action(
        "outboxentry", "retry_selected", lambda w: w.dead_entry, observe=_outbox_state
    ),
    _legacy_admin_action(
        "syncconflict",
        "mark_reviewed",
        lambda w: w.conflict,
        observe=lambda w: SyncConflict.objects.get(pk=w.conflict.pk).reviewed_by_id,
    ),
    Endpoint(
        f"GET {LEGACY_ADMIN}syncflags/{{id}}/change/",
        lambda w, c: c.get(f"{LEGACY_ADMIN}syncflags/{w.flags.pk}/change/"),
        migration_admin(),
        browser=True,
    ),
    Endpoint(
        f"POST {LEGACY_ADMIN}syncflags/{{id}}/change/",
        _save_flags,
        migration_admin(302),
        browser=True,
        observe=_flags_state,
        changes_for=MIGRATION,
    ),
    Endpoint(
        f"POST {LEGACY_ADMIN}backfillrun/start/",
        _start_backfill,
        migration_admin(302),
        browser=True,
        observe=lambda w: w.enqueued,
        changes_for=MIGRATION,
    ),
]

MIGRATION_ENDPOINTS = [*STAFF_PAGES, *MIGRATION_ADMIN]


@pytest.mark.parametrize(("endpoint", "role"), matrix_cells(MIGRATION_ENDPOINTS))
def test_migration_permissions_matrix(world, endpoint, role):
    cell_run(world, endpoint, role)
