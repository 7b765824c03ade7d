from django.urls import path

from .api import MeView, TokenObtainView, TokenRefreshAPIView

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefreshAPIView.as_view(), name="token-refresh"),
    path("me/", MeView.as_view(), name="me"),
]
