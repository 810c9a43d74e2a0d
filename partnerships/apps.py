from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnershipsConfig(AppConfig):
    name = "partnerships"
    verbose_name = _("Partnerships")

    def ready(self):
        from core.events import register_handler

        from .rollup import handle_event

        # Every event that touches a country recomputes that country's status.
        register_handler("partnerships.rollup", handle_event)
