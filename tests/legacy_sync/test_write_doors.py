"""Every door that changes a learner's profile or finishes a placement writes what the service
writes when called directly: the same audit rows and, with dual write on, the same outbox rows
(what v1 receives). The atom doors are in tests/content/test_atom_doors.py."""

import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.services import user_update_profile
from apps.core.models import AuditEvent
from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.learning.services.sessions import study_session_start
from apps.legacy_sync.live.flags import sync_flags_update
from apps.legacy_sync.models import OutboxEntry
from apps.scheduler.placement import PLACEMENT_MAX_ITEMS, placement_finish, placement_step
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory

pytestmark = pytest.mark.django_db(databases=["default", "legacy"])


@pytest.fixture(autouse=True)
def dual_write():
    sync_flags_update(dual_write=True)


def written(target_ids: set[str]) -> dict:
    """What the doors leave behind about these rows: audit rows and outbox rows, with the
    ids of the rows they name replaced by their role so two learners compare equal."""
    role = {target_id: "the learner" for target_id in target_ids}
    return {
        "audit": [(e.action, e.source, role.get(e.target_id), e.details)
                  for e in AuditEvent.objects.filter(target_id__in=target_ids)],
        "outbox": sorted((o.entity, role.get(o.v2_id, "other")) for o in OutboxEntry.objects.all()),
    }  # fmt: skip


def admin_rename(learner, staff, name):
    client = Client()
    client.force_login(staff)
    form = {"email": learner.email, "display_name": name, "timezone": "Europe/Paris",
            "is_active": "on", "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00"}  # fmt: skip
    response = client.post(f"/admin/accounts/user/{learner.pk}/change/", form)
    assert response.status_code == 302, response.content[:500]


def api_rename(learner, staff, name):
    client = APIClient()
    client.force_authenticate(learner)
    response = client.patch("/api/v1/me/", {"display_name": name, "timezone": "Europe/Paris"},
                            format="json")  # fmt: skip
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(("door", "source", "by_staff"),
                         [(admin_rename, "admin", True), (api_rename, "api", False)])  # fmt: skip
def test_a_profile_edit_writes_what_the_service_writes(door, source, by_staff):
    staff = UserFactory(is_staff=True, is_superuser=True)
    learner = UserFactory(display_name="Old", timezone="UTC")
    door(learner, staff, "New")
    through_door = written({str(learner.pk)})
    AuditEvent.objects.all().delete()
    OutboxEntry.objects.all().delete()

    twin = UserFactory(display_name="Old", timezone="UTC")
    user_update_profile(user=twin, display_name="New", timezone="Europe/Paris",
                        by=staff if by_staff else None, source=source)  # fmt: skip

    assert through_door == written({str(twin.pk)})
    assert through_door["outbox"] == [("users", "the learner")]
    [(action, audited_source, _, details)] = through_door["audit"]
    assert (action, audited_source) == ("profile_edit", source)
    assert details == {"display_name": ["Old", "New"], "timezone": ["UTC", "Europe/Paris"]}
    actor = AuditEvent.objects.get().actor
    assert actor == (staff if by_staff else twin)


@pytest.fixture
def placement_course():
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    for n in range(PLACEMENT_MAX_ITEMS + 2):
        make_atom("true_false", concept=concept, title=f"Item {n}",
                  content={"statement": f"Statement {n}"}, grading_logic={"answer": True},
                  irt_a=1.5, irt_b=-2 + n / 4)  # fmt: skip
    return course


def placement_answered(course):
    """A learner whose placement test is answered to its end, not yet finished."""
    learner = UserFactory()
    session = study_session_start(learner=learner, course=course, kind="placement")
    while not (step := placement_step(session=session)).done:
        answer = AttemptInput(uuid.uuid4(), step.atom.pk, {"value": True}, 900, session.pk)
        attempts_ingest(learner=learner, inputs=[answer])
    OutboxEntry.objects.all().delete()
    return learner, session


def test_finishing_a_placement_through_the_api_writes_what_the_service_writes(placement_course):
    learner, session = placement_answered(placement_course)
    client = APIClient()
    client.force_authenticate(learner)
    response = client.post("/api/v1/scheduler/placement/finish/", {"session": str(session.pk)},
                           format="json")  # fmt: skip
    assert response.status_code == 200, response.content
    through_api = written({str(learner.pk), str(session.pk)})
    OutboxEntry.objects.all().delete()

    twin, twin_session = placement_answered(placement_course)
    placement_finish(session=twin_session)

    assert through_api["outbox"] == written({str(twin.pk), str(twin_session.pk)})["outbox"]
    assert ("sessions", "the learner") in through_api["outbox"]  # v1 hears it finished
    assert len(through_api["outbox"]) == 2  # and gets its XP row
