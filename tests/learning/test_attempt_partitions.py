"""Attempts partitioned by month on PostgreSQL (issue 19): rows land in their month, client ids
stay unique across months, the default partition gives its rows up when their month is
created, and SQLite keeps one plain table."""

import threading
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, connections

from apps.learning.models import Attempt
from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.learning.services.partitions import (
    DEFAULT_PARTITION,
    attempt_partitions,
    attempt_partitions_ensure,
    attempt_partitions_ensure_ahead,
    attempt_partitions_ensure_months,
    partition_name,
    partitioned,
)
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.learning.helpers import ATTEMPTS_URL, CORRECT_MCQ, attempt_payload

on_postgresql = pytest.mark.postgresql


def partition_of(attempt_id) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM learning_attempt WHERE id = %s", [attempt_id]
        )
        return cursor.fetchone()[0]


def answer(learner, atom, *, answered_at=None, now=None, client_attempt_id=None):
    item = AttemptInput(
        client_attempt_id=client_attempt_id or uuid.uuid4(),
        atom_id=atom.pk,
        response=CORRECT_MCQ,
        answered_at=answered_at,
        time_taken_ms=1500,  # as attempt_payload's body says
    )
    return attempts_ingest(learner=learner, inputs=[item], now=now)[0]


@on_postgresql
@pytest.mark.django_db
def test_the_migration_leaves_a_partitioned_table_with_months_ahead_and_a_default():
    assert partitioned()
    months = [p.month for p in attempt_partitions() if p.month]
    this_month = date.today().replace(day=1)
    assert this_month in months
    assert len([m for m in months if m > this_month]) >= 3
    assert attempt_partitions()[-1].name == DEFAULT_PARTITION


@on_postgresql
@pytest.mark.django_db
def test_attempts_land_in_the_partition_of_the_month_they_were_answered_in(learner):
    atom = make_atom("mcq")
    attempt_partitions_ensure(since=date(2026, 10, 1), through=date(2026, 11, 1))
    now = datetime(2026, 11, 3, 12, tzinfo=UTC)
    october = answer(learner, atom, answered_at=datetime(2026, 10, 31, 23, 59, tzinfo=UTC), now=now)
    november = answer(learner, atom, answered_at=datetime(2026, 11, 1, 0, 0, tzinfo=UTC), now=now)

    assert october.status == november.status == "created"
    assert partition_of(october.attempt.pk) == partition_name(date(2026, 10, 1))
    assert partition_of(november.attempt.pk) == partition_name(date(2026, 11, 1))


@on_postgresql
@pytest.mark.django_db
def test_a_replay_in_the_next_month_is_a_200_with_the_stored_attempt(learner, learner_client):
    atom = make_atom("mcq")
    last_month = date.today().replace(day=1) - timedelta(days=1)
    attempt_partitions_ensure(since=last_month, through=last_month)
    body = attempt_payload(atom)
    # Stored on the last second of last month, with the server's clock (no answered_at).
    end_of_last_month = datetime.combine(last_month, datetime.max.time(), tzinfo=UTC)
    first = answer(
        learner,
        atom,
        now=end_of_last_month,
        client_attempt_id=uuid.UUID(body["client_attempt_id"]),
    )
    assert partition_of(first.attempt.pk) == partition_name(last_month.replace(day=1))

    replay = learner_client.post(ATTEMPTS_URL, body, format="json")

    assert replay.status_code == 200
    assert replay.json()["id"] == str(first.attempt.pk)
    assert Attempt.objects.filter(client_attempt_id=body["client_attempt_id"]).count() == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_one_client_id_sent_twice_at_once_in_two_months_is_stored_once():
    """No unique index spans two months: the learner's write lock must decide the race."""
    learner = UserFactory()
    atom = make_atom("mcq")
    attempt_partitions_ensure(since=date(2026, 10, 1), through=date(2026, 11, 1))
    client_id = uuid.uuid4()
    now = datetime(2026, 11, 3, tzinfo=UTC)
    moments = [datetime(2026, 10, 31, 23, tzinfo=UTC), datetime(2026, 11, 1, 1, tzinfo=UTC)]
    barrier = threading.Barrier(2)
    outcomes = []

    def send(moment):
        try:
            barrier.wait()
            outcomes.append(
                answer(learner, atom, answered_at=moment, now=now, client_attempt_id=client_id)
            )
        finally:
            connections.close_all()

    for _round in range(3):  # the race is not always lost; three tries make it likely
        client_id = uuid.uuid4()
        threads = [threading.Thread(target=send, args=(m,)) for m in moments]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert Attempt.objects.filter(client_attempt_id=client_id).count() == 1
    assert sorted(o.status for o in outcomes).count("created") == 3


@on_postgresql
@pytest.mark.django_db
def test_creating_a_month_moves_its_rows_out_of_the_default_partition(learner):
    atom = make_atom("mcq")
    moment = datetime(2024, 2, 29, 12, tzinfo=UTC)
    stored = answer(learner, atom, answered_at=moment, now=moment + timedelta(days=1))
    assert partition_of(stored.attempt.pk) == DEFAULT_PARTITION

    created = attempt_partitions_ensure_months([moment])

    assert created == [partition_name(date(2024, 2, 1))]
    assert partition_of(stored.attempt.pk) == partition_name(date(2024, 2, 1))
    assert Attempt.objects.filter(learner=learner).count() == 1
    assert attempt_partitions_ensure_months([moment]) == []  # idempotent


@on_postgresql
@pytest.mark.django_db
def test_the_beat_task_and_the_command_keep_the_coming_months_ready(capsys):
    from apps.learning.tasks import attempt_partitions_ensure_task

    far = datetime(2031, 5, 10, tzinfo=UTC)
    created = attempt_partitions_ensure_ahead(months=2, now=far)
    assert created == [partition_name(date(2031, m, 1)) for m in (5, 6, 7)]
    assert attempt_partitions_ensure_task() == []  # the real months exist since the migration

    call_command("attempt_partitions", "--since", "2030-01", "--through", "2030-02")
    out = capsys.readouterr().out
    assert "Created 2 partition(s)" in out
    assert "learning_attempt_y2030m02" in out


def test_sqlite_keeps_a_plain_table(db, capsys):
    if connection.vendor == "postgresql":
        pytest.skip("the embedded default's behaviour")
    assert not partitioned()
    assert attempt_partitions_ensure(since=date(2026, 1, 1), through=date(2026, 3, 1)) == []
    call_command("attempt_partitions")
    assert "plain table" in capsys.readouterr().out
