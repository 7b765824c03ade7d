"""The load bench's data, made through the project's services: a published course of MCQ and
true/false atoms over a prerequisite graph, and learners who each hold a JWT, an open study
session and a few weeks of answered history (so next items mix reviews with new atoms and
progress has streaks and due atoms to count).

Precondition: Django is set up on a freshly migrated scratch database.
"""

import random
import uuid
from dataclasses import asdict, dataclass
from datetime import timedelta

CONCEPTS = 12
ATOMS_PER_CONCEPT = 20
HISTORY_DAYS = 21


@dataclass
class AtomPlan:
    id: str
    right: dict  # a correct response
    wrong: dict  # an incorrect one


@dataclass
class LearnerPlan:
    token: str
    session: str


@dataclass
class Plan:
    course: str
    atoms: list[AtomPlan]
    learners: list[LearnerPlan]

    def as_dict(self) -> dict:
        return asdict(self)


def seed(*, learners: int, history: int, rng: random.Random) -> Plan:
    """``learners`` learners with ``history`` past attempts each on average, exponentially
    distributed (most learners have a few, some have many; at most 10× the average)."""
    course, atoms = _course()
    return Plan(
        course=str(course.pk),
        atoms=atoms,
        learners=[_learner(n, course, atoms, history, rng) for n in range(learners)],
    )


def _course():
    from apps.content.services import ConceptWeightInput, atom_create
    from apps.curriculum.models import Concept, Course, Misconception, Unit
    from apps.curriculum.services import concept_prerequisites_set

    course = Course.objects.create(
        slug="load-bench", title="Load bench", default_algorithm="sm2", is_published=True
    )
    unit = Unit.objects.create(course=course, title="Everything", position=1)
    concepts = []
    for n in range(CONCEPTS):
        concept = Concept.objects.create(course=course, text=f"Concept {n:02d}", difficulty=1)
        concept.units.add(unit)
        concepts.append(concept)
    # Four roots, then each concept needs one or two earlier ones: new atoms unlock gradually.
    for n, concept in enumerate(concepts[4:], start=4):
        concept_prerequisites_set(concept=concept, prerequisites=[concepts[n - 4], concepts[n - 3]])

    plans = []
    for concept in concepts:
        misconception = Misconception.objects.create(
            concept=concept, name=f"{concept.text} confusion", remediation="Read it again."
        )
        for k in range(ATOMS_PER_CONCEPT):
            weights = [ConceptWeightInput(concept)]
            if k % 2 == 0:
                right = k % 4 // 2 + 1  # the correct option is 1 or 2
                options = [
                    {
                        "text": f"Option {i}",
                        "is_correct": i == right,
                        "feedback": "Yes." if i == right else "No.",
                        "misconception": misconception if i == 0 else None,
                    }
                    for i in range(4)
                ]
                atom = atom_create(
                    by=None, title=f"{concept.text} Q{k:02d}", atom_type="mcq",
                    content={"prompt": f"Question {k} about {concept.text}?"}, grading_logic={},
                    options=options, concept_weights=weights, status="published",
                    difficulty=1 + k % 5, irt_b=(k % 5 - 2) / 2,
                )  # fmt: skip
                plans.append(AtomPlan(str(atom.pk), {"choice": right}, {"choice": 0}))
            else:
                answer = k % 4 == 1
                atom = atom_create(
                    by=None, title=f"{concept.text} T{k:02d}", atom_type="true_false",
                    content={"statement": f"Statement {k} about {concept.text}."},
                    grading_logic={"answer": answer}, concept_weights=weights,
                    status="published", difficulty=1 + k % 5, irt_b=(k % 5 - 2) / 2,
                )  # fmt: skip
                plans.append(AtomPlan(str(atom.pk), {"value": answer}, {"value": not answer}))
    return course, plans


def _learner(n: int, course, atoms: list[AtomPlan], history: int, rng: random.Random):
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.accounts.services import user_create
    from apps.learning.services.attempts import AttemptInput, attempts_ingest
    from apps.learning.services.sessions import study_session_complete, study_session_start

    # No password: the bench mints tokens directly (hashing 200 passwords would take a minute).
    learner = user_create(
        email=f"load-learner-{n:04d}@bench.local",
        password=None,
        display_name=f"Load learner {n}",
        timezone=rng.choice(["UTC", "Europe/London", "Asia/Tokyo"]),
    )
    now = timezone.now()
    count = min(int(rng.expovariate(1 / history)), 10 * history) if history else 0
    # Past sessions on random days of the last three weeks (the attempt API takes answers up
    # to 30 days old), each answering atoms of the course's root concepts, 70% of them right.
    known = rng.sample(atoms[: len(atoms) // 3], k=min(len(atoms) // 3, max(1, count // 3)))
    days = sorted(rng.sample(range(1, HISTORY_DAYS), k=min(HISTORY_DAYS - 1, 1 + count // 16)))
    per_day = max(1, count // len(days))
    sessions, inputs = [], []
    for day in reversed(days):
        started = now - timedelta(days=day, hours=rng.randint(0, 6))
        session = study_session_start(learner=learner, course=course, started_at=started)
        answers = min(per_day, count - len(inputs))
        for i in range(answers):
            atom = rng.choice(known)
            response = atom.right if rng.random() < 0.7 else atom.wrong
            inputs.append(
                AttemptInput(
                    client_attempt_id=uuid.uuid4(), atom_id=uuid.UUID(atom.id), response=response,
                    time_taken_ms=rng.randint(2_000, 20_000), session_id=session.pk,
                    answered_at=started + timedelta(seconds=30 * i),
                )
            )  # fmt: skip
        sessions.append((session, started + timedelta(seconds=30 * answers + 60)))
    if inputs:  # one batch, as an offline client syncing would send it
        attempts_ingest(learner=learner, inputs=inputs, now=now)
    for session, finished in sessions:
        study_session_complete(session=session, completed_at=finished)
    session = study_session_start(learner=learner, course=course, device="load-bench")
    token = RefreshToken.for_user(learner).access_token
    return LearnerPlan(token=str(token), session=str(session.pk))
