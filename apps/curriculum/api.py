from django.db.models import Count, Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from .models import Concept, Course, Unit


class UnitSerializer(serializers.ModelSerializer):
    concepts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Unit
        fields = ("id", "title", "description", "position", "concepts")


class ConceptSerializer(serializers.ModelSerializer):
    prerequisites = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    published_atom_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Concept
        fields = (
            "id",
            "text",
            "translation",
            "description",
            "difficulty",
            "prerequisites",
            "published_atom_count",
        )


class CourseListSerializer(serializers.ModelSerializer):
    unit_count = serializers.IntegerField(read_only=True)
    concept_count = serializers.IntegerField(read_only=True)
    published_atom_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Course
        fields = (
            "id",
            "slug",
            "title",
            "description",
            "language",
            "jurisdiction",
            "default_algorithm",
            "unit_count",
            "concept_count",
            "published_atom_count",
        )


class CourseDetailSerializer(CourseListSerializer):
    units = UnitSerializer(many=True, read_only=True)
    concepts = ConceptSerializer(many=True, read_only=True)

    class Meta(CourseListSerializer.Meta):
        fields = (*CourseListSerializer.Meta.fields, "units", "concepts")


@extend_schema_view(
    list=extend_schema(summary="Published courses", tags=["curriculum"]),
    retrieve=extend_schema(
        summary="A published course with its units and concepts", tags=["curriculum"]
    ),
)
class CourseViewSet(viewsets.ReadOnlyModelViewSet):
    def get_queryset(self):
        courses = Course.objects.filter(is_published=True).annotate(
            unit_count=Count("units", distinct=True),
            concept_count=Count("concepts", distinct=True),
            published_atom_count=Count("concepts__live_atoms", distinct=True),
        )
        if self.action == "retrieve":
            concepts = Concept.objects.annotate(
                published_atom_count=Count("live_atoms", distinct=True)
            ).prefetch_related("prerequisites")
            courses = courses.prefetch_related(
                Prefetch("units", queryset=Unit.objects.prefetch_related("concepts")),
                Prefetch("concepts", queryset=concepts),
            )
        return courses

    def get_serializer_class(self):
        return CourseDetailSerializer if self.action == "retrieve" else CourseListSerializer
