from rest_framework import serializers

from core.api import fields as api_fields
from core.api.fields import IdRelatedField
from countries.api.fields import CountryCodeField

from ..models import CapacityPhase, Facility, FacilityPartner, Organisation


class OrganisationSerializer(serializers.ModelSerializer):
    country = CountryCodeField(read_only=True, allow_null=True)
    website = serializers.CharField(read_only=True, help_text="A URL, or empty.")

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "country", "website"]
        read_only_fields = fields


class OrganisationCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices, default=Organisation.Kind.COMPANY)
    country = CountryCodeField(required=False, allow_null=True)
    website = serializers.URLField(required=False, allow_blank=True, max_length=200)


class CapacityPhaseSerializer(serializers.ModelSerializer):
    class Meta:
        model = CapacityPhase
        fields = [
            "id", "name", "online_on", "state", "power_mw", "accelerator_count", "accelerator_type", "h100_equivalents",
            "capital_cost_usd",
        ]  # fmt: skip
        read_only_fields = fields


class CapacityPhaseCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, default="Phase 1")
    online_on = api_fields.DateField()
    state = serializers.ChoiceField(choices=CapacityPhase.State.choices, default=CapacityPhase.State.PLANNED)
    power_mw = serializers.DecimalField(max_digits=10, decimal_places=2, default=0)
    accelerator_count = serializers.IntegerField(min_value=0, max_value=10_000_000, default=0)
    accelerator_type = serializers.CharField(max_length=100, required=False, allow_blank=True)
    h100_equivalents = serializers.DecimalField(max_digits=12, decimal_places=1, default=0)
    capital_cost_usd = serializers.DecimalField(max_digits=16, decimal_places=0, required=False, allow_null=True)


class FacilityPartnerSerializer(serializers.ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = FacilityPartner
        fields = ["organisation", "organisation_name", "role"]
        read_only_fields = fields


class FacilityPartnerCreateSerializer(serializers.Serializer):
    organisation = IdRelatedField(queryset=Organisation.objects.all())
    role = serializers.ChoiceField(choices=FacilityPartner.Role.choices)


class FacilitySerializer(serializers.ModelSerializer):
    country = CountryCodeField(read_only=True)
    source_url = serializers.CharField(read_only=True, help_text="A URL, or empty.")
    phases = CapacityPhaseSerializer(many=True, read_only=True)
    partners = FacilityPartnerSerializer(source="partner_roles", many=True, read_only=True)

    class Meta:
        model = Facility
        fields = [
            "id", "name", "kind", "country", "city", "latitude", "longitude", "status", "sector", "announced_on",
            "expected_online", "source_url", "description", "phases", "partners", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class FacilityWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, allow_blank=True)
    kind = serializers.ChoiceField(choices=Facility.Kind.choices, default=Facility.Kind.DATA_CENTRE)
    city = serializers.CharField(max_length=120, required=False, allow_blank=True)
    latitude = serializers.DecimalField(max_digits=8, decimal_places=5, required=False, allow_null=True)
    longitude = serializers.DecimalField(max_digits=8, decimal_places=5, required=False, allow_null=True)
    status = serializers.ChoiceField(choices=Facility.Status.choices, default=Facility.Status.PROPOSED)
    sector = serializers.ChoiceField(choices=Facility.Sector.choices, default=Facility.Sector.PUBLIC_PRIVATE)
    announced_on = api_fields.DateField(required=False, allow_null=True)
    expected_online = api_fields.DateField(required=False, allow_null=True)
    source_url = serializers.URLField(required=False, allow_blank=True, max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=20000)


class FacilityCreateSerializer(FacilityWriteSerializer):
    country = CountryCodeField()


class FacilityUpdateSerializer(FacilityWriteSerializer):
    name = serializers.CharField(max_length=200, allow_blank=True, required=False)
    kind = serializers.ChoiceField(choices=Facility.Kind.choices, required=False)
    status = serializers.ChoiceField(choices=Facility.Status.choices, required=False)
    sector = serializers.ChoiceField(choices=Facility.Sector.choices, required=False)
