from django.urls import path

from . import api

urlpatterns = [
    path("analytics/events/", api.AnalyticsEventListView.as_view(), name="analytics-events"),
]
