"""The migration's flags (SyncFlags) and the adaptive rollout's cohorts.

Flags live in one database row so that every process sees a change within two seconds and
every change is audited; the environment only gives the first values. Reads are cached (a
second in the process, a second in the shared cache): the flags are read on every learner
request.
"""

import hashlib
from contextlib import suppress

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.analytics.schema import EventKind
from apps.analytics.services import event_record
from apps.core.process_memo import memo_forget, memo_get
from apps.experiments.services import experiment_assignment_record

from ..models import Cohort, CohortAssignment, FlagChange, ReadSource, SyncFlags
from .rollout import rollout_period_current, rollout_period_start

CACHE_KEY = "legacy_sync:flags"
CACHE_SECONDS = 1
FLAG_NAMES = (
    "dual_write", "read_source", "adaptive_rollout_percent", "shadow_read_percent", "kill_switch",
)  # fmt: skip


def sync_flags() -> SyncFlags:
    """The flags as of at most two seconds ago: kept a second in the process (process_memo)
    in front of the cache's copy, itself kept a second. A change made in this process shows at
    once."""
    return memo_get(CACHE_KEY, CACHE_SECONDS, _flags_shared)


def _flags_shared() -> SyncFlags:
    flags = cache.get(CACHE_KEY)
    if flags is None:
        flags = SyncFlags.objects.filter(pk=1).first() or _flags_create()
        cache.set(CACHE_KEY, flags, CACHE_SECONDS)
    return flags


def _flags_create() -> SyncFlags:
    defaults = settings.LEGACY_SYNC_DEFAULTS
    flags, _ = SyncFlags.objects.get_or_create(pk=1, defaults=defaults)
    return flags


def sync_flags_update(*, by=None, note: str = "", **changes) -> SyncFlags:
    """Change flags, auditing each change. Unknown flags and bad values are a ValidationError
    naming the flag."""
    unknown = set(changes) - set(FLAG_NAMES)
    if unknown:
        raise ValidationError({name: ["Not a sync flag."] for name in sorted(unknown)})
    with transaction.atomic():
        _flags_create()
        flags = SyncFlags.objects.select_for_update().get(pk=1)
        audit = [
            FlagChange(
                flag=name, old_value=str(getattr(flags, name)), new_value=str(value),
                changed_by=by, note=note,
            )
            for name, value in changes.items()
            if getattr(flags, name) != value
        ]  # fmt: skip
        rollout_before = flags.adaptive_rollout_percent
        for name, value in changes.items():
            setattr(flags, name, value)
        flags.updated_by = by
        flags_validate(flags)
        flags.save()
        FlagChange.objects.bulk_create(audit)
        if flags.adaptive_rollout_percent != rollout_before:
            # the rollout's experiment: this period ends, the new split's begins (rollout.py)
            rollout_period_start(percent=flags.adaptive_rollout_percent, at=timezone.now(), by=by)
    cache.delete(CACHE_KEY)
    memo_forget(CACHE_KEY)
    return flags


def flags_validate(flags: SyncFlags) -> None:
    errors = {}
    for name in ("adaptive_rollout_percent", "shadow_read_percent"):
        value = getattr(flags, name)
        if not isinstance(value, int) or not 0 <= value <= 100:
            errors[name] = ["A whole percentage from 0 to 100."]
    if flags.read_source not in ReadSource.values:
        errors["read_source"] = [f"One of {', '.join(ReadSource.values)}."]
    if errors:
        raise ValidationError(errors)


def learner_bucket(learner_id) -> int:
    """0–99, fixed per learner: the rollout's deterministic cohort split."""
    digest = hashlib.sha256(f"adaptive-rollout:{learner_id}".encode()).digest()
    return int.from_bytes(digest[:8]) % 100


def learner_cohort(learner) -> str:
    """The learner's cohort under the current rollout percent. Reads only: the assignment is
    recorded when the learner starts a session (``cohort_assignment_record``)."""
    bucket = learner_bucket(learner.pk)
    return Cohort.ADAPTIVE if bucket < sync_flags().adaptive_rollout_percent else Cohort.V1


def cohort_assignment_record(learner) -> str:
    """Record the learner's cohort as their A/B assignment (updated when the rollout percent
    has moved them), and, while a rollout period runs, as their arm of its experiment, once
    per period (rollout.py); returns the cohort. Called when a session starts, after commit.

    With a period running the cohort follows the period's split, so the cohort and the arm
    always agree (the flag is cached for a second). At 0% or 100% this reads nothing more
    than before; otherwise one read, and one more plus an INSERT at the learner's first
    session of the period."""
    bucket = learner_bucket(learner.pk)
    period = rollout_period_current(percent=sync_flags().adaptive_rollout_percent)
    if period is None:
        cohort = learner_cohort(learner)
    else:
        experiment, arms = period
        cohort = Cohort.ADAPTIVE if bucket < arms[Cohort.ADAPTIVE].weight else Cohort.V1
    assignment = CohortAssignment.objects.filter(learner=learner).first()
    if assignment is None:
        _, changed = CohortAssignment.objects.get_or_create(
            learner=learner, defaults={"bucket": bucket, "cohort": cohort}
        )
    else:
        changed = assignment.cohort != cohort and bool(
            CohortAssignment.objects.filter(pk=assignment.pk)
            .exclude(cohort=cohort)
            .update(cohort=cohort, updated_at=timezone.now())
        )
    if changed:  # a racing call that found it done records nothing
        event_record(EventKind.COHORT_ASSIGNED, learner=learner, cohort=cohort, source="rollout")
    if period is not None:
        # ValidationError: the percent changed a moment ago; their next session joins the new
        # period
        with suppress(ValidationError):
            experiment_assignment_record(
                experiment=experiment, arm=arms[cohort], learner=learner, at=timezone.now()
            )
    return cohort
