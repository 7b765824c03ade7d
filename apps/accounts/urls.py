from django.urls import path

from .api import MeView, TokenObtainView, TokenRefreshAPIView, TokenRevokeView

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", TokenRefreshAPIView.as_view(), name="token-refresh"),
    path("auth/token/revoke/", TokenRevokeView.as_view(), name="token-revoke"),
    path("me/", MeView.as_view(), name="me"),
]
