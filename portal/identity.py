"""Signing in through the OpenID Connect provider: mozilla-django-oidc's backend and views with the portal's rules,
and the service that creates or updates a user from the provider's claims. The settings, the claim rules and the
``amr`` record of the session are in ``core/identity.py`` (docs/configuration.md says what each setting does)."""

import logging
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.views import LoginView
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from core import roles
from core.identity import (
    SESSION_ID_TOKEN_KEY,
    SESSION_MFA_KEY,
    ProviderUnavailable,
    amr_asserts_mfa,
    claimed_country_codes,
    mapped_roles,
    setting,
    sso_enabled,
)
from countries import services as country_services
from countries.models import Country

logger = logging.getLogger(__name__)


@transaction.atomic
def sync_user_from_claims(*, user, claims: dict):
    """Create (``user`` None) or update the user signed in through the provider: e-mail and names, the portal role
    groups mapped from the claims (other groups kept), and a liaison's country assignments. Changes to the user and
    its groups are audited (django-auditlog); assignments go through ``countries.services`` (events)."""
    user_model = get_user_model()
    email = claims.get("email", "")
    if user is None:
        username = (claims.get("preferred_username") or email)[:150]
        if user_model.objects.filter(username=username).exists():
            username = email[:150]
        user = user_model(username=username, email=email)
        user.set_unusable_password()
    user.email = email or user.email
    user.first_name = (claims.get("given_name") or user.first_name)[:150]
    user.last_name = (claims.get("family_name") or user.last_name)[:150]
    user.save()

    wanted = mapped_roles(claims)
    for name in roles.ALL_ROLES:
        group, _created = Group.objects.get_or_create(name=name)
        if name in wanted:
            user.groups.add(group)
        else:
            user.groups.remove(group)
    user.__dict__.pop("_portal_group_names", None)  # roles.group_names' per-request memo

    codes = claimed_country_codes(claims) if roles.LIAISON in wanted else set()
    countries = list(Country.objects.filter(iso2__in=codes))
    country_services.liaison_assignments_set_by_identity_provider(user=user, countries=countries)
    return user


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend with the portal's rules: endpoints resolved lazily (the local sign-in never
    waits on the provider), the ID token's issuer and audience checked too, refusals returned as ``None``, the
    provider's silence raised as ``ProviderUnavailable``, users and roles synchronised through
    ``sync_user_from_claims``."""

    get_settings = staticmethod(setting)

    def __init__(self, *args, **kwargs):
        self.UserModel = get_user_model()

    OIDC_RP_CLIENT_ID = property(lambda self: settings.OIDC_RP_CLIENT_ID)
    OIDC_RP_CLIENT_SECRET = property(lambda self: settings.OIDC_RP_CLIENT_SECRET)
    OIDC_RP_SIGN_ALGO = property(lambda self: settings.OIDC_RP_SIGN_ALGO)
    OIDC_RP_IDP_SIGN_KEY = property(lambda self: settings.OIDC_RP_IDP_SIGN_KEY or None)
    OIDC_OP_TOKEN_ENDPOINT = property(lambda self: setting("OIDC_OP_TOKEN_ENDPOINT"))
    OIDC_OP_USER_ENDPOINT = property(lambda self: setting("OIDC_OP_USER_ENDPOINT"))
    OIDC_OP_JWKS_ENDPOINT = property(lambda self: setting("OIDC_OP_JWKS_ENDPOINT"))

    def authenticate(self, request, **kwargs):
        if request is None or not sso_enabled() or "code" not in request.GET:
            return None
        try:
            return super().authenticate(request, **kwargs)
        except requests.RequestException as error:
            raise ProviderUnavailable(str(error)) from error
        except (SuspiciousOperation, jwt.PyJWTError) as error:
            logger.warning("Sign-in through the identity provider refused: %s", error)
            return None

    def verify_token(self, token, **kwargs):
        payload = super().verify_token(token, **kwargs)
        if kwargs.get("nonce") is None:  # the userinfo answer as a JWT: no ID token checks
            return payload
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was not issued for this portal (aud).")
        if settings.OIDC_OP_ISSUER and payload.get("iss", "").rstrip("/") != settings.OIDC_OP_ISSUER.rstrip("/"):
            raise SuspiciousOperation("The ID token comes from another issuer (iss).")
        if "exp" not in payload:
            raise SuspiciousOperation("The ID token has no expiry (exp).")
        self.request._identity_provider_mfa = amr_asserts_mfa(payload.get("amr"))
        return payload

    def verify_claims(self, claims):
        """An e-mail (users are matched by it) that the provider does not say is unverified, and a mapped role."""
        if not claims.get("email") or claims.get("email_verified") is False:
            return False
        return bool(mapped_roles(claims))

    def filter_users_by_claims(self, claims):
        return self.UserModel.objects.filter(email__iexact=claims["email"])

    def create_user(self, claims):
        return sync_user_from_claims(user=None, claims=claims)

    def update_user(self, user, claims):
        return sync_user_from_claims(user=user, claims=claims)


class SignInView(LoginView):
    """The sign-in page: "Sign in with <provider>" when SSO is on; the password form for everyone, or, with local
    passwords off, for the break-glass administrators only (said so on the page)."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_enabled"] = sso_enabled()
        context["sso_provider_name"] = settings.SSO_PROVIDER_NAME or _("your organisation")
        context["local_passwords"] = settings.SSO_LOCAL_PASSWORDS
        return context


def _provider_unavailable(request):
    return render(request, "registration/identity_provider_unavailable.html", status=503)


class SignInStartView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider's authorisation endpoint (404 while SSO is off)."""

    get_settings = staticmethod(setting)

    def __init__(self, *args, **kwargs):
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def get(self, request):
        if not sso_enabled():
            raise Http404
        try:
            self.OIDC_OP_AUTH_ENDPOINT = setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except ProviderUnavailable:
            return _provider_unavailable(request)
        return super().get(request)


class SignInCallbackView(OIDCAuthenticationCallbackView):
    """The provider's redirect back: signs the user in, records an ``amr`` second factor, or shows why not."""

    get_settings = staticmethod(setting)

    def get(self, request):
        if not sso_enabled():
            raise Http404
        try:
            return super().get(request)
        except ProviderUnavailable:
            return _provider_unavailable(request)
        except SuspiciousOperation:
            return self.login_failure()

    def login_success(self):
        response = super().login_success()
        self.request.session[SESSION_MFA_KEY] = bool(getattr(self.request, "_identity_provider_mfa", False))
        return response

    def login_failure(self):
        return render(self.request, "registration/identity_provider_refused.html", status=403)


@require_POST
def sign_out(request):
    """Ends the portal session and, when the user came through the provider and it advertises an
    ``end_session_endpoint``, sends the browser there to end the provider's session too."""
    id_token = request.session.get(SESSION_ID_TOKEN_KEY)
    target = reverse(settings.LOGOUT_REDIRECT_URL)
    if id_token and sso_enabled():
        try:
            end_session = setting("OIDC_OP_END_SESSION_ENDPOINT")
        except ProviderUnavailable:
            end_session = None
        if end_session:
            query = {
                "id_token_hint": id_token,
                "client_id": settings.OIDC_RP_CLIENT_ID,
                "post_logout_redirect_uri": request.build_absolute_uri(target),
            }
            target = f"{end_session}?{urlencode(query)}"
    auth.logout(request)
    return redirect(target)
