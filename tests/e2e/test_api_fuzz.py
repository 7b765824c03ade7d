"""API fuzzing: schemathesis drives every operation of /api/schema/ in-process, as a learner
and as each staff role, one operation at a time and in linked sequences.

The WSGI app runs in this process on the test database (no network, no live server). Each
operation is fuzzed on a fresh world: a published course with one atom of every type, a
learner with a practice and a placement session and a few graded attempts, and rows the
learner must not reach. Every request carries the learner's JWT, obtained from
POST /api/v1/auth/token/ as a client would. No response may be a 5xx, and each must conform
to the schema: a documented status code and content type, and a body of the documented shape.

Generated ids almost never name a real row, so the hooks below mix the world's ids into path
parameters, queries and attempt bodies, with responses shaped like each atom type's: that
takes the fuzzer past the 404s into grading, scheduling and progress.

Bounded for CI: ``MAX_EXAMPLES`` per operation in the fuzzing phase for the learner
(``STAFF_MAX_EXAMPLES`` per staff role), plus the coverage phase's fixed cases; derandomized
(the same inputs on every run), no example database. Set API_FUZZ_MAX_EXAMPLES,
API_FUZZ_STAFF_MAX_EXAMPLES and API_FUZZ_STATEFUL_EXAMPLES to fuzz harder locally.
"""

import os
import uuid

import pytest
import schemathesis
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from apps.content.atom_types import atom_type_keys, get_atom_type
from apps.content.models import AtomStatus
from apps.learning.models import StudyTask
from apps.learning.services.attempts import AttemptInput, attempts_ingest
from apps.learning.services.sessions import study_session_start
from config.wsgi import application
from tests.accounts.factories import PASSWORD, UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory, UnitFactory

pytestmark = pytest.mark.django_db(transaction=True)

MAX_EXAMPLES = int(os.environ.get("API_FUZZ_MAX_EXAMPLES", "100"))
# Per staff role: each role runs every operation too, so fewer examples each.
STAFF_MAX_EXAMPLES = int(os.environ.get("API_FUZZ_STAFF_MAX_EXAMPLES", "5"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[
        # A request through the whole stack and the database is slower than hypothesis
        # expects of a test body.
        HealthCheck.too_slow,
        # Schemathesis filters what cannot be sent (say, a path parameter with a "/").
        HealthCheck.filter_too_much,
        # Attempt batches and free-form JSON are large by nature.
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        # The world is per test on purpose: one operation's writes never leak into another's.
        HealthCheck.function_scoped_fixture,
    ],
)

# --- Learner responses ---------------------------------------------------------------------
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)  # what JSON can carry
    | st.text(max_size=8)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
SMALL_INDEX = st.integers(min_value=-1, max_value=8) | st.integers()
# Values for the fields of the atom types' response objects (DESIGN.md "Atom responses"):
# mostly well typed, so that rows get past parsing into each type's grading.
RESPONSE_FIELD_VALUES = {
    "quality": SMALL_INDEX,
    "choice": SMALL_INDEX,
    "choices": st.lists(SMALL_INDEX, max_size=6),
    "value": st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False),
    "unit": st.none() | st.sampled_from(["", "km", "m", "mi"]) | st.text(max_size=4),
    "blanks": st.lists(st.text(max_size=12), max_size=4),
    "text": st.text(max_size=30),
    "order": st.lists(SMALL_INDEX, max_size=8),
    "pairs": st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4),
}
ANY_RESPONSE = JSON_VALUES | st.dictionaries(
    st.sampled_from(sorted(RESPONSE_FIELD_VALUES)), JSON_VALUES, max_size=2
)


def _mostly(strategy, otherwise):
    """``strategy`` three times in four, else ``otherwise`` (the simpler one, when shrinking)."""
    return st.integers(min_value=0, max_value=3).flatmap(lambda n: strategy if n else otherwise)


