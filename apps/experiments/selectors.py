"""The analysis of an experiment: per arm, with 95% intervals and a test against control
(apps/experiments/statistics.py), and the sample-ratio-mismatch check. Reads only.

What each figure counts, over the experiment's period (its start to its end, or now while it
runs), for each arm's assigned learners from their assignment on:

- **True retention**: reviews recalled / reviews. A review is an answer on an atom of the
  course the learner had already answered on an earlier calendar day of theirs (the README's
  true retention: apps/learning/study_calendar.py), so it is a review that was due; recalled:
  graded correct. Tested as a proportion of reviews: reviews of one learner are not
  independent, so with few learners per arm the interval is too narrow (read it with the
  learner counts).
- **Reviews per learner**: reviews per assigned learner (learners with none count as 0): the
  workload an arm gives. Normal interval, Welch's test.
- **7- and 30-day return**: the share of assigned learners who started a session in the
  course during the week that begins 7 (30) days after their assignment; only learners whose
  week has ended by the period's end count (before that the figure says it is not known yet).
- **Mock-test pass rate**: tests of the course submitted after assignment that passed / tests
  submitted.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Min, Prefetch, QuerySet
from django.utils import timezone

from apps.assessment.models import MockTest
from apps.content.models import LearningAtom
from apps.learning.models import Attempt, StudySession
from apps.scheduler.algorithms.calendar_days import local_day

from .models import Arm, Assignment, Experiment
from .statistics import (
    SRM_ALPHA,
    mean_interval,
    sample_ratio_check,
    two_proportion_test,
    welch_test,
    wilson_interval,
)


def experiments_list() -> QuerySet:
    """Experiments newest first, each with its arms (in order) and ``learner_count``."""
    return (
        Experiment.objects.annotate(learner_count=Count("assignments"))
        .prefetch_related(Prefetch("arms", queryset=Arm.objects.order_by("position", "key")))
        .order_by("-starts_at", "name")
    )


RETURN_WINDOW = timedelta(days=7)
RETURN_AFTER_DAYS = (7, 30)


def experiment_analysis(*, experiment: Experiment, now=None) -> dict:
    now = now or timezone.now()
    start, end = experiment.starts_at, min(experiment.ends_at, now)
    arms = list(Arm.objects.filter(experiment=experiment).order_by("position", "key"))
    assigned = list(
        Assignment.objects.filter(experiment=experiment)
        .order_by()
        .values_list("learner_id", "arm_id", "assigned_at", "learner__timezone")
    )
    assigned_at = {learner: at for learner, _, at, _ in assigned}
    zone_of = {learner: zone for learner, _, _, zone in assigned}
    learners_by_arm = defaultdict(list)
    for learner, arm, _, _ in assigned:
        learners_by_arm[arm].append(learner)

    reviews, recalled = _reviews(experiment, assigned_at, zone_of, start, end)
    returned = {n: _returns(experiment, assigned_at, n, end) for n in RETURN_AFTER_DAYS}
    tests = _mock_tests(experiment, assigned_at, end)

    per_arm = {}
    for arm in arms:
        learners = learners_by_arm.get(arm.pk, [])
        arm_reviews = sum(reviews[learner] for learner in learners)
        arm_recalled = sum(recalled[learner] for learner in learners)
        passed = sum(tests[learner][0] for learner in learners)
        sat = sum(tests[learner][1] for learner in learners)
        per_arm[arm.pk] = {
            "retention": wilson_interval(arm_recalled, arm_reviews),
            "reviews_per_learner": mean_interval([float(reviews[x]) for x in learners]),
            **{
                f"return_{n}d": wilson_interval(
                    sum(1 for x in learners if returned[n].get(x) is True),
                    sum(1 for x in learners if returned[n].get(x) is not None),
                )
                for n in RETURN_AFTER_DAYS
            },
            "mock_test_pass": wilson_interval(passed, sat),
        }
    control = next((arm for arm in arms if arm.is_control), None)
    rows = []
    for arm in arms:
        figures = per_arm[arm.pk]
        row = {
            "arm": arm,
            "key": arm.key,
            "is_control": arm.is_control,
            "learners": len(learners_by_arm.get(arm.pk, [])),
            "metrics": [],
        }
        for name, label in METRICS:
            value = figures[name]
            comparison = None
            if control is not None and arm.pk != control.pk:
                reference = per_arm[control.pk][name]
                if name == "reviews_per_learner":
                    comparison = welch_test(value, reference)
                else:
                    comparison = two_proportion_test(
                        value.successes, value.trials, reference.successes, reference.trials
                    )
            row["metrics"].append({"name": name, "label": label, "value": value,
                                   "vs_control": comparison})  # fmt: skip
        rows.append(row)
    srm = sample_ratio_check(
        [len(learners_by_arm.get(arm.pk, [])) for arm in arms], [arm.weight for arm in arms]
    )
    return {
        "experiment": experiment,
        "period_start": start,
        "period_end": end,
        "running": experiment.is_running(now),
        "control": control,
        "arms": rows,
        "srm": srm,
        "srm_alpha": SRM_ALPHA,
        "learners": len(assigned),
    }


METRICS = (
    ("retention", "True retention (reviews recalled)"),
    ("reviews_per_learner", "Reviews per learner"),
    ("return_7d", "7-day return"),
    ("return_30d", "30-day return"),
    ("mock_test_pass", "Mock-test pass rate"),
)


def _course_atoms(experiment):
    links = LearningAtom.live_concepts.through.objects.filter(concept__course=experiment.course_id)
    return links.values("learningatom_id")


def _reviews(experiment, assigned_at, zone_of, start, end):
    """({learner: reviews}, {learner: recalled}) in the period after their assignment."""
    reviews, recalled = defaultdict(int), defaultdict(int)
    if not assigned_at:
        return reviews, recalled
    answers = Attempt.objects.filter(learner__in=list(assigned_at), archived_in__isnull=True)
    if experiment.course_id:
        answers = answers.filter(atom__in=_course_atoms(experiment))
    first = {
        (learner, atom): at
        for learner, atom, at in answers.order_by()
        .values("learner_id", "atom_id")
        .annotate(first=Min("answered_at"))
        .values_list("learner_id", "atom_id", "first")
    }
    hour = settings.SCHEDULER_DAY_START_HOUR
    for learner, atom, at, correct in (
        answers.filter(answered_at__gte=start, answered_at__lt=end)
        .order_by()
        .values_list("learner_id", "atom_id", "answered_at", "correct")
    ):
        if at < assigned_at[learner]:
            continue
        zone = zone_of[learner]
        if local_day(at, zone, hour) <= local_day(first[(learner, atom)], zone, hour):
            continue  # a first answer or a same-day repeat: learning, not retention
        reviews[learner] += 1
        recalled[learner] += bool(correct)
    return reviews, recalled


def _returns(experiment, assigned_at, after_days, end) -> dict:
    """{learner: True/False, or absent while their return week has not ended}."""
    offset = timedelta(days=after_days)
    eligible = {x: at for x, at in assigned_at.items() if at + offset + RETURN_WINDOW <= end}
    if not eligible:
        return {}
    sessions = StudySession.objects.filter(
        learner__in=list(eligible), started_at__gte=min(eligible.values()) + offset
    )
    if experiment.course_id:
        sessions = sessions.filter(course_id=experiment.course_id)
    result = dict.fromkeys(eligible, False)
    for learner, started in sessions.order_by().values_list("learner_id", "started_at"):
        window_start = eligible[learner] + offset
        if window_start <= started < window_start + RETURN_WINDOW:
            result[learner] = True
    return result


def _mock_tests(experiment, assigned_at, end) -> dict:
    """{learner: (passed, submitted)} for the course's tests started after assignment."""
    tally = defaultdict(lambda: (0, 0))
    if not assigned_at:
        return tally
    tests = MockTest.objects.filter(
        learner__in=list(assigned_at), submitted_at__isnull=False, submitted_at__lt=end
    )
    if experiment.course_id:
        tests = tests.filter(course_id=experiment.course_id)
    for learner, started, passed in tests.order_by().values_list(
        "learner_id", "started_at", "passed"
    ):
        if started >= assigned_at[learner]:
            done, sat = tally[learner]
            tally[learner] = (done + bool(passed), sat + 1)
    return tally
