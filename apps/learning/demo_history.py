"""A few days of practice for the demo learner, so progress and streaks have something to show.
Idempotent: deterministic client ids make a re-run replay instead of adding rows."""

import uuid
from datetime import timedelta

from django.utils import timezone

from apps.content.atom_types import get_atom_type
from apps.content.selectors import atoms_for_learners

from .services.attempts import AttemptInput, attempts_ingest
from .services.sessions import study_session_complete, study_session_start

DEMO_NAMESPACE = uuid.UUID("6f1c1e4e-5d0b-4d38-9f43-2a1f3f6b9c10")


def demo_learner_history_load(*, learner) -> int:
    atoms = list(atoms_for_learners().order_by("title"))
    if not atoms or learner.study_sessions.exists():
        return 0
    now = timezone.now()
    created = 0
    for days_ago in (3, 2, 1):
        started = now - timedelta(days=days_ago, hours=1)
        session = study_session_start(learner=learner, started_at=started, device="demo")
        inputs = []
        for n, atom in enumerate(atoms):
            example = _example_response(atom)
            if example is None:
                continue
            inputs.append(
                AttemptInput(
                    client_attempt_id=uuid.uuid5(DEMO_NAMESPACE, f"{days_ago}-{atom.pk}"),
                    atom_id=atom.pk,
                    response=example,
                    time_taken_ms=4000 + 500 * n,
                    session_id=session.pk,
                    answered_at=started + timedelta(minutes=n),
                )
            )
        outcomes = attempts_ingest(learner=learner, inputs=inputs)
        created += sum(o.status == "created" for o in outcomes)
        study_session_complete(session=session, completed_at=started + timedelta(minutes=30))
    return created


def _example_response(atom) -> dict | None:
    """A plausible answer for the demo: flashcards rated 4, choices picked at the first option."""
    kind = get_atom_type(atom.published_revision.snapshot["atom_type"])
    samples = {
        "flashcard": {"quality": 4},
        "mcq": {"choice": 1},
        "multi_select": {"choices": [0, 1]},
        "true_false": {"value": False},
        "short_text": {"text": "rectangle"},
        "numeric": {"value": 23},
    }
    return samples.get(kind.key)
