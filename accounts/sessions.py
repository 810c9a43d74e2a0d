"""Which browser sessions each user is signed in with (``SignedInSession``): recorded at every sign-in, however it
is made (the sign-in page, an accepted invitation, any other sign-in that goes through ``django.contrib.auth.login``),
refreshed while the session is used (``SessionActivityMiddleware``), forgotten at sign-out.

Bookkeeping only: no rule is decided here. Ending sessions (a deactivation, "sign out my other sessions") is a
service (``accounts.services``), through ``core.sessions.end_sessions``.
"""

import datetime

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _

from core.security import client_address

from .models import SignedInSession

# How often a session's "last seen" is written, at most (a write per request would cost every page a query).
SEEN_EVERY = datetime.timedelta(minutes=5)
SEEN_KEY = "_accounts_seen"


def _address(request) -> str | None:
    address = client_address(request)
    return address or None


def record(request, user) -> SignedInSession | None:
    """Record (or refresh) the request's session as one of ``user``'s."""
    session = getattr(request, "session", None)
    if session is None:
        return None
    if session.session_key is None:
        session.save()  # a session that has never been saved has no key yet
    now = timezone.now()
    row, _created = SignedInSession.objects.update_or_create(
        session_key=session.session_key,
        defaults={
            "user": user,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "ip_address": _address(request),
            "last_seen_at": now,
            "expires_at": session.get_expiry_date(),
        },
        create_defaults={
            "user": user,
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
            "ip_address": _address(request),
            "signed_in_at": now,
            "last_seen_at": now,
            "expires_at": session.get_expiry_date(),
        },
    )
    session[SEEN_KEY] = int(now.timestamp())
    return row


@receiver(user_logged_in, dispatch_uid="accounts.record_session")
def _signed_in(sender, request, user, **kwargs):
    if request is not None:
        record(request, user)


@receiver(user_logged_out, dispatch_uid="accounts.forget_session")
def _signed_out(sender, request, user, **kwargs):
    session = getattr(request, "session", None) if request is not None else None
    if session is not None and session.session_key:
        SignedInSession.objects.filter(session_key=session.session_key).delete()


class SessionActivityMiddleware:
    """Keeps "last seen" of the signed-in user's session within ``SEEN_EVERY`` (and records a session signed in
    before sessions were recorded, or whose key changed, as with a password change)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None and session.session_key:
            seen = session.get(SEEN_KEY)
            if seen is None or timezone.now().timestamp() - seen >= SEEN_EVERY.total_seconds():
                record(request, user)
        return response


def describe_user_agent(user_agent: str) -> str:
    """ "Firefox 128 on Windows", "Mobile Safari 17 on iOS (iPhone)": what a person recognises of a browser."""
    if not user_agent:
        return _("Unknown browser")
    from ua_parser import parse

    result = parse(user_agent)
    browser = result.user_agent
    name = browser.family if browser and browser.family != "Other" else _("Unknown browser")
    if browser and browser.major and browser.family != "Other":
        name = f"{name} {browser.major}"
    system = result.os.family if result.os and result.os.family != "Other" else ""
    device = result.device.family if result.device and result.device.family not in ("Other", "Mac", "") else ""
    if system:
        name = _("%(browser)s on %(system)s") % {"browser": name, "system": system}
    if device:
        name = f"{name} ({device})"
    return name
