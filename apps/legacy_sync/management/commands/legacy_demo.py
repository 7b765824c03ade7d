"""The demo's v1 platform: a generated v1 database backfilled into v2 (``load_demo`` runs it
while the migration app is installed). Refuses to run in production."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.legacy_sync.backfill.demo import demo_legacy_load


class Command(BaseCommand):
    help = "Generate the demo v1 database (when empty) and backfill it into v2. Idempotent."

    def handle(self, *args, **options):
        if getattr(settings, "IS_PRODUCTION", False):
            raise CommandError("legacy_demo never runs with production settings.")
        legacy = demo_legacy_load()
        self.stdout.write(
            f"Demo v1 platform: {legacy['migrated']:,} rows migrated, {legacy['quarantined']} "
            "quarantined for Migration staff to fix"
            + (" (legacy database generated)" if legacy["generated"] else "")
        )
