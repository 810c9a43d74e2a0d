"""Representations of partnership data, and the input of each write (types only: the rules live in the services)."""

from django.utils import timezone
from rest_framework import serializers

from core.api.fields import UsernameField
from countries.api.fields import CountryCodeField
from countries.models import Counterpart, Health

from ..models import Agreement, Announcement, CountryTrack, Engagement, FollowUp, Partnership, Stage, StageChange, Track


class TrackKeyField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        kwargs.setdefault("slug_field", "key")
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", Track.objects.all())
        super().__init__(**kwargs)


class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["key", "name_en", "name_fr", "kind", "position", "stalled_after_days"]
        read_only_fields = fields


class TrackSerializer(serializers.ModelSerializer):
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Track
        fields = ["key", "name_en", "name_fr", "description", "position", "is_active", "stages"]
        read_only_fields = fields


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
    started_on = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=10000)


class PartnershipUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Partnership.Status.choices, required=False)
    lead_liaison = UsernameField(required=False, allow_null=True)
    started_on = serializers.DateField(required=False)
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
    owner = UsernameField(required=False, allow_null=True)
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=300)
    next_step_due = serializers.DateField(required=False, allow_null=True)
    priority = serializers.ChoiceField(choices=CountryTrack.Priority.choices, required=False)


class StageMoveSerializer(serializers.Serializer):
    to_stage = serializers.CharField(max_length=50, help_text="Key of a stage on the track's ladder, e.g. 'negotiating'.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, help_text="Required to move back.")
    evidence_engagement = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    evidence_agreement = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    evidence_announcement = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class PauseSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, allow_blank=True)
    resume_on = serializers.DateField(allow_null=True)


class ResumeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, allow_blank=True)


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
        from ..selectors import user_can_see_confidential

        engagement = obj.evidence_engagement
        if engagement is None:
            return None
        if engagement.is_confidential and not user_can_see_confidential(self.context["request"].user, engagement.country_id):
            return None
        return engagement.pk

    def get_evidence_announcement(self, obj) -> int | None:
        """Hidden until the announcement is published (staff see it at once)."""
        from core import roles

        announcement = obj.evidence_announcement
        if announcement is None:
            return None
        user = self.context["request"].user
        published = announcement.status == Announcement.Status.PUBLISHED and (
            announcement.embargo_until is None or announcement.embargo_until <= timezone.now()
        )
        return announcement.pk if published or roles.is_programme_staff(user) else None


class EngagementSerializer(serializers.ModelSerializer):
    country = CountryCodeField(read_only=True)
    tracks = TrackKeyField(many=True, read_only=True)
    counterparts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    logged_by = UsernameField(read_only=True, allow_null=True)

    class Meta:
        model = Engagement
        fields = [
            "id", "country", "occurred_on", "kind", "summary", "outcome", "tracks", "counterparts", "sensitivity",
            "logged_by", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class FollowUpInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300, allow_blank=True)
    due_on = serializers.DateField(allow_null=True)
    owner = UsernameField(required=False, allow_null=True)
    track = TrackKeyField(required=False, allow_null=True)


class EngagementCreateSerializer(serializers.Serializer):
    country = CountryCodeField()
    occurred_on = serializers.DateField()
    kind = serializers.ChoiceField(choices=Engagement.Kind.choices)
    summary = serializers.CharField(max_length=20000, allow_blank=True)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    tracks = TrackKeyField(many=True, required=False)
    counterparts = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Counterpart.objects.all())
    sensitivity = serializers.ChoiceField(choices=Engagement.Sensitivity.choices, default=Engagement.Sensitivity.NORMAL)
    follow_ups = FollowUpInputSerializer(many=True, required=False)


class EngagementUpdateSerializer(serializers.Serializer):
    occurred_on = serializers.DateField(required=False)
    kind = serializers.ChoiceField(choices=Engagement.Kind.choices, required=False)
    summary = serializers.CharField(max_length=20000, allow_blank=True, required=False)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    tracks = TrackKeyField(many=True, required=False)
    counterparts = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Counterpart.objects.all())
    sensitivity = serializers.ChoiceField(choices=Engagement.Sensitivity.choices, required=False)


