"""The staff migration status pages (/staff/migration/): who may see them, the figures they
show for seeded rows (apps/legacy_sync/status/), their htmx fragments, the JSON endpoint,
``legacy_status --json``'s live parts, and the vendored htmx and Chart.js."""

import io
import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import AUTHORS, MIGRATION_STAFF
from apps.core.models import Origin
from apps.learning.models import Attempt, StudySession
from apps.legacy_sync.backfill.runner import STAGES
from apps.legacy_sync.models import (
    BackfillCheckpoint,
    BackfillRun,
    BackfillStatus,
    Cohort,
    CohortAssignment,
    FlagChange,
    OutboxEntry,
    OutboxStatus,
    QuarantinedRow,
    ReadSource,
    ReconciliationDifference,
    ReconciliationRun,
    ReconciliationStatus,
    ShadowRead,
    SyncFlags,
)
from apps.legacy_sync.status import (
    SECTIONS,
    backfill_finished,
    migration_phase,
    migration_status,
    percentile,
    status_section,
)
from apps.legacy_sync.v1.fixture import legacy_fixture_build
from apps.legacy_sync.v1.schema import legacy_schema_create
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.learning.factories import AttemptFactory

pytestmark = pytest.mark.django_db(databases=["default", "legacy"])

ROOT = Path(settings.BASE_DIR)
STATUS_URL = "/staff/migration/"
JSON_URL = "/staff/migration/status.json"
STATUS_TEMPLATES = ROOT / "templates" / "legacy_sync"


@pytest.fixture(autouse=True)
def legacy_tables(settings, tmp_path):
    """Empty v1 tables (rolled back with the test) and no JSON progress files, so that the
    conservation counts are the test's own."""
    settings.VAR_DIR = settings.LEGACY_JSON_DIR = tmp_path
    legacy_schema_create(alias="legacy", replace=True)


@pytest.fixture
def staff(db):
    return UserFactory(is_staff=True, roles=[MIGRATION_STAFF])


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def body(response) -> str:
    return response.content.decode()


