"""FilterSets for engagements, follow-ups and agreements, shared by the HTML lists and the API."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from core.filters import BooleanFilter, CountryCodeFilter, IdFilter

from .models import Agreement, Engagement, FollowUp


class EngagementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", max_length=100, label="Search")
    country = CountryCodeFilter(field_name="country__iso2")
    country_id = IdFilter(field_name="country_id")
    kind = django_filters.ChoiceFilter(choices=Engagement.Kind.choices)
    sensitivity = django_filters.ChoiceFilter(choices=Engagement.Sensitivity.choices)
    track = django_filters.CharFilter(method="filter_track", max_length=50)
    track_id = IdFilter(method="filter_track_id")
    occurred_on = django_filters.DateFromToRangeFilter()
    logged_by = django_filters.CharFilter(field_name="logged_by__username", max_length=150)
    logged_by_id = IdFilter(field_name="logged_by_id")
    counterpart_id = IdFilter(method="filter_counterpart")

    class Meta:
        model = Engagement
        fields = [
            "q", "country", "country_id", "kind", "sensitivity", "track", "track_id", "occurred_on", "logged_by",
            "logged_by_id", "counterpart_id",
        ]  # fmt: skip

    def search(self, queryset, name, value):
        return queryset.filter(Q(summary__icontains=value) | Q(outcome__icontains=value))

    def filter_track(self, queryset, name, value):
        return queryset.filter(pk__in=Engagement.tracks.through.objects.filter(track__key=value).values("engagement_id"))

    def filter_track_id(self, queryset, name, value):
        return queryset.filter(pk__in=Engagement.tracks.through.objects.filter(track_id=value).values("engagement_id"))

    def filter_counterpart(self, queryset, name, value):
        return queryset.filter(
            pk__in=Engagement.counterparts.through.objects.filter(counterpart_id=value).values("engagement_id")
        )


class FollowUpFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="description", lookup_expr="icontains", max_length=100, label="Search")
    country = CountryCodeFilter(field_name="country__iso2")
    country_id = IdFilter(field_name="country_id")
    track = django_filters.CharFilter(field_name="track__key", max_length=50)
    track_id = IdFilter(field_name="track_id")
    engagement_id = IdFilter(field_name="engagement_id")
    owner = django_filters.CharFilter(field_name="owner__username", max_length=150)
    owner_id = IdFilter(field_name="owner_id")
    done = BooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True)
    overdue = BooleanFilter(method="filter_overdue")
    due_on = django_filters.DateFromToRangeFilter()

    class Meta:
        model = FollowUp
        fields = [
            "q", "country", "country_id", "track", "track_id", "engagement_id", "owner", "owner_id", "done", "overdue", "due_on",
        ]  # fmt: skip

    def filter_overdue(self, queryset, name, value):
        overdue = Q(done_at__isnull=True, due_on__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class AgreementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", max_length=100, label="Search")
    country = CountryCodeFilter(field_name="country__iso2")
    country_id = IdFilter(field_name="country_id")
    kind = django_filters.ChoiceFilter(choices=Agreement.Kind.choices)
    track = django_filters.CharFilter(method="filter_track", max_length=50)
    signed_on = django_filters.DateFromToRangeFilter()
    expires_on = django_filters.DateFromToRangeFilter()

    class Meta:
        model = Agreement
        fields = ["q", "country", "country_id", "kind", "track", "signed_on", "expires_on"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(title__icontains=value) | Q(notes__icontains=value))

    def filter_track(self, queryset, name, value):
        return queryset.filter(pk__in=Agreement.tracks.through.objects.filter(track__key=value).values("agreement_id"))
