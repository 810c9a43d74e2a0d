"""Reads of partnerships, the country x track matrix and its history."""

from django.db.models import QuerySet

from .models import CountryTrack, Partnership, StageChange


def country_track_list() -> QuerySet[CountryTrack]:
    return CountryTrack.objects.select_related("country", "track", "stage", "ladder_stage", "owner")


def stage_change_list(*, country_track=None) -> QuerySet[StageChange]:
    qs = StageChange.objects.select_related(
        "country_track__country", "country_track__track", "from_stage", "to_stage", "actor",
        "evidence_engagement", "evidence_agreement", "evidence_announcement",
    )  # fmt: skip
    return qs.filter(country_track=country_track) if country_track is not None else qs


def partnership_list() -> QuerySet[Partnership]:
    return Partnership.objects.select_related("country", "country__status", "lead_liaison")
