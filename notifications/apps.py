from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Subscriptions, the inbox, e-mail (immediate or digests) and signed webhooks of outbox events."""

    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from core.events import register_handler

        from .handlers import handle_event

        register_handler("notifications", handle_event)
