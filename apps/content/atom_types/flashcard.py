"""Flashcard: the learner sees the front, recalls the back, reveals it and rates their own
recall from 0 (blank) to 5 (perfect). The back is feedback: it is never rendered up front."""

from pydantic import Field, StrictInt

from .base import AtomSnapshot, AtomType, GradeResult, StrictModel

MAX_QUALITY = 5


class FlashcardContent(StrictModel):
    front: str = Field(min_length=1, description="The cue shown to the learner.")
    back: str = Field(min_length=1, description="What the learner should recall; revealed after.")
    hint: str = Field("", description="Optional nudge shown with the front.")


class FlashcardGrading(StrictModel):
    pass_quality: StrictInt = Field(
        3,
        ge=0,
        le=MAX_QUALITY,
        description="Lowest self-rating (0-5) that counts as remembered.",
    )


class FlashcardResponse(StrictModel):
    quality: StrictInt = Field(
        ge=0, le=MAX_QUALITY, description="The learner's rating of their recall, 0 to 5."
    )


class Flashcard(AtomType):
    key = "flashcard"
    label = "Flashcard"
    content_model = FlashcardContent
    grading_model = FlashcardGrading
    response_model = FlashcardResponse
    default_engagement_mode = "passive"
    default_knowledge_dimension = "factual"
    default_element_interactivity = 0.1
    example_content = {
        "front": "What does HTTP status code 404 mean?",
        "back": "Not Found: the server has nothing at that URL.",
        "hint": "4xx codes are client errors.",
    }
    example_grading_logic = {"pass_quality": 3}

    def grade(self, atom: AtomSnapshot, content, grading, response) -> GradeResult:
        return GradeResult(
            correct=response.quality >= grading.pass_quality,
            score=response.quality / MAX_QUALITY,
            feedback=content.back,
        )

    def render(self, atom: AtomSnapshot, content) -> dict:
        return {"front": content.front, "hint": content.hint}
