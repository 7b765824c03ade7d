"""Short text: the learner types a word or phrase. Answers are compared after normalising
(whitespace, case, punctuation, accents as configured), against accepted answers and an
optional regular expression; known wrong answers may reveal a misconception."""

import re
import unicodedata
from uuid import UUID

from pydantic import Field, StrictStr, field_validator
from pydantic_core import PydanticCustomError

from .base import AtomSnapshot, AtomType, GradeResult, StrictModel
from .fields import MisconceptionRef

# Longest learner answer accepted: keeps normalising and regex matching cheap.
MAX_RESPONSE_CHARS = 1000
MAX_REGEX_CHARS = 500


def normalise_text(
    text: str,
    *,
    case_sensitive: bool = False,
    ignore_punctuation: bool = False,
    ignore_accents: bool = False,
) -> str:
    """Strip and collapse whitespace; casefold unless case-sensitive; optionally drop
    punctuation (Unicode category P*) and accents (NFKD, combining marks removed)."""
    if ignore_accents:
        text = "".join(
            c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
        )
    if ignore_punctuation:
        text = "".join(c for c in text if not unicodedata.category(c).startswith("P"))
    if not case_sensitive:
        text = text.casefold()
    return " ".join(text.split())


class TextWrongAnswer(StrictModel):
    text: str = Field(min_length=1, description="A known wrong answer (compared normalised).")
    feedback: str = Field("", description="Feedback for a learner giving this answer.")
    misconception_id: MisconceptionRef = Field(
        None, description="Misconception this answer reveals, if any."
    )


class ShortTextContent(StrictModel):
    prompt: str = Field(min_length=1, description="The question.")


class ShortTextGrading(StrictModel):
    accepted: list[str] = Field(
        min_length=1, description="Answers marked correct (compared after normalising)."
    )
    case_sensitive: bool = Field(False, description="Distinguish upper and lower case.")
    ignore_punctuation: bool = Field(True, description="Ignore punctuation when comparing.")
    ignore_accents: bool = Field(False, description="Treat accented letters as unaccented.")
    regex: str | None = Field(
        None,
        max_length=MAX_REGEX_CHARS,
        description=(
            "Optional Python regular expression that must match the whole normalised answer "
            "(case-insensitive unless case_sensitive); a match also counts as correct."
        ),
    )
    wrong_answers: list[TextWrongAnswer] = Field(
        default_factory=list, description="Known wrong answers with feedback."
    )

    @field_validator("regex")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if not value:
            return None  # a blank form field means no regex
        try:
            re.compile(value)
        except re.error as exc:
            raise PydanticCustomError(
                "regex_invalid", "Not a valid regular expression: {error}.", {"error": str(exc)}
            ) from None
        return value


class ShortTextResponse(StrictModel):
    text: StrictStr = Field(max_length=MAX_RESPONSE_CHARS, description="The learner's answer.")


class ShortText(AtomType):
    key = "short_text"
    label = "Short text"
    content_model = ShortTextContent
    grading_model = ShortTextGrading
    response_model = ShortTextResponse
    default_engagement_mode = "constructive"
    default_knowledge_dimension = "factual"
    default_element_interactivity = 0.3
    example_content = {
        "prompt": "Which HTTP method should a client use to fetch a resource without changing it?"
    }
    example_grading_logic = {
        "accepted": ["GET"],
        "wrong_answers": [
            {
                "text": "POST",
                "feedback": "POST submits data for the server to process; it is not safe.",
            }
        ],
    }

    def check_consistency(self, content, grading, options):
        errors: dict[str, list[str]] = {}
        accepted = set()
        for i, answer in enumerate(grading.accepted):
            normalised = _normalise(answer, grading)
            if not normalised:
                errors[f"grading_logic.accepted.{i}"] = ["Nothing is left after normalising."]
            accepted.add(normalised)
        for i, wrong in enumerate(grading.wrong_answers):
            if _matches(_normalise(wrong.text, grading), accepted, grading):
                errors[f"grading_logic.wrong_answers.{i}.text"] = [
                    "This wrong answer would be graded correct."
                ]
        return errors

    def misconception_ids(self, content, grading) -> set[UUID]:
        return {w.misconception_id for w in grading.wrong_answers if w.misconception_id}

    def grade(self, atom: AtomSnapshot, content, grading, response) -> GradeResult:
        answer = _normalise(response.text, grading)
        accepted = {_normalise(text, grading) for text in grading.accepted}
        if _matches(answer, accepted, grading):
            return GradeResult(correct=True, score=1.0)
        for wrong in grading.wrong_answers:
            if answer == _normalise(wrong.text, grading):
                return GradeResult(
                    correct=False,
                    score=0.0,
                    feedback=wrong.feedback,
                    misconception_id=wrong.misconception_id,
                )
        return GradeResult(correct=False, score=0.0)

    def render(self, atom: AtomSnapshot, content) -> dict:
        return {"prompt": content.prompt, "max_length": MAX_RESPONSE_CHARS}


def _normalise(text: str, grading: ShortTextGrading) -> str:
    return normalise_text(
        text,
        case_sensitive=grading.case_sensitive,
        ignore_punctuation=grading.ignore_punctuation,
        ignore_accents=grading.ignore_accents,
    )


def _matches(answer: str, accepted: set[str], grading: ShortTextGrading) -> bool:
    if answer in accepted:
        return True
    if grading.regex is None:
        return False
    flags = 0 if grading.case_sensitive else re.IGNORECASE
    return re.fullmatch(grading.regex, answer, flags) is not None
