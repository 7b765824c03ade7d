"""Who may do what (issue 9): every API endpoint, staff page and admin workflow action, for
every role. Each cell is one test named ``<role>-<METHOD path>``; where a refusal matters, the
cell also checks that nothing changed (and, for the allowed roles, that the change happened).

Roles: ``anonymous``; ``learner`` (owns the session, the attempt and the progress the cells
touch); ``other_learner`` (the object-level cells: another learner's session, progress...);
the staff groups of apps/accounts/roles.py (``author`` wrote the atoms, ``reviewer``,
``publisher``, ``migration_staff``); ``superuser``.

The learner API serves the caller's own data to every authenticated user, staff included:
roles grant admin rights, not a view of other people's learning. The admin refuses a
transition the caller may not make with an error message on the atom's page (a 302), as the
workflow services decide; the API answers 403.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.accounts.models import User
from apps.accounts.roles import AUTHORS, MIGRATION_STAFF, PUBLISHERS, REVIEWERS
from apps.content.models import AtomEditLock, AtomStatus, LearningAtom, ReviewComment
from apps.learning.models import Attempt, StudySession, StudyTask
from apps.learning.services.sessions import study_session_start
from apps.scheduler.models import LearnerAtomState
from tests.accounts.factories import PASSWORD, UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory
from tests.learning.factories import AttemptFactory
from tests.learning.helpers import attempt_payload
from tests.legacy import LEGACY_SYNC_INSTALLED

pytestmark = pytest.mark.django_db(databases=["default", "legacy"])

ROLES = (
    "anonymous",
    "learner",
    "other_learner",
    "author",
    "reviewer",
    "publisher",
    "migration_staff",
    "superuser",
)
ROLE_USERS = {
    "learner": {},
    "other_learner": {},
    "author": {"is_staff": True, "roles": [AUTHORS]},
    "reviewer": {"is_staff": True, "roles": [REVIEWERS]},
    "publisher": {"is_staff": True, "roles": [PUBLISHERS]},
    "migration_staff": {"is_staff": True, "roles": [MIGRATION_STAFF]},
    "superuser": {"is_staff": True, "is_superuser": True},
}
LOGIN = "302 to the admin login"  # an expected "status" for pages behind a login
MIGRATION = frozenset({"migration_staff", "superuser"})
COMMENT = "The second distractor is also right; reword it."


# --- the world the cells act on: each piece made on first use --------------------------------


class World:
    """The fixtures, built lazily so that each cell pays only for what it touches. The
    learner's objects belong to ``user("learner")``; the atoms are written by the author."""

    def __init__(self, request):
        self._request = request  # for the fixtures only some cells need
        self._users: dict[str, User] = {}
        self._atoms: dict[str, LearningAtom] = {}
        self.role = "anonymous"
        self.enqueued = 0  # on-commit callbacks (Celery work) the last request registered

    def user(self, role: str) -> User | None:
        if role == "anonymous":
            return None
        if role not in self._users:
            self._users[role] = UserFactory(**ROLE_USERS[role])
        return self._users[role]

    @property
    def actor(self) -> User | None:
        return self.user(self.role)

    @cached_property
    def learner(self) -> User:
        return self.user("learner")

    # curriculum and content
    @cached_property
    def course(self):
        return CourseFactory()

    @cached_property
    def concept(self):
        return ConceptFactory(course=self.course)

    @cached_property
    def atom(self) -> LearningAtom:
        """Published, in the published course: what learners study."""
        return make_atom("mcq", concept=self.concept, by=self.user("author"), title="Live")

    @cached_property
    def hidden_course(self):
        return CourseFactory(is_published=False)

    @cached_property
    def draft_atom(self) -> LearningAtom:
        return self.subject("draft")

    def subject(self, state: str) -> LearningAtom:
        """An atom the author wrote, in ``state``; ``in_review_edited_by_reviewer`` is in
        review and was last edited by the reviewer (who may then not review it)."""
        if state not in self._atoms:
            status = state.removesuffix("_edited_by_reviewer")
            atom = make_atom(
                "mcq", concept=self.concept, status=status, by=self.user("author"), title=state
            )
            if state.endswith("_edited_by_reviewer"):
                LearningAtom.objects.filter(pk=atom.pk).update(last_edited_by=self.user("reviewer"))
            self._atoms[state] = atom
        return self._atoms[state]

    # the learner's own objects
    @cached_property
    def session(self) -> StudySession:
        return study_session_start(learner=self.learner, course=self.course)

    @cached_property
    def placement_session(self) -> StudySession:
        self.atom  # noqa: B018 - the placement test needs an item
        return study_session_start(learner=self.learner, course=self.course, kind="placement")

    @cached_property
    def learner_attempt(self) -> Attempt:
        return AttemptFactory(learner=self.learner, atom=self.atom, session=self.session)

    @cached_property
    def learner_task(self) -> StudyTask:
        return StudyTask.objects.create(learner=self.learner, title="Revise the signs")

    @cached_property
    def learner_due_state(self) -> LearnerAtomState:
        due_now = timezone.now()
        return LearnerAtomState.objects.create(learner=self.learner, atom=self.atom, due_at=due_now)


@pytest.fixture
def world(request) -> World:
    return World(request)


