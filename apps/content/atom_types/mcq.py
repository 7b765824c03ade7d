"""Multiple choice, one correct option. Options are AtomResponseOption rows; a wrong option
may link a misconception, which a learner choosing it is told about."""

from pydantic import Field, StrictInt

from .base import (
    AtomSnapshot,
    AtomType,
    GradeResult,
    OptionData,
    ResponseValidationError,
    StrictModel,
)


class McqContent(StrictModel):
    prompt: str = Field(min_length=1, description="The question.")
    explanation: str = Field("", description="Shown after answering, right or wrong.")
    shuffle: bool = Field(True, description="Clients may shuffle the options.")


class McqGrading(StrictModel):
    """Nothing to configure: the correct option is flagged on the option rows."""


class McqResponse(StrictModel):
    choice: StrictInt = Field(ge=0, description="The chosen option's index.")


class MultipleChoice(AtomType):
    key = "mcq"
    label = "Multiple choice"
    content_model = McqContent
    grading_model = McqGrading
    response_model = McqResponse
    uses_options = True
    default_element_interactivity = 0.35
    example_content = {"prompt": "Which protocol guarantees in-order delivery?"}
    example_grading_logic = {}
    example_options = (
        OptionData(0, "UDP", False, "UDP makes no ordering promise."),
        OptionData(1, "TCP", True, "TCP numbers and reorders segments."),
        OptionData(2, "ICMP", False),
    )

    def check_consistency(self, content, grading, options):
        errors = {}
        if len(options) < 2:
            errors["options"] = ["A multiple-choice atom needs at least two options."]
        elif sum(option.is_correct for option in options) != 1:
            errors["options"] = ["Exactly one option must be marked correct."]
        if len({option.index for option in options}) != len(options):
            errors.setdefault("options", []).append("Option indexes must be unique.")
        return errors

    def grade(self, atom: AtomSnapshot, content, grading, response) -> GradeResult:
        chosen = _option_at(atom.options, response.choice)
        feedback = " ".join(filter(None, [chosen.feedback, content.explanation]))
        return GradeResult(
            correct=chosen.is_correct,
            score=1.0 if chosen.is_correct else 0.0,
            feedback=feedback,
            misconception_id=None if chosen.is_correct else chosen.misconception_id,
            selected_option_indexes=(chosen.index,),
        )

    def render(self, atom: AtomSnapshot, content) -> dict:
        return options_render(atom, content)


def options_render(atom: AtomSnapshot, content: McqContent) -> dict:
    """The prompt and the option texts (multi_select shows the same)."""
    return {
        "prompt": content.prompt,
        "shuffle": content.shuffle,
        "options": [{"index": o.index, "text": o.text} for o in atom.options],
    }


def _option_at(options, index: int) -> OptionData:
    for option in options:
        if option.index == index:
            return option
    valid = ", ".join(str(o.index) for o in options)
    raise ResponseValidationError({"response.choice": [f"No option {index}; valid: {valid}."]})
