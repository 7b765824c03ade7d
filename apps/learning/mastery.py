"""A concept's mastery status from the scheduler's beliefs. Pure: no Django.

The threshold is the course's ``mastery_threshold`` (apps/curriculum/models.py, 0.8 by
default), the same number next items gates new material with
(apps/scheduler/selectors.py: a concept's new atoms are offered once every prerequisite
reaches it). Defined once, per course: a concept shown as locked here is exactly one whose new
atoms next items holds back, and one shown as mastered unlocks its dependents there.

Statuses, in the order they are decided:

- ``mastered``: P(known) ≥ the threshold. Mastered wins over locked: a learner who already
  knows a concept (a placement seeded it, or a prerequisite's P(known) fell back since) knows
  it, and next items keeps reviewing the atoms they have seen whatever the prerequisites.
- ``locked``: a prerequisite's P(known) is under the threshold.
- ``learning``: everything else (open to study, practised or not yet).
"""

from collections.abc import Iterable, Mapping

MASTERED = "mastered"
LOCKED = "locked"
LEARNING = "learning"
STATUSES = (LOCKED, LEARNING, MASTERED)


def concept_status(
    p_known: float,
    prerequisites: Iterable,
    knowledge: Mapping,
    threshold: float,
) -> tuple[str, list]:
    """(status, the prerequisites under the threshold) of a concept whose P(known) is
    ``p_known``; ``knowledge`` maps every prerequisite to its P(known)."""
    unmastered = [p for p in prerequisites if knowledge[p] < threshold]
    if p_known >= threshold:
        return MASTERED, unmastered
    return (LOCKED if unmastered else LEARNING), unmastered
