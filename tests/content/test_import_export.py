import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.content.interchange.records import parse_csv, records_to_csv
from apps.content.models import ImportJob, LearningAtom
from apps.content.selectors import atom_export_record, atoms_for_export
from apps.content.services.imports import import_job_confirm, import_job_create
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def record(external_id: str, prompt: str = "Which protocol orders segments?", **overrides):
    base = {
        "external_id": external_id,
        "title": f"Imported {external_id}",
        "atom_type": "mcq",
        "content": {"prompt": prompt},
        "grading_logic": {},
        "options": [
            {"text": "UDP", "is_correct": False, "feedback": "No ordering."},
            {"text": "TCP", "is_correct": True},
        ],
        "concepts": [{"course": "networks", "concept": "Transport", "weight": 1.0}],
        "tags": ["imported"],
        "metadata": {"difficulty": 2},
    }
    return base | overrides


def upload(author, records, name="atoms.json", file_format="json"):
    body = records if isinstance(records, str) else json.dumps({"atoms": records})
    return import_job_create(
        by=author,
        uploaded_file=SimpleUploadedFile(name, body.encode()),
        file_format=file_format,
    )


def run_import(author, records, django_capture_on_commit_callbacks, **kwargs):
    with django_capture_on_commit_callbacks(execute=True):
        job = upload(author, records, **kwargs)
    job.refresh_from_db()
    return job


