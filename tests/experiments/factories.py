"""Experiments made through the service, as the admin makes them."""

from datetime import timedelta

from django.utils import timezone

from apps.experiments.models import Arm, Experiment
from apps.experiments.services import experiment_save


def make_experiment(course, arms=None, *, name="SM-2 vs FSRS", starts_at=None, ends_at=None):
    """``arms``: (key, algorithm, parameters, weight, is_control) tuples; by default a control
    on the course's algorithm and an FSRS arm, half and half, running from a day ago for 60."""
    now = timezone.now()
    arms = arms or [
        ("control", "", {}, 1, True),
        ("fsrs", "fsrs", {"desired_retention": 0.9}, 1, False),
    ]
    experiment = Experiment(
        name=name, course=course,
        starts_at=starts_at or now - timedelta(days=1),
        ends_at=ends_at or now + timedelta(days=60),
    )  # fmt: skip
    return experiment_save(
        experiment=experiment,
        arms=[
            Arm(key=k, algorithm=a, parameters=p, weight=w, is_control=c) for k, a, p, w, c in arms
        ],
    )
