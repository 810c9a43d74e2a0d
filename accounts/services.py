"""Writes on the portal's users: invitations, role and countries, deactivation, sessions.

Each takes the acting user, checks ``accounts.policies``, writes in one transaction with an outbox event (the
audit log records the user's own fields, groups and liaison assignments through django-auditlog), and moves the
data version (``emit`` does; role and assignment changes also drop the user's cached API tokens:
``core.api.auth_cache``), so a cached page never shows someone what they may no longer see.
"""

import datetime
import hashlib
import logging
import secrets
import smtplib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core import catalogue, roles
from core.events import emit
from core.models import ApiToken
from core.sessions import end_sessions
from countries import services as country_services
from countries.selectors import assigned_countries_by_user

from . import policies
from .models import Invitation, SignedInSession

logger = logging.getLogger(__name__)

User = get_user_model()


class InvitationUnusable(Exception):
    """The link cannot be used: ``reason`` is "unknown", "used", "expired" or "withdrawn"."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_link(token: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("invitation-accept", args=[token])


def _role_of(user) -> str | None:
    names = set(user.groups.values_list("name", flat=True))
    return next((role for role in roles.ALL_ROLES if role in names), None)


def _set_role(user, role: str) -> None:
    keep = set(user.groups.exclude(name__in=roles.ALL_ROLES))
    user.groups.set([*keep, Group.objects.get(name=role)])
    user.__dict__.pop("_portal_group_names", None)


def _set_countries(*, actor, user, countries) -> None:
    wanted = {c.pk: c for c in countries}
    current = {c.pk: c for c in assigned_countries_by_user([user.pk]).get(user.pk, [])}
    for pk, country in current.items():
        if pk not in wanted:
            country_services.liaison_unassign(actor=actor, user=user, country=country)
    for pk, country in wanted.items():
        if pk not in current:
            country_services.liaison_assign(actor=actor, user=user, country=country)
    user.__dict__.pop("_portal_country_ids", None)


def _check_access(role: str, countries) -> None:
    if role not in roles.ALL_ROLES:
        raise ValidationError({"role": _("Choose a role.")})
    if countries and role != roles.LIAISON:
        raise ValidationError({"countries": _("Only liaisons are assigned countries.")})


def _send_invitation(invitation: Invitation, token: str) -> None:
    """The e-mail with the link, after the commit (a rolled-back invitation sends nothing). A mail server that
    refuses it leaves the invitation in place, logged: staff see it pending and can send it again."""
    context = {
        "name": invitation.user.get_full_name() or invitation.email,
        "link": invitation_link(token),
        "expires_at": invitation.expires_at,
        "invited_by": invitation.invited_by.get_full_name() if invitation.invited_by else "",
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Your invitation to the AI Partnership Programme portal")
        body = render_to_string("accounts/invitation_email.txt", context)
    try:
        send_mail(subject, body, None, [invitation.email])
    except (smtplib.SMTPException, OSError):
        logger.exception("the invitation e-mail to user %s could not be sent", invitation.user_id)


def _new_invitation(*, actor, user) -> tuple[Invitation, str]:
    now = timezone.now()
    Invitation.objects.filter(user=user, accepted_at__isnull=True, withdrawn_at__isnull=True).update(withdrawn_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        user=user,
        email=user.email,
        token_digest=token_digest(token),
        invited_by=actor,
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.INVITATION_EXPIRY_DAYS),
    )
    transaction.on_commit(lambda: _send_invitation(invitation, token))
    return invitation, token


@transaction.atomic
def user_invite(*, actor, email: str, first_name: str, last_name: str, role: str, countries=()) -> tuple[Invitation, str]:
    """Create the account (inactive, with no password) with its role and countries, and e-mail it a one-time link.
    Returns the invitation and the link's token (which is not stored)."""
    policies.ensure_can_manage_users(actor)
    email = (email or "").strip()
    errors = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = _("Enter a valid e-mail address.")
    else:
        if User.objects.filter(email__iexact=email).exists() or User.objects.filter(username__iexact=email).exists():
            errors["email"] = _("Someone with this e-mail address already has an account.")
    if not (first_name or "").strip():
        errors["first_name"] = _("Enter the person's first name.")
    if errors:
        raise ValidationError(errors)
    _check_access(role, countries)
    user = User(
        username=email.lower()[: User._meta.get_field("username").max_length],
        email=email,
        first_name=first_name.strip(),
        last_name=(last_name or "").strip(),
        is_active=False,
    )
    user.set_unusable_password()
    user.save()
    _set_role(user, role)
    _set_countries(actor=actor, user=user, countries=countries)
    invitation, token = _new_invitation(actor=actor, user=user)
    emit(
        kind=catalogue.USER_INVITED,
        subject=user,
        actor=actor,
        payload={"role": role, "countries": sorted(c.iso2 for c in countries)},
    )
    return invitation, token


