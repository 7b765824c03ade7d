"""The read replica: progress, statistics and the status pages read from the ``replica`` alias,
a learner's own write pins them to the primary for REPLICA_PIN_SECONDS, and nothing is ever
written to or migrated on the replica (config/db_routers.py, apps/core/replica.py).

``replica`` is a test mirror of default (config/settings/test.py): its own connection to the
test database, which sees only committed rows. The test's rows sit in default's open
transaction, so the replica answers like one that has not replayed them yet."""

import re
import time
from contextlib import contextmanager

import pytest
from django.contrib.auth.models import Group
from django.db import connections, router
from django.test.utils import CaptureQueriesContext

from apps.accounts.roles import AUTHORS, MIGRATION_STAFF
from apps.core.replica import learner_pin, learner_pinned, replica_scope
from config.db_routers import REPLICA_ALIAS
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.learning.helpers import ATTEMPTS_URL, PROGRESS_URL, STATISTICS_URL, attempt_payload
from tests.legacy import legacy_schema_reset

pytestmark = pytest.mark.django_db(databases=["default", "replica"])

WRITE_VERBS = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture(autouse=True)
def replica_reads_on(settings):
    settings.REPLICA_READS_ENABLED = True
    settings.REPLICA_PIN_SECONDS = 5


@pytest.fixture(scope="module", autouse=True)
def replica_connection_closed():
    # The mirror has a connection of its own, which Django's teardown does not close; an open
    # one stops PostgreSQL from dropping the test database.
    yield
    connections[REPLICA_ALIAS].close()


@contextmanager
def queries_by_alias():
    """The statements each alias ran inside the block: (primary, replica)."""
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections[REPLICA_ALIAS]) as replica,
    ):
        yield primary, replica


def reads_tables(captured, prefix: str) -> bool:
    """Whether a statement names a table starting with ``prefix`` (quoted by the ORM or not)."""
    return any(re.search(rf'\b"?{prefix}', q["sql"]) for q in captured.captured_queries)


def writes(captured) -> list[str]:
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith(WRITE_VERBS)
    ]


def learner_answered(learner_client) -> None:
    response = learner_client.post(ATTEMPTS_URL, attempt_payload(make_atom("mcq")), format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("url", [PROGRESS_URL, STATISTICS_URL])
def test_progress_and_statistics_are_read_from_the_replica(learner_client, url):
    # When a learner who has not written lately asks for their figures
    with queries_by_alias() as (primary, replica):
        response = learner_client.get(url)

    # Then the learning tables are read on the replica, not on the primary
    assert response.status_code == 200
    assert reads_tables(replica, "learning_")
    assert not reads_tables(primary, "learning_")


def test_after_their_own_write_a_learner_reads_their_progress_from_the_primary(
    learner_client, learner
):
    # Given a learner whose first answer the replica has not replayed yet
    learner_answered(learner_client)

    # When they read their progress right after
    with queries_by_alias() as (primary, replica):
        progress = learner_client.get(PROGRESS_URL).json()

    # Then it comes from the primary and counts the answer
    assert progress["attempts"] == 1
    assert reads_tables(primary, "learning_")
    assert not reads_tables(replica, "learning_")
    assert learner_pinned(learner)


def test_the_pin_expires_and_reads_go_back_to_the_replica(settings, learner_client):
    # Given a learner pinned for one second by their write
    settings.REPLICA_PIN_SECONDS = 1
    learner_answered(learner_client)
    with queries_by_alias() as (primary, replica):
        learner_client.get(STATISTICS_URL)
    assert reads_tables(primary, "learning_") and not reads_tables(replica, "learning_")

    # When the pin has run out
    time.sleep(1.2)
    with queries_by_alias() as (primary, replica):
        progress = learner_client.get(PROGRESS_URL).json()

    # Then they read from the replica again (which, lagging here, misses the answer)
    assert reads_tables(replica, "learning_") and not reads_tables(primary, "learning_")
    assert progress["attempts"] == 0


def test_another_learners_write_does_not_pin_this_learner(learner_client, api_client):
    # Given another learner who has just answered
    learner_answered(learner_client)
    other = UserFactory()
    api_client.force_authenticate(other)

    # When this learner reads their progress
    with queries_by_alias() as (primary, replica):
        assert api_client.get(PROGRESS_URL).status_code == 200

    # Then it still comes from the replica
    assert not learner_pinned(other)
    assert reads_tables(replica, "learning_") and not reads_tables(primary, "learning_")


def test_writes_never_go_to_the_replica(learner_client, learner):
    # When a learner answers, and when code inside a replica scope writes, including through
    # a row it read from the replica
    with queries_by_alias() as (primary, replica):
        learner_answered(learner_client)
        with replica_scope():
            authors = Group.objects.get(name=AUTHORS)  # a migration's row: on the replica too
            read_from = authors._state.db
            authors.save()
            authors.user_set.add(learner)
            UserFactory()

    # Then every write ran on the primary
    assert read_from == REPLICA_ALIAS
    assert writes(primary)
    assert writes(replica) == []
    assert learner.groups.filter(name=AUTHORS).exists()


def test_outside_the_scope_every_read_and_write_is_routed_to_the_primary(learner):
    # Given a row read from the replica
    with replica_scope():
        authors = Group.objects.get(name=AUTHORS)

    # Then its relations are read, and it is saved, on the primary once the scope is left
    assert router.db_for_read(Group) in (None, "default")
    assert router.db_for_read(Group, instance=authors) == "default"
    assert router.db_for_write(Group, instance=authors) == "default"
    with queries_by_alias() as (primary, replica):
        list(authors.permissions.all())
    assert primary.captured_queries and not replica.captured_queries


def test_the_replica_and_the_legacy_database_are_never_migrated():
    assert router.allow_migrate(REPLICA_ALIAS, "learning", model_name="attempt") is False
    assert router.allow_migrate("legacy", "learning", model_name="attempt") is False
    assert router.allow_migrate("default", "learning", model_name="attempt") is True


def test_without_a_replica_nothing_is_routed_or_pinned(settings, learner_client, learner):
    # Given replica reads switched off (no REPLICA_DATABASE_URL)
    settings.REPLICA_READS_ENABLED = False

    # When the learner writes, then reads
    learner_answered(learner_client)
    with queries_by_alias() as (primary, replica):
        progress = learner_client.get(PROGRESS_URL).json()

    # Then no pin was stored and everything was read from the primary
    assert not learner_pinned(learner)
    assert progress["attempts"] == 1
    assert reads_tables(primary, "learning_") and not replica.captured_queries


@pytest.mark.legacy_sync
@pytest.mark.django_db(databases=["default", "legacy", "replica"])
def test_the_migration_status_pages_read_from_the_replica_even_for_staff_who_wrote(
    settings, tmp_path, client
):
    # Given migration staff with a pin of their own (staff pages ignore it) and empty v1 tables
    settings.VAR_DIR = settings.LEGACY_JSON_DIR = tmp_path
    legacy_schema_reset()
    staff = UserFactory(is_staff=True, roles=[MIGRATION_STAFF])
    client.force_login(staff)
    learner_pin(staff)

    # When they open the status figures
    with queries_by_alias() as (primary, replica):
        response = client.get("/staff/migration/status.json")

    # Then the migration's tables are read on the replica
    assert response.status_code == 200
    assert reads_tables(replica, "legacy_sync_")
    assert not reads_tables(primary, "legacy_sync_")
