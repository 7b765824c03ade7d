"""Admin pages for the review workflow: transition buttons, scheduling, locks, revision
history with diffs and revert. Every action calls the same service as the API."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from ..models import AtomRevision, AtomStatus, LearningAtom, ReviewComment
from ..revision_diff import snapshot_diff
from ..services import (
    TRANSITIONS,
    IllegalTransition,
    atom_lock_acquire,
    atom_lock_release,
    atom_revert,
    atom_schedule,
    atom_transition,
    review_comment_add,
    review_comment_resolve,
)


class TransitionForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 70}), required=False)


class CommentForm(forms.Form):
    field_path = forms.CharField(
        required=False, max_length=120, help_text="Optional field, e.g. content.prompt."
    )
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 70}))
    parent = forms.UUIDField(required=False, widget=forms.HiddenInput)


class ScheduleForm(forms.Form):
    publish_at = forms.DateTimeField(
        required=False, help_text="UTC, e.g. 2026-12-01 09:00. Empty: publish manually."
    )
    expire_at = forms.DateTimeField(required=False, help_text="UTC. Empty: never expires.")


def _refusal(request, exc: Exception) -> None:
    text = exc.messages[0] if isinstance(exc, ValidationError) else str(exc)
    messages.error(request, text)


class AtomWorkflowAdminMixin:
    """Mixed into LearningAtomAdmin."""

    def workflow_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<uuid:object_id>/workflow/<str:action>/", view(self.transition_view),
                 name="content_learningatom_transition"),
            path("<uuid:object_id>/schedule/", view(self.schedule_view),
                 name="content_learningatom_schedule"),
            path("<uuid:object_id>/lock/", view(self.lock_view), name="content_learningatom_lock"),
            path("<uuid:object_id>/comments/", view(self.comments_view),
                 name="content_learningatom_comments"),
            path("<uuid:object_id>/revisions/", view(self.revisions_view),
                 name="content_learningatom_revisions"),
            path("<uuid:object_id>/revisions/<int:number>/revert/", view(self.revert_view),
                 name="content_learningatom_revert"),
        ]  # fmt: skip

    def _change_url(self, atom) -> str:
        return reverse("admin:content_learningatom_change", args=[atom.pk])

    def _context(self, request, atom, title: str) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": atom,
            "title": title,
        }

    def transition_view(self, request, object_id, action):
        atom = get_object_or_404(LearningAtom, pk=object_id)
        transition = TRANSITIONS.get(action)
        if transition is None or not self.has_view_or_change_permission(request, atom):
            raise PermissionDenied
        form = TransitionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                atom_transition(
                    atom=atom,
                    action=action,
                    by=request.user,
                    source="admin",
                    comment=form.cleaned_data["comment"],
                )
            except (IllegalTransition, PermissionDenied, ValidationError) as exc:
                _refusal(request, exc)
            else:
                messages.success(
                    request, f"{transition.label}: “{atom.title}” is now {atom.status}."
                )
            return redirect(self._change_url(atom))
        context = self._context(request, atom, f"{transition.label}: {atom.title}")
        context |= {"form": form, "transition": transition}
        return TemplateResponse(request, "admin/content/learningatom/transition.html", context)

    def schedule_view(self, request, object_id):
        atom = get_object_or_404(LearningAtom, pk=object_id)
        if not self.has_view_or_change_permission(request, atom):
            raise PermissionDenied
        initial = {"publish_at": atom.publish_at, "expire_at": atom.expire_at}
        form = ScheduleForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                atom_schedule(atom=atom, by=request.user, source="admin", **form.cleaned_data)
            except (IllegalTransition, PermissionDenied, ValidationError) as exc:
                _refusal(request, exc)
            else:
                messages.success(request, "Schedule saved.")
            return redirect(self._change_url(atom))
        context = self._context(request, atom, f"Schedule: {atom.title}") | {"form": form}
        return TemplateResponse(request, "admin/content/learningatom/schedule.html", context)

    def lock_view(self, request, object_id):
        atom = get_object_or_404(LearningAtom, pk=object_id)
        if request.method != "POST" or not self.has_change_permission(request, atom):
            raise PermissionDenied
        try:
            if request.POST.get("release"):
                atom_lock_release(atom=atom, by=request.user)
                messages.success(request, "Lock released.")
            else:
                lock = atom_lock_acquire(atom=atom, by=request.user)
                messages.success(
                    request, f"You hold the edit lock until {lock.expires_at:%H:%M} UTC."
                )
        except (PermissionDenied, ValidationError) as exc:
            _refusal(request, exc)
        return redirect(self._change_url(atom))

    def comments_view(self, request, object_id):
        """Review comments on the whole atom or a field: add, reply, resolve."""
        atom = get_object_or_404(LearningAtom, pk=object_id)
        if not self.has_view_or_change_permission(request, atom):
            raise PermissionDenied
        can_comment = request.user.has_perm("content.add_reviewcomment")
        form = CommentForm(request.POST or None)
        if request.method == "POST":
            if not can_comment:
                raise PermissionDenied
            resolve_id = request.POST.get("resolve")
            if resolve_id:
                comment = get_object_or_404(ReviewComment, pk=resolve_id, atom=atom)
                review_comment_resolve(comment=comment, by=request.user)
                messages.success(request, "Comment resolved.")
                return redirect(request.path)
            if form.is_valid():
                parent_id = form.cleaned_data["parent"]
                parent = ReviewComment.objects.filter(pk=parent_id, atom=atom).first()
                try:
                    review_comment_add(
                        atom=atom,
                        by=request.user,
                        body=form.cleaned_data["body"],
                        field_path=form.cleaned_data["field_path"],
                        parent=parent,
                    )
                except ValidationError as exc:
                    _refusal(request, exc)
                else:
                    messages.success(request, "Comment added.")
                return redirect(request.path)
        threads = (
            atom.review_comments.filter(parent__isnull=True)
            .select_related("author", "resolved_by", "revision")
            .prefetch_related("replies__author")
        )
        context = self._context(request, atom, f"Review comments: {atom.title}") | {
            "threads": threads,
            "form": form,
            "can_comment": can_comment,
        }
        return TemplateResponse(request, "admin/content/learningatom/comments.html", context)

    def revisions_view(self, request, object_id):
        atom = get_object_or_404(LearningAtom, pk=object_id)
        if not self.has_view_or_change_permission(request, atom):
            raise PermissionDenied
        revisions = list(atom.revisions.select_related("created_by").order_by("-number"))
        by_number = {r.number: r for r in revisions}
        context = self._context(request, atom, f"History: {atom.title}") | {
            "revisions": revisions,
            "published_number": atom.published_revision.number if atom.published_revision else None,
            "can_revert": self.has_change_permission(request, atom),
        }
        older, newer = request.GET.get("a"), request.GET.get("b")
        if older and newer and older.isdigit() and newer.isdigit():
            a, b = by_number.get(int(older)), by_number.get(int(newer))
            if a and b:
                context |= {
                    "diff_a": a,
                    "diff_b": b,
                    "changes": snapshot_diff(a.snapshot, b.snapshot),
                }
        return TemplateResponse(request, "admin/content/learningatom/revisions.html", context)

    def revert_view(self, request, object_id, number):
        atom = get_object_or_404(LearningAtom, pk=object_id)
        revision = get_object_or_404(AtomRevision, atom=atom, number=number)
        if request.method != "POST" or not self.has_change_permission(request, atom):
            raise PermissionDenied
        try:
            new = atom_revert(atom=atom, revision=revision, by=request.user, source="admin")
        except ValidationError as exc:
            _refusal(request, exc)
        else:
            messages.success(
                request, f"Reverted to revision {number} as new revision {new.number}."
            )
        return redirect(self._change_url(atom))

    # --- bulk actions on the list ---------------------------------------------------------
    def _bulk(self, request, queryset, action: str) -> None:
        done, refused = 0, []
        for atom in queryset.order_by("pk"):
            try:
                atom_transition(atom=atom, action=action, by=request.user, source="admin")
                done += 1
            except (IllegalTransition, PermissionDenied, ValidationError) as exc:
                refused.append(
                    f"{atom.title}: {exc.messages[0] if isinstance(exc, ValidationError) else exc}"
                )
        label = TRANSITIONS[action].label
        if done:
            messages.success(request, f"{label}: {done} atom(s).")
        for reason in refused[:20]:
            messages.warning(request, reason)
        if len(refused) > 20:
            messages.warning(request, f"…and {len(refused) - 20} more refused.")


class QueueFilter:
    """The reviewer's and author's queues, as a list filter."""

    @staticmethod
    def lookups():
        return (
            ("awaiting_my_review", "Awaiting my review"),
            ("my_drafts", "My drafts"),
            ("changes_requested", "Changes requested (mine)"),
            ("flagged", "Flagged by item statistics"),
        )

    @staticmethod
    def apply(queryset, value: str, user):
        if value == "awaiting_my_review":
            return queryset.filter(status=AtomStatus.IN_REVIEW).exclude(
                Q(created_by=user) | Q(last_edited_by=user)
            )
        if value == "my_drafts":
            return queryset.filter(status=AtomStatus.DRAFT).filter(
                Q(created_by=user) | Q(last_edited_by=user)
            )
        if value == "changes_requested":
            return (
                queryset.filter(status=AtomStatus.DRAFT, created_by=user)
                .annotate(
                    open_requests=Count(
                        "review_comments",
                        filter=Q(
                            review_comments__is_change_request=True,
                            review_comments__resolved_at__isnull=True,
                        ),
                    )
                )
                .filter(open_requests__gt=0)
            )
        if value == "flagged":
            return queryset.exclude(review_flag="")
        return queryset
