"""Scheduled publication and expiry: who may schedule what, edits frozen while waiting, and
the scheduler (service, management command, Celery task) publishing and archiving on time."""

from datetime import UTC, datetime, timedelta
from io import StringIO
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from apps.content.models import LearningAtom
from apps.content.services import (
    IllegalTransition,
    atom_lock_acquire,
    atom_schedule,
    atom_transition,
    atom_update,
    atoms_publish_scheduled,
)
from apps.content.tasks import publish_scheduled_task
from apps.core.models import AuditEvent
from config.celery import app as celery_app
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.content.test_workflow_admin import admin_edit, form_errors, messages_of

pytestmark = pytest.mark.django_db

T0 = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)  # a fixed future publication time


@pytest.fixture
def staff(db):
    return SimpleNamespace(
        author=UserFactory(is_staff=True, roles=["Authors"]),
        reviewer=UserFactory(is_staff=True, roles=["Reviewers"]),
        publisher=UserFactory(is_staff=True, roles=["Publishers"]),
        superuser=UserFactory(is_staff=True, is_superuser=True),
        learner=UserFactory(),
    )


def atom_in(state: str, staff, title: str = "Scheduled atom") -> LearningAtom:
    atom = make_atom("mcq", status="draft", by=staff.author, title=title)
    steps = {
        "draft": [],
        "in_review": ["submit"],
        "approved": ["submit", "approve"],
        "published": ["submit", "approve", "publish"],
        "archived": ["archive"],
    }[state]
    for action in steps:
        atom_transition(atom=atom, action=action, by=staff.superuser, source="api")
    atom.refresh_from_db()
    return atom


def fresh(atom) -> LearningAtom:
    return LearningAtom.objects.get(pk=atom.pk)


def learner_sees(learner_client, atom) -> bool:
    return learner_client.get(f"/api/v1/atoms/{atom.pk}/").status_code == 200


# --- scheduling ---------------------------------------------------------------------------------


def test_publisher_schedules_an_approved_atom(staff):
    atom = atom_in("approved", staff)

    atom_schedule(
        atom=atom,
        by=staff.publisher,
        source="admin",
        publish_at=T0,
        expire_at=T0 + timedelta(days=30),
    )

    stored = fresh(atom)
    assert (stored.publish_at, stored.expire_at, stored.status) == (
        T0,
        T0 + timedelta(days=30),
        "approved",
    )
    event = AuditEvent.objects.get(action="schedule")
    assert (event.actor, event.source) == (staff.publisher, "admin")
    assert event.details == {
        "publish_at": T0.isoformat(),
        "expire_at": (T0 + timedelta(days=30)).isoformat(),
    }


@pytest.mark.parametrize("role", ["author", "reviewer", "learner"])
def test_only_publishers_schedule(staff, role):
    atom = atom_in("approved", staff)

    with pytest.raises(PermissionDenied, match="Only publishers"):
        atom_schedule(atom=atom, by=getattr(staff, role), source="api", publish_at=T0)

    assert fresh(atom).publish_at is None
    assert not AuditEvent.objects.filter(action="schedule").exists()


def test_superusers_may_schedule(staff):
    atom = atom_in("approved", staff)

    atom_schedule(atom=atom, by=staff.superuser, source="api", publish_at=T0)

    assert fresh(atom).publish_at == T0


@pytest.mark.parametrize("state", ["draft", "in_review", "published", "archived"])
def test_only_approved_atoms_can_be_scheduled_to_publish(staff, state):
    atom = atom_in(state, staff)

    with pytest.raises(IllegalTransition, match=f"this one is {state}") as caught:
        atom_schedule(atom=atom, by=staff.publisher, source="api", publish_at=T0)

    assert (caught.value.action, caught.value.status) == ("schedule", state)
    assert fresh(atom).publish_at is None


@pytest.mark.parametrize("expire_at", [T0 - timedelta(minutes=1), T0])
def test_expiry_must_come_after_publication(staff, expire_at):
    atom = atom_in("approved", staff)

    with pytest.raises(ValidationError) as caught:
        atom_schedule(
            atom=atom, by=staff.publisher, source="api", publish_at=T0, expire_at=expire_at
        )

    assert "expire_at" in caught.value.message_dict
    assert (fresh(atom).publish_at, fresh(atom).expire_at) == (None, None)


def test_a_live_atom_can_get_an_expiry_only(staff):
    atom = atom_in("published", staff)

    atom_schedule(atom=atom, by=staff.publisher, source="api", expire_at=T0)

    assert (fresh(atom).publish_at, fresh(atom).expire_at) == (None, T0)


# --- edits frozen while waiting to publish ------------------------------------------------------


