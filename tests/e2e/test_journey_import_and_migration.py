"""Browser journeys 2 and 3 (issue 9), in a real headless Chromium through the real UI.

Journey 2: an editor imports a CSV with one bad row, sees the dry run report that row's error,
uploads the corrected file and confirms it; the atoms exist afterwards.

Journey 3: Migration staff watch /staff/migration/ in one tab while they start a backfill of a
dirty v1 fixture from the admin in another; the first tab's progress bars and quarantine counts
change by htmx polling, never by a reload. Then they fix a duplicate-email user in the admin
(edit its raw row, *Save and retry*) and the status tab's quarantine count goes down.

Celery is eager here, so the backfill runs inside the start request; the status tab polls the
live server's other threads meanwhile, which is what makes its updates live.
"""

import csv
import io
import json
import re
import threading
from types import SimpleNamespace

import pytest

from apps.accounts.models import User
from apps.accounts.roles import AUTHORS, MIGRATION_STAFF
from apps.content.models import ImportJob, LearningAtom
from apps.core.models import Origin
from tests.curriculum.factories import ConceptFactory, CourseFactory

pytestmark = pytest.mark.django_db(databases=["default", "legacy"], transaction=True)

BACKFILL_TIMEOUT_MS = 60_000
POLL_TIMEOUT_MS = 15_000  # several 2-second polls
HELD_BEFORE = "sessions"  # the stage the gated backfill waits before
GATE_TIMEOUT_S = 30


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded import files go to the test's own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


# --- Journey 2: import a CSV with a bad row, fix it, confirm -------------------------------


def atoms_csv(*, second_row_correct: list[bool]) -> bytes:
    """Three mcq atoms on one concept, in the README's CSV shape (JSON in structured cells).
    The second row's options are marked correct as given: two correct options is an error."""

    def row(external_id: str, prompt: str, right: str, wrong: str, marks=(True, False)) -> dict:
        return {
            "external_id": external_id,
            "title": f"Road signs: {prompt}",
            "atom_type": "mcq",
            "content": json.dumps({"prompt": prompt}),
            "grading_logic": "{}",
            "options": json.dumps(
                [
                    {"text": right, "is_correct": marks[0]},
                    {"text": wrong, "is_correct": marks[1], "feedback": "Look at the shape."},
                ]
            ),
            "concepts": json.dumps([{"course": "road-signs", "concept": "Warning signs"}]),
            "tags": "imported;signs",
            "difficulty": "2",
        }

    rows = [
        row("sign-1", "What does a red triangle mean?", "A warning", "An order"),
        row(
            "sign-2",
            "What does a red circle mean?",
            "An order",
            "A warning",
            marks=tuple(second_row_correct),
        ),
        row("sign-3", "What does a blue circle mean?", "A positive instruction", "A warning"),
    ]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def upload_csv(page, body: bytes) -> None:
    page.set_input_files("#id_file", files=[{"name": "road-signs.csv",
                                              "mimeType": "text/csv", "buffer": body}])  # fmt: skip
    page.click("input[type=submit][value='Upload and preview']")
    # The dry run is a Celery task; the job page polls it and reloads when it is previewed.
    page.wait_for_selector("#import-summary")


