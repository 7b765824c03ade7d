"""GET /api/v1/experiments/ and /api/v1/experiments/{id}/analysis/: the admin analysis page's
figures, for staff who may read them; 403 for everyone else, 404 for an unknown id."""

import uuid

import pytest
from rest_framework.test import APIClient

from apps.accounts.roles import AUTHORS, PUBLISHERS
from apps.analytics.permissions import ANALYSTS
from apps.experiments.selectors import experiment_analysis
from tests.accounts.factories import UserFactory
from tests.experiments.test_analysis import experiment_with_data_make

pytestmark = pytest.mark.django_db

LIST_URL = "/api/v1/experiments/"


@pytest.fixture
def experiment_with_data():
    return experiment_with_data_make()


def analysis_url(experiment_id) -> str:
    return f"/api/v1/experiments/{experiment_id}/analysis/"


def client_of(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_list_shows_each_experiment_with_its_arms_and_learners(experiment_with_data):
    experiment, _ = experiment_with_data
    analyst = client_of(UserFactory(is_staff=True, roles=[ANALYSTS]))

    response = analyst.get(LIST_URL)

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["id"], row["name"], row["course"]) == (
        str(experiment.pk), experiment.name, str(experiment.course_id))  # fmt: skip
    assert (row["running"], row["learners"]) == (True, 3)
    assert [(a["key"], a["algorithm"], a["weight"], a["is_control"]) for a in row["arms"]] == [
        ("control", "", 1, True), ("fsrs", "fsrs", 1, False)]  # fmt: skip


def test_the_analysis_gives_the_admin_page_s_figures(experiment_with_data):
    # given an experiment with data, and a Publisher (who reads the admin page too)
    experiment, _ = experiment_with_data
    publisher = client_of(UserFactory(is_staff=True, roles=[PUBLISHERS]))

    # when they read its analysis through the API
    response = publisher.get(analysis_url(experiment.pk))

    # then each arm's figures are the selector's, the page's
    assert response.status_code == 200
    body = response.json()
    expected = experiment_analysis(experiment=experiment)
    assert (body["learners"], body["control"], body["running"]) == (3, "control", True)
    assert body["experiment"]["id"] == str(experiment.pk)
    for row, wanted in zip(body["arms"], expected["arms"], strict=True):
        assert (row["key"], row["learners"]) == (wanted["key"], wanted["learners"])
        for metric, figure in zip(row["metrics"], wanted["metrics"], strict=True):
            assert metric["name"] == figure["name"]
            value = figure["value"]
            if hasattr(value, "successes"):
                assert (metric["value"]["successes"], metric["value"]["trials"]) == (
                    value.successes, value.trials)  # fmt: skip
                assert metric["value"]["estimate"] == value.rate
            else:
                assert (metric["value"]["estimate"], metric["value"]["trials"]) == (
                    value.mean, value.n)  # fmt: skip
            if figure["vs_control"] is None:
                assert metric["vs_control"] is None
            else:
                assert metric["vs_control"]["z"] == figure["vs_control"].z
                assert metric["vs_control"]["p_value"] == figure["vs_control"].p_value
    fsrs = {m["name"]: m for m in body["arms"][1]["metrics"]}
    # the hand-computed test of tests/experiments/test_analysis.py: z = 0.8660
    assert fsrs["retention"]["vs_control"]["difference"] == pytest.approx(0.5)
    assert fsrs["retention"]["vs_control"]["z"] == pytest.approx(0.8660, abs=5e-5)
    assert body["srm"]["observed"] == [1, 2] and body["srm"]["mismatch"] is False
    assert body["srm"]["alpha"] == 0.001


@pytest.mark.parametrize("who", ["learner", "author"])
def test_learners_and_staff_without_the_permission_get_a_403(experiment_with_data, who):
    experiment, _ = experiment_with_data
    user = UserFactory() if who == "learner" else UserFactory(is_staff=True, roles=[AUTHORS])
    client = client_of(user)

    for url in (LIST_URL, analysis_url(experiment.pk), analysis_url(uuid.uuid4())):
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["error"]["code"] == "permission_denied"


def test_an_unknown_experiment_is_a_404(db):
    analyst = client_of(UserFactory(is_staff=True, roles=[ANALYSTS]))

    response = analyst.get(analysis_url(uuid.uuid4()))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert analyst.get("/api/v1/experiments/not-a-uuid/analysis/").status_code == 404


def test_anonymous_callers_get_a_401(experiment_with_data):
    experiment, _ = experiment_with_data
    assert APIClient().get(analysis_url(experiment.pk)).status_code == 401
    assert APIClient().get(LIST_URL).status_code == 401
