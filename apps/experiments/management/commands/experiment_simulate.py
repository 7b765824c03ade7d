"""Predict each arm's retention and workload on a course before exposing learners to it
(apps/experiments/simulation.py). Reads the course only; writes nothing."""

import contextlib
import sys
import uuid
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from apps.content.models import LearningAtom
from apps.curriculum.models import Course
from apps.experiments.arms import ArmSpecError, arm_spec_parse
from apps.experiments.simulation import GENERATORS, arm_simulate
from apps.experiments.statistics import wilson_interval
from apps.scheduler.services import course_scheduling_policy, review_state_next

MAX_LEARNERS, MAX_DAYS = 100_000, 3650


class Command(BaseCommand):
    help = (
        "Run simulated learners through each arm (an algorithm and its parameters) on a "
        "course and print the predicted true retention and reviews per learner per day."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="course slug or id")
        parser.add_argument(
            "--arms", nargs="+", required=True,
            help='arm specs: "sm2" "fsrs:desired_retention=0.9" '
            '"hlr:desired_retention=0.85,maximum_interval_days=180"',
        )  # fmt: skip
        parser.add_argument("--learners", type=int, default=200)
        parser.add_argument("--days", type=int, default=60)
        parser.add_argument("--generator", choices=GENERATORS, default="fsrs",
                            help="the true memory model outcomes are drawn from")  # fmt: skip
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args, **options):
        course = self._course(options["course"])
        try:
            arms = [arm_spec_parse(text) for text in options["arms"]]
        except ArmSpecError as exc:
            raise CommandError(str(exc)) from None
        learners, days = options["learners"], options["days"]
        if not 1 <= learners <= MAX_LEARNERS:
            raise CommandError(f"--learners must be 1..{MAX_LEARNERS}")
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be 1..{MAX_DAYS}")
        n_atoms = (
            LearningAtom.objects.filter(
                published_revision__isnull=False, live_concepts__course=course
            )
            .distinct()
            .count()
        )
        if n_atoms == 0:
            raise CommandError(f"Course {course} has no published atoms to simulate.")
        # each learner takes the course's new atoms per day (at least one, or nothing happens)
        new_per_day = max(1, course.new_per_day)
        start = datetime(2026, 1, 5, tzinfo=UTC)
        self.stdout.write(
            f"{course} ({n_atoms} atoms, {new_per_day} new per day): {learners} simulated "
            f"learners × {days} days per arm, generator {options['generator']}"
        )
        self.stdout.write(
            f"{'arm':<40} {'retention':>9} {'95% interval':>17} {'reviews/day':>11} "
            f"{'answers/day':>11}"
        )
        for number, arm in enumerate(arms, start=1):
            algorithm, retention, maximum = (
                arm.algorithm,
                *(
                    arm.parameters.get("desired_retention", course.desired_retention),
                    arm.parameters.get("maximum_interval_days", course.maximum_interval_days),
                ),
            )
            policy = course_scheduling_policy(
                course_id=course.pk, algorithm=algorithm, desired_retention=retention,
                maximum_interval_days=maximum,
            )  # fmt: skip

            def schedule(state, quality, at, policy=policy):
                return review_state_next(state, quality, at, policy)

            def progress(done, number=number, label=arm.label):
                if done == learners or done % max(1, learners // 20) == 0:
                    sys.stderr.write(
                        f"\r[arm {number}/{len(arms)} {label}] learner {done}/{learners}"
                    )
                    sys.stderr.flush()

            prediction = arm_simulate(
                label=arm.label, schedule=schedule, n_learners=learners, n_atoms=n_atoms,
                days=days, new_per_day=new_per_day, start=start,
                generator=options["generator"], seed=options["seed"], progress=progress,
            )  # fmt: skip
            sys.stderr.write("\n")
            interval = wilson_interval(prediction.recalled, prediction.reviews)
            if interval.rate is None:
                shown = f"{'no reviews':>9} {'':>17}"
            else:
                shown = f"{interval.rate:>9.4f} {interval.low:>8.4f}–{interval.high:<8.4f}"
            self.stdout.write(
                f"{arm.label:<40} {shown} {prediction.reviews_per_learner_day:>11.2f} "
                f"{prediction.answers_per_learner_day:>11.2f}"
            )

    def _course(self, reference: str) -> Course:
        query = Q(slug=reference)
        with contextlib.suppress(ValueError):  # not an id: the slug alone
            query |= Q(pk=uuid.UUID(reference))
        course = Course.objects.filter(query).first()
        if course is None:
            raise CommandError(f"No course with slug or id {reference!r}.")
        return course
