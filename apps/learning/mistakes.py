"""The learner's open mistakes, read (recorded and cleared by apps/learning/services/mistakes.py
in the attempt's transaction)."""

from collections import defaultdict

from apps.curriculum.models import Course

from .models import Mistake


def mistakes_open(*, learner, course: Course):
    """The learner's open mistakes in ``course``: recorded by v2 on an atom (v1's logs name
    none, and v1 never cleared them: they are history), not cleared yet, not set aside by a
    reset."""
    return Mistake.objects.filter(
        learner=learner,
        concept__course=course,
        atom__isnull=False,
        cleared_at__isnull=True,
        archived_in__isnull=True,
    )


def learner_mistakes_grouped(*, learner, course: Course) -> dict:
    """The learner's open mistakes in ``course`` grouped by concept and misconception (no
    misconception: the chosen answer named none), the biggest group first, in one query.
    Each group lists its atoms, the latest mistake first, with how many correct answers each
    has towards clearing (the lowest of its open mistakes)."""
    rows = (
        mistakes_open(learner=learner, course=course)
        .order_by("-occurred_at", "pk")
        .values_list(
            "concept_id", "concept__text", "misconception_id", "misconception__name",
            "misconception__remediation", "atom_id", "occurred_at", "correct_since",
        )
    )  # fmt: skip
    groups: dict = {}
    atoms_of: dict = defaultdict(dict)
    for concept, text, misconception, name, remediation, atom, at, correct_since in rows:
        key = (concept, misconception)
        group = groups.get(key)
        if group is None:
            group = groups[key] = {
                "concept": {"id": str(concept), "text": text},
                "misconception": None
                if misconception is None
                else {"id": str(misconception), "name": name, "remediation": remediation},
                "mistakes": 0,
                "last_at": at,
                "atoms": [],
            }
        group["mistakes"] += 1
        seen = atoms_of[key].get(atom)
        if seen is None:
            atoms_of[key][atom] = seen = {"atom": str(atom), "mistakes": 0, "correct_since": 2}
            group["atoms"].append(seen)
        seen["mistakes"] += 1
        seen["correct_since"] = min(seen["correct_since"], correct_since)
    ordered = sorted(groups.values(), key=lambda g: (-g["mistakes"], -g["last_at"].timestamp()))
    return {
        "course": str(course.pk),
        "open": sum(g["mistakes"] for g in ordered),
        "atoms": len({a for atoms in atoms_of.values() for a in atoms}),
        "groups": ordered,
    }