# --- what one cell is ------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One row of the matrix: a request, and what each role gets.

    ``observe`` reads the state the request may change; it must differ afterwards exactly for
    the roles in ``changes_for`` (for everyone else a refusal, or an action on one's own data,
    leaves it as it was). ``check`` runs on successful (2xx) responses only.
    """

    name: str
    send: Callable[[World, Any], Any]
    expected: dict[str, int | str]
    browser: bool = False  # a logged-in browser session (admin, staff pages), not the API
    given: Callable[[World], Any] | None = None
    observe: Callable[[World], Any] | None = None
    changes_for: frozenset = frozenset()
    check: Callable[[World, str, Any], None] | None = None


def cells(default, **by_role) -> dict[str, int | str]:
    assert set(by_role) <= set(ROLES), set(by_role) - set(ROLES)
    return {role: by_role.get(role, default) for role in ROLES}


def api(default, **by_role):
    """Every authenticated caller gets ``default`` unless named; anonymous callers 401."""
    return cells(default, **{"anonymous": 401, **by_role})


def admin(default, **by_role):
    """Anonymous callers and learners (not staff) are sent to the admin login."""
    return cells(default, **{"anonymous": LOGIN, "learner": LOGIN, "other_learner": LOGIN,
                             **by_role})  # fmt: skip


def status_of(atom) -> str:
    return LearningAtom.objects.values_list("status", flat=True).get(pk=atom.pk)


def json_of(response) -> dict:
    return response.json()


# --- API -------------------------------------------------------------------------------------


def _token_obtain(w, c):
    if w.actor is None:  # someone without an account guesses the learner's password
        body = {"email": w.learner.email, "password": "guess"}
    else:
        body = {"email": w.actor.email, "password": PASSWORD}
    return c.post("/api/v1/auth/token/", body, format="json")


def _token_refresh(w, c):
    refresh = str(RefreshToken.for_user(w.actor)) if w.actor else "not-a-token"
    return c.post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json")


def _token_revoke(w, c):
    refresh = str(RefreshToken.for_user(w.actor)) if w.actor else "not-a-token"
    return c.post("/api/v1/auth/token/revoke/", {"refresh": refresh}, format="json")


def _learner_display_name(w) -> str:
    return User.objects.values_list("display_name", flat=True).get(pk=w.learner.pk)


def _is_the_caller(w, role, response):
    assert json_of(response)["email"] == w.actor.email


def _offers_the_live_atom(w, role, response):
    assert [item["atom"]["id"] for item in json_of(response)["items"]] == [str(w.atom.pk)]


def _patch_me_check(w, role, response):
    assert json_of(response)["display_name"] == "Renamed"
    assert User.objects.get(pk=w.actor.pk).display_name == "Renamed"


def _course_ids(w, role, response):
    ids = {row["id"] for row in json_of(response)["results"]}
    assert str(w.course.pk) in ids and str(w.hidden_course.pk) not in ids


def _atom_ids(w, role, response):
    ids = {row["id"] for row in json_of(response)["results"]}
    assert ids == {str(w.atom.pk)}  # not the draft, even for its author


def _attempt_is_the_callers(w, role, response):
    assert Attempt.objects.get(pk=json_of(response)["id"]).learner == w.actor


def _attempts_in_learner_session(w) -> int:
    return Attempt.objects.filter(session=w.session).count()


def _batch_row_status(expected_for_learner: int, expected_for_others: int):
    def check(w, role, response):
        [row] = json_of(response)["results"]
        wanted = expected_for_learner if role == "learner" else expected_for_others
        assert row["http_status"] == wanted, row

    return check


def _session_is_the_callers(w, role, response):
    assert StudySession.objects.get(pk=json_of(response)["id"]).learner == w.actor


def _session_completed_at(w):
    return StudySession.objects.values_list("completed_at", flat=True).get(pk=w.session.pk)


def _learner_attempt_live(w) -> bool:
    return Attempt.objects.filter(pk=w.learner_attempt.pk, archived_in__isnull=True).exists()


def _own_attempts_only(count_of: Callable[[dict], int]):
    def check(w, role, response):
        assert count_of(json_of(response)) == (1 if role == "learner" else 0)

    return check


API_ENDPOINTS = [
    Endpoint("POST /api/v1/auth/token/", _token_obtain, cells(200, anonymous=401)),
    Endpoint("POST /api/v1/auth/token/refresh/", _token_refresh, cells(200, anonymous=401)),
    Endpoint("POST /api/v1/auth/token/revoke/", _token_revoke, cells(200, anonymous=401)),
    Endpoint(
        "GET /api/v1/me/",
        lambda w, c: c.get("/api/v1/me/"),
        api(200),
        check=_is_the_caller,
    ),
    Endpoint(
        "PATCH /api/v1/me/",
        lambda w, c: c.patch("/api/v1/me/", {"display_name": "Renamed"}, format="json"),
        api(200),
        observe=_learner_display_name,
        changes_for=frozenset({"learner"}),  # everyone else renames only themselves
        check=_patch_me_check,
    ),
    Endpoint(
        "GET /api/v1/courses/",
        lambda w, c: c.get("/api/v1/courses/"),
        api(200),
        given=lambda w: (w.course, w.hidden_course),
        check=_course_ids,
    ),
    Endpoint(
        "GET /api/v1/courses/{published}/",
        lambda w, c: c.get(f"/api/v1/courses/{w.course.pk}/"),
        api(200),
    ),
    Endpoint(
        "GET /api/v1/courses/{unpublished}/",
        lambda w, c: c.get(f"/api/v1/courses/{w.hidden_course.pk}/"),
        api(404),
    ),
    Endpoint(
        "GET /api/v1/atoms/?course=",
        lambda w, c: c.get("/api/v1/atoms/", {"course": str(w.course.pk)}),
        api(200),
        given=lambda w: (w.atom, w.draft_atom),
        check=_atom_ids,
    ),
    Endpoint(
        "GET /api/v1/atoms/{published}/",
        lambda w, c: c.get(f"/api/v1/atoms/{w.atom.pk}/"),
        api(200),
    ),
    Endpoint(
        "GET /api/v1/atoms/{draft}/",
        lambda w, c: c.get(f"/api/v1/atoms/{w.draft_atom.pk}/"),
        api(404),  # the learner API never shows a draft, not even to its author
    ),
    Endpoint(
        "GET /api/v1/authoring/atoms/{id}/transitions/",
        lambda w, c: c.get(f"/api/v1/authoring/atoms/{w.draft_atom.pk}/transitions/"),
        api(405),  # POST only; the available actions are the admin's buttons
    ),
    Endpoint(
        "POST /api/v1/attempts/",
        lambda w, c: c.post("/api/v1/attempts/", attempt_payload(w.atom), format="json"),
        api(201),
        check=_attempt_is_the_callers,
    ),
    Endpoint(
        "POST /api/v1/attempts/ (into the learner's session)",
        lambda w, c: c.post(
            "/api/v1/attempts/", attempt_payload(w.atom, session=w.session), format="json"
        ),
        api(404, learner=201),
        observe=_attempts_in_learner_session,
        changes_for=frozenset({"learner"}),
    ),
    Endpoint(
        "POST /api/v1/attempts/batch/",
        lambda w, c: c.post(
            "/api/v1/attempts/batch/", {"attempts": [attempt_payload(w.atom)]}, format="json"
        ),
        api(200),
        check=_batch_row_status(201, 201),
    ),
    Endpoint(
        "POST /api/v1/attempts/batch/ (into the learner's session)",
        lambda w, c: c.post(
            "/api/v1/attempts/batch/",
            {"attempts": [attempt_payload(w.atom, session=w.session)]},
            format="json",
        ),
        api(200),  # the batch succeeds; the row is refused on its own
        observe=_attempts_in_learner_session,
        changes_for=frozenset({"learner"}),
        check=_batch_row_status(201, 404),
    ),
    Endpoint(
        "POST /api/v1/sessions/",
        lambda w, c: c.post("/api/v1/sessions/", {"course": str(w.course.pk)}, format="json"),
        api(201),
        check=_session_is_the_callers,
    ),
    Endpoint(
        "POST /api/v1/sessions/{learner's}/complete/",
        lambda w, c: c.post(f"/api/v1/sessions/{w.session.pk}/complete/", {}, format="json"),
        api(404, learner=200),  # superusers too: the API shows only the caller's sessions
        observe=_session_completed_at,
        changes_for=frozenset({"learner"}),
    ),
    Endpoint(
        "GET /api/v1/progress/",
        lambda w, c: c.get("/api/v1/progress/"),
        api(200),
        given=lambda w: w.learner_attempt,
        check=_own_attempts_only(lambda body: body["attempts"]),
    ),
    Endpoint(
        "GET /api/v1/progress/statistics/",
        lambda w, c: c.get("/api/v1/progress/statistics/"),
        api(200),
        given=lambda w: w.learner_attempt,
        check=_own_attempts_only(lambda body: body["overall"]["attempts"]),
    ),
    Endpoint(
        "POST /api/v1/progress/reset/",
        lambda w, c: c.post("/api/v1/progress/reset/", {"confirm": True}, format="json"),
        api(200),
        observe=_learner_attempt_live,
        changes_for=frozenset({"learner"}),  # everyone else resets only their own
    ),
    Endpoint(
        "GET /api/v1/scheduler/next/?course={published}",
        lambda w, c: c.get("/api/v1/scheduler/next/", {"course": str(w.course.pk)}),
        api(200),
        given=lambda w: w.atom,
        check=_offers_the_live_atom,
    ),
    Endpoint(
        "GET /api/v1/scheduler/next/?course={unpublished}",
        lambda w, c: c.get("/api/v1/scheduler/next/", {"course": str(w.hidden_course.pk)}),
        api(404),
    ),
    Endpoint(
        "GET /api/v1/scheduler/placement/next/?session={learner's}",
        lambda w, c: c.get(
            "/api/v1/scheduler/placement/next/", {"session": str(w.placement_session.pk)}
        ),
        api(404, learner=200),
    ),
    Endpoint(
        "POST /api/v1/scheduler/placement/finish/ {learner's, unfinished}",
        lambda w, c: c.post(
            "/api/v1/scheduler/placement/finish/",
            {"session": str(w.placement_session.pk)},
            format="json",
        ),
        api(404, learner=409),
    ),
    Endpoint("GET /api/schema/", lambda w, c: c.get("/api/schema/"), cells(200)),
    Endpoint("GET /api/docs/", lambda w, c: c.get("/api/docs/"), cells(200)),
]

# The workflow: (action, the atom's state before, who may). Superusers may do everything but
# review what they wrote; reviewers may not review an atom they wrote or last edited.
TRANSITIONS = [
    ("submit", "draft", {"author", "superuser"}),
    ("approve", "in_review", {"reviewer", "superuser"}),
    ("request_changes", "in_review", {"reviewer", "superuser"}),
    ("publish", "approved", {"publisher", "superuser"}),
    ("archive", "published", {"publisher", "superuser"}),
    ("restore", "archived", {"publisher", "superuser"}),
    ("approve", "in_review_edited_by_reviewer", {"superuser"}),
    ("request_changes", "in_review_edited_by_reviewer", {"superuser"}),
]
TARGET = {
    "submit": AtomStatus.IN_REVIEW,
    "approve": AtomStatus.APPROVED,
    "request_changes": AtomStatus.DRAFT,
    "publish": AtomStatus.PUBLISHED,
    "archive": AtomStatus.ARCHIVED,
    "restore": AtomStatus.DRAFT,
}
USUAL_SOURCE = {action: state for action, state, _ in TRANSITIONS[:6]}  # one row per action


def _unusual(state: str, action: str) -> str:
    """The cell name's suffix when the atom is not in the state the action usually leaves."""
    return "" if state == USUAL_SOURCE[action] else f" ({state})"


