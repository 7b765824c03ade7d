"""GETs are safe: every GET route of the API, called twice, leaves the database as it was.

The routes are read from the URL conf, so a new one is covered the day it is added; a route
whose path parameters this test cannot fill fails, naming them. Every row is compared, so an
UPDATE shows as well as an INSERT. Run with the migration's flags at rest and with dual write,
v1 reads and a rollout on.
"""

import uuid

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.test import APIClient

from apps.accounts.services import user_update_profile
from apps.learning.models import StudyTask
from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.learning.services.sessions import study_session_start
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory, UnitFactory

pytestmark = pytest.mark.django_db(databases=["default", "legacy"])

# django-axes logs failures by design; nothing else may change.
WRITES_BY_DESIGN = {"axes"}


def api_routes():
    """(name, path-parameter names) of every named route under /api/."""

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern) and entry.name:
                route = prefix + str(entry.pattern)
                if route.startswith("api/"):
                    yield f"{namespace}{entry.name}", tuple(entry.pattern.regex.groupindex)

    return sorted(set(walk(get_resolver().url_patterns, "", "")))


@pytest.fixture
def world(db):
    course = CourseFactory()
    concept = ConceptFactory(course=course, units=[UnitFactory(course=course)])
    atoms = [make_atom(kind, concept=concept) for kind in ("mcq", "flashcard", "true_false")]
    learner = UserFactory()
    session = study_session_start(learner=learner, course=course)
    placement = study_session_start(learner=learner, course=course, kind="placement")
    StudyTask.objects.create(learner=learner, title="Revise the signs")  # for GET /tasks/
    attempts_ingest(learner=learner, inputs=[
        AttemptInput(uuid.uuid4(), atoms[0].pk, {"choice": 1}, 900, session.pk),
        AttemptInput(uuid.uuid4(), atoms[2].pk, {"value": True}, 700, placement.pk),
        AttemptInput(uuid.uuid4(), atoms[0].pk, {"choice": 0}, 800, session.pk),  # a mistake
    ])  # fmt: skip
    # a mock test whose time ran out, not yet marked: reading it must not mark it
    mock_test = mock_test_expired(learner=learner, course=course, concept=concept)
    # opted in to leagues, not placed yet (after commit, which a test never reaches): reading
    # the league must not place them
    user_update_profile(user=learner, leagues_opt_in=True)
    # badges: one the learner's streak reaches but the after-commit check never awarded
    # (reading the achievements must not award it), and one in a course, still ahead
    from apps.achievements.models import Badge

    Badge.objects.create(name="First day", icon="badges/day.png", rule="streak_length",
                         threshold=1)  # fmt: skip
    Badge.objects.create(name="Master", icon="badges/master.png", rule="concepts_mastered",
                         threshold=5, course=course)  # fmt: skip
    return {"course": course, "atom": atoms[0], "session": session, "placement": placement,
            "learner": learner, "mock_test": mock_test}  # fmt: skip


def mock_test_expired(*, learner, course, concept):
    from datetime import timedelta

    from django.utils import timezone

    from apps.assessment.models import MockTestBlueprint
    from apps.assessment.services import SectionInput, mock_test_blueprint_save, mock_test_start

    mock_test_blueprint_save(
        blueprint=MockTestBlueprint(course=course, time_limit_minutes=30, pass_mark_percent=50),
        sections=[SectionInput(2, concept=concept)],
        by=None,
    )
    started = timezone.now() - timedelta(hours=2)
    return mock_test_start(learner=learner, course=course, now=started)


MOCK_TEST_ROUTES = ("mock-test-detail", "mock-test-answer", "mock-test-submit")


def url_for(name: str, parameters: tuple, world: dict) -> str:
    values = {
        ("task-detail", "task_id"): uuid.uuid4(),  # PATCH only: a GET is a 405 whatever the id
        # staff only: the learner's 403 proves nothing (test_experiment_reads_write_nothing)
        ("experiment-analysis", "experiment_id"): uuid.uuid4(),
        ("atom-detail", "pk"): world["atom"].pk,
        ("course-detail", "pk"): world["course"].pk,
        ("atom-transition", "atom_id"): world["atom"].pk,
        ("session-complete", "session_id"): world["session"].pk,
        **{(name, "test_id"): world["mock_test"].pk for name in MOCK_TEST_ROUTES},
    }
    missing = [p for p in parameters if (name, p) not in values]
    assert not missing, f"fill the path parameters {missing} of route {name!r} in url_for"
    path = reverse(name, kwargs={p: values[(name, p)] for p in parameters})
    query = {
        "scheduler-next": f"?course={world['course'].pk}&limit=20",
        "placement-next": f"?session={world['placement'].pk}",
        "atom-list": f"?course={world['course'].pk}",
        "progress-forecast": f"?course={world['course'].pk}&days=30",
        "progress-retention": f"?course={world['course'].pk}&months=12",
        "mistakes": f"?course={world['course'].pk}",  # the learner's open mistakes
    }
    return path + query.get(name.split(":")[-1], "")


