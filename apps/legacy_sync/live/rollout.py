"""The v1-versus-adaptive rollout as an experiment (apps/experiments): each value of
``SyncFlags.adaptive_rollout_percent`` strictly between 0 and 100 is one period, an all-course
experiment with two arms, ``v1`` (the control, weight 100 − percent) and ``adaptive`` (weight
percent). A learner's arm is their cohort (``learner_bucket`` < percent: adaptive), recorded at
their first session start in the period, so the analysis page compares the two cohorts
(retention, reviews per learner, returns, pass rate, with intervals) and its SRM check tests
the split the percent promised.

A change of the percent ends the running period and starts the next (in the flag change's
transaction), so each period's learners were all split the same way. At 0% or 100% there is
no one to compare: no period runs. Both arms keep the course's scheduling (algorithm "", no
parameters): the cohort changes nothing server-side today (it is what ``/me/`` tells the
client), and the scheduler leaves the rollout's arms out of enforcement anyway.

Writes go through the experiments services; experiments never import this app.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from apps.experiments.models import Arm, AssignedBy, Experiment
from apps.experiments.services import experiment_end, experiment_save

from ..models import Cohort, SyncFlags

# A period runs until the percent changes: its end is only a bound the model needs.
OPEN_PERIOD = timedelta(days=36525)
HYPOTHESIS = (
    "Learners on the adaptive scheduler remember more (true retention on due reviews) and come "
    "back at least as often as learners on v1's static curriculum."
)


def rollout_period_start(*, percent: int, at: datetime, by=None) -> Experiment | None:
    """Make the running period the one of ``percent``: end any running period with another
    split and start one with this split unless one runs already (or the percent is 0 or 100).
    Returns the running period, or None.

    Precondition: the flags row is locked (``select_for_update``) in the caller's transaction,
    which serializes every call: no two periods ever start for one change."""
    running = list(
        Experiment.objects.select_for_update()
        .filter(assigned_by=AssignedBy.ROLLOUT, starts_at__lte=at, ends_at__gt=at)
        .prefetch_related("arms")
        .order_by("starts_at", "pk")
    )
    kept = None
    for experiment in running:
        if kept is None and rollout_percent_of(experiment) == percent:
            kept = experiment
        else:
            experiment_end(experiment=experiment, at=at, by=by, source="sync")
    if kept is not None or not 0 < percent < 100:
        return kept
    experiment = Experiment(
        name=f"Adaptive rollout {percent}% from {at:%Y-%m-%d %H:%M:%S.%f} UTC",
        course=None,
        hypothesis=HYPOTHESIS,
        starts_at=at,
        ends_at=at + OPEN_PERIOD,
        assigned_by=AssignedBy.ROLLOUT,
    )
    arms = [
        Arm(key=Cohort.V1, weight=100 - percent, is_control=True),
        Arm(key=Cohort.ADAPTIVE, weight=percent),
    ]
    return experiment_save(experiment=experiment, arms=arms, by=by, source="sync")


def rollout_percent_of(experiment: Experiment) -> int | None:
    """The adaptive share a period was started with (its adaptive arm's weight of 100)."""
    weights = {arm.key: arm.weight for arm in experiment.arms.all()}
    return weights.get(Cohort.ADAPTIVE)


def rollout_period_current(*, percent: int) -> tuple[Experiment, dict] | None:
    """The period running now and its arms by key, or None when none should run; ``percent``
    is the flag as the caller read it (cached for a second).

    At 0% or 100% nothing is read (no period runs then: the flag change ended it). Otherwise
    one read; a period is started here, under the flags' lock, only when none with the flag's
    split runs (the percent was set before the rollout was an experiment, or from the
    environment's default), re-reading the flag and the time under the lock so that a stale
    cache or a flag change in between never starts or ends the wrong one."""
    if not 0 < percent < 100:
        return None
    at = timezone.now()
    arms = list(
        Arm.objects.filter(
            experiment__assigned_by=AssignedBy.ROLLOUT,
            experiment__starts_at__lte=at,
            experiment__ends_at__gt=at,
        ).select_related("experiment")
    )
    by_key = {arm.key: arm for arm in arms}
    if len(arms) == 2 and by_key.get(Cohort.ADAPTIVE) and by_key[Cohort.ADAPTIVE].weight == percent:
        return by_key[Cohort.ADAPTIVE].experiment, by_key
    with transaction.atomic():
        flags = SyncFlags.objects.select_for_update().filter(pk=1).first()
        if flags is None:
            return None
        experiment = rollout_period_start(percent=flags.adaptive_rollout_percent, at=timezone.now())
    if experiment is None:
        return None
    return experiment, {arm.key: arm for arm in experiment.arms.all()}
