"""True or false: the learner judges one statement. A wrong judgement may reveal a
misconception (for example a plausible-sounding false statement learners tend to accept)."""

from uuid import UUID

from pydantic import Field, StrictBool

from .base import AtomSnapshot, AtomType, GradeResult, StrictModel
from .fields import MisconceptionRef


class TrueFalseContent(StrictModel):
    statement: str = Field(min_length=1, description="The statement to judge true or false.")
    explanation: str = Field("", description="Shown after answering, right or wrong.")


class TrueFalseGrading(StrictModel):
    answer: StrictBool = Field(description="Whether the statement is true.")
    misconception_id: MisconceptionRef = Field(
        None, description="Misconception shown by answering wrongly, if any."
    )
    feedback_wrong: str = Field("", description="Extra feedback for a wrong answer.")


class TrueFalseResponse(StrictModel):
    value: StrictBool = Field(description="The learner's judgement: true or false.")


class TrueFalse(AtomType):
    key = "true_false"
    label = "True or false"
    content_model = TrueFalseContent
    grading_model = TrueFalseGrading
    response_model = TrueFalseResponse
    default_engagement_mode = "active"
    default_knowledge_dimension = "factual"
    default_element_interactivity = 0.15
    example_content = {
        "statement": "UDP retransmits lost datagrams.",
        "explanation": "UDP has no acknowledgements, so it cannot know a datagram was lost.",
    }
    example_grading_logic = {
        "answer": False,
        "feedback_wrong": "Retransmission is TCP's job; UDP sends each datagram once.",
    }

    def misconception_ids(self, content, grading) -> set[UUID]:
        return {grading.misconception_id} if grading.misconception_id else set()

    def grade(self, atom: AtomSnapshot, content, grading, response) -> GradeResult:
        correct = response.value == grading.answer
        wrong_feedback = "" if correct else grading.feedback_wrong
        return GradeResult(
            correct=correct,
            score=1.0 if correct else 0.0,
            feedback=" ".join(filter(None, [wrong_feedback, content.explanation])),
            misconception_id=None if correct else grading.misconception_id,
        )

    def render(self, atom: AtomSnapshot, content) -> dict:
        return {"statement": content.statement}
