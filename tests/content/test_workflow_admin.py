"""The review workflow through the admin: transition pages, edit locks, review comments and
queues, and the changelist's bulk actions."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from apps.content.models import AtomEditLock, LearningAtom, ReviewComment
from apps.content.services import atom_lock_acquire, atom_transition, atom_update
from apps.core.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom

pytestmark = pytest.mark.django_db


# --- helpers (also used by the API and scheduling tests) ---------------------------------------


def change_form_data(client, atom, **overrides) -> dict:
    """The admin change form for ``atom`` as ``client`` sees it, as POST data (every inline
    included), with ``overrides`` applied: what a browser submits after editing those fields."""
    response = client.get(reverse("admin:content_learningatom_change", args=[atom.pk]))
    assert response.status_code == 200
    all_forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        all_forms += [inline.formset.management_form, *inline.formset.forms]
    data: dict = {}
    for form in all_forms:
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "" if value is None else str(value)
            if field.show_hidden_initial:  # the hidden "initial-..." input browsers send too
                data[form.add_initial_prefix(name)] = data.get(key, "")
    return data | overrides


def admin_edit(client, atom, **overrides):
    """Save the change form with ``overrides``; a successful save's page is visited, as a
    browser would, so its messages do not linger into the next request."""
    response = client.post(change_url(atom), change_form_data(client, atom, **overrides))
    if response.status_code == 302:
        client.get(response.url)
    return response


def post(client, url: str, data: dict | None = None):
    """POST and follow the redirect like a browser, so the messages shown are this action's."""
    return client.post(url, data or {}, follow=True)


def form_errors(response) -> str:
    """Every error on an admin change page that did not save (empty if it redirected)."""
    if response.status_code == 302:
        return ""
    form = response.context["adminform"].form
    return " ".join([*form.non_field_errors(), str(form.errors)])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def transition_url(atom, action: str) -> str:
    return reverse("admin:content_learningatom_transition", args=[atom.pk, action])


def change_url(atom) -> str:
    return reverse("admin:content_learningatom_change", args=[atom.pk])


def status_of(atom) -> str:
    return LearningAtom.objects.values_list("status", flat=True).get(pk=atom.pk)


@pytest.fixture
def cast(db):
    return SimpleNamespace(
        learner=UserFactory(),
        other_author=UserFactory(is_staff=True, roles=["Authors"]),
        own_author=UserFactory(is_staff=True, roles=["Authors"], email="ada@example.com"),
        reviewer=UserFactory(is_staff=True, roles=["Reviewers"]),
        editing_reviewer=UserFactory(is_staff=True, roles=["Reviewers"]),
        publisher=UserFactory(is_staff=True, roles=["Publishers"]),
        superuser=UserFactory(is_staff=True, is_superuser=True),
    )


PATH = {
    "draft": [],
    "in_review": ["submit"],
    "approved": ["submit", "approve"],
    "published": ["submit", "approve", "publish"],
    "archived": ["archive"],
}


def atom_in(state: str, cast, *, title: str = "Transport layer") -> LearningAtom:
    """Written by ``own_author``, last edited by ``editing_reviewer``, moved to ``state``."""
    atom = make_atom("mcq", status="draft", by=cast.own_author, title=title)
    atom_update(atom=atom, by=cast.editing_reviewer, source="api", title=title)
    for action in PATH[state]:
        atom_transition(atom=atom, action=action, by=cast.superuser, source="api", comment="Set")
    atom.refresh_from_db()
    return atom


# --- transition pages -------------------------------------------------------------------------

# (action, from state, role, allowed): every action and every staff role at least once.
ADMIN_CASES = [
    ("submit", "draft", "own_author", True),
    ("submit", "draft", "other_author", True),
    ("submit", "draft", "reviewer", False),
    ("submit", "draft", "publisher", False),
    ("approve", "in_review", "reviewer", True),
    ("approve", "in_review", "editing_reviewer", False),
    ("approve", "in_review", "own_author", False),
    ("approve", "in_review", "superuser", True),
    ("request_changes", "in_review", "reviewer", True),
    ("request_changes", "in_review", "editing_reviewer", False),
    ("request_changes", "in_review", "publisher", False),
    ("publish", "approved", "publisher", True),
    ("publish", "approved", "superuser", True),
    ("publish", "approved", "reviewer", False),
    ("publish", "approved", "other_author", False),
    ("archive", "published", "publisher", True),
    ("archive", "draft", "superuser", True),
    ("archive", "in_review", "own_author", False),
    ("archive", "approved", "editing_reviewer", False),
    ("restore", "archived", "publisher", True),
    ("restore", "archived", "superuser", True),
    ("restore", "archived", "reviewer", False),
    ("restore", "archived", "own_author", False),
]
LABEL = {
    "submit": "Submit for review",
    "approve": "Approve",
    "request_changes": "Request changes",
    "publish": "Publish",
    "archive": "Archive",
    "restore": "Restore to draft",
}
TARGET = {
    "submit": "in_review",
    "approve": "approved",
    "request_changes": "draft",
    "publish": "published",
    "archive": "archived",
    "restore": "draft",
}


