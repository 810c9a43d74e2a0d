from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core import roles
from core.admin_tools import OutboxAdmin, ReadOnlyAdmin

from .models import Counterpart, Country, CountryGrouping, CountryStatus, LiaisonAssignment


class LiaisonAssignmentForm(forms.ModelForm):
    class Meta:
        model = LiaisonAssignment
        fields = ["user", "country"]

    def clean_user(self):
        user = self.cleaned_data["user"]
        if not roles.is_liaison(user):
            raise forms.ValidationError(_("%(user)s is not in the liaison group.") % {"user": user})
        return user


class LiaisonInline(admin.TabularInline):
    model = LiaisonAssignment
    form = LiaisonAssignmentForm
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ("iso2", "iso3", "numeric", "name_en", "name_fr", "region", "subregion")
    list_filter = ("region", "subregion")
    search_fields = ("iso2", "iso3", "numeric", "name_en", "name_fr")
    inlines = [LiaisonInline]


@admin.register(LiaisonAssignment)
class LiaisonAssignmentAdmin(OutboxAdmin):
    form = LiaisonAssignmentForm
    list_display = ("country", "user", "assigned_on")
    list_filter = ("country__region",)
    search_fields = ("country__name_en", "country__iso2", "user__username", "user__last_name")
    autocomplete_fields = ("user", "country")
    list_select_related = ("country", "user")


@admin.register(Counterpart)
class CounterpartAdmin(OutboxAdmin):
    list_display = ("name", "title", "organisation", "country", "email", "active_from", "active_to")
    list_filter = ("country__region", ("active_to", admin.EmptyFieldListFilter))
    search_fields = ("name", "title", "organisation", "email", "country__name_en", "country__iso2")
    autocomplete_fields = ("country",)
    list_select_related = ("country",)

    def has_change_permission(self, request, obj=None):
        # An erased person stays erased: nobody types their data back in (the portal's services refuse it too).
        if obj is not None and obj.erased_at:
            return False
        return super().has_change_permission(request, obj)


@admin.register(CountryStatus)
class CountryStatusAdmin(admin.ModelAdmin):
    """Written by the rollup only."""

    list_display = (
        "country", "furthest_stage_name", "readiness", "worst_health", "engagement_count",
        "last_engagement_on", "overdue_follow_ups", "mw_planned", "mw_operational", "computed_at",
    )  # fmt: skip
    list_filter = ("worst_health", "country__region")
    search_fields = ("country__name_en", "country__iso2")
    list_select_related = ("country",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CountryGrouping)
class CountryGroupingAdmin(ReadOnlyAdmin):
    """Named sets of countries for briefing packs: made, edited and deleted on the portal's groupings page (its
    services audit them and write their events)."""

    list_display = ("name", "description", "created_by", "updated_at")
    search_fields = ("name",)
