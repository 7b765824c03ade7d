"""Fit a course's FSRS parameters from its learners' attempts (``course_fsrs_fit``).

    python manage.py fsrs_fit --course COURSE_ID [--minimum-reviews N] [--json]
    python manage.py fsrs_fit --all              # every published course

Each fit is recorded as the course's next FSRS version; it replaces the defaults (or the
previous version) only when fitted on at least ``FSRS_MIN_REVIEWS`` repeat reviews.
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.curriculum.models import Course
from apps.scheduler.fsrs_fitting import FSRS_MIN_REVIEWS, course_fsrs_fit


class Command(BaseCommand):
    help = "Fit FSRS parameters per course from its attempts and record a new version."

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--course", help="The course's id.")
        which.add_argument("--all", action="store_true", help="Every published course.")
        parser.add_argument(
            "--minimum-reviews",
            type=int,
            default=None,
            help=f"Repeat reviews needed before the fit is used (default {FSRS_MIN_REVIEWS}).",
        )
        parser.add_argument(
            "--no-optimal-retention",
            action="store_true",
            help="Skip the optimal-retention simulation (about a second per course).",
        )
        parser.add_argument("--json", action="store_true", help="One JSON document.")

    def handle(self, *args, **options):
        if options["minimum_reviews"] is not None and options["minimum_reviews"] < 0:
            raise CommandError("--minimum-reviews must be 0 or more.")
        if options["all"]:
            courses = list(Course.objects.filter(is_published=True).order_by("title"))
        else:
            try:
                courses = list(Course.objects.filter(pk=options["course"]))
            except ValidationError as exc:
                raise CommandError(f"Not a course id: {options['course']!r}.") from exc
            if not courses:
                raise CommandError(f"No course {options['course']}.")
        results = []
        for course in courses:
            fitted = course_fsrs_fit(
                course=course,
                minimum_reviews=options["minimum_reviews"],
                optimal_retention=not options["no_optimal_retention"],
            )
            results.append(_summary(course, fitted))
        if options["json"]:
            self.stdout.write(json.dumps({"courses": results}, indent=2))
            return
        for row in results:
            self.stdout.write(_line(row))


def _summary(course, fitted) -> dict:
    if fitted is None:
        return {"course": str(course.pk), "title": course.title, "version": None, "samples": 0}
    return {
        "course": str(course.pk),
        "title": course.title,
        "version": fitted.version,
        "samples": fitted.samples,
        "in_use": fitted.in_use,
        "w": fitted.parameters["w"],
        **fitted.metrics,
    }


def _line(row: dict) -> str:
    if row["version"] is None:
        return f"{row['title']}: no repeat reviews yet, nothing fitted"
    use = "in use" if row["in_use"] else "history only (too few reviews)"
    line = (
        f"{row['title']}: v{row['version']} on {row['samples']} reviews, {use}; "
        f"log loss {row['log_loss']:.4f} (defaults {row['default_log_loss']:.4f}), "
        f"RMSE(bins) {row['rmse_bins']:.4f}"
    )
    if "optimal_retention" in row:
        line += f"; suggested desired retention {row['optimal_retention']:.2f}"
    return line