def element(html: str, element_id: str) -> str:
    """The text inside the element with ``id`` (tags stripped, spaces squeezed)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{re.escape(element_id)}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, f"no element #{element_id}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


def attribute(html: str, element_id: str, name: str) -> str:
    tag = re.search(rf'<\w+[^>]*\bid="{re.escape(element_id)}"[^>]*>', html, re.S).group(0)
    return re.search(rf'\b{name}="([^"]*)"', tag).group(1)


def backdate(model, pk, **moments) -> None:
    """Set auto_now_add timestamps, which create() ignores."""
    model.objects.filter(pk=pk).update(**moments)


# --- Who may see the pages ---


def reconciliation_run(**fields) -> ReconciliationRun:
    defaults = {"status": ReconciliationStatus.CLEAN, "finished_at": timezone.now()}
    return ReconciliationRun.objects.create(**{**defaults, **fields})


def protected_urls() -> list[str]:
    run = reconciliation_run()
    return [
        STATUS_URL,
        JSON_URL,
        reverse("legacy_sync:status-fragment", args=["outbox"]),
        reverse("legacy_sync:status-fragment", args=["backfill"]),
        reverse("legacy_sync:reconciliation-run", args=[run.pk]),
    ]


@pytest.mark.parametrize(
    ("who", "expected"),
    [("learner", 403), ("author", 403), ("migration staff", 200), ("superuser", 200)],
)
def test_only_migration_staff_and_superusers_see_the_status_pages(client, who, expected):
    # given a user of each kind
    user = {
        "learner": lambda: UserFactory(),
        "author": lambda: UserFactory(is_staff=True, roles=[AUTHORS]),
        "migration staff": lambda: UserFactory(is_staff=True, roles=[MIGRATION_STAFF]),
        "superuser": lambda: UserFactory(is_staff=True, is_superuser=True),
    }[who]()
    client.force_login(user)

    # when they open each page, fragment and the JSON
    codes = {url: client.get(url).status_code for url in protected_urls()}

    # then only Migration staff and superusers get them
    assert codes == dict.fromkeys(codes, expected)


def test_anonymous_visitors_are_sent_to_the_admin_login(client):
    for url in protected_urls():
        response = client.get(url)

        assert response.status_code == 302, url
        assert response.url.startswith(f"{reverse('admin:login')}?next="), url


def test_a_poll_after_the_session_expired_sends_the_whole_page_to_the_login(client):
    url = reverse("legacy_sync:status-fragment", args=["outbox"])

    response = client.get(url, headers={"HX-Request": "true"})

    # (htmx does not swap a 401; it follows HX-Redirect with the whole page)
    assert response.status_code == 401
    assert response["HX-Redirect"] == f"{reverse('admin:login')}?next=/staff/migration/"


def test_the_pages_only_answer_get(staff_client):
    assert staff_client.post(STATUS_URL).status_code == 405


def test_the_admin_index_links_the_status_pages_for_migration_staff_only(client, staff):
    client.force_login(staff)
    assert 'href="/staff/migration/"' in body(client.get(reverse("admin:index")))

    client.force_login(UserFactory(is_staff=True, roles=[AUTHORS]))
    page = body(client.get(reverse("admin:index")))
    assert "/staff/migration/" not in page
    assert 'id="content-main"' in page  # the app list is still there


# --- Phase ---


V1, V2 = ReadSource.V1, ReadSource.V2


@pytest.mark.parametrize(
    ("finished", "dual_write", "read_source", "rollout", "label"),
    [
        (False, True, V1, 50, "Phase 1: backfill"),
        (True, True, V1, 0, "Phase 2: dual-write"),
        (True, True, V2, 25, "Phase 3: adaptive rollout 25%"),
        (True, False, V1, 100, "Phase 3: adaptive rollout 100%"),
        (True, True, V2, 100, "Cut over"),
        (True, False, V2, 0, "Backfill finished; dual-write is off"),
    ],
)
def test_the_phase_follows_the_backfill_and_the_flags(
    finished, dual_write, read_source, rollout, label
):
    flags = SyncFlags(
        dual_write=dual_write, read_source=read_source, adaptive_rollout_percent=rollout
    )

    assert migration_phase(flags=flags, finished=finished)["label"] == label


def finish_every_stage() -> None:
    BackfillRun.objects.create(status=BackfillStatus.DONE, finished_at=timezone.now())
    BackfillCheckpoint.objects.bulk_create(
        BackfillCheckpoint(entity=stage, finished=True) for stage in STAGES
    )


def test_the_backfill_is_finished_when_every_stage_has_finished_and_no_run_is_going():
    assert not backfill_finished()  # nothing ran yet

    finish_every_stage()
    assert backfill_finished()

    BackfillCheckpoint.objects.create(entity="attempts", range_start="0500", finished=False)
    assert not backfill_finished()  # one of the attempts' key ranges is still open

    BackfillCheckpoint.objects.filter(finished=False).update(finished=True)
    BackfillRun.objects.create(status=BackfillStatus.RUNNING)
    assert not backfill_finished()  # a newer run is going


def test_the_page_names_the_phase_from_the_stored_flags(staff_client):
    # given a finished backfill and dual write switched on
    finish_every_stage()
    SyncFlags.objects.create(pk=1, dual_write=True, read_source=ReadSource.V1)

    page = body(staff_client.get(STATUS_URL))

    assert element(page, "migration-phase-label") == "Phase 2: dual-write"


# --- Backfill progress ---


def test_progress_bars_show_each_entitys_conservation_counts(staff_client):
    # given five v1 users, one migrated and one quarantined
    legacy_fixture_build(users=5, sessions=4, attempts=10, bits=30, seed=3)
    User.objects.create(email="migrated@example.com", origin=Origin.LEGACY, legacy_key="1")
    QuarantinedRow.objects.create(entity="users", legacy_key="2", reason="invalid_timezone",
                                  raw={"id": 2})  # fmt: skip

    page = body(staff_client.get(STATUS_URL))

    # then the users' bar says 2 of 5 are done (one each way) and 3 are pending
    assert attribute(page, "progress-users", "role") == "progressbar"
    assert attribute(page, "progress-users", "aria-valuenow") == "40.0"
    assert attribute(page, "progress-users", "aria-valuetext") == (
        "40.0% done: 1 migrated, 1 quarantined, 3 pending of 5"
    )
    assert element(page, "entity-users").split()[:6] == ["users", "40.0%", "5", "1", "1", "3"]
    # and every entity with v1 rows has a bar; one without says so
    for name in ("chapters", "bits", "sessions", "attempts"):
        assert attribute(page, f"progress-{name}", "aria-valuemax") == "100"
    assert element(page, "progress-json_streaks") == "no v1 rows"
    assert 'id="progress-json_streaks" role=' not in page


def test_a_running_backfill_shows_throughput_and_eta_of_its_current_entity():
    # given a run that finished users and is 400 of 1000 sessions in, at 100 rows/s
    now = timezone.now()
    started = (now - timedelta(seconds=4)).isoformat()
    BackfillRun.objects.create(
        entities=["users", "sessions", "attempts"],
        progress={
            "users": {"legacy": 40, "seen_at_start": 0, "seen": 40, "started_at": started,
                      "finished_at": started, "rate": 80.0, "migrated": 37, "quarantined": 3},
            "sessions": {"legacy": 1000, "seen_at_start": 0, "seen": 400, "started_at": started,
                         "finished_at": None, "rate": 100.0},
        },
    )  # fmt: skip

    backfill = status_section("backfill", now=now)

    # then sessions move at 100 rows/s with 6 s to go; users are done, attempts wait
    sessions = next(e for e in backfill["entities"] if e["entity"] == "sessions")
    assert (sessions["rate"], sessions["eta_s"]) == (100.0, 6)
    assert sessions["eta_at"] == now + timedelta(seconds=6)
    users = next(e for e in backfill["entities"] if e["entity"] == "users")
    assert users["rate"] is None and users["eta_s"] is None
    run = backfill["run"]
    assert run["current"] == "sessions"
    assert [(s["stage"], s["state"]) for s in run["stages"]] == [
        ("users", "done"), ("sessions", "running"), ("attempts", "waiting"),
    ]  # fmt: skip
    assert backfill["finished"] is False


def test_a_failed_run_shows_no_eta():
    BackfillRun.objects.create(
        status=BackfillStatus.FAILED, entities=["sessions"], failure="OperationalError: gone",
        progress={"sessions": {"legacy": 10, "seen_at_start": 0, "seen": 5, "rate": 2.0,
                               "started_at": timezone.now().isoformat(), "finished_at": None}},
    )  # fmt: skip

    run = status_section("backfill")["run"]

    assert run["stages"][0]["state"] == "stopped"
    assert run["stages"][0]["eta_s"] is None and run["current"] is None


# --- Outbox ---


def outbox_entry(*, status=OutboxStatus.PENDING, age_s: float = 0, lag_s: float | None = None):
    now = timezone.now()
    entry = OutboxEntry.objects.create(entity="attempts", v2_id=str(uuid.uuid4()), status=status)
    created = now - timedelta(seconds=age_s)
    moments = {"created_at": created}
    if lag_s is not None:
        moments["sent_at"] = created + timedelta(seconds=lag_s)
    backdate(OutboxEntry, entry.pk, **moments)
    return entry


def seed_outbox() -> None:
    outbox_entry(age_s=90)  # the oldest pending
    outbox_entry(age_s=30)
    outbox_entry(age_s=5)
    outbox_entry(status=OutboxStatus.DEAD, age_s=3600)
    outbox_entry(status=OutboxStatus.DEAD, age_s=7200)
    # sent in the last five minutes, after 1, 2, 3 and 10 seconds
    for lag in (1, 2, 3, 10):
        outbox_entry(status=OutboxStatus.SENT, age_s=60, lag_s=lag)
    outbox_entry(status=OutboxStatus.SENT, age_s=3600, lag_s=500)  # sent 52 minutes ago


def test_outbox_figures_count_the_backlog_and_the_lag_of_recent_sends(staff_client):
    seed_outbox()

    outbox = status_section("outbox")

    assert outbox["pending"] == 3
    assert 90 <= outbox["oldest_pending_age_s"] < 95
    assert outbox["dead"] == 2
    assert outbox["sent_last_5m"] == 4
    # percentile_cont over 1, 2, 3, 10 s: halfway between 2 and 3, and near the top
    assert outbox["lag_p50_s"] == pytest.approx(2.5)
    assert outbox["lag_p99_s"] == pytest.approx(3 + 0.97 * 7)
    # and the page shows the same
    page = body(staff_client.get(STATUS_URL))
    assert element(page, "outbox-pending") == "3"
    assert element(page, "outbox-dead") == "2"
    assert element(page, "outbox-lag-p50") == "2.500 s"


def test_the_lag_percentiles_agree_with_and_without_the_database_percentile(monkeypatch):
    seed_outbox()
    in_database = status_section("outbox")

    monkeypatch.setattr(connection, "vendor", "sqlite")  # the embedded default's path
    in_python = status_section("outbox")

    assert (in_python["lag_p50_s"], in_python["lag_p99_s"]) == pytest.approx(
        (in_database["lag_p50_s"], in_database["lag_p99_s"])
    )


def test_percentile_interpolates_between_ranks_like_percentile_cont():
    assert percentile([1, 2, 3, 4], 0.5) == 2.5
    assert percentile(list(range(1, 101)), 0.99) == pytest.approx(99.01)
    assert percentile([7], 0.99) == 7


def test_an_empty_outbox_has_no_lag_figures():
    outbox = status_section("outbox")

    assert outbox == {"pending": 0, "oldest_pending_age_s": 0.0, "dead": 0, "sent_last_5m": 0,
                      "lag_p50_s": None, "lag_p99_s": None}  # fmt: skip


# --- Reconciliation ---


def seed_reconciliation() -> ReconciliationRun:
    """An older run, the last finished one with differences, and one still running."""
    reconciliation_run(differences=9)
    last = reconciliation_run(status=ReconciliationStatus.DIFFERENCES, differences=3, explained=2)
    ReconciliationDifference.objects.bulk_create(
        [
            ReconciliationDifference(run=last, entity="attempts", legacy_key="11",
                                     kind="missing_in_v2"),
            ReconciliationDifference(run=last, entity="attempts", legacy_key="12", kind="mismatch",
                                     v1_values={"is_correct": 1}, v2_values={"correct": False}),
            ReconciliationDifference(run=last, entity="attempts", legacy_key="13", kind="mismatch",
                                     explained=True, explanation="merged JSON attempt"),
            ReconciliationDifference(run=last, entity="sessions", legacy_key="5",
                                     kind="missing_in_v1"),
            ReconciliationDifference(run=last, entity="sessions", legacy_key="6", kind="mismatch",
                                     explained=True, explanation="split session"),
        ]
    )  # fmt: skip
    ReconciliationRun.objects.create()  # running: not the latest verdict yet
    return last


def test_the_reconciliation_section_reports_the_last_finished_run(staff_client):
    last = seed_reconciliation()

    summary = status_section("reconciliation")

    assert summary["last_run"]["id"] == last.pk
    assert summary["last_run"]["differences"] == 3
    assert summary["last_run"]["entities"] == [
        {"entity": "attempts", "unexplained": 2, "explained": 1, "repaired": 0},
        {"entity": "sessions", "unexplained": 1, "explained": 1, "repaired": 0},
    ]
    assert summary["in_progress"]["id"] == last.pk + 1
    page = body(staff_client.get(STATUS_URL))
    assert element(page, "reconciliation-unexplained") == "3"
    drill_down = reverse("legacy_sync:reconciliation-run", args=[last.pk])
    assert f'href="{drill_down}?entity=attempts&amp;explained=no"' in page


def differences_listed(client, run, **query) -> list[str]:
    response = client.get(reverse("legacy_sync:reconciliation-run", args=[run.pk]), query)
    assert response.status_code == 200
    return re.findall(r'<tr id="difference-\d+">\s*<td>(\w+)</td>\s*<th scope="row">(\w+)</th>',
                      body(response))  # fmt: skip


def test_the_drill_down_lists_a_runs_differences_filtered_by_entity_and_explanation(
    staff_client,
):
    run = seed_reconciliation()

    every = differences_listed(staff_client, run)
    unexplained_attempts = differences_listed(staff_client, run, entity="attempts", explained="no")
    explained = differences_listed(staff_client, run, explained="yes")

    assert every == [("attempts", "11"), ("attempts", "12"), ("attempts", "13"),
                     ("sessions", "5"), ("sessions", "6")]  # fmt: skip
    assert unexplained_attempts == [("attempts", "11"), ("attempts", "12")]
    assert explained == [("attempts", "13"), ("sessions", "6")]


def test_the_drill_down_is_paginated(staff_client):
    run = reconciliation_run(status=ReconciliationStatus.DIFFERENCES, differences=120)
    ReconciliationDifference.objects.bulk_create(
        ReconciliationDifference(run=run, entity="points", legacy_key=f"{n:04}", kind="mismatch")
        for n in range(120)
    )

    first = differences_listed(staff_client, run)
    last = differences_listed(staff_client, run, page=3)

    assert len(first) == 50 and first[0] == ("points", "0000")
    assert [key for _, key in last] == [f"{n:04}" for n in range(100, 120)]
    page = body(staff_client.get(reverse("legacy_sync:reconciliation-run", args=[run.pk])))
    assert 'href="?page=2"' in page and "page 1 of 3" in page


def test_the_drill_down_refuses_an_unknown_filter_and_an_unknown_run(staff_client):
    run = seed_reconciliation()
    url = reverse("legacy_sync:reconciliation-run", args=[run.pk])

    bad = staff_client.get(url, {"entity": "nope", "explained": "maybe"})

    assert bad.status_code == 400
    errors = element(body(bad), "difference-filter-errors")
    assert "entity" in errors and "explained" in errors
    missing = reverse("legacy_sync:reconciliation-run", args=[run.pk + 100])
    assert staff_client.get(missing).status_code == 404


# --- Shadow reads ---


def shadow_read(learner, *, matched: bool, hours_ago: float, fields=()):
    read = ShadowRead.objects.create(learner=learner, matched=matched,
                                     differing_fields=list(fields))  # fmt: skip
    backdate(ShadowRead, read.pk, compared_at=timezone.now() - timedelta(hours=hours_ago))


def test_shadow_parity_is_the_matched_share_over_a_day_and_overall(staff_client):
    # given three reads in the last day (two matched) and two older ones (one matched)
    learner = UserFactory(email="shadowed@example.com")
    shadow_read(learner, matched=True, hours_ago=1)
    shadow_read(learner, matched=True, hours_ago=2)
    shadow_read(learner, matched=False, hours_ago=3, fields=["streak.current", "xp_total"])
    shadow_read(learner, matched=True, hours_ago=30)
    shadow_read(learner, matched=False, hours_ago=40, fields=["mastery"])

    parity = status_section("shadow_reads")

    assert parity["last_24h"] == {"reads": 3, "matched": 2, "matched_percent": 66.67}
    assert parity["overall"] == {"reads": 5, "matched": 3, "matched_percent": 60.0}
    assert [m["differing_fields"] for m in parity["recent_mismatches"]] == [
        ["streak.current", "xp_total"], ["mastery"],
    ]  # fmt: skip
    page = body(staff_client.get(STATUS_URL))
    assert element(page, "shadow-last-24h-percent") == "66.67%"
    assert element(page, "shadow-overall-percent") == "60.00%"
    mismatches = element(page, "shadow-mismatches")
    assert "streak.current , xp_total" in mismatches and "shadowed@example.com" in mismatches


# --- Quarantine ---


def test_the_quarantine_is_counted_by_reason_with_links_to_the_filtered_admin(staff_client):
    for key, reason in enumerate(["unknown_user", "unknown_user", "unknown_bit", "unknown_user"]):
        QuarantinedRow.objects.create(entity="attempts", legacy_key=str(key), reason=reason,
                                      raw={"id": key})  # fmt: skip

    page = body(staff_client.get(STATUS_URL))

    assert element(page, "quarantine-count-unknown_user") == "3"
    assert element(page, "quarantine-count-unknown_bit") == "1"
    assert element(page, "quarantine-total") == "4"
    changelist = reverse("admin:legacy_sync_quarantinedrow_changelist")
    assert f'href="{changelist}?reason=unknown_bit"' in page
    # and the link is a filter the admin accepts, showing only those rows
    filtered = staff_client.get(f"{changelist}?reason=unknown_bit")
    assert filtered.status_code == 200
    assert filtered.context["cl"].result_count == 1


# --- Flags ---


def test_the_flags_section_shows_the_switches_and_links_their_admin(staff_client):
    SyncFlags.objects.create(pk=1, dual_write=True, read_source=ReadSource.V1,
                             adaptive_rollout_percent=15, kill_switch=True)  # fmt: skip
    FlagChange.objects.create(flag="kill_switch", old_value="False", new_value="True")

    page = body(staff_client.get(STATUS_URL))

    assert element(page, "flag-dual-write") == "on"
    assert element(page, "flag-read-source") == "v1"
    assert element(page, "flag-rollout-percent") == "15%"
    assert element(page, "flag-kill-switch") == "ON: syncing paused"
    link = attribute(page, "flags-admin-link", "href")
    assert link == "/admin/legacy_sync/syncflags/1/change/"
    assert staff_client.get(link).status_code == 200  # Migration staff may change the flags
    assert "Kill switch on" in element(page, "migration-phase")
    assert "kill_switch" in element(page, "migration-flags")  # the recent change


def test_the_flags_section_reads_the_defaults_without_creating_the_row():
    section = status_section("flags")

    assert section["read_source"] == settings.LEGACY_SYNC_DEFAULTS["read_source"]
    assert not SyncFlags.objects.exists()


# --- Cohorts ---


def session(learner, *, days_ago: float, completed: bool = True) -> StudySession:
    started = timezone.now() - timedelta(days=days_ago)
    return StudySession.objects.create(
        learner=learner, started_at=started,
        completed_at=started + timedelta(minutes=10) if completed else None,
    )  # fmt: skip


def test_cohort_engagement_compares_completion_return_and_accuracy(staff_client):
    # given two v1 learners and two adaptive ones, one of whom has not studied lately
    v1_a, v1_b, adaptive_c, adaptive_d = (UserFactory() for _ in range(4))
    for learner, cohort in ((v1_a, Cohort.V1), (v1_b, Cohort.V1), (adaptive_c, Cohort.ADAPTIVE),
                            (adaptive_d, Cohort.ADAPTIVE)):  # fmt: skip
        CohortAssignment.objects.create(learner=learner, bucket=0, cohort=cohort)
    session(v1_a, days_ago=40)  # before the window
    session(v1_a, days_ago=20)
    session(v1_a, days_ago=17, completed=False)  # back 3 days later
    session(v1_b, days_ago=10)
    session(v1_b, days_ago=2, completed=False)  # 8 days later: not a 7-day return
    session(adaptive_c, days_ago=5, completed=False)
    session(adaptive_c, days_ago=4.5, completed=False)  # 12 hours later: too soon
    session(adaptive_c, days_ago=3)  # 2 days later
    session(adaptive_d, days_ago=45)
    atom = make_atom()
    answered = timezone.now() - timedelta(days=3)
    for learner, verdicts in ((v1_a, [True, True, True, False]), (adaptive_c, [True, False])):
        for correct in verdicts:
            AttemptFactory(learner=learner, atom=atom, correct=correct, answered_at=answered)
    AttemptFactory(learner=v1_b, atom=atom, correct=False,
                   answered_at=timezone.now() - timedelta(days=31))  # fmt: skip
    UserFactory()  # a learner with no assignment counts nowhere

    cohorts = {c["cohort"]: c for c in status_section("cohorts")["cohorts"]}

    assert cohorts["v1"] == {
        "cohort": "v1", "label": "v1 (static curriculum)",
        "learners": 2, "active_learners": 2, "returned_learners": 1, "return_percent_7d": 50.0,
        "sessions": 4, "completed_sessions": 2, "completion_percent": 50.0,
        "attempts": 4, "correct_attempts": 3, "accuracy_percent": 75.0,
    }  # fmt: skip
    assert cohorts["adaptive"] == {
        "cohort": "adaptive", "label": "adaptive",
        "learners": 2, "active_learners": 1, "returned_learners": 1, "return_percent_7d": 100.0,
        "sessions": 3, "completed_sessions": 1, "completion_percent": 33.33,
        "attempts": 2, "correct_attempts": 1, "accuracy_percent": 50.0,
    }  # fmt: skip
    page = body(staff_client.get(STATUS_URL))
    assert element(page, "cohort-adaptive-learners") == "2"
    assert element(page, "cohort-adaptive-completion") == "33.3%"
    assert element(page, "cohort-v1-accuracy") == "75.0%"


def test_cohorts_without_learners_have_no_rates():
    cohorts = status_section("cohorts")["cohorts"]

    assert [c["cohort"] for c in cohorts] == ["v1", "adaptive"]
    assert all(c["completion_percent"] is None and c["learners"] == 0 for c in cohorts)


# --- Throughput ---


def test_throughput_counts_sends_and_attempts_per_minute_over_the_last_hour():
    # given sends and attempts this minute and ten minutes ago, and some before the hour
    now = timezone.now()
    outbox_entry(status=OutboxStatus.SENT, age_s=1, lag_s=0)
    outbox_entry(status=OutboxStatus.SENT, age_s=1, lag_s=0)
    outbox_entry(status=OutboxStatus.SENT, age_s=2 * 3600, lag_s=0)
    atom = make_atom()
    AttemptFactory(atom=atom)
    legacy_earlier = AttemptFactory(atom=atom, origin=Origin.LEGACY, legacy_key="77")
    old = AttemptFactory(atom=atom, origin=Origin.LEGACY, legacy_key="78")
    backdate(Attempt, legacy_earlier.pk, created_at=now - timedelta(minutes=10))
    backdate(Attempt, old.pk, created_at=now - timedelta(hours=3))

    series = status_section("throughput", now=now)["per_minute"]

    assert len(series) == 60
    assert series[-1]["minute"] == now.replace(second=0, microsecond=0)
    by_minute = {row["minute"]: row for row in series}
    this_minute = by_minute[now.replace(second=0, microsecond=0)]
    ten_ago = by_minute[(now - timedelta(minutes=10)).replace(second=0, microsecond=0)]
    # (a send a second ago may fall in the previous minute; both are in the hour)
    assert sum(row["outbox_sent"] for row in series) == 2
    assert this_minute["v2_attempts"] == 1 and this_minute["v1_rows_pulled"] == 0
    assert ten_ago["v1_rows_pulled"] == 1
    assert sum(row["v1_rows_pulled"] for row in series) == 1


# --- Fragments, JSON, static files ---


@pytest.mark.parametrize("section", sorted(SECTIONS))
def test_each_fragment_renders_itself_polling_its_own_url(staff_client, section):
    url = reverse("legacy_sync:status-fragment", args=[section])

    response = staff_client.get(url, headers={"HX-Request": "true"})

    assert response.status_code == 200
    html = body(response).strip()
    fragment_id = "migration-throughput-data" if section == "throughput" else (
        f"migration-{section.replace('_', '-')}"
    )  # fmt: skip
    assert attribute(html, fragment_id, "hx-get") == url
    assert "every 2s" in attribute(html, fragment_id, "hx-trigger")
    assert f'id="{fragment_id}"' in html.split(">", 1)[0]  # the fragment is its root element


def test_an_unknown_fragment_is_a_404(staff_client):
    url = reverse("legacy_sync:status-fragment", args=["nonsense"])
    assert staff_client.get(url).status_code == 404


def test_the_page_embeds_every_fragment_so_it_works_without_javascript(staff_client):
    page = body(staff_client.get(STATUS_URL))

    for section in SECTIONS:
        fragment_id = "migration-throughput-data" if section == "throughput" else (
            f"migration-{section.replace('_', '-')}"
        )  # fmt: skip
        assert f'id="{fragment_id}"' in page, section
    series = json.loads(element(page, "throughput-series"))
    assert len(series["per_minute"]) == 60


def test_status_json_serves_the_same_figures(staff_client):
    seed_outbox()
    last = seed_reconciliation()
    QuarantinedRow.objects.create(entity="users", legacy_key="9", reason="duplicate_email",
                                  raw={})  # fmt: skip

    response = staff_client.get(JSON_URL)

    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    figures = response.json()
    assert set(figures) == {"generated_at", *SECTIONS}
    assert figures["outbox"]["pending"] == 3 and figures["outbox"]["dead"] == 2
    assert figures["reconciliation"]["last_run"]["id"] == last.pk
    assert figures["quarantine"] == {"total": 1, "by_reason": [{"reason": "duplicate_email",
                                                                 "count": 1}]}  # fmt: skip
    users = next(e for e in figures["backfill"]["entities"] if e["entity"] == "users")
    assert {k: users[k] for k in ("legacy", "migrated", "quarantined", "pending")} == {
        "legacy": 0, "migrated": 0, "quarantined": 1, "pending": 0,
    }  # fmt: skip
    assert figures["phase"]["code"] == "backfill"


def query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_figures_take_a_fixed_number_of_queries_however_many_rows(staff_client):
    # given one row of each listed thing
    learner = UserFactory()
    shadow_read(learner, matched=False, hours_ago=1, fields=["xp"])
    FlagChange.objects.create(flag="dual_write", old_value="False", new_value="True",
                              changed_by=learner)  # fmt: skip
    QuarantinedRow.objects.create(entity="users", legacy_key="1", reason="a", raw={})
    run = reconciliation_run(status=ReconciliationStatus.DIFFERENCES)
    ReconciliationDifference.objects.create(
        run=run, entity="users", legacy_key="1", kind="mismatch"
    )
    few = query_count(staff_client, STATUS_URL)

    # when there are many more of each
    for n in range(2, 8):
        other = UserFactory()
        shadow_read(other, matched=False, hours_ago=n, fields=["xp"])
        FlagChange.objects.create(
            flag="kill_switch", old_value="x", new_value="y", changed_by=other
        )
        QuarantinedRow.objects.create(entity="bits", legacy_key=str(n), reason=f"r{n}", raw={})
        ReconciliationDifference.objects.create(run=run, entity=f"e{n}", legacy_key="1",
                                                kind="mismatch")  # fmt: skip
        CohortAssignment.objects.create(learner=other, bucket=n, cohort=Cohort.V1)
        session(other, days_ago=n)

    # then the page costs the same
    assert query_count(staff_client, STATUS_URL) == few
    assert query_count(staff_client, JSON_URL) <= few


def test_legacy_status_json_reports_the_outbox_and_the_last_reconciliation(tmp_path):
    # given an outbox backlog and a finished run with three unexplained differences
    seed_outbox()
    last = seed_reconciliation()
    out = io.StringIO()

    call_command("legacy_status", "--json", "--json-dir", str(tmp_path), stdout=out)

    result = json.loads(out.getvalue())
    assert result["outbox"]["pending"] == 3 and result["outbox"]["dead"] == 2
    assert 90 <= result["outbox"]["oldest_pending_age_s"] < 95
    assert result["reconciliation"] == {"run_at": last.finished_at.isoformat(), "differences": 3}


def test_legacy_status_json_without_a_finished_reconciliation_has_no_run_at(tmp_path):
    ReconciliationRun.objects.create()  # still running
    out = io.StringIO()

    call_command("legacy_status", "--json", "--json-dir", str(tmp_path), stdout=out)

    assert json.loads(out.getvalue())["reconciliation"] == {"run_at": None, "differences": 0}


def test_the_vendored_libraries_are_served_from_our_static_files(staff_client):
    # given the vendored files, each with its licence next to it
    htmx = Path(finders.find("vendor/htmx/htmx.min.js"))
    chart = Path(finders.find("vendor/chartjs/chart.umd.min.js"))
    assert (htmx.parent / "LICENSE").is_file() and (chart.parent / "LICENSE.md").is_file()
    assert 'version:"2.' in htmx.read_text()
    assert chart.read_text().startswith("/*!\n * Chart.js v4.")
    # the source map its last line names is there too (the manifest storage needs it)
    assert (chart.parent / "chart.umd.min.js.map").is_file()

    page = body(staff_client.get(STATUS_URL))

    # then the page loads them through {% static %}, never from a CDN
    static = settings.STATIC_URL.lstrip("/")
    assert f'src="/{static}vendor/htmx/htmx.min.js"' in page
    assert f'src="/{static}vendor/chartjs/chart.umd.min.js"' in page
    assert f'href="/{static}legacy_sync/status.css"' in page
    assert not re.search(r"<script[^>]+src=\"(https?:)?//", page)
    for template in STATUS_TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), template
    assert "{% static 'vendor/htmx/htmx.min.js' %}" in (STATUS_TEMPLATES / "base.html").read_text()


def test_migration_status_is_one_moment_for_every_section():
    now = timezone.now()

    figures = migration_status(now=now)

    assert figures["generated_at"] == now == figures["phase"]["as_of"]
