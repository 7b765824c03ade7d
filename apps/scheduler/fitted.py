"""Versioned fitted parameters (FittedModel): recording a new fit and reading the one in use.

Every fitter (FSRS, BKT, IRT) records through ``fitted_model_record``, so versions and the
"enough data" rule work the same for all; the scheduler reads through ``fitted_parameters``.
"""

from django.db import transaction
from django.db.models import Max

from .models import FittedKind, FittedModel


def fitted_model_record(
    *,
    kind: str,
    course,
    parameters: dict,
    samples: int,
    minimum_samples: int,
    metrics: dict | None = None,
    concept=None,
) -> FittedModel:
    """Append the next version for (kind, course, concept). It is put in use only when it was
    fitted on at least ``minimum_samples``; a smaller fit stays as history, and the previous
    version in use (or the defaults) keeps scheduling."""
    if kind not in FittedKind.values:
        raise ValueError(f"Unknown fitted model kind {kind!r}.")
    with transaction.atomic():
        scope = FittedModel.objects.select_for_update().filter(
            kind=kind, course=course, concept=concept
        )
        latest = scope.aggregate(latest=Max("version"))["latest"] or 0
        return FittedModel.objects.create(
            kind=kind,
            course=course,
            concept=concept,
            version=latest + 1,
            parameters=parameters,
            samples=samples,
            metrics=metrics or {},
            in_use=samples >= minimum_samples,
        )


def fitted_model_in_use(*, kind: str, course, concept=None) -> FittedModel | None:
    """The newest version in use for (kind, course, concept), or None (defaults apply)."""
    course_id = getattr(course, "pk", course)
    concept_id = getattr(concept, "pk", concept)
    return (
        FittedModel.objects.filter(
            kind=kind, course_id=course_id, concept_id=concept_id, in_use=True
        )
        .order_by("-version")
        .first()
    )


def fitted_parameters(*, kind: str, course, concept=None) -> dict | None:
    fitted = fitted_model_in_use(kind=kind, course=course, concept=concept)
    return fitted.parameters if fitted is not None else None
