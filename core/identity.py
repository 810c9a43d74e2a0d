"""Single sign-on through an OpenID Connect provider (mozilla-django-oidc), beside the local sign-in.

Configured from the environment (docs/configuration.md): either the provider's issuer (its endpoints are read from
``<issuer>/.well-known/openid-configuration`` when first needed, then kept for an hour) or each endpoint
explicitly; SSO is off until a client id and the endpoints are known (``sso_enabled``).

At sign-in the ID token is verified (signature against the provider's JWKS, algorithm, expiry, issuer and
audience); a token that fails any check is refused with a page, never a 500. The provider's groups claim is
mapped to the portal's roles (``SSO_ROLE_MAPPING``) and, for liaisons, a claim of country codes to their
assignments (``SSO_COUNTRIES_CLAIM``): ``sync_user_from_claims`` creates or updates the user, its role groups
and its assignments (through ``countries.services``), each change audited. A provider that cannot be reached
gives a clear page (503) and the local sign-in stays usable for the break-glass administrators.

The backend, the views and the synchronisation of users are in ``portal/identity.py`` (they reach below
``core``, to the liaison assignments); this module holds the settings, the claim rules and the session's record.

When the ID token's ``amr`` claim (RFC 8176) names a second factor (``MFA_AMR_VALUES``), the session records it
(``request.session["identity_provider_mfa"] = True``) and ``provider_asserted_mfa`` tells the two-factor code
that this session already has a verified second factor.
"""

import time

import requests
from django.conf import settings
from mozilla_django_oidc.utils import import_from_settings

from core import roles

SESSION_MFA_KEY = "identity_provider_mfa"
SESSION_ID_TOKEN_KEY = "oidc_id_token"
# RFC 8176 authentication method references that mean a second factor was used (or the method is one by itself):
# "mfa" (multiple factors), "otp" (one-time password), "hwk"/"swk" (proof of a hardware or software key),
# "sms" (confirmation by text message), "fpt" (fingerprint), "face" (facial recognition). "pwd" alone is not.
MFA_AMR_VALUES = frozenset({"mfa", "otp", "hwk", "swk", "sms", "fpt", "face"})

# Provider endpoints: the setting that names each and its key in the discovery document.
ENDPOINTS = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "OIDC_OP_END_SESSION_ENDPOINT": "end_session_endpoint",
}
DISCOVERY_SECONDS = 3600
_discovery: dict[str, tuple[float, dict]] = {}


class ProviderUnavailable(Exception):
    """The identity provider could not be reached or answered with an error."""


def provider_asserted_mfa(request) -> bool:
    """Whether this session was signed in through the identity provider with a second factor (its ``amr`` claim).

    The two-factor code treats such a session as having a verified second factor, so the user is not asked twice.
    """
    return bool(request.session.get(SESSION_MFA_KEY))


def amr_asserts_mfa(amr) -> bool:
    """Whether an ``amr`` claim (a list of strings, RFC 8176) names any of ``MFA_AMR_VALUES``."""
    if isinstance(amr, str):
        amr = [amr]
    if not isinstance(amr, list | tuple):
        return False
    return any(isinstance(value, str) and value in MFA_AMR_VALUES for value in amr)


def _discovery_document(issuer: str) -> dict:
    cached = _discovery.get(issuer)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(str(error)) from error
    _discovery[issuer] = (time.monotonic() + DISCOVERY_SECONDS, document)
    return document


def setting(name: str, *default):
    """A mozilla-django-oidc setting, with the endpoints read from the issuer's discovery document when not set."""
    value = import_from_settings(name, *default) if default or hasattr(settings, name) else None
    if name in ENDPOINTS and not value and settings.OIDC_OP_ISSUER:
        value = _discovery_document(settings.OIDC_OP_ISSUER).get(ENDPOINTS[name])
    return value


def sso_enabled() -> bool:
    """SSO is on when a client id is set and an issuer (or at least the authorisation and token endpoints) is."""
    if not settings.OIDC_RP_CLIENT_ID:
        return False
    return bool(settings.OIDC_OP_ISSUER or (settings.OIDC_OP_AUTHORIZATION_ENDPOINT and settings.OIDC_OP_TOKEN_ENDPOINT))


def may_use_local_password(username) -> bool:
    """Local passwords are for everyone unless ``SSO_LOCAL_PASSWORDS`` is off; then only for the break-glass
    administrators named in ``SSO_BREAK_GLASS_USERS``."""
    if settings.SSO_LOCAL_PASSWORDS:
        return True
    return isinstance(username, str) and username in settings.SSO_BREAK_GLASS_USERS


def mapped_roles(claims: dict) -> set[str]:
    """The portal roles the provider's groups claim maps to through ``SSO_ROLE_MAPPING`` (unknown groups ignored)."""
    groups = claims.get(settings.SSO_GROUPS_CLAIM) or []
    if isinstance(groups, str):
        groups = [groups]
    mapping = settings.SSO_ROLE_MAPPING
    return {mapping[group] for group in groups if isinstance(group, str) and mapping.get(group) in roles.ALL_ROLES}


def claimed_country_codes(claims: dict) -> set[str]:
    """The country codes of ``SSO_COUNTRIES_CLAIM`` (a list, or a string separated by commas or spaces), upper case."""
    value = claims.get(settings.SSO_COUNTRIES_CLAIM) or []
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    return {code.strip().upper() for code in value if isinstance(code, str) and len(code.strip()) == 2}
