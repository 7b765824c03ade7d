"""Every door that creates or edits an atom writes through the same services, so each leaves
the same audit events and revisions as the service called directly (issue 17).

Doors: the admin add and change forms (with their option, concept-weight and media inlines and
the tag picker), the admin's revert button, the import, and the services themselves. The
content API (apps/content/api.py) has no door that creates or edits an atom; its only write is
the workflow transition, covered in test_workflow_api.py.
"""

from types import SimpleNamespace

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.content.models import AtomConceptWeight, AtomMedia, LearningAtom, Tag
from apps.content.selectors import atom_working_snapshot
from apps.content.services import (
    ConceptWeightInput,
    atom_concept_weights_set,
    atom_create,
    atom_edit_recorded,
    atom_lock_acquire,
    atom_media_attach,
    atom_revert,
    atom_tags_set,
    atom_transition,
    atom_update,
)
from apps.content.services.imports import import_job_confirm, import_job_create
from apps.core.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.content.test_atom_admin import _atom_post, _inline_management
from tests.content.test_workflow_admin import admin_edit, change_form_data, change_url, form_errors
from tests.curriculum.factories import ConceptFactory, MisconceptionFactory

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OGG = b"OggS" + b"\x00" * 64
PROMPT = "Which protocol orders segments?"
# What _atom_post submits besides the payload; the direct service calls pass the same.
ADMIN_FORM_METADATA = {
    "engagement_mode": "active",
    "knowledge_dimension": "factual",
    "element_interactivity": 0.3,
    "difficulty": 3,
    "estimated_time_s": 30,
    "irt_a": 1.0,
    "irt_b": 0.0,
    "irt_c": 0.0,
    "schema_version": 1,
}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def staff(db):
    return SimpleNamespace(
        author=UserFactory(is_staff=True, roles=["Authors"], email="ada@example.com"),
        other=UserFactory(is_staff=True, roles=["Authors"], email="bob@example.com"),
        superuser=UserFactory(is_staff=True, is_superuser=True),
    )


# --- what a door leaves behind -----------------------------------------------------------------


def audit_trail(atom) -> list[tuple]:
    """The atom's audit events, oldest first, as the fields a reader compares."""
    events = AuditEvent.objects.filter(
        target_type="content.learningatom", target_id=str(atom.pk)
    ).order_by("created_at", "id")
    return [
        (e.action, e.source, e.actor_id, e.from_state, e.to_state, e.message, e.details)
        for e in events
    ]


def revision_trail(atom) -> list[tuple]:
    return [
        (r.number, r.source, r.created_by_id, r.message, comparable(r.snapshot))
        for r in atom.revisions.order_by("number")
    ]


def comparable(snapshot: dict) -> dict:
    """A snapshot without what differs between two atoms made alike: the stored media names
    carry the atom id and a random prefix (atoms/<atom>/<hex>-sign.png)."""
    media = [
        m | {"file": m["file"].rsplit("/", 1)[-1].split("-", 1)[-1]} for m in snapshot["media"]
    ]
    return snapshot | {"media": media}


def add_url(atom_type: str = "mcq") -> str:
    return reverse("admin:content_learningatom_add") + f"?atom_type={atom_type}"


def admin_add_data(*, misconception, concept, tags) -> dict:
    """The add form for an mcq with three options, one concept weight, one image and tags."""
    data = _atom_post(
        "mcq",
        {"prompt": PROMPT},
        {},
        [
            {"text": "UDP", "misconception": misconception, "feedback": "No ordering."},
            {"text": "TCP", "is_correct": True},
            {"text": "ICMP"},
        ],
        concept=concept,
    )
    data["concept_weights-0-weight"] = "0.8"
    data |= _inline_management("media", total=1)
    data |= {
        "media-0-file": SimpleUploadedFile("sign.png", PNG, content_type="image/png"),
        "media-0-alt_text": "A road sign",
        "media-0-position": "0",
        "tags": [str(tag.pk) for tag in tags],
    }
    return data


def media_row(atom, index: int, upload: SimpleUploadedFile, alt_text: str = "") -> dict:
    """POST fields adding a media row at ``index`` to a change form."""
    return {
        f"media-{index}-file": upload,
        f"media-{index}-alt_text": alt_text,
        f"media-{index}-position": str(index),
        f"media-{index}-atom": str(atom.pk),
    }


# --- creating ----------------------------------------------------------------------------------


