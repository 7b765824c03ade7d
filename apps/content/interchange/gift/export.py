"""GIFT export: ``export_gift(records)`` writes GIFT for the records it can express losslessly
and lists the others with a reason; those are left out of the text.

Export writes every question on one line, after an ``// external_id:`` comment, and refuses
(with the reason) anything it could not read back identically: other atom types, misconception
links, shuffle off, short-text matching options, units, relative tolerances, "->" where GIFT
would read a matching pair, an empty title.
"""

from typing import Any

from .normalise import normalise_record, question_text_of
from .syntax import CATEGORY, SURROGATE_RE, escape, escape_text

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
            chunks.append(f"{CATEGORY} {tag}".rstrip())
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
        return SURROGATE_RE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_surrogates(k) or _has_surrogates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogates(v) for v in value)
    return False


def _format_question(record: dict) -> str:
    text = question_text_of(record)
    return (
        f"// external_id: {record['external_id']}\n"
        f"::{escape(record['title'])}:: {escape_text(text)} {{{_format_answer_block(record)}}}"
    )


def _format_answer_block(record: dict) -> str:
    content, grading, atom_type = record["content"], record["grading_logic"], record["atom_type"]
    general = ""
    if content.get("explanation"):
        general = "####" + escape_text(content["explanation"])
    if atom_type == "mcq":
        parts = []
        for option in record["options"]:
            text = option["text"]
            if text.startswith("%"):  # would read as a weight: give the weight explicitly
                marker = "~%100%" if option["is_correct"] else "~%0%"
            else:
                marker = "=" if option["is_correct"] else "~"
            parts.append(marker + escape_text(text) + _feedback(option["feedback"]))
        return " ".join(parts) + general
    if atom_type == "true_false":
        answer = "TRUE" if grading["answer"] else "FALSE"
        return answer + _feedback(grading.get("feedback_wrong", "")) + general
    if atom_type == "short_text":
        parts = [
            "=" + ("%100%" if text.startswith("%") else "") + escape_text(text)
            for text in grading["accepted"]
        ]
        parts += [
            "=%0%" + escape_text(wrong["text"]) + _feedback(wrong.get("feedback", ""))
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
    parts = [f"={escape_text(left)} -> {escape_text(pairs[left])}" for left in content["left"]]
    parts += [
        f"= -> {escape_text(right)}" for right in content["right"] if right not in pairs.values()
    ]
    return " ".join(parts)


def _feedback(text: str) -> str:
    return "#" + escape_text(text) if text else ""


def _number_text(value: float) -> str:
    return repr(float(value))
