"""The answer block ``{...}`` of a GIFT question: which atom type it is, and its mapping to
that type's content, grading logic and options (one mapper per type)."""

import math
import re

from .syntax import answer_text, strip, unmask

_WEIGHT_RE = re.compile(r"%(-?\d+(?:[.,]\d*)?)%")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_TF_ANSWERS = {"T": True, "TRUE": True, "F": False, "FALSE": False}


class QuestionError(Exception):
    """This question cannot be read or mapped; the message is shown to the author."""


def question_type(answer: str) -> str:
    """Moodle's rules, in Moodle's order."""
    if not answer:
        raise QuestionError("Essay questions ({}) are not supported.")
    if answer.startswith("#"):
        return "numeric"
    if "~" in answer:
        return "mcq"
    if "=" in answer and "->" in answer:
        return "matching"
    if strip(answer.split("#", 1)[0]).upper() in _TF_ANSWERS:
        return "true_false"
    if answer.startswith("="):
        return "short_text"
    raise QuestionError(
        f"Cannot tell the question type from {{{unmask(answer)}}}: right answers start with "
        "'=', wrong ones with '~', numbers with '#', and true/false is T or F."
    )


def _mcq(answer: str, question_text: str, general: str, warnings: list[str]):
    pieces = answer.replace("=", "~=").split("~")
    if strip(pieces[0]):
        raise QuestionError(
            f"Text before the first answer ({unmask(strip(pieces[0]))!r}): each answer starts "
            "with = (right) or ~ (wrong)."
        )
    options, credited = [], []
    for index, piece in enumerate(pieces[1:]):
        piece = strip(piece)
        if piece.startswith("="):
            weight, piece = 100.0, piece[1:]
        else:
            weight, piece = _weight(piece, default=0.0)
        text, feedback = _answer_and_feedback(piece)
        if not text:
            raise QuestionError(f"Answer {index + 1} is empty.")
        if weight > 0:
            credited.append((text, weight))
        elif weight < 0:
            warnings.append(f"Dropped the {weight:g}% penalty of answer {text!r}.")
        options.append(
            {"index": index, "text": text, "is_correct": weight > 0, "feedback": feedback}
        )
    if len(credited) > 1:
        listed = ", ".join(f"{text!r} ({weight:g}%)" for text, weight in credited)
        raise QuestionError(
            f"Several answers give credit ({listed}): multiple-answer questions are not "
            "supported; a multiple-choice atom has exactly one right answer."
        )
    if not credited:
        raise QuestionError("No answer is marked right: mark exactly one with '='.")
    if credited[0][1] != 100:
        raise QuestionError(
            f"The right answer is worth {credited[0][1]:g}%: partial credit is not supported; "
            "it must be worth 100%."
        )
    return {"prompt": question_text, "explanation": general}, {}, options


def _true_false(answer: str, question_text: str, general: str, warnings: list[str]):
    token, _, feedback = answer.partition("#")
    wrong, _, right = feedback.partition("#")
    if answer_text(right):
        warnings.append(
            "Dropped the feedback for a right answer: true/false atoms only have feedback for "
            "a wrong one."
        )
    return (
        {"statement": question_text, "explanation": general},
        {"answer": _TF_ANSWERS[strip(token).upper()], "feedback_wrong": answer_text(wrong)},
        [],
    )


def _short_text(answer: str, question_text: str, general: str, warnings: list[str]):
    accepted, wrong_answers = [], []
    for number, piece in enumerate(_equals_pieces(answer), start=1):
        weight, piece = _weight(piece, default=100.0)
        text, feedback = _answer_and_feedback(piece)
        if not text:
            raise QuestionError(f"Answer {number} is empty.")
        if weight == 100:
            accepted.append(text)
            if feedback:
                warnings.append(f"Dropped the feedback of the right answer {text!r}.")
        elif weight <= 0:
            wrong_answers.append({"text": text, "feedback": feedback})
            if weight < 0:
                warnings.append(f"Dropped the {weight:g}% penalty of answer {text!r}.")
        else:
            raise QuestionError(
                f"Answer {text!r} is worth {weight:g}%: partial credit is not supported "
                "(100% = accepted, 0% = a known wrong answer)."
            )
    if not accepted:
        raise QuestionError("No answer is worth 100%: give at least one accepted answer.")
    return {"prompt": question_text}, {"accepted": accepted, "wrong_answers": wrong_answers}, []


