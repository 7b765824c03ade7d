from django.urls import path

from . import api

urlpatterns = [
    path("mock-tests/", api.MockTestListView.as_view(), name="mock-test-list"),
    path("mock-tests/<uuid:test_id>/", api.MockTestDetailView.as_view(), name="mock-test-detail"),
    path(
        "mock-tests/<uuid:test_id>/answers/",
        api.MockTestAnswerView.as_view(),
        name="mock-test-answer",
    ),
    path(
        "mock-tests/<uuid:test_id>/submit/",
        api.MockTestSubmitView.as_view(),
        name="mock-test-submit",
    ),
]
