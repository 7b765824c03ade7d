"""Ordering: the learner puts every item in order (steps of a procedure, events in time...).
Items are shown shuffled and identified by rendered position, never by authored order; the
score is the longest run kept in the right relative order (LCS) over the number of items."""

from typing import Annotated

from pydantic import Field, StrictInt

from .base import AtomSnapshot, AtomType, GradeResult, ResponseValidationError, StrictModel
from .sequencing import MAX_ITEMS, display_order, ids_to_indexes, lcs_score, rendered_items


class OrderingContent(StrictModel):
    prompt: str = Field(min_length=1, description="What to order, and by what.")
    items: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=2,
        max_length=MAX_ITEMS,
        description="The items to order. Learners see them shuffled.",
    )


class OrderingGrading(StrictModel):
    correct_order: list[StrictInt] = Field(
        description="Every item index (0 = first item) once, in the correct order."
    )


class OrderingResponse(StrictModel):
    order: list[StrictInt] = Field(
        max_length=MAX_ITEMS, description="Every rendered item id once, in the learner's order."
    )


class Ordering(AtomType):
    key = "ordering"
    label = "Ordering"
    content_model = OrderingContent
    grading_model = OrderingGrading
    response_model = OrderingResponse
    default_engagement_mode = "active"
    default_knowledge_dimension = "procedural"
    default_element_interactivity = 0.5
    example_content = {
        "prompt": "Put the steps of a TCP connection set-up in order.",
        "items": [
            "Client sends SYN",
            "Server replies SYN-ACK",
            "Client sends ACK",
            "Data flows both ways",
        ],
    }
    example_grading_logic = {"correct_order": [0, 1, 2, 3]}

    def check_consistency(self, content, grading, options):
        n = len(content.items)
        if sorted(grading.correct_order) != list(range(n)):
            return {
                "grading_logic.correct_order": [
                    f"List every item index from 0 to {n - 1} exactly once."
                ]
            }
        return {}

    def grade(self, atom: AtomSnapshot, content, grading, response) -> GradeResult:
        items = content.items
        n = len(items)
        shown = display_order(atom.shuffle_seed, items, grading.correct_order)
        chosen = ids_to_indexes(response.order, shown, "response.order")
        if len(chosen) != n:
            raise ResponseValidationError(
                {"response.order": [f"Give all {n} ids (0 to {n - 1}), each once."]}
            )
        # Compare texts: identical items are interchangeable.
        answer = [items[i] for i in chosen]
        solution = [items[i] for i in grading.correct_order]
        return GradeResult(correct=answer == solution, score=lcs_score(answer, solution))

    def render(self, atom: AtomSnapshot, content) -> dict:
        # The shuffle depends on the solution (it must never show it), so parse the grading
        # logic too; render() receives only the content.
        _, grading = self.validate(atom.content, atom.grading_logic, atom.options)
        shown = display_order(atom.shuffle_seed, content.items, grading.correct_order)
        return {"prompt": content.prompt, "items": rendered_items(content.items, shown)}
