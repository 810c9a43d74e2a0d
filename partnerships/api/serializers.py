"""Representations of partnerships, country tracks, stage changes and status, and the input of each write."""

from rest_framework import serializers

from announcements import policies as announcement_policies
from core.api import fields as api_fields
from core.api.fields import UsernameField
from core.limits import REASON_MAX_LENGTH
from countries.api.fields import CountryCodeField, OwnerField
from countries.models import Health
from engagements import policies as engagement_policies
from tracks.api.fields import TrackKeyField

from ..models import CountryTrack, Partnership, StageChange


class PartnershipSerializer(serializers.ModelSerializer):
    country = CountryCodeField(read_only=True)
    country_name = serializers.CharField(source="country.name_en", read_only=True)
    lead_liaison = UsernameField(read_only=True, allow_null=True)

    class Meta:
        model = Partnership
        fields = ["country", "country_name", "status", "lead_liaison", "started_on", "notes", "created_at", "updated_at"]
        read_only_fields = fields


class PartnershipCreateSerializer(serializers.Serializer):
    country = CountryCodeField()
    status = serializers.ChoiceField(choices=Partnership.Status.choices, default=Partnership.Status.PIPELINE)
    lead_liaison = UsernameField(required=False, allow_null=True)
    started_on = api_fields.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10000)


class PartnershipUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Partnership.Status.choices, required=False)
    lead_liaison = UsernameField(required=False, allow_null=True)
    started_on = api_fields.DateField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10000)


class CountryTrackSerializer(serializers.ModelSerializer):
    country = CountryCodeField(read_only=True)
    track = TrackKeyField(read_only=True)
    stage = serializers.CharField(source="stage.key", read_only=True)
    stage_name = serializers.CharField(source="stage.name_en", read_only=True)
    ladder_stage = serializers.CharField(source="ladder_stage.key", read_only=True)
    days_in_stage = serializers.IntegerField(read_only=True)
    owner = UsernameField(read_only=True, allow_null=True)

    class Meta:
        model = CountryTrack
        fields = [
            "id", "country", "track", "stage", "stage_name", "ladder_stage", "stage_changed_at", "days_in_stage", "owner",
            "next_step", "next_step_due", "pause_reason", "resume_on", "priority", "health", "last_engagement_on",
            "open_follow_ups", "overdue_follow_ups", "health_computed_at",
        ]  # fmt: skip
        read_only_fields = fields


class CountryTrackUpdateSerializer(serializers.Serializer):
    owner = OwnerField(required=False, allow_null=True)
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=300)
    next_step_due = api_fields.DateField(required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=CountryTrack.Priority.choices, required=False)


class StageMoveSerializer(serializers.Serializer):
    to_stage = serializers.CharField(max_length=50, help_text="Key of a stage on the track's ladder, e.g. 'negotiating'.")
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=REASON_MAX_LENGTH, help_text="Required to move back."
    )
    evidence_engagement = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    evidence_agreement = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    evidence_announcement = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class PauseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, allow_blank=True)
    resume_on = api_fields.DateField(allow_null=True)


class ResumeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=REASON_MAX_LENGTH)


class StageChangeSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country_track.country.iso2", read_only=True)
    track = serializers.CharField(source="country_track.track.key", read_only=True)
    from_stage = serializers.SerializerMethodField()
    to_stage = serializers.CharField(source="to_stage.key", read_only=True)
    actor = UsernameField(read_only=True, allow_null=True)

    class Meta:
        model = StageChange
        fields = [
            "id", "country", "track", "country_track", "from_stage", "to_stage", "actor", "changed_at", "note",
            "evidence_engagement", "evidence_agreement", "evidence_announcement",
        ]  # fmt: skip
        read_only_fields = fields

    evidence_engagement = serializers.SerializerMethodField()
    evidence_announcement = serializers.SerializerMethodField()

    def get_from_stage(self, obj) -> str | None:
        return obj.from_stage.key if obj.from_stage_id else None

    def get_evidence_engagement(self, obj) -> int | None:
        """Hidden when it is a confidential engagement the reader may not see (its id would reveal it)."""
        engagement = obj.evidence_engagement
        if engagement is None:
            return None
        return engagement.pk if engagement_policies.can_see_engagement(self.context["request"].user, engagement) else None

    def get_evidence_announcement(self, obj) -> int | None:
        """Hidden until the announcement is published (staff see it at once)."""

        announcement = obj.evidence_announcement
        if announcement is None:
            return None
        return announcement.pk if announcement_policies.can_cite(self.context["request"].user, announcement) else None


class TrackStatusSerializer(serializers.Serializer):
    track = serializers.CharField()
    stage = serializers.CharField()
    stage_position = serializers.IntegerField()
    health = serializers.ChoiceField(choices=Health.choices)
    days_in_stage = serializers.IntegerField()
    last_engagement_on = api_fields.DateField(allow_null=True)
    open_follow_ups = serializers.IntegerField()
    overdue_follow_ups = serializers.IntegerField()
    resume_on = api_fields.DateField(allow_null=True)


class CountryStatusSerializer(serializers.Serializer):
    """Documents the shape built by ``status_rows`` (which reads ``values()``, not model instances)."""

    country = serializers.CharField(help_text="ISO alpha-2 code.")
    name_en = serializers.CharField()
    name_fr = serializers.CharField()
    region = serializers.CharField()
    furthest_stage = serializers.CharField()
    readiness = serializers.DecimalField(max_digits=5, decimal_places=1, help_text="Percent of the ladder climbed.")
    worst_health = serializers.ChoiceField(choices=Health.choices)
    engagement_count = serializers.IntegerField()
    last_engagement_on = api_fields.DateField(allow_null=True)
    open_follow_ups = serializers.IntegerField()
    overdue_follow_ups = serializers.IntegerField()
    mw_planned = serializers.DecimalField(max_digits=12, decimal_places=2)
    mw_operational = serializers.DecimalField(max_digits=12, decimal_places=2)
    tracks = TrackStatusSerializer(many=True)
    computed_at = api_fields.AwareDateTimeField()


class StatusListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    computed_at = api_fields.AwareDateTimeField(allow_null=True, help_text="The newest rollup among the rows.")
    results = CountryStatusSerializer(many=True)
