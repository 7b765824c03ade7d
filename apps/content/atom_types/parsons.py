"""Parsons problem: the learner arranges shuffled blocks (usually lines of code) into a working
solution. Blocks left out of the solution are distractors; using one may reveal a
misconception. Learners see blocks by rendered position only, never in authored order."""

from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, Field, StrictInt, StringConstraints
from pydantic_core import PydanticCustomError

from .base import AtomSnapshot, AtomType, GradeResult, StrictModel
from .sequencing import MAX_ITEMS, display_order, ids_to_indexes, lcs_score, rendered_items


def _block_text(text: str) -> str:
    """Keep leading spaces (indentation is part of a code block); drop trailing ones."""
    text = text.rstrip()
    if not text:
        raise PydanticCustomError("blank_block", "A block must not be blank.")
    return text


Block = Annotated[str, StringConstraints(strip_whitespace=False), AfterValidator(_block_text)]


class ParsonsContent(StrictModel):
    prompt: str = Field(min_length=1, description="What the learner should assemble.")
    blocks: list[Block] = Field(
        min_length=2,
        max_length=MAX_ITEMS,
        description=(
            "Every block, solution and distractors, one per entry; leading spaces (indentation) "
            "are kept. Learners see them shuffled."
        ),
    )


class ParsonsGrading(StrictModel):
    correct_order: list[StrictInt] = Field(
        min_length=2,
        description=(
            "The solution: block indexes (0 = first block) in order. Blocks not listed are "
            "distractors."
        ),
    )
    distractor_misconceptions: dict[str, UUID] = Field(
        default_factory=dict,
        description='Misconception shown by using a distractor, keyed by its block index ("4").',
    )


class ParsonsResponse(StrictModel):
    order: list[StrictInt] = Field(
        max_length=MAX_ITEMS,
        description="Rendered block ids in the learner's order (distractors left out).",
    )


class Parsons(AtomType):
    key = "parsons"
    label = "Parsons problem"
    content_model = ParsonsContent
    grading_model = ParsonsGrading
    response_model = ParsonsResponse
    default_engagement_mode = "constructive"
    default_knowledge_dimension = "procedural"
    default_element_interactivity = 0.7
    example_content = {
        "prompt": "Arrange the lines into a function that returns the sum of a list.",
        "blocks": [
            "def total(numbers):",
            "    result = 0",
            "    for n in numbers:",
            "        result += n",
            "    return result",
            "        return result",
        ],
    }
    example_grading_logic = {"correct_order": [0, 1, 2, 3, 4]}

    def check_consistency(self, content, grading, options):
        errors: dict[str, list[str]] = {}
        n = len(content.blocks)
        order = grading.correct_order
        for position, index in enumerate(order):
            if not 0 <= index < n:
                errors[f"grading_logic.correct_order.{position}"] = [
                    f"No block {index}; blocks run from 0 to {n - 1}."
                ]
        if len(set(order)) != len(order):
            errors.setdefault("grading_logic.correct_order", []).append(
                "Each block may appear only once."
            )
        if errors:
            return errors
        solution_texts = {content.blocks[i] for i in order}
        distractors = set(range(n)) - set(order)
        for index in sorted(distractors):
            if content.blocks[index] in solution_texts:
                errors[f"content.blocks.{index}"] = [
                    "This distractor reads exactly like a solution block."
                ]
        for key in grading.distractor_misconceptions:
            if not (key.isdigit() and str(int(key)) == key and int(key) in distractors):
                errors[f"grading_logic.distractor_misconceptions.{key}"] = [
                    "Key it by the index of a distractor block (one not in correct_order)."
                ]
        return errors

    def misconception_ids(self, content, grading) -> set[UUID]:
        return set(grading.distractor_misconceptions.values())

    def grade(self, atom: AtomSnapshot, content, grading, response) -> GradeResult:
        blocks = content.blocks
        shown = display_order(atom.shuffle_seed, blocks, grading.correct_order)
        chosen = ids_to_indexes(response.order, shown, "response.order")
        # Compare texts: identical blocks (two "else:" lines, say) are interchangeable.
        answer = [blocks[i] for i in chosen]
        solution = [blocks[i] for i in grading.correct_order]
        misconception = next(
            (
                grading.distractor_misconceptions[str(i)]
                for i in chosen
                if str(i) in grading.distractor_misconceptions
            ),
            None,
        )
        return GradeResult(
            correct=answer == solution,
            score=lcs_score(answer, solution),
            misconception_id=misconception,
        )

    def render(self, atom: AtomSnapshot, content) -> dict:
        # The shuffle depends on the solution (it must never show it), so parse the grading
        # logic too; render() receives only the content.
        _, grading = self.validate(atom.content, atom.grading_logic, atom.options)
        shown = display_order(atom.shuffle_seed, content.blocks, grading.correct_order)
        return {"prompt": content.prompt, "blocks": rendered_items(content.blocks, shown)}