class FollowUpSerializer(serializers.ModelSerializer):
    country = CountryCodeField(read_only=True)
    track = TrackKeyField(read_only=True, allow_null=True)
    owner = UsernameField(read_only=True, allow_null=True)
    done_by = UsernameField(read_only=True, allow_null=True)
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = FollowUp
        fields = [
            "id", "country", "engagement", "track", "description", "owner", "due_on", "is_overdue", "done_at", "done_by",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_is_overdue(self, obj) -> bool:
        from django.utils import timezone

        return obj.done_at is None and obj.due_on < timezone.localdate()


class VisibleEngagementField(serializers.PrimaryKeyRelatedField):
    """An engagement the caller may read: a confidential one they may not see answers like one that does not exist.
    (The ``queryset`` given is the schema's type only; the field reads ``get_queryset``.)"""

    def get_queryset(self):
        from ..selectors import engagement_list

        return engagement_list(user=self.context["request"].user)


class FollowUpCreateSerializer(FollowUpInputSerializer):
    country = CountryCodeField()
    engagement = VisibleEngagementField(required=False, allow_null=True, queryset=Engagement.objects.all())


class FollowUpUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300, allow_blank=True, required=False)
    due_on = serializers.DateField(required=False)
    owner = UsernameField(required=False, allow_null=True)
    track = TrackKeyField(required=False, allow_null=True)


class AgreementSerializer(serializers.ModelSerializer):
    country = CountryCodeField(read_only=True)
    source_url = serializers.CharField(read_only=True, help_text="A URL, or empty.")
    tracks = TrackKeyField(many=True, read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id", "country", "kind", "title", "signed_on", "expires_on", "signatory_level", "tracks", "source_url", "notes",
            "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class AgreementCreateSerializer(serializers.Serializer):
    country = CountryCodeField()
    kind = serializers.ChoiceField(choices=Agreement.Kind.choices)
    title = serializers.CharField(max_length=300, allow_blank=True)
    signed_on = serializers.DateField()
    expires_on = serializers.DateField(required=False, allow_null=True)
    signatory_level = serializers.ChoiceField(choices=Agreement.SignatoryLevel.choices, default=Agreement.SignatoryLevel.MINISTER)
    tracks = TrackKeyField(many=True, required=False)
    source_url = serializers.URLField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class AgreementUpdateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Agreement.Kind.choices, required=False)
    title = serializers.CharField(max_length=300, allow_blank=True, required=False)
    signed_on = serializers.DateField(required=False)
    expires_on = serializers.DateField(required=False, allow_null=True)
    signatory_level = serializers.ChoiceField(choices=Agreement.SignatoryLevel.choices, required=False)
    tracks = TrackKeyField(many=True, required=False)
    source_url = serializers.URLField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class AnnouncementSerializer(serializers.ModelSerializer):
    countries = CountryCodeField(many=True, read_only=True)
    source_url = serializers.CharField(read_only=True, help_text="A URL, or empty.")
    tracks = TrackKeyField(many=True, read_only=True)
    agreements = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    facilities = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = Announcement
        fields = [
            "id", "title", "body", "countries", "tracks", "agreements", "facilities", "status", "embargo_until",
            "published_at", "source_url", "is_public", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class AnnouncementCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, allow_blank=True)
    body = serializers.CharField(required=False, allow_blank=True, max_length=50000)
    countries = CountryCodeField(many=True, required=False)
    tracks = TrackKeyField(many=True, required=False)
    is_public = serializers.BooleanField(default=True)
    source_url = serializers.URLField(required=False, allow_blank=True, max_length=200)


class AnnouncementUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, allow_blank=True, required=False)
    body = serializers.CharField(required=False, allow_blank=True, max_length=50000)
    countries = CountryCodeField(many=True, required=False)
    tracks = TrackKeyField(many=True, required=False)
    is_public = serializers.BooleanField(required=False)
    source_url = serializers.URLField(required=False, allow_blank=True, max_length=200)


class ScheduleSerializer(serializers.Serializer):
    embargo_until = serializers.DateTimeField(help_text="ISO 8601 with a time zone, e.g. 2026-12-01T09:00:00+01:00.")


class EmptySerializer(serializers.Serializer):
    pass


# --- status (read from the rollup) ------------------------------------------------------------------


class TrackStatusSerializer(serializers.Serializer):
    track = serializers.CharField()
    stage = serializers.CharField()
    stage_position = serializers.IntegerField()
    health = serializers.ChoiceField(choices=Health.choices)
    days_in_stage = serializers.IntegerField()
    last_engagement_on = serializers.DateField(allow_null=True)
    open_follow_ups = serializers.IntegerField()
    overdue_follow_ups = serializers.IntegerField()
    resume_on = serializers.DateField(allow_null=True)


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
    last_engagement_on = serializers.DateField(allow_null=True)
    open_follow_ups = serializers.IntegerField()
    overdue_follow_ups = serializers.IntegerField()
    mw_planned = serializers.DecimalField(max_digits=12, decimal_places=2)
    mw_operational = serializers.DecimalField(max_digits=12, decimal_places=2)
    tracks = TrackStatusSerializer(many=True)
    computed_at = serializers.DateTimeField()


class StatusListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    computed_at = serializers.DateTimeField(allow_null=True, help_text="The newest rollup among the rows.")
    results = CountryStatusSerializer(many=True)
