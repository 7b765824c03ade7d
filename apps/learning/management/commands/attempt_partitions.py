from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.learning.services.partitions import (
    attempt_partitions,
    attempt_partitions_ensure,
    attempt_partitions_ensure_ahead,
    partitioned,
)


def month_argument(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"{value!r} is not a month: write it YYYY-MM, e.g. 2026-12.") from None


class Command(BaseCommand):
    help = (
        "Create the attempt log's monthly partitions (PostgreSQL): this month and the coming "
        "--ahead months, or a range with --since/--through; then list every partition. "
        "--list only lists."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ahead",
            type=int,
            default=None,
            help="Months after this one to keep ready (default ATTEMPT_PARTITIONS_AHEAD).",
        )
        parser.add_argument("--since", metavar="YYYY-MM", help="First month of a range.")
        parser.add_argument("--through", metavar="YYYY-MM", help="Last month of a range.")
        parser.add_argument(
            "--list", dest="only_list", action="store_true", help="Only list; create nothing."
        )

    def handle(self, *args, ahead=None, since=None, through=None, only_list=False, **options):
        if not partitioned():
            self.stdout.write(
                "The attempt log is a plain table here: monthly partitions exist only on "
                "PostgreSQL. Nothing to do."
            )
            return
        if ahead is not None and ahead < 0:
            raise CommandError("--ahead: a number of months, 0 or more.")
        if bool(since) != bool(through):
            raise CommandError("--since and --through go together.")
        if not only_list:
            if since:
                first, last = month_argument(since), month_argument(through)
                if first > last:
                    raise CommandError("--since is after --through.")
                created = attempt_partitions_ensure(since=first, through=last)
            else:
                months = settings.ATTEMPT_PARTITIONS_AHEAD if ahead is None else ahead
                created = attempt_partitions_ensure_ahead(months=months)
            self.stdout.write(
                f"Created {len(created)} partition(s): {', '.join(created)}"
                if created
                else "Every partition asked for already exists."
            )
        self.stdout.write(f"{'partition':<28} {'month':<8} {'rows (est.)':>12} {'size':>10}")
        for part in attempt_partitions():
            month = f"{part.month:%Y-%m}" if part.month else "other"
            size = f"{part.bytes / 1_048_576:.1f} MB"
            self.stdout.write(f"{part.name:<28} {month:<8} {part.rows:>12,} {size:>10}")
