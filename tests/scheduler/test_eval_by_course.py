"""scheduler_evaluate --by-course: the same protocol on a course's own attempts, recorded as an
eval FittedModel, and the course admin's flag when HLR validates worse than FSRS."""

import json
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import call_command

from apps.curriculum.models import Course
from apps.scheduler.evaluation.attempts import course_review_log, hlr_versus_fsrs
from apps.scheduler.fitted import fitted_model_record
from apps.scheduler.models import FittedKind, FittedModel
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.factories import AttemptFactory

pytestmark = pytest.mark.django_db

START = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


def practise(course, learners: int = 8, days: int = 6):
    atoms = [make_atom("flashcard", concept=ConceptFactory(course=course)) for _ in range(2)]
    for n in range(learners):
        learner = UserFactory(timezone="Asia/Tokyo")
        for a, atom in enumerate(atoms):
            for k in range(days):
                right = (n + a + k) % 4 != 0
                at = START + timedelta(days=k * 2 + (n % 3), hours=a)
                AttemptFactory(atom=atom, learner=learner, correct=right, quality=4 if right else 1,
                               answered_at=at)  # fmt: skip
    return atoms


def test_course_review_log_uses_each_learners_calendar_day():
    course = CourseFactory()
    atom = make_atom("flashcard", concept=ConceptFactory(course=course))
    learner = UserFactory(timezone="Asia/Tokyo")  # UTC+9, the day starts at 04:00 local
    # 18:00 UTC = 03:00 Tokyo on 7 Jan (still 6 Jan's day); 20:00 UTC = 05:00 Tokyo on 7 Jan
    for hour, quality in ((18, 4), (20, 1)):
        AttemptFactory(atom=atom, learner=learner, quality=quality, correct=quality > 2,
                       answered_at=START.replace(hour=hour))  # fmt: skip
    log = course_review_log(course=course)
    assert log.rating.tolist() == [3, 1]  # quality 4 → Good, 1 → Again
    assert (log.day[1] - log.day[0]) == 1
    assert len(course_review_log(course=CourseFactory())) == 0


def test_by_course_records_the_comparison():
    course = CourseFactory(slug="kana")
    practise(course)
    empty = CourseFactory(slug="empty")

    out = StringIO()
    call_command("scheduler_evaluate", "--by-course", "--json", stdout=out)
    payload = json.loads(out.getvalue())["courses"]

    assert "too few" in payload["empty"]["skipped"]
    result = payload["kana"]
    assert result["protocol"] == "srs-benchmark"
    assert result["n_train"] + result["n_test"] == 8 * 2 * 5  # repeats, one per card and day
    assert list(result["models"]) == ["constant", "sm2", "hlr", "fsrs_default", "fsrs_fitted"]
    record = FittedModel.objects.get(kind=FittedKind.EVALUATION, course=course)
    assert record.samples == result["n_test"] and record.parameters == {}
    assert record.metrics["models"] == result["models"]
    assert not record.in_use  # 24 test reviews: below the minimum, kept as history
    assert not FittedModel.objects.filter(course=empty).exists()

    call_command("scheduler_evaluate", "--by-course", "--course", "kana", stdout=StringIO())
    assert FittedModel.objects.filter(kind=FittedKind.EVALUATION, course=course).count() == 2


def _record(course, hlr: float, fsrs: float, samples: int = 500):
    models = {
        "constant": {"log_loss": 0.5, "rmse_bins": 0.1, "auc": 0.5},
        "hlr": {"log_loss": hlr, "rmse_bins": 0.1, "auc": 0.6},
        "fsrs_fitted": {"log_loss": fsrs, "rmse_bins": 0.05, "auc": 0.65},
    }
    return fitted_model_record(
        kind=FittedKind.EVALUATION, course=course, parameters={}, samples=samples,
        minimum_samples=200, metrics={"models": models},
    )  # fmt: skip


def test_course_admin_flags_hlr_worse_than_fsrs_and_proposes_fsrs():
    course_admin = admin.site._registry[Course]
    course = CourseFactory(default_algorithm="hlr")
    assert course_admin.memory_model_check(course) == "—"  # never evaluated

    _record(course, hlr=0.52, fsrs=0.46)
    flag = course_admin.memory_model_check(course)
    assert "HLR validates worse than FSRS" in flag and "0.520 vs 0.460" in flag
    assert flag.endswith("use FSRS")
    assert "memory_model_check" in course_admin.list_display

    _record(course, hlr=0.44, fsrs=0.46)  # the newest evaluation decides
    assert course_admin.memory_model_check(course) == "—"
    _record(course, hlr=0.60, fsrs=0.46, samples=20)  # too few test reviews: not a finding
    assert course_admin.memory_model_check(course) == "—"


def test_hlr_versus_fsrs_falls_back_to_the_default_parameters():
    assert hlr_versus_fsrs(None) is None
    metrics = {"models": {"hlr": {"log_loss": 0.5}, "fsrs_default": {"log_loss": 0.45}}}
    assert hlr_versus_fsrs(metrics) == (0.5, 0.45)


def test_the_nightly_task_records_each_published_course_and_skips_thin_ones():
    from apps.scheduler.tasks import course_models_evaluate_all_task

    practised = CourseFactory(slug="kana-nightly")
    practise(practised)
    thin = CourseFactory(slug="thin")

    course_models_evaluate_all_task.delay()  # eager in tests: the per-course tasks run too

    assert FittedModel.objects.filter(kind=FittedKind.EVALUATION, course=practised).count() == 1
    assert not FittedModel.objects.filter(course=thin).exists()
