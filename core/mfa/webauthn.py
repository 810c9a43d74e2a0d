"""Security keys and passkeys through django-otp-webauthn: its four JSON endpoints, adapted to the portal's rule (a
verified key marks the session as the other factors do, a registered key is recorded by a service), and the
configuration its browser scripts read."""

import json

from django.contrib import messages
from django.urls import path
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.i18n import JavaScriptCatalog
from django_otp_webauthn import exceptions
from django_otp_webauthn import views as webauthn_views
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.templatetags.otp_webauthn import get_configuration

from core.security import second_factor_locked_out

from .policies import mark_verified, second_factor_verified
from .services import security_key_registered


class ProviderVerifiedMixin:
    """The library refuses a new key to a user with a factor whose session has not verified one (django-otp's view);
    a session verified by the identity provider (core/mfa/policies.py) has, so it may add a key too."""

    def user_is_mfa_enrolled(self, user) -> bool:
        return not second_factor_verified(self.request) and super().user_is_mfa_enrolled(user)


class BeginRegistration(ProviderVerifiedMixin, webauthn_views.BeginCredentialRegistrationView):
    pass


class CompleteRegistration(ProviderVerifiedMixin, webauthn_views.CompleteCredentialRegistrationView):
    """The library's registration, then the key recorded (an outbox event); a first factor verifies the session."""

    def post(self, *args, **kwargs):
        was_verified = second_factor_verified(self.request)
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            credential = WebAuthnCredential.objects.get(pk=json.loads(response.content)["id"], user=self.request.user)
            security_key_registered(actor=self.request.user, credential=credential)
            messages.success(self.request, _("Security key added."))
            if not was_verified:
                mark_verified(self.request, credential)
        return response


class AccountLockedOut(exceptions.OTPWebAuthnApiError):
    status_code = 429
    default_code = "locked_out"
    default_detail = _lazy("Sign-in is paused for this account from this address. Try again later.")


class CompleteAuthentication(webauthn_views.CompleteCredentialAuthenticationView):
    """The library's assertion check for a signed-in user (never a sign-in by key alone: passwordless is off), then
    the session marked as verified now, as a right code would."""

    def check_device_usable(self, device):
        super().check_device_usable(device)
        # The account locked out from this address (wrong passwords or codes): a key does not open it either.
        if second_factor_locked_out(self.request, device.user):
            raise AccountLockedOut()

    def complete_auth(self, device):
        super().complete_auth(device)
        mark_verified(self.request, device)

    def get_redirect_url(self):
        target = self.request.GET.get("next") or ""
        safe = url_has_allowed_host_and_scheme(target, allowed_hosts={self.request.get_host()})
        return target if safe else ""


urlpatterns = [
    path("registration/begin/", BeginRegistration.as_view(), name="credential-registration-begin"),
    path("registration/complete/", CompleteRegistration.as_view(), name="credential-registration-complete"),
    path(
        "authentication/begin/",
        webauthn_views.BeginCredentialAuthenticationView.as_view(),
        name="credential-authentication-begin",
    ),
    path("authentication/complete/", CompleteAuthentication.as_view(), name="credential-authentication-complete"),
    path("jsi18n/", JavaScriptCatalog.as_view(packages=["django_otp_webauthn"]), name="js-i18n-catalog"),
]


def browser_configuration(request) -> str:
    """What the library's scripts read from the element ``#otp_webauthn_config`` (JSON, put in a hidden element's
    text rather than an inline script, which the Content-Security-Policy refuses). Where to go after a key is used
    is read from the field ``#second-factor-next`` (the library's default, the first field named "next", would be
    the language form's)."""
    return json.dumps(get_configuration(request, {"nextFieldSelector": "#second-factor-next"}))
