"""IRT item calibration from attempts (run by the ``scheduler.irt_calibrate_course`` task).

The MML calibration needs a complete response matrix, so this takes learners' first attempts
on a course's live atoms, keeps the atoms answered by at least ``MIN_RESPONSES`` learners, and
then the learners who answered every one of those atoms. Adaptive practice rarely produces a
full block; mock tests and placement sessions do. Atoms outside the block keep their a, b, c.
"""

import logging
from collections import defaultdict

import numpy as np
from django.db import transaction

from apps.content.models import LearningAtom
from apps.learning.models import Attempt

from .algorithms.irt import calibrate

logger = logging.getLogger(__name__)
MIN_RESPONSES = 50
MIN_LEARNERS = 50


def course_response_block(course, min_responses: int = MIN_RESPONSES):
    """(atom ids, learners × atoms 0/1 matrix) of the complete block, or None if too small."""
    first: dict = {}
    rows = (
        Attempt.objects.filter(atom__live_concepts__course=course, archived_in__isnull=True)
        .order_by("answered_at")
        .values_list("learner_id", "atom_id", "correct")
    )
    for learner_id, atom_id, correct in rows.iterator(chunk_size=10_000):
        first.setdefault((learner_id, atom_id), correct)
    by_atom: dict = defaultdict(dict)
    for (learner_id, atom_id), correct in first.items():
        by_atom[atom_id][learner_id] = correct
    atoms = sorted(a for a, answers in by_atom.items() if len(answers) >= min_responses)
    if len(atoms) < 2:
        return None
    learners = set.intersection(*(set(by_atom[a]) for a in atoms))
    if len(learners) < MIN_LEARNERS:
        return None
    ordered = sorted(learners)
    matrix = np.array([[1 if by_atom[a][lr] else 0 for a in atoms] for lr in ordered])
    varied = [j for j in range(len(atoms)) if 0 < matrix[:, j].sum() < len(ordered)]
    if len(varied) < 2:
        return None
    return [atoms[j] for j in varied], matrix[:, varied]


def course_items_calibrate(course, model: str = "2pl") -> int:
    """Calibrate the course's complete block and store a, b, c; returns atoms updated."""
    block = course_response_block(course)
    if block is None:
        logger.info("IRT calibration of %s skipped: no complete response block yet", course)
        return 0
    atom_ids, matrix = block
    result = calibrate(matrix, None, model)
    with transaction.atomic():
        for atom_id, a, b, c in zip(atom_ids, result.a, result.b, result.c, strict=True):
            LearningAtom.objects.filter(pk=atom_id).update(
                irt_a=float(np.clip(a, 0.05, 10.0)),
                irt_b=float(np.clip(b, -6.0, 6.0)),
                irt_c=float(np.clip(c, 0.0, 0.5)),
            )
    return len(atom_ids)
