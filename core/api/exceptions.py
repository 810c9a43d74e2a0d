from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_standardized_errors.handler import ExceptionHandler
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings


class PortalExceptionHandler(ExceptionHandler):
    """One JSON error shape for the whole API, keeping the services' own messages.

    Services raise Django's ValidationError (with the field it concerns) and PermissionDenied; here
    they become 400 and 403 with that message, so an API client reads the rule that refused it.
    """

    def convert_known_exceptions(self, exc):
        if isinstance(exc, DjangoValidationError):
            detail = as_serializer_error(exc)
            if NON_FIELD_ERRORS in detail:
                detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
            return exceptions.ValidationError(detail=detail)
        if isinstance(exc, DjangoPermissionDenied):
            return exceptions.PermissionDenied(detail=str(exc) or None)
        if isinstance(exc, Http404):
            return exceptions.NotFound()
        return super().convert_known_exceptions(exc)
