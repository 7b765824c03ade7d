"""v1's curriculum: one course per ``app_name``, chapters → units, bits → concepts (each with
a flashcard atom of its own text and translation, which v1's attempts on the bit map to), and
flashcards → typed atoms."""

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from apps.content.models import LearningAtom, RevisionSource
from apps.content.services.atoms import ConceptWeightInput, atom_create
from apps.core.models import Origin
from apps.curriculum.models import Concept, Course, Unit

from .entity import BatchOutcome, Entity, Rejection
from .keys import jsonable, legacy_uuid
from .parents import ParentCheck
from .writer import rows_insert

BIT_CARD_PREFIX = "bit:"


def messages(exc: ValidationError) -> str:
    """A validation error's messages on one line, with their field paths."""
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(m)}" for field, m in exc.message_dict.items())
    return " ".join(exc.messages)


def course_for_app(app_name: str) -> dict:
    return {
        "id": legacy_uuid("courses", app_name),
        "slug": f"legacy-{slugify(app_name)}"[:80],
        "title": app_name.replace("_", " ").title(),
        "description": f"Migrated from the v1 app “{app_name}”.",
        "is_published": True,
        "origin": Origin.LEGACY,
        "legacy_key": f"app:{app_name}",
    }


class Chapters(Entity):
    name = "chapters"
    parallel = False

    def migrated_count(self) -> int:
        return Unit.objects.filter(origin=Origin.LEGACY).count()

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        outcome = BatchOutcome()
        courses, units = {}, []
        for row in rows:
            key, app, title = str(row["id"]), (row.get("app_name") or "").strip(), row.get("title")
            if not app:
                outcome.rejections.append(
                    Rejection(key, "missing_app_name", "The chapter has no app.", jsonable(row))
                )
                continue
            if not (title or "").strip():
                outcome.rejections.append(
                    Rejection(key, "empty_title", "The chapter has no title.", jsonable(row))
                )
                continue
            courses.setdefault(app, course_for_app(app))
            units.append(
                {
                    "id": legacy_uuid("chapters", key),
                    "course_id": courses[app]["id"],
                    "title": title[:200],
                    "position": max(0, row.get("position") or 0),
                    "origin": Origin.LEGACY,
                    "legacy_key": key,
                }
            )
            outcome.migrated_keys.append(key)
        rows_insert(Course, list(courses.values()))
        rows_insert(Unit, units)
        return outcome


class Bits(Entity):
    """Concept texts are unique within a course: a second bit with the same text in the same
    app is quarantined (``duplicate_concept_text``). A bit needs a translation, because its
    own flashcard (front: text, back: translation) is what v1's attempts on it become."""

    name = "bits"
    depends_on = ("chapters",)
    parallel = False

    def __init__(self):
        self.chapters = ParentCheck("chapters")

    def migrated_count(self) -> int:
        return Concept.objects.filter(origin=Origin.LEGACY).count()

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        outcome = BatchOutcome()
        problems = self.chapters.problems(r.get("chapter_id") for r in rows)
        unit_course = dict(
            Unit.objects.filter(
                pk__in=[legacy_uuid("chapters", r["chapter_id"]) for r in rows if r["chapter_id"]]
            ).values_list("pk", "course_id")
        )
        done = set(
            Concept.objects.filter(pk__in=[legacy_uuid("bits", r["id"]) for r in rows]).values_list(
                "legacy_key", flat=True
            )
        )
        taken = {
            (course, text): key
            for course, text, key in Concept.objects.filter(
                course__in=set(unit_course.values()), text__in={r["text"] for r in rows}
            ).values_list("course_id", "text", "legacy_key")
        }
        for row in rows:
            key = str(row["id"])
            if key in done:
                outcome.migrated_keys.append(key)
                continue
            rejection = self._rejection(row, key, problems, unit_course, taken)
            if rejection:
                outcome.rejections.append(rejection)
                continue
            course_id = unit_course[legacy_uuid("chapters", row["chapter_id"])]
            try:
                with transaction.atomic():
                    self._create(row, key, course_id)
            except ValidationError as exc:
                outcome.rejections.append(
                    Rejection(key, "invalid_atom", messages(exc), jsonable(row))
                )
                continue
            taken[(course_id, row["text"])] = key
            outcome.migrated_keys.append(key)
        return outcome

    @staticmethod
    def _create(row: dict, key: str, course_id) -> None:
        concept = Concept.objects.create(
            id=legacy_uuid("bits", key),
            course_id=course_id,
            text=row["text"],
            translation=row.get("translation") or "",
            difficulty=row.get("difficulty") or 3,
            origin=Origin.LEGACY,
            legacy_key=key,
        )
        concept.units.add(legacy_uuid("chapters", row["chapter_id"]))
        atom_create(
            by=None,
            title=row["text"][:200],
            atom_type="flashcard",
            content={"front": row["text"], "back": row["translation"]},
            grading_logic={"pass_quality": 3},
            concept_weights=[ConceptWeightInput(concept)],
            status="published",
            source=RevisionSource.LEGACY_IMPORT,
            legacy_key=f"{BIT_CARD_PREFIX}{key}",
            difficulty=concept.difficulty,
        )

    @staticmethod
    def _rejection(row, key, problems, unit_course, taken) -> Rejection | None:
        raw = jsonable(row)
        if row.get("chapter_id") is None:
            return Rejection(key, "missing_chapter", "The bit belongs to no chapter.", raw)
        if row["chapter_id"] in problems:
            reason, blocked = problems[row["chapter_id"]]
            return Rejection(key, reason, f"Chapter {row['chapter_id']}.", raw, blocked)
        if not (row.get("text") or "").strip():
            return Rejection(key, "empty_text", "The bit has no text.", raw)
        if not (row.get("translation") or "").strip():
            return Rejection(key, "missing_translation", "The bit has no translation.", raw)
        difficulty = row.get("difficulty")
        if difficulty is not None and not 1 <= difficulty <= 5:
            return Rejection(key, "invalid_difficulty", f"Difficulty {difficulty} is not 1-5.", raw)
        owner = taken.get((unit_course[legacy_uuid("chapters", row["chapter_id"])], row["text"]))
        if owner is not None:
            return Rejection(
                key, "duplicate_concept_text", f"Bit {owner} has the same text in this app.", raw
            )
        return None


