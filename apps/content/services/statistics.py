"""Item statistics from learners' first attempts on each atom's published revision.

Classical item analysis (apps/content/psychometrics.py): facility, corrected point-biserial,
option selection rates and Kelley's distractor index. Atoms outside the editors' thresholds
(ItemAnalysisSettings) get a ``review_flag`` explaining why.
"""

import math
from collections import defaultdict

import numpy as np
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.learning.models import Attempt

from ..models import AtomResponseOption, ItemAnalysisSettings, LearningAtom
from ..psychometrics import ItemResponses, ItemThresholds, flag_reasons, item_analysis


def item_thresholds() -> ItemThresholds:
    settings = ItemAnalysisSettings.objects.first()
    if settings is None:
        return ItemThresholds()
    return ItemThresholds(
        min_responses=settings.min_responses,
        min_facility=settings.min_facility,
        max_facility=settings.max_facility,
        min_discrimination=settings.min_discrimination,
        max_distractor_discrimination=settings.max_distractor_discrimination,
        min_distractor_selection=settings.min_distractor_selection,
    )


def _first_attempts() -> dict[tuple, tuple[bool, int | None]]:
    """(learner, atom) → (correct, selected option) of the first attempt on the live revision."""
    first: dict[tuple, tuple[bool, int | None]] = {}
    rows = (
        Attempt.objects.filter(revision_id=F("atom__published_revision_id"))
        .order_by("answered_at", "created_at")
        .values_list("learner_id", "atom_id", "correct", "selected_options")
        .iterator(chunk_size=5000)
    )
    for learner_id, atom_id, correct, selected in rows:
        key = (learner_id, atom_id)
        if key not in first:
            first[key] = (correct, selected[0] if selected else None)
    return first


def _clean(value: float) -> float | None:
    return None if value is None or math.isnan(value) else round(float(value), 4)


def item_statistics_refresh() -> int:
    """Recompute every published atom's statistics and flags; returns atoms updated."""
    thresholds = item_thresholds()
    first = _first_attempts()
    totals: dict = defaultdict(float)
    by_atom: dict = defaultdict(list)
    for (learner_id, atom_id), (correct, selected) in first.items():
        totals[learner_id] += 1.0 if correct else 0.0
        by_atom[atom_id].append((learner_id, correct, selected))

    atoms = LearningAtom.objects.filter(pk__in=by_atom).select_related("published_revision")
    now = timezone.now()
    updated = 0
    for atom in atoms:
        responses = by_atom[atom.pk]
        options = atom.published_revision.snapshot["options"]
        n_options = max((o["index"] for o in options), default=-1) + 1
        correct_option = next((o["index"] for o in options if o["is_correct"]), None)
        uses_single_choice = atom.atom_type == "mcq" and n_options > 0
        selected = None
        if uses_single_choice:
            responses = [r for r in responses if r[2] is not None and 0 <= r[2] < n_options]
            selected = np.array([s if s is not None else -1 for _, _, s in responses], dtype=int)
        stats = item_analysis(
            ItemResponses(
                correct=np.array([1 if c else 0 for _, c, _ in responses]),
                learner_totals=np.array([totals[learner] for learner, _, _ in responses]),
                selected_option=selected,
                n_options=n_options if uses_single_choice else 0,
                correct_option=correct_option if uses_single_choice else None,
            )
        )
        reasons = flag_reasons(stats, thresholds)
        with transaction.atomic():
            LearningAtom.objects.filter(pk=atom.pk).update(
                stat_responses=stats.n,
                stat_facility=_clean(stats.facility),
                stat_discrimination=_clean(stats.discrimination),
                stat_computed_at=now,
                review_flag="; ".join(reasons),
            )
            for index, rate in enumerate(stats.option_selection_rates):
                AtomResponseOption.objects.filter(atom=atom, option_index=index).update(
                    selection_rate=_clean(rate),
                    selection_count=round(rate * stats.n),
                    discrimination_index=_clean(stats.distractor_discrimination[index]),
                )
        updated += 1
    return updated