@pytest.mark.parametrize(("action", "state", "role", "allowed"), ADMIN_CASES)
def test_admin_transition_matrix(client, cast, action, state, role, allowed):
    # Given an atom in the source state and a staff user on its transition page
    atom = atom_in(state, cast)
    client.force_login(getattr(cast, role))
    confirm = client.get(transition_url(atom, action))
    assert confirm.status_code == 200
    assert confirm.context["transition"].action == action

    # When they confirm
    response = post(client, transition_url(atom, action), {"comment": "Tighten the stem."})

    # Then they are back on the change page with a message, and the status moved or not
    assert response.redirect_chain == [(change_url(atom), 302)]
    label = LABEL[action]
    if allowed:
        assert status_of(atom) == TARGET[action]
        assert messages_of(response) == [f"{label}: “{atom.title}” is now {TARGET[action]}."]
        event = AuditEvent.objects.get(action=action, actor=getattr(cast, role))
        assert (event.source, event.from_state, event.to_state) == ("admin", state, TARGET[action])
    else:
        assert status_of(atom) == state
        reason = (
            "Reviewers cannot review atoms they wrote or last edited."
            if role == "editing_reviewer" and action in ("approve", "request_changes")
            else f"You do not have permission to {label.lower()}."
        )
        assert messages_of(response) == [reason]
        assert not AuditEvent.objects.filter(action=action, actor=getattr(cast, role)).exists()


def test_admin_transition_from_the_wrong_state_shows_the_reason(client, cast):
    atom = atom_in("draft", cast)
    client.force_login(cast.publisher)

    response = post(client, transition_url(atom, "publish"), {"comment": ""})

    assert status_of(atom) == "draft"
    assert messages_of(response) == ["Cannot publish an atom that is draft; allowed from approved."]


def test_admin_request_changes_without_a_comment_is_refused(client, cast):
    atom = atom_in("in_review", cast)
    client.force_login(cast.reviewer)

    response = post(client, transition_url(atom, "request_changes"), {"comment": "  "})

    assert status_of(atom) == "in_review"
    assert messages_of(response) == ["Say what needs to change."]
    assert not ReviewComment.objects.exists()


def test_admin_transition_pages_are_for_staff_only(client, cast):
    atom = atom_in("draft", cast)
    client.force_login(cast.learner)

    response = client.post(transition_url(atom, "submit"), {"comment": ""})

    assert response.status_code == 302
    assert reverse("admin:login") in response.url
    assert status_of(atom) == "draft"


def test_admin_unknown_action_is_forbidden(client, cast):
    atom = atom_in("draft", cast)
    client.force_login(cast.superuser)

    assert client.get(transition_url(atom, "delete")).status_code == 403


def test_change_page_offers_only_the_users_transitions(client, cast):
    atom = atom_in("in_review", cast)

    client.force_login(cast.reviewer)
    reviewer_page = client.get(change_url(atom))
    client.force_login(cast.editing_reviewer)
    editor_page = client.get(change_url(atom))

    assert [t.action for t in reviewer_page.context["transitions"]] == [
        "approve",
        "request_changes",
    ]
    assert transition_url(atom, "approve").encode() in reviewer_page.content
    assert editor_page.context["transitions"] == []
    assert transition_url(atom, "approve").encode() not in editor_page.content


# --- edit locks ---------------------------------------------------------------------------------


def lock_url(atom) -> str:
    return reverse("admin:content_learningatom_lock", args=[atom.pk])