def _api_transition(action: str, state: str, allowed: set[str]) -> Endpoint:
    def send(w, c):
        url = f"/api/v1/authoring/atoms/{w.subject(state).pk}/transitions/"
        return c.post(url, {"action": action, "comment": COMMENT}, format="json")

    def check(w, role, response):
        assert json_of(response)["status"] == TARGET[action]

    return Endpoint(
        f"POST /api/v1/authoring/atoms/{{id}}/transitions/ {action}{_unusual(state, action)}",
        send,
        api(403, **dict.fromkeys(allowed, 200)),
        observe=lambda w: status_of(w.subject(state)),
        changes_for=frozenset(allowed),
        check=check,
    )


API_ENDPOINTS += [_api_transition(*row) for row in TRANSITIONS]


# --- the due forecast, retention and study tasks (issue 20) ----------------------------------


def _forecast_counts_own_atoms_only(w, role, response):
    assert json_of(response)["total"] == (1 if role == "learner" else 0)


def _own_tasks_only(w, role, response):
    titles = [row["title"] for row in json_of(response)["results"]]
    assert titles == (["Revise the signs"] if role == "learner" else [])


def _learner_task_status(w) -> str:
    return StudyTask.objects.values_list("status", flat=True).get(pk=w.learner_task.pk)


