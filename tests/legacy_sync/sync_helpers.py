"""What the live-sync tests share: a backfilled dirty fixture, v1 rows written as v1 would
write them, and v2 writes through the learner services."""

import uuid

from django.db import connections
from django.utils import timezone

from apps.accounts.models import User
from apps.content.models import LearningAtom
from apps.core.models import Origin
from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.learning.services.sessions import study_session_start
from apps.legacy_sync.backfill.curriculum import BIT_CARD_PREFIX
from apps.legacy_sync.live.flags import sync_flags_update

from .backfill_helpers import backfill, dirty_legacy_build


def synced_world(json_dir, *, dual_write: bool = True):
    """A dirty v1 fixture, backfilled, dual write on."""
    dirty_legacy_build(json_dir)
    backfill(json_dir)
    sync_flags_update(dual_write=dual_write)


def v1(sql: str, params=()) -> list[tuple]:
    with connections["legacy"].cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall() if cursor.description else []


def v1_count(table: str, where: str = "1=1", params=()) -> int:
    return v1(f"SELECT COUNT(*) FROM {table} WHERE {where}", params)[0][0]  # noqa: S608


def v1_attempt_insert(*, user_id: int, bit_id: int, session_id=None, correct=True) -> int:
    """A v1 attempt as v1 writes it: the id from v1's own sequence."""
    now = timezone.now().replace(tzinfo=None, microsecond=0)
    with connections["legacy"].cursor() as cursor:
        cursor.execute(
            "INSERT INTO attempts (session_id, user_id, bit_id, correct, user_answer, created_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            [session_id, user_id, bit_id, correct, "v1 answer", now],
        )
        return cursor.fetchone()[0]


def legacy_learner() -> User:
    return User.objects.filter(origin=Origin.LEGACY).order_by("legacy_key").last()


def bit_card(number: int | None = None) -> LearningAtom:
    cards = LearningAtom.objects.filter(legacy_key__startswith=BIT_CARD_PREFIX)
    if number is not None:
        return cards.get(legacy_key=f"{BIT_CARD_PREFIX}{number}")
    return cards.order_by("legacy_key").first()


def answer(learner, atom, *, session=None, quality: int = 4):
    """A v2 answer through the learner service (what POST /attempts/ runs)."""
    [outcome] = attempts_ingest(
        learner=learner,
        inputs=[
            AttemptInput(
                client_attempt_id=uuid.uuid4(),
                atom_id=atom.pk,
                response={"quality": quality},
                session_id=session.pk if session else None,
            )
        ],
    )
    assert outcome.status == "created", outcome.errors
    return outcome.attempt


def v2_session(learner, atom):
    course = atom.live_concepts.first().course
    return study_session_start(learner=learner, course=course)
