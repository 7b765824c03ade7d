"""The atom admin's form and inline formsets.

They validate only, and only by calling the services' validators, so errors show on the form
(never a 500 from the save). Nothing here writes: ``LearningAtomAdmin.save_related`` hands
what they hold to the services (``inputs`` methods below).
"""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet
from django_jsonform.widgets import JSONFormWidget

from ..atom_types import AtomValidationError, OptionData, get_atom_type
from ..form_schema import form_schema, has_fields
from ..media_validation import media_type_validate
from ..models import AtomMedia, LearningAtom
from ..services import (
    ConceptWeightInput,
    MediaInput,
    atom_concept_weights_validate,
    atom_edit_guard,
    atom_payload_validate,
)


def _add_atom_errors(form: forms.BaseForm, error: AtomValidationError) -> None:
    """Show ``content.prompt: ...`` style errors on the JSON field they belong to."""
    for field_path, messages_ in error.errors.items():
        field, _, rest = field_path.partition(".")
        target = field if field in form.fields else None
        for message in messages_:
            text = f"{rest}: {message}" if rest and target else f"{field_path}: {message}"
            form.add_error(target, text)


class LearningAtomForm(forms.ModelForm):
    """The atom itself. Field-level rules (ranges, choices, uniqueness) are the model's, which
    ModelForm checks as ``atom_fields_validate`` does; the payload goes to
    ``atom_payload_validate`` and the edit lock to ``atom_edit_guard``."""

    atom_type_key: str = ""  # set per request by LearningAtomAdmin.get_form
    editing_user = None  # likewise

    class Meta:
        model = LearningAtom
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = get_atom_type(self.instance.atom_type or self.atom_type_key)
        if "atom_type" in self.fields:
            self.fields["atom_type"].initial = kind.key
            self.fields["atom_type"].widget = forms.HiddenInput()
            # A saved atom keeps its type (atom_update has no such field): ignore a posted one.
            self.fields["atom_type"].disabled = not self.instance._state.adding
        if "content" in self.fields:  # absent when the user may only view
            schema = form_schema(kind.content_model, title=f"{kind.label}: content")
            self.fields["content"].widget = JSONFormWidget(schema=schema)
        if "grading_logic" in self.fields:
            self._set_grading_widget(kind)
        if self.instance._state.adding and "engagement_mode" in self.fields:
            self.fields["engagement_mode"].initial = kind.default_engagement_mode
            self.fields["knowledge_dimension"].initial = kind.default_knowledge_dimension
            self.fields["element_interactivity"].initial = kind.default_element_interactivity

    def _set_grading_widget(self, kind) -> None:
        field = self.fields["grading_logic"]
        if has_fields(kind.grading_model):
            schema = form_schema(kind.grading_model, title=f"{kind.label}: grading")
            field.widget = JSONFormWidget(schema=schema)
        else:
            field.widget = forms.HiddenInput()
            field.required = False
            field.help_text = "Set on the options below."

    def clean_atom_type(self):
        key = self.cleaned_data["atom_type"]
        get_atom_type(key)  # AtomValidationError (a ValidationError) names the known types
        return key

    def clean(self):
        cleaned = super().clean()
        atom_edit_guard(atom=self.instance, by=self.editing_user)  # locks, schedule, archive
        key = cleaned.get("atom_type") or self.instance.atom_type
        if not key or self.errors:
            return cleaned
        cleaned["grading_logic"] = cleaned.get("grading_logic") or {}
        try:
            # Options arrive in the inline (options=None: not known yet), which checks them
            # with this payload; types without options are checked in full here.
            atom_payload_validate(
                atom_type=key,
                content=cleaned.get("content"),
                grading_logic=cleaned["grading_logic"],
                options=None,
            )
        except AtomValidationError as exc:
            _add_atom_errors(self, exc)
        return cleaned