def test_admin_add_leaves_the_same_audit_and_revision_as_the_service(client, staff):
    # Given a misconception, a concept and two tags
    misconception = MisconceptionFactory(name="Thinks UDP is ordered")
    concept = ConceptFactory()
    tags = [Tag.objects.create(name="transport"), Tag.objects.create(name="tcp")]

    # When an author adds an mcq with options, a weight, an image and tags in the admin
    client.force_login(staff.author)
    response = client.post(
        add_url(), admin_add_data(misconception=misconception, concept=concept, tags=tags)
    )
    assert response.status_code == 302, form_errors(response)
    admin_atom = LearningAtom.objects.get(title="Admin mcq")

    # Then it is audited as a creation (not an "edit"), with one revision
    assert audit_trail(admin_atom) == [("create", "admin", staff.author.pk, "", "draft", "", {})]
    assert [r[:4] for r in revision_trail(admin_atom)] == [(1, "admin", staff.author.pk, "Created")]

    # And exactly as the same atom created through the service directly
    from apps.content.services import MediaInput

    direct = atom_create(
        by=staff.author,
        source="admin",
        title="Admin mcq",
        atom_type="mcq",
        content={"prompt": PROMPT},
        grading_logic={},
        options=[
            {"text": "UDP", "misconception": misconception, "feedback": "No ordering."},
            {"text": "TCP", "is_correct": True},
            {"text": "ICMP"},
        ],
        concept_weights=[ConceptWeightInput(concept, 0.8)],
        tags=["transport", "tcp"],
        media=[MediaInput(SimpleUploadedFile("sign.png", PNG), alt_text="A road sign")],
        **ADMIN_FORM_METADATA,
    )

    assert audit_trail(admin_atom) == audit_trail(direct)
    assert revision_trail(admin_atom) == revision_trail(direct)
    first = admin_atom.revisions.get()
    assert first.message == "Created"
    assert [m["alt_text"] for m in first.snapshot["media"]] == ["A road sign"]
    assert first.snapshot["concepts"] == [{"concept": str(concept.pk), "weight": 0.8}]
    assert first.snapshot["tags"] == ["tcp", "transport"]
    assert first.snapshot["options"][0]["misconception"] == str(misconception.pk)
    # And the rows themselves match
    media = admin_atom.media.get()
    assert (media.kind, media.content_type, media.size_bytes) == ("image", "image/png", len(PNG))
    assert admin_atom.created_by == admin_atom.last_edited_by == staff.author
    assert admin_atom.search_text == LearningAtom.objects.get(pk=direct.pk).search_text


def test_admin_add_keeps_the_admin_history_and_messages(client, staff):
    concept = ConceptFactory()
    client.force_login(staff.author)

    response = client.post(
        add_url(),
        admin_add_data(misconception=None, concept=concept, tags=[]),
        follow=True,
    )

    atom = LearningAtom.objects.get(title="Admin mcq")
    assert response.redirect_chain[-1][0] == reverse("admin:content_learningatom_changelist")
    shown = [str(m) for m in response.context["messages"]]
    assert any("was added successfully" in m for m in shown)
    assert any("2 wrong option(s) have no misconception linked" in m for m in shown)
    entry = LogEntry.objects.get(object_id=str(atom.pk))
    assert entry.action_flag == ADDITION
    assert "Added atom response option “0: UDP”" in entry.get_change_message()
    assert "Added atom media “image: atoms/" in entry.get_change_message()


