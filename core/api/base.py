from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny

from core import country_codes


class ThrottleBeforePermissionsMixin:
    """Count every request against the rate limits, also those refused for missing or wrong credentials.

    DRF checks permissions before throttles, so anonymous callers (and token guessers) would never be
    throttled on protected endpoints. Here throttles run right after authentication, and a failed
    authentication is counted against the caller's address before its 401 goes out.
    """

    def initial(self, request, *args, **kwargs):
        self.format_kwarg = self.get_format_suffix(**kwargs)
        neg = self.perform_content_negotiation(request)
        request.accepted_renderer, request.accepted_media_type = neg
        version, scheme = self.determine_version(request, *args, **kwargs)
        request.version, request.versioning_scheme = version, scheme
        try:
            self.perform_authentication(request)
        except exceptions.AuthenticationFailed:
            self.check_throttles(request)
            raise
        self.check_throttles(request)
        self.check_permissions(request)


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([AllowAny])
@authentication_classes([])
def api_not_found(request, *args, **kwargs):
    raise exceptions.NotFound("There is no such address in the API; see /api/v1/docs/.")


def country_code_or_404(code: str) -> str:
    """A path's country code, upper-cased; anything that is not two ASCII letters (a NUL byte, "ß") is not found."""
    parsed = country_codes.parse(code)
    if parsed is None or parsed != code.upper():  # no spaces around it either
        raise exceptions.NotFound()
    return parsed
