"""The export: keyset pages on (occurred_at, id) that never change once served (appends land
after them, equal timestamps are ordered by id), for staff with analytics.export_events
only; and the NDJSON command."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.accounts.roles import AUTHORS, MIGRATION_STAFF, role_permissions_sync
from apps.analytics.models import AnalyticsEvent
from apps.analytics.permissions import ANALYSTS, ANALYTICS_ROLE_PERMISSIONS
from apps.analytics.schema import EventKind, event_payload
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/analytics/events/"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def record(at: datetime, kind=EventKind.COHORT_ASSIGNED, n: int = 1) -> list[AnalyticsEvent]:
    """Events as the service leaves them, at a given time (the service stamps the commit's)."""
    version, payload = event_payload(kind, _payloads[kind])
    return AnalyticsEvent.objects.bulk_create(
        AnalyticsEvent(kind=kind, schema_version=version, occurred_at=at, payload=payload)
        for _ in range(n)
    )


_payloads = {
    EventKind.COHORT_ASSIGNED: {"cohort": "adaptive", "source": "rollout"},
    EventKind.BADGE_EARNED: {"badge": "7-day streak", "rule": "streak_length"},
}


@pytest.fixture
def analyst():
    role_permissions_sync(django_apps, ANALYTICS_ROLE_PERMISSIONS)
    return UserFactory(is_staff=True, roles=[ANALYSTS])


@pytest.fixture
def analyst_client(analyst) -> APIClient:
    client = APIClient()
    client.force_authenticate(analyst)
    return client


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def walk(client, limit: int, **query) -> list[list[int]]:
    """Every page from the start, following next_cursor."""
    pages, after = [], None
    while True:
        params = {"limit": limit, **query, **({"after": after} if after else {})}
        response = client.get(URL, params)
        pages.append(ids_of(response))
        after = response.json()["next_cursor"]
        if not response.json()["has_more"]:
            return pages


def test_pages_with_equal_timestamps_cover_every_event_once_in_id_order(analyst_client):
    same = record(T0, n=5)  # one commit's batch: one occurred_at
    later = record(T0 + timedelta(seconds=1), n=2)

    pages = walk(analyst_client, limit=2)

    assert pages == [[same[0].id, same[1].id], [same[2].id, same[3].id],
                     [same[4].id, later[0].id], [later[1].id]]  # fmt: skip


def test_a_page_served_never_changes_when_events_are_appended(analyst_client):
    record(T0, n=3)
    first = analyst_client.get(URL, {"limit": 2})
    cursor = first.json()["next_cursor"]
    second = analyst_client.get(URL, {"limit": 2, "after": cursor})

    # when more events are recorded (later, as every new event is)
    record(T0 + timedelta(minutes=5), n=4)

    # then the same requests return the same pages
    assert ids_of(analyst_client.get(URL, {"limit": 2})) == ids_of(first)
    again = analyst_client.get(URL, {"limit": 2, "after": cursor})
    # the second page was short (one event); it fills up with what came later, in order
    assert ids_of(again)[: len(ids_of(second))] == ids_of(second)


def test_events_younger_than_the_settle_time_wait_for_a_later_page(analyst_client, settings):
    settings.ANALYTICS_EXPORT_SETTLE_S = 60
    [old] = record(datetime.now(UTC) - timedelta(minutes=2))
    [fresh] = record(datetime.now(UTC))  # a concurrent commit could still land before it

    page = analyst_client.get(URL).json()
    assert [row["id"] for row in page["results"]] == [old.id]
    assert page["has_more"] is False

    settings.ANALYTICS_EXPORT_SETTLE_S = 0  # once it has settled, the same cursor goes on
    assert ids_of(analyst_client.get(URL, {"after": page["next_cursor"]})) == [fresh.id]


def test_kind_since_and_until_filter_the_pages(analyst_client):
    record(T0, n=2)
    [badge] = record(T0 + timedelta(hours=1), kind=EventKind.BADGE_EARNED)
    [late] = record(T0 + timedelta(hours=2))

    assert ids_of(analyst_client.get(URL, {"kind": "badge_earned"})) == [badge.id]
    window = {"since": (T0 + timedelta(hours=1)).isoformat(),
              "until": (T0 + timedelta(hours=2)).isoformat()}  # fmt: skip
    assert ids_of(analyst_client.get(URL, window)) == [badge.id]
    assert ids_of(analyst_client.get(URL, {"since": window["until"]})) == [late.id]


def test_the_event_document_carries_the_schema_version_and_payload(analyst_client):
    [event] = record(T0, kind=EventKind.BADGE_EARNED)

    [row] = analyst_client.get(URL).json()["results"]

    assert row == {
        "id": event.id,
        "kind": "badge_earned",
        "schema_version": 1,
        "occurred_at": "2026-11-02T09:00:00+00:00",
        "learner": None,
        "course": None,
        "payload": {"badge": "7-day streak", "rule": "streak_length"},
    }


@pytest.mark.parametrize(
    "query",
    [
        {"after": "not-a-cursor"},
        {"limit": 0},
        {"limit": 1001},
        {"kind": "session_paused"},
        {"since": "2026-11-02T10:00:00Z", "until": "2026-11-02T09:00:00Z"},
    ],
)
def test_a_bad_query_is_a_400(analyst_client, query):
    response = analyst_client.get(URL, query)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("learner", 403),
        ("author", 403),
        ("migration_staff", 403),
        ("analyst", 200),
        ("superuser", 200),
    ],
)
def test_only_staff_with_the_export_permission_read_events(who, status, analyst):
    role_permissions_sync(django_apps)
    users = {
        "learner": lambda: UserFactory(),
        "author": lambda: UserFactory(is_staff=True, roles=[AUTHORS]),
        "migration_staff": lambda: UserFactory(is_staff=True, roles=[MIGRATION_STAFF]),
        "analyst": lambda: analyst,
        "superuser": lambda: UserFactory(is_staff=True, is_superuser=True),
    }
    client = APIClient()
    if who != "anonymous":
        client.force_authenticate(users[who]())
    record(T0)

    response = client.get(URL)

    assert response.status_code == status
    if status == 200:
        assert len(response.json()["results"]) == 1


def test_the_command_writes_ndjson_with_progress_on_stderr(tmp_path, capsys):
    record(T0, n=3)
    record(T0 + timedelta(days=1), kind=EventKind.BADGE_EARNED, n=2)
    output = tmp_path / "events.ndjson"

    call_command("analytics_export", "--since", "2026-11-01", "--kind", "cohort_assigned",
                 "--output", str(output))  # fmt: skip

    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["cohort_assigned"] * 3
    assert "3 events written" in capsys.readouterr().err


def test_the_command_streams_in_keyset_batches(tmp_path, monkeypatch):
    from apps.analytics import selectors

    monkeypatch.setattr(selectors, "MAX_PAGE_SIZE", 2)
    events = record(T0, n=5)
    output = tmp_path / "events.ndjson"

    call_command("analytics_export", "--output", str(output))

    assert [json.loads(line)["id"] for line in output.read_text().splitlines()] == [
        e.id for e in events
    ]
