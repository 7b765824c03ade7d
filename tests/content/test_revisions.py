"""Immutable revisions: one per save, diffs in the admin history, revert as a new revision,
and the audit trail of edits, reverts and transitions."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from apps.content.models import AtomRevision, LearningAtom
from apps.content.selectors import atom_working_snapshot
from apps.content.services import (
    ConceptWeightInput,
    atom_concept_weights_set,
    atom_lock_acquire,
    atom_revert,
    atom_tags_set,
    atom_transition,
    atom_update,
)
from apps.core.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.content.test_workflow_admin import admin_edit, form_errors, messages_of
from tests.curriculum.factories import ConceptFactory

pytestmark = pytest.mark.django_db

MCQ_OPTIONS = [
    {"text": "UDP", "feedback": "UDP makes no ordering promise."},
    {"text": "TCP", "is_correct": True, "feedback": "TCP numbers and reorders segments."},
    {"text": "ICMP"},
]


@pytest.fixture
def staff(db):
    return SimpleNamespace(
        author=UserFactory(is_staff=True, roles=["Authors"], email="ada@example.com"),
        other_author=UserFactory(is_staff=True, roles=["Authors"], email="bob@example.com"),
        reviewer=UserFactory(is_staff=True, roles=["Reviewers"]),
        publisher=UserFactory(is_staff=True, roles=["Publishers"]),
    )


def revisions_of(atom) -> list[AtomRevision]:
    return list(AtomRevision.objects.filter(atom=atom).order_by("number"))


def frozen(revisions) -> list[tuple]:
    """Everything about stored revisions that must never change."""
    return [
        (r.pk, r.number, r.snapshot, r.source, r.message, r.created_by_id, r.created_at)
        for r in revisions
    ]


def history_url(atom, **query) -> str:
    url = reverse("admin:content_learningatom_revisions", args=[atom.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def revert_url(atom, number: int) -> str:
    return reverse("admin:content_learningatom_revert", args=[atom.pk, number])


def publish(atom, staff) -> None:
    atom_transition(atom=atom, action="submit", by=staff.author, source="api")
    atom_transition(atom=atom, action="approve", by=staff.reviewer, source="api")
    atom_transition(atom=atom, action="publish", by=staff.publisher, source="api")


# --- one revision per save ----------------------------------------------------------------------


def test_every_save_records_the_next_revision(client, staff):
    # Given a new atom (revision 1)
    atom = make_atom("mcq", status="draft", by=staff.author, title="v1")

    # When it is saved through the service twice and the admin once
    atom_update(atom=atom, by=staff.author, source="api", title="v2")
    atom_update(atom=atom, by=staff.other_author, source="import", title="v3")
    client.force_login(staff.author)
    response = admin_edit(client, atom, title="v4")
    assert response.status_code == 302, form_errors(response)

    # Then there are four revisions, numbered in order, each a snapshot of that save
    revisions = revisions_of(atom)
    assert [(r.number, r.snapshot["title"], r.source) for r in revisions] == [
        (1, "v1", "api"),
        (2, "v2", "api"),
        (3, "v3", "import"),
        (4, "v4", "admin"),
    ]
    assert [r.created_by for r in revisions] == [
        staff.author,
        staff.author,
        staff.other_author,
        staff.author,
    ]
    assert revisions[0].message == "Created"
    assert revisions[-1].snapshot == atom_working_snapshot(LearningAtom.objects.get(pk=atom.pk))
    assert LearningAtom.objects.get(pk=atom.pk).last_edited_by == staff.author


def test_a_revision_snapshot_holds_the_whole_working_copy(staff):
    concept = ConceptFactory()
    atom = make_atom("mcq", status="draft", by=staff.author, concept=concept, difficulty=4)
    atom_tags_set(atom=atom, names=["transport"])

    revision = atom_update(atom=atom, by=staff.author, source="api").revisions.first()

    snapshot = revision.snapshot
    assert snapshot["atom_type"] == "mcq"
    assert snapshot["content"]["prompt"] == "Which protocol guarantees in-order delivery?"
    assert [(o["index"], o["text"], o["is_correct"]) for o in snapshot["options"]] == [
        (0, "UDP", False),
        (1, "TCP", True),
        (2, "ICMP", False),
    ]
    assert snapshot["concepts"] == [{"concept": str(concept.pk), "weight": 1.0}]
    assert snapshot["tags"] == ["transport"]
    assert snapshot["metadata"]["difficulty"] == 4


def test_an_admin_save_without_changes_records_no_revision(client, staff):
    atom = make_atom("mcq", status="draft", by=staff.author)
    client.force_login(staff.author)

    response = admin_edit(client, atom)

    assert response.status_code == 302, form_errors(response)
    assert [r.number for r in revisions_of(atom)] == [1]


def test_transitions_and_failed_edits_record_no_revision(staff):
    atom = make_atom("mcq", status="draft", by=staff.author)
    publish(atom, staff)
    atom_lock_acquire(atom=atom, by=staff.author)

    with pytest.raises(ValidationError):
        atom_update(atom=atom, by=staff.other_author, source="api", title="Refused")
    with pytest.raises(ValidationError):
        atom_update(atom=atom, by=staff.author, source="api", content={"prompt": ""})

    assert [r.number for r in revisions_of(atom)] == [1]


# --- history page and diffs ---------------------------------------------------------------------


def test_history_page_diffs_an_mcq_option_text_change(client, staff):
    # Given an mcq whose correct option's text was edited
    atom = make_atom("mcq", status="draft", by=staff.author)
    options = [dict(o) for o in MCQ_OPTIONS]
    options[1]["text"] = "TCP (Transmission Control Protocol)"
    atom_update(atom=atom, by=staff.author, source="api", options=options)
    client.force_login(staff.author)

    # When the author compares revisions 1 and 2
    response = client.get(history_url(atom, a=1, b=2))

    # Then the page lists exactly that change
    assert response.status_code == 200
    changes = response.context["changes"]
    assert [c.summary for c in changes] == ["option 1 text changed"]
    assert (changes[0].path, changes[0].old, changes[0].new) == (
        "options[1].text",
        "TCP",
        "TCP (Transmission Control Protocol)",
    )
    assert "option 1 text changed" in response.content.decode()
    assert [r.number for r in response.context["revisions"]] == [2, 1]


def test_history_page_diffs_a_correct_order_change(client, staff):
    atom = make_atom("ordering", status="draft", by=staff.author)
    atom_update(
        atom=atom, by=staff.author, source="api", grading_logic={"correct_order": [1, 0, 2, 3]}
    )
    client.force_login(staff.author)

    response = client.get(history_url(atom, a=1, b=2))

    assert [c.summary for c in response.context["changes"]] == [
        "grading_logic.correct_order [0, 1, 2, 3] → [1, 0, 2, 3]"
    ]
    assert "grading_logic.correct_order [0, 1, 2, 3] → [1, 0, 2, 3]" in response.content.decode()


def test_history_page_diffs_several_changes_in_order(client, staff):
    atom = make_atom("mcq", status="draft", by=staff.author, title="Ordering")
    options = [dict(o) for o in MCQ_OPTIONS]
    options[0]["text"] = "UDP datagrams"
    atom_update(
        atom=atom,
        by=staff.author,
        source="api",
        title="In-order delivery",
        difficulty=5,
        options=options,
    )
    atom_update(atom=atom, by=staff.author, source="api", title="In-order delivery (2)")
    client.force_login(staff.reviewer)  # reviewers may read the history

    two_steps = client.get(history_url(atom, a=1, b=3)).context["changes"]
    backwards = client.get(history_url(atom, a=3, b=2)).context["changes"]

    assert [c.summary for c in two_steps] == [
        "title: 'Ordering' → 'In-order delivery (2)'",
        "option 0 text changed",
        "metadata.difficulty 3 → 5",
    ]
    assert [c.summary for c in backwards] == [
        "title: 'In-order delivery (2)' → 'In-order delivery'"
    ]


def test_history_page_without_a_valid_pair_shows_no_diff(client, staff):
    atom = make_atom("mcq", status="draft", by=staff.author)
    atom_update(atom=atom, by=staff.author, source="api", title="Second")
    client.force_login(staff.author)

    for query in ({}, {"a": 1, "b": 9}, {"a": "x", "b": 2}):
        response = client.get(history_url(atom, **query))
        assert response.status_code == 200
        assert "changes" not in response.context
    same = client.get(history_url(atom, a=2, b=2))
    assert list(same.context["changes"]) == []
    assert "No differences." in same.content.decode()


def test_history_page_marks_the_live_revision(client, staff):
    atom = make_atom("mcq", status="published", by=staff.author)
    atom_update(atom=atom, by=staff.author, source="api", title="Draft on top")
    client.force_login(staff.author)

    response = client.get(history_url(atom))

    assert response.context["published_number"] == 1
    assert "r1 <strong>(live)</strong>" in response.content.decode()


# --- revert -------------------------------------------------------------------------------------


def test_revert_makes_a_new_revision_equal_to_the_old_one(staff):
    # Given a published atom (r1) edited into a reviewed draft (r2) with other options,
    # concept and tags
    first_concept = ConceptFactory()
    atom = make_atom("mcq", status="published", by=staff.author, concept=first_concept)
    atom_tags_set(atom=atom, names=["transport"])
    atom_update(atom=atom, by=staff.author, source="api")  # r2: the tag
    options = [dict(o) for o in MCQ_OPTIONS]
    options[2]["text"] = "ARP"
    atom_concept_weights_set(atom=atom, weights=[ConceptWeightInput(ConceptFactory(), 0.5)])
    atom_tags_set(atom=atom, names=["network"])
    atom_update(
        atom=atom,
        by=staff.author,
        source="api",
        title="Changed",
        content={"prompt": "Changed prompt?"},
        options=options,
    )  # r3
    atom_transition(atom=atom, action="submit", by=staff.author, source="api")
    before = frozen(revisions_of(atom))

    # When the author reverts to revision 2
    new = atom_revert(
        atom=atom, revision=atom.revisions.get(number=2), by=staff.other_author, source="admin"
    )

    # Then revision 4 has revision 2's content; revisions 1-3 are untouched
    revisions = revisions_of(atom)
    assert new.number == 4
    assert [r.number for r in revisions] == [1, 2, 3, 4]
    assert frozen(revisions[:3]) == before
    assert new.snapshot == revisions[1].snapshot
    assert (new.source, new.created_by, new.message) == (
        "admin",
        staff.other_author,
        "Reverted to revision 2",
    )

    # And the working copy is revision 2 again, as a draft, learners still on revision 1
    atom = LearningAtom.objects.get(pk=atom.pk)
    assert atom_working_snapshot(atom) == revisions[1].snapshot
    assert (atom.title, atom.content["prompt"]) == (
        "Multiple choice example",
        "Which protocol guarantees in-order delivery?",
    )
    assert [o.text for o in atom.options.order_by("option_index")] == ["UDP", "TCP", "ICMP"]
    assert list(atom.concepts.all()) == [first_concept]
    assert [t.name for t in atom.tags.all()] == ["transport"]
    assert atom.status == "draft"
    assert atom.published_revision.number == 1
    assert atom.last_edited_by == staff.other_author


def test_revert_through_the_admin(client, staff):
    atom = make_atom("mcq", status="draft", by=staff.author, title="First")
    atom_update(atom=atom, by=staff.author, source="api", title="Second")
    before = frozen(revisions_of(atom))
    client.force_login(staff.author)

    response = client.post(revert_url(atom, 1), follow=True)

    assert response.redirect_chain == [
        (reverse("admin:content_learningatom_change", args=[atom.pk]), 302)
    ]
    assert messages_of(response) == ["Reverted to revision 1 as new revision 3."]
    revisions = revisions_of(atom)
    assert frozen(revisions[:2]) == before
    assert (revisions[2].snapshot, revisions[2].source) == (revisions[0].snapshot, "admin")
    assert LearningAtom.objects.get(pk=atom.pk).title == "First"


def test_admin_revert_needs_change_permission_a_post_and_a_real_revision(client, staff):
    atom = make_atom("mcq", status="draft", by=staff.author)
    atom_update(atom=atom, by=staff.author, source="api", title="Second")

    client.force_login(staff.reviewer)
    assert client.post(revert_url(atom, 1)).status_code == 403
    client.force_login(staff.author)
    assert client.get(revert_url(atom, 1)).status_code == 403
    assert client.post(revert_url(atom, 7)).status_code == 404
    assert [r.number for r in revisions_of(atom)] == [1, 2]


def test_revert_refuses_another_atoms_revision(staff):
    atom = make_atom("mcq", status="draft", by=staff.author)
    other = make_atom("mcq", status="draft", by=staff.author)

    with pytest.raises(ValidationError, match="belongs to another atom"):
        atom_revert(atom=atom, revision=other.revisions.get(), by=staff.author, source="api")
    assert [r.number for r in revisions_of(atom)] == [1]


def test_revert_respects_locks_and_archive(client, staff):
    atom = make_atom("mcq", status="draft", by=staff.author, title="First")
    atom_update(atom=atom, by=staff.author, source="api", title="Second")
    atom_lock_acquire(atom=atom, by=staff.author)

    client.force_login(staff.other_author)
    response = client.post(revert_url(atom, 1), follow=True)
    assert messages_of(response)[0].startswith("ada@example.com is editing this atom")
    assert [r.number for r in revisions_of(atom)] == [1, 2]

    atom_transition(atom=atom, action="archive", by=staff.publisher, source="api")
    with pytest.raises(ValidationError, match="Archived atoms cannot be edited"):
        atom_revert(atom=atom, revision=atom.revisions.get(number=1), by=staff.author, source="api")
    assert LearningAtom.objects.get(pk=atom.pk).title == "Second"


# --- audit trail --------------------------------------------------------------------------------


def test_audit_events_for_edits_reverts_and_transitions(client, staff):
    # Given a published atom, edited through the API and the admin, reverted and republished
    atom = make_atom("mcq", status="published", by=staff.author, title="First")
    atom_update(atom=atom, by=staff.author, source="api", title="Second")
    client.force_login(staff.other_author)
    assert admin_edit(client, atom, title="Third").status_code == 302
    client.post(revert_url(atom, 1))
    atom_transition(atom=atom, action="submit", by=staff.author, source="api")
    client.force_login(staff.reviewer)
    client.post(
        reverse("admin:content_learningatom_transition", args=[atom.pk, "approve"]),
        {"comment": "Good."},
    )
    atom_transition(atom=atom, action="publish", by=staff.publisher, source="api")

    # Then the audit log tells the whole story with actors, sources and states
    events = AuditEvent.objects.filter(target_id=str(atom.pk)).order_by("created_at", "id")
    assert [(e.action, e.actor, e.source, e.from_state, e.to_state, e.details) for e in events] == [
        ("create", staff.author, "api", "", "published", {}),
        ("edit", staff.author, "api", "published", "draft", {"revision": 2}),
        ("edit", staff.other_author, "admin", "draft", "draft", {"revision": 3}),
        ("edit", staff.other_author, "admin", "draft", "draft", {"revision": 4}),
        (
            "revert",
            staff.other_author,
            "admin",
            "",
            "",
            {"from_revision": 1, "new_revision": 4},
        ),
        ("submit", staff.author, "api", "draft", "in_review", {}),
        ("approve", staff.reviewer, "admin", "in_review", "approved", {}),
        ("publish", staff.publisher, "api", "approved", "published", {"published_revision": 4}),
    ]
    assert all(e.target_type == "content.learningatom" for e in events)
    atom.refresh_from_db()
    assert (atom.title, atom.published_revision.number) == ("First", 4)
