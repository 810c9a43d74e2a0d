"""Input that no page of the portal can mean, refused before any view sees it (the API has its own rules)."""

from urllib.parse import parse_qsl

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.defaults import bad_request, page_not_found

from core.filters import MAX_ID


class MalformedInputMiddleware:
    """On the HTML pages:

    - a NUL byte in the path: 404 (no route has one); in the query string: 400 (PostgreSQL refuses NUL in text,
      so a filter with one would otherwise end in a server error);
    - a form body (urlencoded) that is not UTF-8, raw or percent-encoded: 400. Django would decode it anyway (raw
      bytes as Latin-1, bad escapes as replacement characters) and the form could save the garbage;
    - an admin action whose selected rows are not whole-number ids: 400 (the admin would filter on them and fail).
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

    def process_view(self, request, view_func, view_args, view_kwargs):
        """An admin action names its rows by their ids: one that is not an id of the model (``1.5``, a number beyond
        64 bits) would reach the database as a filter and end in a server error."""
        model_admin = getattr(view_func, "model_admin", None)
        if request.method != "POST" or model_admin is None or "_selected_action" not in request.POST:
            return None
        pk = model_admin.model._meta.pk
        for value in request.POST.getlist("_selected_action"):
            try:
                parsed = pk.to_python(value)
            except ValidationError:
                parsed = None
            too_big = isinstance(parsed, int) and not 0 < parsed <= MAX_ID
            if parsed in (None, "") or too_big or len(value) > (pk.max_length or 19):
                return bad_request(request, ValueError("an admin action's selected rows are not ids"))
        return None

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
