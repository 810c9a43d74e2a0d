from django.contrib import admin

from core.admin_tools import ReadOnlyAdmin

from .models import Agreement, Engagement, FollowUp


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
    # The links to tracks carry the engagement's country and date (EngagementTrack): no form field is built for a
    # many-to-many field through its own model, so the tracks are listed as read-only text, as the rest is.
    readonly_fields = ("tracks",)
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
