from django.urls import path

from . import api

urlpatterns = [
    path("attempts/", api.AttemptView.as_view(), name="attempt"),
    path("attempts/batch/", api.AttemptBatchView.as_view(), name="attempt-batch"),
    path("sessions/", api.SessionStartView.as_view(), name="session-start"),
    path(
        "sessions/<uuid:session_id>/complete/",
        api.SessionCompleteView.as_view(),
        name="session-complete",
    ),
    path("progress/", api.ProgressView.as_view(), name="progress"),
    path("progress/statistics/", api.ProgressStatisticsView.as_view(), name="progress-statistics"),
    path("progress/reset/", api.ProgressResetView.as_view(), name="progress-reset"),
    path("progress/forecast/", api.ProgressForecastView.as_view(), name="progress-forecast"),
    path("progress/retention/", api.ProgressRetentionView.as_view(), name="progress-retention"),
    path("mistakes/", api.MistakesView.as_view(), name="mistakes"),
    path("tasks/", api.StudyTaskListView.as_view(), name="task-list"),
    path("tasks/<uuid:task_id>/", api.StudyTaskView.as_view(), name="task-detail"),
]
