"""Reads of learning atoms: snapshots for grading, learner-safe renderings, editor search."""

import hashlib
import hmac

from django.conf import settings
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet

from .atom_types import AtomSnapshot, OptionData, get_atom_type
from .models import AtomMedia, AtomResponseOption, AtomStatus, LearningAtom


def atom_snapshot(atom: LearningAtom) -> AtomSnapshot:
    """Plain-data view of an atom (uses prefetched options when present)."""
    options = tuple(
        OptionData(
            index=o.option_index,
            text=o.text,
            is_correct=o.is_correct,
            feedback=o.feedback,
            misconception_id=o.misconception_id,
        )
        for o in sorted(atom.options.all(), key=lambda o: o.option_index)
    )
    return AtomSnapshot(
        id=str(atom.pk),
        atom_type=atom.atom_type,
        content=atom.content,
        grading_logic=atom.grading_logic,
        options=options,
        display_seed=atom_display_seed(atom.pk),
    )


def atom_display_seed(atom_id) -> str:
    """Secret per-atom seed for display shuffles. Changing CONTENT_SHUFFLE_SECRET reshuffles
    every rendering, so answers from clients holding older renderings would be misread."""
    key = settings.CONTENT_SHUFFLE_SECRET.encode()
    return hmac.new(key, str(atom_id).encode(), hashlib.sha256).hexdigest()


def atom_learner_view(atom: LearningAtom, *, media_url=None) -> dict:
    """The learner-safe rendering: the type's fields plus metadata. Never any answer."""
    snapshot = atom_snapshot(atom)
    kind = get_atom_type(atom.atom_type)
    content, _ = kind.validate(snapshot.content, snapshot.grading_logic, snapshot.options)
    return {
        "id": str(atom.pk),
        "atom_type": atom.atom_type,
        "title": atom.title,
        "estimated_time_s": atom.estimated_time_s,
        "difficulty": atom.difficulty,
        "concepts": [str(w.concept_id) for w in atom.concept_weights.all()],
        "media": [
            {
                "kind": m.kind,
                "url": media_url(m) if media_url else m.file.url,
                "content_type": m.content_type,
                "alt_text": m.alt_text,
            }
            for m in atom.media.all()
        ],
        **kind.render(snapshot, content),
    }


def atoms_for_learners() -> QuerySet[LearningAtom]:
    """Published atoms with what rendering needs, prefetched (a fixed number of queries)."""
    return LearningAtom.objects.filter(status=AtomStatus.PUBLISHED).prefetch_related(
        Prefetch("options", queryset=AtomResponseOption.objects.order_by("option_index")),
        Prefetch("media", queryset=AtomMedia.objects.order_by("position", "created_at")),
        "concept_weights",
    )


def atom_search(
    *,
    text: str = "",
    atom_type: str = "",
    status: str = "",
    concept=None,
    course=None,
    tag: str = "",
    difficulty: int | None = None,
    queryset: QuerySet[LearningAtom] | None = None,
) -> QuerySet[LearningAtom]:
    """Editors' atom search. Full-text (GIN-indexed) on PostgreSQL, icontains on SQLite."""
    atoms = queryset if queryset is not None else LearningAtom.objects.all()
    if atom_type:
        atoms = atoms.filter(atom_type=atom_type)
    if status:
        atoms = atoms.filter(status=status)
    if concept:
        atoms = atoms.filter(concept_weights__concept=concept)
    if course:
        atoms = atoms.filter(concept_weights__concept__course=course)
    if tag:
        atoms = atoms.filter(tags__name=tag)
    if difficulty:
        atoms = atoms.filter(difficulty=difficulty)
    if text:
        atoms = _text_filter(atoms, text)
    return atoms.distinct() if (concept or course or tag) else atoms


def _text_filter(atoms: QuerySet[LearningAtom], text: str) -> QuerySet[LearningAtom]:
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery

        from .search_indexes import SEARCH_CONFIG, atom_search_vector

        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        return atoms.annotate(search=atom_search_vector()).filter(search=query)
    words = text.split()
    for word in words:
        atoms = atoms.filter(Q(title__icontains=word) | Q(search_text__icontains=word))
    return atoms
