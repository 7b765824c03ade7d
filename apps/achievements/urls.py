from django.urls import path

from .api import AchievementsView

urlpatterns = [
    path("me/achievements/", AchievementsView.as_view(), name="me-achievements"),
]