STUDY_TASKS_ADMIN = "/admin/learning/studytask/"
API_ENDPOINTS += [
    Endpoint(
        "GET /api/v1/progress/forecast/?course={published}",
        lambda w, c: c.get("/api/v1/progress/forecast/", {"course": str(w.course.pk)}),
        api(200),
        given=lambda w: w.learner_due_state,
        check=_forecast_counts_own_atoms_only,
    ),
    Endpoint(
        "GET /api/v1/progress/forecast/?course={unpublished}",
        lambda w, c: c.get("/api/v1/progress/forecast/", {"course": str(w.hidden_course.pk)}),
        api(404),
    ),
    Endpoint(
        "GET /api/v1/progress/retention/?course={published}",
        lambda w, c: c.get("/api/v1/progress/retention/", {"course": str(w.course.pk)}),
        api(200),
        given=lambda w: w.learner_attempt,
    ),
    Endpoint(
        "GET /api/v1/tasks/",
        lambda w, c: c.get("/api/v1/tasks/"),
        api(200),
        given=lambda w: w.learner_task,
        check=_own_tasks_only,
    ),
    Endpoint(
        "PATCH /api/v1/tasks/{learner's}/",
        lambda w, c: c.patch(
            f"/api/v1/tasks/{w.learner_task.pk}/", {"status": "done"}, format="json"
        ),
        api(404, learner=200),  # superusers too: the API shows only the caller's tasks
        observe=_learner_task_status,
        changes_for=frozenset({"learner"}),
    ),
    Endpoint(
        f"GET {STUDY_TASKS_ADMIN}",
        lambda w, c: c.get(STUDY_TASKS_ADMIN),
        admin(403, migration_staff=200, superuser=200),  # apps/learning/permissions.py
        browser=True,
        given=lambda w: w.learner_task,
    ),
]


# --- daily limits and mistakes (issue 20) ------------------------------------------------------


def _learner_open_mistake(w):
    """An open mistake of the learner's on the live atom (recorded as a wrong answer would)."""
    from apps.learning.models import Mistake

    return Mistake.objects.get_or_create(
        learner=w.learner, atom=w.atom, concept=w.concept,
        defaults={"subtype": "wrong_answer", "occurred_at": timezone.now()},
    )[0]  # fmt: skip


def _own_mistakes_only(w, role, response):
    assert json_of(response)["open"] == (1 if role == "learner" else 0)


def _learner_mistakes_sessions(w) -> int:
    return StudySession.objects.filter(learner=w.learner, kind="mistakes").count()


def _learner_daily_new_limit(w):
    return User.objects.values_list("daily_new_limit", flat=True).get(pk=w.learner.pk)


def _no_one_elses_mistakes(w, role, response):
    """Another learner's mistakes session id is no session of the caller's: plain items."""
    reasons = {item["reason"] for item in json_of(response)["items"]}
    assert ("review a mistake" in reasons) == (role == "learner"), reasons
    assert set(json_of(response)["limits"]) >= {"new_left", "reviews_left"}


def _learner_mistakes_session(w) -> StudySession:
    _learner_open_mistake(w)
    return StudySession.objects.filter(learner=w.learner, kind="mistakes").first() or (
        study_session_start(learner=w.learner, course=w.course, kind="mistakes")
    )


API_ENDPOINTS += [
    Endpoint(
        "GET /api/v1/mistakes/?course={published}",
        lambda w, c: c.get("/api/v1/mistakes/", {"course": str(w.course.pk)}),
        api(200),
        given=_learner_open_mistake,
        check=_own_mistakes_only,
    ),
    Endpoint(
        "GET /api/v1/mistakes/?course={unpublished}",
        lambda w, c: c.get("/api/v1/mistakes/", {"course": str(w.hidden_course.pk)}),
        api(404),
    ),
    Endpoint(
        "POST /api/v1/sessions/ {kind: mistakes}",
        lambda w, c: c.post(
            "/api/v1/sessions/", {"kind": "mistakes", "course": str(w.course.pk)}, format="json"
        ),
        api(409, learner=201),  # only the learner has open mistakes: no_open_mistakes
        given=_learner_open_mistake,
        observe=_learner_mistakes_sessions,
        changes_for=frozenset({"learner"}),
        check=_session_is_the_callers,
    ),
    Endpoint(
        "GET /api/v1/scheduler/next/?session={learner's mistakes session}",
        lambda w, c: c.get(
            "/api/v1/scheduler/next/",
            {"course": str(w.course.pk), "session": str(_learner_mistakes_session(w).pk)},
        ),
        api(200),
        given=_learner_mistakes_session,
        check=_no_one_elses_mistakes,
    ),
    Endpoint(
        "PATCH /api/v1/me/ {daily limits}",
        lambda w, c: c.patch("/api/v1/me/", {"daily_new_limit": 3}, format="json"),
        api(200),
        observe=_learner_daily_new_limit,
        changes_for=frozenset({"learner"}),  # everyone else sets only their own
    ),
]


