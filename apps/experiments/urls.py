from django.urls import path

from . import api

urlpatterns = [
    path("experiments/", api.ExperimentListView.as_view(), name="experiments"),
    path(
        "experiments/<uuid:experiment_id>/analysis/",
        api.ExperimentAnalysisView.as_view(),
        name="experiment-analysis",
    ),
]
