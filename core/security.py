"""Sign-in protection: the client address, django-axes' lockout check and the page a locked-out user sees.

One notion of "the client's address" serves the sign-in lockout (axes), the API's rate limits (DRF) and the
lockout of failed API tokens: DRF's, which honours ``NUM_PROXIES`` (the last address a trusted proxy added
to ``X-Forwarded-For``, or ``REMOTE_ADDR`` with no proxy). Behind a proxy, set ``NUM_PROXIES`` and all three
follow.
"""

import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import render
from rest_framework.throttling import BaseThrottle


def client_address(request) -> str:
    """The caller's address as DRF's throttles see it (``NUM_PROXIES`` aware); axes' AXES_CLIENT_IP_CALLABLE."""
    return BaseThrottle().get_ident(request) or ""


class LockoutBackend(AxesStandaloneBackend):
    """axes' check that refuses a sign-in while the account is locked out from this address.

    It only applies to sign-ins that come with a request (the sign-in page, the admin's). ``authenticate()``
    called without one (a management command, a shell, ``Client.login()`` in tests) is no attempt from an
    address, so there is nothing to count or lock; axes' own backend would raise an error instead.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class LocalPasswordBackend(ModelBackend):
    """Django's user name and password check, unless local passwords are off (``SSO_LOCAL_PASSWORDS``): then only
    the break-glass administrators (``SSO_BREAK_GLASS_USERS``) may still use one (core/identity.py)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        from core.identity import may_use_local_password

        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not may_use_local_password(username):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_minutes() -> int:
    """The cool-off of a lockout, in whole minutes (rounded up)."""
    return max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))


def lockout_response(request, original_response=None, credentials=None):
    """The page shown instead of the sign-in form once an account is locked out (AXES_LOCKOUT_CALLABLE): 429."""
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": lockout_minutes()}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


def lockout_username(request, credentials=None):
    """The user name axes counts failures for, as typed but no longer than a user name can be: a longer one names
    no account, and axes would otherwise write it whole into its 255-character column (a 500 on PostgreSQL)."""
    field = settings.AXES_USERNAME_FORM_FIELD
    source = credentials or (request.POST if request is not None else {})
    username = source.get(field)
    if not isinstance(username, str):
        return username
    user_model = get_user_model()
    return username[: user_model._meta.get_field(user_model.USERNAME_FIELD).max_length]


def second_factor_locked_out(request, user) -> bool:
    """The account is locked out from this address (wrong passwords and wrong second-factor codes alike)."""
    return AxesProxyHandler.is_locked(request, {"username": user.get_username()})


def count_failed_second_factor(request, user) -> bool:
    """A wrong second-factor code counts as a failed sign-in of the account from this address, in the same counter as
    wrong passwords (axes). Returns whether this failure locked the account out."""
    user_login_failed.send(sender=__name__, credentials={"username": user.get_username()}, request=request)
    return bool(getattr(request, "axes_locked_out", False)) or second_factor_locked_out(request, user)
