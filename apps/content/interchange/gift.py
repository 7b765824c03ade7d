"""Moodle GIFT import and export for the five atom types GIFT can express.

Pure functions over the portable atom record (see ``records.py``); no database.

* ``parse_gift(text)`` turns a GIFT file into one ``GiftItem`` per question: a record, or an
  error saying what could not be read or mapped. It never raises for bad input.
* ``export_gift(records)`` writes GIFT for the records it can express losslessly and lists
  the others with a reason; those are left out of the text.
* ``normalise_record(record)`` is the canonical form both sides agree on:
  ``parse_gift(export_gift([r])[0])[0].record`` equals ``normalise_record(r)``.

Mapping (GIFT -> atom type)::

    {=right ~wrong#feedback ####general}  mcq        (general feedback -> content.explanation)
    {T#wrong fb#right fb ####general}      true_false (the right-answer feedback is dropped)
    {=a =b =%0%wrong#feedback}             short_text (0% answers -> grading.wrong_answers)
    {#3.14:0.01} {#1..5} {#=3 =%0%30#fb}   numeric    (0% answers -> grading.wrong_answers)
    {=left -> right = -> distractor}       matching   (needs at least two pairs)

Also read: ``//`` comments (``// external_id: X`` names the next question), ``::Title::``
(else the first 60 characters of the text), ``[html]``/``[moodle]``/``[plain]``/``[markdown]``
markers (removed), ``$CATEGORY: a/b`` (tag = slug of the last segment), the escapes
``\\~ \\= \\# \\{ \\} \\: \\n \\\\``, ``~%w%``/``=%w%`` weights, and a blank in mid-text for
mcq, short_text and numeric (replaced by "_____"). Essays, descriptions, several blanks,
several credited answers and partial credit are errors. Details an atom has no place for
(right-answer feedback, penalties, general feedback of types without an explanation...) are
dropped with a warning on the item.

Export writes every question on one line, after an ``// external_id:`` comment, and refuses
(with the reason) anything it could not read back identically: other atom types, misconception
links, shuffle off, short-text matching options, units, relative tolerances, "->" where GIFT
would read a matching pair, an empty title.

Normalisation (what a record looks like after import, and what export compares against):

* content and grading_logic are validated by the atom type and dumped without the fields that
  hold their default value (``model_dump(exclude_defaults=True)``), so strings are stripped
  and numbers are floats;
* "\\r\\n" and "\\r" become "\\n" in every text; the title, option texts and feedback are
  stripped;
* options are sorted by index and renumbered 0..n-1;
* a matching atom's ``right`` list is ordered as the pairs use it (in ``left`` order), then
  the distractors;
* a missing external_id becomes ``"gift-" + sha1(title + "\\n" + question text)[:12]``
  (question text = the prompt, or the true/false statement);
* tags keep one slugified tag (GIFT carries one category per question);
* concepts and metadata are empty (GIFT has no place for them).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from typing import Any

from django.utils.text import slugify

from ..atom_types import AtomValidationError, OptionData, get_atom_type

SUPPORTED_TYPES = ("mcq", "true_false", "short_text", "numeric", "matching")
TITLE_CHARS = 60
BLANK = "_____"
# Which content / grading fields GIFT carries per type; anything else (a non-default value,
# since records are dumped without defaults) cannot be exported.
_CARRIED: dict[str, tuple[set[str], set[str]]] = {
    "mcq": ({"prompt", "explanation"}, set()),
    "true_false": ({"statement", "explanation"}, {"answer", "feedback_wrong"}),
    "short_text": ({"prompt"}, {"accepted", "wrong_answers"}),
    "numeric": ({"prompt"}, {"answer", "tolerance", "wrong_answers"}),
    "matching": ({"prompt", "left", "right"}, {"pairs"}),
}
_WRONG_ANSWER_KEYS = {"short_text": {"text", "feedback"}, "numeric": {"value", "feedback"}}

# Characters GIFT escapes with a backslash. While a question is parsed, each escaped one is
# replaced by a lone surrogate (which decoded text never contains), so the structural searches
# below ("{", "~", "#"...) skip it; _unmask turns them back into the literal characters.
_SPECIALS = "~=#{}:"
_MASK = {ch: chr(0xD800 + i) for i, ch in enumerate(_SPECIALS)}
_UNMASK = str.maketrans({masked: ch for ch, masked in _MASK.items()})
_SURROGATE_RE = re.compile("[\ud800-\udfff]")

# The characters pydantic's str_strip_whitespace strips (Unicode White_Space). Stripping the
# same set here keeps titles and options consistent with the content models' texts.
_WS = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
_FORMAT_RE = re.compile(r"\[(?:html|moodle|plain|markdown)\]", re.IGNORECASE)
_WEIGHT_RE = re.compile(r"%(-?\d+(?:[.,]\d*)?)%")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_EXTERNAL_ID_RE = re.compile(r"//[ \t]*external_id[ \t]*:(.*)", re.IGNORECASE)
_CATEGORY = "$CATEGORY:"
_TF_ANSWERS = {"T": True, "TRUE": True, "F": False, "FALSE": False}


@dataclass(frozen=True)
class GiftItem:
    """One question of a GIFT file: a record, or why there is none.

    ``line`` is the 1-based line the question starts on. ``warnings`` lists GIFT details that
    have no place in the atom and were dropped (the record is still complete and valid).
    """

    line: int
    record: dict | None
    error: str | None
    warnings: tuple[str, ...] = ()


class _QuestionError(Exception):
    """This question cannot be read or mapped; the message is shown to the author."""


# --- import ----------------------------------------------------------------------------------
def parse_gift(text: str) -> list[GiftItem]:
    """Parse a GIFT file into one item per question; bad questions become error items."""
    items: list[GiftItem] = []
    used_ids: set[str] = set()
    for block in _blocks(text):
        try:
            record, warnings = _parse_question(block)
        except _QuestionError as exc:
            items.append(GiftItem(block.line, None, str(exc)))
            continue
        except Exception as exc:  # never let one odd question stop the file
            items.append(GiftItem(block.line, None, f"Could not read this question: {exc!r}."))
            continue
        if record["external_id"] is None:
            base = generated_external_id(record["title"], _question_text(record))
            candidate, n = base, 1
            while candidate in used_ids:  # same title and text twice: keep ids distinct
                n += 1
                candidate = f"{base}-{n}"
            record["external_id"] = candidate
        used_ids.add(record["external_id"])
        items.append(GiftItem(block.line, record, None, tuple(warnings)))
    return items


def generated_external_id(title: str, question_text: str) -> str:
    """The id of a question without an ``// external_id:`` comment: stable across imports."""
    digest = hashlib.sha1(f"{title}\n{question_text}".encode(), usedforsecurity=False)
    return "gift-" + digest.hexdigest()[:12]