def _response_for(atom_type: str):
    """Mostly a response of ``atom_type``'s shape with fuzzed values, else anything at all."""
    fields = get_atom_type(atom_type).response_model.model_fields
    shaped = st.fixed_dictionaries(
        {name: RESPONSE_FIELD_VALUES[name] for name, f in fields.items() if f.is_required()},
        optional={
            name: RESPONSE_FIELD_VALUES[name] for name, f in fields.items() if not f.is_required()
        },
    )
    return _mostly(shaped, ANY_RESPONSE)


# --- The world -----------------------------------------------------------------------------
# The current test's ids (filled by ``fuzz_world``), which the hooks read when they draw. The
# lists keep a fixed order, so derandomized draws pick the same rows on every run.
REAL_IDS: dict = {}


@pytest.fixture
def fuzz_world(transactional_db):
    yield from _world()


@pytest.fixture
def staff_world(db):
    """The same world, rolled back after each test instead of flushed: the staff fuzzing
    runs every operation five times, and a flush per test is most of its time."""
    yield from _world()


def _world():
    """The learner, in a world of a published course with one atom of every type, and rows
    the learner must not reach: a draft atom, an unpublished course's atom and another
    learner's session."""
    course = CourseFactory(title="Fuzzing")
    unit = UnitFactory(course=course)
    concepts = [ConceptFactory(course=course, units=[unit]) for _ in range(2)]
    atoms = [
        make_atom(key, concept=concepts[n % 2], title=f"{n:02d} {key}")
        for n, key in enumerate(atom_type_keys())
    ]
    atoms.append(make_atom("mcq", concept=concepts[0], title="draft", status=AtomStatus.DRAFT))
    hidden_course = CourseFactory(title="Unpublished", is_published=False)
    atoms.append(make_atom("mcq", concept=ConceptFactory(course=hidden_course), title="hidden"))

    learner = UserFactory()
    practice = study_session_start(learner=learner, course=course)
    placement = study_session_start(learner=learner, kind="placement", course=course)
    others = study_session_start(learner=UserFactory(), course=course)
    # study tasks: the learner's to mark, and another learner's (a 404)
    tasks = [StudyTask.objects.create(learner=owner, title=f"Task {n}")
             for n, owner in enumerate((learner, learner, UserFactory()))]  # fmt: skip
    _league_rivals(learner)
    by_type = {atom.atom_type: atom for atom in atoms}
    attempts_ingest(
        learner=learner,
        inputs=[
            AttemptInput(uuid.uuid4(), by_type["mcq"].pk, {"choice": 1}, 1200, practice.pk),
            AttemptInput(uuid.uuid4(), by_type["mcq"].pk, {"choice": 0}, 900, practice.pk),
            AttemptInput(uuid.uuid4(), by_type["flashcard"].pk, {"quality": 4}, 800),
        ],
    )
    # an open mistake in the course (by_type's mcq is the hidden one): a mistakes session
    course_mcq = next(atom for atom in atoms if atom.atom_type == "mcq")
    attempts_ingest(learner=learner, inputs=[AttemptInput(uuid.uuid4(), course_mcq.pk,
                                                          {"choice": 0}, 700)])  # fmt: skip
    mistakes = study_session_start(learner=learner, kind="mistakes", course=course)
    _badges(learner, course)
    REAL_IDS.update(
        courses=[str(course.pk), str(hidden_course.pk)],
        atoms=[(str(atom.pk), atom.atom_type) for atom in atoms],
        sessions=[str(session.pk) for session in (practice, placement, others, mistakes)],
        tasks=[str(task.pk) for task in tasks],
        mock_tests=_mock_tests(course, concepts, learner),
        cursors=_analytics_cursors(learner, course),
        experiments=[_experiment_ended(course)],
    )
    yield learner
    REAL_IDS.clear()


