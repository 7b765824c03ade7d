"""Item statistics on a hand-computed example (the Kelley example in test_psychometrics.py)."""

import numpy as np
import pytest

from apps.content.models import ItemAnalysisSettings
from apps.content.services.statistics import item_statistics_refresh
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, MisconceptionFactory
from tests.learning.factories import AttemptFactory

pytestmark = pytest.mark.django_db

# Ten learners. Option 1 is correct. Totals include this item.
CHOICES = [1, 2, 0, 3, 2, 1, 1, 0, 1, 1]
TOTALS = [12, 3, 9, 7, 15, 5, 10, 2, 8, 14]


@pytest.fixture
def analysed_mcq():
    concept = ConceptFactory()
    mcq = make_atom(
        "mcq",
        concept=concept,
        options=[
            {"text": "A", "misconception": MisconceptionFactory(concept=concept)},
            {"text": "B", "is_correct": True},
            {"text": "C", "misconception": MisconceptionFactory(concept=concept)},
            {"text": "D", "misconception": MisconceptionFactory(concept=concept)},
        ],
    )
    fillers = [make_atom("flashcard", concept=concept, title=f"F{i}") for i in range(15)]
    for choice, total in zip(CHOICES, TOTALS, strict=True):
        learner = UserFactory()
        item_correct = choice == 1
        AttemptFactory(atom=mcq, learner=learner, correct=item_correct, selected_options=[choice])
        for i, filler in enumerate(fillers):
            AttemptFactory(atom=filler, learner=learner, correct=i < total - item_correct)
    ItemAnalysisSettings.objects.create(min_responses=5)
    return mcq


def test_facility_discrimination_and_option_statistics(analysed_mcq):
    item_statistics_refresh()
    analysed_mcq.refresh_from_db()

    x = np.array([1 if c == 1 else 0 for c in CHOICES])
    rest = np.array(TOTALS) - x
    assert analysed_mcq.stat_responses == 10
    assert analysed_mcq.stat_facility == pytest.approx(0.5)
    assert analysed_mcq.stat_discrimination == pytest.approx(np.corrcoef(x, rest)[0, 1], abs=1e-4)
    options = list(analysed_mcq.options.order_by("option_index"))
    assert [o.selection_rate for o in options] == pytest.approx([0.2, 0.5, 0.2, 0.1])
    assert [o.selection_count for o in options] == [2, 5, 2, 1]
    # Lower group (totals 2, 3, 5) chose 0, 2, 1; upper group (12, 14, 15) chose 1, 1, 2.
    assert [o.discrimination_index for o in options] == pytest.approx(
        [-1 / 3, 1 / 3, 0, 0], abs=1e-4
    )


def test_atoms_outside_thresholds_are_flagged_with_the_reason(analysed_mcq):
    ItemAnalysisSettings.objects.update(min_facility=0.6)

    item_statistics_refresh()
    analysed_mcq.refresh_from_db()

    assert "Too hard" in analysed_mcq.review_flag
    assert "0.50" in analysed_mcq.review_flag


def test_attempts_on_unpublished_revisions_are_ignored(analysed_mcq):
    from apps.content.services import atom_update

    atom_update(atom=analysed_mcq, by=None, content={"prompt": "Reworded"})
    newer = analysed_mcq.revisions.order_by("-number").first()
    AttemptFactory(atom=analysed_mcq, revision=newer, correct=False, selected_options=[0])

    item_statistics_refresh()
    analysed_mcq.refresh_from_db()

    assert analysed_mcq.stat_responses == 10  # the draft revision's attempt is not counted
