"""What the learning tests share: the API's paths and a learner client's request bodies."""

import uuid
from datetime import datetime

from apps.scheduler.models import LearnerAtomState
from tests.accounts.factories import UserFactory

ATTEMPTS_URL = "/api/v1/attempts/"
BATCH_URL = "/api/v1/attempts/batch/"
SESSIONS_URL = "/api/v1/sessions/"
PROGRESS_URL = "/api/v1/progress/"
STATISTICS_URL = "/api/v1/progress/statistics/"
RESET_URL = "/api/v1/progress/reset/"

CORRECT_MCQ = {"choice": 1}  # the example mcq's right option (TCP)
WRONG_MCQ = {"choice": 0}  # UDP


def session_complete_url(session_id) -> str:
    return f"{SESSIONS_URL}{session_id}/complete/"


def iso(moment: datetime) -> str:
    return moment.isoformat()


def attempt_payload(
    atom,
    response: dict | None = None,
    *,
    client_attempt_id=None,
    answered_at: datetime | None = None,
    time_taken_ms: int = 1500,
    session=None,
    **extra,
) -> dict:
    """The JSON body a client sends for one answer."""
    body = {
        "client_attempt_id": str(client_attempt_id or uuid.uuid4()),
        "atom": str(atom.pk),
        "response": CORRECT_MCQ if response is None else response,
        "time_taken_ms": time_taken_ms,
        **extra,
    }
    if answered_at is not None:
        body["answered_at"] = iso(answered_at)
    if session is not None:
        body["session"] = str(getattr(session, "pk", session))
    return body


def superuser():
    return UserFactory(is_staff=True, is_superuser=True)


def live_state(learner, atom) -> dict:
    """The learner's live scheduler state for the atom, as comparable plain data."""
    state = LearnerAtomState.objects.get(learner=learner, atom=atom, archived_in__isnull=True)
    return {
        "state": state.state,
        "due_at": state.due_at,
        "last_reviewed_at": state.last_reviewed_at,
        "reviews": state.reviews,
        "lapses": state.lapses,
    }