def test_admin_add_errors_stay_on_the_form_and_write_nothing(client, staff):
    concept = ConceptFactory()
    client.force_login(staff.author)
    data = admin_add_data(misconception=None, concept=concept, tags=[])
    data["options-1-is_correct"] = ""  # no correct option left
    data["concept_weights-0-weight"] = "1.5"
    data["media-0-file"] = SimpleUploadedFile("notes.png", b"just some text here")

    response = client.post(add_url(), data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Exactly one option must be marked correct" in page
    assert "Unsupported file" in page
    assert "Ensure this value is less than or equal to 1.0" in page
    assert not LearningAtom.objects.exists()
    assert not AuditEvent.objects.exists()


def test_import_creates_and_updates_like_the_service(
    author, concept, django_capture_on_commit_callbacks
):
    record = {
        "external_id": "q1",
        "title": "Imported q1",
        "atom_type": "mcq",
        "content": {"prompt": PROMPT},
        "grading_logic": {},
        "options": [{"text": "UDP"}, {"text": "TCP", "is_correct": True}],
        "concepts": [{"course": "networks", "concept": "Transport", "weight": 1.0}],
        "tags": ["imported"],
        "metadata": {"difficulty": 2},
    }

    def run(records):
        with django_capture_on_commit_callbacks(execute=True):
            job = import_job_create(
                by=author,
                uploaded_file=SimpleUploadedFile("atoms.json", _json({"atoms": records})),
                file_format="json",
            )
        with django_capture_on_commit_callbacks(execute=True):
            import_job_confirm(job=job, by=author)

    # When a file creates an atom, and the same atom is created through the service
    run([record])
    imported = LearningAtom.objects.get(external_id="q1")
    direct = atom_create(
        by=author,
        source="import",
        title="Imported q1",
        atom_type="mcq",
        content={"prompt": PROMPT},
        grading_logic={},
        options=record["options"],
        concept_weights=[ConceptWeightInput(concept, 1.0)],
        tags=["imported"],
        difficulty=2,
    )

    # Then both are audited as a creation with one identical revision
    assert [e[:5] for e in audit_trail(imported)] == [("create", "import", author.pk, "", "draft")]
    assert audit_trail(imported) == audit_trail(direct)
    assert revision_trail(imported) == revision_trail(direct)

    # When a second file changes its prompt, and the service edits the other atom alike
    run([record | {"content": {"prompt": "Which protocol retransmits?"}}])
    atom_update(
        atom=direct, by=author, source="import", content={"prompt": "Which protocol retransmits?"}
    )

    # Then each has one more "edit" (the import adds its own import_update note)
    assert [e[0] for e in audit_trail(imported)] == ["create", "edit", "import_update"]
    assert audit_trail(imported)[1][:5] == audit_trail(direct)[1][:5]
    assert [r[:3] for r in revision_trail(imported)] == [r[:3] for r in revision_trail(direct)]
    assert revision_trail(imported)[1][4] == revision_trail(direct)[1][4]


def _json(payload) -> bytes:
    import json

    return json.dumps(payload).encode()


# --- editing -----------------------------------------------------------------------------------


def _pair(staff, **kwargs):
    """Two atoms made alike through the service: one to edit in the admin, one directly."""
    concept = ConceptFactory()
    return [
        make_atom("mcq", status="draft", by=staff.author, concept=concept, **kwargs)
        for _ in range(2)
    ]


def test_admin_change_leaves_the_same_audit_and_revision_as_the_service(client, staff):
    # Given two atoms made alike, one published
    admin_atom, direct = _pair(staff, title="Transport")
    for atom in (admin_atom, direct):
        for action in ("submit", "approve", "publish"):
            atom_transition(atom=atom, action=action, by=staff.superuser, source="api")
    new_concept = ConceptFactory()
    Tag.objects.create(name="transport")

    # When the author changes the title, an option, the weight, the tags and adds an image
    # in the admin, in one save
    client.force_login(staff.author)
    admin_atom.refresh_from_db()
    data = change_form_data(
        client,
        admin_atom,
        title="Transport, edited",
        **{
            "options-2-text": "ARP",
            "concept_weights-0-weight": "0.5",
            "concept_weights-TOTAL_FORMS": "2",
            "concept_weights-1-concept": str(new_concept.pk),
            "concept_weights-1-weight": "0.25",
            "concept_weights-1-atom": str(admin_atom.pk),
            "tags": [str(Tag.objects.get(name="transport").pk)],
            "media-TOTAL_FORMS": "1",
            **media_row(admin_atom, 0, SimpleUploadedFile("sign.png", PNG), "A sign"),
        },
    )
    response = client.post(change_url(admin_atom), data)
    assert response.status_code == 302, form_errors(response)

    # And the same changes go through the services directly, recorded once
    direct.refresh_from_db()
    options = [
        {"index": o.option_index, "text": "ARP" if o.option_index == 2 else o.text,
         "is_correct": o.is_correct, "feedback": o.feedback, "misconception": o.misconception_id}
        for o in direct.options.all()
    ]  # fmt: skip
    old_concept = direct.concept_weights.get().concept
    atom_update(
        atom=direct,
        by=staff.author,
        source="admin",
        record=False,
        title="Transport, edited",
        options=options,
    )
    atom_concept_weights_set(
        atom=direct,
        weights=[ConceptWeightInput(old_concept, 0.5), ConceptWeightInput(new_concept, 0.25)],
    )
    atom_tags_set(atom=direct, names=["transport"])
    atom_media_attach(
        atom=direct,
        by=staff.author,
        source="admin",
        uploaded_file=SimpleUploadedFile("sign.png", PNG),
        alt_text="A sign",
        record=False,
    )
    atom_edit_recorded(atom=direct, by=staff.author, source="admin")

    # Then each has exactly one "edit" back to draft, and identical revisions
    trail = audit_trail(admin_atom)
    assert [e[0] for e in trail] == ["create", "submit", "approve", "publish", "edit"]
    assert trail[-1][:5] == ("edit", "admin", staff.author.pk, "published", "draft")
    assert trail == audit_trail(direct)
    assert revision_trail(admin_atom) == revision_trail(direct)
    latest = admin_atom.revisions.order_by("-number").first()
    assert latest.snapshot == atom_working_snapshot(LearningAtom.objects.get(pk=admin_atom.pk))
    assert LogEntry.objects.get(object_id=str(admin_atom.pk)).action_flag == CHANGE


def test_admin_title_edit_matches_atom_update(client, staff):
    admin_atom, direct = _pair(staff, title="Transport")
    client.force_login(staff.author)

    response = admin_edit(client, admin_atom, title="Transport layer")
    atom_update(atom=direct, by=staff.author, source="admin", title="Transport layer")

    assert response.status_code == 302, form_errors(response)
    assert audit_trail(admin_atom) == audit_trail(direct)
    assert revision_trail(admin_atom) == revision_trail(direct)


def test_admin_save_without_changes_records_nothing(client, staff):
    atom = make_atom("mcq", status="draft", by=staff.author)
    client.force_login(staff.author)

    response = admin_edit(client, atom)

    assert response.status_code == 302, form_errors(response)
    assert [e[0] for e in audit_trail(atom)] == ["create"]
    assert atom.revisions.count() == 1


def test_admin_media_alt_text_edit_and_delete_go_through_the_services(client, staff):
    atom = make_atom("mcq", status="draft", by=staff.author)
    image = atom_media_attach(
        atom=atom, by=staff.author, uploaded_file=SimpleUploadedFile("a.png", PNG), alt_text="x"
    )
    atom_media_attach(atom=atom, by=staff.author, uploaded_file=SimpleUploadedFile("b.ogg", OGG))
    client.force_login(staff.superuser)  # authors may not delete media

    # When the author re-describes the image and deletes the audio in one save
    response = admin_edit(
        client, atom, **{"media-0-alt_text": "A road sign", "media-1-DELETE": "on"}
    )

    # Then one edit is recorded, holding the described image only
    assert response.status_code == 302, form_errors(response)
    assert [e[0] for e in audit_trail(atom)] == ["create", "edit", "edit", "edit"]
    latest = atom.revisions.order_by("-number").first()
    assert [(m["kind"], m["alt_text"]) for m in latest.snapshot["media"]] == [
        ("image", "A road sign")
    ]
    assert list(atom.media.values_list("pk", flat=True)) == [image.pk]


def test_admin_delete_keeps_the_file_the_live_revision_shows(client, staff, media_root):
    atom = make_atom("mcq", status="draft", by=staff.author)
    image = atom_media_attach(
        atom=atom, by=staff.author, uploaded_file=SimpleUploadedFile("a.png", PNG)
    )
    for action in ("submit", "approve", "publish"):
        atom_transition(atom=atom, action=action, by=staff.superuser, source="api")
    client.force_login(staff.superuser)

    response = admin_edit(client, LearningAtom.objects.get(pk=atom.pk), **{"media-0-DELETE": "on"})

    assert response.status_code == 302, form_errors(response)
    assert not AtomMedia.objects.filter(pk=image.pk).exists()
    assert (media_root / image.file.name).exists()  # the published revision still links it


def test_admin_option_edit_keeps_the_option_rows_and_their_statistics(client, staff):
    atom = make_atom("mcq", status="draft", by=staff.author)
    atom.options.update(selection_count=7)
    ids = list(atom.options.order_by("option_index").values_list("pk", flat=True))
    client.force_login(staff.author)

    response = admin_edit(client, atom, **{"options-2-text": "ARP"})

    assert response.status_code == 302, form_errors(response)
    options = list(atom.options.order_by("option_index"))
    assert [o.pk for o in options] == ids
    assert [o.selection_count for o in options] == [7, 7, 7]
    assert options[2].text == "ARP"


def test_admin_cannot_change_the_atom_type(client, staff):
    atom = make_atom("mcq", status="draft", by=staff.author)
    client.force_login(staff.author)

    response = admin_edit(client, atom, atom_type="short_text", title="Renamed")

    assert response.status_code == 302, form_errors(response)
    assert LearningAtom.objects.get(pk=atom.pk).atom_type == "mcq"


def test_admin_revert_matches_the_service(client, staff):
    admin_atom, direct = _pair(staff, title="v1")
    for atom in (admin_atom, direct):
        atom_update(atom=atom, by=staff.author, source="admin", title="v2")
    client.force_login(staff.author)

    response = client.post(
        reverse("admin:content_learningatom_revert", args=[admin_atom.pk, 1]), follow=True
    )
    atom_revert(
        atom=direct, revision=direct.revisions.get(number=1), by=staff.author, source="admin"
    )

    assert response.status_code == 200
    assert audit_trail(admin_atom) == audit_trail(direct)
    assert revision_trail(admin_atom) == revision_trail(direct)


# --- the edit lock guards every door -----------------------------------------------------------


@pytest.fixture
def locked(staff):
    """A draft atom with an image and a concept weight, locked by ``other``."""
    atom = make_atom("mcq", status="draft", by=staff.author, title="Original")
    atom_media_attach(atom=atom, by=staff.author, uploaded_file=SimpleUploadedFile("a.png", PNG))
    atom_lock_acquire(atom=atom, by=staff.other)
    return atom


def _refused(response, atom, revisions_before: int) -> None:
    assert response.status_code == 200
    assert "bob@example.com is editing this atom" in form_errors(response)
    assert atom.revisions.count() == revisions_before
    assert [e[0] for e in audit_trail(atom)] == ["create", "edit", "lock"]  # the setup's


def test_admin_media_upload_is_refused_while_someone_else_holds_the_lock(client, staff, locked):
    client.force_login(staff.author)
    data = change_form_data(client, locked)
    data |= {"media-TOTAL_FORMS": "2", **media_row(locked, 1, SimpleUploadedFile("b.ogg", OGG))}

    response = client.post(change_url(locked), data)

    _refused(response, locked, 2)
    assert locked.media.count() == 1


def test_admin_media_delete_is_refused_while_locked(client, staff, locked):
    client.force_login(staff.superuser)  # may delete media, but not while bob holds the lock

    response = admin_edit(client, locked, **{"media-0-DELETE": "on"})

    _refused(response, locked, 2)
    assert locked.media.count() == 1


def test_admin_weight_change_is_refused_while_locked(client, staff, locked):
    client.force_login(staff.author)

    response = admin_edit(client, locked, **{"concept_weights-0-weight": "0.5"})

    _refused(response, locked, 2)
    assert AtomConceptWeight.objects.get(atom=locked).weight == 1.0


def test_media_weight_and_tag_services_refuse_while_locked(staff, locked):
    from apps.content.services import atom_media_detach, atom_media_update

    media = locked.media.get()
    concept = locked.concept_weights.get().concept
    refusals = [
        lambda: atom_media_attach(
            atom=locked, by=staff.author, uploaded_file=SimpleUploadedFile("b.ogg", OGG)
        ),
        lambda: atom_media_update(media=media, by=staff.author, alt_text="changed"),
        lambda: atom_media_detach(media=media, by=staff.author),
        lambda: atom_concept_weights_set(
            atom=locked, by=staff.author, weights=[ConceptWeightInput(concept, 0.5)]
        ),
        lambda: atom_tags_set(atom=locked, by=staff.author, names=["transport"]),
    ]
    for refused_call in refusals:
        with pytest.raises(ValidationError, match=r"bob@example\.com is editing this atom"):
            refused_call()

    assert locked.media.get().alt_text == ""
    assert AtomConceptWeight.objects.get(atom=locked).weight == 1.0
    assert not locked.tags.exists()
    assert locked.revisions.count() == 2
    # The lock holder may
    atom_media_update(media=media, by=staff.other, alt_text="changed")
    atom_media_detach(media=media, by=staff.other)
    assert [e[0] for e in audit_trail(locked)] == ["create", "edit", "lock", "edit", "edit"]


def test_a_lock_taken_after_the_form_validated_still_refuses_the_save(
    client, staff, locked, monkeypatch
):
    # Given the form's own check passes (bob takes the lock between validation and save)
    monkeypatch.setattr("apps.content.admin.forms.atom_edit_guard", lambda **kwargs: None)
    client.force_login(staff.author)

    # When the author saves a new title and weight
    data = change_form_data(client, locked, title="Changed", **{"concept_weights-0-weight": "0.5"})
    response = client.post(change_url(locked), data, follow=True)

    # Then the service refuses, nothing is saved, and the page says why (no 500)
    assert response.redirect_chain == [(change_url(locked), 302)]
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) == 1
    assert shown[0].startswith("Not saved: bob@example.com is editing this atom (locked until")
    assert LearningAtom.objects.get(pk=locked.pk).title == "Original"
    assert AtomConceptWeight.objects.get(atom=locked).weight == 1.0
    assert locked.revisions.count() == 2
