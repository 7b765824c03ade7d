"""Write the event log as newline-delimited JSON, in keyset batches, with progress on stderr."""

import json
import sys
from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from ...schema import EventKind
from ...selectors import event_document, events_stream


def moment(value: str):
    """An aware ISO datetime, or a date (its UTC midnight)."""
    day = parse_date(value) if len(value) == 10 else None  # "2026-12-01"
    if day is not None:
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    parsed = parse_datetime(value)
    if parsed is None or parsed.tzinfo is None:
        raise CommandError(
            f"{value!r} is not a moment: write 2026-12-01 or 2026-12-01T08:00:00+00:00."
        )
    return parsed


class Command(BaseCommand):
    help = (
        "Export analytics events as NDJSON (one event per line, oldest first), up to the "
        "settle horizon. --since is inclusive, --until exclusive."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", type=moment)
        parser.add_argument("--until", type=moment)
        parser.add_argument("--kind", action="append", choices=EventKind.values, default=[])
        parser.add_argument("--output", default="-", help="A file path; - for stdout.")

    def handle(self, *args, since, until, kind, output, **options):
        if since and until and since >= until:
            raise CommandError("--until must be after --since.")
        stream = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
        written = 0
        try:
            for batch in events_stream(kinds=frozenset(kind), since=since, until=until):
                stream.writelines(
                    json.dumps(event_document(event), separators=(",", ":")) + "\n"
                    for event in batch
                )
                written += len(batch)
                self.stderr.write(f"{written} events written, up to {batch[-1].occurred_at}")
        finally:
            if stream is not sys.stdout:
                stream.close()
        self.stderr.write(f"done: {written} events")
