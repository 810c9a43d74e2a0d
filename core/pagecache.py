"""Whole pages of a signed-in reader served from the cache while nothing they show has changed.

The key holds the reader's session and CSRF cookie (so the page's CSRF tokens and everything that
depends on who reads stay theirs), the language, the full path with its query, today's date (pages
count days) and the portal's data version (``core.versions``), which every write moves. A request
with a message waiting, an htmx request, an export, or a response that is not a plain 200 page is
never cached.
"""

import hashlib
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language

from .versions import data_version

SECONDS = 300


def _cacheable_request(request) -> bool:
    return (
        request.method == "GET"
        and request.user.is_authenticated
        and "export" not in request.GET
        and not request.headers.get("HX-Request")
        and settings.CSRF_COOKIE_NAME in request.COOKIES
        and "messages" not in request.COOKIES
        and "_messages" not in request.session
    )


def _key(request) -> str:
    parts = [
        request.session.session_key or "",
        request.COOKIES[settings.CSRF_COOKIE_NAME],
        get_language(),
        request.get_full_path(),
        timezone.localdate().isoformat(),
        data_version(),
    ]
    return "page:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def cached_page(before=None):
    """Decorate a read-only page view; ``before`` runs first on every request (e.g. a release of what is due)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if before is not None:
                before()
            if not _cacheable_request(request):
                return view(request, *args, **kwargs)
            key = _key(request)
            hit = cache.get(key)
            if hit is not None:
                content, content_type = hit
                response = HttpResponse(content, content_type=content_type)
                patch_cache_control(response, private=True)
                return response
            response = view(request, *args, **kwargs)
            patch_cache_control(response, private=True)
            if response.status_code == 200 and not response.streaming and not response.has_header("Content-Disposition"):
                cache.set(key, (response.content, response["Content-Type"]), SECONDS)
            return response

        return wrapper

    return decorator
