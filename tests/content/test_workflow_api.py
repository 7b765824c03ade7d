"""The review workflow through the API, and what learners see while atoms move through it."""

import uuid
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.content.models import LearningAtom
from apps.content.services import (
    ConceptWeightInput,
    IllegalTransition,
    atom_concept_weights_set,
    atom_media_attach,
    atom_transition,
    atom_update,
)
from apps.core.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.content.test_workflow_admin import admin_edit, form_errors
from tests.curriculum.factories import ConceptFactory

pytestmark = pytest.mark.django_db

ROLES = (
    "learner",
    "other_author",
    "own_author",
    "reviewer",
    "editing_reviewer",
    "publisher",
    "superuser",
)
ALLOWED = {
    ("submit", "draft"): {"other_author", "own_author", "superuser"},
    ("approve", "in_review"): {"reviewer", "superuser"},
    ("request_changes", "in_review"): {"reviewer", "superuser"},
    ("publish", "approved"): {"publisher", "superuser"},
    ("archive", "draft"): {"publisher", "superuser"},
    ("archive", "in_review"): {"publisher", "superuser"},
    ("archive", "approved"): {"publisher", "superuser"},
    ("archive", "published"): {"publisher", "superuser"},
    ("restore", "archived"): {"publisher", "superuser"},
}
TARGET = {
    "submit": "in_review",
    "approve": "approved",
    "request_changes": "draft",
    "publish": "published",
    "archive": "archived",
    "restore": "draft",
}
PATH = {
    "draft": [],
    "in_review": ["submit"],
    "approved": ["submit", "approve"],
    "published": ["submit", "approve", "publish"],
    "archived": ["submit", "approve", "publish", "archive"],
}
# One wrong state per action, for the 409s.
WRONG_STATE = {
    "submit": "approved",
    "approve": "draft",
    "request_changes": "published",
    "publish": "in_review",
    "archive": "archived",
    "restore": "published",
}


@pytest.fixture
def cast(db):
    return SimpleNamespace(
        learner=UserFactory(),
        other_author=UserFactory(is_staff=True, roles=["Authors"]),
        own_author=UserFactory(is_staff=True, roles=["Authors"]),
        reviewer=UserFactory(is_staff=True, roles=["Reviewers"]),
        editing_reviewer=UserFactory(is_staff=True, roles=["Reviewers"]),
        publisher=UserFactory(is_staff=True, roles=["Publishers"]),
        superuser=UserFactory(is_staff=True, is_superuser=True),
    )


def atom_in(state: str, cast, **kwargs) -> LearningAtom:
    """Written by ``own_author``, last edited by ``editing_reviewer``, moved to ``state``."""
    atom = make_atom("mcq", status="draft", by=cast.own_author, **kwargs)
    atom_update(atom=atom, by=cast.editing_reviewer, source="api", title=atom.title)
    for action in PATH[state]:
        atom_transition(atom=atom, action=action, by=cast.superuser, source="admin", comment="x")
    atom.refresh_from_db()
    return atom


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def transition(client: APIClient, atom_id, action: str, comment: str | None = "Fix option B."):
    body = {"action": action} if comment is None else {"action": action, "comment": comment}
    return client.post(f"/api/v1/authoring/atoms/{atom_id}/transitions/", body, format="json")


def status_of(atom) -> str:
    return LearningAtom.objects.values_list("status", flat=True).get(pk=atom.pk)