@transaction.atomic
def invitation_resend(*, actor, user) -> tuple[Invitation, str]:
    """A new link for someone who has not accepted yet; every earlier link stops working."""
    policies.ensure_can_change(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active or user.has_usable_password():
        raise ValidationError(_("This person has already set their password: there is nothing to re-send."))
    invitation, token = _new_invitation(actor=actor, user=user)
    emit(kind=catalogue.USER_INVITATION_RESENT, subject=user, actor=actor)
    return invitation, token


def invitation_find(token: str) -> Invitation:
    """The invitation of this link, if it can still be used; raises ``InvitationUnusable`` saying why not."""
    if not token or len(token) > 100:
        raise InvitationUnusable("unknown")
    invitation = Invitation.objects.select_related("user").filter(token_digest=token_digest(token)).first()
    if invitation is None:
        raise InvitationUnusable("unknown")
    if invitation.accepted_at is not None:
        raise InvitationUnusable("used")
    if invitation.withdrawn_at is not None:
        raise InvitationUnusable("withdrawn")
    if invitation.expires_at <= timezone.now():
        raise InvitationUnusable("expired")
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, password: str):
    """Use the link once: set the password (already checked by Django's validators in the form), let the person in.
    Returns the user, whom the view signs in."""
    invitation = invitation_find(token)
    invitation = Invitation.objects.select_for_update().select_related("user").get(pk=invitation.pk)
    if not invitation.is_pending():  # accepted in another tab between the two reads
        raise InvitationUnusable("used" if invitation.accepted_at else "withdrawn")
    user = invitation.user
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    emit(kind=catalogue.USER_INVITATION_ACCEPTED, subject=user, actor=user)
    return user


@transaction.atomic
def user_access_change(*, actor, user, role: str, countries=()) -> bool:
    """Give ``user`` this role and, for a liaison, exactly these countries (through ``countries.services``, whose
    assignments move the data version). Returns whether anything changed."""
    policies.ensure_can_change(actor, user)
    countries = list(countries)
    _check_access(role, countries)
    before_role = _role_of(user)
    before = sorted(c.iso2 for c in assigned_countries_by_user([user.pk]).get(user.pk, []))
    after = sorted(c.iso2 for c in countries)
    if before_role == role and before == after:
        return False
    if before_role != role and (reason := policies.role_change_refusal(actor, user)):
        raise ValidationError({"role": reason})
    if role != roles.LIAISON:
        _set_countries(actor=actor, user=user, countries=[])
    _set_role(user, role)
    if role == roles.LIAISON:
        _set_countries(actor=actor, user=user, countries=countries)
    emit(kind=catalogue.USER_ACCESS_CHANGED, subject=user, actor=actor, payload={"role": role, "countries": after})
    return True


@transaction.atomic
def user_deactivate(*, actor, user) -> dict:
    """Shut ``user`` out at once: every session ended, every API token deleted (refused from the next call on),
    any pending invitation withdrawn; their calendar feeds stop answering now (they ask for an active user) and are
    revoked by the notifications handler of ``user.deactivated``. Returns what was ended."""
    policies.ensure_can_deactivate(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    pending = Invitation.objects.filter(user=user, accepted_at__isnull=True, withdrawn_at__isnull=True)
    if not user.is_active and not pending.exists():
        raise ValidationError(_("This account is already deactivated."))
    user.is_active = False
    user.save(update_fields=["is_active"])  # drops the user's cached tokens (core.api.auth_cache)
    sessions = _end_sessions(SignedInSession.objects.filter(user=user))
    tokens = 0
    for token in ApiToken.objects.filter(user=user):
        token.delete()  # one by one: each digest is forgotten by the token cache, each deletion audited
        tokens += 1
    pending.update(withdrawn_at=timezone.now())
    emit(kind=catalogue.USER_DEACTIVATED, subject=user, actor=actor, payload={"sessions": sessions, "tokens": tokens})
    return {"sessions": sessions, "tokens": tokens}


@transaction.atomic
def user_reactivate(*, actor, user):
    """Let a deactivated user sign in again (with no session, token or feed: those stay ended)."""
    policies.ensure_can_change(actor, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        raise ValidationError(_("This account is already active."))
    if not user.has_usable_password() and user.last_login is None:
        raise ValidationError(_("This person never accepted their invitation: send it again instead."))
    user.is_active = True
    user.save(update_fields=["is_active"])
    emit(kind=catalogue.USER_REACTIVATED, subject=user, actor=actor)
    return user


def _end_sessions(records) -> int:
    keys = list(records.values_list("session_key", flat=True))
    end_sessions(keys)
    SignedInSession.objects.filter(session_key__in=keys).delete()
    return len(keys)


@transaction.atomic
def sessions_end_others(*, actor, current_session_key: str | None) -> int:
    """Sign ``actor`` out of every session but the one they are using. Returns how many were ended."""
    others = SignedInSession.objects.filter(user=actor).exclude(session_key=current_session_key or "")
    ended = _end_sessions(others)
    if ended:
        emit(kind=catalogue.USER_SESSIONS_ENDED, subject=actor, actor=actor, payload={"sessions": ended})
    return ended
