"""FSRS weights fitted per course from its learners' attempts (fsrs-rs), recorded as versions
and used only when fitted on enough reviews."""

from datetime import UTC, datetime
from io import StringIO

import fsrs_rs_python
import pytest
from django.core.management import CommandError, call_command

from apps.scheduler import fsrs_fitting
from apps.scheduler.fitted import fitted_parameters
from apps.scheduler.fsrs_fitting import (
    AttemptRow,
    course_fsrs_fit,
    course_review_histories,
    fsrs_items,
    fsrs_log_loss,
    fsrs_parameters_fit,
    review_histories,
)
from apps.scheduler.models import FittedModel
from apps.scheduler.tasks import fsrs_fit_all_task
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory

from .fsrs_review_log import attempts_from_histories, generating_weights, simulate_histories


def test_fitting_a_simulated_log_comes_within_0_01_of_the_generating_parameters():
    # given 1,000 cards reviewed over a year by a memory that follows FSRS with known,
    # non-default weights
    weights = generating_weights()
    histories = simulate_histories(weights, cards=1000, seed=2)
    own = fsrs_log_loss(histories, weights)

    # when fsrs-rs fits weights on the log
    fitted = fsrs_parameters_fit(histories)

    # then they predict the log as well as the generating weights (within 0.01 log loss),
    # where the defaults do clearly worse
    assert fsrs_log_loss(histories, fitted) <= own + 0.01
    assert fsrs_log_loss(histories, None) > own + 0.015
    # and our plain mean agrees with fsrs-rs's own evaluation (which weights recent reviews)
    evaluation = fsrs_rs_python.FSRS(fitted).evaluate(fsrs_items(histories))
    assert fsrs_log_loss(histories, fitted) == pytest.approx(evaluation.log_loss, abs=0.01)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_histories_count_the_first_review_of_each_learner_day_in_calendar_days():
    berlin, tokyo = ("ann", "atom"), ("bo", "atom")
    rows = [
        # Berlin (UTC+1 in January): 23:00, then 07:00 the next morning: one day apart
        AttemptRow(berlin, at("2026-01-05T22:00:00+00:00"), 4, "Europe/Berlin"),
        AttemptRow(berlin, at("2026-01-06T06:00:00+00:00"), 1, "Europe/Berlin"),
        # 07:00 and 23:00 of the same local day: the later one is not counted
        AttemptRow(berlin, at("2026-01-06T22:00:00+00:00"), 5, "Europe/Berlin"),
        # 03:00 local is still the previous day (days start at 04:00)
        AttemptRow(berlin, at("2026-01-08T02:00:00+00:00"), 3, "Europe/Berlin"),
        # Tokyo (UTC+9): 10:00 and 20:00 local are one day; three days later
        AttemptRow(tokyo, at("2026-01-05T01:00:00+00:00"), 0, "Asia/Tokyo"),
        AttemptRow(tokyo, at("2026-01-05T11:00:00+00:00"), 5, "Asia/Tokyo"),
        AttemptRow(tokyo, at("2026-01-08T01:00:00+00:00"), 5, "Asia/Tokyo"),
    ]

    histories = review_histories(rows)

    # ratings from qualities: 4 Good, 1 Again, 3 Hard, 0 Again, 5 Easy
    assert histories == [[(3, 0), (1, 1), (2, 1)], [(1, 0), (4, 3)]]


@pytest.fixture
def course_with_log(db):
    """A published course whose 30 learners × 20 atoms reviewed what the generating weights
    simulate (600 cards), plus same-day repeats."""
    course = CourseFactory(is_published=True, default_algorithm="fsrs")
    concept = ConceptFactory(course=course)
    atoms = [make_atom("flashcard", concept=concept) for _ in range(20)]
    learners = UserFactory.create_batch(30)
    histories = simulate_histories(generating_weights(), cards=600, seed=5)
    attempts_from_histories(histories, learners, atoms, seed=5)
    return course, histories


