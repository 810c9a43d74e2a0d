from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from core.admin_tools import OutboxAdmin, ReadOnlyAdmin

from . import services
from .models import (
    Agreement,
    Announcement,
    AnnouncementRevision,
    CountryTrack,
    Engagement,
    FollowUp,
    Partnership,
    RollupRequest,
    Stage,
    StageChange,
    Track,
)


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


class FollowUpInline(admin.TabularInline):
    model = FollowUp
    extra = 0
    fields = ("description", "owner", "due_on", "track", "done_at")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("owner", "track")


@admin.register(Engagement)
class EngagementAdmin(ReadOnlyAdmin):
    list_display = ("occurred_on", "country", "kind", "sensitivity", "logged_by")
    list_filter = ("kind", "sensitivity", "tracks", "country__region")
    search_fields = ("summary", "outcome", "country__name_en", "country__iso2", "counterparts__name")
    date_hierarchy = "occurred_on"
    autocomplete_fields = ("country", "counterparts", "logged_by")
    filter_horizontal = ("tracks",)
    list_select_related = ("country", "logged_by")
    inlines = [FollowUpInline]


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ("due_on", "description", "country", "track", "owner", "done_at")
    list_filter = (("done_at", admin.EmptyFieldListFilter), "track")
    search_fields = ("description", "country__name_en", "country__iso2", "owner__username")
    date_hierarchy = "due_on"
    autocomplete_fields = ("country", "owner", "done_by", "engagement")
    list_select_related = ("country", "track", "owner")


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ("signed_on", "title", "country", "kind", "signatory_level", "expires_on")
    list_filter = ("kind", "signatory_level", "tracks")
    search_fields = ("title", "notes", "country__name_en", "country__iso2")
    date_hierarchy = "signed_on"
    autocomplete_fields = ("country",)
    filter_horizontal = ("tracks",)
    list_select_related = ("country",)


class AnnouncementRevisionInline(admin.TabularInline):
    model = AnnouncementRevision
    fields = ("number", "title", "edited_by", "edited_at", "published")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-number",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(AnnouncementRevision)
class AnnouncementRevisionAdmin(ReadOnlyAdmin):
    """What each announcement said after each edit (written by the services)."""

    list_display = ("announcement", "number", "edited_by", "edited_at", "published")
    list_filter = ("published",)
    search_fields = ("title", "body", "announcement__title")
    list_select_related = ("announcement", "edited_by")


@admin.register(Announcement)
class AnnouncementAdmin(ReadOnlyAdmin):
    """Announcements are read here; publication goes through the service, which enforces the embargo."""

    list_display = ("title", "status", "embargo_until", "published_at", "is_public")
    list_filter = ("status", "is_public", "tracks")
    search_fields = ("title", "body", "countries__name_en", "countries__iso2")
    filter_horizontal = ("tracks",)
    inlines = [AnnouncementRevisionInline]
    actions = ["publish_now"]

    def get_actions(self, request):
        # ReadOnlyAdmin refuses "change", which Django requires for actions by default; publishing is the service's call.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Publish the selected announcements now"), permissions=["view"])
    def publish_now(self, request, queryset):
        for announcement in queryset:
            try:
                services.announcement_publish(actor=request.user, announcement=announcement)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, f"{announcement}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
            else:
                messages.success(request, _("Published: %(title)s") % {"title": announcement.title})


@admin.register(RollupRequest)
class RollupRequestAdmin(ReadOnlyAdmin):
    """Countries waiting for their status to be recomputed (normally empty within seconds)."""

    list_display = ("country", "requested_at")
    list_select_related = ("country",)
