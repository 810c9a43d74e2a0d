from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action

from core.api.serializers import EmptySerializer, WithdrawSerializer
from core.api.viewsets import READ, PortalViewSet

from .. import selectors, services
from ..filters import AnnouncementFilter
from . import serializers as s


class AnnouncementViewSet(*READ, PortalViewSet):
    """Announcements. Drafts and embargoed ones are seen only by staff (and a liaison's own drafts)."""

    serializer_class = s.AnnouncementSerializer
    write_serializers = {
        "create": s.AnnouncementCreateSerializer,
        "partial_update": s.AnnouncementUpdateSerializer,
        "schedule": s.ScheduleSerializer,
        "publish": EmptySerializer,
        "withdraw": WithdrawSerializer,
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
        services.announcement_update(
            actor=request.user, expected_version=self.expected_version, announcement=announcement, **self.validated(partial=True)
        )
        return self.represent(announcement)

    @extend_schema(request=s.ScheduleSerializer, responses={200: s.AnnouncementSerializer})
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        """Hold under embargo until a moment in the future (staff)."""
        announcement = self.get_current()
        services.announcement_schedule(
            actor=request.user,
            expected_version=self.expected_version,
            announcement=announcement,
            embargo_until=self.validated()["embargo_until"],
        )
        return self.represent(announcement)

    @extend_schema(request=None, responses={200: s.AnnouncementSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish now (staff; refused while under embargo)."""
        announcement = self.get_current()
        services.announcement_publish(actor=request.user, expected_version=self.expected_version, announcement=announcement)
        return self.represent(announcement)

    @extend_schema(request=WithdrawSerializer, responses={200: s.AnnouncementSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        announcement = self.get_current()
        services.announcement_withdraw(
            actor=request.user,
            expected_version=self.expected_version,
            announcement=announcement,
            reason=self.validated()["reason"],
        )
        return self.represent(announcement)
