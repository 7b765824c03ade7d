"""The nightly BKT fit: one task per published course, idempotent on redelivery."""

import numpy as np
import pytest

from apps.scheduler import bkt_fitting
from apps.scheduler.models import FittedModel
from apps.scheduler.tasks import bkt_fit_all_task
from tests.curriculum.factories import ConceptFactory, CourseFactory

from .test_bkt_fitting import GENERATING, practice

pytestmark = pytest.mark.django_db


def test_the_nightly_task_fits_every_published_course(monkeypatch):
    monkeypatch.setattr(bkt_fitting, "BKT_MIN_ATTEMPTS", 200)
    rng = np.random.default_rng(10)
    published, draft = CourseFactory(is_published=True), CourseFactory(is_published=False)
    for course in (published, draft):
        practice(ConceptFactory(course=course), GENERATING["fractions"], 25, rng)

    bkt_fit_all_task.delay()  # eager in tests; queues one fit per published course
    bkt_fit_all_task.delay()  # a redelivery: nothing new

    fitted = FittedModel.objects.filter(course=published, kind="bkt")
    assert sorted(row.concept_id is None for row in fitted) == [False, True]
    assert all(row.in_use and row.version == 1 for row in fitted)
    assert not FittedModel.objects.filter(course=draft).exists()
