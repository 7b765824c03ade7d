import json

import pytest
from django.urls import reverse

from apps.content.atom_types import atom_type_keys, get_atom_type
from apps.content.models import AtomResponseOption, LearningAtom, Tag
from tests.accounts.factories import UserFactory
from tests.content.factories import make_atom
from tests.curriculum.factories import ConceptFactory, MisconceptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def author_client(client):
    client.force_login(UserFactory(is_staff=True, roles=["Authors"]))
    return client


def _inline_management(prefix: str, total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def _atom_post(atom_type: str, content: dict, grading: dict, options=(), concept=None) -> dict:
    data = {
        "atom_type": atom_type,
        "title": f"Admin {atom_type}",
        "content": json.dumps(content),
        "grading_logic": json.dumps(grading),
        "engagement_mode": "active",
        "knowledge_dimension": "factual",
        "element_interactivity": "0.3",
        "difficulty": "3",
        "estimated_time_s": "30",
        "irt_a": "1",
        "irt_b": "0",
        "irt_c": "0",
        "status": "draft",
        "schema_version": "1",
        **_inline_management("concept_weights", 1 if concept else 0),
        **_inline_management("media"),
    }
    if concept:
        data |= {"concept_weights-0-concept": str(concept.pk), "concept_weights-0-weight": "1"}
    if get_atom_type(atom_type).uses_options:
        data |= _inline_management("options", len(options))
        for i, option in enumerate(options):
            data |= {
                f"options-{i}-option_index": str(i),
                f"options-{i}-text": option["text"],
                f"options-{i}-feedback": option.get("feedback", ""),
                f"options-{i}-misconception": str(option["misconception"].pk)
                if option.get("misconception")
                else "",
            }
            if option.get("is_correct"):
                data[f"options-{i}-is_correct"] = "on"
    return data


def test_add_without_a_type_shows_the_type_chooser(author_client):
    response = author_client.get(reverse("admin:content_learningatom_add"))

    assert response.status_code == 200
    for key in atom_type_keys():
        assert f"?atom_type={key}".encode() in response.content


@pytest.mark.parametrize("atom_type", atom_type_keys())
def test_add_form_renders_a_schema_driven_form_for_every_type(author_client, atom_type):
    response = author_client.get(
        reverse("admin:content_learningatom_add") + f"?atom_type={atom_type}"
    )

    assert response.status_code == 200
    assert b"django_jsonform" in response.content  # the generated form, not a raw JSON box
    assert (b'id="options-group"' in response.content) == get_atom_type(atom_type).uses_options


@pytest.mark.parametrize("atom_type", atom_type_keys())
def test_every_type_can_be_authored_through_the_admin(author_client, atom_type):
    kind = get_atom_type(atom_type)
    options = [
        {"text": o.text, "is_correct": o.is_correct, "feedback": o.feedback}
        for o in kind.example_options
    ]
    data = _atom_post(
        atom_type,
        kind.example_content,
        kind.example_grading_logic,
        options,
        concept=ConceptFactory(),
    )

    response = author_client.post(
        reverse("admin:content_learningatom_add") + f"?atom_type={atom_type}", data
    )

    assert response.status_code == 302, _errors(response)
    atom = LearningAtom.objects.get(title=f"Admin {atom_type}")
    assert atom.atom_type == atom_type
    assert atom.concept_weights.count() == 1
    assert atom.search_text


def test_mcq_with_misconception_linked_distractor_and_unlinked_warning(author_client):
    misconception = MisconceptionFactory(name="Thinks UDP is ordered")
    data = _atom_post(
        "mcq",
        {"prompt": "Which protocol orders segments?"},
        {},
        [
            {"text": "UDP", "misconception": misconception},
            {"text": "TCP", "is_correct": True},
            {"text": "ICMP"},
        ],
    )

    response = author_client.post(
        reverse("admin:content_learningatom_add") + "?atom_type=mcq", data, follow=True
    )

    assert response.status_code == 200
    atom = LearningAtom.objects.get(title="Admin mcq")
    assert atom.options.get(text="UDP").misconception == misconception
    assert b"1 wrong option(s) have no misconception linked" in response.content
    change = author_client.get(reverse("admin:content_learningatom_change", args=[atom.pk]))
    assert change.content.count(b"wrong option without a misconception") == 1


def test_invalid_payloads_show_field_errors_and_save_nothing(author_client):
    data = _atom_post(
        "mcq",
        {"prompt": ""},
        {},
        [{"text": "A", "is_correct": True}, {"text": "B", "is_correct": True}],
    )

    response = author_client.post(
        reverse("admin:content_learningatom_add") + "?atom_type=mcq", data
    )

    assert response.status_code == 200
    assert "prompt" in str(response.context["adminform"].form.errors["content"])
    assert not LearningAtom.objects.exists()
    assert not AtomResponseOption.objects.exists()

    data = _atom_post(
        "mcq",
        {"prompt": "Fine prompt"},
        {},
        [{"text": "A", "is_correct": True}, {"text": "B", "is_correct": True}],
    )
    response = author_client.post(
        reverse("admin:content_learningatom_add") + "?atom_type=mcq", data
    )
    assert b"Exactly one option must be marked correct" in response.content
    assert not LearningAtom.objects.exists()


def test_preview_renders_learner_view_and_checks_answers(author_client):
    atom = make_atom("mcq")
    url = reverse("admin:content_learningatom_preview", args=[atom.pk])

    page = author_client.get(url)
    assert page.status_code == 200
    assert b"Which protocol guarantees in-order delivery?" in page.content
    assert b"is_correct" not in page.content

    graded = author_client.post(url, {"response": '{"choice": 1}'})
    assert graded.context["grade"].correct is True
    malformed = author_client.post(url, {"response": '{"choice": "one"}'})
    assert "response.choice" in malformed.context["answer_errors"]
    not_json = author_client.post(url, {"response": "{oops"})
    assert "Not valid JSON" in not_json.context["answer_errors"]["response"][0]


def test_admin_search_finds_atoms_by_content_text(author_client):
    make_atom("mcq", title="Transport", content={"prompt": "What does retransmission fix?"})
    make_atom("mcq", title="Other", content={"prompt": "Name a routing protocol."})

    response = author_client.get(
        reverse("admin:content_learningatom_changelist") + "?q=retransmission"
    )

    titles = [atom.title for atom in response.context["cl"].result_list]
    assert titles == ["Transport"]


@pytest.mark.parametrize(
    "model",
    [LearningAtom, Tag],
)
def test_content_changelists_render_for_authors(author_client, model):
    make_atom("mcq")
    Tag.objects.get_or_create(name="demo")
    opts = model._meta

    changelist = author_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert changelist.status_code == 200
    obj = model.objects.first()
    change = author_client.get(
        reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    )
    assert change.status_code == 200


def test_reviewers_can_view_but_not_edit_atoms(client):
    client.force_login(UserFactory(is_staff=True, roles=["Reviewers"]))
    atom = make_atom("mcq")

    assert (
        client.get(reverse("admin:content_learningatom_change", args=[atom.pk])).status_code == 200
    )
    assert client.get(reverse("admin:content_learningatom_add")).status_code == 403


def _errors(response) -> str:
    context = response.context or {}
    form = context.get("adminform")
    messages = [str(form.form.errors)] if form else []
    for formset in context.get("inline_admin_formsets", []):
        messages.append(str(formset.formset.non_form_errors()))
        messages.extend(str(f.errors) for f in formset.formset.forms if f.errors)
    return "\n".join(messages)
