from django.contrib import admin

from .models import ApiToken, DemoDataset, Event, IdempotencyKey, PublicRecordSource


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The outbox doubles as the activity log: read-only."""

    list_display = ("created_at", "kind", "subject_type", "subject_id", "country_id", "actor", "state", "attempts")
    list_filter = ("state", "kind")
    search_fields = ("kind", "subject_type", "subject_id")
    date_hierarchy = "created_at"
    list_select_related = ("actor",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DemoDataset)
class DemoDatasetAdmin(admin.ModelAdmin):
    list_display = ("created_at", "seed", "countries", "engagements")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their users (page or command) and only shown once; here they can be seen and revoked."""

    list_display = ("name", "user", "token_key", "created", "expiry", "last_used_at")
    search_fields = ("name", "user__username", "token_key")
    list_select_related = ("user",)
    readonly_fields = ("name", "user", "token_key", "created", "expiry", "last_used_at")
    exclude = ("digest",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    """Answers kept for 24 hours so that a repeated create is answered, not done twice: read-only."""

    list_display = ("created_at", "user", "key", "status_code", "location")
    search_fields = ("key", "user__username")
    list_select_related = ("user",)
    exclude = ("body",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PublicRecordSource)
class PublicRecordSourceAdmin(admin.ModelAdmin):
    """The sources of the public record, loaded from the curated dataset (``manage.py load_public_record``): read-only
    here, so that the dataset in the repository stays the one place they are corrected."""

    list_display = ("key", "content_type", "object_id", "reported_on", "certainty", "verified", "curated_on")
    list_filter = ("certainty", "verified", "content_type")
    search_fields = ("key", "fact", "source_text")
    list_select_related = ("content_type",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
