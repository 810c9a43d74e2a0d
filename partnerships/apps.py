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

        from .packs import handle_event as packs_handle_event

        # A pack built before a person's erasure may print their name: the country's packs are deleted.
        register_handler("partnerships.packs", packs_handle_event)
