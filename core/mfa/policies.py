"""The second-factor rule, in one place: who must have a second factor, whether a session has verified one, what a
session must still do before it reaches the portal, and whether a recent one is needed before a long-lived
credential (an API token, a calendar feed) is created. Every surface (the middleware, the sign-in step, the pages
that create credentials, the user-administration list) calls these functions.

A session's state lives in the session itself, written when the user signs in (``on_sign_in``) and when a factor is
verified (``mark_verified``), so an ordinary page costs no query for it:

- ``identity_provider_mfa``: set by single sign-on when the identity provider asserted multi-factor authentication
  (its ``amr`` claim); such a session counts as verified and is never asked again;
- ``second_factor_pending``: ``"verify"`` (the user has a factor: ask for it) or ``"enrol"`` (the user's role requires
  one and they have none: lead them to add one), set at sign-in and cleared once a factor is verified;
- ``second_factor_verified_at``: when a factor was last verified in this session (seconds since the epoch).
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from core import roles

IDENTITY_PROVIDER_MFA = "identity_provider_mfa"
PENDING = "second_factor_pending"
VERIFIED_AT = "second_factor_verified_at"
SIGNED_IN_AT = "signed_in_at"
VERIFY = "verify"
ENROL = "enrol"
# The one static device that holds a user's recovery codes.
RECOVERY_DEVICE_NAME = "recovery codes"
ADMINISTRATOR = "administrator"


def second_factor_required(user) -> bool:
    """Whether the user's role requires a second factor (MFA_REQUIRED_ROLES: group names, and "administrator" for
    superusers)."""
    if not user or not user.is_authenticated:
        return False
    required = set(settings.MFA_REQUIRED_ROLES)
    if not required:
        return False
    if user.is_superuser and ADMINISTRATOR in required:
        return True
    return bool(roles.group_names(user) & required)


def user_has_second_factor(user) -> bool:
    """A confirmed authenticator app or security key (recovery codes alone are a fallback, not a factor)."""
    if not user or not user.is_authenticated:
        return False
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def must_enrol(user) -> bool:
    """The user's role requires a second factor and they have none yet."""
    return second_factor_required(user) and not user_has_second_factor(user)


def second_factor_verified(request) -> bool:
    """A second factor was verified in this session: here (django-otp), or by the identity provider at sign-in."""
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated:
        return False
    if request.session.get(IDENTITY_PROVIDER_MFA):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def second_factor_step(request) -> str | None:
    """What this session must still do before it reaches the portal: ``VERIFY``, ``ENROL``, or nothing (None)."""
    session = getattr(request, "session", None)
    pending = session.get(PENDING) if session is not None else None  # read first: most sessions have nothing pending
    if not pending:
        return None
    user = getattr(request, "user", None)
    if not user or not user.is_authenticated or second_factor_verified(request):
        return None
    return pending


def second_factor_satisfied(request) -> bool:
    """The signed-in session meets the second-factor rule: verified, or nothing is asked of its user."""
    user = getattr(request, "user", None)
    return bool(user and user.is_authenticated) and second_factor_step(request) is None


def recent_second_factor_missing(request) -> bool:
    """Creating a long-lived credential must first ask for the second factor again: none was verified in this session
    within MFA_RECENT_MINUTES. A user with no factor whose role requires none has nothing to be asked for."""
    user = request.user
    if not second_factor_verified(request):
        return user_has_second_factor(user) or second_factor_required(user)
    stamp = request.session.get(VERIFIED_AT)
    if stamp is None and request.session.get(IDENTITY_PROVIDER_MFA):
        stamp = request.session.get(SIGNED_IN_AT)  # the provider verified it when the user signed in
    return stamp is None or time.time() - float(stamp) > settings.MFA_RECENT_MINUTES * 60


def on_sign_in(sender, request, user, **kwargs):
    """At every sign-in (django.contrib.auth.login, whatever the path: the sign-in page, the admin's, single sign-on),
    note what the new session must do. Connected to ``user_logged_in`` in core's AppConfig."""
    session = getattr(request, "session", None)
    if session is None:
        return
    session[SIGNED_IN_AT] = time.time()
    session.pop(VERIFIED_AT, None)
    session.pop(PENDING, None)
    if session.get(IDENTITY_PROVIDER_MFA):
        return
    if user_has_second_factor(user):
        session[PENDING] = VERIFY
    elif second_factor_required(user):
        session[PENDING] = ENROL


