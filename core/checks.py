"""System checks of the portal's own settings."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.caches, deploy=True)
def shared_cache(app_configs, **kwargs):
    """With several web processes, the per-process cache would keep revoked tokens, rate limits and cached
    pages apart in each process."""
    if getattr(settings, "CACHE_IS_SHARED", True):
        return []
    return [
        Warning(
            "The cache is the per-process memory cache (CACHE_URL is not set).",
            hint="Set CACHE_URL to Redis (e.g. redis://127.0.0.1:6379/1) so that every web process and worker shares "
            "token revocations, rate limits, sessions, status versions and cached pages.",
            id="portal.W001",
        )
    ]
