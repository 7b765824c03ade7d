"""Hostile import files: every one ends as a previewed job with row errors or a failed job
with the reason, never a 500 and never a job left previewing."""

import json

import pytest

from apps.content.models import LearningAtom
from apps.content.services import imports
from tests.content.test_import_export import record, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_deeply_nested_json_file_fails_with_the_reason(
    author, django_capture_on_commit_callbacks
):
    job = run_import(author, "[" * 100_000 + "]" * 100_000, django_capture_on_commit_callbacks)

    assert job.status == "failed"
    assert "nested too deeply" in job.failure


def test_a_deeply_nested_csv_cell_is_that_rows_error(author, django_capture_on_commit_callbacks):
    nested = '"' + "[" * 50_000 + "]" * 50_000 + '"'
    body = f"title,atom_type,content\nDeep,mcq,{nested}\n"

    job = run_import(author, body, django_capture_on_commit_callbacks, name="a.csv",
                     file_format="csv")  # fmt: skip

    assert job.status == "previewed"
    [row] = job.plan
    assert row["action"] == "error" and "nested too deeply" in row["errors"][0]


def test_a_csv_cell_over_128_kb_fails_the_file_naming_the_line(
    author, django_capture_on_commit_callbacks
):
    body = 'title,atom_type,content\nOK,mcq,"{}"\nHuge,mcq,"' + "x" * 200_000 + '"\n'

    job = run_import(author, body, django_capture_on_commit_callbacks, name="a.csv",
                     file_format="csv")  # fmt: skip

    assert job.status == "failed"
    assert "Line 3" in job.failure and "field larger than field limit" in job.failure


@pytest.mark.parametrize(
    ("where", "problem"),
    [("title", "a NUL character"), ("content", "a NUL character"),
     ("content", "an unpaired surrogate character")],
)  # fmt: skip
def test_text_the_database_cannot_store_is_a_row_error(
    author, concept, django_capture_on_commit_callbacks, where, problem
):
    bad = "\x00" if problem == "a NUL character" else "\ud800"
    hostile = (
        record("bad", title=f"Bad{bad}title")
        if where == "title"
        else record("bad", content={"prompt": f"Which{bad}?"})
    )
    body = json.dumps({"atoms": [record("good"), hostile]})  # \u0000 and \ud800 escapes

    job = run_import(author, body, django_capture_on_commit_callbacks)

    assert job.status == "previewed"
    actions = {row["line"]: row["action"] for row in job.plan}
    assert actions == {1: "create", 2: "error"}
    assert job.plan[1]["errors"] == [f"Contains {problem}, which cannot be stored."]
    assert not LearningAtom.objects.exists()


def test_a_step_that_breaks_marks_the_job_failed_with_the_reason(
    author, concept, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(row, seen):
        raise RuntimeError("the planner broke")

    monkeypatch.setattr(imports, "_plan_row", broken)

    job = run_import(author, [record("q1")], django_capture_on_commit_callbacks)

    assert job.status == "failed"
    assert job.failure == "Unexpected error: RuntimeError: the planner broke"
    assert job.finished_at is not None