@dataclass
class _Block:
    line: int
    lines: list[str]
    ids: list[tuple[int, str]]
    tags: list[str]


def _blocks(text: str):
    """Questions are runs of non-blank lines. ``//`` lines are comments (an ``external_id``
    comment applies to the next question); ``$CATEGORY:`` lines set the tag of the questions
    that follow."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    tags: list[str] = []
    pending_ids: list[tuple[int, str]] = []
    block: _Block | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = _strip(raw)
        if not line or line.startswith(_CATEGORY):
            if block is not None:
                yield block
                block = None
            if line:
                tags = _category_tags(line[len(_CATEGORY) :])
            continue
        if line.startswith("//"):
            match = _EXTERNAL_ID_RE.fullmatch(line)
            if match and _strip(match.group(1)):
                pending_ids.append((number, _strip(match.group(1))))
            continue
        if block is None:
            block = _Block(number, [], pending_ids, tags)
            pending_ids = []
        else:
            block.ids += pending_ids  # an id comment inside the question's lines
            pending_ids = []
        block.lines.append(line)
    if block is not None:
        yield block


def _category_tags(path: str) -> list[str]:
    segments = [s for s in path.split("/") if _strip(s)]
    slug = slugify(segments[-1]) if segments else ""
    return [slug] if slug else []


def _parse_question(block: _Block) -> tuple[dict, list[str]]:
    warnings: list[str] = []
    source = "\n".join(block.lines)
    if _SURROGATE_RE.search(source):
        raise _QuestionError("The question contains invalid (surrogate) characters.")
    ids = sorted({value for _, value in block.ids})
    if len(ids) > 1:
        lines = ", ".join(str(n) for n, _ in block.ids)
        raise _QuestionError(
            f"Several different '// external_id:' comments (lines {lines}) precede this "
            "question; keep one."
        )
    masked = _mask(source)

    title = ""
    if masked.startswith("::"):
        end = masked.find("::", 2)
        if end < 0:
            raise _QuestionError(
                "The question name is not closed: write ::Name:: (and \\: for a colon inside)."
            )
        title = _strip(_unmask(masked[2:end]))
        masked = masked[end + 2 :]
    masked = _strip(_strip_format(_strip(masked)))

    start, end = masked.find("{"), masked.find("}")
    if start < 0 and end < 0:
        raise _QuestionError(
            "No answer block {...}: description items (text without a question) are not supported."
        )
    if end < 0:
        raise _QuestionError("The answer block is not closed: a '{' has no matching '}'.")
    if start < 0 or end < start:
        raise _QuestionError("Unbalanced braces: a '}' comes before any '{' (escape it as \\}).")
    answer = _strip(masked[start + 1 : end])
    before, after = masked[:start], masked[end + 1 :]
    if "{" in answer:
        raise _QuestionError("A '{' inside the answer block: escape it as \\{.")
    if "{" in after:
        raise _QuestionError(
            "Several answer blocks: missing-word questions with more than one blank are not "
            "supported."
        )
    if "}" in after:
        raise _QuestionError("Unbalanced braces: an extra '}' after the answer block.")
    at_end = not _strip(after)
    question_text = _unmask(_strip(before) if at_end else _strip(before + BLANK + after))
    if not title:
        title = _strip(" ".join(question_text.split())[:TITLE_CHARS])

    general = ""
    split = answer.rfind("####")
    if split >= 0:
        general = _text(answer[split + 4 :])
        answer = _strip(answer[:split])

    atom_type = _question_type(answer)
    if atom_type in ("true_false", "matching") and not at_end:
        raise _QuestionError(
            "The answer block is in the middle of the text; only multiple-choice, short-answer "
            "and numerical questions may have a blank there."
        )
    if general and atom_type not in ("mcq", "true_false"):
        warnings.append("Dropped the general feedback (####): this atom type has no place for it.")
    content, grading, options = _MAPPERS[atom_type](answer, question_text, general, warnings)
    record = _validated_record(
        atom_type=atom_type,
        title=title,
        external_id=ids[0] if ids else None,
        content=content,
        grading=grading,
        options=options,
        tags=list(block.tags),
    )
    return record, warnings


def _question_type(answer: str) -> str:
    """Moodle's rules, in Moodle's order."""
    if not answer:
        raise _QuestionError("Essay questions ({}) are not supported.")
    if answer.startswith("#"):
        return "numeric"
    if "~" in answer:
        return "mcq"
    if "=" in answer and "->" in answer:
        return "matching"
    if _strip(answer.split("#", 1)[0]).upper() in _TF_ANSWERS:
        return "true_false"
    if answer.startswith("="):
        return "short_text"
    raise _QuestionError(
        f"Cannot tell the question type from {{{_unmask(answer)}}}: right answers start with "
        "'=', wrong ones with '~', numbers with '#', and true/false is T or F."
    )


def _mcq(answer: str, question_text: str, general: str, warnings: list[str]):
    pieces = answer.replace("=", "~=").split("~")
    if _strip(pieces[0]):
        raise _QuestionError(
            f"Text before the first answer ({_unmask(_strip(pieces[0]))!r}): each answer starts "
            "with = (right) or ~ (wrong)."
        )
    options, credited = [], []
    for index, piece in enumerate(pieces[1:]):
        piece = _strip(piece)
        if piece.startswith("="):
            weight, piece = 100.0, piece[1:]
        else:
            weight, piece = _weight(piece, default=0.0)
        text, feedback = _answer_and_feedback(piece)
        if not text:
            raise _QuestionError(f"Answer {index + 1} is empty.")
        if weight > 0:
            credited.append((text, weight))
        elif weight < 0:
            warnings.append(f"Dropped the {weight:g}% penalty of answer {text!r}.")
        options.append(
            {"index": index, "text": text, "is_correct": weight > 0, "feedback": feedback}
        )
    if len(credited) > 1:
        listed = ", ".join(f"{text!r} ({weight:g}%)" for text, weight in credited)
        raise _QuestionError(
            f"Several answers give credit ({listed}): multiple-answer questions are not "
            "supported; a multiple-choice atom has exactly one right answer."
        )
    if not credited:
        raise _QuestionError("No answer is marked right: mark exactly one with '='.")
    if credited[0][1] != 100:
        raise _QuestionError(
            f"The right answer is worth {credited[0][1]:g}%: partial credit is not supported; "
            "it must be worth 100%."
        )
    return {"prompt": question_text, "explanation": general}, {}, options


def _true_false(answer: str, question_text: str, general: str, warnings: list[str]):
    token, _, feedback = answer.partition("#")
    wrong, _, right = feedback.partition("#")
    if _text(right):
        warnings.append(
            "Dropped the feedback for a right answer: true/false atoms only have feedback for "
            "a wrong one."
        )
    return (
        {"statement": question_text, "explanation": general},
        {"answer": _TF_ANSWERS[_strip(token).upper()], "feedback_wrong": _text(wrong)},
        [],
    )


def _short_text(answer: str, question_text: str, general: str, warnings: list[str]):
    accepted, wrong_answers = [], []
    for number, piece in enumerate(_equals_pieces(answer), start=1):
        weight, piece = _weight(piece, default=100.0)
        text, feedback = _answer_and_feedback(piece)
        if not text:
            raise _QuestionError(f"Answer {number} is empty.")
        if weight == 100:
            accepted.append(text)
            if feedback:
                warnings.append(f"Dropped the feedback of the right answer {text!r}.")
        elif weight <= 0:
            wrong_answers.append({"text": text, "feedback": feedback})
            if weight < 0:
                warnings.append(f"Dropped the {weight:g}% penalty of answer {text!r}.")
        else:
            raise _QuestionError(
                f"Answer {text!r} is worth {weight:g}%: partial credit is not supported "
                "(100% = accepted, 0% = a known wrong answer)."
            )
    if not accepted:
        raise _QuestionError("No answer is worth 100%: give at least one accepted answer.")
    return {"prompt": question_text}, {"accepted": accepted, "wrong_answers": wrong_answers}, []


def _numeric(answer: str, question_text: str, general: str, warnings: list[str]):
    body = answer[1:]
    other_at = body.find("~")
    if other_at >= 0:
        if _answer_and_feedback(body[other_at + 1 :])[1]:
            warnings.append("Dropped the feedback for any other answer (~#...).")
        body = body[:other_at]
    head, *rest = body.split("=")
    pieces = ([_strip(head)] if _strip(head) else []) + [_strip(p) for p in rest]
    if not pieces:
        raise _QuestionError(
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
            raise _QuestionError(
                f"Answer {value_text} is worth {weight:g}%: partial credit is not supported "
                "(100% = the answer, 0% = a known wrong value)."
            )
    if not right:
        raise _QuestionError("No answer is worth 100%: give the right value.")
    value, tolerance, shown = right[0]
    for other_value, other_tolerance, other_shown in right[1:]:
        if (other_value, other_tolerance) != (value, tolerance):
            raise _QuestionError(
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
            raise _QuestionError(
                f"Matching pair {number} ({_unmask(piece)!r}) has no '->': write =left -> right."
            )
        left, right = (_text(part) for part in piece.split("->", 1))
        if not right:
            raise _QuestionError(f"Matching pair {number} has nothing after '->'.")
        if left:
            pairs.append((left, right))
        else:
            distractors.append(right)
    if len(pairs) < 2:
        raise _QuestionError("A matching question needs at least two pairs.")
    right_items = list(dict.fromkeys([right for _, right in pairs] + distractors))
    return (
        {"prompt": question_text, "left": [left for left, _ in pairs], "right": right_items},
        {"pairs": dict(pairs)},
        [],
    )


_MAPPERS = {
    "mcq": _mcq,
    "true_false": _true_false,
    "short_text": _short_text,
    "numeric": _numeric,
    "matching": _matching,
}


def _equals_pieces(answer: str) -> list[str]:
    head, *pieces = answer.split("=")
    if _strip(head):
        raise _QuestionError(
            f"Text before the first '=' ({_unmask(_strip(head))!r}): every answer starts with '='."
        )
    return [_strip(piece) for piece in pieces]


def _weight(piece: str, default: float) -> tuple[float, str]:
    match = _WEIGHT_RE.match(piece)
    if match is None:
        return default, piece
    return float(match.group(1).replace(",", ".")), piece[match.end() :]


def _answer_and_feedback(piece: str) -> tuple[str, str]:
    text, _, feedback = piece.partition("#")
    return _text(text), _text(feedback)


def _number_and_tolerance(text: str) -> tuple[float, float]:
    if text.find("..", 1) > 0:
        low, high = (_number(part) for part in text.split("..", 1))
        if low > high:
            raise _QuestionError(f"The range {text} runs backwards: write {{#low..high}}.")
        value, tolerance = (low + high) / 2, (high - low) / 2
    elif text.find(":", 1) > 0:
        value_text, tolerance_text = text.split(":", 1)
        value, tolerance = _number(value_text), _number(tolerance_text)
        if tolerance < 0:
            raise _QuestionError(f"The tolerance in {text} is negative.")
    else:
        value, tolerance = _number(text), 0.0
    if not (math.isfinite(value) and math.isfinite(tolerance)):
        raise _QuestionError(f"{text} is too large.")
    return value, tolerance


def _number(text: str) -> float:
    text = _strip(text)
    if not _NUMBER_RE.fullmatch(text):
        raise _QuestionError(f"{_unmask(text)!r} is not a number.")
    value = float(text)
    if not math.isfinite(value):
        raise _QuestionError(f"{text} is too large.")
    return value


def _validated_record(
    *,
    atom_type: str,
    title: str,
    external_id: str | None,
    content: dict,
    grading: dict,
    options: list[dict],
    tags: list[str],
) -> dict:
    kind = get_atom_type(atom_type)
    option_data = [OptionData(**option) for option in options]
    try:
        parsed_content, parsed_grading = kind.validate(content, grading, option_data)
    except AtomValidationError as exc:
        raise _QuestionError(f"Not a valid {kind.label.lower()} atom: {exc}") from None
    return {
        "external_id": external_id,
        "title": title,
        "atom_type": atom_type,
        "content": parsed_content.model_dump(mode="json", exclude_defaults=True),
        "grading_logic": parsed_grading.model_dump(mode="json", exclude_defaults=True),
        "options": [{**option, "misconception": None} for option in options],
        "concepts": [],
        "tags": tags,
        "metadata": {},
    }


def _question_text(record: dict) -> str:
    content = record["content"]
    return content["statement"] if record["atom_type"] == "true_false" else content["prompt"]


# --- normalisation ---------------------------------------------------------------------------
def normalise_record(record: Any) -> dict:
    """The canonical form of a record (see the module docstring); what importing the GIFT
    export of ``record`` gives. Raises ValueError for a record that is not valid or whose
    type GIFT cannot carry."""
    if not isinstance(record, dict):
        raise ValueError("Not an atom record (expected a dict).")
    atom_type = record.get("atom_type")
    if atom_type not in SUPPORTED_TYPES:
        raise ValueError(
            f"GIFT has no equivalent of {atom_type!r} atoms; it carries "
            f"{', '.join(SUPPORTED_TYPES)}."
        )
    title = record.get("title")
    if not isinstance(title, str):
        raise ValueError("The title must be text.")
    external_id = record.get("external_id")
    if external_id is not None and not isinstance(external_id, str):
        raise ValueError("external_id must be text or null.")
    options = _normalised_options(record.get("options") or [])
    kind = get_atom_type(atom_type)
    try:
        parsed_content, parsed_grading = kind.validate(
            _lf(record.get("content", {})),
            _lf(record.get("grading_logic", {})),
            [OptionData(o["index"], o["text"], o["is_correct"], o["feedback"]) for o in options],
        )
    except AtomValidationError as exc:
        raise ValueError(f"Not a valid {kind.label.lower()} atom: {exc}") from None
    content = parsed_content.model_dump(mode="json", exclude_defaults=True)
    grading = parsed_grading.model_dump(mode="json", exclude_defaults=True)
    if atom_type == "matching":
        used = [grading["pairs"][left] for left in content["left"]]
        content["right"] = list(dict.fromkeys(used + content["right"]))
    normalised = {
        "external_id": _strip(external_id or "") or None,
        "title": _strip(_lf(title)),
        "atom_type": atom_type,
        "content": content,
        "grading_logic": grading,
        "options": [{**option, "index": i} for i, option in enumerate(options)],
        "concepts": [],
        "tags": _first_tag(record.get("tags") or []),
        "metadata": {},
    }
    if normalised["external_id"] is None:
        normalised["external_id"] = generated_external_id(
            normalised["title"], _question_text(normalised)
        )
    return normalised


def _normalised_options(options: Any) -> list[dict]:
    if not isinstance(options, list | tuple):
        raise ValueError("options must be a list.")
    result = []
    for position, option in enumerate(options):
        if not isinstance(option, dict):
            raise ValueError(f"Option {position} is not an object.")
        index, text = option.get("index", position), option.get("text")
        is_correct, feedback = option.get("is_correct", False), option.get("feedback") or ""
        if not isinstance(index, int) or isinstance(index, bool):
            raise ValueError(f"Option {position}: index must be an integer.")
        if not isinstance(text, str) or not isinstance(feedback, str):
            raise ValueError(f"Option {position}: text and feedback must be text.")
        if not isinstance(is_correct, bool):
            raise ValueError(f"Option {position}: is_correct must be true or false.")
        if not _strip(text):
            raise ValueError(f"Option {position} has no text.")
        result.append(
            {
                "index": index,
                "text": _strip(_lf(text)),
                "is_correct": is_correct,
                "feedback": _strip(_lf(feedback)),
                "misconception": option.get("misconception") or None,
            }
        )
    return sorted(result, key=lambda o: o["index"])


def _first_tag(tags: Any) -> list[str]:
    for tag in tags if isinstance(tags, list | tuple) else []:
        slug = slugify(str(tag))
        if slug:
            return [slug]
    return []


def _lf(value: Any) -> Any:
    """Every text (and dict key) in ``value`` with "\\r\\n" and "\\r" turned into "\\n"."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n")
    if isinstance(value, dict):
        return {_lf(k): _lf(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lf(v) for v in value]
    return value


# --- export ----------------------------------------------------------------------------------
def export_gift(records: list[dict]) -> tuple[str, list[tuple[str, str]]]:
    """GIFT text for the records GIFT can carry, and ``(external_id or title, reason)`` for
    each record left out."""
    chunks: list[str] = []
    skipped: list[tuple[str, str]] = []
    category = ""
    for position, record in enumerate(records, start=1):
        name = _record_name(record, position)
        try:
            normalised = normalise_record(record)
        except ValueError as exc:
            skipped.append((name, str(exc)))
            continue
        problems = _unrepresentable(normalised)
        if problems:
            skipped.append((name, "GIFT cannot carry " + "; ".join(problems) + "."))
            continue
        tag = normalised["tags"][0] if normalised["tags"] else ""
        if tag != category:
            chunks.append(f"{_CATEGORY} {tag}".rstrip())
            category = tag
        chunks.append(_format_question(normalised))
    return ("\n\n".join(chunks) + "\n" if chunks else ""), skipped


def _record_name(record: Any, position: int) -> str:
    if isinstance(record, dict):
        for key in ("external_id", "title"):
            if isinstance(record.get(key), str) and record[key].strip():
                return record[key]
    return f"record {position}"


def _unrepresentable(record: dict) -> list[str]:
    atom_type = record["atom_type"]
    problems = []
    if not record["title"]:
        problems.append("an empty title (an import would name it after its text)")
    if any(ch in record["external_id"] for ch in "\r\n"):
        problems.append("a line break in the external_id")
    content_keys, grading_keys = _CARRIED[atom_type]
    for part, keys in (("content", content_keys), ("grading_logic", grading_keys)):
        for key, value in record[part].items():
            if key not in keys:
                problems.append(f"{part}.{key} = {value!r}")
    for i, wrong in enumerate(record["grading_logic"].get("wrong_answers", [])):
        for key, value in wrong.items():
            if key not in _WRONG_ANSWER_KEYS[atom_type]:
                problems.append(f"grading_logic.wrong_answers.{i}.{key} = {value!r}")
    for option in record["options"]:
        if option["misconception"] is not None:
            problems.append(f"the misconception linked to option {option['text']!r}")
    if atom_type == "short_text" and "->" in _format_answer_block(record):
        problems.append("'->' in a short answer (GIFT would read it as a matching question)")
    if atom_type == "matching":
        problems += [
            f"'->' in the left item {left!r}" for left in record["content"]["left"] if "->" in left
        ]
    if _has_surrogates(record):
        problems.append("invalid (surrogate) characters")
    return problems


def _has_surrogates(value: Any) -> bool:
    if isinstance(value, str):
        return _SURROGATE_RE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogates(k) or _has_surrogates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogates(v) for v in value)
    return False


