"""IRT item calibration from attempts (run by the ``scheduler.irt_calibrate_course`` task).

Everyday adaptive practice: each learner answers a few of a course's atoms, so the
learners × atoms matrix is mostly empty. The calibration is marginal maximum likelihood with the
unanswered cells skipped (``calibrate(..., mask=...)``), on each learner's *first* attempt at each
atom (later attempts follow feedback and would break local independence).

* An atom needs ``MIN_RESPONSES`` first attempts, with both right and wrong answers, before its
  estimates replace its current parameters; atoms below it are left out of the fit and keep
  theirs (the defaults, the author's values, or an earlier calibration's). So does an atom whose
  fit is unusable (a slope at its bound or not positive, or no finite standard error).
* Every calibration fixes θ ~ N(0, 1) in the learners it was fitted on, a scale that moves as
  the population changes. Stored abilities (``LearnerConceptState.theta``) were estimated on
  the previous scale, so each new calibration is linked to it by mean/sigma on the anchor atoms
  (calibrated both times): θ_previous = A·θ_new + B, items a/A and A·b + B. The first
  calibration of a course defines its scale.
* Each calibration is recorded as a version of the course's ``FittedModel`` of kind ``irt``
  (linking constants, every calibrated atom's a, b, c, standard errors and number of
  responses); the next calibration's anchors come from the newest version. The atoms' own
  ``irt_a``, ``irt_b``, ``irt_c`` stay what the scheduler reads at runtime.
"""

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.db import transaction

from apps.content.models import LearningAtom
from apps.core.cache_versions import cache_version_bump
from apps.learning.models import Attempt

from .algorithms.irt import (
    MAX_ABS_A,
    Calibration,
    Link,
    calibrate,
    calibration_on_scale,
    link_mean_sigma,
)
from .candidates import VERSION as CANDIDATES_VERSION
from .fitted import fitted_model_in_use, fitted_model_record
from .models import FittedKind, FittedModel

logger = logging.getLogger(__name__)
MIN_RESPONSES = 50  # first attempts an atom needs before its estimates replace its parameters
# The storage bounds of LearningAtom's a, b, c (its check constraints allow a > 0, |b| ≤ 6).
A_BOUNDS, B_BOUNDS, C_BOUNDS = (0.05, 10.0), (-6.0, 6.0), (0.0, 0.5)


@dataclass(frozen=True)
class CourseResponses:
    """First attempts as a learners × atoms matrix; ``observed`` False where never answered."""

    atom_ids: list
    learner_ids: list
    correct: np.ndarray  # (N, J) 0/1, 0 where not observed
    observed: np.ndarray  # (N, J) bool
    below_minimum: list  # atoms answered, but not often enough (or never right, or never wrong)


def course_responses(course, min_responses: int = MIN_RESPONSES) -> CourseResponses:
    """Each learner's first attempt at each of the course's atoms, for the atoms with at least
    ``min_responses`` first attempts including both right and wrong answers."""
    first: dict = {}
    rows = (
        Attempt.objects.filter(atom__live_concepts__course=course, archived_in__isnull=True)
        .order_by("answered_at", "pk")
        .values_list("learner_id", "atom_id", "correct")
    )
    for learner_id, atom_id, correct in rows.iterator(chunk_size=10_000):
        first.setdefault((learner_id, atom_id), correct)
    by_atom: dict = defaultdict(dict)
    for (learner_id, atom_id), correct in first.items():
        by_atom[atom_id][learner_id] = correct
    atoms, below = [], []
    for atom_id in sorted(by_atom):
        answers = by_atom[atom_id].values()
        right = sum(1 for correct in answers if correct)
        enough = len(answers) >= min_responses and 0 < right < len(answers)
        (atoms if enough else below).append(atom_id)
    learners = sorted({lr for atom_id in atoms for lr in by_atom[atom_id]})
    row_of = {lr: i for i, lr in enumerate(learners)}
    correct = np.zeros((len(learners), len(atoms)))
    observed = np.zeros((len(learners), len(atoms)), dtype=bool)
    for j, atom_id in enumerate(atoms):
        for learner_id, answer in by_atom[atom_id].items():
            correct[row_of[learner_id], j] = 1.0 if answer else 0.0
            observed[row_of[learner_id], j] = True
    return CourseResponses(atoms, learners, correct, observed, below)


def _usable(cal: Calibration) -> np.ndarray:
    """Items whose estimates may replace their parameters: a proper slope and finite SEs."""
    ok = (cal.a > 0) & (np.abs(cal.a) < 0.999 * MAX_ABS_A) & np.isfinite(cal.se_b)
    if cal.model != "rasch":
        ok &= np.isfinite(cal.se_a)
    return ok


