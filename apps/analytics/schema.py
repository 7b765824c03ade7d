"""The versioned event schema: every kind of analytics event, its version and its payload.

An event is checked here before it is recorded. A bad event is a programming error in the
caller (an unknown kind, a field missing, unknown or of the wrong type), so it raises
``InvalidEvent`` at once, inside the caller's transaction, rather than logging a row nobody
can read later. Changing a kind's payload incompatibly means a new ``version``: readers of the
export tell the shapes apart by ``schema_version``. README "Analytics events" and
docs/contracts.md list the same table.
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import models

PAYLOAD_MAX_BYTES = 2048  # events are small; anything larger belongs in its own table


class EventKind(models.TextChoices):
    SESSION_STARTED = "session_started", "Session started"
    SESSION_COMPLETED = "session_completed", "Session completed"
    ATTEMPT_RECORDED = "attempt_recorded", "Attempt recorded"
    MOCK_TEST_SUBMITTED = "mock_test_submitted", "Mock test submitted"
    BADGE_EARNED = "badge_earned", "Badge earned"
    DAILY_LIMIT_REACHED = "daily_limit_reached", "Daily limit reached"
    COHORT_ASSIGNED = "cohort_assigned", "Cohort assigned"
    ARM_ASSIGNED = "arm_assigned", "Experiment arm assigned"


class InvalidEvent(ValueError):
    """An event that does not fit the schema: a bug in the code recording it."""


@dataclass(frozen=True)
class Field:
    type: str  # "uuid", "str", "int", "number", "bool", "datetime", "date"
    required: bool = True  # an optional field may be left out or be null


@dataclass(frozen=True)
class EventSchema:
    version: int
    fields: dict[str, Field] = field(default_factory=dict)


SCHEMAS: dict[str, EventSchema] = {
    EventKind.SESSION_STARTED: EventSchema(
        1, {"session": Field("uuid"), "session_kind": Field("str"), "device": Field("str", False)}
    ),
    EventKind.SESSION_COMPLETED: EventSchema(
        1, {"session": Field("uuid"), "session_kind": Field("str"), "duration_s": Field("int")}
    ),
    EventKind.ATTEMPT_RECORDED: EventSchema(
        1,
        {
            "attempt": Field("uuid"),
            "atom": Field("uuid"),
            "session": Field("uuid", False),
            "correct": Field("bool"),
            "score": Field("number"),
            "quality": Field("int"),
            "time_taken_ms": Field("int"),
            "answered_at": Field("datetime"),
        },
    ),
    EventKind.MOCK_TEST_SUBMITTED: EventSchema(
        1,
        {
            "test": Field("uuid"),
            "score": Field("number"),
            "correct": Field("int"),
            "total": Field("int"),
            "passed": Field("bool"),
            "auto_submitted": Field("bool"),
        },
    ),
    EventKind.BADGE_EARNED: EventSchema(1, {"badge": Field("str"), "rule": Field("str")}),
    EventKind.DAILY_LIMIT_REACHED: EventSchema(
        1, {"limit": Field("str"), "per_day": Field("int"), "day": Field("date")}
    ),
    EventKind.COHORT_ASSIGNED: EventSchema(1, {"cohort": Field("str"), "source": Field("str")}),
    EventKind.ARM_ASSIGNED: EventSchema(1, {"experiment": Field("str"), "arm": Field("str")}),
}
DAILY_LIMITS = ("new", "reviews")  # daily_limit_reached's "limit"


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


# type → (does the value fit, its JSON form)
_TYPES = {
    "str": (lambda v: isinstance(v, str), lambda v: v),
    "bool": (lambda v: isinstance(v, bool), lambda v: v),
    "int": (lambda v: _is_number(v) and isinstance(v, int), lambda v: v),
    "number": (_is_number, lambda v: v),
    "datetime": (lambda v: isinstance(v, datetime) and v.tzinfo is not None, datetime.isoformat),
    "date": (lambda v: isinstance(v, date) and not isinstance(v, datetime), date.isoformat),
}


def _encode(name: str, spec: Field, value):
    """The JSON value of one payload field, or InvalidEvent naming it."""
    if spec.type == "uuid" and isinstance(value, uuid.UUID | str):
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            pass
    elif spec.type in _TYPES:
        fits, encoded = _TYPES[spec.type]
        if fits(value):
            return encoded(value)
    raise InvalidEvent(f"payload.{name}: expected {spec.type}, got {value!r}")


def event_payload(kind: str, payload: dict) -> tuple[int, dict]:
    """(schema version, the payload as stored) for an event of ``kind``; raises InvalidEvent."""
    schema = SCHEMAS.get(kind)
    if schema is None:
        raise InvalidEvent(f"Unknown analytics event kind {kind!r}: add it to {__name__}.")
    unknown = sorted(set(payload) - set(schema.fields))
    if unknown:
        raise InvalidEvent(f"{kind} v{schema.version} has no payload field {', '.join(unknown)}")
    stored = {}
    for name, spec in schema.fields.items():
        value = payload.get(name)
        if value is None:
            if spec.required:
                raise InvalidEvent(f"{kind} v{schema.version} needs payload.{name}")
            continue
        stored[name] = _encode(name, spec, value)
    if kind == EventKind.DAILY_LIMIT_REACHED and stored["limit"] not in DAILY_LIMITS:
        raise InvalidEvent(f"payload.limit: one of {DAILY_LIMITS}, got {stored['limit']!r}")
    if len(json.dumps(stored)) > PAYLOAD_MAX_BYTES:
        raise InvalidEvent(f"{kind}: the payload is over {PAYLOAD_MAX_BYTES} bytes")
    return schema.version, stored


def schema_table() -> list[dict]:
    """The schema as rows (kind, version, fields), for documentation and the export's help."""
    return [
        {
            "kind": kind,
            "version": schema.version,
            "fields": {
                name: spec.type + ("" if spec.required else "?")
                for name, spec in schema.fields.items()
            },
        }
        for kind, schema in SCHEMAS.items()
    ]
