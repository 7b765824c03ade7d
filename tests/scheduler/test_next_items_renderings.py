"""Next items renders each chosen atom from its published revision, kept per process by revision
id (a revision never changes): the same rendering as the atom endpoint's, a new publication
shown on the next call, and no revision read once it is kept (issue 19)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.content import selectors as content_selectors
from apps.content.api import LearnerAtomSerializer
from apps.content.models import LearningAtom
from apps.content.services import atom_update
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom, republish
from tests.curriculum.factories import ConceptFactory, CourseFactory

pytestmark = pytest.mark.django_db

NEXT_URL = "/api/v1/scheduler/next/"


def shown(client, course) -> dict[str, dict]:
    response = client.get(NEXT_URL, {"course": str(course.pk), "limit": 50})
    assert response.status_code == 200
    return {item["atom"]["id"]: item["atom"] for item in response.json()["items"]}


def test_each_item_is_rendered_as_the_atom_endpoint_renders_its_published_revision(
    learner_client,
):
    course = CourseFactory()
    concept = ConceptFactory(course=course)
    atoms = [make_atom(kind, concept=concept) for kind in ("mcq", "true_false", "cloze")]

    items = shown(learner_client, course)

    for atom in LearningAtom.objects.filter(pk__in=[a.pk for a in atoms]).select_related(
        "published_revision"
    ):
        assert items[str(atom.pk)] == LearnerAtomSerializer(atom).data


def test_a_new_publication_is_shown_on_the_next_call_and_kept_renderings_cost_no_query(
    learner_client,
):
    course = CourseFactory()
    atom = make_atom("mcq", concept=ConceptFactory(course=course), title="Before")
    assert shown(learner_client, course)[str(atom.pk)]["title"] == "Before"

    with CaptureQueriesContext(connection) as warm:
        shown(learner_client, course)
    assert not [q for q in warm if "content_atomrevision" in q["sql"]]

    boss = UserFactory(is_staff=True, is_superuser=True)
    republish(atom_update(atom=atom, by=boss, title="After", source="admin"))

    assert shown(learner_client, course)[str(atom.pk)]["title"] == "After"


def test_the_kept_renderings_are_bounded_least_recently_used_first(monkeypatch):
    monkeypatch.setattr(content_selectors, "_VIEWS_KEPT", 2)
    content_selectors._views.clear()
    atoms = [make_atom("true_false") for _ in range(3)]
    revisions = [str(a.published_revision_id) for a in atoms]

    views = content_selectors.revisions_learner_views(revisions)

    assert set(views) == set(revisions)
    assert len(content_selectors._views) == 2  # the least recently used went first
    assert [str(key) for key in content_selectors._views] == revisions[1:]


def test_ids_in_the_database_s_text_form_find_their_rendering():
    atom = make_atom("true_false")
    dashed = str(atom.published_revision_id)

    views = content_selectors.revisions_learner_views([dashed.replace("-", ""), dashed])

    assert views[dashed.replace("-", "")] == views[dashed]
    assert views[dashed]["id"] == str(atom.pk)
