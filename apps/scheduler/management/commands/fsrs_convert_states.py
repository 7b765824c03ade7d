"""Turn an FSRS course's SM-2 card states into FSRS memory states (``course_states_to_fsrs``).

    python manage.py fsrs_convert_states --course COURSE_ID [--sm2-retention 0.9]

Run it after switching the course to FSRS in the admin; cards it does not convert are
converted on their next review.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from apps.curriculum.models import Course
from apps.scheduler.fsrs_states import course_states_to_fsrs


class Command(BaseCommand):
    help = "Convert the SM-2 states of an FSRS course's cards to FSRS memory states."

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="The course's id.")
        parser.add_argument(
            "--sm2-retention",
            type=float,
            default=0.9,
            help="The recall rate SM-2 achieved on these cards (default 0.9, as Anki).",
        )

    def handle(self, *args, **options):
        retention = options["sm2_retention"]
        if not 0.5 < retention < 1.0:
            raise CommandError("--sm2-retention must lie between 0.5 and 1.")
        try:
            course = Course.objects.filter(pk=options["course"]).first()
        except ValidationError as exc:
            raise CommandError(f"Not a course id: {options['course']!r}.") from exc
        if course is None:
            raise CommandError(f"No course {options['course']}.")
        if course.default_algorithm != "fsrs":
            raise CommandError(
                f"{course.title} is scheduled with {course.default_algorithm}: switch it to "
                "FSRS first (course admin, Audience)."
            )
        outcome = course_states_to_fsrs(course=course, sm2_retention=retention)
        self.stdout.write(
            f"{course.title}: {outcome.converted} cards converted to FSRS "
            f"({outcome.replayed} replayed from their attempts, {outcome.from_sm2} from SM-2's "
            f"ease and interval); {outcome.left_new} still in learning start afresh."
        )
