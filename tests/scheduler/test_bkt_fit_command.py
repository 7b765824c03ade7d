"""``bkt_fit``: per-skill EM on a CSV (JSON output), and a course's fit recorded."""

import csv
import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from apps.scheduler import bkt_fitting
from apps.scheduler.algorithms.bkt import BKTParams, bkt_simulate
from apps.scheduler.models import FittedModel
from tests.curriculum.factories import ConceptFactory, CourseFactory

from .test_bkt_fitting import practice

GENERATING = {
    "fractions": BKTParams(p_init=0.3, p_transit=0.15, p_guess=0.2, p_slip=0.1),
    "decimals": BKTParams(p_init=0.5, p_transit=0.08, p_guess=0.25, p_slip=0.15),
}
STORED = {"prior": "p_init", "learn": "p_transit", "guess": "p_guess", "slip": "p_slip"}


def run(*args) -> str:
    out = StringIO()
    call_command("bkt_fit", *args, stdout=out)
    return out.getvalue()


def write_csv(path, rows, header=("learner", "skill", "correct", "order")) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def simulated_csv(tmp_path_factory):
    """1,500 learners per skill × 12 answers, rows shuffled (only ``order`` orders them)."""
    rng = np.random.default_rng(17)
    rows = []
    for skill, params in GENERATING.items():
        for learner, answers in enumerate(bkt_simulate(params, 1500, 12, rng)):
            rows += [(f"u{learner}", skill, int(x), 10 * t + 5) for t, x in enumerate(answers)]
    rows = [rows[i] for i in rng.permutation(len(rows))]
    path = tmp_path_factory.mktemp("bkt") / "answers.csv"
    write_csv(path, rows)
    return path


def test_csv_json_prints_each_skills_parameters_and_rows(simulated_csv):
    printed = json.loads(run("--csv", str(simulated_csv), "--json"))

    assert set(printed) == {"skills"}
    assert set(printed["skills"]) == set(GENERATING)
    for skill, true in GENERATING.items():
        fit = printed["skills"][skill]
        assert set(fit) == {"prior", "learn", "guess", "slip", "n"}
        assert fit["n"] == 1500 * 12
        for name, field in STORED.items():
            assert fit[name] == pytest.approx(getattr(true, field), abs=0.05), (skill, name)
        assert fit["guess"] < 0.5 and fit["slip"] < 0.5


def test_csv_table_without_json(tmp_path):
    path = tmp_path / "few.csv"
    write_csv(path, [("a", "s", 1, 2), ("a", "s", 0, 1), ("b", "s", 1, 1)])

    printed = run("--csv", str(path))

    assert printed.splitlines()[0].split() == ["skill", "n", "prior", "learn", "guess", "slip"]
    assert printed.splitlines()[1].split()[:2] == ["s", "3"]


def test_order_orders_each_learners_answers(tmp_path):
    # the same answers in file order and reversed, with ``order`` saying the same thing
    rows = [("a", "s", x, t) for t, x in enumerate([0, 0, 1, 1, 1, 0, 1, 1])]
    forward, backward = tmp_path / "f.csv", tmp_path / "b.csv"
    write_csv(forward, rows)
    write_csv(backward, list(reversed(rows)))

    assert run("--csv", str(forward), "--json") == run("--csv", str(backward), "--json")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("learner,skill,correct\na,s,1\n", "missing column\\(s\\): order"),
        ("learner,skill,correct,order\n", "no data rows"),
        ("learner,skill,correct,order\na,s,2,1\n", "line 2, column 'correct': expected 0 or 1"),
        ("learner,skill,correct,order\na,s,1,first\n", "line 2, column 'order': expected a num"),
        ("learner,skill,correct,order\na,,1,1\n", "line 2, column 'skill': blank"),
        ("learner,skill,correct,order\na,s,1\n", "line 2: expected 4 fields, got 3"),
    ],
)
def test_a_bad_csv_is_refused_with_the_line(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)

    with pytest.raises(CommandError, match=message):
        run("--csv", str(path))


def test_a_missing_file_and_a_missing_source_are_refused(tmp_path):
    with pytest.raises(CommandError, match="not found"):
        run("--csv", str(tmp_path / "nope.csv"))
    with pytest.raises(CommandError, match="one of the arguments --course --csv is required"):
        run()


@pytest.mark.django_db
def test_course_fit_records_and_reports_json(monkeypatch):
    monkeypatch.setattr(bkt_fitting, "BKT_MIN_ATTEMPTS", 200)
    rng = np.random.default_rng(21)
    course = CourseFactory()
    rich, sparse = ConceptFactory(course=course), ConceptFactory(course=course)
    practice(rich, GENERATING["fractions"], 25, rng)
    practice(sparse, GENERATING["decimals"], 3, rng)

    report = json.loads(run("--course", str(course.pk), "--json"))

    assert report["course"] == str(course.pk)
    pooled = report["pooled"]
    assert {key: pooled[key] for key in ("n", "learners", "version", "in_use", "recorded")} == {
        "n": 280, "learners": 28, "version": 1, "in_use": True, "recorded": True,
    }  # fmt: skip
    assert 0 < pooled["guess"] < 0.5 and 0 < pooled["slip"] < 0.5
    assert report["skills"][str(rich.pk)]["in_use"] is True
    assert report["skills"][str(sparse.pk)] == {"n": 30, "learners": 3, "fitted": False}
    assert FittedModel.objects.filter(course=course).count() == 2
    # the text form says the same; a second run records nothing new
    text = run("--course", str(course.pk))
    assert "unchanged data: not recorded again" in text
    assert "too few: uses the pooled prior" in text
    assert FittedModel.objects.filter(course=course).count() == 2


@pytest.mark.django_db
def test_an_unknown_course_is_refused():
    with pytest.raises(CommandError, match="no course"):
        run("--course", "not-a-uuid")
    with pytest.raises(CommandError, match="no course"):
        run("--course", "00000000-0000-0000-0000-000000000000")
