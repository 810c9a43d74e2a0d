"""The second-factor pages: the account's factors (add an authenticator app or a security key, recovery codes,
remove), and the verification asked after the password and before creating a long-lived credential."""

import base64
from base64 import b32encode

import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from core.security import count_failed_second_factor, lockout_response, second_factor_locked_out

from . import policies
from .services import (
    recovery_codes_generate,
    second_factor_remove,
    totp_enrolment_confirm,
    totp_enrolment_start,
)
from .webauthn import browser_configuration

SESSION_TOTP_DEVICE = "second_factor_totp_enrolling"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "off"}),
    )

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split())


def _next(request, default: str = "") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _qr_svg_data_uri(text: str) -> str:
    """The QR code as an SVG image in a data: address (drawn here, no script; img-src allows data:)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(image.to_string()).decode()


@never_cache
@login_required
def second_factors(request):
    """The account's second factors; where a user whose role requires one is led at sign-in until they add one."""
    user = request.user
    context = {
        "status": policies.second_factor_status(user),
        "apps": TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "id"),
        "keys": WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "id"),
        "must_enrol": policies.second_factor_step(request) == policies.ENROL,
        "next": _next(request),
    }
    return render(request, "mfa/second_factors.html", context)


@never_cache
@login_required
def totp_enrol(request):
    """Add an authenticator app: scan the QR code (or type the key), then type the code the app shows."""
    user = request.user
    device = None
    if pk := request.session.get(SESSION_TOTP_DEVICE):
        device = TOTPDevice.objects.filter(pk=pk, user=user, confirmed=False).first()
    form = CodeForm(request.POST or None)
    # A wrong code here is a typo, not a guess: the secret is on the screen of whoever holds the session, so it does not
    # count towards the lockout (the codes asked at sign-in and before creating a credential do).
    if request.method == "POST" and device is not None and form.is_valid():
        if totp_enrolment_confirm(actor=user, device=device, token=form.cleaned_data["code"]):
            del request.session[SESSION_TOTP_DEVICE]
            device.refresh_from_db()
            if not policies.second_factor_verified(request):
                policies.mark_verified(request, device)
            messages.success(request, _("Authenticator app added."))
            return redirect(_with_next(reverse("second-factors"), _next(request)))
        form.add_error("code", _("That code is not right. Type the code the app shows now (it changes every 30 seconds)."))
    elif device is None:
        device = totp_enrolment_start(actor=user, user=user)
        request.session[SESSION_TOTP_DEVICE] = device.pk
        form = CodeForm()
    secret = b32encode(device.bin_key).decode()
    context = {
        "form": form,
        "qr": _qr_svg_data_uri(device.config_url),
        "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "next": _next(request),
    }
    return render(request, "mfa/totp_enrol.html", context)


def _with_next(url: str, target: str) -> str:
    return f"{url}?{urlencode({'next': target})}" if target else url


@never_cache
@login_required
def security_key_enrol(request):
    """Add a security key or passkey: the browser asks for it (the library's script, served from static)."""
    context = {"webauthn_config": browser_configuration(request), "next": _next(request)}
    return render(request, "mfa/security_key_enrol.html", context)


@never_cache
@login_required
@require_POST
def recovery_codes(request):
    """A new set of recovery codes, shown in this answer only (each works once; the earlier set stops working)."""
    if not policies.user_has_second_factor(request.user):
        messages.error(request, _("Add an authenticator app or a security key first: recovery codes stand in for one."))
        return redirect("second-factors")
    codes = recovery_codes_generate(actor=request.user, user=request.user)
    return render(request, "mfa/recovery_codes.html", {"codes": codes, "next": _next(request)})


@login_required
@require_POST
def second_factor_remove_view(request, kind: str, pk: int):
    models = {"app": TOTPDevice, "key": WebAuthnCredential}
    if kind not in models:
        raise Http404
    device = get_object_or_404(models[kind], pk=pk, user=request.user, confirmed=True)
    try:
        second_factor_remove(actor=request.user, device=device)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("“%(name)s” removed.") % {"name": device.name})
    return redirect("second-factors")


def _verify_code(user, code: str):
    """The authenticator app or recovery code that accepts ``code`` (each code once), or None."""
    with transaction.atomic():
        for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(code):
                return device
        recovery = policies.recovery_device(user)
        if recovery is not None and recovery.verify_token(policies.recovery_code_to_verify(recovery, code)):
            return recovery
    return None


@never_cache
@login_required
def verify(request):
    """The second factor: after the password at sign-in, or again before creating a long-lived credential. A wrong
    code counts as a failed sign-in (the same lockout as wrong passwords: 429 and signed out)."""
    user = request.user
    target = _next(request, reverse("home"))
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if second_factor_locked_out(request, user):
            logout(request)
            return lockout_response(request)
        device = _verify_code(user, form.cleaned_data["code"])
        if device is not None:
            policies.mark_verified(request, device)
            if device.name == policies.RECOVERY_DEVICE_NAME:
                left = device.token_set.count()
                messages.warning(
                    request,
                    _("You used a recovery code; %(left)d left. Create a new set on your second-factors page.") % {"left": left},
                )
            return redirect(target)
        if count_failed_second_factor(request, user):
            logout(request)
            return lockout_response(request)
        form.add_error("code", _("That code is not right. Type the code your app shows now, or one of your recovery codes."))
    status = policies.second_factor_status(user)
    context = {
        "form": form,
        "next": target,
        "status": status,
        "signing_in": policies.second_factor_step(request) == policies.VERIFY,
        "provider_only": request.session.get(policies.IDENTITY_PROVIDER_MFA) and not status.enrolled,
        "webauthn_config": browser_configuration(request) if status.security_keys else None,
    }
    return render(request, "mfa/verify.html", context)


def recent_second_factor_redirect(request):
    """For a page that creates a long-lived credential: the redirect to verify a second factor again (and come back)
    when none was verified recently enough (core/mfa/policies.py), else None."""
    if not policies.recent_second_factor_missing(request):
        return None
    messages.info(request, _("Confirm it is you with your second factor, then create it again."))
    return redirect(_with_next(reverse("second-factor-verify"), request.get_full_path()))
