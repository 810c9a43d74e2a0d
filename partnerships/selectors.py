"""Reads of partnerships, the country x track matrix and its history."""

from django.db.models import QuerySet

from .models import CountryTrack, Partnership, StageChange


def country_track_list() -> QuerySet[CountryTrack]:
    return CountryTrack.objects.select_related("country", "track", "stage", "ladder_stage", "owner")


def stage_change_list(*, country_track=None) -> QuerySet[StageChange]:
    # Joined: what every row has. Read apart, a page at a time: what many rows lack or share (with all eleven joined,
    # PostgreSQL spent 42 ms planning a query it ran in 1.4 ms).
    qs = StageChange.objects.select_related("country_track__country", "country_track__track", "to_stage").prefetch_related(
        "from_stage", "actor", "evidence_engagement", "evidence_agreement", "evidence_announcement"
    )
    return qs.filter(country_track=country_track) if country_track is not None else qs


def partnership_list() -> QuerySet[Partnership]:
    return Partnership.objects.select_related("country", "country__status", "lead_liaison")