# --- mock tests (apps/assessment) -------------------------------------------------------------
# Each caller starts and lists their own tests; the learner's test answers only to them (404).
# Blueprints are edited in the admin by Authors and Publishers; Reviewers only read them.


def _mock_test_blueprint(w):
    from apps.assessment.models import MockTestBlueprint
    from apps.assessment.services import SectionInput, mock_test_blueprint_save

    w.atom  # noqa: B018 - the one item the blueprint draws
    blueprint = MockTestBlueprint.objects.filter(course=w.course).first()
    return blueprint or mock_test_blueprint_save(
        blueprint=MockTestBlueprint(course=w.course, time_limit_minutes=30, pass_mark_percent=50),
        sections=[SectionInput(1, concept=w.concept)],
        by=None,
    )


def _learner_mock_test(w):
    from apps.assessment.models import MockTest
    from apps.assessment.services import mock_test_start

    _mock_test_blueprint(w)
    test = MockTest.objects.filter(learner=w.learner).first()
    return test or mock_test_start(learner=w.learner, course=w.course)


def _mock_test_answered(w) -> int:
    return _learner_mock_test(w).items.filter(answered_at__isnull=False).count()


def _mock_test_submitted_at(w):
    from apps.assessment.models import MockTest

    return MockTest.objects.values_list("submitted_at", flat=True).get(pk=_learner_mock_test(w).pk)


def _mock_test_answer(w, c):
    from uuid import uuid4

    body = {"atom": str(w.atom.pk), "response": {"choice": 1}, "client_attempt_id": str(uuid4())}
    return c.post(f"{MOCK_TESTS}{_learner_mock_test(w).pk}/answers/", body, format="json")


def _mock_test_is_the_callers(w, role, response):
    from apps.assessment.models import MockTest

    assert MockTest.objects.get(pk=json_of(response)["id"]).learner == w.actor


MOCK_TESTS = "/api/v1/mock-tests/"
BLUEPRINTS_ADMIN = "/admin/assessment/mocktestblueprint/"
API_ENDPOINTS += [
    Endpoint(
        f"GET {MOCK_TESTS}",
        lambda w, c: c.get(MOCK_TESTS),
        api(200),
        given=_learner_mock_test,
        check=_own_attempts_only(lambda body: body["count"]),
    ),
    Endpoint(
        f"POST {MOCK_TESTS}",
        lambda w, c: c.post(MOCK_TESTS, {"course": str(w.course.pk)}, format="json"),
        api(201),
        given=_mock_test_blueprint,
        check=_mock_test_is_the_callers,
    ),
    Endpoint(
        f"GET {MOCK_TESTS}{{learner's}}/",
        lambda w, c: c.get(f"{MOCK_TESTS}{_learner_mock_test(w).pk}/"),
        api(404, learner=200),
    ),
    Endpoint(
        f"POST {MOCK_TESTS}{{learner's}}/answers/",
        _mock_test_answer,
        api(404, learner=201),
        observe=_mock_test_answered,
        changes_for=frozenset({"learner"}),
    ),
    Endpoint(
        f"POST {MOCK_TESTS}{{learner's}}/submit/",
        lambda w, c: c.post(f"{MOCK_TESTS}{_learner_mock_test(w).pk}/submit/"),
        api(404, learner=200),
        observe=_mock_test_submitted_at,
        changes_for=frozenset({"learner"}),
    ),
    # the admin (browser rows): blueprints for Authors and Publishers, read by Reviewers
    Endpoint(
        f"GET {BLUEPRINTS_ADMIN}",
        lambda w, c: c.get(BLUEPRINTS_ADMIN),
        admin(200, migration_staff=403),
        browser=True,
        given=_mock_test_blueprint,
    ),
    Endpoint(
        f"GET {BLUEPRINTS_ADMIN}{{id}}/change/",
        lambda w, c: c.get(f"{BLUEPRINTS_ADMIN}{_mock_test_blueprint(w).pk}/change/"),
        admin(200, migration_staff=403),
        browser=True,
    ),
    Endpoint(
        f"GET {BLUEPRINTS_ADMIN}add/",
        lambda w, c: c.get(f"{BLUEPRINTS_ADMIN}add/"),
        admin(200, reviewer=403, migration_staff=403),
        browser=True,
    ),
]


# --- admin: the atom workflow -----------------------------------------------------------------

ATOMS_ADMIN = "/admin/content/learningatom/"
BULK_ACTIONS = ("submit", "approve", "publish", "archive")  # LearningAtomAdmin.actions


def _admin_transition_page(action: str, state: str) -> Endpoint:
    return Endpoint(
        f"GET {ATOMS_ADMIN}{{id}}/workflow/{action}/",
        lambda w, c: c.get(f"{ATOMS_ADMIN}{w.subject(state).pk}/workflow/{action}/"),
        admin(200, migration_staff=403),  # a confirmation form; the POST re-checks
        browser=True,
    )


def _admin_transition(action: str, state: str, allowed: set[str]) -> Endpoint:
    """The change page's buttons: refused by the service, the admin shows why (302)."""
    return Endpoint(
        f"POST {ATOMS_ADMIN}{{id}}/workflow/{action}/{_unusual(state, action)}",
        lambda w, c: c.post(
            f"{ATOMS_ADMIN}{w.subject(state).pk}/workflow/{action}/", {"comment": COMMENT}
        ),
        admin(302, migration_staff=403),
        browser=True,
        observe=lambda w: status_of(w.subject(state)),
        changes_for=frozenset(allowed),
    )


def _admin_bulk(action: str, state: str, allowed: set[str]) -> Endpoint:
    """The changelist's actions (submit, approve, publish, archive the selected atoms)."""
    return Endpoint(
        f"POST {ATOMS_ADMIN} action={action}_selected{_unusual(state, action)}",
        lambda w, c: c.post(
            ATOMS_ADMIN, {"action": f"{action}_selected", "_selected_action": [w.subject(state).pk]}
        ),
        admin(302, migration_staff=403),
        browser=True,
        observe=lambda w: status_of(w.subject(state)),
        changes_for=frozenset(allowed),
    )


