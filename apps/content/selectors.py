"""Reads of learning atoms: snapshots for grading, learner-safe renderings, editor search."""

import hashlib
import hmac
import uuid
from collections import OrderedDict

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Q, QuerySet

from .atom_types import AtomSnapshot, OptionData, get_atom_type
from .models import AtomRevision, AtomStatus, LearningAtom


def atom_working_snapshot(atom: LearningAtom) -> dict:
    """The working copy as a revision snapshot (JSON): payload, options, links and metadata."""
    from .services.atoms import ATOM_METADATA_FIELDS

    return {
        "title": atom.title,
        "atom_type": atom.atom_type,
        "content": atom.content,
        "grading_logic": atom.grading_logic,
        "options": [
            {
                "index": o.option_index,
                "text": o.text,
                "is_correct": o.is_correct,
                "feedback": o.feedback,
                "misconception": str(o.misconception_id) if o.misconception_id else None,
            }
            for o in sorted(atom.options.all(), key=lambda o: o.option_index)
        ],
        "concepts": [
            {"concept": str(w.concept_id), "weight": w.weight}
            for w in sorted(atom.concept_weights.all(), key=lambda w: str(w.concept_id))
        ],
        "tags": sorted(t.name for t in atom.tags.all()),
        "media": [
            {
                "kind": m.kind,
                "file": m.file.name,
                "content_type": m.content_type,
                "alt_text": m.alt_text,
            }
            for m in sorted(atom.media.all(), key=lambda m: (m.position, m.created_at))
        ],
        "metadata": {name: getattr(atom, name) for name in ATOM_METADATA_FIELDS},
    }


def revision_atom_snapshot(revision) -> AtomSnapshot:
    """What grading and rendering need, from a pinned revision (not the working copy)."""
    snapshot = revision.snapshot
    return AtomSnapshot(
        id=str(revision.atom_id),
        atom_type=snapshot["atom_type"],
        content=snapshot["content"],
        grading_logic=snapshot["grading_logic"],
        options=tuple(
            OptionData(
                index=o["index"],
                text=o["text"],
                is_correct=o["is_correct"],
                feedback=o.get("feedback", ""),
                misconception_id=o.get("misconception"),
            )
            for o in snapshot["options"]
        ),
        display_seed=atom_display_seed(revision.atom_id),
    )


def atom_snapshot(atom: LearningAtom) -> AtomSnapshot:
    """Plain-data view of an atom's working copy (uses prefetched options when present)."""
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
    """The learner-safe rendering of the *published* revision. Never any answer.

    Precondition: ``atom.published_revision`` is set (``atoms_for_learners`` ensures it).
    """
    return revision_learner_view(atom.published_revision, media_url=media_url)


_VIEWS_KEPT = 4096  # renderings kept per process (a few MB)
_views: OrderedDict = OrderedDict()  # revision id → rendering, media URLs as storage gives them


def revisions_learner_views(revision_ids) -> dict[str, dict]:
    """The learner-safe rendering of each revision, by its id as given. A revision never
    changes, so its rendering is kept per process and only unseen ones are read (one query);
    media URLs are the storage's (relative for local media): absolutize per request."""
    # Kept by UUID: callers give ids as text in the database's form (SQLite drops the dashes).
    wanted = {r: r if isinstance(r, uuid.UUID) else uuid.UUID(str(r)) for r in revision_ids}
    missing = [key for key in wanted.values() if key not in _views]
    if missing:
        for revision in AtomRevision.objects.filter(pk__in=missing).only("atom_id", "number",
                                                                           "snapshot"):  # fmt: skip
            _views[revision.pk] = revision_learner_view(revision)
    found = {}
    for given, key in wanted.items():
        if key in _views:
            _views.move_to_end(key)
            found[str(given)] = _views[key]
    while len(_views) > _VIEWS_KEPT:
        _views.popitem(last=False)
    return found