# --- the transition endpoint --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "state", "role"),
    [(action, state, role) for (action, state) in ALLOWED for role in ROLES],
)
def test_api_transition_matrix(cast, action, state, role):
    # Given an atom in the source state
    atom = atom_in(state, cast)
    user = getattr(cast, role)

    # When the user posts the action
    response = transition(client_for(user), atom.pk, action)

    # Then the allowed roles move it (200) and everyone else gets a 403 envelope
    if role in ALLOWED[(action, state)]:
        assert response.status_code == 200, response.content
        stored = LearningAtom.objects.get(pk=atom.pk)
        assert response.json() == {
            "id": str(atom.pk),
            "status": TARGET[action],
            "published_revision": (
                stored.published_revision.number if stored.published_revision else None
            ),
        }
        assert stored.status == TARGET[action]
        event = AuditEvent.objects.get(action=action, actor=user)
        assert (event.source, event.from_state, event.to_state) == ("api", state, TARGET[action])
    else:
        assert response.status_code == 403, response.content
        assert response.json()["error"]["code"] == "permission_denied"
        assert status_of(atom) == state


@pytest.mark.parametrize(("action", "state"), sorted(WRONG_STATE.items()))
def test_api_wrong_state_is_a_409_naming_the_state(cast, action, state):
    atom = atom_in(state, cast)

    response = transition(client_for(cast.superuser), atom.pk, action)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "illegal_transition"
    assert f"an atom that is {state}" in error["message"]
    assert error["details"] == {"action": action, "status": state}
    assert status_of(atom) == state


def test_api_publish_returns_the_pinned_revision_number(cast):
    atom = atom_in("approved", cast)  # revision 2: created, then edited

    response = transition(client_for(cast.publisher), atom.pk, "publish", comment=None)

    assert response.json() == {"id": str(atom.pk), "status": "published", "published_revision": 2}


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_api_request_changes_without_a_comment_is_a_400(cast, comment):
    atom = atom_in("in_review", cast)

    response = transition(client_for(cast.reviewer), atom.pk, "request_changes", comment=comment)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "comment" in error["details"]
    assert status_of(atom) == "in_review"


def test_api_request_changes_with_a_comment_records_it(cast):
    atom = atom_in("in_review", cast)

    response = transition(client_for(cast.reviewer), atom.pk, "request_changes", "Too long.")

    assert response.status_code == 200
    assert response.json()["status"] == "draft"
    comment = atom.review_comments.get()
    assert (comment.body, comment.is_change_request, comment.author) == (
        "Too long.",
        True,
        cast.reviewer,
    )


def test_api_self_review_is_a_403(cast):
    both = UserFactory(is_staff=True, roles=["Authors", "Reviewers"])
    atom = make_atom("mcq", status="draft", by=both)
    client = client_for(both)
    assert transition(client, atom.pk, "submit").status_code == 200

    response = transition(client, atom.pk, "approve")

    assert response.status_code == 403
    assert status_of(atom) == "in_review"


def test_api_unknown_atom_is_a_404(cast):
    response = transition(client_for(cast.superuser), uuid.uuid4(), "submit")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_api_unknown_action_is_a_400(cast):
    atom = atom_in("draft", cast)

    response = transition(client_for(cast.superuser), atom.pk, "delete")

    assert response.status_code == 400
    assert "action" in response.json()["error"]["details"]
    assert status_of(atom) == "draft"


def test_api_anonymous_is_a_401(cast):
    atom = atom_in("draft", cast)

    response = transition(client_for(None), atom.pk, "submit")

    assert response.status_code == 401
    assert status_of(atom) == "draft"


def test_api_learner_gets_a_403_even_for_an_unknown_atom(cast):
    # No hint to learners about which atom ids exist.
    response = transition(client_for(cast.learner), uuid.uuid4(), "submit")

    assert response.status_code == 403


# --- draft/live separation ----------------------------------------------------------------------


def learner_view(learner_client, atom):
    return learner_client.get(f"/api/v1/atoms/{atom.pk}/")


def learner_list_ids(learner_client) -> set[str]:
    return {a["id"] for a in learner_client.get("/api/v1/atoms/").json()["results"]}


def republish(atom, cast) -> None:
    for action, user in (
        ("submit", cast.own_author),
        ("approve", cast.reviewer),
        ("publish", cast.publisher),
    ):
        atom_transition(atom=atom, action=action, by=user, source="api")


