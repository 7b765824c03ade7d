"""Reading the event log: keyset pages on (occurred_at, id), for the API and the command.

**Stable pages.** A page is the events after a cursor, in (occurred_at, id) order, up to the
*settle horizon*: now minus ANALYTICS_EXPORT_SETTLE_S. Events are recorded after their
action's commit with ``occurred_at`` = that moment, in one short INSERT, so an event whose
``occurred_at`` is older than the horizon is already visible; newer ones are left for a
later page. Hence a page, once served, never changes: an event committed later sorts after
it (never inside it or before the cursor), and asking again with the same cursor returns the
same rows. What this relies on: the INSERT commits within the settle time of its clock
reading (a stalled process could break it), and app servers' clocks agree to well within it.
Retention removes whole old months; a cursor into them resumes at the oldest kept event.
"""

import base64
import binascii
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import AnalyticsEvent

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Cursor:
    occurred_at: datetime
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.occurred_at.isoformat(), self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        """The cursor a page handed out; ValidationError on anything else."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            stamp, event_id = json.loads(raw)
            occurred_at = parse_datetime(stamp)
            if occurred_at is None or timezone.is_naive(occurred_at):
                raise ValueError(stamp)
            occurred_at = occurred_at.astimezone(UTC)  # OverflowError at the calendar's ends
            if not isinstance(event_id, int) or isinstance(event_id, bool):
                raise ValueError(event_id)
            if not 0 <= event_id < 2**63:  # a bigint
                raise ValueError(event_id)
        except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
            raise ValidationError({"after": ["Not a cursor this export handed out."]}) from None
        return cls(occurred_at, event_id)

    @classmethod
    def of(cls, event: AnalyticsEvent) -> "Cursor":
        return cls(event.occurred_at, event.id)


@dataclass(frozen=True)
class EventsPage:
    events: list[AnalyticsEvent]
    next_cursor: Cursor | None  # resume here (also when there is no more yet)
    has_more: bool  # more events up to the horizon now


def settle_horizon(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(seconds=settings.ANALYTICS_EXPORT_SETTLE_S)


def _events(*, kinds, since, until, now) -> QuerySet:
    horizon = settle_horizon(now)
    until = min(until, horizon) if until else horizon
    events = AnalyticsEvent.objects.filter(occurred_at__lt=until).order_by("occurred_at", "id")
    if kinds:
        events = events.filter(kind__in=kinds)
    if since:
        events = events.filter(occurred_at__gte=since)
    return events


def _after(events: QuerySet, cursor: Cursor | None) -> QuerySet:
    if cursor is None:
        return events
    return events.filter(
        Q(occurred_at__gt=cursor.occurred_at) | Q(occurred_at=cursor.occurred_at, id__gt=cursor.id)
    )


def events_page(
    *,
    after: Cursor | None = None,
    limit: int = PAGE_SIZE,
    kinds: frozenset[str] = frozenset(),
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
) -> EventsPage:
    """One page of events after ``after``: ``since`` inclusive, ``until`` exclusive (and
    never past the settle horizon). One query, on the keyset index."""
    events = _events(kinds=kinds, since=since, until=until, now=now)
    rows = list(_after(events, after)[: limit + 1])
    page = rows[:limit]
    next_cursor = Cursor.of(page[-1]) if page else after
    return EventsPage(page, next_cursor, len(rows) > limit)


def events_stream(
    *,
    kinds: frozenset[str] = frozenset(),
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = MAX_PAGE_SIZE,
    now: datetime | None = None,
) -> Iterator[list[AnalyticsEvent]]:
    """Every event in the range, in keyset batches (never OFFSET), as the export writes them.
    The horizon is fixed at the start, so the stream ends."""
    now = now or timezone.now()
    cursor = None
    while True:
        page = events_page(
            after=cursor, limit=batch, kinds=kinds, since=since, until=until, now=now
        )
        if page.events:
            yield page.events
        if not page.has_more:
            return
        cursor = page.next_cursor


def event_document(event: AnalyticsEvent) -> dict:
    """An event as the export writes it (the API's and the NDJSON file's shape)."""
    return {
        "id": event.id,
        "kind": event.kind,
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at.isoformat(),
        "learner": str(event.learner_id) if event.learner_id else None,
        "course": str(event.course_id) if event.course_id else None,
        "payload": event.payload,
    }