def revision_learner_view(revision: AtomRevision, *, media_url=None) -> dict:
    """The learner-safe rendering of one revision (see ``atom_learner_view``)."""
    snapshot = revision_atom_snapshot(revision)
    kind = get_atom_type(snapshot.atom_type)
    content, _ = kind.validate(snapshot.content, snapshot.grading_logic, snapshot.options)
    metadata = revision.snapshot["metadata"]
    return {
        "id": str(revision.atom_id),
        "atom_type": snapshot.atom_type,
        "revision": revision.number,
        "title": revision.snapshot["title"],
        "estimated_time_s": metadata["estimated_time_s"],
        "difficulty": metadata["difficulty"],
        "concepts": [link["concept"] for link in revision.snapshot["concepts"]],
        "media": [
            {
                "kind": m["kind"],
                "url": media_url(m["file"]) if media_url else default_storage.url(m["file"]),
                "content_type": m["content_type"],
                "alt_text": m["alt_text"],
            }
            for m in revision.snapshot.get("media", [])
        ],
        **kind.render(snapshot, content),
    }


def atoms_for_learners() -> QuerySet[LearningAtom]:
    """Atoms with a published revision that are not archived, with what rendering needs
    (a fixed number of queries). A published atom being re-edited stays visible as published.
    """
    return (
        LearningAtom.objects.filter(published_revision__isnull=False)
        .exclude(status=AtomStatus.ARCHIVED)
        .select_related("published_revision")
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
    live: bool = False,
) -> QuerySet[LearningAtom]:
    """Atom search. Full-text (GIN-indexed) on PostgreSQL, icontains on SQLite.

    ``live`` filters concepts and courses by the published revision's links (learners);
    otherwise by the working copy's (editors).
    """
    links = "live_concepts" if live else "concept_weights__concept"
    atoms = queryset if queryset is not None else LearningAtom.objects.all()
    if atom_type:
        atoms = atoms.filter(atom_type=atom_type)
    if status:
        atoms = atoms.filter(status=status)
    if concept:
        atoms = atoms.filter(**{links: concept})
    if course:
        atoms = atoms.filter(**{f"{links}__course": course})
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


def atom_export_record(atom: LearningAtom) -> dict:
    """The working copy as a portable import/export record (concepts by course slug + text).

    Atoms without an external id export their own id, so re-importing updates them.
    """
    snapshot = atom_working_snapshot(atom)
    return {
        "external_id": atom.external_id or str(atom.pk),
        "title": snapshot["title"],
        "atom_type": snapshot["atom_type"],
        "content": snapshot["content"],
        "grading_logic": snapshot["grading_logic"],
        "options": snapshot["options"],
        "concepts": [
            {"course": w.concept.course.slug, "concept": w.concept.text, "weight": w.weight}
            for w in sorted(atom.concept_weights.all(), key=lambda w: (w.concept.text, w.weight))
        ],
        "tags": snapshot["tags"],
        "metadata": snapshot["metadata"],
    }


def atoms_for_export(queryset: QuerySet[LearningAtom]) -> QuerySet[LearningAtom]:
    return queryset.prefetch_related(
        "options", "tags", "concept_weights__concept__course"
    ).order_by("title", "pk")


def atoms_export_file(queryset: QuerySet[LearningAtom], file_format: str) -> tuple[str, str, str]:
    """(body, content type, file suffix) of the atoms in ``file_format`` (json, csv or gift).

    GIFT carries five types; what it cannot represent is listed in comments at the top.
    """
    from .interchange.gift import export_gift
    from .interchange.records import records_to_csv, records_to_json

    records = [atom_export_record(atom) for atom in atoms_for_export(queryset)]
    if file_format == "csv":
        return records_to_csv(records), "text/csv", "csv"
    if file_format == "gift":
        text, skipped = export_gift(records)
        notes = "".join(f"// not exported: {name}: {reason}\n" for name, reason in skipped)
        return notes + text, "text/plain", "gift.txt"
    return records_to_json(records), "application/json", "json"
