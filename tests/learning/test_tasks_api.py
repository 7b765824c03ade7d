"""Study tasks: GET /api/v1/tasks/, PATCH /api/v1/tasks/{id}/ and the admin's list."""

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from apps.core import sync_port
from apps.core.models import AuditEvent
from apps.learning.models import StudyTask
from tests.accounts.factories import UserFactory
from tests.learning.helpers import superuser

pytestmark = pytest.mark.django_db

TASKS_URL = "/api/v1/tasks/"
ADMIN_URL = "/admin/learning/studytask/"
UTC = ZoneInfo("UTC")


def task_url(task) -> str:
    return f"{TASKS_URL}{getattr(task, 'pk', task)}/"


@pytest.fixture
def tasks(learner):
    """Three of the learner's tasks (one migrated from v1) and one of someone else's."""
    return {
        "signs": StudyTask.objects.create(
            learner=learner, title="Revise the signs", due_at=datetime(2026, 5, 2, tzinfo=UTC)
        ),
        "mock": StudyTask.objects.create(
            learner=learner,
            title="Sit a mock test",
            due_at=datetime(2026, 5, 1, tzinfo=UTC),
            origin="v1",
            legacy_key="task-000007",
            course="Driving theory",
            priority=2,
            signals={"source": "planner"},
        ),
        "someday": StudyTask.objects.create(learner=learner, title="Read the Highway Code"),
        "other": StudyTask.objects.create(learner=UserFactory(), title="Plan of another learner"),
    }


def titles(response) -> list[str]:
    return [row["title"] for row in response.json()["results"]]


