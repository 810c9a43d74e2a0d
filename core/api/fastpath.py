"""Cached API reads answered before Django REST framework, in one round trip to the cache.

Partner systems pull country status in bursts, mostly revalidating (304) or re-reading a body that has not
changed. Through DRF such a request costs five cache calls and DRF's request wrapping, negotiation and
rendering, about twice the cost of a request that does nothing. Here, in one pipelined round trip
(``core.cache.get_many_and_count``), the view reads the address's failed-token count, the cached token, the
data's version and (unless it revalidates) the cached body, and counts the request against the token's rate
limit. A revalidation whose tag has moved reads the body in a second round trip.

It answers only when everything it read says yes, exactly as DRF would: a token already authenticated and
cached (``core.api.auth_cache``), unexpired, of an active user with a portal role, its last-use stamp fresh;
the address not locked out; the rate limit not reached; a JSON answer asked for; the version and, unless the
client's ETag matches (304), a body cached under that very ETag. Anything else (no token, a session, a first
call, a stale stamp, a 429, a cold cache, a cache that does not answer) goes to the DRF view as if this did
not exist; the request is counted once either way. The responses are the DRF view's own, byte for byte and
header for header (tests/api/test_fastpath.py compares them).
"""

import functools
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from knox.crypto import hash_token
from rest_framework.authentication import get_authorization_header

from core import roles
from core.cache import get_many_and_count
from core.security import client_address

from . import auth_cache
from .auth import ready_as_cached
from .conditional import not_modified
from .throttling import FailedTokenLockout, TokenRateThrottle

logger = logging.getLogger(__name__)

JSON_ACCEPT = {"", "*/*", "application/json"}
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
    if request.method != "GET" or request.headers.get("Accept", "").strip() not in JSON_ACCEPT:
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
    # A revalidation most often ends in a 304: the body (285 kB for every country's status) is then read only if
    # the tag has moved, in a second round trip.
    revalidating = bool(request.headers.get("If-None-Match"))
    keys = [failures_key, token_key, version_key] + ([] if revalidating else [body_key])
    try:
        found, count = get_many_and_count(keys, counter, throttle.duration + 1)
        if revalidating and found.get(version_key) is not None and not not_modified(request, etag_of(found[version_key])):
            found.update(cache.get_many([body_key]))
    except Exception:  # noqa: BLE001 - the cache is down or confused: DRF answers (and reports) as it would
        logger.warning("Cached read skipped: the cache did not answer", exc_info=True)
        return None
    # Counted now: if DRF answers after all, its throttle takes this count instead of counting again.
    request.portal_throttle_counts = {counter: count}
    token = found.get(token_key)
    version = found.get(version_key)
    if (
        token is None
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
    cached = found.get(body_key)
    if cached is None or cached[0] != etag:
        return None
    return HttpResponse(cached[1], content_type="application/json", headers={"ETag": etag, **DRF_HEADERS})


def cached_read(drf_view, options):
    """``drf_view`` (an ``as_view()``), answered first by ``answer(request, **options(request, **kwargs))``;
    ``options`` may return None to leave a request to the DRF view."""

    @functools.wraps(drf_view)  # keeps cls, initkwargs and csrf_exempt: the schema and the URLconf see the DRF view
    def view(request, *args, **kwargs):
        read = options(request, **kwargs)
        response = answer(request, **read) if read is not None else None
        return response if response is not None else drf_view(request, *args, **kwargs)

    return view
