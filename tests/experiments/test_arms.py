"""Arm specs and the deterministic split (pure)."""

import uuid

import pytest

from apps.experiments.arms import ArmSpecError, arm_index_for_learner, arm_spec_parse


def test_the_same_learner_always_gets_the_same_arm_and_experiments_split_independently():
    experiment, other = uuid.uuid4(), uuid.uuid4()
    learners = [uuid.uuid4() for _ in range(200)]
    first = [arm_index_for_learner(experiment, x, [1, 1]) for x in learners]
    assert first == [arm_index_for_learner(experiment, x, [1, 1]) for x in learners]
    # another experiment puts the same learners elsewhere (not all in the same arms)
    assert first != [arm_index_for_learner(other, x, [1, 1]) for x in learners]


@pytest.mark.parametrize("weights", [[1, 1], [1, 3], [2, 1, 1]])
def test_the_split_is_honoured_on_2000_learners(weights):
    experiment = uuid.UUID(int=21)
    learners = [uuid.UUID(int=n) for n in range(1, 2001)]
    counts = [0] * len(weights)
    for learner in learners:
        counts[arm_index_for_learner(experiment, learner, weights)] += 1
    for count, weight in zip(counts, weights, strict=True):
        expected = 2000 * weight / sum(weights)
        # within 4 standard deviations of a binomial draw
        share = weight / sum(weights)
        assert abs(count - expected) < 4 * (2000 * share * (1 - share)) ** 0.5, counts


def test_arm_specs_parse_and_bad_ones_say_why():
    spec = arm_spec_parse("fsrs:desired_retention=0.85,maximum_interval_days=180")
    assert spec.algorithm == "fsrs"
    assert spec.parameters == {"desired_retention": 0.85, "maximum_interval_days": 180}
    assert arm_spec_parse("SM2").parameters == {}
    for text, message in [
        ("anki", "unknown algorithm"),
        ("fsrs:retention=0.9", "unknown parameter 'retention'"),
        ("fsrs:desired_retention=1.5", "outside"),
        ("fsrs:desired_retention", "not name=value"),
        ("sm2:maximum_interval_days=2.5", "expected int"),
    ]:
        with pytest.raises(ArmSpecError, match=message):
            arm_spec_parse(text)
