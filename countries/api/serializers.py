import functools

from django.utils import translation
from rest_framework import serializers

from core.api import fields as api_fields
from countries.models import Counterpart, Country
from countries.policies import can_see_contact_details
from countries.regions import IntermediateRegion, Region, SubRegion

from .fields import CountryCodeField


@functools.cache
def _english_labels(choices) -> dict[str, str]:
    """A choices class's labels in English, read once per process (switching the language for each field of each
    row was half the country list's time)."""
    with translation.override("en"):
        return {value: str(label) for value, label in choices.choices}


def _english(choices, code) -> str:
    return _english_labels(choices).get(code, "") if code else ""


class CountrySerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="iso2", read_only=True)
    region_name = serializers.SerializerMethodField()
    subregion_name = serializers.SerializerMethodField()
    intermediate_region_name = serializers.SerializerMethodField()
    in_programme = serializers.SerializerMethodField()

    class Meta:
        model = Country
        fields = [
            "code", "iso3", "numeric", "name_en", "name_fr", "region", "region_name", "subregion", "subregion_name",
            "intermediate_region", "intermediate_region_name", "in_programme",
        ]  # fmt: skip
        read_only_fields = fields
        # Antarctica has no region, and most countries no intermediate region: "" is a value.
        extra_kwargs = {name: {"allow_blank": True} for name in ("region", "subregion", "intermediate_region")}

    def to_representation(self, instance):
        """The fields of ``Meta.fields``, read straight off the row: a country is plain strings, and DRF's field by
        field representation was most of the country list's time (``tests/api/test_resources.py`` compares the two
        for every country)."""
        return {
            "code": instance.iso2,
            "iso3": instance.iso3,
            "numeric": instance.numeric,
            "name_en": instance.name_en,
            "name_fr": instance.name_fr,
            "region": instance.region,
            "region_name": self.get_region_name(instance),
            "subregion": instance.subregion,
            "subregion_name": self.get_subregion_name(instance),
            "intermediate_region": instance.intermediate_region,
            "intermediate_region_name": self.get_intermediate_region_name(instance),
            "in_programme": self.get_in_programme(instance),
        }

    def get_region_name(self, obj) -> str:
        return _english(Region, obj.region)

    def get_subregion_name(self, obj) -> str:
        return _english(SubRegion, obj.subregion)

    def get_intermediate_region_name(self, obj) -> str:
        return _english(IntermediateRegion, obj.intermediate_region)

    def get_in_programme(self, obj) -> bool:
        # Annotated by the viewset's queryset (no query per row).
        return bool(getattr(obj, "in_programme", False))


class CounterpartSerializer(serializers.ModelSerializer):
    country = CountryCodeField(read_only=True)
    email = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="An e-mail address, or empty; null for a caller who may not read contact details (only the "
        "country's liaisons and programme staff may).",
    )
    phone = serializers.CharField(
        read_only=True, allow_null=True, help_text="A phone number, or empty; null like the e-mail address."
    )
    is_active = serializers.BooleanField(read_only=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if not can_see_contact_details(getattr(request, "user", None), instance.country_id):
            data["email"] = data["phone"] = None
        return data

    class Meta:
        model = Counterpart
        fields = [
            "id", "country", "name", "title", "organisation", "email", "phone", "active_from", "active_to", "is_active",
            "notes", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class CounterpartCreateSerializer(serializers.ModelSerializer):
    country = CountryCodeField()

    class Meta:
        model = Counterpart
        fields = ["country", "name", "title", "organisation", "email", "phone", "active_from", "active_to", "notes"]
        # The services check the rules (dates in order, permissions); the model's constraints are not duplicated here.
        validators = []


class CounterpartUpdateSerializer(serializers.ModelSerializer):
    class Meta:
        model = Counterpart
        fields = ["name", "title", "organisation", "email", "phone", "active_from", "active_to", "notes"]
        validators = []


class LeavePostSerializer(serializers.Serializer):
    left_on = api_fields.DateField(required=False, help_text="Defaults to today.")
