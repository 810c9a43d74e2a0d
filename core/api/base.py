import re

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny


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


ISO_CODE = re.compile(r"[A-Za-z]{2}")


def country_code_or_404(code: str) -> str:
    """A path's country code, upper-cased; anything that is not two letters (a NUL byte...) is simply not found."""
    if not ISO_CODE.fullmatch(code or ""):
        raise exceptions.NotFound()
    return code.upper()
