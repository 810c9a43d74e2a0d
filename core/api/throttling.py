import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from core.cache import count as cache_counter


class FixedWindowRateThrottle(SimpleRateThrottle):
    """DRF's throttle with a counter per time window instead of a log of timestamps.

    DRF keeps the time of every request of the window in one cache entry and reads and writes it whole
    on each call: at 1,200 a minute that is a list of up to 1,200 floats pickled twice per request, and
    the cost grows with the rate. Here each window (of the rate's period) has a counter, incremented in
    the cache: constant cost, atomic across web processes. The price: a client can fit up to twice the
    rate in one period that straddles two windows.
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        key, self.window_ends = self.window(self.key, self.now)
        # A request the cached-read path (core.api.fastpath) already counted, then handed over, is not counted twice.
        counted = getattr(getattr(request, "_request", request), "portal_throttle_counts", {})
        count = counted[key] if key in counted else cache_counter(key, self.duration + 1)
        return count <= self.num_requests

    def window(self, key: str, now: float) -> tuple[str, float]:
        """The counter of ``key``'s window at ``now``, and when that window ends."""
        window = int(now // self.duration)
        return f"{key}:{window}", (window + 1) * self.duration

    def wait(self):
        return max(self.window_ends - self.now, 0)


class TokenRateThrottle(FixedWindowRateThrottle):
    """Requests per API token (or per signed-in session user), rate ``API_THROTTLE_TOKEN``."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        token = getattr(request, "auth", None)
        if token is not None and hasattr(token, "digest"):
            return self.token_key(token.digest)
        return self.cache_format % {"scope": self.scope, "ident": f"user-{request.user.pk}"}

    def token_key(self, digest: str) -> str:
        """A token's counter is named after (the start of) its digest, known before the token is looked up."""
        return self.cache_format % {"scope": self.scope, "ident": f"token-{digest[:32]}"}


class AnonAddressRateThrottle(FixedWindowRateThrottle):
    """Requests per client address for anonymous callers, rate ``API_THROTTLE_ANON``."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class FailedTokenLockout:
    """The sign-in lockout's limits, applied to API tokens: after ``AXES_FAILURE_LIMIT`` failed token attempts
    from one address, every token attempt from that address is refused (429, without even looking the token up)
    until ``AXES_COOLOFF_TIME`` has passed since the last failure.

    Per address, not per account: a token names no account until it is found. A refused attempt does not
    prolong the lockout, and a success does not end it (a guesser holding one valid token could otherwise
    reset the count). Tokens presented from other addresses, and sessions, are unaffected. Counts live in the
    cache, like DRF's throttles (share them with ``CACHE_URL`` when there are several web processes).
    """

    prefix = "api-token-failures"

    @classmethod
    def keys(cls, address: str) -> tuple[str, str]:
        return f"{cls.prefix}:{address}", f"{cls.prefix}-until:{address}"

    @classmethod
    def seconds_left(cls, address: str) -> int:
        """How long token attempts from ``address`` stay refused (0: not locked out)."""
        count_key, until_key = cls.keys(address)
        if (cache.get(count_key) or 0) < settings.AXES_FAILURE_LIMIT:
            return 0
        until = cache.get(until_key)
        return max(1, math.ceil(until - time.time())) if until else 0

    @classmethod
    def record_failure(cls, address: str) -> None:
        count_key, until_key = cls.keys(address)
        timeout = int(settings.AXES_COOLOFF_TIME.total_seconds())
        if not cache.add(count_key, 1, timeout):
            try:
                cache.incr(count_key)
            except ValueError:  # expired between add() and incr()
                cache.set(count_key, 1, timeout)
            cache.touch(count_key, timeout)
        cache.set(until_key, time.time() + timeout, timeout)