ATOM_ADMIN = [
    Endpoint(
        f"GET {ATOMS_ADMIN}",
        lambda w, c: c.get(ATOMS_ADMIN),
        admin(200, migration_staff=403),
        browser=True,
        given=lambda w: w.draft_atom,
    ),
    Endpoint(
        f"GET {ATOMS_ADMIN}{{draft}}/change/",
        lambda w, c: c.get(f"{ATOMS_ADMIN}{w.draft_atom.pk}/change/"),
        admin(200, migration_staff=403),
        browser=True,
    ),
    *(_admin_transition_page(action, state) for action, state, _ in TRANSITIONS[:6]),
    *(_admin_transition(*row) for row in TRANSITIONS),
    *(_admin_bulk(*row) for row in TRANSITIONS if row[0] in BULK_ACTIONS),
    Endpoint(
        f"GET {ATOMS_ADMIN}{{approved}}/schedule/",
        lambda w, c: c.get(f"{ATOMS_ADMIN}{w.subject('approved').pk}/schedule/"),
        admin(200, migration_staff=403),
        browser=True,
    ),
    Endpoint(
        f"POST {ATOMS_ADMIN}{{approved}}/schedule/",
        lambda w, c: c.post(
            f"{ATOMS_ADMIN}{w.subject('approved').pk}/schedule/",
            {"publish_at": "2031-01-01 09:00", "expire_at": ""},
        ),
        admin(302, migration_staff=403),  # others: refused with a message on the atom's page
        browser=True,
        observe=lambda w: LearningAtom.objects.get(pk=w.subject("approved").pk).publish_at,
        changes_for=frozenset({"publisher", "superuser"}),
    ),
    Endpoint(
        f"POST {ATOMS_ADMIN}{{draft}}/lock/",
        lambda w, c: c.post(f"{ATOMS_ADMIN}{w.draft_atom.pk}/lock/"),
        admin(302, reviewer=403, migration_staff=403),  # editors only: reviewers only read
        browser=True,
        observe=lambda w: AtomEditLock.objects.filter(atom=w.draft_atom).exists(),
        changes_for=frozenset({"author", "publisher", "superuser"}),
    ),
    Endpoint(
        f"POST {ATOMS_ADMIN}{{in_review}}/comments/",
        lambda w, c: c.post(
            f"{ATOMS_ADMIN}{w.subject('in_review').pk}/comments/", {"body": COMMENT}
        ),
        admin(302, migration_staff=403),
        browser=True,
        observe=lambda w: ReviewComment.objects.filter(atom=w.subject("in_review")).count(),
        changes_for=frozenset({"author", "reviewer", "publisher", "superuser"}),
    ),
    Endpoint(
        f"GET {ATOMS_ADMIN}{{published}}/preview/",
        lambda w, c: c.get(f"{ATOMS_ADMIN}{w.atom.pk}/preview/"),
        admin(200, migration_staff=403),
        browser=True,
    ),
    Endpoint(
        f"GET {ATOMS_ADMIN}{{published}}/revisions/",
        lambda w, c: c.get(f"{ATOMS_ADMIN}{w.atom.pk}/revisions/"),
        admin(200, migration_staff=403),
        browser=True,
    ),
]


# --- weekly leagues (issue 21) -----------------------------------------------------------------
# Only the learner opted in: every other caller is told to join (409 leagues_not_joined), and the
# learner's league shows nobody who did not opt in.


def _learner_in_a_league(w):
    from apps.leagues.models import LeagueMembership
    from apps.leagues.services import leagues_place

    if not LeagueMembership.objects.filter(learner=w.learner).exists():
        w.learner.leagues_opt_in = True
        w.learner.save(update_fields=["leagues_opt_in"])
        leagues_place(learner_ids=[w.learner.pk])


def _league_shows_only_the_learner(w, role, response):
    members = json_of(response)["members"]
    assert [(m["display_name"], m["you"]) for m in members] == [(w.learner.display_name, True)]


def _learner_leagues_opt_in(w) -> bool:
    return User.objects.values_list("leagues_opt_in", flat=True).get(pk=w.learner.pk)


LEAGUES_ADMIN = "/admin/leagues/"
API_ENDPOINTS += [
    Endpoint(
        "GET /api/v1/leagues/current/",
        lambda w, c: c.get("/api/v1/leagues/current/"),
        api(409, learner=200),
        given=_learner_in_a_league,
        check=_league_shows_only_the_learner,
    ),
    Endpoint(
        "PATCH /api/v1/me/ {leagues_opt_in}",
        lambda w, c: c.patch("/api/v1/me/", {"leagues_opt_in": True}, format="json"),
        api(200),
        observe=_learner_leagues_opt_in,
        changes_for=frozenset({"learner"}),  # everyone else joins only themselves
    ),
    *[
        Endpoint(
            f"GET {LEAGUES_ADMIN}{model}/",
            lambda w, c, model=model: c.get(f"{LEAGUES_ADMIN}{model}/"),
            admin(403, superuser=200),  # Analysts (not in this matrix) read them too
            browser=True,
            given=_learner_in_a_league,
        )
        for model in ("league", "leaguemembership")
    ],
]


# --- the analytics event log (issue 21) --------------------------------------------------------
# Staff who hold analytics.export_events (the Analysts role, not in this matrix, and
# superusers) read the log; every other caller, learners and the other staff roles, gets a 403.
# The admin shows it read-only to the same people.