@pytest.fixture
def live_atom(cast):
    return make_atom(
        "mcq",
        status="published",
        by=cast.own_author,
        title="Live title",
        content={"prompt": "Which protocol orders segments?"},
        concept=ConceptFactory(),
    )


def test_service_edits_stay_invisible_to_learners_until_republished(
    learner_client, cast, live_atom
):
    # Given a published atom learners see at revision 1
    body = learner_view(learner_client, live_atom).json()
    assert (body["revision"], body["title"], body["prompt"]) == (
        1,
        "Live title",
        "Which protocol orders segments?",
    )

    # When its author edits the title, the prompt and an option
    atom_update(
        atom=live_atom,
        by=cast.own_author,
        source="api",
        title="Draft title",
        content={"prompt": "Which protocol reorders segments?"},
        options=[
            {"text": "UDP"},
            {"text": "TCP (transport)", "is_correct": True},
            {"text": "ICMP"},
        ],
    )

    # Then the atom is a draft again, but learners still see revision 1 unchanged
    live_atom.refresh_from_db()
    assert live_atom.status == "draft"
    assert live_atom.published_revision.number == 1
    body = learner_view(learner_client, live_atom).json()
    assert (body["revision"], body["title"], body["prompt"]) == (
        1,
        "Live title",
        "Which protocol orders segments?",
    )
    assert [o["text"] for o in body["options"]] == ["UDP", "TCP", "ICMP"]
    assert str(live_atom.pk) in learner_list_ids(learner_client)

    # When it goes through review and is published again
    republish(live_atom, cast)

    # Then learners see the new revision
    body = learner_view(learner_client, live_atom).json()
    assert (body["revision"], body["title"], body["prompt"]) == (
        2,
        "Draft title",
        "Which protocol reorders segments?",
    )
    assert [o["text"] for o in body["options"]] == ["UDP", "TCP (transport)", "ICMP"]


def test_admin_edits_stay_invisible_to_learners_until_republished(
    client, learner_client, cast, live_atom
):
    # Given a published atom and its author in the admin
    client.force_login(cast.own_author)

    # When the author saves a new title through the change form
    response = admin_edit(client, live_atom, title="Admin draft title")
    assert response.status_code == 302, form_errors(response)

    # Then the working copy is a draft at revision 2, learners still see revision 1
    live_atom.refresh_from_db()
    assert (live_atom.status, live_atom.title) == ("draft", "Admin draft title")
    assert list(live_atom.revisions.order_by("number").values_list("number", "source")) == [
        (1, "api"),
        (2, "admin"),
    ]
    body = learner_view(learner_client, live_atom).json()
    assert (body["revision"], body["title"]) == (1, "Live title")

    # And after republishing, revision 2
    republish(live_atom, cast)
    body = learner_view(learner_client, live_atom).json()
    assert (body["revision"], body["title"]) == (2, "Admin draft title")


def test_edits_during_review_go_back_to_draft_and_publish_the_latest_revision(
    learner_client, cast, live_atom
):
    atom_update(atom=live_atom, by=cast.own_author, source="api", title="Second")
    atom_transition(atom=live_atom, action="submit", by=cast.own_author, source="api")
    atom_transition(atom=live_atom, action="approve", by=cast.reviewer, source="api")

    # An edit after approval needs a fresh review
    atom_update(atom=live_atom, by=cast.own_author, source="api", title="Third")
    live_atom.refresh_from_db()
    assert live_atom.status == "draft"
    with pytest.raises(IllegalTransition, match="an atom that is draft"):
        atom_transition(atom=live_atom, action="publish", by=cast.publisher, source="api")

    republish(live_atom, cast)
    body = learner_view(learner_client, live_atom).json()
    assert (body["revision"], body["title"]) == (3, "Third")


