"""FilterSets for partnership data, shared by the HTML lists and the API."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from core.filters import BooleanFilter, DateTimeRangeFilter, IdFilter
from countries.models import CountryStatus, Health
from countries.regions import Region

from .models import Agreement, Announcement, CountryTrack, Engagement, FollowUp, Partnership, StageChange, Track


class TrackFilter(django_filters.FilterSet):
    is_active = BooleanFilter()

    class Meta:
        model = Track
        fields = ["is_active"]


class PartnershipFilter(django_filters.FilterSet):
    country = django_filters.CharFilter(field_name="country__iso2", lookup_expr="iexact", max_length=2)
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
    country = django_filters.CharFilter(field_name="country__iso2", lookup_expr="iexact", max_length=2)
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
    country = django_filters.CharFilter(field_name="country_track__country__iso2", lookup_expr="iexact", max_length=2)
    country_id = IdFilter(field_name="country_track__country_id")
    track = django_filters.CharFilter(field_name="country_track__track__key", max_length=50)
    country_track_id = IdFilter(field_name="country_track_id")
    to_stage = django_filters.CharFilter(field_name="to_stage__key", max_length=50)
    changed_at = DateTimeRangeFilter()

    class Meta:
        model = StageChange
        fields = ["country", "country_id", "track", "country_track_id", "to_stage", "changed_at"]


class EngagementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", max_length=100, label="Search")
    country = django_filters.CharFilter(field_name="country__iso2", lookup_expr="iexact", max_length=2)
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
    country = django_filters.CharFilter(field_name="country__iso2", lookup_expr="iexact", max_length=2)
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
    country = django_filters.CharFilter(field_name="country__iso2", lookup_expr="iexact", max_length=2)
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


class AnnouncementFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", max_length=100, label="Search")
    country = django_filters.CharFilter(method="filter_country", max_length=2)
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
        through = Announcement.countries.through.objects.filter(country__iso2=value.upper())
        return queryset.filter(pk__in=through.values("announcement_id"))

    def filter_country_id(self, queryset, name, value):
        through = Announcement.countries.through.objects.filter(country_id=value)
        return queryset.filter(pk__in=through.values("announcement_id"))

    def filter_track(self, queryset, name, value):
        return queryset.filter(pk__in=Announcement.tracks.through.objects.filter(track__key=value).values("announcement_id"))

    def filter_track_id(self, queryset, name, value):
        return queryset.filter(pk__in=Announcement.tracks.through.objects.filter(track_id=value).values("announcement_id"))


class StatusFilter(django_filters.FilterSet):
    """Filters of the bulk status. ``stage`` and ``health`` apply to ``track`` when it is given,
    otherwise to the country's furthest stage and worst health."""

    region = django_filters.ChoiceFilter(field_name="country__region", choices=Region.choices)
    track = django_filters.CharFilter(method="filter_track", max_length=50, help_text="Track key; narrows stage and health.")
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
            cells = CountryTrack.objects.filter(track__key=track)
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