@pytest.fixture
def pair(db):
    return SimpleNamespace(
        a=UserFactory(is_staff=True, roles=["Authors"], email="ada@example.com"),
        b=UserFactory(is_staff=True, roles=["Authors"], email="bob@example.com"),
        publisher=UserFactory(is_staff=True, roles=["Publishers"]),
    )


def test_admin_lock_blocks_other_authors_until_released(client, pair):
    # Given author A locks the atom from its change page
    atom = make_atom("mcq", status="draft", by=pair.a, title="Original")
    client.force_login(pair.a)
    locked = post(client, lock_url(atom))
    assert locked.redirect_chain == [(change_url(atom), 302)]
    assert messages_of(locked)[0].startswith("You hold the edit lock until")
    assert AtomEditLock.objects.get(atom=atom).held_by == pair.a

    # When author B saves the change form
    client.force_login(pair.b)
    page = client.get(change_url(atom))
    assert b"Locked for editing by <strong>ada@example.com</strong>" in page.content
    refused = admin_edit(client, atom, title="B was here")

    # Then the form shows A's name and nothing is saved
    assert refused.status_code == 200
    assert "ada@example.com is editing this atom" in form_errors(refused)
    assert LearningAtom.objects.get(pk=atom.pk).title == "Original"
    assert atom.revisions.count() == 1

    # And B cannot release A's lock
    release = post(client, lock_url(atom), {"release": "1"})
    assert messages_of(release) == ["Only ada@example.com or a publisher can release this lock."]
    assert AtomEditLock.objects.get(atom=atom).held_by == pair.a

    # But A can edit while holding it
    client.force_login(pair.a)
    saved = admin_edit(client, atom, title="A's edit")
    assert saved.status_code == 302, form_errors(saved)
    assert LearningAtom.objects.get(pk=atom.pk).title == "A's edit"

    # And a publisher can break the lock, after which B can edit
    client.force_login(pair.publisher)
    broken = post(client, lock_url(atom), {"release": "1"})
    assert messages_of(broken) == ["Lock released."]
    assert not AtomEditLock.objects.filter(atom=atom).exists()
    client.force_login(pair.b)
    saved = admin_edit(client, atom, title="B's edit")
    assert saved.status_code == 302, form_errors(saved)
    assert LearningAtom.objects.get(pk=atom.pk).title == "B's edit"


def test_admin_lock_cannot_be_taken_over(client, pair):
    atom = make_atom("mcq", status="draft", by=pair.a)
    atom_lock_acquire(atom=atom, by=pair.a)
    client.force_login(pair.b)

    response = post(client, lock_url(atom))

    assert messages_of(response) == ["ada@example.com already holds the lock."]
    assert AtomEditLock.objects.get(atom=atom).held_by == pair.a


def test_admin_expired_lock_does_not_block(client, pair):
    atom = make_atom("mcq", status="draft", by=pair.a, title="Original")
    atom_lock_acquire(atom=atom, by=pair.a)
    AtomEditLock.objects.filter(atom=atom).update(expires_at=timezone.now() - timedelta(minutes=1))
    client.force_login(pair.b)

    saved = admin_edit(client, atom, title="After expiry")

    assert saved.status_code == 302, form_errors(saved)
    assert LearningAtom.objects.get(pk=atom.pk).title == "After expiry"


def test_admin_lock_needs_change_permission_and_post(client, cast):
    atom = atom_in("draft", cast)
    client.force_login(cast.reviewer)  # view-only on atoms
    assert post(client, lock_url(atom)).status_code == 403
    client.force_login(cast.own_author)
    assert client.get(lock_url(atom)).status_code == 403
    assert not AtomEditLock.objects.exists()


# --- review comments and queues -----------------------------------------------------------------


def comments_url(atom) -> str:
    return reverse("admin:content_learningatom_comments", args=[atom.pk])


def queue(client, name: str) -> list[str]:
    response = client.get(reverse("admin:content_learningatom_changelist") + f"?queue={name}")
    assert response.status_code == 200
    return sorted(a.title for a in response.context["cl"].result_list)


