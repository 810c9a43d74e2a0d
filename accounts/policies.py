"""Who manages the portal's users, and which changes to an account are refused whoever asks.

Programme staff (and administrators) invite people, change their role and countries, deactivate and reactivate
them. An administrator's account (a superuser's) is changed only by another administrator, so that staff cannot
take over or lock out the people who run the portal; nobody deactivates themselves or the last administrator.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from core import roles


def can_manage_users(user) -> bool:
    """Programme staff and administrators see the users list and change accounts."""
    return roles.is_programme_staff(user)


def ensure_can_manage_users(user) -> None:
    if not can_manage_users(user):
        raise PermissionDenied(_("Managing users is for programme staff."))


def ensure_can_change(actor, target) -> None:
    """An administrator's account is changed by administrators only."""
    ensure_can_manage_users(actor)
    if target.is_superuser and not actor.is_superuser:
        raise PermissionDenied(_("Only an administrator changes an administrator's account."))


def deactivation_refusal(actor, target) -> str | None:
    """Why ``actor`` may not deactivate ``target`` (a sentence to show), or None when they may."""
    if actor.pk == target.pk:
        return _("You cannot deactivate your own account: ask another member of staff.")
    if target.is_superuser and is_last_administrator(target):
        return _("This is the last active administrator: make someone else an administrator first.")
    return None


def role_change_refusal(actor, target) -> str | None:
    """Why ``actor`` may not change the role of ``target``: nobody changes their own (they could lock themselves out
    of this page)."""
    if actor.pk == target.pk:
        return _("You cannot change your own role: ask another member of staff.")
    return None


def is_last_administrator(user) -> bool:
    others = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(pk=user.pk)
    return not others.exists()


def ensure_can_deactivate(actor, target) -> None:
    ensure_can_change(actor, target)
    if reason := deactivation_refusal(actor, target):
        raise ValidationError(reason)
