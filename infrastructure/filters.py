"""FilterSets for organisations and facilities, shared by the HTML lists and the API."""

import django_filters
from django.db.models import Q

from core.filters import IdFilter
from countries.regions import Region

from .models import Facility, FacilityPartner, Organisation


class OrganisationFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", max_length=100, label="Search")
    kind = django_filters.ChoiceFilter(choices=Organisation.Kind.choices)
    country = django_filters.CharFilter(field_name="country__iso2", lookup_expr="iexact", max_length=2)
    country_id = IdFilter(field_name="country_id")

    class Meta:
        model = Organisation
        fields = ["q", "kind", "country", "country_id"]


class FacilityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", max_length=100, label="Search")
    country = django_filters.CharFilter(field_name="country__iso2", lookup_expr="iexact", max_length=2)
    country_id = IdFilter(field_name="country_id")
    region = django_filters.ChoiceFilter(field_name="country__region", choices=Region.choices)
    kind = django_filters.ChoiceFilter(choices=Facility.Kind.choices)
    status = django_filters.ChoiceFilter(choices=Facility.Status.choices)
    sector = django_filters.ChoiceFilter(choices=Facility.Sector.choices)
    organisation_id = IdFilter(method="filter_organisation")
    expected_online = django_filters.DateFromToRangeFilter()

    class Meta:
        model = Facility
        fields = ["q", "country", "country_id", "region", "kind", "status", "sector", "organisation_id", "expected_online"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(city__icontains=value) | Q(description__icontains=value))

    def filter_organisation(self, queryset, name, value):
        return queryset.filter(pk__in=FacilityPartner.objects.filter(organisation_id=value).values("facility_id"))
