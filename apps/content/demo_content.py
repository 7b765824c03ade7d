"""The demo driving-theory course: every atom type, misconception-linked distractors.

Used by ``load_demo``; idempotent (the course is found by slug and its atoms by title).
"""

from django.db import transaction

from apps.curriculum.models import Concept, Course, Misconception, Unit
from apps.curriculum.services import concept_prerequisites_set

from .models import AtomStatus, LearningAtom
from .services import ConceptWeightInput, atom_create

COURSE_SLUG = "uk-driving-theory"


def _concept(course, unit, text, difficulty, description=""):
    concept, _ = Concept.objects.get_or_create(
        course=course, text=text, defaults={"difficulty": difficulty, "description": description}
    )
    concept.units.add(unit)
    return concept


def _misconception(concept, name, remediation):
    misconception, _ = Misconception.objects.get_or_create(
        concept=concept, name=name, defaults={"remediation": remediation}
    )
    return misconception


@transaction.atomic
def demo_course_load(*, author) -> Course:
    course, _ = Course.objects.get_or_create(
        slug=COURSE_SLUG,
        defaults={
            "title": "UK driving theory",
            "description": "Road signs, stopping distances and hazards for the UK theory test.",
            "language": "en-GB",
            "jurisdiction": "GB",
            "default_algorithm": "sm2",
            "is_published": True,
        },
    )
    signs, _ = Unit.objects.get_or_create(
        course=course, title="Road signs", defaults={"position": 1}
    )
    speed, _ = Unit.objects.get_or_create(
        course=course, title="Speed and stopping", defaults={"position": 2}
    )
    sign_shapes = _concept(course, signs, "Sign shapes", 1, "Circles order, triangles warn.")
    speed_limits = _concept(course, speed, "National speed limits", 2)
    stopping = _concept(course, speed, "Stopping distances", 3)
    hazards = _concept(course, speed, "Hazard perception", 4)
    concept_prerequisites_set(concept=stopping, prerequisites=[speed_limits])
    concept_prerequisites_set(concept=hazards, prerequisites=[stopping, sign_shapes])

    linear = _misconception(
        stopping,
        "Stopping distance grows linearly with speed",
        "Braking distance grows with the square of speed: double the speed, four times the "
        "braking distance.",
    )
    triangle_orders = _misconception(
        sign_shapes,
        "Triangular signs give orders",
        "Triangles warn; circles give orders; rectangles inform.",
    )
    motorway_70_everywhere = _misconception(
        speed_limits,
        "70 mph applies on every road without a sign",
        "70 mph is for dual carriageways and motorways; single carriageways are 60 mph.",
    )

    atoms = [
        dict(
            title="Circle signs",
            atom_type="flashcard",
            content={
                "front": "What does a circular road sign usually do?",
                "back": "It gives an order.",
                "hint": "Think: must, must not.",
            },
            grading_logic={"pass_quality": 3},
            weights=[(sign_shapes, 1.0)],
        ),
        dict(
            title="Meaning of triangular signs",
            atom_type="mcq",
            content={
                "prompt": "What do triangular road signs mostly do?",
                "explanation": "Triangles warn of hazards ahead.",
            },
            grading_logic={},
            options=[
                {
                    "text": "Give orders",
                    "feedback": "Orders come in circles.",
                    "misconception": triangle_orders,
                },
                {"text": "Warn of a hazard", "is_correct": True},
                {"text": "Give directions", "feedback": "Directions are on rectangles."},
            ],
            weights=[(sign_shapes, 1.0)],
        ),
        dict(
            title="Single carriageway limit",
            atom_type="mcq",
            content={"prompt": "National speed limit for a car on a single carriageway?"},
            grading_logic={},
            options=[
                {"text": "50 mph", "feedback": "Too low for the national limit."},
                {"text": "60 mph", "is_correct": True},
                {
                    "text": "70 mph",
                    "feedback": "70 is for dual carriageways and motorways.",
                    "misconception": motorway_70_everywhere,
                },
            ],
            weights=[(speed_limits, 1.0)],
        ),
        dict(
            title="What increases stopping distance",
            atom_type="multi_select",
            content={"prompt": "Which of these increase your overall stopping distance?"},
            grading_logic={"scoring": "partial"},
            options=[
                {"text": "Wet roads", "is_correct": True},
                {"text": "Higher speed", "is_correct": True},
                {"text": "Tiredness", "is_correct": True},
                {"text": "New tyres", "feedback": "Good tyres shorten braking."},
            ],
            weights=[(stopping, 1.0)],
        ),
        dict(
            title="Doubling speed",
            atom_type="true_false",
            content={"statement": "Doubling your speed doubles your braking distance."},
            grading_logic={
                "answer": False,
                "misconception_id": str(linear.pk),
                "feedback_wrong": "It quadruples.",
            },
            weights=[(stopping, 1.0)],
        ),
        dict(
            title="Two-second rule",
            atom_type="cloze",
            content={
                "text": "In good conditions keep at least a {{1}}-second gap; "
                "in the wet, {{2}} seconds."
            },
            grading_logic={"blanks": [{"accepted": ["two", "2"]}, {"accepted": ["four", "4"]}]},
            weights=[(stopping, 0.6), (hazards, 0.4)],
        ),
        dict(
            title="Stopping distance at 30 mph",
            atom_type="numeric",
            content={
                "prompt": "Typical overall stopping distance at 30 mph, in metres?",
                "unit": "m",
            },
            grading_logic={
                "answer": 23,
                "tolerance": 1,
                "unit_factors": {"ft": 0.3048},
                "wrong_answers": [
                    {
                        "value": 12,
                        "feedback": "That is the braking part only at 20 mph.",
                        "misconception_id": str(linear.pk),
                    }
                ],
            },
            weights=[(stopping, 1.0)],
        ),
        dict(
            title="Sign that informs",
            atom_type="short_text",
            content={"prompt": "Which sign shape gives information (one word)?"},
            grading_logic={
                "accepted": ["rectangle", "rectangular", "oblong"],
                "wrong_answers": [
                    {
                        "text": "triangle",
                        "feedback": "Triangles warn.",
                        "misconception_id": str(triangle_orders.pk),
                    }
                ],
            },
            weights=[(sign_shapes, 1.0)],
        ),
        dict(
            title="Moving off",
            atom_type="parsons",
            content={
                "prompt": "Put the steps for moving off in order.",
                "blocks": [
                    "Check mirrors",
                    "Signal if needed",
                    "Check blind spot",
                    "Release handbrake and move off",
                    "Sound the horn",
                ],
            },
            grading_logic={"correct_order": [0, 1, 2, 3]},
            weights=[(hazards, 1.0)],
        ),
        dict(
            title="Stopping distance parts",
            atom_type="ordering",
            content={
                "prompt": "Order what happens when you brake in an emergency.",
                "items": [
                    "See the hazard",
                    "React (thinking distance)",
                    "Brake (braking distance)",
                    "Stop",
                ],
            },
            grading_logic={"correct_order": [0, 1, 2, 3]},
            weights=[(stopping, 1.0)],
        ),
        dict(
            title="Sign shapes and meanings",
            atom_type="matching",
            content={
                "prompt": "Match each shape to what it does.",
                "left": ["Circle", "Triangle", "Rectangle"],
                "right": ["Gives orders", "Warns", "Informs", "Marks a motorway"],
            },
            grading_logic={
                "pairs": {"Circle": "Gives orders", "Triangle": "Warns", "Rectangle": "Informs"}
            },
            weights=[(sign_shapes, 1.0)],
        ),
    ]
    # Work in progress, so every role has something to do: the author a draft to submit, the
    # reviewer an atom awaiting review, the publisher an approved atom to publish.
    atoms += [
        dict(
            title="Amber light",
            atom_type="mcq",
            status=AtomStatus.DRAFT,
            content={"prompt": "A steady amber traffic light means…"},
            grading_logic={},
            options=[
                {"text": "Stop, unless stopping would be unsafe", "is_correct": True},
                {"text": "Speed up to clear the junction", "misconception": motorway_70_everywhere},
                {"text": "Go if the way is clear"},
            ],
            weights=[(sign_shapes, 0.5)],
        ),
        dict(
            title="Fog lights",
            atom_type="true_false",
            status=AtomStatus.IN_REVIEW,
            content={"statement": "Rear fog lights may be used when visibility is under 100 m."},
            grading_logic={"answer": True},
            weights=[(hazards, 1.0)],
        ),
        dict(
            title="Box junctions",
            atom_type="short_text",
            status=AtomStatus.APPROVED,
            content={"prompt": "What colour are box junction markings?"},
            grading_logic={"accepted": ["yellow"]},
            weights=[(hazards, 1.0)],
        ),
    ]
    for spec in atoms:
        if LearningAtom.objects.filter(title=spec["title"]).exists():
            continue
        atom_create(
            by=author,
            title=spec["title"],
            atom_type=spec["atom_type"],
            content=spec["content"],
            grading_logic=spec["grading_logic"],
            options=spec.get("options", ()),
            concept_weights=[ConceptWeightInput(c, w) for c, w in spec["weights"]],
            tags=["driving", "demo"],
            status=spec.get("status", AtomStatus.PUBLISHED),
            source="system",
        )
    return course
