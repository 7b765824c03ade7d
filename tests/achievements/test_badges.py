"""Badges: awarded from the learner's figures after the commit of the change, exactly once,
listed with progress; editors manage definitions (with an icon upload) in the admin."""

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from apps.accounts.roles import PUBLISHERS
from apps.achievements.models import Badge, BadgeRule, LearnerBadge
from apps.achievements.services import badges_check
from apps.core.models import AuditEvent
from apps.core.signals import learner_figures_changed_on_commit
from apps.learning.models import XPEvent, XPReason
from apps.scheduler.models import LearnerConceptState
from tests.accounts.factories import UserFactory
from tests.curriculum.factories import ConceptFactory, CourseFactory

from .helpers import ACHIEVEMENTS_URL, PNG, make_badge, png_upload

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/achievements/badge/add/"


def give_xp(learner, amount: int) -> None:
    XPEvent.objects.create(
        learner=learner, amount=amount, reason=XPReason.ATTEMPT, occurred_at=timezone.now()
    )


# --- awarding --------------------------------------------------------------------------------


def test_a_badge_is_awarded_once_when_the_figure_reaches_its_threshold(learner):
    badge = make_badge(BadgeRule.XP_TOTAL, 100)
    give_xp(learner, 60)
    assert badges_check(learner=learner) == []

    give_xp(learner, 40)
    first = badges_check(learner=learner)
    again = badges_check(learner=learner, kinds={BadgeRule.XP_TOTAL})

    assert [award.badge_id for award in first] == [badge.pk]
    assert first[0].figure == 100
    assert again == []
    assert LearnerBadge.objects.filter(learner=learner).count() == 1


def test_a_check_of_other_kinds_awards_nothing(learner):
    make_badge(BadgeRule.XP_TOTAL, 10)
    give_xp(learner, 50)

    assert badges_check(learner=learner, kinds={BadgeRule.MOCK_TESTS_PASSED}) == []
    assert not LearnerBadge.objects.exists()


def test_badges_are_awarded_after_commit_and_never_for_a_rolled_back_change(
    learner, django_capture_on_commit_callbacks
):
    make_badge(BadgeRule.XP_TOTAL, 10)

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                give_xp(learner, 50)
                learner_figures_changed_on_commit(learner=learner, kinds={BadgeRule.XP_TOTAL})
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert not LearnerBadge.objects.exists()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        give_xp(learner, 50)
        learner_figures_changed_on_commit(learner=learner, kinds={BadgeRule.XP_TOTAL})
        assert not LearnerBadge.objects.exists()  # not before the commit
    assert LearnerBadge.objects.filter(learner=learner).count() == 1


def test_an_inactive_badge_is_not_awarded(learner):
    badge = make_badge(BadgeRule.XP_TOTAL, 10)
    badge.is_active = False
    from apps.achievements.services import badge_save

    badge_save(badge=badge, by=None)
    give_xp(learner, 50)

    assert badges_check(learner=learner) == []


def test_concepts_mastered_count_in_the_badge_course_only(learner):
    course = CourseFactory(mastery_threshold=0.8)
    concepts = [ConceptFactory(course=course) for _ in range(3)]
    elsewhere = ConceptFactory()
    for concept, p_known in zip(concepts, [0.9, 0.8, 0.5], strict=True):
        LearnerConceptState.objects.create(learner=learner, concept=concept, p_known=p_known)
    LearnerConceptState.objects.create(learner=learner, concept=elsewhere, p_known=0.99)
    two = make_badge(BadgeRule.CONCEPTS_MASTERED, 2, course=course)
    three = make_badge(BadgeRule.CONCEPTS_MASTERED, 3, course=course)

    awarded = badges_check(learner=learner, kinds={BadgeRule.CONCEPTS_MASTERED})

    assert [award.badge_id for award in awarded] == [two.pk]
    body = Client()
    body.force_login(learner)
    listed = body.get(ACHIEVEMENTS_URL).json()
    assert [row["badge"]["id"] for row in listed["earned"]] == [str(two.pk)]
    assert listed["next"] == [
        {
            "badge": listed["next"][0]["badge"],
            "progress": {"current": 2, "target": 3},
        }
    ]
    assert listed["next"][0]["badge"]["id"] == str(three.pk)