def _analytics_event(w):
    from datetime import timedelta

    from apps.analytics.models import AnalyticsEvent
    from apps.analytics.schema import EventKind, event_payload

    if not hasattr(w, "analytics_event"):  # older than the export's settle time
        version, payload = event_payload(EventKind.COHORT_ASSIGNED, {"cohort": "v1", "source": "x"})
        w.analytics_event = AnalyticsEvent.objects.create(
            kind=EventKind.COHORT_ASSIGNED, schema_version=version, learner=w.learner,
            occurred_at=timezone.now() - timedelta(minutes=1), payload=payload,
        )  # fmt: skip
    return w.analytics_event


def _the_analytics_event(w, role, response):
    assert [row["id"] for row in json_of(response)["results"]] == [_analytics_event(w).pk]


ANALYTICS_ADMIN = "/admin/analytics/analyticsevent/"
API_ENDPOINTS += [
    Endpoint(
        "GET /api/v1/analytics/events/",
        lambda w, c: c.get("/api/v1/analytics/events/"),
        api(403, superuser=200),
        given=_analytics_event,
        check=_the_analytics_event,
    ),
    Endpoint(
        f"GET {ANALYTICS_ADMIN}",
        lambda w, c: c.get(ANALYTICS_ADMIN),
        admin(403, superuser=200),
        browser=True,
        given=_analytics_event,
    ),
    Endpoint(
        f"GET {ANALYTICS_ADMIN}{{id}}/change/",
        lambda w, c: c.get(f"{ANALYTICS_ADMIN}{_analytics_event(w).pk}/change/"),
        admin(403, superuser=200),  # read-only: the change page only shows it
        browser=True,
    ),
]


# --- achievements: badges (issue 21) -----------------------------------------------------------
# Every caller reads their own badges (the learner earned one: nobody else sees it as earned).
# Publishers (and superusers) manage badge definitions, icon upload included, and read awards.


def _badge_earned_by_the_learner(w):
    from apps.achievements.models import BadgeRule, LearnerBadge
    from apps.achievements.services import badges_check
    from apps.learning.models import XPEvent, XPReason
    from tests.achievements.helpers import make_badge

    w._request.getfixturevalue("settings").MEDIA_ROOT = w._request.getfixturevalue("tmp_path")
    if not hasattr(w, "badge"):
        w.badge = make_badge(BadgeRule.XP_TOTAL, 10, name="Matrix badge")
        XPEvent.objects.create(
            learner=w.learner, amount=10, reason=XPReason.ATTEMPT, occurred_at=timezone.now()
        )
        badges_check(learner=w.learner)
        assert LearnerBadge.objects.filter(learner=w.learner).count() == 1
    return w.badge


def _only_the_callers_badges(w, role, response):
    body = json_of(response)
    earned = [row["badge"]["id"] for row in body["earned"]]
    upcoming = [row["badge"]["id"] for row in body["next"]]
    expected = str(_badge_earned_by_the_learner(w).pk)
    assert (earned, upcoming) == (([expected], []) if role == "learner" else ([], [expected]))


def _badge_add(w, c):
    from tests.achievements.helpers import png_upload

    w._request.getfixturevalue("settings").MEDIA_ROOT = w._request.getfixturevalue("tmp_path")
    body = {"name": f"Matrix {w.role}", "icon": png_upload(), "rule": "xp_total",
            "threshold": "100", "course": "", "is_active": "on"}  # fmt: skip
    return c.post(f"{ACHIEVEMENTS_ADMIN}badge/add/", body)


def _badge_count(w) -> int:
    from apps.achievements.models import Badge

    return Badge.objects.count()


ACHIEVEMENTS_ADMIN = "/admin/achievements/"
BADGE_EDITORS = {"publisher": 200, "superuser": 200}
API_ENDPOINTS += [
    Endpoint(
        "GET /api/v1/me/achievements/",
        lambda w, c: c.get("/api/v1/me/achievements/"),
        api(200),
        given=_badge_earned_by_the_learner,
        check=_only_the_callers_badges,
    ),
    *[
        Endpoint(
            f"GET {ACHIEVEMENTS_ADMIN}{model}/",
            lambda w, c, model=model: c.get(f"{ACHIEVEMENTS_ADMIN}{model}/"),
            admin(403, **BADGE_EDITORS),
            browser=True,
            given=_badge_earned_by_the_learner,
        )
        for model in ("badge", "learnerbadge")
    ],
    Endpoint(
        f"POST {ACHIEVEMENTS_ADMIN}badge/add/ (with an icon)",
        _badge_add,
        admin(403, publisher=302, superuser=302),
        browser=True,
        observe=_badge_count,
        changes_for=frozenset({"publisher", "superuser"}),
    ),
]


# --- experiments between scheduling algorithms (issue 21) ---------------------------------------
# Publishers define experiments on a course and read the analysis (so do Analysts, not in this
# matrix, and superusers); the other staff roles get a 403, learners the admin login. The API
# (GET /api/v1/experiments/ and its analysis) answers the same people, and 403 to the others.


def _experiment(w):
    from apps.experiments.models import Experiment
    from tests.experiments.factories import make_experiment

    return Experiment.objects.filter(course=w.course).first() or make_experiment(w.course)


def _experiment_add(w, c):
    from datetime import timedelta

    start = timezone.now() + timedelta(days=1)
    body = {
        "name": "FSRS 0.85 vs the course", "course": str(w.course.pk), "hypothesis": "",
        "starts_at_0": start.date().isoformat(), "starts_at_1": "09:00:00",
        "ends_at_0": (start + timedelta(days=30)).date().isoformat(), "ends_at_1": "09:00:00",
        "arms-TOTAL_FORMS": "2", "arms-INITIAL_FORMS": "0", "arms-MIN_NUM_FORMS": "2",
        "arms-MAX_NUM_FORMS": "1000",
        "arms-0-key": "control", "arms-0-algorithm": "", "arms-0-parameters": "{}",
        "arms-0-weight": "1", "arms-0-is_control": "on",
        "arms-1-key": "fsrs85", "arms-1-algorithm": "fsrs",
        "arms-1-parameters": '{"desired_retention": 0.85}', "arms-1-weight": "1",
    }  # fmt: skip
    return c.post(f"{EXPERIMENTS_ADMIN}experiment/add/", body)


