"""GIFT import: ``parse_gift(text)`` turns a GIFT file into one ``GiftItem`` per question, a
record or an error saying what could not be read or mapped. It never raises for bad input.

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.text import slugify

from ...atom_types import AtomValidationError, OptionData, get_atom_type
from .answers import MAPPERS, QuestionError, question_type
from .normalise import generated_external_id, question_text_of
from .syntax import CATEGORY, SURROGATE_RE, answer_text, mask, strip, strip_format, unmask

TITLE_CHARS = 60
BLANK = "_____"
_EXTERNAL_ID_RE = re.compile(r"//[ \t]*external_id[ \t]*:(.*)", re.IGNORECASE)


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


def parse_gift(text: str) -> list[GiftItem]:
    """Parse a GIFT file into one item per question; bad questions become error items."""
    items: list[GiftItem] = []
    used_ids: set[str] = set()
    for block in _blocks(text):
        try:
            record, warnings = _parse_question(block)
        except QuestionError as exc:
            items.append(GiftItem(block.line, None, str(exc)))
            continue
        except Exception as exc:  # never let one odd question stop the file
            items.append(GiftItem(block.line, None, f"Could not read this question: {exc!r}."))
            continue
        if record["external_id"] is None:
            base = generated_external_id(record["title"], question_text_of(record))
            candidate, n = base, 1
            while candidate in used_ids:  # same title and text twice: keep ids distinct
                n += 1
                candidate = f"{base}-{n}"
            record["external_id"] = candidate
        used_ids.add(record["external_id"])
        items.append(GiftItem(block.line, record, None, tuple(warnings)))
    return items


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
        line = strip(raw)
        if not line or line.startswith(CATEGORY):
            if block is not None:
                yield block
                block = None
            if line:
                tags = _category_tags(line[len(CATEGORY) :])
            continue
        if line.startswith("//"):
            match = _EXTERNAL_ID_RE.fullmatch(line)
            if match and strip(match.group(1)):
                pending_ids.append((number, strip(match.group(1))))
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
    segments = [s for s in path.split("/") if strip(s)]
    slug = slugify(segments[-1]) if segments else ""
    return [slug] if slug else []


def _parse_question(block: _Block) -> tuple[dict, list[str]]:
    warnings: list[str] = []
    source = "\n".join(block.lines)
    if SURROGATE_RE.search(source):
        raise QuestionError("The question contains invalid (surrogate) characters.")
    ids = sorted({value for _, value in block.ids})
    if len(ids) > 1:
        lines = ", ".join(str(n) for n, _ in block.ids)
        raise QuestionError(
            f"Several different '// external_id:' comments (lines {lines}) precede this "
            "question; keep one."
        )
    masked = mask(source)

    title = ""
    if masked.startswith("::"):
        end = masked.find("::", 2)
        if end < 0:
            raise QuestionError(
                "The question name is not closed: write ::Name:: (and \\: for a colon inside)."
            )
        title = strip(unmask(masked[2:end]))
        masked = masked[end + 2 :]
    masked = strip(strip_format(strip(masked)))

    start, end = masked.find("{"), masked.find("}")
    if start < 0 and end < 0:
        raise QuestionError(
            "No answer block {...}: description items (text without a question) are not supported."
        )
    if end < 0:
        raise QuestionError("The answer block is not closed: a '{' has no matching '}'.")
    if start < 0 or end < start:
        raise QuestionError("Unbalanced braces: a '}' comes before any '{' (escape it as \\}).")
    answer = strip(masked[start + 1 : end])
    before, after = masked[:start], masked[end + 1 :]
    if "{" in answer:
        raise QuestionError("A '{' inside the answer block: escape it as \\{.")
    if "{" in after:
        raise QuestionError(
            "Several answer blocks: missing-word questions with more than one blank are not "
            "supported."
        )
    if "}" in after:
        raise QuestionError("Unbalanced braces: an extra '}' after the answer block.")
    at_end = not strip(after)
    question_text = unmask(strip(before) if at_end else strip(before + BLANK + after))
    if not title:
        title = strip(" ".join(question_text.split())[:TITLE_CHARS])

    general = ""
    split = answer.rfind("####")
    if split >= 0:
        general = answer_text(answer[split + 4 :])
        answer = strip(answer[:split])

    atom_type = question_type(answer)
    if atom_type in ("true_false", "matching") and not at_end:
        raise QuestionError(
            "The answer block is in the middle of the text; only multiple-choice, short-answer "
            "and numerical questions may have a blank there."
        )
    if general and atom_type not in ("mcq", "true_false"):
        warnings.append("Dropped the general feedback (####): this atom type has no place for it.")
    content, grading, options = MAPPERS[atom_type](answer, question_text, general, warnings)
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
        raise QuestionError(f"Not a valid {kind.label.lower()} atom: {exc}") from None
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
