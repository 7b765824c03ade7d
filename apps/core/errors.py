"""The API's error model: every error is ``{"error": {"code", "message", "details"}}``.

DRF exceptions keep their status and get a stable ``code``; anything unexpected becomes a
logged 500 in the same envelope, never an HTML page.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """The request clashes with the current state (a replay with a different payload, say)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class DomainConflict(Exception):
    """Base for service errors that mean "not in this state" (409 in the API)."""

    code = "conflict"

    def details(self) -> dict:
        return {}


class AccountLocked(exceptions.APIException):
    """Too many failed logins for this account; it is locked for a cool-off period."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = "Too many failed login attempts. The account is locked for a while."
    default_code = "account_locked"

    def __init__(self, wait_s: int | None = None):
        super().__init__()
        self.wait = wait_s  # DRF turns this into a Retry-After header


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _envelope_for(exc: exceptions.APIException, data) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        details = data if isinstance(data, dict) else {"non_field_errors": data}
        return error_body("validation_error", "The request is invalid.", details)
    details: dict = {}
    if isinstance(data, dict):
        # simplejwt puts its own "code" and "messages" beside "detail"; keep them.
        message = str(data.get("detail", exc.default_detail))
        code = data.get("code") or getattr(data.get("detail"), "code", None)
        details = {k: v for k, v in data.items() if k not in ("detail", "code")}
    else:
        message, code = str(data), None
    if getattr(exc, "wait", None) is not None:  # Throttled, AccountLocked
        details["retry_after_s"] = int(exc.wait)
    return error_body(str(code or exc.default_code), message, details)


def api_exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is over the {limit:,}-byte limit."
        return Response(
            error_body("request_too_large", message, {"limit_bytes": limit}),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DomainConflict):
        return Response(
            error_body(exc.code, str(exc), exc.details()), status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "API view")
        return Response(
            error_body("internal_error", "An unexpected error occurred."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    response.data = _envelope_for(exc, response.data)
    return response


def json_error_response(status_code: int, code: str, message: str, details=None) -> JsonResponse:
    return JsonResponse(error_body(code, message, details), status=status_code)
