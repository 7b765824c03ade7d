from django.urls import path

from .api import NextItemsView, PlacementFinishView, PlacementNextView

urlpatterns = [
    path("scheduler/next/", NextItemsView.as_view(), name="scheduler-next"),
    path("scheduler/placement/next/", PlacementNextView.as_view(), name="placement-next"),
    path("scheduler/placement/finish/", PlacementFinishView.as_view(), name="placement-finish"),
]
