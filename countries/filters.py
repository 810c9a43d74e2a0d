"""FilterSets for countries and counterparts, shared by the HTML lists and the API."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from core.filters import BooleanFilter, CountryCodeFilter, IdFilter

from .models import Counterpart, Country
from .regions import Region, SubRegion


class CountryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=100)
    code = CountryCodeFilter(field_name="iso2")
    region = django_filters.ChoiceFilter(choices=Region.choices)
    subregion = django_filters.ChoiceFilter(choices=SubRegion.choices)
    in_programme = BooleanFilter(field_name="partnership", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Country
        fields = ["q", "code", "region", "subregion", "in_programme"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name_en__icontains=value) | Q(name_fr__icontains=value) | Q(iso2__iexact=value) | Q(iso3__iexact=value)
        )


class CounterpartFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search", max_length=100)
    country = CountryCodeFilter(field_name="country__iso2")
    country_id = IdFilter(field_name="country_id")
    active = BooleanFilter(method="filter_active")

    class Meta:
        model = Counterpart
        fields = ["q", "country", "country_id", "active"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(title__icontains=value) | Q(organisation__icontains=value) | Q(email__icontains=value)
        )

    def filter_active(self, queryset, name, value):
        active = Q(active_to__isnull=True) | Q(active_to__gte=timezone.localdate())
        return queryset.filter(active) if value else queryset.exclude(active)
