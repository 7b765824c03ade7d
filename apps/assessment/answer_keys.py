"""The right answer of a pinned revision, for the review a learner reads after a test.

Shaped like the ``response`` the learner sent (contracts: "Atom response objects"), so a client
shows it with the same widget: ``{"choice": 1}`` for an mcq, ``{"order": [2, 0, 1]}`` (rendered
ids) for an ordering. A flashcard has no right response (the learner rates their own recall),
so its key is the back of the card: ``{"back": "..."}``. Where several answers are accepted
(short text, cloze blanks) the first one the author listed is shown.

Reads the atom types' parsed content and grading models; imports no Django models.
"""

from collections.abc import Callable

from apps.content.atom_types import AtomSnapshot, get_atom_type
from apps.content.atom_types.sequencing import display_order


def _flashcard(atom, content, grading) -> dict:
    return {"back": content.back}


def _mcq(atom, content, grading) -> dict:
    [right] = [option.index for option in atom.options if option.is_correct]
    return {"choice": right}


def _multi_select(atom, content, grading) -> dict:
    return {"choices": sorted(option.index for option in atom.options if option.is_correct)}


def _true_false(atom, content, grading) -> dict:
    return {"value": grading.answer}


def _cloze(atom, content, grading) -> dict:
    return {"blanks": [blank.accepted[0] for blank in grading.blanks]}


def _numeric(atom, content, grading) -> dict:
    return {"value": grading.answer, **({"unit": content.unit} if content.unit else {})}


def _short_text(atom, content, grading) -> dict:
    return {"text": grading.accepted[0]}


def _rendered_order(atom, texts, solution) -> dict:
    # The ids learners answer with are positions in the display order, never authored indexes.
    shown = display_order(atom.shuffle_seed, texts, solution)
    return {"order": [shown.index(index) for index in solution]}


def _parsons(atom, content, grading) -> dict:
    return _rendered_order(atom, content.blocks, grading.correct_order)


def _ordering(atom, content, grading) -> dict:
    return _rendered_order(atom, content.items, grading.correct_order)


def _matching(atom, content, grading) -> dict:
    return {"pairs": dict(grading.pairs)}


ANSWER_KEYS: dict[str, Callable] = {
    "flashcard": _flashcard,
    "mcq": _mcq,
    "multi_select": _multi_select,
    "true_false": _true_false,
    "cloze": _cloze,
    "numeric": _numeric,
    "short_text": _short_text,
    "parsons": _parsons,
    "ordering": _ordering,
    "matching": _matching,
}


def expected_response(atom: AtomSnapshot) -> dict:
    """The right answer of ``atom`` (a pinned revision's snapshot). A new atom type needs its
    key here: tests/assessment/test_answer_keys.py fails until it has one."""
    kind = get_atom_type(atom.atom_type)
    content, grading = kind.validate(atom.content, atom.grading_logic, atom.options)
    return ANSWER_KEYS[atom.atom_type](atom, content, grading)
