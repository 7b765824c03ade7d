"""Multiple select: one or more options are correct and the learner picks every one of them.
Options are AtomResponseOption rows, as for mcq; a wrong option may link a misconception."""

from typing import Literal

from pydantic import Field, StrictInt

from .base import (
    AtomSnapshot,
    AtomType,
    GradeResult,
    OptionData,
    ResponseValidationError,
    StrictModel,
)
from .mcq import McqContent, options_render


# Multiple choice's content; only the prompt's help differs.
class MultiSelectContent(McqContent):
    prompt: str = Field(min_length=1, description="The question; say how many may be right.")


class MultiSelectGrading(StrictModel):
    scoring: Literal["all_or_nothing", "partial"] = Field(
        "partial",
        description=(
            "partial: (correct picked - wrong picked) / number correct, at least 0; "
            "all_or_nothing: 1 for exactly the correct set, else 0."
        ),
    )


class MultiSelectResponse(StrictModel):
    choices: list[StrictInt] = Field(
        description="Indexes of every option the learner picked (may be empty)."
    )


class MultiSelect(AtomType):
    key = "multi_select"
    label = "Multiple select"
    content_model = MultiSelectContent
    grading_model = MultiSelectGrading
    response_model = MultiSelectResponse
    uses_options = True
    default_engagement_mode = "active"
    default_knowledge_dimension = "conceptual"
    default_element_interactivity = 0.45
    example_content = {
        "prompt": "Which of these are transport-layer protocols? Pick all that apply.",
        "explanation": "TCP and UDP carry data between ports; IP and ARP work below them.",
    }
    example_grading_logic = {"scoring": "partial"}
    example_options = (
        OptionData(0, "TCP", True),
        OptionData(1, "IP", False, "IP routes packets between hosts: the network layer."),
        OptionData(2, "UDP", True),
        OptionData(3, "ARP", False, "ARP resolves addresses on the local link."),
    )

    def check_consistency(self, content, grading, options):
        errors = {}
        if len(options) < 2:
            errors["options"] = ["A multiple-select atom needs at least two options."]
        elif not any(option.is_correct for option in options):
            errors["options"] = ["Mark at least one option correct."]
        if len({option.index for option in options}) != len(options):
            errors.setdefault("options", []).append("Option indexes must be unique.")
        return errors

    def grade(self, atom: AtomSnapshot, content, grading, response) -> GradeResult:
        picked = _picked_options(atom.options, response.choices)
        correct_total = sum(option.is_correct for option in atom.options)
        right = sum(option.is_correct for option in picked)
        wrong = len(picked) - right
        exact = wrong == 0 and right == correct_total
        if grading.scoring == "partial":
            score = max(0.0, (right - wrong) / correct_total)
        else:
            score = 1.0 if exact else 0.0
        misconception = next(
            (o.misconception_id for o in picked if not o.is_correct and o.misconception_id), None
        )
        feedback = " ".join(filter(None, [*(o.feedback for o in picked), content.explanation]))
        return GradeResult(
            correct=exact,
            score=score,
            feedback=feedback,
            misconception_id=misconception,
            selected_option_indexes=tuple(option.index for option in picked),
            details={"correct_picked": right, "wrong_picked": wrong},
        )

    def render(self, atom: AtomSnapshot, content) -> dict:
        return options_render(atom, content)


def _picked_options(options, choices: list[int]) -> list[OptionData]:
    """The picked options sorted by index; unknown or repeated indexes are response errors."""
    by_index = {option.index: option for option in options}
    valid = ", ".join(str(index) for index in sorted(by_index))
    errors: dict[str, list[str]] = {}
    for position, choice in enumerate(choices):
        if choice not in by_index:
            errors[f"response.choices.{position}"] = [f"No option {choice}; valid: {valid}."]
    if len(set(choices)) != len(choices):
        errors.setdefault("response.choices", []).append("Pick each option at most once.")
    if errors:
        raise ResponseValidationError(errors)
    return [by_index[index] for index in sorted(choices)]
