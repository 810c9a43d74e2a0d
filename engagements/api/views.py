from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.serializers import EmptySerializer
from core.api.viewsets import READ, PortalViewSet

from .. import selectors, services
from ..filters import AgreementFilter, EngagementFilter, FollowUpFilter
from . import serializers as s


class EngagementViewSet(*READ, PortalViewSet):
    """Meetings, calls, visits, letters... Confidential ones are visible only to the country's liaisons and staff."""

    serializer_class = s.EngagementSerializer
    write_serializers = {
        "create": s.EngagementCreateSerializer,
        "partial_update": s.EngagementUpdateSerializer,
        "void": s.VoidSerializer,
        "restore": EmptySerializer,
    }
    filterset_class = EngagementFilter
    ordering_fields = ["occurred_on", "created_at", "id"]
    ordering = ["-occurred_on", "-id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        # Lists leave voided engagements out; staff reach one by its id (to read it, or to restore it).
        return selectors.engagement_list(user=self.request.user, include_voided=self.action != "list")

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

    @extend_schema(request=s.VoidSerializer, responses={200: s.EngagementSerializer})
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        """Void an engagement logged twice or by mistake (needs a reason): it leaves lists, counts and health."""
        engagement = self.get_current()
        services.engagement_void(
            actor=request.user, engagement=engagement, reason=self.validated()["reason"], expected_version=self.expected_version
        )
        # Answered from the row in hand: a liaison who voided it may no longer read it back.
        return Response(self.serializer_class(engagement, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses={200: s.EngagementSerializer})
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        """Bring a voided engagement back (programme staff)."""
        engagement = self.get_current()
        services.engagement_restore(actor=request.user, engagement=engagement, expected_version=self.expected_version)
        return self.represent(engagement)


class FollowUpViewSet(*READ, PortalViewSet):
    """Things to do after engagements; ``complete`` and ``reopen`` are actions."""

    serializer_class = s.FollowUpSerializer
    write_serializers = {
        "create": s.FollowUpCreateSerializer,
        "partial_update": s.FollowUpUpdateSerializer,
        "complete": EmptySerializer,
        "reopen": EmptySerializer,
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
        services.follow_up_update(
            actor=request.user, expected_version=self.expected_version, follow_up=follow_up, **self.validated(partial=True)
        )
        return self.represent(follow_up)

    @extend_schema(request=None, responses={200: s.FollowUpSerializer})
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        follow_up = self.get_current()
        services.follow_up_complete(actor=request.user, expected_version=self.expected_version, follow_up=follow_up)
        return self.represent(follow_up)

    @extend_schema(request=None, responses={200: s.FollowUpSerializer})
    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        follow_up = self.get_current()
        services.follow_up_reopen(actor=request.user, expected_version=self.expected_version, follow_up=follow_up)
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
        services.agreement_update(
            actor=request.user, expected_version=self.expected_version, agreement=agreement, **self.validated(partial=True)
        )
        return self.represent(agreement)