def test_the_badge_earned_event_is_recorded_once(learner, django_capture_on_commit_callbacks):
    from apps.analytics.models import AnalyticsEvent

    badge = make_badge(BadgeRule.XP_TOTAL, 10)
    give_xp(learner, 20)
    with django_capture_on_commit_callbacks(execute=True):
        badges_check(learner=learner)
        badges_check(learner=learner)

    events = AnalyticsEvent.objects.filter(kind="badge_earned")
    assert [(e.learner_id, e.payload["badge"]) for e in events] == [(learner.pk, str(badge.pk))]


# --- the API ---------------------------------------------------------------------------------


def test_achievements_list_earned_and_next_with_progress_and_only_the_callers(
    learner_client, learner
):
    streak = make_badge(BadgeRule.STREAK_LENGTH, 7, name="A week")
    xp_small = make_badge(BadgeRule.XP_TOTAL, 20, name="First steps")
    xp_big = make_badge(BadgeRule.XP_TOTAL, 1000, name="Scholar")
    other = UserFactory()
    give_xp(other, 5000)
    badges_check(learner=other)
    give_xp(learner, 250)
    badges_check(learner=learner)

    response = learner_client.get(ACHIEVEMENTS_URL)

    assert response.status_code == 200
    body = response.json()
    assert [row["badge"]["name"] for row in body["earned"]] == [xp_small.name]
    assert body["earned"][0]["earned_at"]
    assert body["earned"][0]["badge"]["icon"].endswith(".png")
    assert [(row["badge"]["name"], row["progress"]) for row in body["next"]] == [
        (xp_big.name, {"current": 250, "target": 1000}),
        (streak.name, {"current": 0, "target": 7}),
    ]


def test_achievements_need_a_caller(api_client):
    assert api_client.get(ACHIEVEMENTS_URL).status_code == 401


# --- the admin -------------------------------------------------------------------------------


@pytest.fixture
def publisher_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, roles=[PUBLISHERS]))
    return client


def test_a_publisher_creates_a_badge_with_an_icon_upload(publisher_client, settings, tmp_path):
    response = publisher_client.post(
        ADD_URL,
        {
            "name": "Marathon",
            "description": "Thirty days in a row.",
            "icon": png_upload("marathon.png"),
            "rule": BadgeRule.STREAK_LENGTH,
            "threshold": "30",
            "course": "",
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    badge = Badge.objects.get(name="Marathon")
    assert badge.icon.name.startswith(f"badges/{badge.pk}/")
    with badge.icon.open("rb") as stored:
        assert stored.read() == PNG
    assert (tmp_path / badge.icon.name).exists()  # the default storage: MEDIA_ROOT here
    assert AuditEvent.objects.filter(action="badge_created", target_id=str(badge.pk)).exists()


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"icon": ("notes.png", b"not an image at all")}, "icon", "Unsupported file"),
        ({"rule": BadgeRule.CONCEPTS_MASTERED}, "course", "needs a course"),
    ],
)
def test_the_admin_form_refuses_a_bad_badge_in_place(publisher_client, fields, field, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {
        "name": "Broken",
        "icon": png_upload(),
        "rule": BadgeRule.XP_TOTAL,
        "threshold": "10",
        "course": "",
        "is_active": "on",
    }
    for key, value in fields.items():
        data[key] = SimpleUploadedFile(*value) if key == "icon" else value

    response = publisher_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert message in str(response.context["adminform"].form.errors[field])
    assert not Badge.objects.exists()


def test_a_learner_cannot_reach_the_badge_admin(learner):
    client = Client()
    client.force_login(learner)
    assert client.get(ADD_URL).status_code == 302  # to the admin login
