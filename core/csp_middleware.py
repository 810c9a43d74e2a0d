"""The Content-Security-Policy middleware: django-csp's, with a relaxed policy for the few third-party views that
need one (the policy itself is CONTENT_SECURITY_POLICY in config/settings.py)."""

from csp.constants import SELF, UNSAFE_INLINE
from csp.middleware import CSPMiddleware
from drf_spectacular.views import SpectacularRedocView


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, with a relaxed policy for the few third-party views that cannot live under the
    strict one, chosen by view class (so it follows the view whatever its URL).

    ReDoc (the API docs at /api/v1/redoc/) injects ``<style>`` elements while its bundle loads, before any nonce
    can be handed to it, and runs its search in a worker made from a ``blob:`` URL: its page alone allows inline
    styles and blob workers. Scripts stay strict there too (its one start-up script carries the nonce); the
    "API docs by Redocly" logo it would fetch from cdn.redoc.ly is replaced in its bundle by an empty image
    (core.api.openapi_document.redoc_script). Swagger UI and the admin need no relaxation.
    """

    RELAXED_VIEWS = {
        SpectacularRedocView: {"style-src": [SELF, UNSAFE_INLINE], "worker-src": [SELF, "blob:"]},
    }

    def process_view(self, request, view_func, view_args, view_kwargs):
        request._csp_relaxed = self.RELAXED_VIEWS.get(getattr(view_func, "view_class", None))

    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only=report_only)
        relaxed = getattr(request, "_csp_relaxed", None)
        if relaxed and not report_only:
            parts.replace = {**relaxed, **(parts.replace or {})}
        return parts