@pytest.mark.django_db
def test_a_course_fit_reads_its_attempts_records_versions_and_respects_the_minimum(
    course_with_log,
):
    course, histories = course_with_log
    samples = sum(len(h) - 1 for h in histories)

    # the attempts give back the simulated histories (same-day repeats left out)
    assert sorted(course_review_histories(course)) == sorted(histories)

    # a fit on fewer reviews than the minimum is kept as history only
    first = course_fsrs_fit(course=course, minimum_reviews=samples + 1, optimal_retention=False)
    assert (first.version, first.samples, first.in_use) == (1, samples, False)
    assert fitted_parameters(kind="fsrs", course=course) is None

    # the command with a lower minimum records v2, in use, with its metrics
    out = StringIO()
    call_command("fsrs_fit", course=str(course.pk), minimum_reviews=1000, stdout=out)
    fit = FittedModel.objects.get(kind="fsrs", course=course, version=2)
    assert fit.in_use and fitted_parameters(kind="fsrs", course=course)["w"] == fit.parameters["w"]
    assert len(fit.parameters["w"]) == 21
    assert 0.7 <= fit.metrics["optimal_retention"] <= 0.95
    assert fit.metrics["log_loss"] <= fsrs_log_loss(histories, generating_weights()) + 0.01
    assert fit.metrics["log_loss"] < fit.metrics["default_log_loss"]
    assert f"v2 on {samples} reviews, in use" in out.getvalue()
    assert "suggested desired retention" in out.getvalue()

    # fitting the same attempts again (a redelivered task) records nothing new
    call_command("fsrs_fit", course=str(course.pk), minimum_reviews=1000, stdout=StringIO())
    assert FittedModel.objects.filter(kind="fsrs", course=course).count() == 2


@pytest.mark.django_db
def test_the_nightly_task_fits_every_published_course_with_the_default_minimum(
    course_with_log, monkeypatch
):
    course, histories = course_with_log
    unpublished = CourseFactory(is_published=False)
    empty = CourseFactory(is_published=True)
    samples = sum(len(h) - 1 for h in histories)
    monkeypatch.setattr(fsrs_fitting, "FSRS_MIN_REVIEWS", samples + 1)
    monkeypatch.setattr(fsrs_fitting, "OPTIMAL_RETENTION_DECK_SIZE", 200)

    fsrs_fit_all_task.apply()

    fit = FittedModel.objects.get(kind="fsrs", course=course)
    assert (fit.version, fit.in_use) == (1, False)  # below the minimum: history only
    assert not FittedModel.objects.filter(course__in=[unpublished, empty]).exists()

    monkeypatch.setattr(fsrs_fitting, "FSRS_MIN_REVIEWS", samples)
    fsrs_fit_all_task.apply()
    assert FittedModel.objects.get(kind="fsrs", course=course, version=2).in_use


@pytest.mark.django_db
def test_the_command_names_what_is_wrong():
    with pytest.raises(CommandError, match="No course"):
        call_command("fsrs_fit", course="00000000-0000-0000-0000-000000000000")
    with pytest.raises(CommandError, match="Not a course id"):
        call_command("fsrs_fit", course="nope")
    with pytest.raises(CommandError):
        call_command("fsrs_fit")
    out = StringIO()
    course = CourseFactory(title="Empty", is_published=True)
    call_command("fsrs_fit", all=True, stdout=out)
    assert "Empty: no repeat reviews yet, nothing fitted" in out.getvalue()
    assert not FittedModel.objects.filter(course=course).exists()


def test_the_fit_ignores_clock_skew_backwards():
    card = ("ann", "atom")
    rows = [
        AttemptRow(card, datetime(2026, 1, 5, 10, tzinfo=UTC), 4),
        AttemptRow(card, datetime(2026, 1, 7, 10, tzinfo=UTC), 4),
        AttemptRow(card, datetime(2026, 1, 6, 10, tzinfo=UTC), 1),  # out of order: skipped
    ]
    assert review_histories(rows) == [[(3, 0), (3, 2)]]
