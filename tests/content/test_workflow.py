"""The review workflow at the service level: every transition by every role, illegal states,
edit locks and review comments."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.content.models import AtomEditLock, AtomStatus, LearningAtom, ReviewComment
from apps.content.services import (
    TRANSITIONS,
    IllegalTransition,
    atom_lock_acquire,
    atom_lock_holder,
    atom_lock_release,
    atom_transition,
    atom_update,
    available_transitions,
    review_comment_add,
    review_comment_resolve,
)
from apps.core.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom

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

# (action, from state) → roles that may take it. Written out independently of TRANSITIONS;
# test_the_matrix_covers_every_transition checks the two agree on what exists.
ALLOWED: dict[tuple[str, str], set[str]] = {
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
ALL_STATES = ("draft", "in_review", "approved", "published", "archived")
MATRIX = [(action, state, role) for (action, state) in ALLOWED for role in ROLES]
ILLEGAL = [
    (action, state) for action in TARGET for state in ALL_STATES if (action, state) not in ALLOWED
]
# How an atom reaches each state from draft (driven by a superuser who did not write it).
PATH = {
    "draft": [],
    "in_review": ["submit"],
    "approved": ["submit", "approve"],
    "published": ["submit", "approve", "publish"],
    "archived": ["submit", "approve", "publish", "archive"],
}


@pytest.fixture
def cast(db):
    """One user per role. ``own_author`` wrote the atom; ``editing_reviewer`` last edited it."""
    return SimpleNamespace(
        learner=UserFactory(),
        other_author=UserFactory(is_staff=True, roles=["Authors"]),
        own_author=UserFactory(is_staff=True, roles=["Authors"]),
        reviewer=UserFactory(is_staff=True, roles=["Reviewers"]),
        editing_reviewer=UserFactory(is_staff=True, roles=["Reviewers"]),
        publisher=UserFactory(is_staff=True, roles=["Publishers"]),
        superuser=UserFactory(is_staff=True, is_superuser=True),
    )


def atom_in(state: str, cast, *, title: str = "Transport layer") -> LearningAtom:
    """An mcq written by ``cast.own_author``, last edited by ``cast.editing_reviewer``, then
    moved to ``state`` through the real transitions."""
    atom = make_atom("mcq", status="draft", by=cast.own_author, title=title)
    atom_update(atom=atom, by=cast.editing_reviewer, source="api", title=f"{title} (edited)")
    for action in PATH[state]:
        atom_transition(
            atom=atom, action=action, by=cast.superuser, source="admin", comment="Setup."
        )
    atom.refresh_from_db()
    assert (atom.status, atom.created_by, atom.last_edited_by) == (
        state,
        cast.own_author,
        cast.editing_reviewer,
    )
    return atom


def test_the_matrix_covers_every_transition():
    declared = {(t.action, source) for t in TRANSITIONS.values() for source in t.sources}
    assert declared == set(ALLOWED)
    assert {action: t.target for action, t in TRANSITIONS.items()} == TARGET


@pytest.mark.parametrize(("action", "state", "role"), MATRIX)
def test_transition_matrix(cast, action, state, role):
    # Given an atom in the transition's source state
    atom = atom_in(state, cast)
    user = getattr(cast, role)
    latest = atom.revisions.order_by("-number").first()
    events_before = AuditEvent.objects.filter(action=action, actor=user).count()

    # When the user attempts the transition
    def attempt():
        return atom_transition(
            atom=atom, action=action, by=user, source="api", comment="Please fix the stem."
        )

    # Then it succeeds exactly for the allowed roles
    if role in ALLOWED[(action, state)]:
        result = attempt()
        assert result.status == TARGET[action]
        stored = LearningAtom.objects.get(pk=atom.pk)
        assert stored.status == TARGET[action]
        event = AuditEvent.objects.filter(action=action, actor=user).get()
        assert (event.source, event.from_state, event.to_state) == ("api", state, TARGET[action])
        assert event.target_id == str(atom.pk)
        if action == "publish":
            assert stored.published_revision == latest
            assert stored.published_at is not None
    else:
        with pytest.raises(PermissionDenied):
            attempt()
        assert LearningAtom.objects.get(pk=atom.pk).status == state
        assert AuditEvent.objects.filter(action=action, actor=user).count() == events_before


@pytest.mark.parametrize("action", ["approve", "request_changes"])
def test_a_reviewer_who_also_authors_cannot_review_their_own_atom(cast, action):
    # Given a user with both roles who wrote the atom
    both = UserFactory(is_staff=True, roles=["Authors", "Reviewers"])
    atom = make_atom("mcq", status="draft", by=both)
    atom_transition(atom=atom, action="submit", by=both, source="api")

    # When they review it, then it is refused and the atom waits for someone else
    with pytest.raises(PermissionDenied, match="cannot review atoms they wrote"):
        atom_transition(atom=atom, action=action, by=both, source="api", comment="Fine by me.")
    assert LearningAtom.objects.get(pk=atom.pk).status == "in_review"


@pytest.mark.parametrize("action", ["approve", "request_changes"])
def test_the_reviewer_who_last_edited_is_refused_with_the_reason(cast, action):
    atom = atom_in("in_review", cast)

    with pytest.raises(PermissionDenied, match="cannot review atoms they wrote or last edited"):
        atom_transition(
            atom=atom, action=action, by=cast.editing_reviewer, source="api", comment="Hmm."
        )


def test_a_superuser_cannot_review_their_own_atom_either(cast):
    atom = make_atom("mcq", status="draft", by=cast.superuser)
    atom_transition(atom=atom, action="submit", by=cast.superuser, source="api")

    with pytest.raises(PermissionDenied):
        atom_transition(atom=atom, action="approve", by=cast.superuser, source="api")


@pytest.mark.parametrize(("action", "state"), ILLEGAL)
def test_illegal_from_state_names_the_current_state(cast, action, state):
    # Given an atom in a state the action cannot leave from
    atom = atom_in(state, cast)
    events_before = AuditEvent.objects.count()

    # When a superuser (who has every permission) tries it
    with pytest.raises(IllegalTransition) as caught:
        atom_transition(
            atom=atom, action=action, by=cast.superuser, source="api", comment="A reason."
        )

    # Then it is an IllegalTransition naming the current state, and nothing changed
    exc = caught.value
    assert f"an atom that is {state}" in str(exc)
    assert (exc.code, exc.action, exc.status) == ("illegal_transition", action, state)
    assert exc.details() == {"action": action, "status": state}
    assert LearningAtom.objects.get(pk=atom.pk).status == state
    assert AuditEvent.objects.count() == events_before


def test_the_illegal_cases_cover_every_action():
    assert {action for action, _ in ILLEGAL} == set(TARGET)
    assert len(ILLEGAL) + len(ALLOWED) == len(TARGET) * len(ALL_STATES)


def test_unknown_action_is_an_illegal_transition(cast):
    atom = atom_in("draft", cast)

    with pytest.raises(IllegalTransition, match="Unknown action 'delete'"):
        atom_transition(atom=atom, action="delete", by=cast.superuser, source="api")


def test_missing_permission_is_reported_before_the_wrong_state(cast):
    # A learner learns nothing about the atom's state: permission is checked first.
    atom = atom_in("draft", cast)

    with pytest.raises(PermissionDenied):
        atom_transition(atom=atom, action="publish", by=cast.learner, source="api")


@pytest.mark.parametrize("state", ALL_STATES)
@pytest.mark.parametrize("role", ROLES)
def test_available_transitions_match_the_matrix(cast, role, state):
    atom = atom_in(state, cast)

    offered = {t.action for t in available_transitions(atom=atom, user=getattr(cast, role))}

    expected = {action for (action, source), roles in ALLOWED.items() if source == state}
    assert offered == {action for action in expected if role in ALLOWED[(action, state)]}


def test_full_review_cycle_records_each_step_in_the_audit_log(cast):
    # Given a draft by its author
    atom = make_atom("mcq", status="draft", by=cast.own_author)

    # When it goes through review, changes, review again, publication and archive
    steps = [
        ("submit", cast.own_author, ""),
        ("request_changes", cast.reviewer, "The distractors are too easy."),
        ("submit", cast.own_author, ""),
        ("approve", cast.reviewer, ""),
        ("publish", cast.publisher, ""),
        ("archive", cast.publisher, ""),
        ("restore", cast.publisher, ""),
    ]
    for action, user, comment in steps:
        atom_transition(atom=atom, action=action, by=user, source="api", comment=comment)

    # Then every step is an audit event, in order, with its actor and states
    events = AuditEvent.objects.filter(target_id=str(atom.pk), action__in=list(TARGET)).order_by(
        "created_at", "id"
    )
    assert [(e.action, e.actor, e.from_state, e.to_state) for e in events] == [
        ("submit", cast.own_author, "draft", "in_review"),
        ("request_changes", cast.reviewer, "in_review", "draft"),
        ("submit", cast.own_author, "draft", "in_review"),
        ("approve", cast.reviewer, "in_review", "approved"),
        ("publish", cast.publisher, "approved", "published"),
        ("archive", cast.publisher, "published", "archived"),
        ("restore", cast.publisher, "archived", "draft"),
    ]
    assert events[1].message == "The distractors are too easy."
    assert events[4].details == {"published_revision": 1}
    assert atom.status == "draft"


def test_transitions_do_not_create_revisions(cast):
    atom = make_atom("mcq", status="draft", by=cast.own_author)

    for action, user in [
        ("submit", cast.own_author),
        ("approve", cast.reviewer),
        ("publish", cast.publisher),
    ]:
        atom_transition(atom=atom, action=action, by=user, source="api")

    assert list(atom.revisions.values_list("number", flat=True)) == [1]
    assert atom.published_revision.number == 1


# --- request changes and review comments ------------------------------------------------------


@pytest.mark.parametrize("comment", ["", "   \n"])
def test_request_changes_requires_a_comment(cast, comment):
    atom = atom_in("in_review", cast)

    with pytest.raises(ValidationError) as caught:
        atom_transition(
            atom=atom, action="request_changes", by=cast.reviewer, source="api", comment=comment
        )

    assert "comment" in caught.value.message_dict
    assert LearningAtom.objects.get(pk=atom.pk).status == "in_review"
    assert not ReviewComment.objects.exists()


def test_request_changes_creates_an_unresolved_change_request_on_the_latest_revision(cast):
    atom = atom_in("in_review", cast)

    atom_transition(
        atom=atom,
        action="request_changes",
        by=cast.reviewer,
        source="api",
        comment="Option B is also defensible.",
    )

    comment = ReviewComment.objects.get(atom=atom)
    assert comment.is_change_request is True
    assert comment.resolved_at is None
    assert comment.author == cast.reviewer
    assert comment.body == "Option B is also defensible."
    assert comment.revision == atom.revisions.order_by("-number").first()
    assert atom.status == "draft"


def test_review_comments_thread_and_resolve(cast):
    atom = atom_in("in_review", cast)
    top = review_comment_add(
        atom=atom, by=cast.reviewer, body="Prompt is ambiguous.", field_path="content.prompt"
    )

    reply = review_comment_add(atom=atom, by=cast.own_author, body="Reworded.", parent=top)
    review_comment_resolve(comment=top, by=cast.reviewer)

    top.refresh_from_db()
    assert list(top.replies.all()) == [reply]
    assert (top.field_path, top.is_change_request) == ("content.prompt", False)
    assert top.resolved_by == cast.reviewer
    assert top.resolved_at is not None
    first_resolution = top.resolved_at
    review_comment_resolve(comment=top, by=cast.superuser)  # idempotent
    top.refresh_from_db()
    assert (top.resolved_by, top.resolved_at) == (cast.reviewer, first_resolution)


def test_review_comment_validation(cast):
    atom = atom_in("in_review", cast)
    other = atom_in("in_review", cast, title="Other")
    parent = review_comment_add(atom=other, by=cast.reviewer, body="Elsewhere.")

    with pytest.raises(ValidationError, match="needs some text"):
        review_comment_add(atom=atom, by=cast.reviewer, body="  ")
    with pytest.raises(ValidationError, match="same atom"):
        review_comment_add(atom=atom, by=cast.reviewer, body="Reply", parent=parent)


# --- edit locks ---------------------------------------------------------------------------------


@pytest.fixture
def authors(db):
    return SimpleNamespace(
        a=UserFactory(is_staff=True, roles=["Authors"], email="ada@example.com"),
        b=UserFactory(is_staff=True, roles=["Authors"], email="bob@example.com"),
        publisher=UserFactory(is_staff=True, roles=["Publishers"]),
    )


def test_a_lock_refuses_other_editors_naming_the_holder(authors):
    # Given author A holds the lock
    atom = make_atom("mcq", status="draft", by=authors.a, title="Locked")
    atom_lock_acquire(atom=atom, by=authors.a)

    # When author B edits, then it is refused with A's name
    with pytest.raises(ValidationError, match=re.escape("ada@example.com is editing this atom")):
        atom_update(atom=atom, by=authors.b, source="api", title="B's title")
    assert LearningAtom.objects.get(pk=atom.pk).title == "Locked"
    assert atom.revisions.count() == 1

    # And B cannot take the lock either
    with pytest.raises(ValidationError, match=re.escape("ada@example.com already holds the lock")):
        atom_lock_acquire(atom=atom, by=authors.b)

    # But A can edit
    atom_update(atom=atom, by=authors.a, source="api", title="A's title")
    assert LearningAtom.objects.get(pk=atom.pk).title == "A's title"
    assert atom.revisions.count() == 2


def test_a_lock_is_released_by_its_holder_or_a_publisher_only(authors):
    atom = make_atom("mcq", status="draft", by=authors.a)
    atom_lock_acquire(atom=atom, by=authors.a)

    with pytest.raises(PermissionDenied, match=re.escape("ada@example.com or a publisher")):
        atom_lock_release(atom=atom, by=authors.b)
    assert atom_lock_holder(atom=atom).held_by == authors.a

    atom_lock_release(atom=atom, by=authors.publisher)
    assert atom_lock_holder(atom=atom) is None
    assert AuditEvent.objects.filter(action="unlock", actor=authors.publisher).exists()
    atom_update(atom=atom, by=authors.b, source="api", title="Now B can")

    atom_lock_acquire(atom=atom, by=authors.b)
    atom_lock_release(atom=atom, by=authors.b)
    assert not AtomEditLock.objects.filter(atom=atom).exists()


def test_reacquiring_your_own_lock_extends_it(authors):
    atom = make_atom("mcq", status="draft", by=authors.a)
    first = atom_lock_acquire(atom=atom, by=authors.a, minutes=5)

    second = atom_lock_acquire(atom=atom, by=authors.a, minutes=60)

    assert AtomEditLock.objects.filter(atom=atom).count() == 1
    assert second.expires_at > first.expires_at


def test_an_expired_lock_does_not_block(authors):
    # Given A's lock has expired
    atom = make_atom("mcq", status="draft", by=authors.a)
    atom_lock_acquire(atom=atom, by=authors.a)
    AtomEditLock.objects.filter(atom=atom).update(expires_at=timezone.now() - timedelta(seconds=1))

    # Then B can edit, and take the lock
    assert atom_lock_holder(atom=atom) is None
    atom_update(atom=atom, by=authors.b, source="api", title="After expiry")
    lock = atom_lock_acquire(atom=atom, by=authors.b)
    assert lock.held_by == authors.b

    # And releasing an expired lock just cleans it up
    AtomEditLock.objects.filter(atom=atom).update(expires_at=timezone.now() - timedelta(seconds=1))
    atom_lock_release(atom=atom, by=authors.a)
    assert not AtomEditLock.objects.filter(atom=atom).exists()


def test_archived_atoms_cannot_be_edited(authors):
    atom = make_atom("mcq", status=AtomStatus.DRAFT, by=authors.a)
    atom_transition(atom=atom, action="archive", by=authors.publisher, source="api")

    with pytest.raises(ValidationError, match="restore it to draft first"):
        atom_update(atom=atom, by=authors.a, source="api", title="Too late")