def _badges(learner, course) -> None:
    """Badges for GET /me/achievements/: one the learner earned, two ahead (one in a course)."""
    from apps.achievements.models import Badge
    from apps.achievements.services import badges_check

    for name, rule, threshold, scope in [("First XP", "xp_total", 1, None),
                                         ("Scholar", "xp_total", 5000, None),
                                         ("Master", "concepts_mastered", 2, course)]:  # fmt: skip
        Badge.objects.create(name=name, icon=f"badges/{threshold}.png", rule=rule,
                             threshold=threshold, course=scope)  # fmt: skip
    badges_check(learner=learner)


def _mock_tests(course, concepts, learner) -> list[str]:
    """The learner's open mock test of the course (one item per concept) and another
    learner's, so answers and submits get past the 404 into marking."""
    from apps.assessment.models import MockTestBlueprint
    from apps.assessment.services import SectionInput, mock_test_blueprint_save, mock_test_start

    mock_test_blueprint_save(
        blueprint=MockTestBlueprint(course=course, time_limit_minutes=30, pass_mark_percent=50),
        sections=[SectionInput(1, concept=concept) for concept in concepts],
        by=None,
    )
    takers = (learner, UserFactory())
    return [str(mock_test_start(learner=taker, course=course).pk) for taker in takers]


def _experiment_ended(course) -> str:
    """An experiment on the course that ended yesterday (so no session start assigns anyone),
    for GET /experiments/{experiment_id}/analysis/ to get past the 404."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.experiments.models import Arm, Experiment
    from apps.experiments.services import experiment_save

    now = timezone.now()
    experiment = Experiment(
        name="Fuzzing: SM-2 vs FSRS",
        course=course,
        starts_at=now - timedelta(days=30),
        ends_at=now - timedelta(days=1),
    )
    arms = [Arm(key="control", is_control=True), Arm(key="fsrs", algorithm="fsrs")]
    return str(experiment_save(experiment=experiment, arms=arms).pk)


def _league_rivals(learner) -> None:
    """The learner and a rival opted in to weekly leagues, in one league this week, so that
    GET /leagues/current/ answers with standings (staff callers, not opted in, get its 409)."""
    from apps.accounts.services import user_update_profile
    from apps.leagues.services import leagues_place

    rival = UserFactory(display_name="Rival")
    for user in (learner, rival):
        user_update_profile(user=user, leagues_opt_in=True)
    leagues_place(learner_ids=[learner.pk, rival.pk])


def _analytics_cursors(learner, course) -> list[str]:
    """Analytics events older than the export's settle time, and the cursors of their pages,
    so ?after= gets past the 400 into the keyset pages."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.analytics.models import AnalyticsEvent
    from apps.analytics.schema import EventKind, event_payload
    from apps.analytics.selectors import Cursor

    version, payload = event_payload(EventKind.BADGE_EARNED, {"badge": "b", "rule": "xp_total"})
    then = timezone.now() - timedelta(hours=1)
    events = AnalyticsEvent.objects.bulk_create(
        AnalyticsEvent(kind=EventKind.BADGE_EARNED, schema_version=version, occurred_at=then,
                       learner=learner, course=course, payload=payload)
        for _ in range(3)
    )  # fmt: skip
    return [Cursor.of(event).encode() for event in events]


