"""Install the trigger through which v1 wakes the pull (PostgreSQL v1 only; idempotent)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from ...v1.gateway import v1_is_postgres
from ...v1.schema import (
    PULL_NOTIFY_CHANNEL,
    PULL_NOTIFY_TABLES,
    pull_notify_install,
    pull_notify_installed,
)


class Command(BaseCommand):
    help = (
        "Install (or re-install) the statement-level triggers on v1's pulled tables that "
        f"notify '{PULL_NOTIFY_CHANNEL}' on new rows, so legacy_pull_listen wakes at once. "
        "A one-time DBA step on the real v1 database (it needs the right to create a function "
        "and triggers there); safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="only report which tables notify; exit 1 if any miss",
        )

    def handle(self, *args, check=False, **options):
        if not v1_is_postgres():
            raise CommandError(
                "v1 is not PostgreSQL: there is nothing to install; legacy_pull_listen polls a "
                "SQLite v1 every LEGACY_PULL_FALLBACK_S."
            )
        try:
            if check:
                missing = sorted(set(PULL_NOTIFY_TABLES) - set(pull_notify_installed()))
                if missing:
                    raise CommandError(
                        f"v1 tables without the notify trigger: {', '.join(missing)}"
                    )
                self.stdout.write(f"All {len(PULL_NOTIFY_TABLES)} pulled v1 tables notify.")
                return
            tables = pull_notify_install()
        except DatabaseError as exc:
            raise CommandError(f"could not install the notify trigger on v1: {exc}") from exc
        self.stdout.write(
            f"v1 now notifies '{PULL_NOTIFY_CHANNEL}' on new rows in: {', '.join(tables)}."
        )
