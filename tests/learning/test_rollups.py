"""The statistics rollups (LearnerDayRollup, LearnerAtomRollup) equal the full computation from
the attempt log, through attempts, resets, restores and time zone moves; reads and writes stay
within their statement counts; ``learning_rollups_rebuild`` rebuilds them."""

import re
import uuid
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.learning import selectors
from apps.learning.models import LearnerAtomRollup, LearnerDayRollup
from apps.learning.selectors import (
    learner_progress,
    learner_statistics,
    learner_statistics_from_attempts,
)
from apps.learning.services import attempts as attempts_service
from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.learning.services.progress import progress_reset, progress_restore
from apps.learning.services.rollups import RollupsAdded, learner_rollups_rebuild
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory
from tests.learning.helpers import (
    ATTEMPTS_URL,
    BATCH_URL,
    CORRECT_MCQ,
    STATISTICS_URL,
    WRONG_MCQ,
    attempt_payload,
)

pytestmark = pytest.mark.django_db

ZONES = [
    "UTC",
    "America/New_York",
    "America/St_Johns",  # -3:30
    "Asia/Kathmandu",  # +5:45
    "Australia/Lord_Howe",  # a half-hour DST shift
    "Pacific/Kiritimati",  # +14
]


@pytest.fixture
def atoms():
    """Two mcqs on one concept, a flashcard on two (one shared): every breakdown has overlap."""
    routing, addressing = ConceptFactory(text="Routing"), ConceptFactory(text="Addressing")
    first, second = make_atom("mcq", concept=routing), make_atom("mcq", concept=addressing)
    card = make_atom("flashcard", concept=routing)
    card.live_concepts.add(addressing)
    return [first, second, card]


def _response(atom, right: bool, quality: int) -> dict:
    if atom.atom_type == "flashcard":
        return {"quality": quality}
    return CORRECT_MCQ if right else WRONG_MCQ


def _rows(learner) -> tuple[set, set]:
    days = set(
        LearnerDayRollup.objects.filter(learner=learner).values_list(
            "day", "timezone", "attempts", "correct", "time_spent_ms"
        )
    )
    atoms = set(
        LearnerAtomRollup.objects.filter(learner=learner).values_list(
            "atom_id", "attempts", "correct", "time_spent_ms"
        )
    )
    return days, atoms


def assert_rollup_is_the_full_computation(learner) -> None:
    learner.refresh_from_db()
    kept = _rows(learner)
    full = learner_statistics_from_attempts(learner)
    assert learner_statistics(learner) == full
    days = selectors._days_from_attempts(learner)
    if days:  # the rollup answers (the log answers only for a learner without attempts)
        assert selectors._rollup(learner)[0] == days
    progress = learner_progress(learner)
    assert progress["attempts"] == full["overall"]["attempts"]
    assert progress["correct"] == full["overall"]["correct"]
    assert progress["time_spent_ms"] == full["overall"]["time_spent_ms"]
    assert progress["streak"]["practice_dates"] == [d["date"] for d in full["by_day"]][-60:]
    learner_rollups_rebuild(learner_ids=[learner.pk])
    assert _rows(learner) == kept  # what was kept in step is what a rebuild computes


