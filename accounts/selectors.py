"""Reads of the portal's users: the users list of programme staff and each user's own sessions."""

from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from core import roles
from core.models import ApiToken
from countries.selectors import assigned_countries_by_user, users_assigned_to

from .models import Invitation, SignedInSession
from .second_factor import second_factor_summaries

User = get_user_model()

ACTIVE, INVITED, DEACTIVATED = "active", "invited", "deactivated"
ORDERINGS = {
    "name": ("first_name", "last_name", "username"),
    # Never signed in last, on every database (PostgreSQL puts NULL first in a descending order).
    "-last_login": (F("last_login").desc(nulls_last=True), "first_name", "last_name"),
    "email": ("email", "username"),
}


def _pending_invitations():
    return Invitation.objects.filter(user=OuterRef("pk"), accepted_at__isnull=True, withdrawn_at__isnull=True)


def user_list(*, q: str = "", role: str = "", country=None, status: str = "", ordering: str = "name") -> QuerySet:
    """Every user of the portal with what the list shows: their groups, the count of live API tokens and whether an
    invitation is pending (the countries of a page are read by ``with_countries``)."""
    now = timezone.now()
    live_tokens = Q(auth_token_set__expiry__isnull=True) | Q(auth_token_set__expiry__gt=now)
    qs = (
        User.objects.annotate(
            live_tokens=Count("auth_token_set", filter=live_tokens, distinct=True),
            invitation_pending=Exists(_pending_invitations()),
        )
        .prefetch_related(Prefetch("groups"))
        .order_by(*ORDERINGS.get(ordering, ORDERINGS["name"]))
    )
    if q := (q or "").strip():
        for word in q.split()[:5]:
            qs = qs.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(email__icontains=word)
                | Q(username__icontains=word)
            )
    if role == "administrator":
        qs = qs.filter(is_superuser=True)
    elif role in roles.ALL_ROLES:
        qs = qs.filter(groups__name=role)
    elif role == "none":
        qs = qs.filter(is_superuser=False).exclude(groups__name__in=roles.ALL_ROLES)
    if country is not None:
        qs = qs.filter(pk__in=users_assigned_to(country))
    if status == ACTIVE:
        qs = qs.filter(is_active=True)
    elif status == INVITED:
        qs = qs.filter(is_active=False, invitation_pending=True)
    elif status == DEACTIVATED:
        qs = qs.filter(is_active=False, invitation_pending=False)
    return qs


def status_of(user) -> str:
    if user.is_active:
        return ACTIVE
    pending = getattr(user, "invitation_pending", None)
    if pending is None:
        pending = Invitation.objects.filter(user=user, accepted_at__isnull=True, withdrawn_at__isnull=True).exists()
    return INVITED if pending else DEACTIVATED


def role_of(user) -> str | None:
    """The user's portal role (a ``core.roles`` name), from their prefetched groups."""
    names = {g.name for g in user.groups.all()}
    return next((r for r in roles.ALL_ROLES if r in names), None)


def with_details(users) -> list:
    """A page of users, each with ``countries``, ``role``, ``status`` and ``second_factor`` set (one query for the
    countries of the whole page)."""
    users = list(users)
    countries = assigned_countries_by_user([u.pk for u in users])
    factors = second_factor_summaries(users)
    for user in users:
        user.countries = countries.get(user.pk, [])
        user.role = role_of(user)
        user.status = status_of(user)
        user.second_factor = factors[user.pk]
    return users


def user_get(pk: int):
    user = user_list().get(pk=pk)
    return with_details([user])[0]


def live_tokens(user) -> QuerySet:
    now = timezone.now()
    return ApiToken.objects.filter(user=user).filter(Q(expiry__isnull=True) | Q(expiry__gt=now)).order_by("-created")


def latest_invitation(user) -> Invitation | None:
    return Invitation.objects.filter(user=user).order_by("-created_at", "-id").first()


def sessions_of(user) -> list[SignedInSession]:
    """The user's sessions that have not expired, the most recently used first. Where sessions are stored in the
    database (both of the portal's engines), only those whose session is still there: one ended without a sign-out
    (another person signing in in the same browser) is not listed."""
    now = timezone.now()
    qs = SignedInSession.objects.filter(user=user, expires_at__gt=now)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if hasattr(store, "get_model_class") and store.get_model_class() is Session:
        qs = qs.filter(session_key__in=Session.objects.filter(expire_date__gt=now).values("session_key"))
    return list(qs.order_by("-last_seen_at", "-id"))
