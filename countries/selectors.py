"""Reads of countries, counterparts and liaison assignments (who may write for a country: ``countries.policies``)."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from core import country_codes

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


def assigned_countries_by_user(user_ids) -> dict[int, list[Country]]:
    """The countries each of these users is liaison for, in one query (the users list shows a page of them)."""
    found: dict[int, list[Country]] = {}
    rows = LiaisonAssignment.objects.filter(user_id__in=list(user_ids)).select_related("country").order_by("country__sort_en")
    for assignment in rows:
        found.setdefault(assignment.user_id, []).append(assignment.country)
    return found


def users_assigned_to(country: Country) -> QuerySet:
    """Ids of the users assigned as liaisons to ``country`` (a subquery)."""
    return LiaisonAssignment.objects.filter(country=country).values("user_id")


def country_list() -> QuerySet[Country]:
    return Country.objects.all()


def country_get(*, code: str) -> Country:
    """One country by ISO alpha-2 code, either case (raises Country.DoesNotExist, also for anything but two letters)."""
    return Country.objects.get(iso2=country_codes.parse(code) or "")


def countries_for_liaison(user) -> QuerySet[Country]:
    return Country.objects.filter(pk__in=assigned_country_ids(user)).select_related("status")


def counterpart_list(*, country=None, active_only: bool = False, include_erased: bool = False) -> QuerySet[Counterpart]:
    """Counterparts as every list shows them: a duplicate merged into another record, or an erased person, leaves
    every list (both stay on record). ``include_erased``: the erased ones too (staff's export and erasure pages)."""
    from .policies import listed_counterparts_q  # the policies read assigned_country_ids from here

    qs = Counterpart.objects.select_related("country").filter(listed_counterparts_q(include_erased=include_erased))
    if country is not None:
        qs = qs.filter(country=country)
    if active_only:
        qs = qs.filter(Q(active_to__isnull=True) | Q(active_to__gte=timezone.localdate()))
    return qs


def country_status_list() -> QuerySet[CountryStatus]:
    return CountryStatus.objects.select_related("country")


def programme_countries() -> QuerySet[Country]:
    """The countries of the programme (those with a partnership): what groupings and briefing packs are made of."""
    return Country.objects.filter(partnership__isnull=False).order_by("name_en")


def grouping_list():
    from .models import CountryGrouping

    return CountryGrouping.objects.prefetch_related("countries").order_by("name")
