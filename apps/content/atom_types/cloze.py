"""Cloze: a text with numbered blanks ``{{1}}``, ``{{2}}``... the learner fills in. Each blank
has its own accepted answers and known wrong answers; the score is the fraction filled in
right. Answers are compared after stripping and collapsing whitespace (and casefolding unless
the blank is case-sensitive)."""

import re
from typing import Annotated
from uuid import UUID

from pydantic import Field, StrictStr, field_validator
from pydantic_core import PydanticCustomError

from .base import AtomSnapshot, AtomType, GradeResult, ResponseValidationError, StrictModel
from .short_text import MAX_RESPONSE_CHARS, TextWrongAnswer, normalise_text

PLACEHOLDER = re.compile(r"\{\{([1-9][0-9]*)\}\}")


def placeholder_numbers(text: str) -> list[int]:
    """The blank numbers in ``text``, in reading order."""
    return [int(number) for number in PLACEHOLDER.findall(text)]


class ClozeContent(StrictModel):
    text: str = Field(
        min_length=1,
        description="The text, with blanks written {{1}}, {{2}}, ... (each number once).",
    )

    @field_validator("text")
    @classmethod
    def _placeholders_numbered(cls, text: str) -> str:
        numbers = placeholder_numbers(text)
        if not numbers:
            raise PydanticCustomError("cloze_no_blanks", "Add at least one blank: {{1}}.")
        if sorted(numbers) != list(range(1, len(numbers) + 1)):
            raise PydanticCustomError(
                "cloze_numbering",
                "Number the blanks {{1}} to {{n}}, each exactly once (found {found}).",
                {"found": ", ".join(f"{{{{{n}}}}}" for n in numbers)},
            )
        leftover = PLACEHOLDER.sub("", text)
        if "{{" in leftover or "}}" in leftover:
            raise PydanticCustomError(
                "cloze_malformed", "Write blanks exactly as {{1}}, {{2}}... (no spaces)."
            )
        return text


class ClozeBlank(StrictModel):
    accepted: list[str] = Field(min_length=1, description="Answers marked correct.")
    case_sensitive: bool = Field(False, description="Distinguish upper and lower case.")
    wrong_answers: list[TextWrongAnswer] = Field(
        default_factory=list, description="Known wrong answers with feedback."
    )


class ClozeGrading(StrictModel):
    blanks: list[ClozeBlank] = Field(
        min_length=1, description="One entry per blank: the first for {{1}}, and so on."
    )


class ClozeResponse(StrictModel):
    blanks: list[Annotated[StrictStr, Field(max_length=MAX_RESPONSE_CHARS)]] = Field(
        description="The learner's answer for each blank, in blank-number order."
    )


class Cloze(AtomType):
    key = "cloze"
    label = "Fill in the blanks"
    content_model = ClozeContent
    grading_model = ClozeGrading
    response_model = ClozeResponse
    default_engagement_mode = "active"
    default_knowledge_dimension = "factual"
    default_element_interactivity = 0.3
    example_content = {
        "text": "In the OSI model, IP belongs to the {{1}} layer and Ethernet framing to the "
        "{{2}} layer."
    }
    example_grading_logic = {
        "blanks": [
            {
                "accepted": ["network", "layer 3"],
                "wrong_answers": [
                    {
                        "text": "transport",
                        "feedback": "The transport layer (TCP, UDP) sits above IP.",
                    }
                ],
            },
            {"accepted": ["data link", "datalink", "layer 2"]},
        ]
    }

    def check_consistency(self, content, grading, options):
        errors: dict[str, list[str]] = {}
        count = len(placeholder_numbers(content.text))
        if len(grading.blanks) != count:
            errors["grading_logic.blanks"] = [
                f"The text has {count} blank(s) but {len(grading.blanks)} are configured."
            ]
        for b, blank in enumerate(grading.blanks):
            accepted = set()
            for i, text in enumerate(blank.accepted):
                normalised = _normalise(text, blank)
                if not normalised:
                    errors[f"grading_logic.blanks.{b}.accepted.{i}"] = ["Must not be blank."]
                accepted.add(normalised)
            for i, wrong in enumerate(blank.wrong_answers):
                if _normalise(wrong.text, blank) in accepted:
                    errors[f"grading_logic.blanks.{b}.wrong_answers.{i}.text"] = [
                        "This wrong answer is also an accepted answer."
                    ]
        return errors

    def misconception_ids(self, content, grading) -> set[UUID]:
        return {
            wrong.misconception_id
            for blank in grading.blanks
            for wrong in blank.wrong_answers
            if wrong.misconception_id
        }

    def grade(self, atom: AtomSnapshot, content, grading, response) -> GradeResult:
        count = len(grading.blanks)
        if len(response.blanks) != count:
            raise ResponseValidationError(
                {"response.blanks": [f"Give exactly {count} answer(s), one per blank."]}
            )
        results, feedback, misconception = [], [], None
        for blank, answer in zip(grading.blanks, response.blanks, strict=True):
            normalised = _normalise(answer, blank)
            right = normalised in {_normalise(text, blank) for text in blank.accepted}
            results.append(right)
            if right:
                continue
            for wrong in blank.wrong_answers:
                if normalised == _normalise(wrong.text, blank):
                    if wrong.feedback:
                        feedback.append(wrong.feedback)
                    misconception = misconception or wrong.misconception_id
                    break
        return GradeResult(
            correct=all(results),
            score=sum(results) / count,
            feedback=" ".join(feedback),
            misconception_id=misconception,
            details={"blanks": results},
        )

    def render(self, atom: AtomSnapshot, content) -> dict:
        return {"text": content.text, "blank_count": len(placeholder_numbers(content.text))}


def _normalise(text: str, blank: ClozeBlank) -> str:
    return normalise_text(text, case_sensitive=blank.case_sensitive)