def confirm(job, author, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_job_confirm(job=job, by=author)
    job.refresh_from_db()
    return job


def test_dry_run_previews_rows_and_writes_nothing(
    author, concept, django_capture_on_commit_callbacks
):
    job = run_import(author, [record("q1"), record("q2")], django_capture_on_commit_callbacks)

    assert job.status == "previewed"
    assert (job.total_rows, job.created_count, job.error_count) == (2, 2, 0)
    assert [row["action"] for row in job.plan] == ["create", "create"]
    assert not LearningAtom.objects.exists()


def test_confirm_imports_and_reimport_updates_instead_of_duplicating(
    author, concept, django_capture_on_commit_callbacks
):
    job = run_import(author, [record("q1"), record("q2")], django_capture_on_commit_callbacks)
    job = confirm(job, author, django_capture_on_commit_callbacks)
    assert job.status == "done"
    assert LearningAtom.objects.count() == 2
    atom = LearningAtom.objects.get(external_id="q1")
    assert atom.concepts.get() == concept
    assert atom.revisions.get().source == "import"

    again = run_import(
        author,
        [record("q1", prompt="Which protocol retransmits?"), record("q2")],
        django_capture_on_commit_callbacks,
    )
    assert [row["action"] for row in again.plan] == ["update", "unchanged"]
    assert any("content.prompt" in change for change in again.plan[0]["changes"])
    confirm(again, author, django_capture_on_commit_callbacks)

    assert LearningAtom.objects.count() == 2
    atom.refresh_from_db()
    assert atom.content["prompt"] == "Which protocol retransmits?"
    assert atom.revisions.count() == 2


def test_bad_rows_are_reported_per_row_and_block_confirmation(
    author, concept, django_capture_on_commit_callbacks
):
    rows = [
        record("ok"),
        record(
            "two-correct",
            options=[{"text": "a", "is_correct": True}, {"text": "b", "is_correct": True}],
        ),
        record("no-concept", concepts=[{"course": "networks", "concept": "Nope"}]),
        record("ok"),
        "not an object",
    ]
    job = run_import(author, rows, django_capture_on_commit_callbacks)

    errors = {row["line"]: row["errors"] for row in job.plan if row["action"] == "error"}
    assert set(errors) == {2, 3, 4, 5}
    assert "Exactly one option" in " ".join(errors[2])
    assert "Nope" in " ".join(errors[3])
    assert "appears twice" in " ".join(errors[4])
    assert job.error_count == 4
    with pytest.raises(ValidationError, match="4 row"):
        import_job_confirm(job=job, by=author)
    assert not LearningAtom.objects.exists()


def test_unreadable_file_fails_the_job_with_a_reason(author, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = import_job_create(
            by=author, uploaded_file=SimpleUploadedFile("x.json", b"{nope"), file_format="json"
        )
    job.refresh_from_db()

    assert job.status == "failed"
    assert "Not valid JSON" in job.failure


def test_only_importers_may_import(concept):
    reviewer = UserFactory(is_staff=True, roles=["Reviewers"])

    with pytest.raises(PermissionDenied):
        upload(reviewer, [record("q1")])


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_export_then_import_is_lossless(
    author, concept, file_format, django_capture_on_commit_callbacks
):
    from apps.content.interchange.records import records_to_json

    for atom_type in ("mcq", "cloze", "parsons", "matching", "numeric", "flashcard"):
        make_atom(atom_type, concept=concept, title=f"Original {atom_type}")
    originals = [atom_export_record(a) for a in atoms_for_export(LearningAtom.objects.all())]
    text = records_to_csv(originals) if file_format == "csv" else records_to_json(originals)
    LearningAtom.objects.all().delete()

    job = run_import(
        author,
        text,
        django_capture_on_commit_callbacks,
        name=f"x.{file_format}",
        file_format=file_format,
    )
    assert job.error_count == 0 and job.status == "previewed", (job.failure, job.plan)
    confirm(job, author, django_capture_on_commit_callbacks)

    again = [atom_export_record(a) for a in atoms_for_export(LearningAtom.objects.all())]
    assert again == originals


def test_csv_cells_with_bad_json_are_row_errors():
    text = "external_id,title,atom_type,content\nx,T,flashcard,{broken\n"

    rows = parse_csv(text)

    assert rows[0].record is None
    assert "'content' is not valid JSON" in rows[0].error


def test_admin_import_flow_preview_then_confirm(
    client, author, concept, django_capture_on_commit_callbacks
):
    client.force_login(author)
    upload_file = SimpleUploadedFile("atoms.json", json.dumps([record("q1")]).encode())

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:content_learningatom_import"), {"file": upload_file})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    page = client.get(reverse("admin:content_learningatom_import_job", args=[job.pk]))
    assert b"Dry run" in page.content and b"confirm-import" in page.content
    status = client.get(reverse("admin:content_learningatom_import_status", args=[job.pk])).json()
    assert status["percent"] == 100

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:content_learningatom_import_job", args=[job.pk]))

    assert LearningAtom.objects.get().external_id == "q1"


def test_admin_export_respects_the_list_filter(client, author, concept):
    client.force_login(author)
    make_atom("mcq", concept=concept, title="An MCQ")
    make_atom("flashcard", concept=concept, title="A card")

    response = client.get(
        reverse("admin:content_learningatom_export") + "?atom_type=flashcard&format=json"
    )

    exported = json.loads(response.content)["atoms"]
    assert [a["title"] for a in exported] == ["A card"]
    assert response["Content-Disposition"].startswith("attachment")


GIFT_SAMPLE = """
$CATEGORY: driving/signs

// external_id: sign-shape
::Warning signs:: What shape are most warning signs? {
  =Triangle
  ~Circle#Circles give orders.
  ~Rectangle
}

::Fog:: Rear fog lights are for poor visibility. {T}

::Limit:: National speed limit on a motorway, in mph? {#70:0}

::Broken:: An essay question {}
"""


def test_gift_import_maps_questions_and_reports_unsupported_ones(
    author, django_capture_on_commit_callbacks
):
    job = run_import(
        author,
        GIFT_SAMPLE,
        django_capture_on_commit_callbacks,
        name="bank.gift",
        file_format="gift",
    )

    actions = {row["title"] or row["line"]: row["action"] for row in job.plan}
    assert actions["Warning signs"] == "create"
    assert actions["Fog"] == "create"
    assert actions["Limit"] == "create"
    assert job.error_count == 1
    assert any("essay" in " ".join(r["errors"]).lower() for r in job.plan if r["action"] == "error")
