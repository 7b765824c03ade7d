from django.core.files.storage import default_storage
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.openapi import error_response

from .atom_types import atom_type_keys
from .models import LearningAtom
from .selectors import atom_learner_view, atom_search, atoms_for_learners
from .services import TRANSITIONS, atom_transition


class AtomMediaSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["image", "audio"])
    url = serializers.URLField()
    content_type = serializers.CharField()
    alt_text = serializers.CharField()


class LearnerAtomSerializer(serializers.Serializer):
    """The learner-safe rendering. Type-specific fields (prompt, options, blocks...) follow
    the common ones; none of them ever carries an answer."""

    id = serializers.UUIDField()
    atom_type = serializers.ChoiceField(choices=atom_type_keys())
    title = serializers.CharField()
    estimated_time_s = serializers.IntegerField()
    difficulty = serializers.IntegerField()
    concepts = serializers.ListField(child=serializers.UUIDField())
    media = AtomMediaSerializer(many=True)

    def to_representation(self, atom):
        request = self.context.get("request")

        def media_url(file_name: str) -> str:
            url = default_storage.url(file_name)
            return request.build_absolute_uri(url) if request else url

        return atom_learner_view(atom, media_url=media_url)


class AtomFilterSerializer(serializers.Serializer):
    course = serializers.UUIDField(required=False)
    concept = serializers.UUIDField(required=False)
    type = serializers.ChoiceField(choices=atom_type_keys(), required=False)


@extend_schema_view(
    list=extend_schema(
        summary="Published atoms (learner-safe, no answers)",
        tags=["atoms"],
        parameters=[
            OpenApiParameter("course", OpenApiTypes.UUID, description="Only this course."),
            OpenApiParameter("concept", OpenApiTypes.UUID, description="Only this concept."),
            OpenApiParameter("type", str, enum=atom_type_keys(), description="Only this type."),
        ],
    ),
    retrieve=extend_schema(summary="One published atom (learner-safe)", tags=["atoms"]),
)
class AtomViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = LearnerAtomSerializer

    def get_queryset(self):
        atoms = atoms_for_learners().filter(live_concepts__course__is_published=True)
        if self.action != "list":
            return atoms.distinct()
        filters = AtomFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        return (
            atom_search(
                queryset=atoms,
                course=params.get("course"),
                concept=params.get("concept"),
                atom_type=params.get("type", ""),
                live=True,
            )
            .distinct()
            .order_by("title", "id")
        )


class AtomTransitionView(APIView):
    """Staff workflow: submit, approve, request_changes, publish, archive, restore.

    The same services as the admin enforce each permission; an action from the wrong state
    is a 409 ``illegal_transition``.
    """

    @extend_schema_serializer(component_name="AtomTransitionRequest")
    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(choices=list(TRANSITIONS))
        comment = serializers.CharField(required=False, allow_blank=True, default="")

    @extend_schema_serializer(component_name="AtomWorkflowState")
    class OutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        status = serializers.CharField()
        published_revision = serializers.IntegerField(allow_null=True)

    @extend_schema(
        summary="Move an atom through the review workflow (staff)",
        tags=["authoring"],
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            409: error_response("Not allowed from the atom's current state."),
        },
    )
    def post(self, request, atom_id):
        if not request.user.has_perm("content.view_learningatom"):
            raise PermissionDenied("Only content staff can change the workflow.")
        atom = get_object_or_404(LearningAtom, pk=atom_id)
        payload = self.InputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        atom = atom_transition(
            atom=atom,
            action=payload.validated_data["action"],
            by=request.user,
            source="api",
            comment=payload.validated_data["comment"],
        )
        revision = atom.published_revision
        return Response(
            self.OutputSerializer(
                {
                    "id": atom.pk,
                    "status": atom.status,
                    "published_revision": revision.number if revision else None,
                }
            ).data
        )
