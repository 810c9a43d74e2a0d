from django.contrib import admin

from core.admin_tools import OutboxAdmin, ReadOnlyAdmin
from tracks.models import Stage, Track

from . import services
from .models import BriefingPack, CountryTrack, Partnership, RollupRequest, StageChange


def all_partnership_country_ids() -> list[int]:
    return list(Partnership.objects.order_by("country_id").values_list("country_id", flat=True))


class StageInline(admin.TabularInline):
    """Names and stall thresholds are editable; the ladder's shape (key, kind, position) is not."""

    model = Stage
    extra = 0
    fields = ("position", "key", "name_en", "name_fr", "kind", "stalled_after_days")
    readonly_fields = ("position", "key", "kind")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Track)
class TrackAdmin(OutboxAdmin):
    list_display = ("position", "key", "name_en", "name_fr", "is_active")
    list_display_links = ("key",)
    search_fields = ("key", "name_en", "name_fr")
    inlines = [StageInline]

    def get_inlines(self, request, obj):
        # A new track gets the default ladder from track_create; its stages are edited afterwards.
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request, obj=None):
        return ("key",) if obj is not None else ()

    def country_ids_of(self, obj):
        # A track's activation or a stage threshold changes every country's figures.
        return all_partnership_country_ids()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        created = services.track_create(
            actor=request.user, key=obj.key, name_en=obj.name_en, name_fr=obj.name_fr, description=obj.description
        )
        obj.pk, obj.position = created.pk, created.position


@admin.register(Stage)
class StageAdmin(OutboxAdmin):
    list_display = ("track", "position", "key", "name_en", "kind", "stalled_after_days")
    list_filter = ("track", "kind")
    search_fields = ("key", "name_en", "name_fr")
    list_select_related = ("track",)
    readonly_fields = ("track", "position", "key", "kind")

    def country_ids_of(self, obj):
        return all_partnership_country_ids()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Partnership)
class PartnershipAdmin(OutboxAdmin):
    """Countries enter the programme here (the service opens their cells); later changes go through the service too."""

    list_display = ("country", "status", "lead_liaison", "started_on")
    list_filter = ("status", "country__region")
    search_fields = ("country__name_en", "country__iso2", "lead_liaison__username")
    autocomplete_fields = ("country", "lead_liaison")
    list_select_related = ("country", "lead_liaison")

    def get_readonly_fields(self, request, obj=None):
        return ("country",) if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            obj.refresh_from_db(fields=list(fields) or None)
            services.partnership_update(actor=request.user, partnership=obj, **fields)
            return
        # A new partnership opens one not-started cell per track, with its history.
        created = services.partnership_create(
            actor=request.user,
            country=obj.country,
            started_on=obj.started_on,
            status=obj.status,
            lead_liaison=obj.lead_liaison,
            notes=obj.notes,
        )
        obj.pk = created.pk


class StageChangeInline(admin.TabularInline):
    """The history of the cell, newest first. Moves are made in the portal or the API, through the rules."""

    model = StageChange
    extra = 0
    fields = ("changed_at", "from_stage", "to_stage", "actor", "note")
    readonly_fields = fields
    ordering = ("-changed_at", "-id")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("from_stage", "to_stage", "actor")


@admin.register(CountryTrack)
class CountryTrackAdmin(ReadOnlyAdmin):
    list_display = ("country", "track", "stage", "health", "stage_changed_at", "owner", "priority", "next_step_due")
    list_filter = ("track", "health", "priority", "stage__key", "country__region")
    search_fields = ("country__name_en", "country__iso2", "next_step")
    list_select_related = ("country", "track", "stage", "owner")
    # The stage moves only through the stage-move services, which enforce the ladder rules.
    readonly_fields = (
        "country", "track", "stage", "ladder_stage", "stage_changed_at", "pause_reason", "resume_on",
        "health", "last_engagement_on", "open_follow_ups", "overdue_follow_ups", "health_computed_at",
    )  # fmt: skip
    autocomplete_fields = ("owner",)
    inlines = [StageChangeInline]

    def has_add_permission(self, request):
        return False


@admin.register(StageChange)
class StageChangeAdmin(ReadOnlyAdmin):
    list_display = ("changed_at", "country_track", "from_stage", "to_stage", "actor")
    list_filter = ("country_track__track", "to_stage__key")
    search_fields = ("country_track__country__name_en", "country_track__country__iso2", "note")
    date_hierarchy = "changed_at"
    list_select_related = ("country_track__country", "country_track__track", "from_stage", "to_stage", "actor")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(RollupRequest)
class RollupRequestAdmin(ReadOnlyAdmin):
    """Countries waiting for their status to be recomputed (normally empty within seconds)."""

    list_display = ("country", "requested_at")
    list_select_related = ("country",)


@admin.register(BriefingPack)
class BriefingPackAdmin(ReadOnlyAdmin):
    """Briefing packs being built or kept (their PDFs are not shown here: only their requester downloads them)."""

    list_display = ("label", "requested_by", "status", "done", "total", "created_at")
    list_filter = ("status",)
    list_select_related = ("requested_by",)
    exclude = ("pdf",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pdf")
