from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.scheduler.hlr_training import CURRENT_WEIGHTS_CACHE_KEY
from apps.scheduler.models import HalfLifeModel
from apps.scheduler.services import SchedulingPolicy, review_plan
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.learning.factories import AttemptFactory

pytestmark = pytest.mark.django_db


def history(atom, learners: int = 6, reviews: int = 5):
    start = timezone.now() - timedelta(days=60)
    for n in range(learners):
        learner = UserFactory()
        for k in range(reviews):
            AttemptFactory(
                atom=atom,
                learner=learner,
                correct=(k + n) % 3 != 0,
                answered_at=start + timedelta(days=k * (k + 1)),
            )


def test_training_needs_enough_history():
    with pytest.raises(CommandError, match="need at least 10"):
        call_command("hlr_train")


def test_training_stores_a_new_version_each_time(capsys):
    history(make_atom("flashcard"))

    call_command("hlr_train", "--epochs", "50")
    call_command("hlr_train", "--epochs", "50")

    assert list(HalfLifeModel.objects.values_list("version", flat=True)) == [2, 1]
    model = HalfLifeModel.objects.first()
    assert model.samples == 6 * 4  # every review after a learner's first on the atom
    assert len(model.weights) == 3
    assert "HLR v2" in capsys.readouterr().out


def test_hlr_courses_use_the_trained_model_once_it_exists():
    policy = SchedulingPolicy(algorithm="hlr", desired_retention=0.9, maximum_interval_days=365)
    at = timezone.now()
    cold = review_plan(None, 5, at, policy)
    assert cold.after["half_life_days"] is None  # cold-start rule
    assert cold.due_at - at == timedelta(days=7)  # 100% so far → 7 days

    HalfLifeModel.objects.create(
        version=1, weights=[1.0, -0.5, 2.0], feature_names=[], samples=10, final_loss=0.1,
        alpha=0.01, l2=0.1,
    )  # fmt: skip
    cache.delete(CURRENT_WEIGHTS_CACHE_KEY)  # as hlr_model_train does after storing a version
    trained = review_plan(None, 5, at, policy)

    assert trained.after["half_life_days"] > 0
    assert trained.due_at != cold.due_at
