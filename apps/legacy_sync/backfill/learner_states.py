"""Scheduler state initialised from migrated history, so migrated learners never start as
beginners. Runs after the attempts are in, one page of learners at a time.

For every learner-atom pair with attempts, the attempts are replayed through the course's
algorithm (SM-2 for migrated courses) into a LearnerAtomState; for every learner-concept pair
BKT's P(known) and the ability estimate are replayed, and the half-life is set: by the newest
trained HLR model when there is one, else by the seed's cold-start rule (accuracy ≥ 0.85 → 7
days, ≥ 0.60 → 3, else 1). Pairs that already have a state (a v1 review card, or v2 practice)
keep it. Vectorised numpy would be faster; replaying through the scheduler's own functions
guarantees the states are exactly what live reviews would have produced.
"""

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np
from django.db import connection, transaction

from apps.accounts.models import User
from apps.content.models import AtomConceptWeight, LearningAtom
from apps.core.models import Origin
from apps.learning.models import Attempt
from apps.learning.services.locks import learners_write_lock
from apps.learning.services.rollups import learner_rollups_rebuild
from apps.scheduler.algorithms.hlr import (
    hlr_cold_start_interval_days,
    hlr_features,
    hlr_half_life,
)
from apps.scheduler.bkt_fitting import bkt_parameters_for_concepts
from apps.scheduler.hlr_training import hlr_current_weights
from apps.scheduler.models import LearnerAtomState, LearnerConceptState
from apps.scheduler.services import (
    SchedulingPolicy,
    concept_state_observe,
    review_states_replay,
)

from .entity import BatchOutcome, Entity
from .keys import legacy_uuid
from .writer import rows_insert

UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LEARNERS_PER_PAGE = 250
CONCEPT_STATE_FIELDS = (
    "learner_id", "concept_id", "p_known", "theta", "theta_se", "attempts", "correct_attempts",
    "half_life_days", "last_practised_at", "version",
)  # fmt: skip


class ConceptTally:
    """The fields of a new LearnerConceptState, without a model instance per pair (the
    backfill makes millions of them; concept_state_observe needs only the attributes)."""

    __slots__ = CONCEPT_STATE_FIELDS

    def __init__(self, learner_id, concept_id, p_known: float):
        self.learner_id, self.concept_id, self.p_known = learner_id, concept_id, p_known
        self.theta, self.theta_se, self.attempts, self.correct_attempts = 0.0, 1.0, 0, 0
        self.half_life_days, self.last_practised_at, self.version = None, None, 0


def half_life_days(right: int, seen: int, weights) -> float:
    if weights is None:
        return float(hlr_cold_start_interval_days(right / seen))
    return float(hlr_half_life(hlr_features([right], [seen - right]), np.asarray(weights))[0])


