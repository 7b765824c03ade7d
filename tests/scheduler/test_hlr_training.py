from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.scheduler.hlr_training import CURRENT_WEIGHTS_CACHE_KEY, hlr_current_weights
from apps.scheduler.models import HalfLifeModel
from apps.scheduler.services import SchedulingPolicy, review_plan
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.learning.factories import AttemptFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_cached_weights():
    """The current weights are cached across tests (the database is not): start and leave
    every test without them."""
    cache.delete(CURRENT_WEIGHTS_CACHE_KEY)
    yield
    cache.delete(CURRENT_WEIGHTS_CACHE_KEY)


def history(atom, learners: int = 6, reviews: int = 5, same_day_repeats: bool = False):
    start = timezone.now().replace(hour=12) - timedelta(days=60)
    for n in range(learners):
        learner = UserFactory()
        for k in range(reviews):
            at = start + timedelta(days=k * (k + 1))
            AttemptFactory(atom=atom, learner=learner, correct=(k + n) % 3 != 0, answered_at=at)
            if same_day_repeats:  # a learning step minutes later: not a review of its own
                AttemptFactory(
                    atom=atom, learner=learner, correct=False, answered_at=at + timedelta(minutes=5)
                )


def test_training_needs_enough_history():
    with pytest.raises(CommandError, match="need at least 10"):
        call_command("hlr_train")


def test_training_stores_a_new_version_each_time(capsys):
    history(make_atom("flashcard"), same_day_repeats=True)

    call_command("hlr_train", "--epochs", "50")
    call_command("hlr_train", "--epochs", "50")

    assert list(HalfLifeModel.objects.values_list("version", flat=True)) == [2, 1]
    model = HalfLifeModel.objects.first()
    # one review per learner, atom and calendar day: the same-day repeats are not rows
    assert model.samples == 6 * 4
    assert model.feature_names[:3] == ["sqrt(1+correct)", "sqrt(1+wrong)", "bias"]
    assert len(model.weights) == len(model.feature_names)
    assert model.alpha in (0.0, 1e-4, 1e-3) and model.alpha != 0.01  # chosen, not fixed
    assert model.l2 in (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 1e-1)
    out = capsys.readouterr().out
    assert "HLR v2" in out and "chosen on a time split" in out


def test_concept_indicators_are_stored_and_the_live_weights_are_the_shared_ones():
    HalfLifeModel.objects.create(
        version=1, weights=[1.0, -0.5, 2.0, 0.7], feature_names=[
            "sqrt(1+correct)", "sqrt(1+wrong)", "bias", "concept:x"
        ], samples=10, final_loss=0.1, alpha=0.0, l2=1e-3,
    )  # fmt: skip
    cache.delete(CURRENT_WEIGHTS_CACHE_KEY)
    assert hlr_current_weights().tolist() == [1.0, -0.5, 2.0]


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
