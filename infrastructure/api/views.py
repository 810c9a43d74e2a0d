from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action

from core.api.viewsets import READ, PortalViewSet

from .. import selectors, services
from ..filters import FacilityFilter, OrganisationFilter
from . import serializers as s


class OrganisationViewSet(*READ, PortalViewSet):
    """Partner companies, agencies and institutions (staff add them)."""

    serializer_class = s.OrganisationSerializer
    write_serializers = {"create": s.OrganisationCreateSerializer}
    filterset_class = OrganisationFilter
    ordering_fields = ["name", "id"]
    ordering = ["name"]
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return selectors.organisation_list()

    @extend_schema(request=s.OrganisationCreateSerializer, responses={201: s.OrganisationSerializer})
    def create(self, request):
        organisation = services.organisation_create(actor=request.user, **self.validated())
        return self.represent(organisation, status.HTTP_201_CREATED)


class FacilityViewSet(*READ, PortalViewSet):
    """Data centres and supercomputers with their capacity phases and partners."""

    serializer_class = s.FacilitySerializer
    write_serializers = {
        "create": s.FacilityCreateSerializer,
        "partial_update": s.FacilityUpdateSerializer,
        "add_phase": s.CapacityPhaseCreateSerializer,
        "add_partner": s.FacilityPartnerCreateSerializer,
    }
    filterset_class = FacilityFilter
    ordering_fields = ["name", "expected_online", "announced_on", "id"]
    ordering = ["country__name_en", "name"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.facility_list()

    @extend_schema(request=s.FacilityCreateSerializer, responses={201: s.FacilitySerializer})
    def create(self, request):
        data = dict(self.validated())
        facility = services.facility_create(actor=request.user, country=data.pop("country"), name=data.pop("name"), **data)
        return self.represent(facility, status.HTTP_201_CREATED)

    @extend_schema(request=s.FacilityUpdateSerializer, responses={200: s.FacilitySerializer})
    def partial_update(self, request, pk=None):
        facility = self.get_current()
        services.facility_update(
            actor=request.user, expected_version=self.expected_version, facility=facility, **self.validated(partial=True)
        )
        return self.represent(facility)

    @extend_schema(request=s.CapacityPhaseCreateSerializer, responses={201: s.FacilitySerializer})
    @action(detail=True, methods=["post"], url_path="phases")
    def add_phase(self, request, pk=None):
        """Add a capacity phase (power, accelerators, cost; planned or online)."""
        facility = self.get_current()
        services.capacity_phase_add(actor=request.user, facility=facility, **self.validated())
        return self.represent(facility, status.HTTP_201_CREATED)

    @extend_schema(request=s.FacilityPartnerCreateSerializer, responses={201: s.FacilitySerializer})
    @action(detail=True, methods=["post"], url_path="partners")
    def add_partner(self, request, pk=None):
        """Name an organisation's role in the facility."""
        facility = self.get_current()
        services.facility_partner_add(actor=request.user, facility=facility, **self.validated())
        return self.represent(facility, status.HTTP_201_CREATED)
