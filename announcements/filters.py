"""FilterSets for announcements, shared by the HTML lists and the API."""

import django_filters
from django.db.models import Q

from core.filters import BooleanFilter, CountryCodeFilter, DateTimeRangeFilter, IdFilter

from .models import Announcement


class AnnouncementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", max_length=100, label="Search")
    country = CountryCodeFilter(method="filter_country")
    country_id = IdFilter(method="filter_country_id")
    track = django_filters.CharFilter(method="filter_track", max_length=50)
    track_id = IdFilter(method="filter_track_id")
    status = django_filters.ChoiceFilter(choices=Announcement.Status.choices)
    is_public = BooleanFilter()
    published_at = DateTimeRangeFilter()

    class Meta:
        model = Announcement
        fields = ["q", "country", "country_id", "track", "track_id", "status", "is_public", "published_at"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(body__icontains=value))

    def filter_country(self, queryset, name, value):
        through = Announcement.countries.through.objects.filter(country__iso2=value)
        return queryset.filter(pk__in=through.values("announcement_id"))

    def filter_country_id(self, queryset, name, value):
        through = Announcement.countries.through.objects.filter(country_id=value)
        return queryset.filter(pk__in=through.values("announcement_id"))

    def filter_track(self, queryset, name, value):
        return queryset.filter(pk__in=Announcement.tracks.through.objects.filter(track__key=value).values("announcement_id"))

    def filter_track_id(self, queryset, name, value):
        return queryset.filter(pk__in=Announcement.tracks.through.objects.filter(track_id=value).values("announcement_id"))