def test_request_changes_lands_in_the_authors_queue_until_resolved(client, cast):
    # Given a reviewer requests changes through the admin
    atom = atom_in("in_review", cast, title="Needs work")
    atom_in("in_review", cast, title="Fine")
    client.force_login(cast.reviewer)
    post(client, transition_url(atom, "request_changes"), {"comment": "Option C is ambiguous."})
    request = ReviewComment.objects.get(atom=atom)
    assert (request.is_change_request, request.resolved_at, request.body) == (
        True,
        None,
        "Option C is ambiguous.",
    )

    # Then the author's changes_requested queue lists it, and another author's does not
    client.force_login(cast.own_author)
    assert queue(client, "changes_requested") == ["Needs work"]
    client.force_login(cast.other_author)
    assert queue(client, "changes_requested") == []

    # When the author replies and resolves it
    client.force_login(cast.own_author)
    page = client.get(comments_url(atom))
    assert b"changes requested" in page.content
    post(client, comments_url(atom), {"body": "Reworded option C.", "parent": str(request.pk)})
    resolved = post(client, comments_url(atom), {"resolve": str(request.pk)})
    assert messages_of(resolved) == ["Comment resolved."]

    # Then the reply threads under the request and the queue is empty
    request.refresh_from_db()
    assert request.resolved_by == cast.own_author
    assert [r.body for r in request.replies.all()] == ["Reworded option C."]
    threads = client.get(comments_url(atom)).context["threads"]
    assert [t.pk for t in threads] == [request.pk]
    assert queue(client, "changes_requested") == []


def test_comments_on_fields_and_replies_thread_under_their_parent(client, cast):
    atom = atom_in("in_review", cast)
    client.force_login(cast.reviewer)

    post(
        client, comments_url(atom), {"body": "Typo in the prompt.", "field_path": "content.prompt"}
    )
    top = ReviewComment.objects.get()
    client.force_login(cast.own_author)
    post(client, comments_url(atom), {"body": "Fixed.", "parent": str(top.pk)})
    client.force_login(cast.reviewer)
    post(client, comments_url(atom), {"body": "Thanks!", "parent": str(top.pk)})
    post(client, comments_url(atom), {"body": "Second thread."})

    page = client.get(comments_url(atom))
    threads = list(page.context["threads"])
    assert [t.body for t in threads] == ["Typo in the prompt.", "Second thread."]
    assert threads[0].field_path == "content.prompt"
    assert [(r.author, r.body) for r in threads[0].replies.all()] == [
        (cast.own_author, "Fixed."),
        (cast.reviewer, "Thanks!"),
    ]
    assert ReviewComment.objects.filter(parent__isnull=False).count() == 2
    assert not ReviewComment.objects.filter(is_change_request=True).exists()


def test_learners_cannot_see_comments(client, cast):
    atom = atom_in("in_review", cast)
    client.force_login(cast.learner)

    response = client.get(comments_url(atom))

    assert response.status_code == 302
    assert reverse("admin:login") in response.url


def test_awaiting_my_review_excludes_atoms_the_reviewer_wrote_or_edited(client, cast):
    # Given a reviewer who also authors, and atoms in review by different people
    both = UserFactory(is_staff=True, roles=["Authors", "Reviewers"])
    mine = make_atom("mcq", status="draft", by=both, title="Mine")
    atom_transition(atom=mine, action="submit", by=both, source="api")
    edited = make_atom("mcq", status="draft", by=cast.own_author, title="Edited by me")
    atom_update(atom=edited, by=both, source="api", title="Edited by me")
    atom_transition(atom=edited, action="submit", by=cast.own_author, source="api")
    theirs = make_atom("mcq", status="draft", by=cast.own_author, title="Theirs")
    atom_transition(atom=theirs, action="submit", by=cast.own_author, source="api")
    make_atom("mcq", status="draft", by=cast.own_author, title="Still a draft")

    # Then their review queue holds only the atom someone else wrote
    client.force_login(both)
    assert queue(client, "awaiting_my_review") == ["Theirs"]
    client.force_login(cast.reviewer)
    assert queue(client, "awaiting_my_review") == ["Edited by me", "Mine", "Theirs"]


def test_my_drafts_lists_the_authors_drafts_only(client, cast):
    make_atom("mcq", status="draft", by=cast.own_author, title="Draft A")
    make_atom("mcq", status="draft", by=cast.own_author, title="Draft B")
    submitted = make_atom("mcq", status="draft", by=cast.own_author, title="Submitted")
    atom_transition(atom=submitted, action="submit", by=cast.own_author, source="api")
    make_atom("mcq", status="published", by=cast.own_author, title="Live")
    make_atom("mcq", status="draft", by=cast.other_author, title="Someone else's")

    client.force_login(cast.own_author)

    assert queue(client, "my_drafts") == ["Draft A", "Draft B"]


