from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin_tools import OutboxAdmin, ReadOnlyAdmin

from .models import Digest, EmailDelivery, Notification, Preference, Reminder, Subscription, WebhookDelivery, WebhookEndpoint


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "email_frequency", "language", "updated_at")
    list_filter = ("email_frequency", "language")
    search_fields = ("user__username", "user__email")
    autocomplete_fields = ("user",)


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("user", "scope", "country", "track", "created_at")
    list_filter = ("scope", "track")
    search_fields = ("user__username", "country__name_en", "country__iso2")
    autocomplete_fields = ("user", "country")
    list_select_related = ("user", "country", "track")


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "event", "read_at", "digest")
    list_filter = (("read_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username", "event__kind")
    list_select_related = ("user", "event", "digest")
    date_hierarchy = "created_at"


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("notification", "status", "attempts", "sent_at", "last_error")
    list_filter = ("status",)
    list_select_related = ("notification__user", "notification__event")


@admin.register(Digest)
class DigestAdmin(ReadOnlyAdmin):
    list_display = ("user", "period", "created_at", "sent_at")
    search_fields = ("user__username", "period")
    list_select_related = ("user",)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("follow_up", "kind", "sent_on")
    list_filter = ("kind",)
    list_select_related = ("follow_up",)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OutboxAdmin):
    """Staff register REST clients' endpoints here: URL, secret and the event kinds they want."""

    list_display = ("name", "url", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    exclude = ("created_by",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "endpoint", "event", "status", "attempts", "response_status", "next_attempt_at", "last_error")
    list_filter = ("status", "endpoint")
    list_select_related = ("endpoint", "event")
    actions = ["retry_now"]

    @admin.action(description=_("Retry the selected deliveries now"), permissions=["view"])
    def retry_now(self, request, queryset):
        from core.broker import safe_enqueue

        from .tasks import deliver_webhook

        count = queryset.exclude(status=WebhookDelivery.Status.DELIVERED).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=None
        )
        for pk in queryset.filter(status=WebhookDelivery.Status.PENDING).values_list("pk", flat=True):
            safe_enqueue(deliver_webhook, args=[pk])
        messages.success(request, _("%(count)s deliveries queued again.") % {"count": count})