def test_edits_are_refused_while_scheduled_and_allowed_once_unscheduled(staff):
    # Given an approved atom scheduled to publish (even with the author holding the lock)
    atom = atom_in("approved", staff, title="Frozen")
    atom_schedule(atom=atom, by=staff.publisher, source="api", publish_at=T0)
    atom_lock_acquire(atom=atom, by=staff.author)

    # When the author edits, then it is refused naming the time
    with pytest.raises(ValidationError, match="Scheduled to publish at 2031-03-01 09:00 UTC"):
        atom_update(atom=atom, by=staff.author, source="api", title="Changed")
    stored = fresh(atom)
    assert (stored.title, stored.status, stored.revisions.count()) == ("Frozen", "approved", 1)

    # When the publisher unschedules it, then the author can edit (back to draft)
    atom_schedule(atom=atom, by=staff.publisher, source="api", publish_at=None)
    atom_update(atom=atom, by=staff.author, source="api", title="Changed")
    assert (fresh(atom).title, fresh(atom).status) == ("Changed", "draft")


def test_admin_edits_are_refused_while_scheduled(client, staff):
    atom = atom_in("approved", staff, title="Frozen")
    atom_schedule(atom=atom, by=staff.publisher, source="api", publish_at=T0)
    client.force_login(staff.author)

    response = admin_edit(client, atom, title="Changed in the admin")

    assert response.status_code == 200
    assert "Scheduled to publish at 2031-03-01 09:00 UTC" in form_errors(response)
    assert (fresh(atom).title, fresh(atom).status) == ("Frozen", "approved")


def test_admin_change_page_shows_the_schedule(client, staff):
    atom = atom_in("approved", staff)
    atom_schedule(
        atom=atom, by=staff.publisher, source="api", publish_at=T0, expire_at=T0 + timedelta(1)
    )
    client.force_login(staff.author)

    page = client.get(reverse("admin:content_learningatom_change", args=[atom.pk])).content

    assert b"scheduled to publish 2031-03-01 09:00 UTC" in page
    assert b"expires 2031-03-02 09:00 UTC" in page


# --- the scheduler ------------------------------------------------------------------------------


def test_scheduler_publishes_when_due_and_not_before(learner_client, staff):
    # Given an approved atom scheduled for T0
    atom = atom_in("approved", staff)
    atom_schedule(atom=atom, by=staff.publisher, source="api", publish_at=T0)

    # When the scheduler runs a second early, nothing happens
    assert atoms_publish_scheduled(now=T0 - timedelta(seconds=1)) == (0, 0)
    assert fresh(atom).status == "approved"
    assert not learner_sees(learner_client, atom)

    # When it runs at T0, the atom is published with its latest revision
    assert atoms_publish_scheduled(now=T0) == (1, 0)
    stored = fresh(atom)
    assert (stored.status, stored.publish_at) == ("published", None)
    assert stored.published_revision == stored.revisions.order_by("-number").first()
    assert learner_sees(learner_client, atom)
    event = AuditEvent.objects.get(action="publish", target_id=str(atom.pk))
    assert (event.actor, event.source, event.from_state, event.to_state) == (
        None,
        "schedule",
        "approved",
        "published",
    )

    # And running again changes nothing
    assert atoms_publish_scheduled(now=T0 + timedelta(minutes=1)) == (0, 0)
    assert AuditEvent.objects.filter(action="publish").count() == 1


def test_scheduler_archives_a_live_atom_at_its_expiry(learner_client, staff):
    atom = atom_in("published", staff)
    atom_schedule(atom=atom, by=staff.publisher, source="api", expire_at=T0)

    assert atoms_publish_scheduled(now=T0 - timedelta(seconds=1)) == (0, 0)
    assert learner_sees(learner_client, atom)

    assert atoms_publish_scheduled(now=T0) == (0, 1)
    assert fresh(atom).status == "archived"
    assert not learner_sees(learner_client, atom)
    event = AuditEvent.objects.get(action="archive", target_id=str(atom.pk))
    assert (event.actor, event.source, event.from_state) == (None, "schedule", "published")
    assert atoms_publish_scheduled(now=T0 + timedelta(hours=1)) == (0, 0)


def test_scheduler_publishes_then_expires(learner_client, staff):
    atom = atom_in("approved", staff)
    atom_schedule(
        atom=atom,
        by=staff.publisher,
        source="api",
        publish_at=T0,
        expire_at=T0 + timedelta(days=7),
    )

    assert atoms_publish_scheduled(now=T0 + timedelta(minutes=1)) == (1, 0)
    assert learner_sees(learner_client, atom)
    assert atoms_publish_scheduled(now=T0 + timedelta(days=6)) == (0, 0)
    assert atoms_publish_scheduled(now=T0 + timedelta(days=7)) == (0, 1)
    assert not learner_sees(learner_client, atom)


def test_scheduler_only_publishes_atoms_still_approved(staff):
    # An atom scheduled, then archived, loses its publication time and is not published.
    archived = atom_in("approved", staff, title="Archived")
    atom_schedule(atom=archived, by=staff.publisher, source="api", publish_at=T0)
    atom_transition(atom=archived, action="archive", by=staff.publisher, source="api")
    unscheduled = atom_in("approved", staff, title="Not scheduled")

    assert atoms_publish_scheduled(now=T0 + timedelta(days=1)) == (0, 0)
    assert (fresh(archived).status, fresh(archived).publish_at) == ("archived", None)
    assert fresh(unscheduled).status == "approved"


