"""One round of the live sync: pull new v1 rows, then push pending outbox rows to v1 (what the
beat tasks run, for staff and scripts)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from ...live.outbox.push import outbox_drain
from ...live.pull import DUAL_WRITE_OFF, KILL_SWITCH_ON, legacy_pull_once

# Why nothing ran, and how to change it. Both exit non-zero so that scripts notice.
NOT_RUN = {
    KILL_SWITCH_ON: (
        "The kill switch is on: nothing was pulled from v1 or pushed to it. Release it with "
        "`manage.py legacy_flags --kill-switch off` or on the admin's sync flags page "
        "(Legacy sync → Sync flags)."
    ),
    DUAL_WRITE_OFF: (
        "Dual write is off, so v1 is treated as not live: nothing was pulled from v1 or "
        "pushed to it. Turn it on with `manage.py legacy_flags --dual-write on` or on the "
        "admin's sync flags page (Legacy sync → Sync flags); LEGACY_DUAL_WRITE=true only sets "
        "the first value, before the flags are first read."
    ),
}


class Command(BaseCommand):
    help = "One pull of new v1 rows and one push of pending outbox rows."

    def handle(self, *args, **options):
        pulled = legacy_pull_once()
        if pulled.skipped:
            raise CommandError(NOT_RUN[pulled.skipped])
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
