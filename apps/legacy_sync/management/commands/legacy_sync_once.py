"""One round of the live sync: pull new v1 rows, then push pending outbox rows to v1 (what the
beat tasks run, for staff and scripts)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from ...outbox.push import outbox_drain
from ...pull import legacy_pull_once


class Command(BaseCommand):
    help = "One pull of new v1 rows and one push of pending outbox rows."

    def handle(self, *args, **options):
        pulled = legacy_pull_once()
        if pulled.skipped:
            self.stdout.write(self.style.WARNING("The kill switch is on: nothing was synced."))
            return
        for entity, count in sorted(pulled.pulled.items()):
            held = pulled.quarantined.get(entity, 0)
            self.stdout.write(
                f"  pulled {entity:<14} {count:>8,}" + (f"  ({held} quarantined)" if held else "")
            )
        if pulled.completions:
            self.stdout.write(f"  v1 session completions applied: {pulled.completions:,}")
        try:
            pushed = outbox_drain()
        except DatabaseError as exc:
            raise CommandError(f"v1 is unreachable, the outbox stays pending: {exc}") from exc
        self.stdout.write(
            f"Pulled {pulled.total:,} v1 rows. Pushed {pushed.sent:,} outbox rows to v1 "
            f"({pushed.v2_only:,} v2-only, {pushed.waiting:,} waiting, {pushed.failed:,} failed, "
            f"{pushed.dead:,} now dead)."
        )
        for error in pushed.errors[:20]:
            self.stderr.write(f"  {error}")
