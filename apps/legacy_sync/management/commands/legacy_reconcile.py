import json

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from apps.legacy_sync.models import ReconciliationDifference
from apps.legacy_sync.reconcile import reconcile_run
from apps.legacy_sync.reconcile.entities import MAPPING_NAMES
from apps.legacy_sync.reconcile.runner import DEFAULT_PARTS, DEFAULT_ROW_THRESHOLD, METHODS

SHOWN = 20  # unexplained differences listed in the table output
JSON_LISTED = 1_000


class Command(BaseCommand):
    help = (
        "Compare v1 with v2 per entity by counts and hashes over key ranges, bisecting down to "
        "the rows that differ. Exits 0 only when no difference is unexplained."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="re-sync unexplained differences (v1 → v2, or via the outbox)",
        )
        parser.add_argument("--json", action="store_true", help="machine-readable output")
        parser.add_argument(
            "--entities",
            default="",
            help=f"comma-separated; default: all ({', '.join(MAPPING_NAMES)})",
        )
        parser.add_argument(
            "--method",
            choices=METHODS,
            default="auto",
            help="sql: hash in PostgreSQL; python: hash here; auto: sql if it can",
        )
        parser.add_argument(
            "--parts", type=int, default=DEFAULT_PARTS, help="sub-ranges per differing range"
        )
        parser.add_argument(
            "--row-threshold",
            type=int,
            default=DEFAULT_ROW_THRESHOLD,
            help="compare row by row once a differing range has this few rows",
        )

    def handle(self, *args, **options):
        names = [n.strip() for n in options["entities"].split(",") if n.strip()]
        as_json = options["json"]
        if not as_json:
            self.stdout.write(
                f"{'entity':<17} {'v1 rows':>10} {'v2 rows':>10} {'ranges':>7} {'row ranges':>10} "
                f"{'unexplained':>11} {'explained':>9} {'repaired':>8} {'seconds':>8}"
            )
        try:
            run = reconcile_run(
                repair=options["repair"],
                entities=names or None,
                method=options["method"],
                parts=options["parts"],
                row_threshold=options["row_threshold"],
                on_entity=None if as_json else self._row,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        except DatabaseError as exc:  # recorded on the run (failed) before it got here
            raise CommandError(f"Reconciliation failed: {exc}") from exc
        unexplained = ReconciliationDifference.objects.filter(run=run, explained=False).order_by(
            "id"
        )
        if as_json:
            listed = list(
                unexplained.values(
                    "entity", "legacy_key", "kind", "v1_values", "v2_values", "repaired",
                    "explanation",
                )[:JSON_LISTED]
            )  # fmt: skip
            self.stdout.write(json.dumps({
                "run": run.pk, "status": run.status, "differences": run.differences,
                "explained": run.explained, "repaired": run.repaired, "entities": run.entities,
                "unexplained": listed, "unexplained_listed": len(listed),
            }, indent=2, default=str))  # fmt: skip
        else:
            for difference in unexplained[:SHOWN]:
                note = f"  ({difference.explanation})" if difference.explanation else ""
                self.stdout.write(f"  {difference.entity} {difference.legacy_key}: "
                                  f"{difference.kind}{note}")  # fmt: skip
            if run.differences > SHOWN:
                self.stdout.write(f"  … and {run.differences - SHOWN} more (run {run.pk})")
        seconds = (run.finished_at - run.started_at).total_seconds()
        summary = (
            f"Reconciliation {run.pk}: {run.differences} unexplained difference(s), "
            f"{run.explained} explained, {run.repaired} repaired, in {seconds:.1f} s."
        )
        if run.status != "clean":
            if run.differences == 0:
                summary += " Some differing ranges were too many rows to list (row limit)."
            raise CommandError(summary)
        if not as_json:
            self.stdout.write(self.style.SUCCESS(summary))

    def _row(self, name: str, entry: dict) -> None:
        self.stdout.write(
            f"{name:<17} {entry['v1_rows']:>10,} {entry['v2_rows']:>10,} "
            f"{entry['ranges_compared']:>7,} {entry['row_ranges']:>10,} "
            f"{entry['differences']:>11,} {entry['explained']:>9,} {entry['repaired']:>8,} "
            f"{entry['seconds']:>8.2f}"
        )