def _experiments_with_arms(w) -> list:
    from apps.experiments.models import Arm

    return sorted(Arm.objects.values_list("experiment__name", "key", "algorithm"))


def _the_experiment_listed(w, role, response):
    assert [row["id"] for row in json_of(response)["results"]] == [str(_experiment(w).pk)]


def _the_experiment_analysed(w, role, response):
    body = json_of(response)
    assert body["experiment"]["id"] == str(_experiment(w).pk)
    assert [arm["key"] for arm in body["arms"]] == ["control", "fsrs"]


EXPERIMENTS_ADMIN = "/admin/experiments/"
EXPERIMENTERS = {"publisher": 200, "superuser": 200}
API_ENDPOINTS += [
    Endpoint(
        "GET /api/v1/experiments/",
        lambda w, c: c.get("/api/v1/experiments/"),
        api(403, **EXPERIMENTERS),
        given=_experiment,
        check=_the_experiment_listed,
    ),
    Endpoint(
        "GET /api/v1/experiments/{id}/analysis/",
        lambda w, c: c.get(f"/api/v1/experiments/{_experiment(w).pk}/analysis/"),
        api(403, **EXPERIMENTERS),
        check=_the_experiment_analysed,
    ),
    Endpoint(
        "GET /api/v1/experiments/{unknown}/analysis/",
        lambda w, c: c.get("/api/v1/experiments/00000000-0000-4000-8000-000000000000/analysis/"),
        api(403, publisher=404, superuser=404),  # the permission first: no probing for ids
    ),
    *[
        Endpoint(
            f"GET {EXPERIMENTS_ADMIN}{model}/",
            lambda w, c, model=model: c.get(f"{EXPERIMENTS_ADMIN}{model}/"),
            admin(403, **EXPERIMENTERS),
            browser=True,
            given=_experiment,
        )
        for model in ("experiment", "assignment")
    ],
    Endpoint(
        f"GET {EXPERIMENTS_ADMIN}experiment/{{id}}/analysis/",
        lambda w, c: c.get(f"{EXPERIMENTS_ADMIN}experiment/{_experiment(w).pk}/analysis/"),
        admin(403, **EXPERIMENTERS),
        browser=True,
    ),
    Endpoint(
        f"POST {EXPERIMENTS_ADMIN}experiment/add/ (with two arms)",
        _experiment_add,
        admin(403, publisher=302, superuser=302),
        browser=True,
        observe=_experiments_with_arms,
        changes_for=frozenset({"publisher", "superuser"}),
    ),
]


ENDPOINTS = [*API_ENDPOINTS, *ATOM_ADMIN]
assert len({e.name for e in ENDPOINTS}) == len(ENDPOINTS), "endpoint names must be unique"


# --- the matrix --------------------------------------------------------------------------------


def client_for(world: World, endpoint: Endpoint):
    user = world.actor
    if endpoint.browser:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def assert_status(response, expected) -> None:
    location = response.headers.get("Location", "")
    if expected == LOGIN:
        assert response.status_code == 302 and location.startswith("/admin/login/"), (
            response.status_code,
            location,
        )
        return
    assert response.status_code == expected, (response.status_code, response.content[:500])
    if expected == 302:  # a redirect back to the page, never to the login
        assert not location.startswith("/admin/login/"), location


def matrix_cells(endpoints: list[Endpoint]) -> list:
    return [
        pytest.param(endpoint, role, id=f"{role}-{endpoint.name}")
        for endpoint in endpoints
        for role in ROLES
    ]


@pytest.mark.parametrize(("endpoint", "role"), matrix_cells(ENDPOINTS))
def test_permissions_matrix(world, endpoint, role):
    cell_run(world, endpoint, role)


def cell_run(world: World, endpoint: Endpoint, role: str) -> None:
    # given the role's user and what the request acts on
    world.role = role
    world.actor  # noqa: B018 - created before the "before" snapshot
    if endpoint.given:
        endpoint.given(world)
    before = endpoint.observe(world) if endpoint.observe else None
    client = client_for(world, endpoint)

    # when they make the request
    response = endpoint.send(world, client)

    # then they get the cell's status, and only the allowed roles changed anything
    assert_status(response, endpoint.expected[role])
    if endpoint.observe:
        after = endpoint.observe(world)
        if role in endpoint.changes_for:
            assert after != before, f"{role} should have changed it: still {after!r}"
        else:
            assert after == before, f"{role} changed {before!r} to {after!r}"
    if endpoint.check and 200 <= response.status_code < 300:
        endpoint.check(world, role, response)


def test_every_api_and_staff_route_has_a_row():
    """A new route under /api/ or /staff/migration/ needs its row in the matrix (the migration's
    rows are in tests/legacy_sync/test_permissions_migration.py)."""
    endpoints = list(ENDPOINTS)
    if LEGACY_SYNC_INSTALLED:
        from tests.legacy_sync.test_permissions_migration import MIGRATION_ENDPOINTS

        endpoints += MIGRATION_ENDPOINTS

    def routes(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    covered = {endpoint.name.split()[1].split("?")[0] for endpoint in endpoints}
    prefixes = ("api/v1/", "api/schema/", "api/docs/", "staff/migration/")
    for route in routes(get_resolver().url_patterns):
        if not route.startswith(prefixes):
            continue
        # "api/v1/^atoms/(?P<pk>[^/.]+)/$" and "sessions/<uuid:session_id>/complete/" alike
        literal = route.replace("^", "").replace("$", "")
        shape = re.sub(r"<[^>]+>|\(\?P<\w+>[^)]*\)", "[^/]+", literal)
        assert any(re.fullmatch(f"/{shape}", path) for path in covered), route
