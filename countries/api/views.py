from django.db.models import BooleanField, ExpressionWrapper, Q
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core import roles
from core.api.base import ThrottleBeforePermissionsMixin, country_code_or_404
from core.api.viewsets import READ, PortalViewSet
from countries import selectors, services
from countries.filters import CounterpartFilter, CountryFilter
from countries.models import Country

from .serializers import (
    CounterpartCreateSerializer,
    CounterpartSerializer,
    CounterpartUpdateSerializer,
    CountrySerializer,
    LeavePostSerializer,
)


class CountryViewSet(*READ, PortalViewSet):
    """Every ISO 3166-1 country, addressed by its alpha-2 code (case-insensitive): ``/countries/gb/``."""

    serializer_class = CountrySerializer
    filterset_class = CountryFilter
    lookup_field = "iso2"
    lookup_url_kwarg = "code"
    lookup_value_regex = "[^/.]+"
    ordering_fields = ["name_en", "iso2", "region"]
    ordering = ["name_en"]

    def get_queryset(self):
        return selectors.country_list().annotate(
            in_programme=ExpressionWrapper(Q(partnership__isnull=False), output_field=BooleanField())
        )

    def get_object(self):
        self.kwargs[self.lookup_url_kwarg] = country_code_or_404(self.kwargs[self.lookup_url_kwarg])
        return super().get_object()


class CounterpartViewSet(*READ, PortalViewSet):
    """Government officials the programme deals with. Liaisons write for their countries, staff for all."""

    serializer_class = CounterpartSerializer
    write_serializers = {
        "create": CounterpartCreateSerializer,
        "partial_update": CounterpartUpdateSerializer,
        "leave_post": LeavePostSerializer,
    }
    filterset_class = CounterpartFilter
    ordering_fields = ["name", "active_from", "active_to", "created_at"]
    ordering = ["name", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.counterpart_list()

    @extend_schema(request=CounterpartCreateSerializer, responses={201: CounterpartSerializer})
    def create(self, request):
        data = dict(self.validated())
        country = data.pop("country")
        counterpart = services.counterpart_create(actor=request.user, country=country, **data)
        return self.represent(counterpart, status.HTTP_201_CREATED)

    @extend_schema(request=CounterpartUpdateSerializer, responses={200: CounterpartSerializer})
    def partial_update(self, request, pk=None):
        counterpart = self.get_current()
        services.counterpart_update(actor=request.user, counterpart=counterpart, **self.validated(partial=True))
        return self.represent(counterpart)

    @extend_schema(request=LeavePostSerializer, responses={200: CounterpartSerializer})
    @action(detail=True, methods=["post"], url_path="leave-post")
    def leave_post(self, request, pk=None):
        """Record that the counterpart left their post (they stay in the history, no longer active)."""
        counterpart = self.get_current()
        services.counterpart_leave_post(actor=request.user, counterpart=counterpart, left_on=self.validated().get("left_on"))
        return self.represent(counterpart)


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    roles = serializers.ListField(child=serializers.CharField(), help_text="liaison, programme_staff, viewer, admin.")
    countries = serializers.ListField(child=serializers.CharField(), help_text="ISO codes the user is liaison for.")
    token = serializers.CharField(allow_null=True, help_text="Name of the API token used, if any.")


class MeView(ThrottleBeforePermissionsMixin, APIView):
    """Who the caller is, their roles and the countries they write for."""

    @extend_schema(operation_id="users_me", summary="The caller: roles and countries", responses={200: MeSerializer})
    def get(self, request):
        user = request.user
        groups = set(user.groups.values_list("name", flat=True))
        names = [name for name in roles.ALL_ROLES if name in groups]
        if user.is_superuser:
            names.insert(0, "admin")
        countries = sorted(Country.objects.filter(pk__in=selectors.assigned_country_ids(user)).values_list("iso2", flat=True))
        token = getattr(request.auth, "name", None)
        return Response(
            {
                "username": user.get_username(),
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "roles": names,
                "countries": countries,
                "token": token,
            }
        )