def mark_verified(request, device) -> None:
    """A factor was verified in this session: remember which and when, and give the session a new key (its rights
    grew, so an earlier copy of its cookie must not share them)."""
    from django_otp import login as otp_login

    otp_login(request, device)
    request.session.cycle_key()
    request.session[VERIFIED_AT] = time.time()
    request.session.pop(PENDING, None)


@dataclass(frozen=True)
class SecondFactorStatus:
    """What the account pages and the user-administration list show of a user's second factors."""

    authenticator_apps: int
    security_keys: int
    recovery_codes_left: int
    required: bool

    @property
    def enrolled(self) -> bool:
        return bool(self.authenticator_apps or self.security_keys)

    @property
    def methods(self) -> tuple[str, ...]:
        """Machine names: ``"totp"``, ``"security_key"`` (empty: none)."""
        return tuple(name for name, n in (("totp", self.authenticator_apps), ("security_key", self.security_keys)) if n)

    @property
    def summary(self) -> str:
        """One line for a list: "None", "Authenticator app", "2 security keys", "Authenticator app, 1 security key"."""
        parts = []
        if self.authenticator_apps:
            parts.append(
                ngettext("Authenticator app", "%(count)d authenticator apps", self.authenticator_apps)
                % {"count": self.authenticator_apps}
            )
        if self.security_keys:
            parts.append(
                ngettext("%(count)d security key", "%(count)d security keys", self.security_keys) % {"count": self.security_keys}
            )
        return ", ".join(parts) if parts else _("None")


def second_factor_statuses(users) -> dict[int, SecondFactorStatus]:
    """The status of each of ``users`` by user id, in four queries whatever their number (for a list of users)."""
    users = list(users)
    ids = [u.pk for u in users]
    apps, keys, codes = {}, {}, {}
    for user_id in TOTPDevice.objects.filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True):
        apps[user_id] = apps.get(user_id, 0) + 1
    for user_id in WebAuthnCredential.objects.filter(user_id__in=ids, confirmed=True).values_list("user_id", flat=True):
        keys[user_id] = keys.get(user_id, 0) + 1
    groups = {}
    for user_id, name in get_user_model().groups.through.objects.filter(user_id__in=ids).values_list("user_id", "group__name"):
        groups.setdefault(user_id, set()).add(name)
    for u in users:
        u._portal_group_names = frozenset(groups.get(u.pk, ()))  # what roles.group_names() would read, one query for all
    for user_id in StaticToken.objects.filter(
        device__user_id__in=ids, device__name=RECOVERY_DEVICE_NAME, device__confirmed=True
    ).values_list("device__user_id", flat=True):
        codes[user_id] = codes.get(user_id, 0) + 1
    return {
        u.pk: SecondFactorStatus(
            authenticator_apps=apps.get(u.pk, 0),
            security_keys=keys.get(u.pk, 0),
            recovery_codes_left=codes.get(u.pk, 0),
            required=second_factor_required(u),
        )
        for u in users
    }


def second_factor_status(user) -> SecondFactorStatus:
    """One user's second factors: how many authenticator apps and security keys, recovery codes left, required or not.
    The user-administration list shows ``status.summary`` (or ``status.methods``); use ``second_factor_statuses`` for
    many users at once."""
    return second_factor_statuses([user])[user.pk]


def recovery_device(user):
    return StaticDevice.objects.filter(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True).first()


RECOVERY_CODE_SALT = "core.mfa.recovery-code"


def recovery_code_digest(code: str, secret: str | None = None) -> str:
    """What is stored of a recovery code: a digest keyed with the ``SECRET_KEY`` (HMAC-SHA256, its first 16 hex
    digits: the width of django-otp's token column), so a copy of the database gives no code. django-otp still
    finds, spends and throttles it (``StaticDevice.verify_token`` is handed the digest of what was typed)."""
    return salted_hmac(RECOVERY_CODE_SALT, code, secret=secret, algorithm="sha256").hexdigest()[:16]


def recovery_code_to_verify(device, code: str) -> str:
    """The stored digest that ``code`` matches on ``device``, under the ``SECRET_KEY`` or one of its fallbacks (a
    rotated key keeps the codes given before it), or the current key's digest when none does (a miss, counted)."""
    digests = [recovery_code_digest(code, secret) for secret in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]]
    if len(digests) > 1:
        found = set(device.token_set.filter(token__in=digests).values_list("token", flat=True))
        return next((digest for digest in digests if digest in found), digests[0])
    return digests[0]
