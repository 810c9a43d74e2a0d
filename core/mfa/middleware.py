"""Keeps a session that still owes its second factor (core/mfa/policies.py: ``second_factor_step``) on the
second-factor pages: every other page redirects there (and back afterwards); the API answers 403."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .policies import ENROL, second_factor_step


class SecondFactorMiddleware:
    """After authentication, sessions and messages: a session with a step pending reaches only sign-out, the
    second-factor pages (and their security-key endpoints), the language switch and static files."""

    def __init__(self, get_response):
        self.get_response = get_response

    @staticmethod
    def allowed(path: str) -> bool:
        open_prefixes = (
            reverse("second-factors"),
            reverse("logout"),
            reverse("set_language"),
            reverse("healthz"),
            "/" + settings.STATIC_URL.lstrip("/"),
        )
        return path.startswith(open_prefixes)

    def __call__(self, request):
        step = second_factor_step(request)
        if step is None or self.allowed(request.path_info):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            detail = _("Verify your second factor in the portal before using the API from this session.")
            body = {"type": "client_error", "errors": [{"code": "second_factor_required", "detail": detail, "attr": None}]}
            return JsonResponse(body, status=403)
        target = reverse("second-factors") if step == ENROL else reverse("second-factor-verify")
        back = request.get_full_path() if request.method == "GET" else reverse(settings.LOGIN_REDIRECT_URL)
        return redirect(f"{target}?{urlencode({'next': back})}")
