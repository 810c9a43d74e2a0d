from rest_framework.throttling import SimpleRateThrottle


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
        window = int(self.now // self.duration)
        self.window_ends = (window + 1) * self.duration
        key = f"{self.key}:{window}"
        try:
            count = self.cache.incr(key)
        except ValueError:  # the window's first request
            count = 1 if self.cache.add(key, 1, self.duration + 1) else self.cache.incr(key)
        return count <= self.num_requests

    def wait(self):
        return max(self.window_ends - self.now, 0)


class TokenRateThrottle(FixedWindowRateThrottle):
    """Requests per API token (or per signed-in session user), rate ``API_THROTTLE_TOKEN``."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        token = getattr(request, "auth", None)
        ident = f"token-{token.pk}" if token is not None and hasattr(token, "digest") else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonAddressRateThrottle(FixedWindowRateThrottle):
    """Requests per client address for anonymous callers, rate ``API_THROTTLE_ANON``."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