def flashcard_payload(front: str, back: str | None) -> tuple[str, dict, dict, list]:
    """(atom_type, content, grading_logic, options) inferred from a v1 flashcard.

    A back that is JSON with ``options`` and ``correct_index`` is an mcq; with ``blocks`` and
    ``correct_order`` a Parsons problem; any other text is a flashcard's answer. A back that
    starts like JSON but does not parse, or parses to something else, is refused: guessing
    would publish a card whose answer is a fragment of JSON.
    """
    text = (back or "").strip()
    if text.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"malformed_json_back: {exc.msg} at character {exc.pos}") from None
        if isinstance(data, dict) and {"options", "correct_index"} <= data.keys():
            options = data["options"]
            if not isinstance(options, list):
                raise ValueError("invalid_atom: options is not a list")
            return (
                "mcq",
                {"prompt": front},
                {},
                [
                    {"text": str(o), "is_correct": i == data["correct_index"]}
                    for i, o in enumerate(options)
                ],
            )
        if isinstance(data, dict) and {"blocks", "correct_order"} <= data.keys():
            return (
                "parsons",
                {"prompt": front, "blocks": data["blocks"]},
                {"correct_order": data["correct_order"]},
                [],
            )
        raise ValueError("unrecognised_json_back: JSON that is neither an mcq nor a Parsons")
    if not text:
        raise ValueError("empty_back: the card has no answer")
    return "flashcard", {"front": front, "back": text}, {"pass_quality": 3}, []


class Flashcards(Entity):
    name = "flashcards"
    depends_on = ("bits",)
    parallel = False

    def __init__(self):
        self.bits = ParentCheck("bits")

    def migrated_count(self) -> int:
        return (
            LearningAtom.objects.filter(origin=Origin.LEGACY)
            .exclude(legacy_key__startswith=BIT_CARD_PREFIX)
            .count()
        )

    def migrate(self, rows: list[dict]) -> BatchOutcome:
        outcome = BatchOutcome()
        problems = self.bits.problems(r.get("bit_id") for r in rows)
        done = set(
            LearningAtom.objects.filter(
                origin=Origin.LEGACY, legacy_key__in=[str(r["id"]) for r in rows]
            ).values_list("legacy_key", flat=True)
        )
        for row in rows:
            key, raw = str(row["id"]), jsonable(row)
            if key in done:
                outcome.migrated_keys.append(key)
                continue
            front = (row.get("front") or "").strip()
            if row.get("bit_id") is None:
                outcome.rejections.append(Rejection(key, "missing_bit", "No bit.", raw))
                continue
            if row["bit_id"] in problems:
                reason, blocked = problems[row["bit_id"]]
                outcome.rejections.append(
                    Rejection(key, reason, f"Bit {row['bit_id']}.", raw, blocked)
                )
                continue
            if not front:
                outcome.rejections.append(Rejection(key, "empty_front", "No front.", raw))
                continue
            try:
                atom_type, content, grading, options = flashcard_payload(front, row.get("back"))
                bit = Concept(pk=legacy_uuid("bits", row["bit_id"]))
                with transaction.atomic():
                    atom_create(
                        by=None,
                        title=front[:200],
                        atom_type=atom_type,
                        content=content,
                        grading_logic=grading,
                        options=options,
                        concept_weights=[ConceptWeightInput(bit)],
                        status="published",
                        source=RevisionSource.LEGACY_IMPORT,
                        legacy_key=key,
                    )
            except ValueError as exc:
                reason, _, detail = str(exc).partition(": ")
                outcome.rejections.append(Rejection(key, reason, detail, raw))
                continue
            except ValidationError as exc:
                outcome.rejections.append(Rejection(key, "invalid_atom", messages(exc), raw))
                continue
            outcome.migrated_keys.append(key)
        return outcome
