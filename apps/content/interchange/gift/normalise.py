"""The canonical form of an atom record, which GIFT import and export agree on:
``parse_gift(export_gift([r])[0])[0].record`` equals ``normalise_record(r)``.

Normalisation (what a record looks like after import, and what export compares against):

* content and grading_logic are validated by the atom type and dumped without the fields that
  hold their default value (``model_dump(exclude_defaults=True)``), so strings are stripped
  and numbers are floats;
* "\\r\\n" and "\\r" become "\\n" in every text; the title, option texts and feedback are
  stripped;
* options are sorted by index and renumbered 0..n-1;
* a matching atom's ``right`` list is ordered as the pairs use it (in ``left`` order), then
  the distractors;
* a missing external_id becomes ``"gift-" + sha1(title + "\\n" + question text)[:12]``
  (question text = the prompt, or the true/false statement);
* tags keep one slugified tag (GIFT carries one category per question);
* concepts and metadata are empty (GIFT has no place for them).
"""

import hashlib
from typing import Any

from django.utils.text import slugify

from ...atom_types import AtomValidationError, OptionData, get_atom_type
from .syntax import strip

SUPPORTED_TYPES = ("mcq", "true_false", "short_text", "numeric", "matching")


def normalise_record(record: Any) -> dict:
    """The canonical form of a record (see the module docstring); what importing the GIFT
    export of ``record`` gives. Raises ValueError for a record that is not valid or whose
    type GIFT cannot carry."""
    if not isinstance(record, dict):
        raise ValueError("Not an atom record (expected a dict).")
    atom_type = record.get("atom_type")
    if atom_type not in SUPPORTED_TYPES:
        raise ValueError(
            f"GIFT has no equivalent of {atom_type!r} atoms; it carries "
            f"{', '.join(SUPPORTED_TYPES)}."
        )
    title = record.get("title")
    if not isinstance(title, str):
        raise ValueError("The title must be text.")
    external_id = record.get("external_id")
    if external_id is not None and not isinstance(external_id, str):
        raise ValueError("external_id must be text or null.")
    options = _normalised_options(record.get("options") or [])
    kind = get_atom_type(atom_type)
    try:
        parsed_content, parsed_grading = kind.validate(
            _lf(record.get("content", {})),
            _lf(record.get("grading_logic", {})),
            [OptionData(o["index"], o["text"], o["is_correct"], o["feedback"]) for o in options],
        )
    except AtomValidationError as exc:
        raise ValueError(f"Not a valid {kind.label.lower()} atom: {exc}") from None
    content = parsed_content.model_dump(mode="json", exclude_defaults=True)
    grading = parsed_grading.model_dump(mode="json", exclude_defaults=True)
    if atom_type == "matching":
        used = [grading["pairs"][left] for left in content["left"]]
        content["right"] = list(dict.fromkeys(used + content["right"]))
    normalised = {
        "external_id": strip(external_id or "") or None,
        "title": strip(_lf(title)),
        "atom_type": atom_type,
        "content": content,
        "grading_logic": grading,
        "options": [{**option, "index": i} for i, option in enumerate(options)],
        "concepts": [],
        "tags": _first_tag(record.get("tags") or []),
        "metadata": {},
    }
    if normalised["external_id"] is None:
        normalised["external_id"] = generated_external_id(
            normalised["title"], question_text_of(normalised)
        )
    return normalised


def _normalised_options(options: Any) -> list[dict]:
    if not isinstance(options, list | tuple):
        raise ValueError("options must be a list.")
    result = []
    for position, option in enumerate(options):
        if not isinstance(option, dict):
            raise ValueError(f"Option {position} is not an object.")
        index, text = option.get("index", position), option.get("text")
        is_correct, feedback = option.get("is_correct", False), option.get("feedback") or ""
        if not isinstance(index, int) or isinstance(index, bool):
            raise ValueError(f"Option {position}: index must be an integer.")
        if not isinstance(text, str) or not isinstance(feedback, str):
            raise ValueError(f"Option {position}: text and feedback must be text.")
        if not isinstance(is_correct, bool):
            raise ValueError(f"Option {position}: is_correct must be true or false.")
        if not strip(text):
            raise ValueError(f"Option {position} has no text.")
        result.append(
            {
                "index": index,
                "text": strip(_lf(text)),
                "is_correct": is_correct,
                "feedback": strip(_lf(feedback)),
                "misconception": option.get("misconception") or None,
            }
        )
    return sorted(result, key=lambda o: o["index"])


def _first_tag(tags: Any) -> list[str]:
    for tag in tags if isinstance(tags, list | tuple) else []:
        slug = slugify(str(tag))
        if slug:
            return [slug]
    return []


def _lf(value: Any) -> Any:
    """Every text (and dict key) in ``value`` with "\\r\\n" and "\\r" turned into "\\n"."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, dict):
        return {_lf(k): _lf(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lf(v) for v in value]
    return value


def generated_external_id(title: str, question_text: str) -> str:
    """The id of a question without an ``// external_id:`` comment: stable across imports."""
    digest = hashlib.sha1(f"{title}\n{question_text}".encode(), usedforsecurity=False)
    return "gift-" + digest.hexdigest()[:12]


def question_text_of(record: dict) -> str:
    """The prompt, or a true/false atom's statement."""
    content = record["content"]
    return content["statement"] if record["atom_type"] == "true_false" else content["prompt"]
