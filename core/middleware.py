"""Input that no page of the portal can mean, refused before any view sees it (the API has its own rules)."""

from urllib.parse import parse_qsl

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.defaults import bad_request, page_not_found


class MalformedInputMiddleware:
    """On the HTML pages:

    - a NUL byte in the path: 404 (no route has one); in the query string: 400 (PostgreSQL refuses NUL in text,
      so a filter with one would otherwise end in a server error);
    - a form body (urlencoded) that is not UTF-8, raw or percent-encoded: 400. Django would decode it anyway (raw
      bytes as Latin-1, bad escapes as replacement characters) and the form could save the garbage.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            return self.get_response(request)
        if "\x00" in request.path:
            return page_not_found(request, Http404())
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return bad_request(request, ValueError("NUL byte in the query string"))
        if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded" and not self._utf8(request):
            return bad_request(request, ValueError("form body is not UTF-8"))
        return self.get_response(request)

    @staticmethod
    def _utf8(request) -> bool:
        try:
            body = request.body
        except RequestDataTooBig:
            return True  # the view's own reading of the body answers 400
        try:
            parse_qsl(body.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
        except UnicodeDecodeError:  # raw bytes, or a percent-escape, that are not UTF-8
            return False
        return True


class CacheUnavailableMiddleware:
    """A change that needed the cache to drop a copy it makes stale (a revoked token, an ended session) and could not
    reach it (``core.cache.CacheUnavailable``): 503 with Retry-After; the change was refused whole (its transaction
    rolled back). JSON in the API's error shape under /api/, a page elsewhere."""

    RETRY_AFTER = 10

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from core.cache import CacheUnavailable

        if not isinstance(exception, CacheUnavailable):
            return None
        detail = gettext("The portal cannot complete this change right now: nothing was changed. Try again in a minute.")
        if request.path.startswith("/api/"):
            body = {"type": "server_error", "errors": [{"code": "cache_unavailable", "detail": detail, "attr": None}]}
            response = JsonResponse(body, status=503)
        else:
            response = render(request, "unavailable.html", {"detail": detail}, status=503)
        response["Retry-After"] = str(self.RETRY_AFTER)
        return response