def _numeric(answer: str, question_text: str, general: str, warnings: list[str]):
    body = answer[1:]
    other_at = body.find("~")
    if other_at >= 0:
        if _answer_and_feedback(body[other_at + 1 :])[1]:
            warnings.append("Dropped the feedback for any other answer (~#...).")
        body = body[:other_at]
    head, *rest = body.split("=")
    pieces = ([strip(head)] if strip(head) else []) + [strip(p) for p in rest]
    if not pieces:
        raise QuestionError(
            "A numerical question needs an answer: {#3.14:0.01}, {#1..5} or {#=3 =%0%30#why}."
        )
    right: list[tuple[float, float, str]] = []
    wrong_answers = []
    for piece in pieces:
        weight, piece = _weight(piece, default=100.0)
        value_text, feedback = _answer_and_feedback(piece)
        value, tolerance = _number_and_tolerance(value_text)
        if weight == 100:
            right.append((value, tolerance, value_text))
            if feedback:
                warnings.append(f"Dropped the feedback of the right answer {value_text}.")
        elif weight <= 0:
            wrong_answers.append({"value": value, "feedback": feedback})
            if tolerance:
                warnings.append(f"Dropped the tolerance of the wrong answer {value_text}.")
            if weight < 0:
                warnings.append(f"Dropped the {weight:g}% penalty of answer {value_text}.")
        else:
            raise QuestionError(
                f"Answer {value_text} is worth {weight:g}%: partial credit is not supported "
                "(100% = the answer, 0% = a known wrong value)."
            )
    if not right:
        raise QuestionError("No answer is worth 100%: give the right value.")
    value, tolerance, shown = right[0]
    for other_value, other_tolerance, other_shown in right[1:]:
        if (other_value, other_tolerance) != (value, tolerance):
            raise QuestionError(
                f"The full-credit answers {shown} and {other_shown} disagree; a numeric atom "
                "has one answer and one tolerance."
            )
    grading = {"answer": value, "tolerance": tolerance, "wrong_answers": wrong_answers}
    return {"prompt": question_text}, grading, []


def _matching(answer: str, question_text: str, general: str, warnings: list[str]):
    pairs: list[tuple[str, str]] = []
    distractors: list[str] = []
    for number, piece in enumerate(_equals_pieces(answer), start=1):
        if "->" not in piece:
            raise QuestionError(
                f"Matching pair {number} ({unmask(piece)!r}) has no '->': write =left -> right."
            )
        left, right = (answer_text(part) for part in piece.split("->", 1))
        if not right:
            raise QuestionError(f"Matching pair {number} has nothing after '->'.")
        if left:
            pairs.append((left, right))
        else:
            distractors.append(right)
    if len(pairs) < 2:
        raise QuestionError("A matching question needs at least two pairs.")
    right_items = list(dict.fromkeys([right for _, right in pairs] + distractors))
    return (
        {"prompt": question_text, "left": [left for left, _ in pairs], "right": right_items},
        {"pairs": dict(pairs)},
        [],
    )


MAPPERS = {
    "mcq": _mcq,
    "true_false": _true_false,
    "short_text": _short_text,
    "numeric": _numeric,
    "matching": _matching,
}


def _equals_pieces(answer: str) -> list[str]:
    head, *pieces = answer.split("=")
    if strip(head):
        raise QuestionError(
            f"Text before the first '=' ({unmask(strip(head))!r}): every answer starts with '='."
        )
    return [strip(piece) for piece in pieces]


def _weight(piece: str, default: float) -> tuple[float, str]:
    match = _WEIGHT_RE.match(piece)
    if match is None:
        return default, piece
    return float(match.group(1).replace(",", ".")), piece[match.end() :]


def _answer_and_feedback(piece: str) -> tuple[str, str]:
    text, _, feedback = piece.partition("#")
    return answer_text(text), answer_text(feedback)


def _number_and_tolerance(text: str) -> tuple[float, float]:
    if text.find("..", 1) > 0:
        low, high = (_number(part) for part in text.split("..", 1))
        if low > high:
            raise QuestionError(f"The range {text} runs backwards: write {{#low..high}}.")
        value, tolerance = (low + high) / 2, (high - low) / 2
    elif text.find(":", 1) > 0:
        value_text, tolerance_text = text.split(":", 1)
        value, tolerance = _number(value_text), _number(tolerance_text)
        if tolerance < 0:
            raise QuestionError(f"The tolerance in {text} is negative.")
    else:
        value, tolerance = _number(text), 0.0
    if not (math.isfinite(value) and math.isfinite(tolerance)):
        raise QuestionError(f"{text} is too large.")
    return value, tolerance


def _number(text: str) -> float:
    text = strip(text)
    if not _NUMBER_RE.fullmatch(text):
        raise QuestionError(f"{unmask(text)!r} is not a number.")
    value = float(text)
    if not math.isfinite(value):
        raise QuestionError(f"{text} is too large.")
    return value
