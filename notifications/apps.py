from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Subscriptions, inbox, e-mail and webhook delivery of outbox events (built in the Celery issue)."""

    name = "notifications"
    verbose_name = _("Notifications")
