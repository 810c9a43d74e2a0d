from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from core.admin_tools import ReadOnlyAdmin

from . import services
from .models import Announcement, AnnouncementRevision


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

    def has_publish_permission(self, request):
        # An action that changes rows needs the change permission, not only the right to look; the service then
        # applies its own rule (programme staff, the embargo).
        return request.user.has_perm("announcements.change_announcement")

    @admin.action(description=_("Publish the selected announcements now"), permissions=["publish"])
    def publish_now(self, request, queryset):
        for announcement in queryset:
            try:
                services.announcement_publish(actor=request.user, announcement=announcement)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, f"{announcement}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
            else:
                messages.success(request, _("Published: %(title)s") % {"title": announcement.title})
