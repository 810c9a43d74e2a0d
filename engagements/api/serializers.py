"""Representations of engagements, follow-ups and agreements, and the input of each write (types only)."""

from django.utils import timezone
from rest_framework import serializers

from core.api import fields as api_fields
from core.api.fields import IdRelatedField, ListsCountedFirstMixin, OneQueryListSerializer, UsernameField
from core.limits import REASON_MAX_LENGTH
from countries.api.fields import CountryCodeField, OwnerField
from countries.selectors import counterpart_list
from tracks.api.fields import TrackKeyField

from ..models import Agreement, Engagement, FollowUp
from ..selectors import engagement_list

# At least a large delegation: a hundred people met at one engagement.
MAX_COUNTERPARTS = 200
# Follow-ups left by one engagement.
MAX_FOLLOW_UPS = 50


class EngagementSerializer(serializers.ModelSerializer):
    country = CountryCodeField(read_only=True)
    tracks = TrackKeyField(many=True, read_only=True)
    counterparts = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    logged_by = UsernameField(read_only=True, allow_null=True)

    class Meta:
        model = Engagement
        fields = [
            "id", "country", "occurred_on", "kind", "summary", "outcome", "tracks", "counterparts", "sensitivity",
            "logged_by", "created_at", "updated_at", "voided_at", "void_reason",
        ]  # fmt: skip
        read_only_fields = fields


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, allow_blank=True)


class FollowUpInputSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300, allow_blank=True)
    due_on = api_fields.DateField(allow_null=True)
    owner = OwnerField(required=False, allow_null=True)
    track = TrackKeyField(required=False, allow_null=True)

    class Meta:
        list_serializer_class = OneQueryListSerializer  # owners and tracks of all the follow-ups: one query each


class EngagementCreateSerializer(ListsCountedFirstMixin, serializers.Serializer):
    country = CountryCodeField()
    occurred_on = api_fields.DateField()
    kind = serializers.ChoiceField(choices=Engagement.Kind.choices)
    summary = serializers.CharField(max_length=20000, allow_blank=True)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    tracks = TrackKeyField(many=True, required=False)
    counterparts = IdRelatedField(many=True, required=False, queryset=counterpart_list(), max_items=MAX_COUNTERPARTS)
    sensitivity = serializers.ChoiceField(choices=Engagement.Sensitivity.choices, default=Engagement.Sensitivity.NORMAL)
    follow_ups = FollowUpInputSerializer(many=True, required=False, max_length=MAX_FOLLOW_UPS)


class EngagementUpdateSerializer(ListsCountedFirstMixin, serializers.Serializer):
    occurred_on = api_fields.DateField(required=False)
    kind = serializers.ChoiceField(choices=Engagement.Kind.choices, required=False)
    summary = serializers.CharField(max_length=20000, allow_blank=True, required=False)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    tracks = TrackKeyField(many=True, required=False)
    counterparts = IdRelatedField(
        many=True, required=False, queryset=counterpart_list(include_erased=True), max_items=MAX_COUNTERPARTS
    )
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

        return obj.done_at is None and obj.due_on < timezone.localdate()


class VisibleEngagementField(IdRelatedField):
    """An engagement the caller may read: a confidential one they may not see answers like one that does not exist.
    (The ``queryset`` given is the schema's type only; the field reads ``get_queryset``.)"""

    def get_queryset(self):

        return engagement_list(user=self.context["request"].user)


class FollowUpCreateSerializer(FollowUpInputSerializer):
    country = CountryCodeField()
    engagement = VisibleEngagementField(required=False, allow_null=True, queryset=Engagement.objects.all())


class FollowUpUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(max_length=300, allow_blank=True, required=False)
    due_on = api_fields.DateField(required=False)
    owner = OwnerField(required=False, allow_null=True)
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


class AgreementCreateSerializer(ListsCountedFirstMixin, serializers.Serializer):
    country = CountryCodeField()
    kind = serializers.ChoiceField(choices=Agreement.Kind.choices)
    title = serializers.CharField(max_length=300, allow_blank=True)
    signed_on = api_fields.DateField()
    expires_on = api_fields.DateField(required=False, allow_null=True)
    signatory_level = serializers.ChoiceField(choices=Agreement.SignatoryLevel.choices, default=Agreement.SignatoryLevel.MINISTER)
    tracks = TrackKeyField(many=True, required=False)
    source_url = serializers.URLField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class AgreementUpdateSerializer(ListsCountedFirstMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=Agreement.Kind.choices, required=False)
    title = serializers.CharField(max_length=300, allow_blank=True, required=False)
    signed_on = api_fields.DateField(required=False)
    expires_on = api_fields.DateField(required=False, allow_null=True)
    signatory_level = serializers.ChoiceField(choices=Agreement.SignatoryLevel.choices, required=False)
    tracks = TrackKeyField(many=True, required=False)
    source_url = serializers.URLField(required=False, allow_blank=True, max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20000)