def test_never_published_atoms_are_invisible_in_every_state(learner_client, cast):
    atoms = {state: atom_in(state, cast, title=state) for state in ("draft", "in_review")}
    atoms["approved"] = atom_in("approved", cast, title="approved")

    for atom in atoms.values():
        assert learner_view(learner_client, atom).status_code == 404
    assert learner_list_ids(learner_client) == set()


def test_archived_atoms_disappear_from_the_learner_api(learner_client, cast, live_atom):
    # Given learners see the atom
    assert learner_view(learner_client, live_atom).status_code == 200

    # When a publisher archives it through the API
    response = transition(client_for(cast.publisher), live_atom.pk, "archive")

    # Then it is gone from detail and list
    assert response.json()["status"] == "archived"
    assert learner_view(learner_client, live_atom).status_code == 404
    assert str(live_atom.pk) not in learner_list_ids(learner_client)


def test_restored_atoms_stay_invisible_until_republished(learner_client, cast, live_atom):
    # Given an archived atom
    atom_transition(atom=live_atom, action="archive", by=cast.publisher, source="api")

    # When a publisher restores it to draft
    response = transition(client_for(cast.publisher), live_atom.pk, "restore")
    assert response.json()["status"] == "draft"

    # Then learners still cannot see it
    assert learner_view(learner_client, live_atom).status_code == 404
    assert str(live_atom.pk) not in learner_list_ids(learner_client)

    # Until it is republished
    republish(live_atom, cast)
    assert learner_view(learner_client, live_atom).status_code == 200


def test_restored_atoms_are_visible_again_after_republishing(learner_client, cast, live_atom):
    atom_transition(atom=live_atom, action="archive", by=cast.publisher, source="api")
    atom_transition(atom=live_atom, action="restore", by=cast.publisher, source="api")
    atom_update(atom=live_atom, by=cast.own_author, source="api", title="Reworked")

    republish(live_atom, cast)

    body = learner_view(learner_client, live_atom).json()
    assert (body["revision"], body["title"]) == (2, "Reworked")


def test_course_count_keeps_counting_a_live_atom_being_reedited(learner_client, cast):
    concept = ConceptFactory()
    atom = make_atom("mcq", status="published", by=cast.own_author, concept=concept)
    atom_update(atom=atom, by=cast.own_author, source="api", title="Being reworked")

    assert learner_view(learner_client, atom).status_code == 200
    course = learner_client.get(f"/api/v1/courses/{concept.course.pk}/").json()
    assert course["published_atom_count"] == 1


def test_a_draft_concept_relink_does_not_move_the_live_atom(learner_client, cast):
    # Given a live atom on a concept of course A
    old_concept, new_concept = ConceptFactory(), ConceptFactory()
    atom = make_atom("mcq", status="published", by=cast.own_author, concept=old_concept)

    # When its author relinks the draft to a concept of course B
    atom_concept_weights_set(atom=atom, weights=[ConceptWeightInput(new_concept)])
    atom_update(atom=atom, by=cast.own_author, source="api")

    # Then learners still find it under course A only, as the live revision says
    body = learner_view(learner_client, atom).json()
    assert body["concepts"] == [str(old_concept.pk)]
    in_a = learner_client.get(f"/api/v1/atoms/?course={old_concept.course.pk}").json()
    in_b = learner_client.get(f"/api/v1/atoms/?course={new_concept.course.pk}").json()
    assert [a["id"] for a in in_a["results"]] == [str(atom.pk)]
    assert in_b["results"] == []


def test_media_added_to_a_draft_stay_out_of_the_live_atom(learner_client, cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    atom = make_atom("mcq", status="published", by=cast.own_author)
    atom_update(atom=atom, by=cast.own_author, source="api", title="Reworking")

    atom_media_attach(
        atom=atom,
        uploaded_file=SimpleUploadedFile("diagram.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
        alt_text="Draft diagram",
    )

    body = learner_view(learner_client, atom).json()
    assert (body["revision"], body["media"]) == (1, [])
