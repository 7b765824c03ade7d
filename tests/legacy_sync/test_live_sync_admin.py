"""Migration staff drive the live sync from the admin: flags (audited), dead outbox entries,
conflicts, and starting a backfill."""

import pytest
from django.test import Client

from apps.accounts.roles import AUTHORS, MIGRATION_STAFF
from apps.legacy_sync.live.flags import sync_flags
from apps.legacy_sync.models import BackfillRun, FlagChange, OutboxEntry, OutboxStatus
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)


@pytest.fixture(autouse=True)
def _roles():
    """Transactional tests flush the groups the data migrations made; make them again."""
    from django.apps import apps

    from apps.accounts.roles import role_permissions_sync

    role_permissions_sync(apps)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff():
    return UserFactory(is_staff=True, roles=[MIGRATION_STAFF])


def test_staff_flip_flags_and_every_change_is_audited(staff):
    client = client_for(staff)
    page = client.get("/admin/legacy_sync/syncflags/", follow=True)
    assert page.status_code == 200 and b"Dual write" in page.content

    response = client.post(
        f"/admin/legacy_sync/syncflags/{sync_flags().pk}/change/",
        {"read_source": "v1", "adaptive_rollout_percent": 10, "shadow_read_percent": 25,
         "dual_write": "on"},
    )  # fmt: skip

    assert response.status_code == 302
    flags = sync_flags()
    assert (flags.dual_write, flags.read_source, flags.adaptive_rollout_percent) == (True, "v1", 10)
    audit = {(c.flag, c.old_value, c.new_value, c.changed_by_id) for c in FlagChange.objects.all()}
    assert audit == {
        ("dual_write", "False", "True", staff.pk),
        ("read_source", "v2", "v1", staff.pk),
        ("adaptive_rollout_percent", "0", "10", staff.pk),
        ("shadow_read_percent", "10", "25", staff.pk),
    }


def test_a_bad_rollout_percent_is_refused_with_the_field_named(staff):
    response = client_for(staff).post(
        f"/admin/legacy_sync/syncflags/{sync_flags().pk}/change/",
        {"read_source": "v2", "adaptive_rollout_percent": 140, "shadow_read_percent": 10},
    )
    assert response.status_code == 200  # the form again, with the error
    assert sync_flags().adaptive_rollout_percent == 0
    assert not FlagChange.objects.exists()


def test_authors_cannot_see_or_change_the_flags():
    client = client_for(UserFactory(is_staff=True, roles=[AUTHORS]))
    assert client.get(f"/admin/legacy_sync/syncflags/{sync_flags().pk}/change/").status_code == 403
    assert client.get("/admin/legacy_sync/outboxentry/").status_code == 403


def test_staff_retry_dead_outbox_entries(staff):
    dead = OutboxEntry.objects.create(entity="attempts", v2_id="x", status=OutboxStatus.DEAD,
                                      tries=8, last_error="IntegrityError: ...")  # fmt: skip
    sent = OutboxEntry.objects.create(entity="attempts", v2_id="y", status=OutboxStatus.SENT)

    client_for(staff).post(
        "/admin/legacy_sync/outboxentry/",
        {"action": "retry_selected", "_selected_action": [dead.pk, sent.pk]},
    )

    dead.refresh_from_db()
    sent.refresh_from_db()
    # the drain ran right after (eager Celery): the row is gone from v2, so it is v2-only now
    assert dead.tries == 0 and dead.status in (OutboxStatus.PENDING, OutboxStatus.V2_ONLY)
    assert sent.status == OutboxStatus.SENT


def test_staff_start_a_backfill_from_the_admin(staff, tmp_path, settings):
    from apps.legacy_sync.v1.fixture import legacy_fixture_build

    settings.LEGACY_JSON_DIR = tmp_path
    legacy_fixture_build(users=5, sessions=5, attempts=20, bits=5, seed=2, json_dir=tmp_path)
    client = client_for(staff)
    assert b"Start a backfill" in client.get("/admin/legacy_sync/backfillrun/").content

    client.post("/admin/legacy_sync/backfillrun/start/")

    run = BackfillRun.objects.get()
    assert run.status == "done"  # eager Celery ran it after the request's commit


def test_only_staff_with_the_permission_may_start_a_backfill():
    client = client_for(UserFactory(is_staff=True, is_superuser=False, roles=[AUTHORS]))
    assert client.post("/admin/legacy_sync/backfillrun/start/").status_code in (302, 403)
    assert not BackfillRun.objects.exists()
