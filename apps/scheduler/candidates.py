"""A course's candidates for next items, kept hot per process: the published, unarchived atoms
linked live to the course's concepts, in the order next items ranks ties (newest edit first),
with their IRT parameters and concept. The same for every learner, so it is read once and not
on every call (that join over every atom of the course was most of a call).

Never stale: the copy is keyed by the ``scheduler.course_candidates`` cache version, which the
content workflow bumps whenever an atom's live revision or concepts change (publish, archive,
create as published: apps/content/services/workflow.py: live_revision_pin). Writes that bypass
the workflow (IRT calibration, the legacy backfill) are picked up within ``MAX_AGE_S``; ties
between equal scores follow the order of the last rebuild.
"""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import NamedTuple

import numpy as np
from django.db import connections, router
from django.db.models import FloatField, Func, QuerySet, TextField
from django.db.models.functions import Cast

from apps.content.models import AtomStatus, LearningAtom
from apps.core.cache_versions import KeptByVersion

from .models import LearnerAtomState


class EpochSeconds(Func):
    """A timestamp as seconds since 1970 (NULL stays NULL), on PostgreSQL and SQLite."""

    output_field = FloatField()

    def as_postgresql(self, compiler, connection, **extra):
        # date_part is float8 already; EXTRACT computes a numeric first, which costs more
        template = "date_part('epoch', %(expressions)s)"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler, connection, **extra):
        template = "CAST(strftime('%%%%s', %(expressions)s) AS REAL)"  # %% survives two formats
        return self.as_sql(compiler, connection, template=template, **extra)


VERSION = "scheduler.course_candidates"
MAX_AGE_S = 60.0  # also bounds a copy kept under the embedded cache's per-process version
MAX_COURSES = 64  # per process; the least recently used course goes first

_hot = KeptByVersion(VERSION, MAX_COURSES)  # course id → CourseCandidates


