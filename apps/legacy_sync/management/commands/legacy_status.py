import json

from django.core.management.base import BaseCommand

from apps.legacy_sync.status import legacy_status


class Command(BaseCommand):
    help = "Migration status per entity: legacy, migrated, quarantined and pending rows."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument(
            "--json-dir",
            default=None,
            help="where v1's JSON progress files are (default: the folder the latest backfill "
            "read, else LEGACY_JSON_DIR)",
        )

    def handle(self, *args, **options):
        status = legacy_status(json_dir=options["json_dir"])
        if options["json"]:
            self.stdout.write(json.dumps(status, indent=2))
            return
        self.stdout.write(
            f"{'entity':<15} {'legacy':>10} {'migrated':>10} {'quarantined':>12} {'pending':>9}"
        )
        for name, row in status["entities"].items():
            self.stdout.write(f"{name:<15} {row['legacy']:>10,} {row['migrated']:>10,} "
                              f"{row['quarantined']:>12,} {row['pending']:>9,}")  # fmt: skip
        self.stdout.write(f"JSON progress files counted from {status['json_dir']}")
