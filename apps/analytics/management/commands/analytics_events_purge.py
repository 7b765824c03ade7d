"""Remove the event log's months past the retention (what the nightly task does)."""

from django.core.management.base import BaseCommand, CommandError

from ...retention import events_purge


class Command(BaseCommand):
    help = (
        "Drop the analytics event months wholly older than ANALYTICS_RETENTION_DAYS "
        "(PostgreSQL: their partitions; SQLite: their rows). Never the current month."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, help="Override ANALYTICS_RETENTION_DAYS.")

    def handle(self, *args, days, **options):
        try:
            result = events_purge(days=days)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        dropped = ", ".join(result.partitions_dropped) or "no partition"
        self.stdout.write(
            f"Events before {result.before:%Y-%m} removed: {dropped} dropped, "
            f"{result.rows_deleted} rows deleted."
        )