def _token_of(user) -> str:
    response = APIClient().post(
        "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["access"]


@pytest.fixture
def learner_token(fuzz_world) -> str:
    return _token_of(fuzz_world)


STAFF_ROLES = ("Authors", "Reviewers", "Publishers", "Migration staff", "Analysts", "superuser")


@pytest.fixture(params=STAFF_ROLES)
def staff_token(request, staff_world) -> str:
    """A staff caller of each role (the API asks no second factor: staff MFA guards the admin).
    Authors own a draft, so authoring transitions have something of theirs to act on."""
    from django.apps import apps as django_apps

    from apps.accounts.roles import role_permissions_sync
    from apps.analytics.permissions import ANALYTICS_ROLE_PERMISSIONS

    role_permissions_sync(django_apps)  # transactional tests flush the role groups
    role_permissions_sync(django_apps, ANALYTICS_ROLE_PERMISSIONS)  # analytics' own role
    if request.param == "superuser":
        user = UserFactory(is_staff=True, is_superuser=True)
    else:
        user = UserFactory(is_staff=True, roles=[request.param])
    draft = make_atom("mcq", title="staff draft", status=AtomStatus.DRAFT, by=user)
    REAL_IDS["atoms"].append((str(draft.pk), draft.atom_type))
    return _token_of(user)


# --- The schema and the hooks --------------------------------------------------------------
# Read once, at collection, from the app itself (no database involved); every operation in it
# is fuzzed, none excluded. Not in it, so not fuzzed: /api/docs/ (Swagger UI's HTML page),
# /api/schema/ itself, and /api/auth/login/ (the browsable API's session login form). The
# staff-only authoring endpoint stays in: a learner must get a documented 403 from it, whatever
# they send. (schemathesis.pytest.from_fixture would load it per test, but its lazy loader
# sets a node attribute that pytest 9 no longer has.)
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


def _real(pool: str):
    if pool == "atoms":
        return st.sampled_from([atom_id for atom_id, _ in REAL_IDS["atoms"]])
    return st.sampled_from(REAL_IDS[pool])


def _or_real(generated: dict, name: str, pool: str):
    """Mostly ``generated`` with ``name`` set to one of the world's ids, else as generated."""
    return _mostly(_real(pool).map(lambda value: {**generated, name: value}), st.just(generated))


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    pools = {
        "id": "courses" if "/courses/" in context.operation.path else "atoms",
        "atom_id": "atoms",
        "session_id": "sessions",
        "task_id": "tasks",
        "test_id": "mock_tests",
        "experiment_id": "experiments",
    }
    strategy = st.just(path_parameters)
    for name in sorted(path_parameters.keys() & pools.keys()):
        strategy = strategy.flatmap(lambda params, name=name: _or_real(params, name, pools[name]))
    return strategy


@schema.hook
def flatmap_query(context, query):
    if not isinstance(query, dict):
        return st.just(query)
    pools = {"course": "courses", "session": "sessions", "after": "cursors"}  # analytics pages
    declared = {parameter.name for parameter in context.operation.query}
    strategy = st.just(query)
    for name in sorted(declared & pools.keys()):
        strategy = strategy.flatmap(lambda params, name=name: _or_real(params, name, pools[name]))
    return strategy


def _attempt_rows():
    """Attempts on the world's atoms (and sessions), each with a response for its atom."""

    def row_for(atom):
        atom_id, atom_type = atom
        return st.fixed_dictionaries(
            {
                "client_attempt_id": st.uuids().map(str),
                "atom": st.just(atom_id),
                "response": _response_for(atom_type),
            },
            optional={"session": _real("sessions")},
        )

    return st.sampled_from(REAL_IDS["atoms"]).flatmap(row_for)


@schema.hook
def flatmap_body(context, body):
    if not isinstance(body, dict):
        return st.just(body)
    path = context.operation.path
    if path == "/api/v1/attempts/":
        # The generated body's other fields stay; atom, response and session become real.
        others = {key: value for key, value in body.items() if key != "session"}
        return _mostly(_attempt_rows().map(lambda row: {**others, **row}), st.just(body))
    if path == "/api/v1/attempts/batch/":
        batch = st.lists(_attempt_rows(), min_size=1, max_size=5)
        return _mostly(batch.map(lambda rows: {**body, "attempts": rows}), st.just(body))
    if path == "/api/v1/sessions/":
        # Mostly a practice session in a real course: the linked-operations scenario must
        # create one to complete. Else the generated body (a course set on it three times in
        # four: a mistakes session needs one).
        practice = _real("courses").map(lambda course: {"kind": "practice", "course": course})
        return _mostly(practice, _or_real(body, "course", "courses"))
    if path == "/api/v1/mock-tests/":
        return _or_real(body, "course", "courses")
    if path == "/api/v1/mock-tests/{test_id}/answers/":
        # an answer to one of the world's atoms (some are the mock test's items)
        rows = _attempt_rows().map(lambda row: {key: row[key] for key in ("atom", "response")})
        return _mostly(rows.map(lambda row: {**body, **row}), st.just(body))
    return st.just(body)


# --- The test ------------------------------------------------------------------------------
@schema.parametrize()
@FUZZ_SETTINGS
def test_learner_api_conforms_to_its_schema(case, learner_token):
    # Throttling is not under test (its 429 is documented everywhere anyway), and a run sends
    # the token endpoints far more requests a minute than the anonymous rate allows.
    cache.clear()
    response = case.call(headers={"Authorization": f"Bearer {learner_token}"})
    case.validate_response(response, checks=CHECKS)


# The staff roles run the fuzzing phase only: the coverage phase's fixed edge cases (most of
# a run's time) do not change with the caller, and the learner's run has them already.
staff_schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
staff_schema.config.phases.coverage.enabled = False
for _hook in (flatmap_path_parameters, flatmap_query, flatmap_body):
    staff_schema.hook(_hook)


@staff_schema.parametrize()
@settings(FUZZ_SETTINGS, max_examples=STAFF_MAX_EXAMPLES)
@pytest.mark.django_db(transaction=False)
def test_staff_api_conforms_to_its_schema(case, staff_token):
    # Every operation again, as each staff role: authoring transitions get past the 403.
    cache.clear()
    response = case.call(headers={"Authorization": f"Bearer {staff_token}"})
    case.validate_response(response, checks=CHECKS)


# --- Stateful: linked operations in sequence ---------------------------------------------------
# Schemathesis links operations from the schema itself: the course list to a course, the atom
# list to an atom and to its authoring transitions, a new session to its completion. Each
# scenario chains them (create, then act on or read back what was created).
# Only the linked operations: among all of them a derandomized run seldom reached a session's
# completion (every other operation is fuzzed above, alone and as each caller).
linked_schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application).include(
    path_regex=r"^/api/v1/(atoms/|atoms/\{id\}/|authoring/atoms/\{atom_id\}/transitions/"
    r"|courses/|courses/\{id\}/|sessions/|sessions/\{session_id\}/complete/)$"
)
for _hook in (flatmap_path_parameters, flatmap_query, flatmap_body):
    linked_schema.hook(_hook)