def link_to_previous(
    b_new: np.ndarray, atom_ids: list, previous: dict | None, *, model: str = "2pl"
) -> Link:
    """Mean/sigma linking of a new (unlinked) calibration, difficulties ``b_new`` of
    ``atom_ids``, to the scale of the ``previous`` calibration (``FittedModel.parameters``), on
    the atoms calibrated in both. Anchors at a bound of b (clipped when stored) are left out.
    No previous calibration: the identity."""
    if not previous:
        return Link()
    before = previous.get("items", {})
    anchors = [
        j
        for j, atom_id in enumerate(atom_ids)
        if str(atom_id) in before
        and abs(before[str(atom_id)]["b"]) < B_BOUNDS[1]
        and abs(b_new[j]) < B_BOUNDS[1]
    ]
    b_before = [before[str(atom_ids[j])]["b"] for j in anchors]
    return link_mean_sigma(b_before, b_new[anchors], fixed_slope=model == "rasch")


def _responses_digest(data: CourseResponses, model: str) -> str:
    """What the calibration is fitted on, in a few bytes: the same digest, the same result."""
    digest = hashlib.sha256(model.encode())
    for ids in (data.atom_ids, data.learner_ids):
        digest.update("|".join(map(str, ids)).encode())
    digest.update(np.packbits(data.correct.astype(bool)).tobytes())
    digest.update(np.packbits(data.observed).tobytes())
    return digest.hexdigest()


def _number(value: float) -> float | None:
    return None if not np.isfinite(value) else round(float(value), 6)


def course_items_calibrate(
    course, model: str = "2pl", min_responses: int = MIN_RESPONSES, *, force: bool = False
) -> int:
    """Calibrate the course's atoms from sparse first attempts, link the result to the previous
    calibration's scale, store a, b, c on the atoms with enough responses and record the
    calibration; returns the number of atoms updated (0: nothing calibrated, or the same first
    attempts as the last calibration, unless ``force``)."""
    data = course_responses(course, min_responses)
    if len(data.atom_ids) < 2:
        logger.info(
            "IRT calibration of %s skipped: %d atom(s) with %d+ first attempts",
            course,
            len(data.atom_ids),
            min_responses,
        )
        return 0
    digest = _responses_digest(data, model)
    latest = FittedModel.objects.filter(kind=FittedKind.IRT, course=course).order_by("-version")
    latest = latest.values_list("metrics", flat=True).first()
    if latest and latest.get("data_digest") == digest and not force:
        logger.info("IRT calibration of %s skipped: no new first attempts since the last", course)
        return 0  # the same data would give the same estimates (a redelivery, a quiet night)
    unlinked = calibrate(data.correct, None, model, mask=data.observed)
    usable = _usable(unlinked)
    if not usable.any():
        logger.warning("IRT calibration of %s: no atom's estimates are usable", course)
        return 0
    kept = np.flatnonzero(usable)
    atom_ids = [data.atom_ids[j] for j in kept]
    previous = fitted_model_in_use(kind=FittedKind.IRT, course=course)
    before = previous.parameters if previous else None
    link = link_to_previous(unlinked.b[kept], atom_ids, before, model=model)
    if previous is not None and link.method == "none":
        logger.warning("IRT calibration of %s: no anchor atoms, the scale is not linked", course)
    cal = calibration_on_scale(unlinked, link)
    items = {}
    with transaction.atomic():
        cache_version_bump(CANDIDATES_VERSION)  # next items keeps the atoms' a, b, c
        for j, atom_id in zip(kept, atom_ids, strict=True):
            a = float(np.clip(cal.a[j], *A_BOUNDS))
            b = float(np.clip(cal.b[j], *B_BOUNDS))
            c = float(np.clip(cal.c[j], *C_BOUNDS))
            LearningAtom.objects.filter(pk=atom_id).update(irt_a=a, irt_b=b, irt_c=c)
            items[str(atom_id)] = {
                "a": round(a, 6),
                "b": round(b, 6),
                "c": round(c, 6),
                "se_a": _number(cal.se_a[j]),
                "se_b": _number(cal.se_b[j]),
                "n": int(cal.n_responses[j]),
            }
        responses = int(data.observed.sum())
        fitted_model_record(
            kind=FittedKind.IRT,
            course=course,
            parameters={
                "model": model,
                "link": {"A": link.A, "B": link.B, "method": link.method, "anchors": link.anchors},
                "items": items,
            },
            samples=responses,
            minimum_samples=min_responses,
            metrics={
                "log_likelihood": _number(unlinked.log_likelihood),
                "iterations": unlinked.iterations,
                "converged": unlinked.converged,
                "learners": len(data.learner_ids),
                "atoms_calibrated": len(items),
                "atoms_unusable": [str(data.atom_ids[j]) for j in np.flatnonzero(~usable)],
                "atoms_below_minimum": len(data.below_minimum),
                "missing_share": _number(1.0 - data.observed.mean()),
                "data_digest": digest,
            },
        )
    return len(items)