class ServiceSavedFormSet(BaseInlineFormSet):
    """An inline formset the admin saves through the services, never with ``save()``.

    ``note_saved`` sets what ``save()`` would have (``new_objects``, ``changed_objects``,
    ``deleted_objects``), which Django's admin history reads.
    """

    def save(self, commit=True):
        # Deliberately refused: the admin saves inlines through the services (audit, revisions).
        raise RuntimeError("Atom inlines save through apps.content.services.")

    def kept_forms(self) -> list[forms.BaseForm]:
        """The rows the atom has after the save, in order (unchanged ones included)."""
        return [
            form
            for form in self.forms
            if form.cleaned_data and not (self.can_delete and self._should_delete_form(form))
        ]

    def added_forms(self) -> list[forms.BaseForm]:
        return [
            form
            for form in self.extra_forms
            if form.has_changed() and not (self.can_delete and self._should_delete_form(form))
        ]

    def changed_forms(self) -> list[forms.BaseForm]:
        removed = self.removed_forms()
        return [form for form in self.initial_forms if form not in removed and form.has_changed()]

    def removed_forms(self) -> list[forms.BaseForm]:
        return [form for form in self.initial_forms if form in self.deleted_forms]

    def note_saved(self, new_objects=None) -> None:
        self.new_objects = (
            list(new_objects)
            if new_objects is not None
            else [f.instance for f in self.added_forms()]
        )
        self.changed_objects = [(f.instance, f.changed_data) for f in self.changed_forms()]
        self.deleted_objects = [f.instance for f in self.removed_forms()]


class ResponseOptionFormSet(ServiceSavedFormSet):
    """Validates the options together with the atom's content (e.g. exactly one correct)."""

    def inputs(self) -> list[OptionData]:
        return [
            OptionData(
                index=form.cleaned_data["option_index"],
                text=form.cleaned_data["text"],
                is_correct=form.cleaned_data.get("is_correct", False),
                feedback=form.cleaned_data.get("feedback", ""),
                misconception_id=getattr(form.cleaned_data.get("misconception"), "pk", None),
            )
            for form in self.kept_forms()
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        atom = self.instance  # holds the main form's cleaned values by now
        try:
            atom_payload_validate(
                atom_type=atom.atom_type,
                content=atom.content,
                grading_logic=atom.grading_logic,
                options=self.inputs(),
            )
        except AtomValidationError as exc:
            # Content and grading errors already show on the main form.
            option_errors = [
                f"{path}: {' '.join(msgs)}" if path != "options" else " ".join(msgs)
                for path, msgs in exc.errors.items()
                if not path.startswith(("content", "grading_logic"))
            ]
            if option_errors:
                raise ValidationError(option_errors) from None


class ConceptWeightFormSet(ServiceSavedFormSet):
    def inputs(self) -> list[ConceptWeightInput]:
        return [
            ConceptWeightInput(form.cleaned_data["concept"], form.cleaned_data["weight"])
            for form in self.kept_forms()
        ]

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        try:
            atom_concept_weights_validate(weights=self.inputs())
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class AtomMediaForm(forms.ModelForm):
    class Meta:
        model = AtomMedia
        fields = ("file", "alt_text", "position")

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        if uploaded and hasattr(uploaded, "content_type"):  # a new upload
            media_type_validate(uploaded)  # the check atom_media_attach runs, shown in place
        return uploaded

    def new_upload(self):
        """The file posted to replace this row's, if any."""
        return self.cleaned_data["file"] if "file" in self.changed_data else None


class AtomMediaFormSet(ServiceSavedFormSet):
    def inputs(self) -> list[MediaInput]:
        """The new rows, for ``atom_create(media=...)``."""
        return [
            MediaInput(
                form.cleaned_data["file"],
                alt_text=form.cleaned_data.get("alt_text", ""),
                position=form.cleaned_data.get("position") or 0,
            )
            for form in self.added_forms()
        ]
