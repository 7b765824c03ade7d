"""Numeric: the learner answers with a number, optionally in another accepted unit (converted
to the canonical unit shown with the question). A tolerance, absolute or relative to the
answer, allows rounding; known wrong values (a forgotten conversion, an off-by-ten) may reveal
a misconception."""

import math
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field, StrictStr

from .base import AtomSnapshot, AtomType, GradeResult, ResponseValidationError, StrictModel
from .fields import MisconceptionRef

# A finite JSON number: ints are accepted, bools, strings, NaN and infinities are not.
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
PositiveNumber = Annotated[float, Field(strict=True, allow_inf_nan=False, gt=0)]


class NumericContent(StrictModel):
    prompt: str = Field(min_length=1, description="The question.")
    unit: str = Field("", description="The unit answers are expected in, shown to learners.")


class NumericWrongAnswer(StrictModel):
    value: Number = Field(description="A known wrong value, in the canonical unit.")
    feedback: str = Field("", description="Feedback for a learner giving this value.")
    misconception_id: MisconceptionRef = Field(
        None, description="Misconception this value reveals, if any."
    )


class NumericGrading(StrictModel):
    answer: Number = Field(description="The correct value, in the canonical unit.")
    tolerance: Number = Field(
        0.0, ge=0, description="Largest accepted distance from the answer (see tolerance_mode)."
    )
    tolerance_mode: Literal["absolute", "relative"] = Field(
        "absolute",
        description=(
            "absolute: tolerance is in the canonical unit; relative: tolerance is a fraction "
            "of the answer (0.01 = 1%)."
        ),
    )
    unit_factors: dict[str, PositiveNumber] = Field(
        default_factory=dict,
        description=(
            'Other accepted units and what one of them is in the canonical unit, e.g. {"km": '
            '1000} when the unit is "m".'
        ),
    )
    wrong_answers: list[NumericWrongAnswer] = Field(
        default_factory=list, description="Known wrong values with feedback."
    )


class NumericResponse(StrictModel):
    value: Number = Field(description="The learner's number.")
    unit: StrictStr | None = Field(
        None, description="The unit the learner used; the canonical unit when left out."
    )


class Numeric(AtomType):
    key = "numeric"
    label = "Numeric answer"
    content_model = NumericContent
    grading_model = NumericGrading
    response_model = NumericResponse
    default_engagement_mode = "constructive"
    default_knowledge_dimension = "procedural"
    default_element_interactivity = 0.5
    example_content = {
        "prompt": "A train travels at 90 km/h for 20 minutes. How far does it go?",
        "unit": "km",
    }
    example_grading_logic = {
        "answer": 30,
        "tolerance": 0.1,
        "unit_factors": {"m": 0.001, "mi": 1.609344},
        "wrong_answers": [
            {
                "value": 1800,
                "feedback": "Convert 20 minutes to hours (1/3 h) before multiplying.",
            }
        ],
    }

    def check_consistency(self, content, grading, options):
        errors: dict[str, list[str]] = {}
        for unit in grading.unit_factors:
            path = f"grading_logic.unit_factors.{unit}"
            if not unit:
                errors[path] = ["A unit name must not be empty."]
            elif not content.unit:
                errors[path] = ["Set content.unit (the canonical unit) before other units."]
            elif unit == content.unit:
                errors[path] = ["This is the canonical unit (content.unit); remove it here."]
        for i, wrong in enumerate(grading.wrong_answers):
            if _close(wrong.value, grading.answer, grading):
                errors[f"grading_logic.wrong_answers.{i}.value"] = [
                    "Within tolerance of the answer, so it would be graded correct."
                ]
        return errors

    def misconception_ids(self, content, grading) -> set[UUID]:
        return {w.misconception_id for w in grading.wrong_answers if w.misconception_id}

    def grade(self, atom: AtomSnapshot, content, grading, response) -> GradeResult:
        value = response.value * _factor(response.unit, content, grading)
        if not math.isfinite(value):
            raise ResponseValidationError({"response.value": ["The number is too large."]})
        details = {"value": value, "unit": content.unit}
        if _close(value, grading.answer, grading):
            return GradeResult(correct=True, score=1.0, details=details)
        for wrong in grading.wrong_answers:
            if _close(value, wrong.value, grading):
                return GradeResult(
                    correct=False,
                    score=0.0,
                    feedback=wrong.feedback,
                    misconception_id=wrong.misconception_id,
                    details=details,
                )
        return GradeResult(correct=False, score=0.0, details=details)

    def render(self, atom: AtomSnapshot, content) -> dict:
        return {"prompt": content.prompt, "unit": content.unit}


def _factor(unit: str | None, content: NumericContent, grading: NumericGrading) -> float:
    if unit is None or unit == content.unit:
        return 1.0
    if unit in grading.unit_factors:
        return grading.unit_factors[unit]
    known = ", ".join(repr(u) for u in [content.unit, *grading.unit_factors] if u)
    hint = f"use {known}" if known else "this question takes no unit"
    raise ResponseValidationError({"response.unit": [f"Unknown unit {unit!r}; {hint}."]})


def _close(value: float, target: float, grading: NumericGrading) -> bool:
    """Within tolerance of ``target`` (relative mode: tolerance x |target|), allowing for
    floating-point noise from unit conversion."""
    allowed = grading.tolerance
    if grading.tolerance_mode == "relative":
        allowed *= abs(target)
    return abs(value - target) <= allowed or math.isclose(value, target, rel_tol=1e-9)
