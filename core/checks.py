"""System checks of the portal's own settings."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


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


@register()
def openapi_document(app_configs, **kwargs):
    """/api/v1/schema/ serves the committed docs/openapi.json (core.api.openapi_document): it must be deployed."""
    from core.api.openapi_document import DOCUMENT

    if DOCUMENT.is_file():
        return []
    return [
        Error(
            f"The OpenAPI document {DOCUMENT} is missing: /api/v1/schema/ serves that file.",
            hint="Deploy the docs/ folder with the code (docs/openapi.json is committed); `make schema` writes it.",
            id="portal.E001",
        )
    ]
