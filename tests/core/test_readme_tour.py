"""The README's "first five minutes", step by step on the demo data, as each role would click it.

If this fails, the README tells newcomers to do something the demo no longer offers: fix the
demo or the README, not this test. (The browser journeys in tests/e2e cover the same screens
in Chromium; this checks the demo gives every role the work the README promises.)
"""

import json
import uuid

import pytest
from django.core.management import call_command
from django.test import Client

from apps.accounts.models import User
from apps.content.models import LearningAtom
from apps.curriculum.models import Course, Unit
from tests.legacy import legacy_schema_reset

pytestmark = pytest.mark.django_db(databases=["default", "legacy"])

ATOMS = "/admin/content/learningatom/"


@pytest.fixture
def demo(settings, tmp_path):
    settings.LEGACY_JSON_DIR = tmp_path
    legacy_schema_reset()  # an empty v1 database: the demo generates its own
    call_command("load_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def logged_in(email: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(email=email))
    return client


def transition(client: Client, atom: LearningAtom, action: str, comment: str = "") -> str:
    client.post(f"{ATOMS}{atom.pk}/workflow/{action}/", {"comment": comment})
    atom.refresh_from_db()
    return atom.status


def test_every_role_finds_the_work_the_readme_promises(demo):
    amber, fog, box = (
        LearningAtom.objects.get(title=title)
        for title in ("Amber light", "Fog lights", "Box junctions")
    )

    # 1. The author's drafts hold Amber light, flagged for its unlinked distractor; submit it.
    author = logged_in("author@demo.local")
    assert "Amber light" in author.get(f"{ATOMS}?queue=my_drafts").text
    assert "distractor-warning" in author.get(f"{ATOMS}{amber.pk}/change/").text
    assert transition(author, amber, "submit") == "in_review"

    # 2. The reviewer's queue holds Fog lights, with its preview; approve it. Publishing is
    # refused by the server, whatever the page shows.
    reviewer = logged_in("reviewer@demo.local")
    assert "Fog lights" in reviewer.get(f"{ATOMS}?queue=awaiting_my_review").text
    page = reviewer.get(f"{ATOMS}{fog.pk}/change/").text
    assert "Preview and check an answer" in page
    assert transition(reviewer, fog, "approve") == "approved"
    assert transition(reviewer, fog, "publish") == "approved"

    # 3. The publisher finds Box junctions among the approved atoms and publishes it; its
    # revisions page lists the published version.
    publisher = logged_in("publisher@demo.local")
    assert "Box junctions" in publisher.get(f"{ATOMS}?status__exact=approved").text
    assert transition(publisher, box, "publish") == "published"
    assert publisher.get(f"{ATOMS}{box.pk}/revisions/").status_code == 200

    # 4. The learner: a token, the courses, next items, one answer (twice: the same result),
    # and progress.
    api = Client()
    token = api.post(
        "/api/v1/auth/token/",
        {"email": "learner@demo.local", "password": "demo12345"},
        content_type="application/json",
    ).json()["access"]
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    courses = api.get("/api/v1/courses/", **headers).json()["results"]
    driving = next(c for c in courses if c["id"] == str(Course.objects.get(origin="v2").pk))
    items = api.get(f"/api/v1/scheduler/next/?course={driving['id']}", **headers).json()["items"]
    mcq = next(item["atom"] for item in items if item["atom"]["atom_type"] == "mcq")
    answer = {
        "client_attempt_id": str(uuid.uuid4()),
        "atom": mcq["id"],
        "response": {"choice": 0},
        "time_taken_ms": 4000,
    }
    first = api.post("/api/v1/attempts/", json.dumps(answer), "application/json", **headers)
    again = api.post("/api/v1/attempts/", json.dumps(answer), "application/json", **headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    progress = api.get("/api/v1/progress/", **headers).json()
    assert {row["status"] for row in progress["concepts"]} <= {"locked", "learning", "mastered"}
    assert progress["concepts"]

    # What is left today, what is due this week, and the mistakes to practise.
    limits = api.get(f"/api/v1/scheduler/next/?course={driving['id']}", **headers).json()["limits"]
    assert {"new_left", "reviews_left"} <= set(limits)
    week = api.get(f"/api/v1/progress/forecast/?course={driving['id']}&days=7", **headers)
    assert week.status_code == 200
    mistakes = api.get(f"/api/v1/mistakes/?course={driving['id']}", **headers).json()
    wrong = first.json()["correct"] is False  # then the answer above is a mistake now
    assert (str(mcq["id"]) in {a["atom"] for g in mistakes["groups"] for a in g["atoms"]}) == wrong
    if mistakes["open"]:
        session = api.post("/api/v1/sessions/", json.dumps({"kind": "mistakes",
                           "course": driving["id"]}), "application/json", **headers)  # fmt: skip
        assert session.status_code == 201, session.content

    # The demo course's mock test: drawn from its blueprint, answered with no verdict, marked
    # on submit with the units that failed the learner.
    test = api.post("/api/v1/mock-tests/", json.dumps({"course": driving["id"]}),
                    "application/json", **headers)  # fmt: skip
    assert test.status_code == 201, test.content
    test = test.json()
    assert len(test["items"]) == 8  # Road signs 3, Speed and stopping 5
    for item in test["items"]:
        reply = api.post(
            f"/api/v1/mock-tests/{test['id']}/answers/",
            json.dumps(
                {"atom": item["id"], "response": {}, "client_attempt_id": str(uuid.uuid4())}
            ),
            "application/json",
            **headers,
        )
        assert reply.status_code in (201, 400), reply.content  # an empty answer may not fit
        assert "correct" not in reply.json()
    result = api.post(f"/api/v1/mock-tests/{test['id']}/submit/", **headers).json()
    units = {str(u.pk) for u in Unit.objects.filter(title__in=["Road signs", "Speed and stopping"])}
    assert {row["unit"] for row in result["by_unit"]} == units
    assert result["passed"] is False


@pytest.mark.legacy_sync
def test_migration_staff_find_the_rows_to_fix(demo):
    from apps.legacy_sync.models import QuarantinedRow

    # 5. Migration staff: the status page links the duplicate-email rows to fix.
    staff = logged_in("staff@demo.local")
    status = staff.get("/staff/migration/").text
    assert "?reason=duplicate_email" in status
    assert QuarantinedRow.objects.filter(reason="duplicate_email").exists()
    rows = staff.get("/admin/legacy_sync/quarantinedrow/?reason=duplicate_email")
    assert rows.status_code == 200 and "duplicate_email" in rows.text
