from django.urls import path
from rest_framework.routers import SimpleRouter

from .api import AtomTransitionView, AtomViewSet

router = SimpleRouter()
router.register("atoms", AtomViewSet, basename="atom")
urlpatterns = [
    *router.urls,
    path(
        "authoring/atoms/<uuid:atom_id>/transitions/",
        AtomTransitionView.as_view(),
        name="atom-transition",
    ),
]
