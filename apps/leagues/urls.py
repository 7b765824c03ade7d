from django.urls import path

from .api import CurrentLeagueView

urlpatterns = [
    path("leagues/current/", CurrentLeagueView.as_view(), name="league-current"),
]
