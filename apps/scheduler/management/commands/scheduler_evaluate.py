"""Compare the memory models with srs-benchmark's protocol (see ``apps.scheduler.evaluation``):
on a review log (``--csv``), or per course on the platform's own attempts (``--by-course``)."""

import json
import time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.curriculum.models import Course
from apps.scheduler.algorithms.calendar_days import DEFAULT_DAY_START_HOUR
from apps.scheduler.evaluation.attempts import course_evaluation_record
from apps.scheduler.evaluation.metrics import format_table
from apps.scheduler.evaluation.replay import DEFAULT_SPLIT, evaluate_reviews, load_anki_log


def default_csv() -> Path:
    return Path(settings.BASE_DIR) / "data" / "anki-review-log.csv"


class Command(BaseCommand):
    help = (
        "Score constant, SM-2, HLR, FSRS-6 (default) and FSRS-6 (fitted) on predicting recall "
        "with srs-benchmark's protocol (calendar days, first review per card and day, time "
        "split): log loss, RMSE(bins), AUC on the reviews after the split."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--csv",
            type=Path,
            default=None,
            help="card_id,review_rating,review_time[,review_duration] CSV "
            "(default: data/anki-review-log.csv, py-fsrs's test log, MIT)",
        )
        parser.add_argument(
            "--split",
            type=float,
            default=DEFAULT_SPLIT,
            help="share of the repeat reviews, in time order, that trains (default 0.7)",
        )
        parser.add_argument(
            "--day-start-hour",
            type=int,
            default=DEFAULT_DAY_START_HOUR,
            help="local hour a new day starts (Anki's 'next day starts at', default 4)",
        )
        parser.add_argument(
            "--timezone",
            default="UTC",
            help="the CSV user's IANA time zone (default UTC; --by-course uses each learner's)",
        )
        parser.add_argument("--limit", type=int, default=None, help="use the first N CSV rows")
        parser.add_argument(
            "--by-course",
            action="store_true",
            help="evaluate every course on its learners' attempts and record the comparison",
        )
        parser.add_argument("--course", default=None, help="with --by-course: one course slug")
        parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")

    def handle(self, *args, **options):
        if not 0.0 < options["split"] < 1.0:
            raise CommandError("--split must be between 0 and 1")
        if not 0 <= options["day_start_hour"] <= 23:
            raise CommandError("--day-start-hour must be 0..23")
        if options["by_course"]:
            return self._by_course(options)
        if options["course"]:
            raise CommandError("--course needs --by-course")
        try:
            ZoneInfo(options["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            raise CommandError(f"unknown time zone {options['timezone']!r}") from None
        path = options["csv"] or default_csv()
        if not path.is_file():
            raise CommandError(f"review log not found: {path}")
        started = time.perf_counter()
        try:
            log = load_anki_log(
                path,
                limit=options["limit"],
                timezone=options["timezone"],
                day_start_hour=options["day_start_hour"],
            )
            evaluation = evaluate_reviews(log, split=options["split"])
        except (KeyError, ValueError) as exc:
            raise CommandError(f"cannot evaluate {path}: {exc}") from exc
        seconds = time.perf_counter() - started
        if options["json"]:
            self.stdout.write(json.dumps(evaluation.as_json(), indent=2))
            return
        self.stdout.write(
            f"{path}: {len(log)} reviews; {evaluation.n_train} repeat reviews train, "
            f"{evaluation.n_test} are scored (srs-benchmark protocol, {seconds:.1f} s)\n"
        )
        self.stdout.write(format_table(evaluation.ordered_scores()))
        hlr = evaluation.hlr
        self.stdout.write(
            f"\nHLR: α = {hlr['alpha']:g}, λ = {hlr['l2']:g}, card indicators "
            f"{'on' if hlr['card_indicators'] else 'off'} (chosen on a time split of the "
            "training part)"
        )

    def _by_course(self, options):
        courses = Course.objects.order_by("slug")
        if options["course"]:
            courses = courses.filter(slug=options["course"])
            if not courses.exists():
                raise CommandError(f"no course with slug {options['course']!r}")
        results = {}
        for course in courses:
            try:
                evaluation, record = course_evaluation_record(
                    course=course,
                    split=options["split"],
                    day_start_hour=options["day_start_hour"],
                )
            except ValueError as exc:
                results[course.slug] = {"skipped": str(exc)}
                continue
            results[course.slug] = {**evaluation.as_json(), "version": record.version}
            if not options["json"]:
                self.stdout.write(
                    f"\n## {course.title} ({evaluation.n_test} test reviews, eval "
                    f"v{record.version})\n"
                )
                self.stdout.write(format_table(evaluation.ordered_scores()))
        if options["json"]:
            self.stdout.write(json.dumps({"courses": results}, indent=2))
            return
        for slug, result in results.items():
            if "skipped" in result:
                self.stdout.write(f"{slug}: skipped ({result['skipped']})")
