from django.contrib import admin

from .models import DemoDataset, Event


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