def test_journey2_editor_imports_a_csv_fixes_the_bad_row_and_confirms(
    live_server, browser_page, admin_login, staff_user, screenshot
):
    # given an author and the concept the file links its atoms to
    page = browser_page
    ConceptFactory(course=CourseFactory(slug="road-signs", title="Road signs"),
                   text="Warning signs")  # fmt: skip
    author = staff_user(AUTHORS)
    admin_login(page, author)

    # when they open Learning atoms → Import
    page.goto(f"{live_server.url}/admin/content/learningatom/")
    page.click(".object-tools a:text-is('Import')")
    page.wait_for_selector("#id_file")
    assert page.locator("h1").all_inner_texts() == ["Import atoms"]
    screenshot(page, "journey2-01-import-form")

    # and upload a CSV whose second atom has two correct options
    upload_csv(page, atoms_csv(second_row_correct=[True, True]))

    # then the dry run lists that row's error, and there is nothing to confirm
    summary = page.locator("#import-summary").inner_text()
    assert "Dry run" in summary
    assert re.search(r"2\s+to create.*1\s+with errors", summary, re.S), summary
    errors = page.locator("#import-errors tbody tr")
    assert errors.count() == 1
    error_row = errors.first.inner_text()
    assert "sign-2" in error_row and "Exactly one option must be marked correct." in error_row
    assert errors.first.locator("td").first.inner_text().strip() == "3"  # CSV line (header: 1)
    assert page.locator("#confirm-import").count() == 0
    assert "nothing has been imported" in page.locator(".errornote").inner_text()
    assert page.locator("#import-rows tr.import-error").count() == 1
    assert not LearningAtom.objects.exists()
    screenshot(page, "journey2-02-dry-run-shows-the-bad-row")

    # when they fix the row and upload the file again (the page's own link)
    page.click(".errornote a:text-is('upload the file again')")
    page.wait_for_selector("#id_file")
    upload_csv(page, atoms_csv(second_row_correct=[True, False]))

    # then the dry run is clean and may be confirmed
    summary = page.locator("#import-summary").inner_text()
    assert re.search(r"3\s+to create.*0\s+with errors", summary, re.S), summary
    assert page.locator("#import-errors").count() == 0
    assert page.locator("#import-rows tr.import-create").count() == 3
    assert not LearningAtom.objects.exists()  # still a dry run
    screenshot(page, "journey2-03-corrected-dry-run")

    # when they confirm it
    page.click("#confirm-import")
    page.wait_for_function(
        "() => (document.getElementById('import-summary') || {}).textContent?.includes('Imported')"
    )

    # then the page reports the import, and the three atoms exist as the file said
    summary = page.locator("#import-summary").inner_text()
    assert re.search(r"3\s+to create.*0\s+with errors", summary, re.S), summary
    screenshot(page, "journey2-04-imported")
    atoms = {atom.external_id: atom for atom in LearningAtom.objects.all()}
    assert set(atoms) == {"sign-1", "sign-2", "sign-3"}
    fixed = atoms["sign-2"]
    assert fixed.content["prompt"] == "What does a red circle mean?"
    assert [o.text for o in fixed.options.filter(is_correct=True)] == ["An order"]
    assert list(fixed.concepts.values_list("text", flat=True)) == ["Warning signs"]
    assert fixed.revisions.get().source == "import"
    assert set(fixed.tags.values_list("name", flat=True)) == {"imported", "signs"}
    assert ImportJob.objects.filter(created_by=author).count() == 2

    # and the atom list shows them to the editor
    page.goto(f"{live_server.url}/admin/content/learningatom/")
    listed = page.locator("#result_list").inner_text()
    assert all(atom.title in listed for atom in atoms.values()), listed
    screenshot(page, "journey2-05-atoms-in-the-list")


# --- Journey 3: a backfill watched live, then a quarantined row fixed ---------------------


@pytest.fixture
def dirty_legacy(settings, tmp_path):
    """A small dirty v1 database with its JSON files, where admin-started backfills read."""
    from apps.legacy_sync.v1.fixture import legacy_fixture_build

    json_dir = tmp_path / "legacy_json"
    settings.LEGACY_JSON_DIR = json_dir
    return legacy_fixture_build(users=40, sessions=60, attempts=400, bits=50, seed=1,
                                dirty=True, json_dir=json_dir)  # fmt: skip


@pytest.fixture
def backfill_gate(monkeypatch):
    """Holds an admin-started backfill just before its sessions stage until the test opens the
    gate. Eager Celery runs the whole backfill inside the start request, in a few seconds; the
    gate makes "the status tab shows a run in progress" a certainty instead of a race with
    the 2-second polls. Nothing else about the run changes."""
    from apps.legacy_sync.backfill import runner

    reached, gate = threading.Event(), threading.Event()
    real = runner.entity_range_backfill

    def held(entity, **kwargs):
        if entity.name == HELD_BEFORE and not gate.is_set():
            reached.set()
            gate.wait(timeout=GATE_TIMEOUT_S)  # never hangs the live server for good
        return real(entity, **kwargs)

    monkeypatch.setattr(runner, "entity_range_backfill", held)
    yield SimpleNamespace(reached=reached, gate=gate)
    gate.set()


def text_of(page, element_id: str) -> str:
    return page.locator(f"#{element_id}").inner_text().strip()


