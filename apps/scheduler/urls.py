from django.urls import path

from .api import NextItemsView

urlpatterns = [path("scheduler/next/", NextItemsView.as_view(), name="scheduler-next")]