def test_scheduler_handles_several_atoms_at_once(staff):
    due = [atom_in("approved", staff, title=f"Due {n}") for n in range(3)]
    later = atom_in("approved", staff, title="Later")
    for atom in due:
        atom_schedule(atom=atom, by=staff.publisher, source="api", publish_at=T0)
    atom_schedule(atom=later, by=staff.publisher, source="api", publish_at=T0 + timedelta(1))

    assert atoms_publish_scheduled(now=T0) == (3, 0)
    assert [fresh(a).status for a in due] == ["published"] * 3
    assert fresh(later).status == "approved"


def test_a_restored_atom_is_not_archived_again_by_its_old_expiry(staff):
    # Given a live atom that expired and was archived by the scheduler
    atom = atom_in("published", staff)
    atom_schedule(atom=atom, by=staff.publisher, source="api", expire_at=T0)
    assert atoms_publish_scheduled(now=T0) == (0, 1)

    # When a publisher restores it to draft to rework it
    atom_transition(atom=atom, action="restore", by=staff.publisher, source="api")

    # Then the next scheduler run leaves it alone
    assert atoms_publish_scheduled(now=T0 + timedelta(minutes=1)) == (0, 0)
    assert fresh(atom).status == "draft"


def test_publish_scheduled_command(staff):
    # Given an atom whose publication time has just passed
    atom = atom_in("approved", staff)
    atom_schedule(
        atom=atom,
        by=staff.publisher,
        source="api",
        publish_at=timezone.now() - timedelta(minutes=1),
    )
    out = StringIO()

    # When the command runs
    call_command("publish_scheduled", stdout=out)

    # Then it published the atom and said so
    assert fresh(atom).status == "published"
    assert out.getvalue().strip() == "Published 1 atom(s); archived 0 expired atom(s)."


def test_publish_scheduled_command_archives_expired_atoms(staff):
    atom = atom_in("published", staff)
    atom_schedule(
        atom=atom,
        by=staff.publisher,
        source="api",
        expire_at=timezone.now() - timedelta(seconds=1),
    )
    out = StringIO()

    call_command("publish_scheduled", stdout=out)

    assert fresh(atom).status == "archived"
    assert out.getvalue().strip() == "Published 0 atom(s); archived 1 expired atom(s)."


def test_publish_scheduled_celery_task(staff):
    # Given one atom due to publish and one due to expire
    due = atom_in("approved", staff, title="Due")
    atom_schedule(
        atom=due, by=staff.publisher, source="api", publish_at=timezone.now() - timedelta(1)
    )
    expiring = atom_in("published", staff, title="Expiring")
    atom_schedule(
        atom=expiring,
        by=staff.publisher,
        source="api",
        expire_at=timezone.now() - timedelta(seconds=1),
    )

    # When beat's task runs (eagerly in tests)
    publish_scheduled_task.delay()

    # Then both happened
    assert (fresh(due).status, fresh(expiring).status) == ("published", "archived")


def test_beat_runs_the_task_every_minute():
    entry = settings.CELERY_BEAT_SCHEDULE["publish-scheduled-atoms"]
    assert entry == {"task": "content.publish_scheduled", "schedule": 60.0}
    assert celery_app.tasks["content.publish_scheduled"].name == publish_scheduled_task.name


# --- the admin schedule page --------------------------------------------------------------------


def schedule_url(atom) -> str:
    return reverse("admin:content_learningatom_schedule", args=[atom.pk])


def test_admin_schedule_page(client, staff):
    atom = atom_in("approved", staff)
    client.force_login(staff.publisher)
    assert client.get(schedule_url(atom)).status_code == 200

    response = client.post(
        schedule_url(atom),
        {"publish_at": "2031-03-01 09:00", "expire_at": "2031-04-01 09:00"},
        follow=True,
    )

    assert messages_of(response) == ["Schedule saved."]
    stored = fresh(atom)
    assert (stored.publish_at, stored.expire_at) == (T0, datetime(2031, 4, 1, 9, tzinfo=UTC))
    assert AuditEvent.objects.get(action="schedule").source == "admin"


@pytest.mark.parametrize(
    ("role", "state", "data", "message"),
    [
        ("author", "approved", {"publish_at": "2031-03-01 09:00"}, "Only publishers"),
        ("reviewer", "approved", {"publish_at": "2031-03-01 09:00"}, "Only publishers"),
        (
            "publisher",
            "draft",
            {"publish_at": "2031-03-01 09:00"},
            "Only approved atoms can be scheduled to publish; this one is draft.",
        ),
        (
            "publisher",
            "approved",
            {"publish_at": "2031-03-01 09:00", "expire_at": "2031-03-01 08:00"},
            "Must be after the publication time.",
        ),
    ],
)
def test_admin_schedule_refusals_are_shown(client, staff, role, state, data, message):
    atom = atom_in(state, staff)
    client.force_login(getattr(staff, role))

    response = client.post(schedule_url(atom), data, follow=True)

    assert len(messages_of(response)) == 1
    assert messages_of(response)[0].startswith(message)
    assert (fresh(atom).publish_at, fresh(atom).expire_at) == (None, None)
