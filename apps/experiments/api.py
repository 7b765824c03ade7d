"""Experiments for staff who read them: GET /api/v1/experiments/ (the definitions, for
``experiments.view_experiment``) and GET /api/v1/experiments/{id}/analysis/ (the admin analysis
page's figures, ``selectors.experiment_analysis``, for ``view_experiment_analysis``). Reads
only."""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from .models import AssignedBy, Experiment
from .permissions import ANALYSIS_PERMISSION, VIEW_PERMISSION
from .selectors import METRICS, experiment_analysis, experiments_list

METRIC_NAMES = [name for name, _ in METRICS]  # settings' ENUM_NAME_OVERRIDES names the enum


class CanViewExperiments(BasePermission):
    message = "Reading experiments needs the experiments.view_experiment permission."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(VIEW_PERMISSION)


class CanReadAnalysis(BasePermission):
    message = "Reading an experiment's analysis needs the view_experiment_analysis permission."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(ANALYSIS_PERMISSION)


@extend_schema_serializer(component_name="ExperimentArm")
class ArmSerializer(serializers.Serializer):
    key = serializers.CharField()
    algorithm = serializers.CharField(help_text="Blank: the course's own algorithm.")
    parameters = serializers.DictField(help_text="Overrides of the course's policy.")
    weight = serializers.IntegerField(help_text="Share of the traffic: weight / sum of weights.")
    is_control = serializers.BooleanField()


@extend_schema_serializer(component_name="Experiment")
class ExperimentSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    course = serializers.UUIDField(source="course_id", allow_null=True,
                                   help_text="Null: every course.")  # fmt: skip
    hypothesis = serializers.CharField()
    assigned_by = serializers.ChoiceField(
        choices=AssignedBy.choices,
        help_text="hash: at the first session start in the course, by a hash of the learner; "
        "rollout: a period of the v1-versus-adaptive rollout, by the learner's cohort.",
    )
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(help_text="Exclusive.")
    running = serializers.BooleanField()
    learners = serializers.IntegerField(help_text="Learners assigned so far.")
    arms = ArmSerializer(many=True)


@extend_schema_serializer(component_name="ExperimentComparison")
class ComparisonSerializer(serializers.Serializer):
    difference = serializers.FloatField(allow_null=True, help_text="Arm minus control.")
    low = serializers.FloatField(allow_null=True, help_text="95% interval of the difference.")
    high = serializers.FloatField(allow_null=True)
    z = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField(allow_null=True, help_text="Two-sided.")
    note = serializers.CharField(help_text="Why nothing was computed, when p_value is null.")


@extend_schema_serializer(component_name="ExperimentMetricValue")
class MetricValueSerializer(serializers.Serializer):
    """A proportion (successes of trials, Wilson interval) or, for reviews per learner, a
    mean over ``n`` learners (normal interval)."""

    estimate = serializers.FloatField(allow_null=True, help_text="Rate or mean; null: no data.")
    low = serializers.FloatField(allow_null=True, help_text="95% interval.")
    high = serializers.FloatField(allow_null=True)
    successes = serializers.IntegerField(allow_null=True, help_text="Proportions only.")
    trials = serializers.IntegerField(help_text="Proportions: trials; the mean: learners.")


@extend_schema_serializer(component_name="ExperimentMetric")
class MetricSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=METRIC_NAMES)
    label = serializers.CharField()
    value = MetricValueSerializer()
    vs_control = ComparisonSerializer(allow_null=True, help_text="Null for the control.")


@extend_schema_serializer(component_name="ExperimentArmAnalysis")
class ArmAnalysisSerializer(ArmSerializer):
    learners = serializers.IntegerField()
    metrics = MetricSerializer(many=True)


@extend_schema_serializer(component_name="ExperimentSampleRatio")
class SampleRatioSerializer(serializers.Serializer):
    observed = serializers.ListField(child=serializers.IntegerField(),
                                     help_text="Learners per arm, in the arms' order.")  # fmt: skip
    expected = serializers.ListField(child=serializers.FloatField())
    chi_square = serializers.FloatField(allow_null=True)
    degrees_of_freedom = serializers.IntegerField()
    p_value = serializers.FloatField(allow_null=True)
    mismatch = serializers.BooleanField(help_text="p below alpha: the split is not followed.")
    alpha = serializers.FloatField()
    note = serializers.CharField()


