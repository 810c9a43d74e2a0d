from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from core.admin_tools import OutboxAdmin, ReadOnlyAdmin

from .models import (
    CalendarFeed,
    Digest,
    EmailDelivery,
    Notification,
    Preference,
    Reminder,
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
)


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


class WebhookEndpointForm(forms.ModelForm):
    """The signing secret is write-only: typed when the endpoint is added, typed again to rotate it, never shown
    (a reader of the admin could otherwise sign forged webhooks to the partner)."""

    new_secret = forms.CharField(
        label=_("Secret"),
        required=False,
        max_length=200,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Shared with the receiver to verify signatures. Never shown again: leave empty to keep the current one."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "event_kinds", "is_active")  # the secret only through new_secret

    def clean_new_secret(self):
        secret = self.cleaned_data["new_secret"]
        if not secret and not self.instance.secret:
            raise forms.ValidationError(_("An endpoint needs a secret to sign its deliveries."))
        if secret and len(secret) < 16:
            raise forms.ValidationError(_("Use at least 16 characters: the receiver checks signatures with it."))
        return secret

    def save(self, commit=True):
        if self.cleaned_data.get("new_secret"):
            self.instance.secret = self.cleaned_data["new_secret"]
        return super().save(commit)


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OutboxAdmin):
    """Staff register REST clients' endpoints here: URL, secret (write-only) and the event kinds they want."""

    form = WebhookEndpointForm
    list_display = ("name", "url", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")

    def get_fields(self, request, obj=None):
        fields = [name for name in super().get_fields(request, obj) if name != "new_secret"]
        # Who may only look sees that a secret is set, never the secret.
        return [*fields, "new_secret"] if self.has_change_permission(request, obj) else [*fields, "secret_is_set"]

    def get_readonly_fields(self, request, obj=None):
        return ("secret_is_set",) if not self.has_change_permission(request, obj) else ()

    @admin.display(description=_("Secret"), boolean=True)
    def secret_is_set(self, obj):
        return bool(obj and obj.secret)

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

    def has_retry_permission(self, request):
        # Sending again is a change: it needs the model's change permission, not only the right to look (the
        # rows themselves stay read-only in the admin).
        return request.user.has_perm("notifications.change_webhookdelivery")

    @admin.action(description=_("Retry the selected deliveries now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        from core.broker import safe_enqueue

        from .tasks import deliver_webhook

        count = queryset.exclude(status=WebhookDelivery.Status.DELIVERED).update(
            status=WebhookDelivery.Status.PENDING, next_attempt_at=None
        )
        for pk in queryset.filter(status=WebhookDelivery.Status.PENDING).values_list("pk", flat=True):
            safe_enqueue(deliver_webhook, args=[pk])
        messages.success(request, _("%(count)s deliveries queued again.") % {"count": count})


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    """Who has which feed, when each was used and revoked; never its secret (only a digest is stored)."""

    list_display = ("name", "user", "scope", "created_at", "last_used_at", "revoked_at")
    list_filter = ("scope", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "name")
    list_select_related = ("user",)
    exclude = ("secret_digest",)
