"""BKT parameters learnt per concept from the platform's attempts, and the lookup that every
P(known) update reads them through.

Fitting (``bkt_fit --course``, the nightly ``scheduler.bkt_fit_all`` task): a course's
answers are cut into sequences, one per learner and concept, in answer order (every live
attempt on an atom weighted to the concept, ``AtomConceptWeight``, counts as one opportunity:
BKT's observations are 0/1, so the weight does not enter). EM (``bkt_fit_em``) fits first the
**pooled** parameters on all the course's sequences together, stored with ``concept=None``,
then each concept with at least ``BKT_MIN_ATTEMPTS`` answers, starting from the pooled
estimate. Guess and slip stay below 0.5 (identifiability; see ``algorithms/bkt.py``). Each
fit is a new ``FittedModel`` version, in use only when fitted on at least ``BKT_MIN_ATTEMPTS``
answers; a fit on exactly the data of the latest version is not recorded again, so a rerun
(or a redelivered task) changes nothing.

Lookup (``bkt_parameters_for_concepts``): a concept's newest parameters in use, else its
course's pooled prior in use, else ``DEFAULT_BKT``. Per request: one query for the concepts'
courses and one cache read for all of them (a course's table is cached for
``BKT_CACHE_SECONDS`` and dropped when a fit is recorded), never a query per attempt.
"""

import hashlib
import logging
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache
from django.db import transaction

from apps.core.process_memo import MISSING, memo_forget, memo_peek, memo_put

from .algorithms.bkt import (
    BKTFit,
    BKTParams,
    bkt_fit_skills,
    bkt_params_as_dict,
    bkt_params_from_dict,
)
from .fitted import fitted_model_record
from .models import FittedKind, FittedModel

logger = logging.getLogger(__name__)

# Priors until a course's BKT parameters are fitted.
DEFAULT_BKT = BKTParams(p_init=0.2, p_transit=0.15, p_guess=0.2, p_slip=0.1)
# Answers (attempts) a fit needs before it replaces the pooled prior or the defaults. With 500
# answers in sequences of ~10, EM's guess and slip have standard errors of about 0.02–0.03.
BKT_MIN_ATTEMPTS = 500
# A learner's first answers on a concept carry the learning; the padded EM matrix is
# learners × longest sequence, so a few very long sequences would blow it up. Keep the first.
BKT_MAX_SEQUENCE = 500
BKT_CACHE_SECONDS = 300
POOLED = ""  # the pooled prior's key in a course's cached table


# --- the lookup ------------------------------------------------------------------------------


def _cache_key(course_id) -> str:
    return f"scheduler:bkt-parameters:{course_id}"


def bkt_parameters_cache_clear(course_id) -> None:
    """Forget a course's cached parameters (now, and again when the transaction commits, so
    a reader in between cannot put the old table back for long)."""
    key = _cache_key(course_id)
    cache.delete(key)
    memo_forget(key)
    transaction.on_commit(lambda: (cache.delete(key), memo_forget(key)))


MEMO_S = 30  # another process's new fit is used within this (apps/core/process_memo.py)


def _course_tables(course_ids: set) -> dict:
    """{course id: {concept id text or POOLED: (prior, learn, guess, slip)}} of the newest
    versions in use; kept in the process, then in the cache, per course; one query for the
    courses in neither."""
    tables = {}
    for course_id in course_ids:
        if (kept := memo_peek(_cache_key(course_id))) is not MISSING:
            tables[course_id] = kept
    if missing := course_ids - tables.keys():
        shared = _course_tables_shared(missing)
        for course_id, table in shared.items():
            memo_put(_cache_key(course_id), table, MEMO_S)
        tables |= shared
    return tables


def _course_tables_shared(course_ids: set) -> dict:
    keys = {course_id: _cache_key(course_id) for course_id in course_ids}
    cached = cache.get_many(list(keys.values()))
    tables = {c: cached[k] for c, k in keys.items() if k in cached}
    missing = course_ids - tables.keys()
    if missing:
        fresh: dict = {course_id: {} for course_id in missing}
        rows = (
            FittedModel.objects.filter(kind=FittedKind.BKT, in_use=True, course_id__in=missing)
            .order_by("course_id", "concept_id", "-version")
            .values_list("course_id", "concept_id", "parameters")
        )
        for course_id, concept_id, stored in rows:
            key = POOLED if concept_id is None else str(concept_id)
            table = fresh[course_id]
            if key in table:
                continue  # an older version
            try:
                params = bkt_params_from_dict(stored)
            except ValueError:
                logger.warning("BKT parameters of course %s ignored: %r", course_id, stored)
                continue
            table[key] = (params.p_init, params.p_transit, params.p_guess, params.p_slip)
        cache.set_many({keys[c]: t for c, t in fresh.items()}, timeout=BKT_CACHE_SECONDS)
        tables |= fresh
    return tables


def bkt_parameters_for_concepts(concept_ids, course_of=None) -> dict[str, BKTParams]:
    """{concept id text: the BKT parameters its P(known) updates use}, for every concept given
    (unknown ids get the defaults): the concept's own fit in use, else its course's pooled prior
    in use, else ``DEFAULT_BKT``. ``course_of`` ({concept id text: course id}) spares the
    query of the concepts' courses when it covers them all."""
    from apps.curriculum.models import Concept

    wanted = {str(c) for c in concept_ids}
    if not wanted:
        return {}
    if course_of is None or not wanted <= course_of.keys():
        course_of = {
            str(pk): course_id
            for pk, course_id in Concept.objects.filter(pk__in=wanted).values_list(
                "pk", "course_id"
            )
        }
    tables = _course_tables(set(course_of.values()))
    found = {}
    for concept_id in wanted:
        table = tables.get(course_of.get(concept_id), {})
        values = table.get(concept_id) or table.get(POOLED)
        found[concept_id] = BKTParams(*values) if values else DEFAULT_BKT
    return found