STATEFUL_SETTINGS = settings(
    FUZZ_SETTINGS,
    max_examples=int(os.environ.get("API_FUZZ_STATEFUL_EXAMPLES", "40")),
    stateful_step_count=6,
)


@pytest.mark.parametrize("caller", ["learner", "Authors", "superuser"])
def test_linked_operations_in_sequence(fuzz_world, caller):
    if caller == "learner":
        token = _token_of(fuzz_world)
    else:
        from django.apps import apps as django_apps

        from apps.accounts.roles import role_permissions_sync

        role_permissions_sync(django_apps)
        fields = {"is_superuser": True} if caller == "superuser" else {"roles": [caller]}
        token = _token_of(UserFactory(is_staff=True, **fields))

    called: set[str] = set()

    class Scenario(linked_schema.as_state_machine()):
        # Each example starts from the same database: what one sequence created (an open
        # session, a transition) would change which links the next replay of it can take.
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            cache.clear()  # throttling is not under test here
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def after_call(self, response, case):
            called.add(f"{case.method} {case.path} {response.status_code}")
            super().after_call(response, case)

        def validate_response(self, response, case, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Scenario.run(settings=STATEFUL_SETTINGS)

    # the links were followed: a session created, then completed; an atom listed, then read
    assert "POST /api/v1/sessions/{session_id}/complete/ 200" in called, sorted(called)
    assert "GET /api/v1/atoms/{id}/ 200" in called, sorted(called)
