from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from core.api.base import country_code_or_404
from core.api.viewsets import READ, PortalViewSet

from .. import selectors, services
from ..filters import (
    AgreementFilter,
    AnnouncementFilter,
    CountryTrackFilter,
    EngagementFilter,
    FollowUpFilter,
    PartnershipFilter,
    StageChangeFilter,
    TrackFilter,
)
from ..models import Stage
from . import serializers as s


class TrackViewSet(*READ, PortalViewSet):
    """The programme's tracks, each with its stage ladder and side states. Addressed by key."""

    serializer_class = s.TrackSerializer
    lookup_field = "key"
    lookup_value_regex = "[-a-zA-Z0-9_]+"
    ordering_fields = ["position", "key"]
    ordering = ["position", "key"]
    filterset_class = TrackFilter

    def get_queryset(self):
        return selectors.track_list(active_only=False)


class PartnershipViewSet(*READ, PortalViewSet):
    """The programme's relationship with each country, addressed by country code: ``/partnerships/gb/``."""

    serializer_class = s.PartnershipSerializer
    write_serializers = {"create": s.PartnershipCreateSerializer, "partial_update": s.PartnershipUpdateSerializer}
    filterset_class = PartnershipFilter
    lookup_field = "country__iso2"
    lookup_url_kwarg = "code"
    lookup_value_regex = "[^/.]+"
    ordering_fields = ["country__name_en", "started_on", "status"]
    ordering = ["country__name_en"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.partnership_list()

    def get_object(self):
        self.kwargs["code"] = country_code_or_404(self.kwargs["code"])
        return super().get_object()

    @extend_schema(request=s.PartnershipCreateSerializer, responses={201: s.PartnershipSerializer})
    def create(self, request):
        data = self.validated()
        partnership = services.partnership_create(actor=request.user, **data)
        return self.represent(partnership, status.HTTP_201_CREATED)

    @extend_schema(request=s.PartnershipUpdateSerializer, responses={200: s.PartnershipSerializer})
    def partial_update(self, request, code=None):
        partnership = self.get_current()
        services.partnership_update(actor=request.user, partnership=partnership, **self.validated(partial=True))
        return self.represent(partnership)


class CountryTrackViewSet(*READ, PortalViewSet):
    """One cell of the country x track matrix. Stage moves are actions with the rules of the portal.

    With If-Match, the version of the cell read under the lock goes to the service as ``expected_version``.
    """

    serializer_class = s.CountryTrackSerializer
    write_serializers = {
        "partial_update": s.CountryTrackUpdateSerializer,
        "move": s.StageMoveSerializer,
        "pause": s.PauseSerializer,
        "resume": s.ResumeSerializer,
        "withdraw": s.WithdrawSerializer,
    }
    filterset_class = CountryTrackFilter
    ordering_fields = ["country__name_en", "track__position", "stage_changed_at", "health"]
    ordering = ["country__name_en", "track__position"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.country_track_list()

    @extend_schema(request=s.CountryTrackUpdateSerializer, responses={200: s.CountryTrackSerializer})
    def partial_update(self, request, pk=None):
        ct = self.get_current()
        services.country_track_update(
            actor=request.user, country_track=ct, expected_version=self.expected_version, **self.validated(partial=True)
        )
        return self.represent(ct)

    def _evidence(self, data, field, queryset):
        pk = data.get(field)
        if pk is None:
            return None
        found = queryset.filter(pk=pk).first()
        if found is None:
            raise ValidationError({field: [f"No {field.removeprefix('evidence_')} with id {pk} that you can see."]})
        return found

    @extend_schema(request=s.StageMoveSerializer, responses={200: s.CountryTrackSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Move the track to another stage of its ladder (moving back needs a note)."""
        ct = self.get_current()
        data = self.validated()
        to_stage = Stage.objects.filter(track_id=ct.track_id, key=data["to_stage"]).first()
        if to_stage is None:
            raise ValidationError({"to_stage": [f"“{data['to_stage']}” is not a stage of the {ct.track.key} track."]})
        user = request.user
        services.country_track_move(
            actor=user,
            country_track=ct,
            to_stage=to_stage,
            note=data.get("note", ""),
            evidence_engagement=self._evidence(data, "evidence_engagement", selectors.engagement_list(user=user)),
            evidence_agreement=self._evidence(data, "evidence_agreement", selectors.agreement_list()),
            evidence_announcement=self._evidence(data, "evidence_announcement", selectors.announcement_list(user=user)),
            expected_version=self.expected_version,
        )
        return self.represent(ct)

    @extend_schema(request=s.PauseSerializer, responses={200: s.CountryTrackSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Pause the track: needs a reason and a resume date in the future."""
        ct = self.get_current()
        data = self.validated()
        services.country_track_pause(
            actor=request.user,
            country_track=ct,
            reason=data["reason"],
            resume_on=data["resume_on"],
            expected_version=self.expected_version,
        )
        return self.represent(ct)

    @extend_schema(request=s.ResumeSerializer, responses={200: s.CountryTrackSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Resume a paused track at the stage it had reached."""
        ct = self.get_current()
        services.country_track_resume(
            actor=request.user, country_track=ct, note=self.validated().get("note", ""), expected_version=self.expected_version
        )
        return self.represent(ct)

    @extend_schema(request=s.WithdrawSerializer, responses={200: s.CountryTrackSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw the track (needs a reason)."""
        ct = self.get_current()
        services.country_track_withdraw(
            actor=request.user, country_track=ct, reason=self.validated()["reason"], expected_version=self.expected_version
        )
        return self.represent(ct)


class StageChangeViewSet(*READ, PortalViewSet):
    """The history of every stage move (read-only)."""

    serializer_class = s.StageChangeSerializer
    filterset_class = StageChangeFilter
    ordering_fields = ["changed_at", "id"]
    ordering = ["-changed_at", "-id"]

    def get_queryset(self):
        return selectors.stage_change_list()


class EngagementViewSet(*READ, PortalViewSet):
    """Meetings, calls, visits, letters... Confidential ones are visible only to the country's liaisons and staff."""

    serializer_class = s.EngagementSerializer
    write_serializers = {"create": s.EngagementCreateSerializer, "partial_update": s.EngagementUpdateSerializer}
    filterset_class = EngagementFilter
    ordering_fields = ["occurred_on", "created_at", "id"]
    ordering = ["-occurred_on", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.engagement_list(user=self.request.user)

    @extend_schema(request=s.EngagementCreateSerializer, responses={201: s.EngagementSerializer})
    def create(self, request):
        data = dict(self.validated())
        engagement = services.engagement_log(
            actor=request.user,
            country=data.pop("country"),
            follow_ups=[dict(f) for f in data.pop("follow_ups", [])],
            **data,
        )
        return self.represent_written(engagement, tracks=data.get("tracks"), counterparts=data.get("counterparts"))

    @extend_schema(request=s.EngagementUpdateSerializer, responses={200: s.EngagementSerializer})
    def partial_update(self, request, pk=None):
        engagement = self.get_current()
        services.engagement_update(
            actor=request.user, engagement=engagement, expected_version=self.expected_version, **self.validated(partial=True)
        )
        return self.represent(engagement)


class FollowUpViewSet(*READ, PortalViewSet):
    """Things to do after engagements; ``complete`` and ``reopen`` are actions."""

    serializer_class = s.FollowUpSerializer
    write_serializers = {
        "create": s.FollowUpCreateSerializer,
        "partial_update": s.FollowUpUpdateSerializer,
        "complete": s.EmptySerializer,
        "reopen": s.EmptySerializer,
    }
    filterset_class = FollowUpFilter
    ordering_fields = ["due_on", "created_at", "id"]
    ordering = ["due_on", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.follow_up_list(user=self.request.user)

    @extend_schema(request=s.FollowUpCreateSerializer, responses={201: s.FollowUpSerializer})
    def create(self, request):
        data = dict(self.validated())
        follow_up = services.follow_up_create(actor=request.user, **data)
        return self.represent(follow_up, status.HTTP_201_CREATED)

    @extend_schema(request=s.FollowUpUpdateSerializer, responses={200: s.FollowUpSerializer})
    def partial_update(self, request, pk=None):
        """Reschedule, reassign or reword a follow-up."""
        follow_up = self.get_current()
        services.follow_up_update(actor=request.user, follow_up=follow_up, **self.validated(partial=True))
        return self.represent(follow_up)

    @extend_schema(request=None, responses={200: s.FollowUpSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        follow_up = self.get_current()
        services.follow_up_complete(actor=request.user, follow_up=follow_up)
        return self.represent(follow_up)

    @extend_schema(request=None, responses={200: s.FollowUpSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        follow_up = self.get_current()
        services.follow_up_reopen(actor=request.user, follow_up=follow_up)
        return self.represent(follow_up)


class AgreementViewSet(*READ, PortalViewSet):
    """Letters of intent, memoranda of understanding and binding agreements."""

    serializer_class = s.AgreementSerializer
    write_serializers = {"create": s.AgreementCreateSerializer, "partial_update": s.AgreementUpdateSerializer}
    filterset_class = AgreementFilter
    ordering_fields = ["signed_on", "expires_on", "id"]
    ordering = ["-signed_on", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.agreement_list()

    @extend_schema(request=s.AgreementCreateSerializer, responses={201: s.AgreementSerializer})
    def create(self, request):
        data = dict(self.validated())
        agreement = services.agreement_create(actor=request.user, **data)
        return self.represent(agreement, status.HTTP_201_CREATED)

    @extend_schema(request=s.AgreementUpdateSerializer, responses={200: s.AgreementSerializer})
    def partial_update(self, request, pk=None):
        agreement = self.get_current()
        services.agreement_update(actor=request.user, agreement=agreement, **self.validated(partial=True))
        return self.represent(agreement)


class AnnouncementViewSet(*READ, PortalViewSet):
    """Announcements. Drafts and embargoed ones are seen only by staff (and a liaison's own drafts)."""

    serializer_class = s.AnnouncementSerializer
    write_serializers = {
        "create": s.AnnouncementCreateSerializer,
        "partial_update": s.AnnouncementUpdateSerializer,
        "schedule": s.ScheduleSerializer,
        "publish": s.EmptySerializer,
        "withdraw": s.WithdrawSerializer,
    }
    filterset_class = AnnouncementFilter
    ordering_fields = ["published_at", "created_at", "id"]
    ordering = ["-created_at", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.announcement_list(user=self.request.user)

    @extend_schema(request=s.AnnouncementCreateSerializer, responses={201: s.AnnouncementSerializer})
    def create(self, request):
        announcement = services.announcement_create(actor=request.user, **self.validated())
        return self.represent(announcement, status.HTTP_201_CREATED)

    @extend_schema(request=s.AnnouncementUpdateSerializer, responses={200: s.AnnouncementSerializer})
    def partial_update(self, request, pk=None):
        announcement = self.get_current()
        services.announcement_update(actor=request.user, announcement=announcement, **self.validated(partial=True))
        return self.represent(announcement)

    @extend_schema(request=s.ScheduleSerializer, responses={200: s.AnnouncementSerializer})
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        """Hold under embargo until a moment in the future (staff)."""
        announcement = self.get_current()
        services.announcement_schedule(
            actor=request.user, announcement=announcement, embargo_until=self.validated()["embargo_until"]
        )
        return self.represent(announcement)

    @extend_schema(request=None, responses={200: s.AnnouncementSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish now (staff; refused while under embargo)."""
        announcement = self.get_current()
        services.announcement_publish(actor=request.user, announcement=announcement)
        return self.represent(announcement)

    @extend_schema(request=s.WithdrawSerializer, responses={200: s.AnnouncementSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        announcement = self.get_current()
        services.announcement_withdraw(actor=request.user, announcement=announcement, reason=self.validated()["reason"])
        return self.represent(announcement)
