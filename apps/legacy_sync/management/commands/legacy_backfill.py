import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.legacy_sync.backfill.json_files import user_data_folder
from apps.legacy_sync.backfill.runner import DEFAULT_BATCH_SIZE, backfill_run, stages_select
from apps.legacy_sync.status import conservation_report

BAR_WIDTH = 30
JSON_ENTITIES = {"json_attempts", "json_streaks"}


class Command(BaseCommand):
    help = (
        "Phase 1: migrate the legacy v1 database (and its JSON progress files) into v2. "
        "Idempotent and resumable: each batch commits with its checkpoint."
    )

    def add_arguments(self, parser):
        parser.add_argument("--entities", default="", help="comma-separated; default: all")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
        parser.add_argument(
            "--json-dir",
            default=None,
            help="v1's JSON progress files: the folder holding user_data/, or the user_data "
            "folder itself (attempts_*.json, streaks.json); default LEGACY_JSON_DIR",
        )
        parser.add_argument(
            "--async",
            dest="use_celery",
            action="store_true",
            help="split entities into key ranges worked on by Celery workers",
        )
        parser.add_argument("--parts", type=int, default=4,
                            help="key ranges per entity with --async")  # fmt: skip

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        names = [n.strip() for n in options["entities"].split(",") if n.strip()]
        try:
            selected = stages_select(names)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        json_dir = Path(options["json_dir"] or settings.LEGACY_JSON_DIR)
        if JSON_ENTITIES & set(selected):
            folder = user_data_folder(json_dir)
            if folder is None:
                raise CommandError(
                    f"No v1 JSON progress files in {json_dir}: expected {json_dir / 'user_data'}/ "
                    "or attempts_*.json / streaks.json in the folder itself. Pass --json-dir, "
                    "set LEGACY_JSON_DIR, or leave json_attempts,json_streaks out of --entities."
                )
            self.stdout.write(f"Reading v1's JSON progress files from {folder}")
        if options["use_celery"] and settings.CELERY_TASK_ALWAYS_EAGER:
            self.stderr.write(
                "Celery runs eagerly here (no REDIS_URL): --async runs every key range in this "
                "process, one after another. Set REDIS_URL and start workers to run in parallel."
            )
        started = time.perf_counter()
        self._shown = ""
        run = backfill_run(
            names=names or None,
            batch_size=options["batch_size"],
            json_dir=json_dir,
            use_celery=options["use_celery"],
            parts=options["parts"],
            on_progress=self._bar,
        )
        self._end_line()
        for name, entry in run.progress.items():
            self.stdout.write(
                f"  {name:<15} {entry.get('migrated', 0):>10,} migrated "
                f"{entry.get('quarantined', 0):>7,} quarantined  ({entry['rate']:,.0f} rows/s)"
            )
        failures = [
            r
            for r in conservation_report(json_dir=json_dir)
            if not r["holds"] and r["entity"] in run.entities
        ]
        for row in failures:
            self.stderr.write(
                f"Conservation fails for {row['entity']}: legacy {row['legacy']} ≠ migrated "
                f"{row['migrated']} + quarantined {row['quarantined']}"
            )
        elapsed = time.perf_counter() - started
        if failures:
            raise CommandError(f"Backfill finished in {elapsed:.1f} s, but rows are unaccounted.")
        self.stdout.write(self.style.SUCCESS(f"Backfill finished in {elapsed:.1f} s; every "
                                             "legacy row is migrated or quarantined."))  # fmt: skip

    def _bar(self, entity: str, seen: int, legacy: int) -> None:
        if entity != self._shown:
            self._end_line()
            self._shown, self._started, self._first = entity, time.perf_counter(), seen
        done = min(seen, legacy)
        fraction = done / legacy if legacy else 1.0
        elapsed = max(time.perf_counter() - self._started, 1e-6)
        rate = (seen - self._first) / elapsed
        eta = (legacy - done) / rate if rate > 0 else 0
        bar = "█" * int(fraction * BAR_WIDTH)
        self.stdout.write(
            f"\r  {entity:<15} |{bar:<{BAR_WIDTH}}| {done:>10,}/{legacy:<10,} "
            f"{rate:>9,.0f} rows/s  ETA {eta:5.0f} s",
            ending="",
        )
        self.stdout.flush()

    def _end_line(self) -> None:
        if self._shown:
            self.stdout.write("")
