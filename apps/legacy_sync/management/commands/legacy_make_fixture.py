import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.legacy_sync.v1.fixture import legacy_fixture_build


class Command(BaseCommand):
    help = (
        "Build a realistic legacy v1 database (and its JSON progress files) on the legacy "
        "connection, replacing its tables. Deterministic for a given --seed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=200)
        parser.add_argument("--sessions", type=int, default=2_000)
        parser.add_argument("--attempts", type=int, default=15_000)
        parser.add_argument("--bits", type=int, default=500)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--dirty", action="store_true", help="mix in every kind of bad row")
        parser.add_argument(
            "--json-dir",
            default=str(settings.LEGACY_JSON_DIR),
            help="where user_data/attempts_*.json and streaks.json are written "
            "(default LEGACY_JSON_DIR)",
        )

    def handle(self, *args, **options):
        for name in ("users", "sessions", "attempts", "bits"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1.")
        if options["dirty"] and min(options["users"], options["sessions"]) < 10:
            raise CommandError("--dirty needs at least 10 users and 10 sessions.")
        started = time.perf_counter()

        def progress(table: str, rows: int) -> None:
            self.stdout.write(f"  {table:<14} {rows:>10,} rows", ending="\r")
            self.stdout.flush()

        report = legacy_fixture_build(
            users=options["users"],
            sessions=options["sessions"],
            attempts=options["attempts"],
            bits=options["bits"],
            seed=options["seed"],
            dirty=options["dirty"],
            json_dir=Path(options["json_dir"]),
            progress=progress,
        )
        self.stdout.write("")
        for table, rows in report.counts.items():
            self.stdout.write(f"  {table:<20} {rows:>10,}")
        if report.dirty:
            kinds = ", ".join(f"{kind} ×{n}" for kind, n in sorted(report.dirty.items()))
            self.stdout.write(f"  dirty rows: {kinds}")
        self.stdout.write(
            self.style.SUCCESS(f"Legacy fixture built in {time.perf_counter() - started:.1f} s")
        )