def database_contents() -> dict[str, list]:
    """Every row of every v2 table, so that an UPDATE shows as well as an INSERT."""
    return {
        model._meta.label: list(model._default_manager.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.managed and model._meta.app_label not in WRITES_BY_DESIGN
    }


@pytest.mark.parametrize(
    "flags",
    ["at rest", pytest.param("dual write, v1 reads, rollout", marks=pytest.mark.legacy_sync)],
)
def test_every_api_get_called_twice_writes_nothing(world, flags):
    if flags != "at rest":
        from apps.legacy_sync.live.flags import sync_flags_update

        sync_flags_update(dual_write=True, read_source="v1", adaptive_rollout_percent=50,
                          shadow_read_percent=100)  # fmt: skip
    client = APIClient()
    client.force_authenticate(world["learner"])
    before = database_contents()
    answered = {}

    for name, parameters in api_routes():
        url = url_for(name, parameters, world)
        first, second = client.get(url), client.get(url)
        assert first.status_code < 500 and second.status_code < 500, (url, first.status_code)
        answered[name] = first.status_code

    after = database_contents()
    changed = sorted(label for label in after if after[label] != before[label])
    assert not changed, f"GETs wrote to {changed}"
    # the reads that matter answered (a 404 or a 400 would prove nothing)
    for route in ("me", "progress", "progress-statistics", "progress-forecast",
                  "progress-retention", "task-list", "scheduler-next", "placement-next",
                  "course-list", "course-detail", "atom-list", "atom-detail",
                  "mistakes"):  # fmt: skip
        assert answered[route] == 200, (route, answered)
    assert answered["mock-test-list"] == answered["mock-test-detail"] == 200, answered
    assert answered["league-current"] == 200, answered
    assert answered["me-achievements"] == 200, answered


def test_the_analytics_export_called_twice_writes_nothing(
    world, settings, django_capture_on_commit_callbacks
):
    """The staff-only GET (analytics events): the learner above gets a 403, which proves
    nothing, so a superuser reads it here, with an event the world's learner caused."""
    from apps.learning.services.sessions import study_session_complete

    with django_capture_on_commit_callbacks(execute=True):
        study_session_complete(session=world["session"])
    settings.ANALYTICS_EXPORT_SETTLE_S = 0  # serve the event just recorded
    client = APIClient()
    client.force_authenticate(UserFactory(is_staff=True, is_superuser=True))
    before = database_contents()

    url = reverse("analytics-events")
    first, second = client.get(url), client.get(url)

    assert first.status_code == second.status_code == 200, first.content
    assert first.json()["results"] and first.json() == second.json()
    after = database_contents()
    assert [label for label in after if after[label] != before[label]] == []


def test_experiment_reads_write_nothing(world):
    """An experiment runs on the world's course, which the learner started sessions in before
    it began: only their next session start may assign them, never a GET (/me/, next items,
    progress...). The staff's analysis, the admin page and the API, read twice, writes nothing
    either."""
    from tests.experiments.factories import make_experiment

    experiment = make_experiment(world["course"])
    learner_client, staff_client, staff_api = APIClient(), Client(), APIClient()
    learner_client.force_authenticate(world["learner"])
    staff = UserFactory(is_staff=True, is_superuser=True)
    staff_client.force_login(staff)
    staff_api.force_authenticate(staff)
    before = database_contents()

    for name, parameters in api_routes():
        url = url_for(name, parameters, world)
        for _ in range(2):
            learner_client.get(url)
    page = f"/admin/experiments/experiment/{experiment.pk}/analysis/"
    first, second = staff_client.get(page), staff_client.get(page)
    for url in (reverse("experiments"), reverse("experiment-analysis", args=[experiment.pk])):
        read_twice = [staff_api.get(url) for _ in range(2)]
        assert [r.status_code for r in read_twice] == [200, 200], url

    assert first.status_code == second.status_code == 200
    after = database_contents()
    assert [label for label in after if after[label] != before[label]] == []
