"""FilterSets for partnerships, country tracks, stage changes and status, shared by the HTML lists and the API."""

import django_filters

from core.filters import CountryCodeFilter, DateTimeRangeFilter, IdFilter
from countries.models import CountryStatus, Health
from countries.regions import Region
from tracks.models import Track

from .models import CountryTrack, Partnership, StageChange


class PartnershipFilter(django_filters.FilterSet):
    country = CountryCodeFilter(field_name="country__iso2")
    region = django_filters.ChoiceFilter(field_name="country__region", choices=Region.choices)
    status = django_filters.ChoiceFilter(choices=Partnership.Status.choices)
    country_id = IdFilter(field_name="country_id")
    lead_liaison = django_filters.CharFilter(field_name="lead_liaison__username", max_length=150)
    lead_liaison_id = IdFilter(field_name="lead_liaison_id")
    started_on = django_filters.DateFromToRangeFilter()

    class Meta:
        model = Partnership
        fields = ["country", "country_id", "region", "status", "lead_liaison", "lead_liaison_id", "started_on"]


class CountryTrackFilter(django_filters.FilterSet):
    country = CountryCodeFilter(field_name="country__iso2")
    country_id = IdFilter(field_name="country_id")
    region = django_filters.ChoiceFilter(field_name="country__region", choices=Region.choices)
    track = django_filters.CharFilter(field_name="track__key", max_length=50)
    track_id = IdFilter(field_name="track_id")
    stage = django_filters.CharFilter(field_name="stage__key", max_length=50)
    health = django_filters.ChoiceFilter(choices=Health.choices)
    priority = django_filters.ChoiceFilter(choices=CountryTrack.Priority.choices)
    owner = django_filters.CharFilter(field_name="owner__username", max_length=150)
    owner_id = IdFilter(field_name="owner_id")
    next_step_due = django_filters.DateFromToRangeFilter()

    class Meta:
        model = CountryTrack
        fields = [
            "country", "country_id", "region", "track", "track_id", "stage", "health", "priority", "owner", "owner_id",
            "next_step_due",
        ]  # fmt: skip


class StageChangeFilter(django_filters.FilterSet):
    country = CountryCodeFilter(field_name="country_track__country__iso2")
    country_id = IdFilter(field_name="country_track__country_id")
    track = django_filters.CharFilter(field_name="country_track__track__key", max_length=50)
    country_track_id = IdFilter(field_name="country_track_id")
    to_stage = django_filters.CharFilter(field_name="to_stage__key", max_length=50)
    changed_at = DateTimeRangeFilter()

    class Meta:
        model = StageChange
        fields = ["country", "country_id", "track", "country_track_id", "to_stage", "changed_at"]


class StatusFilter(django_filters.FilterSet):
    """Filters of the bulk status. ``stage`` and ``health`` apply to ``track`` when it is given,
    otherwise to the country's furthest stage and worst health."""

    region = django_filters.ChoiceFilter(
        field_name="country__region",
        choices=Region.choices,
        help_text="UN M49 region code: " + ", ".join(f"{code} ({label})" for code, label in Region.choices) + ".",
        error_messages={
            "invalid_choice": "%(value)s is not a region code. Use one of: "
            + ", ".join(f"{code} ({label})" for code, label in Region.choices)
            + "."
        },
    )
    track = django_filters.ModelChoiceFilter(
        method="filter_track",
        queryset=Track.objects.filter(is_active=True),
        to_field_name="key",
        help_text="Track key (see /api/v1/tracks/); narrows stage and health. An unknown key is a 400.",
        error_messages={"invalid_choice": "%(value)s is not the key of an active track: see /api/v1/tracks/."},
    )
    stage = django_filters.CharFilter(method="filter_track", max_length=50, help_text="Stage key.")
    health = django_filters.ChoiceFilter(method="filter_track", choices=Health.choices)

    class Meta:
        model = CountryStatus
        fields = ["region", "track", "stage", "health"]

    def filter_track(self, queryset, name, value):
        # Each of the three is applied once, together, by filter_queryset below.
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        track, stage, health = (self.form.cleaned_data.get(k) for k in ("track", "stage", "health"))
        if track:
            cells = CountryTrack.objects.filter(track=track)
            if stage:
                cells = cells.filter(stage__key=stage)
            if health:
                cells = cells.filter(health=health)
            if stage or health:
                queryset = queryset.filter(country_id__in=cells.values("country_id"))
            return queryset
        if stage:
            queryset = queryset.filter(furthest_stage_key=stage)
        if health:
            queryset = queryset.filter(worst_health=health)
        return queryset
