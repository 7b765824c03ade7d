"""What grading an answer needs from the content, kept per process: each atom with its
published revision, and its live concepts with their courses. A revision never changes, and
what else is kept changes only with the cache version the content workflow (publish, archive)
and IRT calibration bump (``scheduler.course_candidates``, as next items' candidates), so a
request pays one cache read instead of two queries that decode every revision's snapshot.
Bounded in age like the candidates, for writes that bypass the workflow: past the bound every
kept atom is read again in one statement (up to REFRESH_MAX of them; past that the copy starts
again), not one miss at a time. Dropping them all made each process read every atom again,
one answer's atoms per statement, once a minute: a fifth of the answers in bench/load.

Atoms not published (or unknown) are never kept: they are read each time and refused.
"""

import time

from apps.content.models import AtomStatus, LearningAtom
from apps.core.cache_versions import cache_version

VERSION = "scheduler.course_candidates"
MAX_AGE_S = 60.0
MAX_ATOMS = 20_000  # per process; past it the copy starts again
REFRESH_MAX = 2_000  # kept atoms read again at once when the copy is too old

# atom id → (atom with published_revision, [(concept id, course id)] in concept order)
_kept: dict = {}
_kept_as_of: tuple[str | None, float] = (None, 0.0)


def grading_context(atom_ids) -> tuple[dict, dict]:
    """({atom id: published, unarchived atom}, {atom id: [(concept id, course id)]}) for the
    atoms among ``atom_ids`` learners may answer."""
    global _kept, _kept_as_of
    if not atom_ids:
        return {}, {}
    version = cache_version(VERSION)
    if version != _kept_as_of[0]:
        _kept, _kept_as_of = {}, (version, time.monotonic())
    elif time.monotonic() - _kept_as_of[1] > MAX_AGE_S:  # too old: read the kept atoms again
        again = _kept.keys() | set(atom_ids) if len(_kept) <= REFRESH_MAX else set()
        _kept, _kept_as_of = (_read(again) if again else {}), (version, time.monotonic())
    missing = {a for a in atom_ids if a not in _kept}
    if missing:
        if len(_kept) + len(missing) > MAX_ATOMS:
            _kept = {}
        _kept |= _read(missing)
    found = {a: _kept[a] for a in atom_ids if a in _kept}
    return {a: atom for a, (atom, _) in found.items()}, {
        a: links for a, (_, links) in found.items()
    }


def _read(atom_ids) -> dict:
    atoms = {
        atom.pk: atom
        for atom in LearningAtom.objects.filter(pk__in=atom_ids, published_revision__isnull=False)
        .exclude(status=AtomStatus.ARCHIVED)
        .select_related("published_revision")
    }
    links: dict = {atom_id: [] for atom_id in atoms}
    through = LearningAtom.live_concepts.through.objects.filter(learningatom_id__in=list(atoms))
    for atom_id, concept_id, course_id in through.values_list(
        "learningatom_id", "concept_id", "concept__course_id"
    ).order_by("learningatom_id", "concept_id"):
        links[atom_id].append((concept_id, course_id))
    return {atom_id: (atom, links[atom_id]) for atom_id, atom in atoms.items()}
