"""Reads during the migration: progress from the flagged source with shadow reads, next items
that know what the learner just did in v1, and the rollout's cohorts."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.learning.models import Attempt
from apps.learning.services.sessions import study_session_start
from apps.legacy_sync.live.flags import learner_bucket, learner_cohort, sync_flags_update
from apps.legacy_sync.live.progress_reads import progress_read
from apps.legacy_sync.models import CohortAssignment, ShadowRead

from .sync_helpers import bit_card, legacy_learner, synced_world, v1, v1_attempt_insert

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)


def api_for(learner) -> APIClient:
    client = APIClient()
    client.force_authenticate(learner)
    return client


def test_v1_reads_serve_v1_and_shadow_reads_record_parity(tmp_path):
    # given a backfilled learner and reads served from v1, every read shadowed
    synced_world(tmp_path)
    sync_flags_update(read_source="v1", shadow_read_percent=100)
    learner = legacy_learner()
    [(v1_attempts,)] = v1("SELECT COUNT(*) FROM attempts WHERE user_id = %s",
                          [int(learner.legacy_key)])  # fmt: skip

    # when they read their progress through the API
    response = api_for(learner).get("/api/v1/progress/")

    # then v1 answered, in v2's shape, and the v2 answer was compared
    assert response.status_code == 200
    assert response.json()["attempts"] == v1_attempts
    shadow = ShadowRead.objects.get(learner=learner)
    v2_attempts = Attempt.objects.filter(learner=learner).count()
    assert shadow.matched == (v2_attempts == v1_attempts and not shadow.differing_fields)
    if not shadow.matched:  # a difference names its fields and keeps both answers
        assert shadow.differing_fields and shadow.v1_answer and shadow.v2_answer


def test_a_v1_only_change_shows_up_as_a_shadow_mismatch(tmp_path):
    synced_world(tmp_path)
    sync_flags_update(read_source="v1", shadow_read_percent=100, dual_write=False)
    learner, card = legacy_learner(), bit_card()
    v1_attempt_insert(user_id=int(learner.legacy_key), bit_id=int(card.legacy_key[4:]))

    progress_read(learner)  # v1 has one attempt more than v2 (not pulled: no live sync)

    shadow = ShadowRead.objects.get(learner=learner)
    assert not shadow.matched and "attempts" in shadow.differing_fields
    assert shadow.v1_answer["attempts"] == shadow.v2_answer["attempts"] + 1


def test_reads_come_from_v2_when_flagged_and_for_learners_v1_never_knew(tmp_path):
    synced_world(tmp_path)
    sync_flags_update(read_source="v1", shadow_read_percent=100)
    newcomer = User.objects.create_user("fresh@example.com", "a-long-password-1")
    assert progress_read(newcomer)["attempts"] == 0
    sync_flags_update(read_source="v2")
    progress_read(legacy_learner())
    assert not ShadowRead.objects.exists()


def test_next_items_leave_out_what_the_learner_just_practised_in_an_open_v1_session(tmp_path):
    # given a learner with an open v1 session from a minute ago, on one bit
    synced_world(tmp_path)
    learner, card = legacy_learner(), bit_card()
    course = card.live_concepts.first().course
    started = (timezone.now() - timedelta(minutes=1)).replace(tzinfo=None)
    [(session_id,)] = v1(
        "INSERT INTO sessions (user_id, chapter_id, started_at) VALUES (%s, %s, %s) RETURNING id",
        [int(learner.legacy_key), int(card.live_concepts.first().units.first().legacy_key),
         started],
    )  # fmt: skip
    v1_attempt_insert(user_id=int(learner.legacy_key), bit_id=int(card.legacy_key[4:]),
                      session_id=session_id)  # fmt: skip

    # when they open v2, start a session and ask what to study next (before any beat pull)
    client = api_for(learner)
    started = client.post("/api/v1/sessions/", {"course": str(course.pk)}, format="json")
    assert started.status_code == 201
    response = client.get(f"/api/v1/scheduler/next/?course={course.pk}&limit=50")

    # then the session start pulled the v1 session and attempt, and the bit's card is not
    # offered (the GET itself only reads)
    assert response.status_code == 200
    offered = {item["atom"]["id"] for item in response.json()["items"]}
    assert offered and str(card.pk) not in offered
    assert Attempt.objects.filter(learner=learner, atom=card, origin="legacy").exists()


def test_cohorts_are_deterministic_and_follow_the_rollout_percent(tmp_path):
    synced_world(tmp_path)
    learners = list(User.objects.filter(origin="legacy")[:30])
    sync_flags_update(adaptive_rollout_percent=0)
    assert {learner_cohort(learner) for learner in learners} == {"v1"}

    sync_flags_update(adaptive_rollout_percent=50)
    cohorts = {learner.pk: learner_cohort(learner) for learner in learners}

    assert all(
        (cohort == "adaptive") == (learner_bucket(pk) < 50) for pk, cohort in cohorts.items()
    )
    assert set(cohorts.values()) == {"v1", "adaptive"}  # 30 learners: both halves present
    assert not CohortAssignment.objects.exists()  # reading a cohort records nothing

    for learner in learners:  # a session start records the assignment
        study_session_start(learner=learner)
    assert CohortAssignment.objects.filter(cohort="adaptive").count() == sum(
        c == "adaptive" for c in cohorts.values()
    )
    sync_flags_update(adaptive_rollout_percent=100)
    assert api_for(learners[0]).get("/api/v1/me/").json()["cohort"] == "adaptive"
