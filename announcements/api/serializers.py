"""Representations of announcements and the input of each write (types only)."""

from rest_framework import serializers

from core.api import fields as api_fields
from core.api.fields import IdRelatedField, ListsCountedFirstMixin
from countries.api.fields import CountryCodeField
from engagements.models import Agreement
from infrastructure.models import Facility
from tracks.api.fields import TrackKeyField

from ..models import Announcement


class AnnouncementSerializer(serializers.ModelSerializer):
    countries = CountryCodeField(many=True, read_only=True)
    source_url = serializers.CharField(read_only=True, help_text="A URL, or empty.")
    tracks = TrackKeyField(many=True, read_only=True)
    agreements = IdRelatedField(many=True, read_only=True)
    facilities = IdRelatedField(many=True, read_only=True)

    class Meta:
        model = Announcement
        fields = [
            "id", "title", "body", "countries", "tracks", "agreements", "facilities", "status", "embargo_until",
            "published_at", "source_url", "is_public", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class AnnouncementCreateSerializer(ListsCountedFirstMixin, serializers.Serializer):
    title = serializers.CharField(max_length=300, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True, max_length=50000)
    countries = CountryCodeField(many=True, required=False)
    tracks = TrackKeyField(many=True, required=False)
    is_public = serializers.BooleanField(default=True)
    source_url = serializers.URLField(required=False, allow_blank=True, max_length=200)
    agreements = IdRelatedField(
        many=True, required=False, queryset=Agreement.objects.all(), help_text="Ids of agreements with the countries named."
    )
    facilities = IdRelatedField(
        many=True, required=False, queryset=Facility.objects.all(), help_text="Ids of facilities in the countries named."
    )


class AnnouncementUpdateSerializer(ListsCountedFirstMixin, serializers.Serializer):
    title = serializers.CharField(max_length=300, allow_blank=True, required=False)
    body = serializers.CharField(required=False, allow_blank=True, max_length=50000)
    countries = CountryCodeField(many=True, required=False)
    tracks = TrackKeyField(many=True, required=False)
    is_public = serializers.BooleanField(required=False)
    source_url = serializers.URLField(required=False, allow_blank=True, max_length=200)
    agreements = IdRelatedField(many=True, required=False, queryset=Agreement.objects.all())
    facilities = IdRelatedField(many=True, required=False, queryset=Facility.objects.all())


class ScheduleSerializer(serializers.Serializer):
    embargo_until = api_fields.AwareDateTimeField(help_text="ISO 8601 with a time zone, e.g. 2026-12-01T09:00:00+01:00.")