def bkt_priors_for_course(course_id) -> tuple[dict[str, float], float]:
    """({concept id text: fitted prior}, the prior of every other concept: the course's pooled
    prior in use, else the default), for learners who have not practised a concept yet. One
    cache read (one query when the course's table is not cached)."""
    table = _course_tables({course_id})[course_id]
    pooled = table.get(POOLED)
    fallback = pooled[0] if pooled else DEFAULT_BKT.p_init
    return {k: v[0] for k, v in table.items() if k != POOLED}, fallback


# --- fitting from attempts -------------------------------------------------------------------


def course_concept_sequences(course) -> dict[str, list[np.ndarray]]:
    """{concept id text: [one 0/1 array per learner, in answer order]} of the course's live
    attempts on atoms weighted to each concept (at most ``BKT_MAX_SEQUENCE`` per learner)."""
    from apps.learning.models import Attempt

    rows = (
        Attempt.objects.filter(
            archived_in__isnull=True, atom__concept_weights__concept__course=course
        )
        .order_by("atom__concept_weights__concept_id", "learner_id", "answered_at", "created_at")
        .values_list("atom__concept_weights__concept_id", "learner_id", "correct")
    )
    sequences: dict[str, list[np.ndarray]] = {}
    current_key, answers = None, []

    def close() -> None:
        if answers:
            concept = str(current_key[0])
            sequences.setdefault(concept, []).append(
                np.array(answers[:BKT_MAX_SEQUENCE], dtype=np.int8)
            )

    for concept_id, learner_id, correct in rows.iterator(chunk_size=10_000):
        if (concept_id, learner_id) != current_key:
            close()
            current_key, answers = (concept_id, learner_id), []
        answers.append(1 if correct else 0)
    close()
    return sequences


def _digest(sequences: list[np.ndarray]) -> str:
    """Identifies the data a fit was made on (sequences are in a fixed order)."""
    digest = hashlib.sha256()
    for sequence in sequences:
        digest.update(np.asarray(sequence, dtype=np.int8).tobytes())
        digest.update(b"|")
    return digest.hexdigest()


@dataclass
class BKTFitOutcome:
    """One fit of a course's BKT: what was fitted on how much, and what was recorded."""

    concept_id: str | None  # None: the pooled prior
    params: BKTParams | None  # None: too few answers, not fitted (the pooled prior applies)
    attempts: int
    learners: int
    version: int | None = None
    in_use: bool = False
    recorded: bool = False  # False: not fitted, or the same data as the latest version


@dataclass
class CourseBKTFit:
    pooled: BKTFitOutcome | None
    concepts: list[BKTFitOutcome] = field(default_factory=list)


def _metrics(fit: BKTFit, attempts: int, learners: int, digest: str, start: str) -> dict:
    return {
        "log_likelihood": fit.log_likelihood,
        "log_loss": -fit.log_likelihood / attempts,
        "learners": learners,
        "iterations": fit.iterations,
        "converged": fit.converged,
        "started_from": start,
        "data_digest": digest,
    }


def _record(*, course, concept, fit: BKTFit, attempts, learners, digest, start):
    """Record the fit unless the latest version was fitted on the same data."""
    latest = (
        FittedModel.objects.filter(kind=FittedKind.BKT, course=course, concept=concept)
        .order_by("-version")
        .first()
    )
    key = None if concept is None else str(concept.pk)
    outcome = BKTFitOutcome(key, fit.params, attempts, learners)
    if latest is not None and latest.metrics.get("data_digest") == digest:
        outcome.version, outcome.in_use = latest.version, latest.in_use
        return outcome
    row = fitted_model_record(
        kind=FittedKind.BKT,
        course=course,
        concept=concept,
        parameters=bkt_params_as_dict(fit.params),
        samples=attempts,
        minimum_samples=BKT_MIN_ATTEMPTS,
        metrics=_metrics(fit, attempts, learners, digest, start),
    )
    outcome.version, outcome.in_use, outcome.recorded = row.version, row.in_use, True
    return outcome


def course_bkt_fit(*, course) -> CourseBKTFit:
    """Fit and record the course's pooled BKT prior and each concept with at least
    ``BKT_MIN_ATTEMPTS`` answers (see the module docstring). Idempotent on unchanged data."""
    from apps.curriculum.models import Concept

    sequences = course_concept_sequences(course)
    fitted = bkt_fit_skills(sequences, minimum_answers=BKT_MIN_ATTEMPTS)
    if fitted.pooled is None:
        return CourseBKTFit(pooled=None)
    concepts = {str(concept.pk): concept for concept in Concept.objects.filter(course=course)}
    with transaction.atomic():
        everything = [s for key in sorted(sequences) for s in sequences[key]]
        pooled = _record(
            course=course,
            concept=None,
            fit=fitted.pooled,
            attempts=sum(fitted.answers.values()),
            learners=sum(fitted.learners.values()),
            digest=_digest(everything),
            start="default",
        )
        outcomes = []
        for key in sorted(sequences):
            attempts, learners = fitted.answers[key], fitted.learners[key]
            if key not in fitted.skills:
                outcomes.append(BKTFitOutcome(key, None, attempts, learners))
                continue
            outcomes.append(
                _record(
                    course=course,
                    concept=concepts[key],
                    fit=fitted.skills[key],
                    attempts=attempts,
                    learners=learners,
                    digest=_digest(sequences[key]),
                    start="pooled",
                )
            )
        bkt_parameters_cache_clear(course.pk)
    return CourseBKTFit(pooled=pooled, concepts=outcomes)
