"""The attempt log's monthly partitions while v1 lives (issue 19): the backfill spreads v1's
history over its months, and a month leaves the live table only once reconciliation with v1
has covered it."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from apps.learning.models import Attempt
from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.learning.services.partitions import (
    ARCHIVE_SCHEMA,
    DEFAULT_PARTITION,
    PartitionError,
    attempt_partition_detach,
    attempt_partitions,
    attempt_partitions_ensure,
    partition_name,
)
from apps.legacy_sync.models import ReconciliationRun, ReconciliationStatus
from tests.content.factories import make_atom
from tests.learning.helpers import CORRECT_MCQ

from .backfill_helpers import WITHOUT_FLASHCARDS, backfill, dirty_legacy_build

pytestmark = pytest.mark.postgresql

MONTH = date(2026, 3, 1)
NOW = datetime(2026, 12, 5, tzinfo=UTC)


def rows_in(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - the test's own names
        return cursor.fetchone()[0]


@pytest.fixture
def march_attempt(learner):
    import uuid

    attempt_partitions_ensure(since=MONTH, through=MONTH)
    item = AttemptInput(
        client_attempt_id=uuid.uuid4(),
        atom_id=make_atom("mcq").pk,
        response=CORRECT_MCQ,
        answered_at=datetime(2026, 3, 15, tzinfo=UTC),
    )
    return attempts_ingest(learner=learner, inputs=[item], now=item.answered_at)[0].attempt


def reconciliation(status, started_at):
    run = ReconciliationRun.objects.create(status=status, entities={"attempts": {"rows": 1}})
    ReconciliationRun.objects.filter(pk=run.pk).update(started_at=started_at)


@pytest.mark.django_db
def test_a_month_no_reconciliation_has_covered_is_not_detached(march_attempt):
    reconciliation(ReconciliationStatus.CLEAN, datetime(2026, 3, 20, tzinfo=UTC))  # too early
    reconciliation(ReconciliationStatus.DIFFERENCES, datetime(2026, 4, 2, tzinfo=UTC))

    with pytest.raises(PartitionError, match="ended differences"):
        attempt_partition_detach(month=MONTH, now=NOW)
    with pytest.raises(CommandError, match="2026-03 cannot be detached"):
        call_command("attempt_partitions_detach", "2026-03")

    assert Attempt.objects.filter(pk=march_attempt.pk).exists()
    assert partition_name(MONTH) in {p.name for p in attempt_partitions()}


@pytest.mark.django_db
def test_a_reconciled_month_is_detached_into_the_archive_schema(march_attempt):
    reconciliation(ReconciliationStatus.CLEAN, datetime(2026, 4, 2, tzinfo=UTC))

    archived = attempt_partition_detach(month=MONTH, now=NOW)

    assert archived == f"{ARCHIVE_SCHEMA}.{partition_name(MONTH)}"
    assert not Attempt.objects.filter(pk=march_attempt.pk).exists()
    assert rows_in(archived) == 1
    assert partition_name(MONTH) not in {p.name for p in attempt_partitions()}


@pytest.mark.django_db
def test_this_month_and_a_month_without_a_partition_are_refused(march_attempt):
    reconciliation(ReconciliationStatus.CLEAN, NOW + timedelta(days=40))
    with pytest.raises(PartitionError, match="not over yet"):
        attempt_partition_detach(month=date(2026, 12, 1), now=NOW)
    with pytest.raises(PartitionError, match="no attached partition for 2019-01"):
        attempt_partition_detach(month=date(2019, 1, 1), now=NOW)


@pytest.mark.django_db(databases=["default", "legacy"], transaction=True)
def test_the_backfill_spreads_v1_history_over_its_months(tmp_path):
    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=WITHOUT_FLASHCARDS)

    months = {
        (answered.year, answered.month)
        for answered in Attempt.objects.values_list("answered_at", flat=True)
    }
    assert len(months) > 1
    assert rows_in(DEFAULT_PARTITION) == 0
    for year, month in months:
        assert rows_in(partition_name(date(year, month, 1))) > 0
