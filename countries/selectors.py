"""Reads of countries and counterparts, and the one place that says who may write for a country."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from core import roles

from .models import Counterpart, Country, CountryStatus, LiaisonAssignment


def assigned_country_ids(user) -> frozenset[int]:
    """Ids of the countries a user is liaison for (cached on the user for the request)."""
    if not user or not user.is_authenticated:
        return frozenset()
    ids = getattr(user, "_portal_country_ids", None)
    if ids is None:
        ids = frozenset(LiaisonAssignment.objects.filter(user=user).values_list("country_id", flat=True))
        user._portal_country_ids = ids
    return ids


def user_can_write_country(user, country_or_id) -> bool:
    """Programme staff write for every country; a liaison only for the countries assigned to them."""
    if roles.is_programme_staff(user):
        return True
    country_id = getattr(country_or_id, "pk", country_or_id)
    return roles.is_liaison(user) and country_id in assigned_country_ids(user)


def ensure_can_write_country(user, country) -> None:
    if not user_can_write_country(user, country):
        raise PermissionDenied(
            _("You may not change data for %(country)s: it is not one of your countries.") % {"country": country}
        )


def ensure_can_read(user) -> None:
    if not roles.can_read(user):
        raise PermissionDenied(_("Your account has no role in the portal yet. Ask programme staff for access."))


def ensure_programme_staff(user) -> None:
    if not roles.is_programme_staff(user):
        raise PermissionDenied(_("Only programme staff may do this."))


def country_writers(country):
    """The active users who may write for ``country``: its liaisons and programme staff (for follow-up owners)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(groups__name=roles.STAFF)
            | Q(groups__name=roles.LIAISON, liaison_assignments__country=country)
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def country_list() -> QuerySet[Country]:
    return Country.objects.all()


def country_get(*, code: str) -> Country:
    """One country by ISO alpha-2 code, case-insensitive (raises Country.DoesNotExist)."""
    return Country.objects.get(iso2=(code or "").strip().upper())


def countries_for_liaison(user) -> QuerySet[Country]:
    return Country.objects.filter(pk__in=assigned_country_ids(user)).select_related("status")


def counterpart_list(*, country=None, active_only: bool = False) -> QuerySet[Counterpart]:
    from django.db.models import Q
    from django.utils import timezone

    qs = Counterpart.objects.select_related("country")
    if country is not None:
        qs = qs.filter(country=country)
    if active_only:
        qs = qs.filter(Q(active_to__isnull=True) | Q(active_to__gte=timezone.localdate()))
    return qs


def country_status_list() -> QuerySet[CountryStatus]:
    return CountryStatus.objects.select_related("country")
