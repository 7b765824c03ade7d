"""Scheduler state initialised from migrated history (backfill/learner_states.py), so a
migrated learner does not start as a beginner."""

from collections import defaultdict

import pytest

from apps.core.models import Origin
from apps.learning.models import Attempt
from apps.legacy_sync.v1.fixture import legacy_fixture_build
from apps.legacy_sync.v1.models import LegacyReviewCard
from apps.scheduler.models import HalfLifeModel, LearnerAtomState, LearnerConceptState
from apps.scheduler.services import DEFAULT_P_KNOWN

from .backfill_helpers import WITHOUT_FLASHCARDS, backfill, dirty_legacy_build

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)


def cold_start_half_life(right: int, seen: int) -> float:
    """The seed's rule while no HLR model is trained."""
    accuracy = right / seen
    return 7.0 if accuracy >= 0.85 else 3.0 if accuracy >= 0.6 else 1.0


def history() -> dict[tuple[str, str], list[tuple[bool, object]]]:
    """{(learner legacy key, bit id): [(correct, answered_at), ...] in answer order}"""
    answers = defaultdict(list)
    for learner, atom, correct, answered in (
        Attempt.objects.filter(origin=Origin.LEGACY)
        .order_by("answered_at")
        .values_list("learner__legacy_key", "atom__legacy_key", "correct", "answered_at")
    ):
        answers[(learner, atom.removeprefix("bit:"))].append((correct, answered))
    return answers


def test_concept_states_are_replayed_from_every_migrated_attempt(tmp_path):
    # given migrated learners with v1 history (database and JSON attempts), no HLR model;
    # few bits, so that learners come back to them and every branch of the rule is hit
    legacy_fixture_build(users=20, sessions=60, attempts=600, bits=10, seed=1, dirty=True,
                         json_dir=tmp_path)  # fmt: skip
    assert not HalfLifeModel.objects.exists()

    backfill(tmp_path, names=WITHOUT_FLASHCARDS)

    answers = history()
    assert len(answers) >= 50
    states = {
        (s.learner.legacy_key, s.concept.legacy_key): s
        for s in LearnerConceptState.objects.select_related("learner", "concept")
    }
    # one concept state per learner and bit practised, and no other
    assert set(states) == set(answers)
    for pair, seen in answers.items():
        state = states[pair]
        right = sum(correct for correct, _ in seen)
        assert (state.attempts, state.correct_attempts) == (len(seen), right), pair
        assert state.half_life_days == cold_start_half_life(right, len(seen)), pair
        assert state.p_known != DEFAULT_P_KNOWN == 0.2, pair
        assert state.last_practised_at == seen[-1][1], pair
        assert state.version == len(seen), pair
    # a learner who got a bit right every time knows it better than one who never did
    always = [states[p].p_known for p, s in answers.items() if all(c for c, _ in s)]
    never = [states[p].p_known for p, s in answers.items() if not any(c for c, _ in s)]
    assert always and never and min(always) > max(never)
    # and the half-lives span the rule's three values
    assert {s.half_life_days for s in states.values()} == {1.0, 3.0, 7.0}


def test_bit_card_states_are_replayed_with_sm2_unless_a_review_card_gave_one(tmp_path):
    dirty_legacy_build(tmp_path)

    backfill(tmp_path, names=WITHOUT_FLASHCARDS)

    answers = history()
    cards = {
        (str(user), str(bit)): (str(pk), repetitions)
        for pk, user, bit, repetitions in LegacyReviewCard.objects.values_list(
            "pk", "user_id", "bit_id", "repetitions"
        )
    }
    states = {
        (s.learner.legacy_key, s.atom.legacy_key.removeprefix("bit:")): s
        for s in LearnerAtomState.objects.select_related("learner", "atom")
    }
    from_cards = replayed = 0
    for pair, seen in answers.items():
        state = states[pair]
        assert state.state["algorithm"] == "sm2", pair
        if state.origin == Origin.LEGACY:  # v1's review card: kept as v1 scheduled it
            assert (state.legacy_key, state.reviews) == cards[pair], pair
            from_cards += 1
            continue
        assert state.reviews == len(seen), pair
        assert state.lapses == sum(not correct for correct, _ in seen), pair
        assert state.last_reviewed_at == seen[-1][1], pair
        if len({at for _, at in seen}) == len(seen):  # answers at one instant: order is moot
            assert state.state["repetitions"] == _sm2_streak(seen), pair
        assert state.due_at > state.last_reviewed_at
        replayed += 1
    assert replayed > 100 and from_cards >= 1
    # every migrated review card is a state, practised or not
    migrated_cards = LearnerAtomState.objects.filter(origin=Origin.LEGACY).count()
    assert migrated_cards == 111  # 120 cards, 9 of quarantined users


def _sm2_streak(seen) -> int:
    """SM-2's repetition count: right answers since the last wrong one."""
    streak = 0
    for correct, _ in seen:
        streak = streak + 1 if correct else 0
    return streak


@pytest.mark.postgresql  # the one ordered scan is PostgreSQL's path; elsewhere pages read by id
def test_pages_carry_each_learners_history_from_one_ordered_scan(tmp_path):
    """The stage streams the attempts table once, in learner order, and hands each page its
    learners' histories: the same as reading each learner's history on its own, including
    learners without attempts, across page boundaries and key ranges, skipping v2's own
    learners (not in the stage, but in the scan)."""
    from apps.accounts.models import User
    from apps.legacy_sync.backfill.learner_states import LearnerStates, attempt_history

    dirty_legacy_build(tmp_path)
    backfill(tmp_path, names=[n for n in WITHOUT_FLASHCARDS if n != "learner_states"])
    ids = sorted(
        str(pk) for pk in User.objects.filter(origin=Origin.LEGACY).values_list("pk", flat=True)
    )
    practised = set(Attempt.objects.values_list("learner_id", flat=True).distinct())
    v2_learner = next(pk for pk in ids[3:] if pk in {str(p) for p in practised})
    User.objects.filter(pk=v2_learner).update(origin=Origin.V2)
    ids.remove(v2_learner)
    assert any(pk not in {str(p) for p in practised} for pk in ids)  # some never practised

    for after, until in (("", None), (ids[2], ids[9])):
        pages = list(LearnerStates().pages(after=after, until=until, size=3))
        expected = [pk for pk in ids if pk > after and (until is None or pk <= until)]
        assert [row["id"] for page in pages for row in page] == expected
        assert len(pages) > 2
        for page in pages:
            for row in page:
                assert row["history"] == attempt_history([row["id"]]), row["id"]