class LearnerStates(Entity):
    """Not a v1 table: a stage keyed by the migrated learners' ids."""

    name = "learner_states"
    bulk_models = (LearnerAtomState, LearnerConceptState)
    key_is_text = True
    depends_on = ("attempts", "json_attempts", "review_cards")

    def __init__(self, *, rollups: bool = True):
        self._atoms: dict = {}
        self._bkt: dict = {}  # concept id text → the BKT parameters live updates would use
        self._rollups = rollups  # rebuild the learners' rollups (False: the caller added them)

    def legacy_count(self) -> int:
        return User.objects.filter(origin=Origin.LEGACY).count()

    def migrated_count(self) -> int:
        return (
            LearnerConceptState.objects.filter(learner__origin=Origin.LEGACY)
            .values("learner")
            .distinct()
            .count()
        )

    def pages(self, *, after: str, until: str | None, size: int):
        """Pages of learners, each with its history (``attempts_histories``). A page holds its
        learners' whole history in memory: keep it small whatever the batch size, so memory
        stays flat."""
        size = min(size, LEARNERS_PER_PAGE)
        learners = User.objects.filter(origin=Origin.LEGACY).order_by("pk")
        if until is not None:
            learners = learners.filter(pk__lte=until)
        streamed = connection.vendor == "postgresql"
        histories = attempts_histories(after=after, until=until) if streamed else iter(())
        pending = next(histories, None)
        while True:
            page = learners.filter(pk__gt=after) if after else learners
            ids = [str(pk) for pk in page.values_list("pk", flat=True)[:size]]
            if not ids:
                return
            if not streamed:  # migrate reads each page's history
                yield [{"id": pk} for pk in ids]
                after = ids[-1]
                continue
            rows = []
            for pk in ids:  # both in uuid order; skip the histories of v2's own learners
                while pending is not None and pending[0] < pk:
                    pending = next(histories, None)
                if pending is not None and pending[0] == pk:
                    rows.append({"id": pk, "history": pending[1]})
                    pending = next(histories, None)
                else:
                    rows.append({"id": pk, "history": []})
            yield rows
            after = ids[-1]

    def key_ranges(self, parts: int) -> list[tuple[str, str | None]]:
        """Learner id ranges of about equal size (the learners table is small enough to
        read its ids)."""
        ids = [str(pk) for pk in User.objects.filter(origin=Origin.LEGACY).order_by("pk")
               .values_list("pk", flat=True)]  # fmt: skip
        if parts <= 1 or len(ids) < parts:
            return [("", None)]
        bounds = [ids[len(ids) * i // parts - 1] for i in range(1, parts)]
        return list(zip(["", *bounds], [*bounds, None], strict=True))

    def _atoms_load(self, atom_ids) -> None:
        """Cache (concept ids, IRT a, b, c, scheduling policy) for atoms not seen yet, keyed
        by id text like the history; the policy is the course of the atom's first live
        concept, as for live reviews."""
        missing = set(atom_ids) - self._atoms.keys()
        if not missing:
            return
        concepts = defaultdict(list)
        for atom_id, concept_id in AtomConceptWeight.objects.filter(atom__in=missing).values_list(
            "atom_id", "concept_id"
        ):
            concepts[str(atom_id)].append(str(concept_id))
        policies = {}
        for atom_id, *course in (
            LearningAtom.live_concepts.through.objects.filter(learningatom_id__in=missing)
            .order_by("concept_id")
            .values_list(
                "learningatom_id",
                "concept__course__default_algorithm",
                "concept__course__desired_retention",
                "concept__course__maximum_interval_days",
            )
        ):
            policies.setdefault(str(atom_id), SchedulingPolicy(*course))
        for atom_id, a, b, c in LearningAtom.objects.filter(pk__in=missing).values_list(
            "pk", "irt_a", "irt_b", "irt_c"
        ):
            key = str(atom_id)
            self._atoms[key] = (concepts[key], a, b, c, policies.get(key, SchedulingPolicy()))
        # The same lookup as live updates (fitted per concept, else the course's pooled
        # prior, else the defaults), once per concept the stage meets.
        new_concepts = {c for key in missing for c in concepts[key]} - self._bkt.keys()
        self._bkt |= bkt_parameters_for_concepts(new_concepts)

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        learner_ids = [r["id"] for r in rows]
        atom_taken = {
            (str(learner), str(atom))
            for learner, atom in LearnerAtomState.objects.filter(
                learner__in=learner_ids, archived_in__isnull=True
            ).values_list("learner_id", "atom_id")
        }
        concept_taken = {
            (str(learner), str(concept))
            for learner, concept in LearnerConceptState.objects.filter(
                learner__in=learner_ids, archived_in__isnull=True
            ).values_list("learner_id", "concept_id")
        }
        if all("history" in row for row in rows):
            history = [attempt for row in rows for attempt in row["history"]]
        else:  # learners named by a caller (learner_states_catch_up), not by pages
            history = attempt_history(learner_ids)
        self._atoms_load({atom_id for _, atom_id, *_ in history})
        reviews: dict = defaultdict(list)  # (learner, atom) → [(quality, answered_at)]
        concept_states: dict = {}
        for learner, atom_id, correct, quality, answered in history:
            concepts, a, b, c, _ = self._atoms[atom_id]
            if (learner, atom_id) not in atom_taken:
                reviews[(learner, atom_id)].append((quality, answered))
            for concept_id in concepts:
                if (learner, concept_id) in concept_taken:
                    continue
                row = concept_states.get((learner, concept_id))
                bkt = self._bkt[concept_id]
                if row is None:
                    row = concept_states[(learner, concept_id)] = ConceptTally(
                        learner, concept_id, bkt.p_init
                    )
                concept_state_observe(row, correct, a, b, c, bkt)
                row.last_practised_at = answered
        atom_states = []
        for (learner, atom_id), done in reviews.items():
            state, due = review_states_replay(done, self._atoms[atom_id][4])
            atom_states.append({
                "learner_id": learner, "atom_id": atom_id, "state": state, "due_at": due,
                "last_reviewed_at": done[-1][1], "reviews": len(done),
                "lapses": sum(quality < 3 for quality, _ in done),
            })  # fmt: skip
        weights = hlr_current_weights()
        for row in concept_states.values():
            row.half_life_days = half_life_days(row.correct_attempts, row.attempts, weights)
        rows_insert(LearnerAtomState, atom_states)
        rows_insert(
            LearnerConceptState,
            [
                {name: getattr(row, name) for name in CONCEPT_STATE_FIELDS}
                for row in concept_states.values()
            ],
        )  # fmt: skip
        # The attempts stages write with COPY: the learners' rollups are rebuilt here, once
        # each, from their whole history (the live pull's catch-up comes through here too).
        if self._rollups:
            learner_rollups_rebuild(learner_ids=learner_ids)
        return BatchOutcome(migrated_keys=learner_ids)


HISTORY_COLUMNS = (
    "learner_id::text, atom_id::text, correct, quality, "
    "(EXTRACT(EPOCH FROM answered_at) * 1000000)::bigint"
)
HISTORY_ORDER = "learner_id, answered_at, created_at, id"  # id: a fixed tie-break


def attempts_histories(*, after: str, until: str | None):
    """(learner id, [attempt_history tuples]) for each learner with live attempts in
    (after, until], in learner order. On PostgreSQL from one ordered scan of the attempts
    table through a server-side cursor: fetching each page's learners by id visited a third of
    the table's blocks per page (their attempts are spread over 18 months), which was most of
    the stage's time at seed scale."""
    where, params = ["archived_in_id IS NULL"], []
    if after:
        where.append("learner_id > %s")
        params.append(after)
    if until is not None:
        where.append("learner_id <= %s")
        params.append(until)
    sql = (
        f"SELECT {HISTORY_COLUMNS} FROM {Attempt._meta.db_table} "  # noqa: S608 - fixed names
        f"WHERE {' AND '.join(where)} ORDER BY {HISTORY_ORDER}"
    )
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        learner, attempts = None, []
        while chunk := cursor.fetchmany(HISTORY_CHUNK):
            for row in chunk:
                if row[0] != learner:
                    if attempts:
                        yield learner, attempts
                    learner, attempts = row[0], []
                attempts.append(_history_row(row))
        if attempts:
            yield learner, attempts


HISTORY_CHUNK = 20_000


def _history_row(row: tuple) -> tuple:
    learner, atom, correct, quality, micros = row
    return learner, atom, correct, quality, UNIX_EPOCH + timedelta(microseconds=micros)


def attempt_history(learner_ids: list[str]) -> list[tuple]:
    """(learner id, atom id, correct, quality, answered_at) of the learners' live attempts, in
    answer order, ids as text. On PostgreSQL the timestamps come as integer microseconds: a
    page holds tens of thousands, and parsing timestamp text was most of the stage's time."""
    if connection.vendor != "postgresql":
        rows = (
            Attempt.objects.filter(learner__in=learner_ids, archived_in__isnull=True)
            .order_by("learner", "answered_at", "created_at", "id")
            .values_list("learner_id", "atom_id", "correct", "quality", "answered_at")
        )
        return [(str(learner), str(atom), *rest) for learner, atom, *rest in rows]
    sql = (
        f"SELECT {HISTORY_COLUMNS} FROM {Attempt._meta.db_table} "  # noqa: S608 - fixed names
        f"WHERE learner_id = ANY(%s::uuid[]) AND archived_in_id IS NULL ORDER BY {HISTORY_ORDER}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [learner_ids])
        return [_history_row(row) for row in cursor.fetchall()]


CATCH_UP_LEARNERS = 25  # learners replayed per transaction (their v2 answers wait for it)


def learner_states_catch_up(released: list[str], *, rollups: bool = True) -> None:
    """After quarantine retries (``released`` holds ``entity:key`` of rows that migrated):
    learners they migrated get states from their history, and learners who got attempts
    back have the states those attempts touch replayed from their whole history. Their rollups
    are rebuilt too, unless ``rollups`` is False (the live pull adds its attempts to them in
    the attempts' own transaction).

    A v1 review card's state stays: it is v1's own schedule, not derived from attempts.
    """
    learners, attempt_keys = set(), []
    for item in released:
        entity, key = item.split(":", 1)
        if entity == "users":
            learners.add(legacy_uuid("users", key))
        elif entity == "attempts":
            attempt_keys.append(key)
        elif entity == "json_attempts":
            attempt_keys.append(f"json:{key}")
    touched = list(
        Attempt.objects.filter(origin=Origin.LEGACY, legacy_key__in=attempt_keys)
        .values_list("learner_id", "atom_id", "atom__concept_weights__concept_id")
        .distinct()
    )
    atom_pairs = {(str(learner), str(atom)) for learner, atom, _ in touched}
    concept_pairs = {(str(learner), str(c)) for learner, _, c in touched if c is not None}
    learners.update(learner for learner, _, _ in touched)
    stage, ids = LearnerStates(rollups=rollups), sorted(str(pk) for pk in learners)
    for start in range(0, len(ids), CATCH_UP_LEARNERS):
        page = ids[start : start + CATCH_UP_LEARNERS]
        # Under the learners' write locks (taken in one global order), so an answer in v2
        # meanwhile waits instead of finding the state gone and colliding with the replayed one;
        # small pages, so that wait stays short.
        with transaction.atomic():
            learners_write_lock([uuid.UUID(pk) for pk in page])
            _touched_states_delete(set(page), atom_pairs, concept_pairs)
            stage.migrate([{"id": pk} for pk in page])


def _touched_states_delete(learners: set[str], atom_pairs: set, concept_pairs: set) -> None:
    """Delete ``learners``' states on the (learner, atom) and (learner, concept) pairs: read in
    one query per table, picked here, deleted by key (a delete and its lookup per attempt
    were a sixth of a live pull's time, in the profile)."""
    for model, field, all_pairs in (
        (LearnerAtomState, "atom_id", atom_pairs),
        (LearnerConceptState, "concept_id", concept_pairs),
    ):
        pairs = {(learner, other) for learner, other in all_pairs if learner in learners}
        if not pairs:
            continue
        candidates = model.objects.filter(
            learner_id__in={learner for learner, _ in pairs},
            **{f"{field}__in": {other for _, other in pairs}},
            archived_in__isnull=True,
        )
        if model is LearnerAtomState:  # v1's own review-card schedule stays
            candidates = candidates.exclude(origin=Origin.LEGACY)
        doomed = [
            pk
            for pk, learner, other in candidates.values_list("pk", "learner_id", field)
            if (str(learner), str(other)) in pairs
        ]
        for chunk in range(0, len(doomed), 5_000):
            model.objects.filter(pk__in=doomed[chunk : chunk + 5_000]).delete()