ANSWER = st.tuples(
    st.integers(0, 2),  # atom
    st.booleans(),  # mcq right or wrong
    st.integers(0, 5),  # flashcard quality
    st.integers(0, 29 * 24 * 60),  # minutes ago: any hour of the last 29 days
    st.integers(0, 120_000),  # time taken, ms
)
STEP = st.one_of(
    st.tuples(st.just("answer"), st.lists(ANSWER, min_size=1, max_size=6)),
    st.tuples(st.just("reset"), st.none()),
    st.tuples(st.just("restore"), st.none()),
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(zone=st.sampled_from(ZONES), steps=st.lists(STEP, min_size=1, max_size=6))
def test_the_rollup_equals_the_full_computation_after_answers_resets_and_restores(
    atoms, zone, steps
):
    learner = UserFactory(timezone=zone)
    staff = UserFactory(is_staff=True)
    now = timezone.now()
    for kind, answers in steps:
        if kind == "answer":
            outcomes = attempts_ingest(
                learner=learner,
                now=now,
                inputs=[
                    AttemptInput(
                        client_attempt_id=uuid.uuid4(),
                        atom_id=atoms[atom].pk,
                        response=_response(atoms[atom], right, quality),
                        time_taken_ms=ms,
                        answered_at=now - timedelta(minutes=ago),
                    )
                    for atom, right, quality, ago, ms in answers
                ],
            )
            assert {o.status for o in outcomes} == {"created"}
        elif kind == "reset":
            progress_reset(learner=learner)
        else:
            snapshot = learner.progress_snapshots.filter(restored_at__isnull=True).first()
            if snapshot:
                progress_restore(snapshot=snapshot, by=staff)
        assert_rollup_is_the_full_computation(learner)


def test_a_learner_who_moves_time_zone_reads_the_log_until_the_rollup_is_rebuilt(atoms):
    learner = UserFactory(timezone="Pacific/Kiritimati")
    now = timezone.now()
    attempts_ingest(
        learner=learner,
        now=now,
        inputs=[
            AttemptInput(uuid.uuid4(), atoms[0].pk, CORRECT_MCQ, 1000, answered_at=now - delta)
            for delta in (timedelta(hours=h) for h in range(0, 72, 5))
        ],
    )
    learner.timezone = "America/St_Johns"
    learner.save()

    # The rollup's days are Kiritimati's: the attempt log answers, in St John's days
    assert selectors._rollup(learner) is None
    assert learner_statistics(learner) == learner_statistics_from_attempts(learner)

    # An answer in the new zone marks the shared day mixed; the log still answers
    late = AttemptInput(uuid.uuid4(), atoms[1].pk, WRONG_MCQ, 5, answered_at=now)
    attempts_ingest(learner=learner, now=now, inputs=[late])
    assert selectors._rollup(learner) is None
    assert learner_statistics(learner) == learner_statistics_from_attempts(learner)

    # Rebuilt, the rollup answers again, with the same figures
    call_command("learning_rollups_rebuild", "--learner", learner.email)
    assert selectors._rollup(learner) is not None
    assert_rollup_is_the_full_computation(learner)


def test_the_statistics_endpoint_answers_what_the_full_computation_does(
    learner_client, learner, atoms
):
    now = timezone.now()
    rows = [
        attempt_payload(
            atoms[n % 3],
            _response(atoms[n % 3], n % 2 == 0, n % 6),
            answered_at=now - timedelta(hours=7 * n),
            time_taken_ms=100 * n,
        )
        for n in range(40)
    ]
    assert learner_client.post(BATCH_URL, {"attempts": rows}, format="json").status_code == 200

    body = learner_client.get(STATISTICS_URL).json()

    assert LearnerDayRollup.objects.filter(learner=learner).exists()
    assert body == learner_statistics_from_attempts(learner)
    assert body["overall"]["attempts"] == 40


def _history(client, atoms, count: int) -> None:
    now = timezone.now()
    rows = [
        attempt_payload(atoms[n % 2], answered_at=now - timedelta(hours=n), time_taken_ms=n)
        for n in range(count)
    ]
    assert client.post(BATCH_URL, {"attempts": rows}, format="json").status_code == 200


def test_statistics_take_three_statements_whatever_the_history(learner_client, learner, atoms):
    counts = []
    for more in (5, 200):
        _history(learner_client, atoms, more)
        learner_client.get(STATISTICS_URL)  # the course's concept graph kept from here on
        with CaptureQueriesContext(connection) as queries:
            assert learner_client.get(STATISTICS_URL).status_code == 200
        counts.append(len(queries))
        # None of them reads the attempt log
        assert not any(
            re.search(r'"?learning_attempt\b', q["sql"]) for q in queries.captured_queries
        )
    # the rollups (one UNION ALL), the atoms' types, their live concepts, and the concept
    # mastery (the learner's concept states with their course; the course's concept graph is
    # kept per process, its BKT priors are in the cache)
    assert counts == [4, 4]


@pytest.mark.parametrize("rows", [1, 25])
def test_the_rollup_adds_two_statements_to_an_attempt_post(
    learner_client, learner, atoms, monkeypatch, rows
):
    def post() -> int:
        now = timezone.now()
        body = [
            attempt_payload(atoms[n % 3], _response(atoms[n % 3], True, 4), answered_at=now)
            for n in range(rows)
        ]
        with CaptureQueriesContext(connection) as queries:
            if rows == 1:
                assert learner_client.post(ATTEMPTS_URL, body[0], format="json").status_code == 201
            else:
                response = learner_client.post(BATCH_URL, {"attempts": body}, format="json")
                assert response.status_code == 200
        return len(queries)

    post()  # warm: the learner's first states exist on both sides of the comparison
    post()  # and the concept has crossed its mastery threshold (a one-off bonus INSERT)
    with_rollup = post()
    no_rows = RollupsAdded(new_days=set(), attempts_on={})  # no new day, no count read back
    monkeypatch.setattr(attempts_service, "rollups_add", lambda **kwargs: no_rows)
    without_rollup = post()

    assert with_rollup - without_rollup == 2


def test_the_rebuild_command_rebuilds_one_learner_or_everyone(atoms):
    now = timezone.now()
    learners = [UserFactory(timezone=zone) for zone in ZONES[:3]]
    for n, learner in enumerate(learners):
        attempts_ingest(
            learner=learner,
            now=now,
            inputs=[
                AttemptInput(
                    uuid.uuid4(),
                    atoms[k % 3].pk,
                    _response(atoms[k % 3], k % 3 == 0, k % 6),
                    10 * k,
                    answered_at=now - timedelta(hours=9 * k),
                )
                for k in range(n + 4)
            ],
        )
    kept = {learner.pk: _rows(learner) for learner in learners}
    LearnerDayRollup.objects.all().delete()
    LearnerAtomRollup.objects.all().delete()

    call_command("learning_rollups_rebuild", "--learner", learners[0].email.upper())
    assert _rows(learners[0]) == kept[learners[0].pk]
    assert _rows(learners[1]) == (set(), set())

    call_command("learning_rollups_rebuild")
    assert {learner.pk: _rows(learner) for learner in learners} == kept

    with pytest.raises(CommandError):
        call_command("learning_rollups_rebuild", "--learner", "nobody@example.com")


def test_staff_see_the_day_rollups_read_only_in_the_admin(client, atoms):
    from tests.learning.helpers import superuser

    learner = UserFactory(email="rolled@example.com")
    attempts_ingest(learner=learner, inputs=[AttemptInput(uuid.uuid4(), atoms[0].pk, CORRECT_MCQ)])
    client.force_login(superuser())

    page = client.get("/admin/learning/learnerdayrollup/", {"q": "rolled@"})

    assert page.status_code == 200
    assert "rolled@example.com" in page.content.decode()
    assert client.get("/admin/learning/learnerdayrollup/add/").status_code == 403


def test_a_time_zone_change_through_the_profile_rebuilds_the_rollup(
    atoms, django_capture_on_commit_callbacks
):
    from apps.accounts.services import user_update_profile

    learner = UserFactory(timezone="Pacific/Kiritimati")
    now = timezone.now()
    attempts_ingest(learner=learner, now=now, inputs=[
        AttemptInput(uuid.uuid4(), atoms[0].pk, CORRECT_MCQ, 1000, answered_at=now - delta)
        for delta in (timedelta(hours=h) for h in range(0, 72, 5))
    ])  # fmt: skip

    # when the learner moves zone through their profile (the API's and the admin's service)
    with django_capture_on_commit_callbacks(execute=True):
        user_update_profile(user=learner, timezone="America/St_Johns")

    # then the rollup is recounted in the new zone's days and answers again
    assert selectors._rollup(learner) is not None
    assert_rollup_is_the_full_computation(learner)
