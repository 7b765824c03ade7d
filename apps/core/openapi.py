"""OpenAPI generation that documents the error envelope on every operation."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, machine-readable error code.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    details = serializers.DictField(
        help_text="Field errors for validation_error, retry_after_s when throttled, and so on."
    )


class ErrorEnvelopeSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_ERROR_DESCRIPTIONS = {
    "400": "Invalid input (validation_error, parse_error), with field-level details.",
    "401": "Missing or invalid credentials (not_authenticated, token_not_valid).",
    "403": "Authenticated but not allowed (permission_denied).",
    "404": "No such resource, or not visible to the caller (not_found).",
    "429": "Rate limit exceeded (throttled) or account locked (account_locked).",
    "500": "Unexpected server error (internal_error).",
}


def error_response(description: str) -> OpenApiResponse:
    """For ``@extend_schema(responses={409: error_response("...")})`` on specific views."""
    return OpenApiResponse(response=ErrorEnvelopeSerializer, description=description)


class ErrorDocumentingAutoSchema(AutoSchema):
    """Adds the error responses each operation can produce, unless a view declared its own."""

    def _applicable_error_codes(self) -> list[str]:
        codes = (
            ["400"] if self.method in ("POST", "PUT", "PATCH") or self._has_query_params() else []
        )
        permissions = self.view.get_permissions()
        public = all(isinstance(p, AllowAny) for p in permissions)  # True when none
        if not public:
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        return [*codes, "429", "500"]

    def _has_query_params(self) -> bool:
        return bool(
            self.get_override_parameters()
            or self._get_filter_parameters()
            or self._get_pagination_parameters()
        )

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._applicable_error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    error_response(_ERROR_DESCRIPTIONS[code]), code, direction=direction
                )
        return responses