def test_flagged_queue_lists_atoms_with_a_statistics_flag(client, cast):
    flagged = make_atom("mcq", status="published", by=cast.own_author, title="Too easy")
    LearningAtom.objects.filter(pk=flagged.pk).update(review_flag="Facility 0.98")
    make_atom("mcq", status="published", by=cast.own_author, title="Fine")
    client.force_login(cast.reviewer)

    assert queue(client, "flagged") == ["Too easy"]


# --- bulk actions -------------------------------------------------------------------------------


def bulk(client, action: str, atoms):
    return post(
        client,
        reverse("admin:content_learningatom_changelist"),
        {"action": action, "_selected_action": [str(a.pk) for a in atoms]},
    )


def test_bulk_submit_approve_publish(client, cast):
    # Given five drafts by one author
    atoms = [
        make_atom("mcq", status="draft", by=cast.own_author, title=f"Bulk {n}") for n in range(5)
    ]

    # When the author submits them, a reviewer approves and a publisher publishes, in bulk
    client.force_login(cast.own_author)
    submitted = bulk(client, "submit_selected", atoms)
    client.force_login(cast.reviewer)
    approved = bulk(client, "approve_selected", atoms)
    client.force_login(cast.publisher)
    published = bulk(client, "publish_selected", atoms)

    # Then all five are live, each step reported
    assert messages_of(submitted) == ["Submit for review: 5 atom(s)."]
    assert messages_of(approved) == ["Approve: 5 atom(s)."]
    assert messages_of(published) == ["Publish: 5 atom(s)."]
    for atom in atoms:
        atom.refresh_from_db()
        assert atom.status == "published"
        assert atom.published_revision.number == 1
    assert AuditEvent.objects.filter(action="publish", source="admin").count() == 5


def test_bulk_reports_atoms_in_the_wrong_state(client, cast):
    # Given four approved atoms and one still in draft
    ready = [atom_in("approved", cast, title=f"Ready {n}") for n in range(4)]
    draft = atom_in("draft", cast, title="Not ready")
    client.force_login(cast.publisher)

    # When a publisher publishes all five
    response = bulk(client, "publish_selected", [*ready, draft])

    # Then four are published and the draft is reported by name, not silently skipped
    assert sorted(messages_of(response)) == [
        "Not ready: Cannot publish an atom that is draft; allowed from approved.",
        "Publish: 4 atom(s).",
    ]
    assert [status_of(a) for a in ready] == ["published"] * 4
    assert status_of(draft) == "draft"


def test_bulk_reports_missing_permissions(client, cast):
    atoms = [atom_in("approved", cast, title=f"Approved {n}") for n in range(2)]
    client.force_login(cast.own_author)

    response = bulk(client, "publish_selected", atoms)

    assert sorted(messages_of(response)) == [
        f"Approved {n}: You do not have permission to publish." for n in (0, 1)
    ]
    assert [status_of(a) for a in atoms] == ["approved", "approved"]


def test_bulk_approve_refuses_the_reviewers_own_atoms(client, cast):
    both = UserFactory(is_staff=True, roles=["Authors", "Reviewers"])
    mine = make_atom("mcq", status="draft", by=both, title="Mine")
    theirs = make_atom("mcq", status="draft", by=cast.own_author, title="Theirs")
    for atom, by in ((mine, both), (theirs, cast.own_author)):
        atom_transition(atom=atom, action="submit", by=by, source="api")
    client.force_login(both)

    response = bulk(client, "approve_selected", [mine, theirs])

    assert sorted(messages_of(response)) == [
        "Approve: 1 atom(s).",
        "Mine: Reviewers cannot review atoms they wrote or last edited.",
    ]
    assert (status_of(mine), status_of(theirs)) == ("in_review", "approved")


def test_bulk_archive(client, cast):
    atoms = [atom_in(state, cast, title=state) for state in ("draft", "published", "archived")]
    client.force_login(cast.publisher)

    response = bulk(client, "archive_selected", atoms)

    assert sorted(messages_of(response)) == [
        "Archive: 2 atom(s).",
        "archived: Cannot archive an atom that is archived; "
        "allowed from draft, in_review, approved, published.",
    ]
    assert [status_of(a) for a in atoms] == ["archived"] * 3
