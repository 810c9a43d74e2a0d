"""Cached API reads answered before Django REST framework, in one round trip to the cache.

Partner systems pull country status in bursts, mostly revalidating (304) or re-reading a body that has not
changed. Through DRF such a request costs five cache calls and DRF's request wrapping, negotiation and
rendering, about twice the cost of a request that does nothing. Here, in one Redis command (a script, see
``core.cache.get_many_and_count``), the view reads the address's failed-token count, the cached token, the
data's version and (unless it revalidates) the cached body, and counts the request against the token's rate
limit. A body over 16 kB (every country's status), and the body of a revalidation whose tag has moved, are
read in a second round trip, after the checks.

It answers only when everything it read says yes, exactly as DRF would: a token already authenticated and
cached (``core.api.auth_cache``), unexpired, of an active user with a portal role, its last-use stamp fresh;
the address not locked out; the rate limit not reached; a JSON answer asked for; the version and, unless the
client's ETag matches (304), a body cached under that very ETag. Anything else (no token, a session, a first
call, a stale stamp, a 429, a cold cache, a cache that does not answer) goes to the DRF view as if this did
not exist; the request is counted once either way. The responses are the DRF view's own, byte for byte and
header for header (tests/api/test_fastpath.py compares them).
"""

import functools

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from knox.crypto import hash_token
from rest_framework.authentication import SessionAuthentication, get_authorization_header
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.settings import api_settings

from core import roles
from core.cache import NOT_READ, get_many_and_count
from core.security import client_address

from . import auth_cache
from .auth import TokenAuthentication, ready_as_cached
from .conditional import not_modified
from .permissions import HasPortalRole
from .throttling import AnonAddressRateThrottle, FailedTokenLockout, TokenRateThrottle

JSON_ACCEPT = {"*/*", "application/json"}  # what DRF negotiates to JSON; anything else is left to DRF
# What DRF's APIView adds to the response of a GET-only view (``Allow``, ``Vary``).
DRF_HEADERS = {"Allow": "GET, HEAD, OPTIONS", "Vary": "Accept"}


def body_entry(etag: str, body: bytes) -> tuple[str, bytes]:
    """What a view caches under its body key: the JSON body and the ETag it belongs to."""
    return (etag, body)


def answer(request, *, version_key: str, etag_of, body_key: str):
    """The response to ``request`` from the cache alone, or None to let the DRF view answer.

    ``etag_of(version)`` is the view's ETag for the data version found under ``version_key``; ``body_key`` is
    where the view keeps ``body_entry(etag, body)`` of its JSON body.
    """
    if (
        request.method != "GET"
        or request.META.get("HTTP_ACCEPT", "*/*").strip() not in JSON_ACCEPT
        or api_settings.URL_FORMAT_OVERRIDE in request.GET  # ?format=: DRF's choice (and its 404 for an unknown one)
    ):
        return None
    header = get_authorization_header(request).split()
    if len(header) != 2 or header[0].lower() != b"token":
        return None
    try:
        digest = hash_token(header[1].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, TypeError):
        return None
    throttle = TokenRateThrottle()
    if throttle.rate is None:
        return None
    counter, _window_ends = throttle.window(throttle.token_key(digest), throttle.timer())
    failures_key = FailedTokenLockout.keys(client_address(request))[0]
    token_key = auth_cache.cache_key(digest)
    # The body is read in the same command unless the client revalidates (a 304 needs none); on Redis a body over
    # 16 kB comes back as NOT_READ and is read only once the token has passed every check below.
    revalidating = bool(request.headers.get("If-None-Match"))
    keys = [failures_key, token_key, version_key] + ([] if revalidating else [body_key])
    found, count = get_many_and_count(keys, counter, throttle.duration + 1)  # a miss if the cache is down
    # Counted now: if DRF answers after all, its throttle takes this count instead of counting again.
    request.portal_throttle_counts = {counter: count}
    token = found.get(token_key)
    version = found.get(version_key)
    if (
        token is None
        or NOT_READ in (token, version, found.get(failures_key))  # too large to be what they should be: DRF decides
        or token == auth_cache.FORGOTTEN
        or version is None
        or count > throttle.num_requests
        or (found.get(failures_key) or 0) >= settings.AXES_FAILURE_LIMIT
        or not ready_as_cached(token, timezone.now())
        or not roles.can_read(token.user)
    ):
        return None
    etag = etag_of(version)
    if not_modified(request, etag):
        return HttpResponseNotModified(headers={"ETag": etag, **DRF_HEADERS})
    cached = found.get(body_key, NOT_READ)
    if cached is NOT_READ:
        cached = cache.get(body_key)
    if cached is None or cached[0] != etag:
        return None
    return HttpResponse(cached[1], content_type="application/json", headers={"ETag": etag, **DRF_HEADERS})


# The DRF policy ``answer`` applies by hand: a status view that changed any of it must not be answered here.
EXPECTED_POLICY = {
    "authentication_classes": [TokenAuthentication, SessionAuthentication],
    "permission_classes": [HasPortalRole],
    "throttle_classes": [TokenRateThrottle, AnonAddressRateThrottle],
    "renderer_classes": [JSONRenderer, BrowsableAPIRenderer],
}


def cached_read(drf_view, options):
    """``drf_view`` (an ``as_view()``), answered first by ``answer(request, **options(request, **kwargs))``;
    ``options`` may return None to leave a request to the DRF view."""
    for name, expected in EXPECTED_POLICY.items():
        if list(getattr(drf_view.cls, name)) != expected:
            raise ImproperlyConfigured(f"{drf_view.cls.__name__}.{name} is not what core.api.fastpath answers for")

    @functools.wraps(drf_view)  # keeps cls, initkwargs and csrf_exempt: the schema and the URLconf see the DRF view
    def view(request, *args, **kwargs):
        read = options(request, **kwargs)
        response = answer(request, **read) if read is not None else None
        return response if response is not None else drf_view(request, *args, **kwargs)

    return view
