from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError

from announcements.selectors import announcement_list
from core.api.base import country_code_or_404
from core.api.serializers import WithdrawSerializer
from core.api.viewsets import READ, PortalViewSet
from engagements.selectors import agreement_list, engagement_list
from tracks.models import Stage

from .. import selectors, services
from ..filters import CountryTrackFilter, PartnershipFilter, StageChangeFilter
from . import serializers as s


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
        services.partnership_update(
            actor=request.user, expected_version=self.expected_version, partnership=partnership, **self.validated(partial=True)
        )
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
        "withdraw": WithdrawSerializer,
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
            evidence_engagement=self._evidence(data, "evidence_engagement", engagement_list(user=user)),
            evidence_agreement=self._evidence(data, "evidence_agreement", agreement_list()),
            evidence_announcement=self._evidence(data, "evidence_announcement", announcement_list(user=user)),
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

    @extend_schema(request=WithdrawSerializer, responses={200: s.CountryTrackSerializer})
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