@extend_schema_serializer(component_name="ExperimentAnalysis")
class AnalysisSerializer(serializers.Serializer):
    experiment = ExperimentSerializer()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField(help_text="The end, or now while it runs.")
    running = serializers.BooleanField()
    learners = serializers.IntegerField()
    control = serializers.CharField(allow_null=True, help_text="The control arm's key.")
    srm = SampleRatioSerializer()
    arms = ArmAnalysisSerializer(many=True)


def _arm_document(arm) -> dict:
    return {"key": arm.key, "algorithm": arm.algorithm, "parameters": arm.parameters,
            "weight": arm.weight, "is_control": arm.is_control}  # fmt: skip


def _experiment_document(experiment, *, now, learners: int, arms) -> dict:
    return {
        "id": experiment.pk,
        "course_id": experiment.course_id,
        "name": experiment.name,
        "hypothesis": experiment.hypothesis,
        "assigned_by": experiment.assigned_by,
        "starts_at": experiment.starts_at,
        "ends_at": experiment.ends_at,
        "running": experiment.is_running(now),
        "learners": learners,
        "arms": [_arm_document(arm) for arm in arms],
    }


def _value_document(value) -> dict:
    if hasattr(value, "successes"):  # statistics.Proportion
        return {"estimate": value.rate, "low": value.low, "high": value.high,
                "successes": value.successes, "trials": value.trials}  # fmt: skip
    return {"estimate": value.mean, "low": value.low, "high": value.high,  # statistics.Mean
            "successes": None, "trials": value.n}  # fmt: skip


def _comparison_document(comparison) -> dict | None:
    if comparison is None:
        return None
    return {"difference": comparison.difference, "low": comparison.low, "high": comparison.high,
            "z": comparison.z, "p_value": comparison.p_value, "note": comparison.note}  # fmt: skip


def analysis_document(analysis: dict, *, now) -> dict:
    srm = analysis["srm"]
    arms = [row["arm"] for row in analysis["arms"]]
    return {
        "experiment": _experiment_document(
            analysis["experiment"], now=now, learners=analysis["learners"], arms=arms
        ),
        "period_start": analysis["period_start"],
        "period_end": analysis["period_end"],
        "running": analysis["running"],
        "learners": analysis["learners"],
        "control": analysis["control"].key if analysis["control"] else None,
        "srm": {"observed": srm.observed, "expected": srm.expected, "chi_square": srm.chi_square,
                "degrees_of_freedom": srm.degrees_of_freedom, "p_value": srm.p_value,
                "mismatch": srm.mismatch, "alpha": analysis["srm_alpha"], "note": srm.note},
        "arms": [
            {**_arm_document(row["arm"]), "learners": row["learners"],
             "metrics": [{"name": m["name"], "label": m["label"],
                          "value": _value_document(m["value"]),
                          "vs_control": _comparison_document(m["vs_control"])}
                         for m in row["metrics"]]}
            for row in analysis["arms"]
        ],
    }  # fmt: skip


@extend_schema(summary="Experiments between scheduling algorithms, newest first (staff)",
               tags=["experiments"])  # fmt: skip
class ExperimentListView(ListAPIView):
    permission_classes = [IsAuthenticated, CanViewExperiments]
    serializer_class = ExperimentSerializer

    def get_queryset(self):
        return experiments_list()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        now = timezone.now()
        documents = [
            _experiment_document(experiment, now=now, learners=experiment.learner_count,
                                 arms=experiment.arms.all())
            for experiment in page
        ]  # fmt: skip
        return self.get_paginated_response(self.get_serializer(documents, many=True).data)


class ExperimentAnalysisView(APIView):
    permission_classes = [IsAuthenticated, CanReadAnalysis]

    @extend_schema(
        summary="An experiment's analysis: per arm, each figure with its 95% interval and a "
        "test against control, and the sample-ratio check (staff)",
        tags=["experiments"],
        responses={200: AnalysisSerializer},
    )
    def get(self, request, experiment_id):
        experiment = get_object_or_404(Experiment, pk=experiment_id)
        now = timezone.now()
        analysis = experiment_analysis(experiment=experiment, now=now)
        return Response(AnalysisSerializer(analysis_document(analysis, now=now)).data)
