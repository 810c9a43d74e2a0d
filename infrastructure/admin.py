from django.contrib import admin

from core.admin_tools import OutboxAdmin

from .models import CapacityPhase, Facility, FacilityPartner, Organisation


class CapacityPhaseInline(admin.TabularInline):
    model = CapacityPhase
    extra = 0


class FacilityPartnerInline(admin.TabularInline):
    model = FacilityPartner
    extra = 0
    autocomplete_fields = ("organisation",)


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "country", "website")
    list_filter = ("kind",)
    search_fields = ("name",)
    autocomplete_fields = ("country",)
    list_select_related = ("country",)


@admin.register(Facility)
class FacilityAdmin(OutboxAdmin):
    list_display = ("name", "kind", "country", "city", "status", "sector", "announced_on", "expected_online")
    list_filter = ("kind", "status", "sector", "country__region")
    search_fields = ("name", "city", "country__name_en", "country__iso2", "partners__name")
    autocomplete_fields = ("country",)
    list_select_related = ("country",)
    inlines = [CapacityPhaseInline, FacilityPartnerInline]


@admin.register(CapacityPhase)
class CapacityPhaseAdmin(OutboxAdmin):
    def country_id_of(self, obj):
        return obj.facility.country_id

    list_display = ("facility", "name", "online_on", "state", "power_mw", "accelerator_count", "h100_equivalents")
    list_filter = ("state",)
    search_fields = ("facility__name", "name", "accelerator_type")
    list_select_related = ("facility",)


@admin.register(FacilityPartner)
class FacilityPartnerAdmin(OutboxAdmin):
    def country_id_of(self, obj):
        return obj.facility.country_id

    list_display = ("facility", "organisation", "role")
    list_filter = ("role",)
    search_fields = ("facility__name", "organisation__name")
    list_select_related = ("facility", "organisation")