def test_a_learner_lists_their_own_tasks_soonest_first(learner_client, tasks):
    response = learner_client.get(TASKS_URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert titles(response) == ["Sit a mock test", "Revise the signs", "Read the Highway Code"]
    assert body["results"][0] == {
        "id": str(tasks["mock"].pk),
        "title": "Sit a mock test",
        "course": "Driving theory",
        "due_at": "2026-05-01T00:00:00Z",
        "priority": 2,
        "status": "open",
        "signals": {"source": "planner"},
        "created_at": body["results"][0]["created_at"],
    }


def test_the_list_is_paginated_and_filtered_by_status(learner_client, tasks):
    learner_client.patch(task_url(tasks["signs"]), {"status": "done"}, format="json")

    page = learner_client.get(TASKS_URL, {"limit": 1, "offset": 1}).json()
    done = learner_client.get(TASKS_URL, {"status": "done"})
    still_open = learner_client.get(TASKS_URL, {"status": "open"})

    assert (page["count"], len(page["results"]), page["previous"] is not None) == (3, 1, True)
    assert titles(done) == ["Revise the signs"]
    assert titles(still_open) == ["Sit a mock test", "Read the Highway Code"]


def test_an_unknown_status_filter_is_a_400(learner_client, tasks):
    response = learner_client.get(TASKS_URL, {"status": "finished"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert "status" in response.json()["error"]["details"]


@pytest.mark.parametrize("status", ["done", "dismissed"])
def test_a_learner_marks_a_task(learner_client, learner, tasks, status):
    # When the learner marks their migrated task
    response = learner_client.patch(task_url(tasks["mock"]), {"status": status}, format="json")

    # Then it is stored and answered, and the change is audited
    assert response.status_code == 200
    assert response.json()["status"] == status
    assert response.json()["id"] == str(tasks["mock"].pk)
    tasks["mock"].refresh_from_db()
    assert tasks["mock"].status == status
    event = AuditEvent.objects.get(action="task_status")
    assert (event.actor, event.from_state, event.to_state) == (learner, "open", status)
    assert event.target_id == str(tasks["mock"].pk)


def test_marking_a_task_again_changes_nothing(learner_client, tasks):
    for _ in range(2):
        response = learner_client.patch(task_url(tasks["signs"]), {"status": "done"},
                                        format="json")  # fmt: skip
        assert response.status_code == 200

    assert AuditEvent.objects.filter(action="task_status").count() == 1


def test_another_learners_task_is_a_404_and_stays_as_it_was(learner_client, tasks):
    response = learner_client.patch(task_url(tasks["other"]), {"status": "done"}, format="json")
    unknown = learner_client.patch(task_url(uuid.uuid4()), {"status": "done"}, format="json")

    for refused in (response, unknown):
        assert refused.status_code == 404
        assert refused.json()["error"]["code"] == "not_found"
    tasks["other"].refresh_from_db()
    assert tasks["other"].status == "open"
    assert not AuditEvent.objects.filter(action="task_status").exists()


@pytest.mark.parametrize("body", [{}, {"status": "open"}, {"status": "finished"},
                                  {"status": None}, {"title": "Renamed"}])  # fmt: skip
def test_a_bad_status_is_a_400_with_the_error_envelope(learner_client, tasks, body):
    response = learner_client.patch(task_url(tasks["signs"]), body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "status" in error["details"]
    tasks["signs"].refresh_from_db()
    assert (tasks["signs"].status, tasks["signs"].title) == ("open", "Revise the signs")


def test_staff_see_only_their_own_tasks_in_the_api_too(tasks):
    client = APIClient()
    client.force_authenticate(superuser())

    assert client.get(TASKS_URL).json()["count"] == 0
    assert client.patch(task_url(tasks["signs"]), {"status": "done"},
                        format="json").status_code == 404  # fmt: skip


class _Recorder:
    def __init__(self):
        self.changes = []

    def rows_changed(self, *, entity, ids):
        self.changes.append((entity, ids))


def test_the_change_is_announced_to_the_sync_port_as_v1s_tasks(learner_client, tasks, monkeypatch):
    # Given a sync adapter listening (legacy_sync's, while v1 lives)
    recorder = _Recorder()
    monkeypatch.setattr(sync_port, "_adapter", recorder)

    learner_client.patch(task_url(tasks["mock"]), {"status": "dismissed"}, format="json")
    learner_client.patch(task_url(tasks["mock"]), {"status": "dismissed"}, format="json")

    # Then the task is named once, under the v1 contract's entity name
    assert recorder.changes == [("tasks", [tasks["mock"].pk])]


# --- the admin ---------------------------------------------------------------------------------


def test_the_admin_lists_searches_and_filters_tasks(client, tasks, learner):
    client.force_login(superuser())

    listed = client.get(ADMIN_URL)
    searched = client.get(ADMIN_URL, {"q": "mock"})
    by_learner = client.get(ADMIN_URL, {"q": learner.email})
    StudyTask.objects.filter(pk=tasks["signs"].pk).update(status="done")
    done = client.get(ADMIN_URL, {"status": "done"})

    assert listed.status_code == 200
    assert all(task.title in listed.content.decode() for task in tasks.values())
    assert "Sit a mock test" in searched.content.decode()
    assert "Revise the signs" not in searched.content.decode()
    assert "Plan of another learner" not in by_learner.content.decode()
    assert "Revise the signs" in done.content.decode()
    assert "Sit a mock test" not in done.content.decode()


def test_the_admin_is_read_only_and_needs_the_view_permission(client, tasks):
    # Given a staff member without learning permissions, then one granted view_studytask
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.get(ADMIN_URL).status_code == 403

    staff.user_permissions.add(Permission.objects.get(codename="view_studytask"))
    staff = UserFactory._meta.model.objects.get(pk=staff.pk)  # fresh permission cache
    client.force_login(staff)
    change_page = f"{ADMIN_URL}{tasks['signs'].pk}/change/"

    # Then they see the list and a task, and cannot change it
    assert client.get(ADMIN_URL).status_code == 200
    assert client.get(change_page).status_code == 200
    client.post(change_page, {"title": "Changed", "status": "done"})
    tasks["signs"].refresh_from_db()
    assert (tasks["signs"].title, tasks["signs"].status) == ("Revise the signs", "open")
