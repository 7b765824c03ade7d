"""Writes: badge definitions (the admin calls these) and awarding badges.

Badges are awarded after the commit of the change that moved a figure: the attempt service,
session completion and mock-test marking announce it through
``apps/core/signals.py: learner_figures_changed`` (sent from ``transaction.on_commit``), and
``badges_check`` awards what the learner's figures now reach. Exactly once: LearnerBadge is
unique per (learner, badge), so two checks racing each other store one row and only the one
that stored it records the ``badge_earned`` analytics event.
"""

import logging

from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.content.media_validation import media_type_validate
from apps.core.services import audit_record

from .models import Badge, BadgeRule, LearnerBadge
from .selectors import active_badges, active_badges_forget, figure_of, learner_figures

logger = logging.getLogger(__name__)

ICON_MAX_BYTES = 1_000_000


def badge_icon_validate(icon) -> None:
    """PNG, JPEG, GIF or WebP (sniffed from the bytes, as content media are), ≤ 1 MB."""
    if icon is None or not hasattr(icon, "read"):
        return
    try:
        media = media_type_validate(icon)
    except ValidationError as exc:
        raise ValidationError({"icon": exc.messages}) from None
    if media.kind != "image":
        raise ValidationError({"icon": ["An icon must be an image: PNG, JPEG, GIF or WebP."]})
    if icon.size is not None and icon.size > ICON_MAX_BYTES:
        raise ValidationError({"icon": [f"An icon is at most {ICON_MAX_BYTES} bytes."]})


def badge_validate(badge: Badge) -> None:
    """The rule's course (required for concepts mastered, allowed for mock tests passed, else
    refused) and the icon; the admin form shows these errors in place."""
    if badge.rule == BadgeRule.CONCEPTS_MASTERED and badge.course_id is None:
        raise ValidationError({"course": ["A concepts-mastered badge needs a course."]})
    if badge.course_id and badge.rule not in (
        BadgeRule.CONCEPTS_MASTERED,
        BadgeRule.MOCK_TESTS_PASSED,
    ):
        raise ValidationError(
            {"course": ["Only concepts-mastered and mock-tests-passed badges take a course."]}
        )
    if not badge.icon:
        raise ValidationError({"icon": ["Upload an icon."]})
    if not badge.icon._committed:  # a new upload: check its bytes
        badge_icon_validate(badge.icon.file)


def badge_save(*, badge: Badge, by) -> Badge:
    """Create or change a badge definition (validated, audited); active badges are re-read."""
    badge_validate(badge)
    badge.full_clean(exclude=["icon"])
    created = badge._state.adding
    with transaction.atomic():
        badge.save()
        audit_record(
            actor=by,
            source="admin",
            action="badge_created" if created else "badge_changed",
            target=badge,
            details={"rule": badge.rule, "threshold": badge.threshold, "active": badge.is_active},
        )
        transaction.on_commit(active_badges_forget)
    return badge


def badge_delete(*, badge: Badge, by) -> None:
    with transaction.atomic():
        audit_record(
            actor=by,
            source="admin",
            action="badge_deleted",
            target=badge,
            details={"name": badge.name},
        )
        badge.delete()
        transaction.on_commit(active_badges_forget)


def badges_check(*, learner, kinds=None) -> list[LearnerBadge]:
    """Award the active badges of rules ``kinds`` (all when None) that the learner's figures
    reach and they have not earned yet; returns the awards made now.

    Meant to run after the commit of the change (it reads committed figures). Costs nothing
    when no active badge has one of ``kinds``; else one query for what the learner earned, one
    per rule for the figures, and one insert per badge earned now."""
    candidates = [b for b in active_badges() if kinds is None or b.rule in kinds]
    if not candidates:
        return []
    earned = set(
        LearnerBadge.objects.filter(
            learner=learner, badge_id__in=[b.pk for b in candidates]
        ).values_list("badge_id", flat=True)
    )
    todo = [b for b in candidates if b.pk not in earned]
    if not todo:
        return []
    figures = learner_figures(learner, todo)
    awards = []
    for badge in todo:
        figure = figure_of(figures, badge)
        if figure < badge.threshold:
            continue
        award = _award(learner, badge, figure)
        if award is not None:
            awards.append(award)
    return awards


def _award(learner, badge, figure: int) -> LearnerBadge | None:
    try:
        with transaction.atomic():
            award = LearnerBadge.objects.create(
                learner=learner, badge_id=badge.pk, earned_at=timezone.now(), figure=figure
            )
            _badge_earned_event(learner, badge)
    except IntegrityError:
        return None  # another check awarded it first: once only
    return award


def _badge_earned_event(learner, badge) -> None:
    if not django_apps.is_installed("apps.analytics"):
        return
    from apps.analytics.services import event_record

    event_record("badge_earned", learner=learner, badge=str(badge.pk), rule=badge.rule)


def figures_changed_receiver(sender, *, learner, kinds, **kwargs) -> None:
    """``learner_figures_changed`` → ``badges_check``. A failure here must not turn the
    committed answer's response into an error: it is logged, and the next change of the same
    figure checks again (nothing is lost: the rule reads figures, not events)."""
    try:
        badges_check(learner=learner, kinds=kinds)
    except Exception:  # logged: the answer is committed already
        logger.exception("Badge check failed for learner %s (%s)", learner.pk, sorted(kinds or []))
