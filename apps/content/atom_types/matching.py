"""Matching: the learner pairs each left item with a right item (terms with definitions,
animals with classes...). Several left items may share a right item, and the right list may
hold extra distractors. Right items are shown shuffled, never lined up with their matches."""

from typing import Annotated

from pydantic import Field, StrictStr, field_validator
from pydantic_core import PydanticCustomError

from .base import (
    AtomSnapshot,
    AtomType,
    GradeResult,
    ResponseValidationError,
    StrictModel,
    stable_permutation,
)

MAX_ITEMS = 100
Item = Annotated[str, Field(min_length=1)]


def _unique(items: list[str]) -> list[str]:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise PydanticCustomError(
                "duplicate_item", "{item} is listed twice.", {"item": repr(item)}
            )
        seen.add(item)
    return items


class MatchingContent(StrictModel):
    prompt: str = Field(min_length=1, description="What to match with what.")
    left: list[Item] = Field(
        min_length=2,
        max_length=MAX_ITEMS,
        description="Items to match, shown in this order; each text once.",
    )
    right: list[Item] = Field(
        min_length=2,
        max_length=MAX_ITEMS,
        description="What they match, shown shuffled; each text once, extra distractors allowed.",
    )

    _left_unique = field_validator("left")(_unique)
    _right_unique = field_validator("right")(_unique)


class MatchingGrading(StrictModel):
    pairs: dict[str, str] = Field(
        description="The answer: each left item's text mapped to its right item's text."
    )


class MatchingResponse(StrictModel):
    pairs: dict[StrictStr, StrictStr] = Field(
        max_length=MAX_ITEMS,
        description="The learner's pairs: left item text to right item text.",
    )


class Matching(AtomType):
    key = "matching"
    label = "Matching"
    content_model = MatchingContent
    grading_model = MatchingGrading
    response_model = MatchingResponse
    default_engagement_mode = "active"
    default_knowledge_dimension = "conceptual"
    default_element_interactivity = 0.4
    example_content = {
        "prompt": "Match each protocol with its default port.",
        "left": ["HTTP", "HTTPS", "SSH"],
        "right": ["80", "443", "22", "25"],
    }
    example_grading_logic = {"pairs": {"HTTP": "80", "HTTPS": "443", "SSH": "22"}}

    def check_consistency(self, content, grading, options):
        errors: dict[str, list[str]] = {}
        right = set(content.right)
        for left_text, right_text in grading.pairs.items():
            path = f"grading_logic.pairs.{left_text}"
            if left_text not in content.left:
                errors[path] = [f"{left_text!r} is not a left item."]
            elif right_text not in right:
                errors[path] = [f"{right_text!r} is not a right item."]
        missing = [text for text in content.left if text not in grading.pairs]
        if missing:
            errors["grading_logic.pairs"] = [f"Pair every left item; missing: {missing}."]
        return errors

    def grade(self, atom: AtomSnapshot, content, grading, response) -> GradeResult:
        errors: dict[str, list[str]] = {}
        for left_text, right_text in response.pairs.items():
            path = f"response.pairs.{left_text}"
            if left_text not in grading.pairs:
                errors[path] = [f"Unknown left item {left_text!r}."]
            elif right_text not in content.right:
                errors[path] = [f"Unknown right item {right_text!r}."]
        if errors:
            raise ResponseValidationError(errors)
        results = {text: response.pairs.get(text) == grading.pairs[text] for text in content.left}
        return GradeResult(
            correct=all(results.values()),
            score=sum(results.values()) / len(results),
            details={"pairs": results},
        )

    def render(self, atom: AtomSnapshot, content) -> dict:
        # Lining the right items up with their matches would show the answer; the grading
        # logic says what that line-up is, and render() receives only the content.
        _, grading = self.validate(atom.content, atom.grading_logic, atom.options)
        right = [
            content.right[i] for i in stable_permutation(atom.shuffle_seed, len(content.right))
        ]
        if all(right[i] == grading.pairs[text] for i, text in enumerate(content.left)):
            right[0], right[1] = right[1], right[0]
        return {"prompt": content.prompt, "left": list(content.left), "right": right}
