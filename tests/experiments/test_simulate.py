"""experiment_simulate: predicted retention and workload per arm, on a tiny course."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, CourseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_course():
    course = CourseFactory(slug="tiny", new_per_day=2)
    concept = ConceptFactory(course=course)
    for n in range(4):
        make_atom("mcq", concept=concept, title=f"atom {n}")
    return course


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("experiment_simulate", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_predicts_retention_and_workload_per_arm(tiny_course, capsys):
    out, _ = run("--course", "tiny", "--arms", "sm2", "fsrs:desired_retention=0.9",
                 "--learners", "6", "--days", "20")  # fmt: skip

    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert set(rows) == {"sm2", "fsrs:desired_retention=0.9"}
    for row in rows.values():
        retention, reviews_per_day = float(row[1]), float(row[3])
        assert 0.3 < retention <= 1.0
        assert 0 < reviews_per_day < 4  # 4 atoms, each at most once a day
    # the progress line goes to stderr
    assert re.search(r"\[arm 2/2 fsrs:desired_retention=0.9\] learner 6/6", capsys.readouterr().err)


def test_a_lower_target_means_fewer_reviews_and_lower_retention(tiny_course):
    out, _ = run("--course", str(tiny_course.pk), "--arms", "fsrs:desired_retention=0.95",
                 "fsrs:desired_retention=0.75", "--learners", "60", "--days", "40")  # fmt: skip
    high, low = (line.split() for line in out.splitlines()[2:])
    assert float(high[1]) > float(low[1])
    assert float(high[3]) > float(low[3])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--course", "nope", "--arms", "sm2"], "No course with slug or id 'nope'"),
        (["--course", "tiny", "--arms", "anki"], "unknown algorithm 'anki'"),
        (["--course", "tiny", "--arms", "fsrs:desired_retention=2"], "outside"),
        (["--course", "tiny", "--arms", "sm2", "--learners", "0"], "--learners must be"),
    ],
)
def test_bad_input_gets_a_clear_error(tiny_course, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_a_course_without_atoms_is_refused():
    CourseFactory(slug="empty")
    with pytest.raises(CommandError, match="no published atoms"):
        run("--course", "empty", "--arms", "sm2")
