from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """Requests per API token (or per signed-in session user), rate ``API_THROTTLE_TOKEN``."""

    scope = "token"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None
        token = getattr(request, "auth", None)
        ident = f"token-{token.pk}" if token is not None and hasattr(token, "digest") else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AnonAddressRateThrottle(SimpleRateThrottle):
    """Requests per client address for anonymous callers, rate ``API_THROTTLE_ANON``."""

    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
