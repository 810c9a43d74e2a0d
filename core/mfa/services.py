"""Writes of second factors: an authenticator app added (after a first right code), a security key named once the
browser registered it, recovery codes generated, a factor removed. Each records an outbox event (the audit trail of
the account: kind and name, never a secret)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from core import catalogue
from core.events import emit

from .policies import RECOVERY_DEVICE_NAME, recovery_code_digest, recovery_device, second_factor_required

TOTP = "totp"
SECURITY_KEY = "security_key"


def _own(actor, user) -> None:
    if actor.pk != user.pk:
        raise PermissionDenied(_("You may only change your own second factors."))


@transaction.atomic
def totp_enrolment_start(*, actor, user) -> TOTPDevice:
    """A new, unconfirmed authenticator app with a fresh secret (an earlier unconfirmed one is dropped): it counts for
    nothing until a code from the app confirms it."""
    _own(actor, user)
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    count = TOTPDevice.objects.filter(user=user, confirmed=True).count()
    name = _("Authenticator app") if not count else _("Authenticator app %(number)d") % {"number": count + 1}
    return TOTPDevice.objects.create(user=user, name=name, confirmed=False)


@transaction.atomic
def totp_enrolment_confirm(*, actor, device: TOTPDevice, token: str) -> bool:
    """Confirm the app with a code it shows; False (and nothing written) when the code is wrong."""
    _own(actor, device.user)
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, confirmed=False)
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    emit(kind=catalogue.SECOND_FACTOR_ADDED, subject=device.user, actor=actor, payload={"kind": TOTP, "name": device.name})
    return True


@transaction.atomic
def security_key_registered(*, actor, credential: WebAuthnCredential) -> None:
    """Record a security key or passkey the browser has just registered (django-otp-webauthn wrote the row)."""
    _own(actor, credential.user)
    emit(
        kind=catalogue.SECOND_FACTOR_ADDED,
        subject=credential.user,
        actor=actor,
        payload={"kind": SECURITY_KEY, "name": credential.name},
    )


@transaction.atomic
def recovery_codes_generate(*, actor, user) -> list[str]:
    """A new set of MFA_RECOVERY_CODE_COUNT one-time codes, replacing any earlier set; returned once to be shown."""
    _own(actor, user)
    StaticDevice.objects.filter(user=user, name=RECOVERY_DEVICE_NAME).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME, confirmed=True)
    codes = []
    while len(codes) < settings.MFA_RECOVERY_CODE_COUNT:
        code = StaticToken.random_token()
        if code not in codes:
            codes.append(code)
    # Only their digests are kept: the codes are shown this once.
    StaticToken.objects.bulk_create(StaticToken(device=device, token=recovery_code_digest(code)) for code in codes)
    emit(kind=catalogue.RECOVERY_CODES_GENERATED, subject=user, actor=actor, payload={"count": len(codes)})
    return codes


@transaction.atomic
def second_factor_remove(*, actor, device) -> None:
    """Remove an authenticator app or a security key. The last one goes only if the user's role does not require a
    second factor; with it go the recovery codes (a fallback for a factor that no longer exists)."""
    user = device.user
    _own(actor, user)
    kind = SECURITY_KEY if isinstance(device, WebAuthnCredential) else TOTP
    others = (
        TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk if kind == TOTP else None).count()
        + WebAuthnCredential.objects.filter(user=user, confirmed=True)
        .exclude(pk=device.pk if kind == SECURITY_KEY else None)
        .count()
    )
    if not others and second_factor_required(user):
        raise ValidationError(
            _("Your role requires a second factor: add another authenticator app or security key before removing this one.")
        )
    name = device.name
    device.delete()
    if not others and (codes := recovery_device(user)) is not None:
        codes.delete()
    emit(kind=catalogue.SECOND_FACTOR_REMOVED, subject=user, actor=actor, payload={"kind": kind, "name": name})
