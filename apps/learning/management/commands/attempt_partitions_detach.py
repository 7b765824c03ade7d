from django.core.management.base import BaseCommand, CommandError

from apps.learning.services.partitions import PartitionError, attempt_partition_detach

from .attempt_partitions import month_argument


class Command(BaseCommand):
    help = (
        "Detach one old month of the attempt log (PostgreSQL) into the attempts_archive "
        "schema. Refused for this month or later, and for a month reconciliation with v1 has "
        "not covered yet."
    )

    def add_arguments(self, parser):
        parser.add_argument("month", metavar="YYYY-MM")

    def handle(self, *args, month, **options):
        try:
            archived = attempt_partition_detach(month=month_argument(month))
        except PartitionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Detached {month}: its attempts are now in {archived}.")