def _format_question(record: dict) -> str:
    text = _question_text(record)
    return (
        f"// external_id: {record['external_id']}\n"
        f"::{_escape(record['title'])}:: {_escape_text(text)} {{{_format_answer_block(record)}}}"
    )


def _format_answer_block(record: dict) -> str:
    content, grading, atom_type = record["content"], record["grading_logic"], record["atom_type"]
    general = ""
    if content.get("explanation"):
        general = "####" + _escape_text(content["explanation"])
    if atom_type == "mcq":
        parts = []
        for option in record["options"]:
            text = option["text"]
            if text.startswith("%"):  # would read as a weight: give the weight explicitly
                marker = "~%100%" if option["is_correct"] else "~%0%"
            else:
                marker = "=" if option["is_correct"] else "~"
            parts.append(marker + _escape_text(text) + _feedback(option["feedback"]))
        return " ".join(parts) + general
    if atom_type == "true_false":
        answer = "TRUE" if grading["answer"] else "FALSE"
        return answer + _feedback(grading.get("feedback_wrong", "")) + general
    if atom_type == "short_text":
        parts = [
            "=" + ("%100%" if text.startswith("%") else "") + _escape_text(text)
            for text in grading["accepted"]
        ]
        parts += [
            "=%0%" + _escape_text(wrong["text"]) + _feedback(wrong.get("feedback", ""))
            for wrong in grading.get("wrong_answers", [])
        ]
        return " ".join(parts)
    if atom_type == "numeric":
        answer = f"{_number_text(grading['answer'])}:{_number_text(grading.get('tolerance', 0))}"
        wrong = [
            f"=%0%{_number_text(w['value'])}" + _feedback(w.get("feedback", ""))
            for w in grading.get("wrong_answers", [])
        ]
        return "#" + " ".join([f"={answer}", *wrong]) if wrong else f"#{answer}"
    # matching
    pairs = grading["pairs"]
    parts = [f"={_escape_text(left)} -> {_escape_text(pairs[left])}" for left in content["left"]]
    parts += [
        f"= -> {_escape_text(right)}" for right in content["right"] if right not in pairs.values()
    ]
    return " ".join(parts)


def _feedback(text: str) -> str:
    return "#" + _escape_text(text) if text else ""


def _number_text(value: float) -> str:
    return repr(float(value))


def _escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for ch in _SPECIALS:
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\n")


def _escape_text(text: str) -> str:
    """Escape a text GIFT may prefix with a format marker; a text that itself starts with
    something like "[html]" gets "[plain]" in front, which the import removes again."""
    return ("[plain]" if _FORMAT_RE.match(text) else "") + _escape(text)


# --- text helpers ----------------------------------------------------------------------------
def _strip(text: str) -> str:
    return text.strip(_WS)


def _strip_format(text: str) -> str:
    match = _FORMAT_RE.match(text)
    return text[match.end() :] if match else text


def _text(masked: str) -> str:
    """An answer or feedback text: stripped, without its format marker, unescaped."""
    return _strip(_unmask(_strip(_strip_format(_strip(masked)))))


def _mask(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            following = text[i + 1]
            if following in _MASK:
                out.append(_MASK[following])
                i += 2
                continue
            if following in "\\n":
                out.append("\\" if following == "\\" else "\n")
                i += 2
                continue
        out.append(ch)
        i += 1
    return "".join(out)


def _unmask(text: str) -> str:
    return text.translate(_UNMASK)