def progress(page, entity: str) -> dict[str, int]:
    bar = page.locator(f"#progress-{entity}")
    return {name: int(bar.get_attribute(f"data-{name}"))
            for name in ("legacy", "migrated", "quarantined", "pending")}  # fmt: skip


# The status tab records every htmx swap (what the quarantine total and the run status were),
# and a marker that a reload would wipe.
WATCH_SWAPS = """() => {
  window.journeyMarker = "never reloaded";
  window.journeySeen = [];
  document.body.addEventListener("htmx:afterSettle", () => {
    const run = document.querySelector("#backfill-run .run-status");
    window.journeySeen.push({
      total: document.getElementById("quarantine-total").textContent.trim(),
      run: run ? run.textContent.trim() : null,
    });
  });
}"""
NEVER_RELOADED = "() => window.journeyMarker === 'never reloaded'"
BACKFILL_DONE = """() => {
  const run = document.querySelector("#backfill-run .run-status");
  const bars = [...document.querySelectorAll("[id^=progress-]")];
  return run && run.textContent.trim() === "done" && bars.length > 0
    && bars.every((bar) => bar.dataset.pending === "0"
      && +bar.dataset.legacy === +bar.dataset.migrated + +bar.dataset.quarantined);
}"""


@pytest.mark.legacy_sync
def test_journey3_staff_watch_a_backfill_live_and_fix_a_quarantined_row(
    live_server, browser_page, admin_login, staff_user, screenshot, dirty_legacy, backfill_gate
):
    from apps.legacy_sync.models import BackfillRun, QuarantinedRow

    # given Migration staff, logged in, with the status page open in one tab
    status_tab = browser_page
    admin_login(status_tab, staff_user(MIGRATION_STAFF))
    status_tab.goto(f"{live_server.url}/staff/migration/")
    status_tab.evaluate(WATCH_SWAPS)

    # then nothing has been migrated yet: every v1 row is pending, nothing is quarantined
    assert "No backfill has run yet" in text_of(status_tab, "backfill-run")
    assert progress(status_tab, "users") == {"legacy": 40, "migrated": 0, "quarantined": 0,
                                             "pending": 40}  # fmt: skip
    assert text_of(status_tab, "quarantine-total") == "0"
    assert status_tab.locator("#migration-quarantine").get_by_text("Nothing is quarantined").count()
    screenshot(status_tab, "journey3-01-status-before-the-backfill")

    # when, in a second tab, they press "Start a backfill" on the Backfill runs list
    admin_tab = status_tab.context.new_page()
    admin_tab.goto(f"{live_server.url}/admin/legacy_sync/backfillrun/")
    assert admin_tab.locator("#result_list").count() == 0  # no run yet
    screenshot(admin_tab, "journey3-02-backfill-runs-before-start")
    assert status_tab.evaluate("document.visibilityState") == "visible"  # so htmx keeps polling
    with admin_tab.expect_response(
        lambda response: response.url.endswith("/admin/legacy_sync/backfillrun/start/"),
        timeout=BACKFILL_TIMEOUT_MS,
    ):
        admin_tab.click("#start-backfill", no_wait_after=True)

        # then, while the run is under way, the status tab shows it by its polls alone:
        # the run is running at sessions, users are done (3 of them quarantined), and
        # sessions are all still pending
        assert backfill_gate.reached.wait(timeout=GATE_TIMEOUT_S)
        held_midway = QuarantinedRow.objects.count()
        status_tab.wait_for_function(
            """([stage, held]) => {
              const run = document.querySelector("#backfill-run");
              const sessions = document.getElementById("progress-sessions");
              return run && run.querySelector(".run-status")?.textContent.trim() === "running"
                && run.textContent.includes(`Now at ${stage}`)
                && sessions?.dataset.migrated === "0"
                && document.getElementById("quarantine-total").textContent.trim() === `${held}`;
            }""",
            arg=[HELD_BEFORE, held_midway],
            timeout=POLL_TIMEOUT_MS,
        )
        assert progress(status_tab, "users") == {"legacy": 40, "migrated": 37, "quarantined": 3,
                                                 "pending": 0}  # fmt: skip
        assert progress(status_tab, "sessions")["pending"] == 60
        assert text_of(status_tab, "quarantine-count-duplicate_email") == "2"  # users 2 and 3
        assert status_tab.evaluate(NEVER_RELOADED)
        screenshot(status_tab, "journey3-03-status-during-the-backfill")
        backfill_gate.gate.set()  # let the run go on; the start request then returns
    admin_tab.wait_for_load_state()

    # then the admin says it started, and lists the run
    assert "Backfill started" in admin_tab.locator(".messagelist").inner_text()
    assert admin_tab.locator("#result_list tbody tr").count() == 1
    screenshot(admin_tab, "journey3-04-backfill-started")
    run = BackfillRun.objects.get()
    assert run.status == "done"

    # and the status tab, never reloaded, fills in by its polls: the run is done, every bar
    # is full (migrated + quarantined, nothing pending), and the quarantine has rows
    status_tab.wait_for_function(BACKFILL_DONE, timeout=POLL_TIMEOUT_MS)
    status_tab.wait_for_function(
        "() => document.getElementById('quarantine-total').textContent.trim() !== '0'"
    )
    assert status_tab.evaluate(NEVER_RELOADED)
    users = progress(status_tab, "users")
    assert users == {"legacy": 40, "migrated": 37, "quarantined": 3, "pending": 0}
    assert f"#{run.pk}" in text_of(status_tab, "backfill-run")
    held = QuarantinedRow.objects.count()
    assert text_of(status_tab, "quarantine-total") == str(held)
    assert text_of(status_tab, "quarantine-count-duplicate_email") == "2"  # users 2 and 3
    # and its swaps went 0 → midway → final, all in the one page
    totals = [swap["total"] for swap in status_tab.evaluate("window.journeySeen")]
    assert totals[0] == "0" and str(held_midway) in totals and totals[-1] == str(held), totals
    screenshot(status_tab, "journey3-05-status-after-the-backfill")

    # when they follow the duplicate_email count to the admin's filtered quarantine list
    href = status_tab.locator("#migration-quarantine a:text-is('duplicate_email')").get_attribute(
        "href"
    )
    admin_tab.goto(f"{live_server.url}{href}")
    rows = admin_tab.locator("#result_list tbody tr")
    assert rows.count() == 2
    screenshot(admin_tab, "journey3-06-duplicate-email-rows")

    # and open user 2 (it reuses user 1's address), give it an address of its own in the raw
    # row, and press "Save and retry"
    user_two = rows.filter(has=admin_tab.locator("td.field-legacy_key", has_text=re.compile("^2$")))
    user_two.locator("th a").click()
    raw_box = admin_tab.locator("#id_raw")
    raw = json.loads(raw_box.input_value())
    assert raw["email"] == "user1@example.com"
    raw["email"] = "user2.fixed@example.com"
    raw_box.fill(json.dumps(raw, indent=2))
    screenshot(admin_tab, "journey3-07-raw-row-fixed")
    assert QuarantinedRow.objects.filter(blocked_by="users:2").exists()
    with admin_tab.expect_navigation():
        admin_tab.click("input[name=_retry]")

    # then the admin reports it migrated, with the rows that waited for it
    message = admin_tab.locator(".messagelist").inner_text()
    still_held = QuarantinedRow.objects.count()
    assert f"{held - still_held} row(s) migrated, 0 still quarantined" in message, message
    assert held - still_held > 1
    screenshot(admin_tab, "journey3-08-saved-and-retried")
    learner = User.objects.get(legacy_key="2", origin=Origin.LEGACY)
    assert learner.email == "user2.fixed@example.com"
    assert not QuarantinedRow.objects.filter(blocked_by="users:2").exists()

    # and the status tab, still never reloaded, shows the quarantine going down
    status_tab.wait_for_function(
        "() => document.getElementById('quarantine-count-duplicate_email')"
        "?.textContent.trim() === '1'",
        timeout=POLL_TIMEOUT_MS,
    )
    status_tab.wait_for_function(
        f"() => document.getElementById('quarantine-total').textContent.trim() === '{still_held}'",
        timeout=POLL_TIMEOUT_MS,
    )
    # (the progress panel polls on its own, so it may swap in a moment after the quarantine's)
    status_tab.wait_for_function(
        "() => document.getElementById('progress-users')?.dataset.migrated === '38'",
        timeout=POLL_TIMEOUT_MS,
    )
    assert progress(status_tab, "users")["migrated"] == 38
    assert status_tab.evaluate(NEVER_RELOADED)
    screenshot(status_tab, "journey3-09-status-after-the-retry")