@dataclass(frozen=True)
class CourseCandidates:
    """One row per candidate atom. Atoms are matched by the 16 bytes of their UUID, with a
    binary search over the sorted keys: learner rows come packed as bytes (see
    ``learner_state_arrays``), never as 10k UUID objects."""

    atom_ids: list[str]  # the database's text form of each row's UUID
    revision_ids: list[str]  # each row's published revision (what the learner is shown)
    keys_sorted: np.ndarray  # the rows' UUID bytes (S16), sorted
    rows_sorted: np.ndarray  # the row of each sorted key
    irt_a: np.ndarray
    irt_b: np.ndarray
    irt_c: np.ndarray
    concept_codes: np.ndarray  # row → index into ``concepts``: the atom's first live concept
    concepts: list[uuid.UUID]
    # (row, concept code) of atoms linked to further concepts of the course: an atom leaves
    # when any of its concepts is excluded
    other_links: tuple[tuple[int, int], ...]

    @cached_property
    def _sorted_halves(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The sorted keys' halves, when the first halves alone tell the candidates apart
        (always, in practice: they are 60 random bits of a UUID4)."""
        high, low = _halves(self.keys_sorted)
        return (high, low) if len(high) < 2 or np.diff(high).all() else None

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """The row of each UUID (S16) in ``keys``; -1 for atoms that are not candidates."""
        if not len(self.keys_sorted):
            return np.full(len(keys), -1, dtype=np.intp)
        last = len(self.keys_sorted) - 1
        if self._sorted_halves is None:
            at = np.minimum(np.searchsorted(self.keys_sorted, keys), last)
            return np.where(self.keys_sorted[at] == keys, self.rows_sorted[at], -1)
        # search the first 8 bytes as integers, in sorted order (numpy's binary search then
        # starts where the previous one ended: 5x faster on 10k), then check the other 8
        high_sorted, low_sorted = self._sorted_halves
        high, low = _halves(keys)
        order = np.argsort(high)
        at = np.empty(len(keys), dtype=np.intp)
        at[order] = np.minimum(np.searchsorted(high_sorted, high[order]), last)
        found = (high_sorted[at] == high) & (low_sorted[at] == low)
        return np.where(found, self.rows_sorted[at], -1)


def _halves(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """UUIDs (S16) as their first and last 8 bytes, big-endian integers: the same order."""
    pairs = np.ascontiguousarray(keys).view(">u8").reshape(-1, 2).astype(np.uint64)
    return pairs[:, 0], pairs[:, 1]


def course_candidates(course_id) -> CourseCandidates:
    """The course's candidates: from this process's copy when its version is current (one
    cache read), else one query."""
    return _hot.get(course_id, course_candidates_build, MAX_AGE_S)


def course_candidates_build(course_id) -> CourseCandidates:
    """One read of the course's candidate rows, one per (atom, live concept of the course)."""
    rows = driver_rows(
        LearningAtom.objects.filter(
            published_revision__isnull=False, live_concepts__course_id=course_id
        )
        .exclude(status=AtomStatus.ARCHIVED)
        .order_by("-updated_at", "pk")
        .values_list(
            Cast("pk", TextField()),
            "irt_a",
            "irt_b",
            "irt_c",
            Cast("live_concepts", TextField()),
            Cast("published_revision_id", TextField()),
        )
    )
    concept_index: dict[str, int] = {}
    index_of: dict[str, int] = {}
    atom_ids, revision_ids, a, b, c, codes, other_links = [], [], [], [], [], [], []
    for atom_id, irt_a, irt_b, irt_c, concept, revision_id in rows:
        code = concept_index.setdefault(concept, len(concept_index))
        row = index_of.get(atom_id)
        if row is not None:  # a further concept of an atom already listed
            other_links.append((row, code))
            continue
        index_of[atom_id] = len(atom_ids)
        atom_ids.append(atom_id)
        revision_ids.append(revision_id)
        a.append(irt_a)
        b.append(irt_b)
        c.append(irt_c)
        codes.append(code)
    keys = np.array([uuid_bytes(atom_id) for atom_id in atom_ids], dtype="S16")
    order = np.argsort(keys, kind="stable")
    return CourseCandidates(
        atom_ids=atom_ids,
        revision_ids=revision_ids,
        keys_sorted=keys[order],
        rows_sorted=order.astype(np.intp),
        irt_a=np.array(a, dtype=float),
        irt_b=np.array(b, dtype=float),
        irt_c=np.array(c, dtype=float),
        concept_codes=np.array(codes, dtype=np.intp),
        concepts=[uuid.UUID(text) for text in concept_index],
        other_links=tuple(other_links),
    )


def driver_rows(queryset: QuerySet) -> list[tuple]:
    """The rows of a ``values_list`` queryset as the database driver returns them: Django's
    per-value converters (a ``float()`` call per expression value) cost more than the query on
    10k rows. Only for columns the driver already returns as the wanted Python type."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def uuid_bytes(text: str) -> bytes:
    """A UUID's 16 bytes from its text form, with or without dashes (SQLite stores 32 hex)."""
    return bytes.fromhex(text.replace("-", ""))


class LearnerStates(NamedTuple):
    """The learner's live atom states as arrays that line up: UUID bytes (S16), due time as
    epoch seconds (NaN: none), times reviewed, and, when asked for, answers since a moment
    (their day's start: daily limits) or None."""

    keys: np.ndarray
    due: np.ndarray
    reviews: np.ndarray
    answers_since: np.ndarray | None = None


# The learner's live atom states packed into byte strings (UUIDs, due epochs, review counts,
# and each atom's answers since a moment), each decoded by numpy in one step: 10k rows of
# Python tuples cost more than the query. The aggregates read the same rows in the same
# order, so the arrays line up. The answers since the day's start ride on the same read
# (a range of the (learner, answered_at) index, grouped per atom) when daily limits need them.
_PACKED_STATES_SQL = """
SELECT string_agg(uuid_send(s.atom_id), ''::bytea),
       string_agg(float8send(coalesce(date_part('epoch', s.due_at), 'NaN'::float8)), ''::bytea),
       string_agg(int4send(s.reviews), ''::bytea),
       string_agg(int4send(coalesce(a.answers, 0)), ''::bytea)
FROM scheduler_learneratomstate s
LEFT JOIN (
    SELECT atom_id, count(*)::int4 AS answers FROM learning_attempt
    WHERE learner_id = %(learner)s AND answered_at >= %(since)s::timestamptz
      AND archived_in_id IS NULL AND %(since)s::timestamptz IS NOT NULL
    GROUP BY atom_id
) a ON a.atom_id = s.atom_id
WHERE s.learner_id = %(learner)s AND s.archived_in_id IS NULL
"""


def learner_state_arrays(learner_id, answers_since: datetime | None = None) -> LearnerStates:
    """Every live atom state of the learner, in one query (and with ``answers_since``, each
    atom's answers from then on). Every course's, not only the one asked about: matching
    them to the candidates here is cheaper than joining the course's atom links in the
    database, as long as a learner's states are mostly in the course they study."""
    db = router.db_for_read(LearnerAtomState)
    if connections[db].vendor == "postgresql":
        with connections[db].cursor() as cursor:
            cursor.execute(_PACKED_STATES_SQL, {"learner": learner_id, "since": answers_since})
            keys, due, reviews, answers = cursor.fetchone()
        if keys is None:  # no states
            empty = np.empty(0)
            return LearnerStates(np.empty(0, dtype="S16"), empty, empty,
                                 empty if answers_since else None)  # fmt: skip
        return LearnerStates(
            np.frombuffer(keys, dtype="S16"),
            np.frombuffer(due, dtype=">f8").astype(float),
            np.frombuffer(reviews, dtype=">i4").astype(float),
            np.frombuffer(answers, dtype=">i4").astype(float) if answers_since else None,
        )
    rows = driver_rows(
        LearnerAtomState.objects.filter(learner_id=learner_id, archived_in__isnull=True)
        .order_by()
        .values_list(Cast("atom_id", TextField()), EpochSeconds("due_at"), "reviews")
    )
    answers = None
    if answers_since is not None:
        answers = _answers_since(learner_id, answers_since)
    if not rows:
        empty = np.empty(0)
        return LearnerStates(np.empty(0, dtype="S16"), empty, empty,
                             empty if answers is not None else None)  # fmt: skip
    atom_ids, due, reviews = zip(*rows, strict=True)
    raw_keys = [uuid_bytes(atom_id) for atom_id in atom_ids]
    keys = np.array(raw_keys, dtype="S16")
    if answers is not None:  # by the raw bytes: numpy's S16 drops trailing zero bytes
        answers = np.array([answers.get(key, 0) for key in raw_keys], dtype=float)
    return LearnerStates(keys, np.array(due, dtype=float), np.array(reviews, dtype=float), answers)


def _answers_since(learner_id, since: datetime) -> Counter:
    """{UUID bytes: answers since ``since``} of the learner's live attempts (the embedded
    database's form of the packed read's join)."""
    from apps.learning.models import Attempt

    return Counter(
        atom_id.bytes
        for atom_id in Attempt.objects.filter(
            learner_id=learner_id, answered_at__gte=since, archived_in__isnull=True
        )
        .order_by()
        .values_list("atom_id", flat=True)
    )
